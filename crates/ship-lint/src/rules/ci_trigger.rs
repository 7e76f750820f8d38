use crate::context::{Diagnostic, RepositoryContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// No workflow runs the policy's CI stages on `pull_request` to the production branch.
    ///
    /// ## Why
    /// The release policy lets changes reach `main` only through pull requests whose
    /// required checks (build, lint, test, coverage, security scan) are green. Without a
    /// workflow triggered by `pull_request` for `main`, there is nothing to require: broken
    /// code merges and the next deploy ships it.
    ///
    /// ## How to fix
    /// Trigger the CI workflow on pull requests to the production branch.
    ///
    /// ## Example
    /// ```yaml
    /// on:
    ///   pull_request:
    ///     branches: [main]
    ///   push:
    ///     branches: [main]
    /// ```
    pub struct CiTrigger {
        id: "ci-trigger",
        severity: Error,
        summary: "no workflow runs CI on pull requests to the production branch",
    }
}
rule_impl!(CiTrigger, repository);

impl CiTrigger {
    fn check(&self, cx: &RepositoryContext<'_>, out: &mut Vec<Diagnostic>) {
        let branch = cx.production_branch;
        let pr_ci = cx
            .workflows
            .iter()
            // A pull-request deploy's image build is not CI: a CI job must run.
            .any(|w| {
                w.pull_request_to_production.is_some() && !w.stages.is_empty() && w.ci_jobs > 0
            });
        if pr_ci {
            return;
        }
        let help = format!(
            "add `on: {{ pull_request: {{ branches: [{branch}] }} }}` to the workflow that builds and tests (or run `ship init` to generate one)"
        );
        // Point at the workflow that runs CI stages on other triggers, if there is one.
        let ci_like = cx
            .workflows
            .iter()
            .filter(|w| w.is_workflow)
            .max_by_key(|w| w.stages.len())
            .filter(|w| !w.stages.is_empty());
        match ci_like {
            Some(w) => out.push(Diagnostic::in_file(
                &w.path,
                w.on_span,
                format!(
                    "CI ({}) does not run on pull requests to `{branch}`: no `pull_request` trigger covers that branch",
                    w.stages.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                help,
            )),
            None => out.push(Diagnostic::in_file(
                ".github/workflows",
                None,
                format!("no workflow runs CI on pull requests to `{branch}`"),
                help,
            )),
        }
    }
}
