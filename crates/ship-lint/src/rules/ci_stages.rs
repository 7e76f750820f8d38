use crate::context::{Diagnostic, RepositoryContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// A CI stage the policy requires (`ci.required-stages`: by default build, lint, test,
    /// coverage and security-scan) that no pull-request workflow runs. One finding per
    /// missing stage, at the `jobs:` of the pull-request CI workflow.
    ///
    /// A stage is satisfied by a job or step whose id or name matches the stage's `names`,
    /// a `run:` script matching its `commands`, or an action matching its `uses` (see
    /// `ship policy show` for the built-in patterns).
    ///
    /// ## Why
    /// Every stage is a required status check on `main`. A stage that never runs on a pull
    /// request cannot be required, so merges skip it: untested, unscanned code reaches
    /// production.
    ///
    /// ## How to fix
    /// Add a job for the stage to the pull-request workflow, or teach the policy how your
    /// repository runs it (`ci.stages.<stage>.commands`).
    ///
    /// ## Example
    /// ```yaml
    /// jobs:
    ///   security-scan:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: cargo audit
    /// ```
    pub struct CiStages {
        id: "ci-stages",
        severity: Error,
        summary: "a required CI stage is missing from pull-request CI",
    }
}
rule_impl!(CiStages, repository);

impl CiStages {
    fn check(&self, cx: &RepositoryContext<'_>, out: &mut Vec<Diagnostic>) {
        let pr_workflows: Vec<_> = cx
            .workflows
            .iter()
            .filter(|w| w.pull_request_to_production.is_some())
            .collect();
        // Without any pull-request workflow, `ci-trigger` reports the whole gap once.
        let Some(anchor) = pr_workflows.iter().max_by_key(|w| w.stages.len()).copied() else {
            return;
        };
        for stage in cx.policy.stages.iter().filter(|s| s.required) {
            if pr_workflows.iter().any(|w| w.stages.contains(&stage.name)) {
                continue;
            }
            let elsewhere: Vec<&str> = cx
                .workflows
                .iter()
                .filter(|w| w.stages.contains(&stage.name))
                .map(|w| w.path.as_str())
                .collect();
            let note = if elsewhere.is_empty() {
                String::new()
            } else {
                let more = elsewhere.len().saturating_sub(3);
                let shown = elsewhere[..elsewhere.len().min(3)].join(", ");
                if more > 0 {
                    format!(" (it runs in {shown} and {more} more, but not on pull requests)")
                } else {
                    format!(" (it runs in {shown}, but not on pull requests)")
                }
            };
            out.push(Diagnostic::in_file(
                &anchor.path,
                anchor.jobs_span,
                format!(
                    "CI stage `{}` does not run on pull requests to `{}`{note}",
                    stage.name, cx.production_branch
                ),
                format!(
                    "add a `{}` job to this workflow, or set `ci.stages.{}` in the policy to match how you run it",
                    stage.name, stage.name
                ),
            ));
        }
    }
}
