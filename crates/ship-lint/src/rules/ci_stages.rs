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
        let mut pr_workflows: Vec<_> = cx
            .workflows
            .iter()
            .filter(|w| w.pull_request_to_production.is_some())
            .collect();
        // Without any pull-request workflow (`ci-trigger` reports that), the checks that run
        // before a merge are the CI workflows run on pushes to branches: the stages missing
        // there are missing before every merge.
        let before_merge = pr_workflows.is_empty();
        if before_merge {
            pr_workflows = cx
                .workflows
                .iter()
                .filter(|w| w.runs_on_push && !w.deploys && !w.stages.is_empty())
                .collect();
        }
        // Point at the pull-request CI workflow: one that deploys nothing, runs the most
        // stages, and is named like CI.
        let ci_named = |path: &str| {
            let stem = crate::model::file_stem(path).to_ascii_lowercase();
            ["ci", "test", "check", "pr", "build", "lint"]
                .iter()
                .any(|w| stem.split(['-', '_', '.']).any(|p| p == *w) || stem.starts_with(w))
        };
        let Some(anchor) = pr_workflows
            .iter()
            .max_by_key(|w| {
                let named = ci_named(&w.path);
                // Without pull-request CI, the branch CI workflow (`test.yml`) first.
                (
                    before_merge && named,
                    w.stages.len(),
                    w.ci_jobs,
                    !w.deploys,
                    named,
                )
            })
            .copied()
        else {
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
            let when = if before_merge {
                format!(
                    "before changes reach `{}` (there is no pull-request CI, and the branch CI does not run it)",
                    cx.production_branch
                )
            } else {
                format!("on pull requests to `{}`", cx.production_branch)
            };
            out.push(Diagnostic::in_file(
                &anchor.path,
                anchor.jobs_span,
                format!("CI stage `{}` does not run {when}{note}", stage.name),
                format!(
                    "add a `{}` job to this workflow, or set `ci.stages.{}` in the policy to match how you run it",
                    stage.name, stage.name
                ),
            ));
        }
    }
}
