use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;
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
        if !triggers.is_empty() && triggers.iter().all(|t| t.event == "workflow_call") {
            return;
        }
        let wf_conc = cx.workflow.concurrency;
        let mut reported_workflow_cancel = false;
        for (job, facts) in cx.deploy_jobs() {
            let conc = job.concurrency.or(wf_conc);
            if conc.is_none() && facts.called_has_concurrency {
                // The called workflow's deploy jobs hold their own group.
                continue;
            }
            let Some(conc) = conc else {
                out.push(Diagnostic::new(
                    job.key.span,
                    format!("deploy job `{}` has no `concurrency:` group: two deploys can run at once", job.id),
                    "add `concurrency: { group: deploy-<environment>, cancel-in-progress: false }` to the job or the workflow",
                ));
                continue;
            };
            let production = facts
                .target_environment()
                .is_some_and(|n| cx.policy.is_production(n));
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
    }
}
