use crate::context::{Diagnostic, WorkflowContext};
use crate::model::{EnvironmentBinding, Target};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// A deploy job (one that rolls out, migrates or rolls back) that runs in no GitHub
    /// Environment, in one the policy does not know, or in one that is not where it deploys
    /// (a job that deploys the `dev` stack in environment `prod`).
    ///
    /// Environment names are compared as GitHub compares them, case-insensitively, and a name
    /// that is not a policy environment's own belongs to the environment whose `match`
    /// patterns it fits (`prod` is `production`, `Staging-EU` is `staging`). Jobs that call a
    /// reusable workflow are not reported (GitHub does not allow `environment:` there): the
    /// called workflow's jobs are. Deploys to environments with `require-environment: false`
    /// (per-pull-request previews) need none.
    ///
    /// ## Why
    /// GitHub Environments carry the deploy's own secrets and its required reviewers. A
    /// deploy job outside an environment runs with repository-wide secrets and without
    /// approval, and the protection rules on `production` never apply.
    ///
    /// ## How to fix
    /// Name the environment on the job; add new environments to the policy's
    /// `environments:`.
    ///
    /// ## Example
    /// ```yaml
    /// jobs:
    ///   deploy:
    ///     environment: production
    /// ```
    pub struct DeployEnvironment {
        id: "deploy-environment",
        severity: Error,
        summary: "a deploy job has no environment, or one the policy does not know",
    }
}
rule_impl!(DeployEnvironment, workflow);

impl DeployEnvironment {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        if cx.is_action() {
            return;
        }
        let known: Vec<&str> = cx
            .policy
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        // Jobs without an environment whose target is chosen at run time: one finding for
        // the workflow, at the first, naming the others.
        let mut undecided: Vec<&ship_workflow::Job<'_>> = Vec::new();
        for (job, facts) in cx.deploy_jobs() {
            let because = facts.because(cx.path);
            match &facts.environment {
                // The caller passes the environment to the called workflow's job.
                EnvironmentBinding::Explicit { name, span } => {
                    match cx.policy.environment_named(name) {
                        None => {
                            let hint = super::workflow_syntax::closest(name, &known)
                                .map(|c| format!("did you mean `{c}`? "))
                                .unwrap_or_default();
                            out.push(Diagnostic::new(
                                *span,
                                format!("deploy job `{}` uses environment `{name}`, which the policy does not know{because}", job.id),
                                format!("{hint}known environments: {}; add `{name}` under `environments:` in the policy if it is real", known.join(", ")),
                            ));
                        }
                        Some(env) => {
                            if let Target::Known {
                                environment,
                                how,
                                inferred: true,
                            } = &facts.target
                            {
                                if *environment != env.name {
                                    out.push(Diagnostic::new(
                                        *span,
                                        format!(
                                            "job `{}` deploys to `{environment}` ({how}) but runs in environment `{name}`, which is `{}`",
                                            job.id, env.name
                                        ),
                                        format!("run it in the `{environment}` environment, so that environment's secrets and reviewers apply"),
                                    ));
                                }
                            }
                        }
                    }
                }
                EnvironmentBinding::Dynamic { .. } => {}
                EnvironmentBinding::Absent => {
                    if job.uses.is_some() {
                        continue;
                    }
                    let requires = facts
                        .target_environment()
                        .and_then(|n| cx.policy.environment(n))
                        .is_none_or(|e| e.policy.requires_environment());
                    if !requires {
                        continue;
                    }
                    match &facts.target {
                        Target::Known { environment, how, .. } => out.push(Diagnostic::new(
                            job.key.span,
                            format!("deploy job `{}` has no `environment:` (it deploys to `{environment}`: {how}){because}", job.id),
                            format!("add `environment: {environment}` so the environment's secrets and required reviewers apply"),
                        )),
                        _ => undecided.push(job),
                    }
                }
            }
        }
        if let Some((first, rest)) = undecided.split_first() {
            let others = if rest.is_empty() {
                String::new()
            } else {
                let ids: Vec<&str> = rest.iter().map(|j| j.id).collect();
                format!(" (nor have `{}`)", ids.join("`, `"))
            };
            let because = cx
                .facts_of(first.id)
                .map(|f| f.because(cx.path))
                .unwrap_or_default();
            out.push(Diagnostic::new(
                first.key.span,
                format!("deploy job `{}` has no `environment:`{others}{because}", first.id),
                format!(
                    "add `environment: <name>` (one of {}, or `${{{{ inputs.environment }}}}`) so its secrets and required reviewers apply",
                    known.join(", ")
                ),
            ));
        }
    }
}
