use crate::context::{Diagnostic, WorkflowContext};
use crate::model::JobRole;
use crate::rules::rule_impl;
use ship_policy::TriggerKind;
use ship_workflow::Entry;

declare_rule! {
    /// ## What it reports
    /// A deploy job with no `concurrency:` group (neither on the job nor on the workflow),
    /// or a production deploy whose concurrency has `cancel-in-progress: true`.
    ///
    /// ## Why
    /// Two deploys of the same service at once race: migrations interleave, the older
    /// version can finish last and win. Cancelling an in-progress production deploy stops
    /// it half way (migrated but not rolled out, or rolled out but not verified).
    ///
    /// ## How to fix
    /// Give deploys one group per environment and let them queue:
    ///
    /// ```yaml
    /// concurrency:
    ///   group: deploy-production
    ///   cancel-in-progress: false
    /// ```
    pub struct DeployConcurrency {
        id: "deploy-concurrency",
        severity: Error,
        summary: "a deploy has no concurrency group, or production cancels in progress",
    }
}
rule_impl!(DeployConcurrency, workflow);

fn cancels(entry: &Entry) -> Option<&ship_workflow::Node> {
    let c = entry.value.get("cancel-in-progress")?;
    (c.as_bool() == Some(true)).then_some(c)
}

impl DeployConcurrency {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        // A reusable workflow is checked through its callers (a caller job without a group is
        // fine when the callee's deploy jobs have one).
        let triggers = &cx.workflow.triggers;
        if cx.is_action()
            || !triggers.is_empty() && triggers.iter().all(|t| t.event == "workflow_call")
        {
            return;
        }
        let wf_conc = cx.workflow.concurrency;
        let mut reported_workflow_cancel = false;
        let mut ungrouped: Vec<(&ship_workflow::Job<'_>, &crate::model::JobFacts)> = Vec::new();
        for (job, facts) in cx.deploy_jobs() {
            // A rollback is started by hand when something is wrong; a per-pull-request
            // preview has a stack of its own.
            let rollback = facts.role == JobRole::Rollback;
            let preview = facts
                .target_environment()
                .and_then(|n| cx.policy.environment(n))
                .is_some_and(|e| e.policy.triggers.contains(&TriggerKind::PullRequest));
            let conc = job.concurrency.or(wf_conc);
            if conc.is_none() && facts.called_has_concurrency {
                // The called workflow's deploy jobs hold their own group.
                continue;
            }
            let Some(conc) = conc else {
                if !rollback && !preview {
                    ungrouped.push((job, facts));
                }
                continue;
            };
            // Production, or a run-time choice that includes production.
            let production = facts
                .target_environment()
                .is_some_and(|n| cx.policy.is_production(n))
                || facts.may_target.iter().any(|n| cx.policy.is_production(n));
            if !production {
                continue;
            }
            if let Some(cancel) = cancels(conc) {
                let is_workflow_level = job.concurrency.is_none();
                if is_workflow_level && reported_workflow_cancel {
                    continue;
                }
                reported_workflow_cancel |= is_workflow_level;
                out.push(Diagnostic::new(
                    cancel.span,
                    format!("production deploy job `{}` cancels in-progress deploys", job.id),
                    "set `cancel-in-progress: false`: a cancelled deploy can stop between migrations and rollout",
                ));
            }
        }
        // One finding for the workflow, at its first deploy job without a group.
        if let Some(((first, facts), rest)) = ungrouped.split_first() {
            let others = if rest.is_empty() {
                String::new()
            } else {
                let ids: Vec<&str> = rest.iter().map(|(j, _)| j.id).collect();
                format!(" (nor have `{}`)", ids.join("`, `"))
            };
            out.push(Diagnostic::new(
                first.key.span,
                format!(
                    "deploy job `{}` has no `concurrency:` group{others}: two runs can deploy at once{}",
                    first.id,
                    facts.because(cx.path)
                ),
                "add `concurrency: { group: deploy-<environment>, cancel-in-progress: false }` to the workflow (or to each deploy job)",
            ));
        }
    }
}
