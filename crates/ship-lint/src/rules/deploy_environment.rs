use crate::analysis::EnvironmentBinding;
use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// A deploy job (one that rolls out, migrates or rolls back) without `environment:`, or
    /// with an environment the policy does not know.
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
        let known: Vec<&str> = cx
            .policy
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        for (job, facts) in cx.deploy_jobs() {
            match &facts.environment {
                EnvironmentBinding::Explicit { name, span } => {
                    if cx.policy.environment(name).is_none() {
                        let hint = super::workflow_syntax::closest(name, &known)
                            .map(|c| format!("did you mean `{c}`? "))
                            .unwrap_or_default();
                        out.push(Diagnostic::new(
                            *span,
                            format!("deploy job `{}` uses environment `{name}`, which the policy does not know", job.id),
                            format!("{hint}known environments: {}; add `{name}` under `environments:` in the policy if it is real", known.join(", ")),
                        ));
                    }
                }
                EnvironmentBinding::Dynamic { .. } => {}
                EnvironmentBinding::Inferred { name } => out.push(Diagnostic::new(
                    job.key.span,
                    format!("deploy job `{}` has no `environment:` (its name suggests `{name}`)", job.id),
                    format!("add `environment: {name}` so the environment's secrets and required reviewers apply"),
                )),
                EnvironmentBinding::Unknown => out.push(Diagnostic::new(
                    job.key.span,
                    format!("deploy job `{}` has no `environment:`", job.id),
                    format!("add `environment: <name>` (one of {}) so its secrets and required reviewers apply", known.join(", ")),
                )),
            }
        }
    }
}
