use crate::context::{Diagnostic, SettingsContext};
use crate::rules::rule_impl;
use ship_github_settings::GITHUB_ACTIONS_APP_ID;

declare_rule! {
    /// ## What it reports
    /// Both directions of the link between branch protection and the workflows:
    /// - a CI stage the policy requires (`ci.required-stages`) that no required status check
    ///   covers: no required check is named like the stage or produced by a job that runs it;
    /// - a required status check that no job of a pull-request workflow produces (checks from
    ///   GitHub Actions, or from any app). GitHub waits for it forever: every pull request is
    ///   blocked.
    ///
    /// ## Why
    /// A stage that runs but is not required can fail and still merge. A required check
    /// nobody reports (a renamed job, a deleted workflow) blocks all merges, and teams then
    /// "fix" it with an admin bypass.
    ///
    /// ## How to fix
    /// Add each stage's job to the required status checks of the production branch, with
    /// exactly the job's name; remove or rename required checks whose job is gone.
    pub struct RequiredChecks {
        id: "required-checks",
        severity: Error,
        summary: "required status checks and CI jobs do not match (both directions)",
    }
}
rule_impl!(RequiredChecks, settings);

/// Does a job named `job_name` (possibly `name (matrix…)` or `caller / job`) report `context`?
fn produces(job_name: &str, dynamic: bool, context: &str) -> bool {
    let c = context.trim();
    let j = job_name.trim();
    if c.eq_ignore_ascii_case(j) {
        return true;
    }
    // Matrix jobs report `name (a, b)`; reusable workflows report `caller / job`.
    let lower = c.to_ascii_lowercase();
    let jl = j.to_ascii_lowercase();
    if lower.starts_with(&format!("{jl} ("))
        || lower.starts_with(&format!("{jl} / "))
        || lower.ends_with(&format!(" / {jl}"))
    {
        return true;
    }
    // A computed name: accept a context sharing its literal prefix.
    if dynamic || j.contains("${{") {
        let prefix = j
            .split("${{")
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        return !prefix.is_empty() && lower.starts_with(&prefix);
    }
    false
}

impl RequiredChecks {
    fn check(&self, cx: &SettingsContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(p) = &cx.settings.protection else {
            return;
        };
        if !p.is_protected() {
            return;
        }
        let jobs: Vec<_> = cx
            .workflows
            .iter()
            .flat_map(|w| w.jobs.iter().map(move |j| (w, j)))
            .collect();
        let branch = &cx.settings.branch;

        // A stage missing from what was read may be required by the unreadable source.
        for stage in cx.policy.stages.iter().filter(|s| s.required && !p.partial) {
            let by_name = p.required_checks.iter().any(|c| {
                let mut found = vec![false; cx.policy.stages.len()];
                cx.policy.stage_names.mark(&c.context, &mut found);
                cx.policy
                    .stages
                    .iter()
                    .zip(found)
                    .any(|(s, hit)| hit && s.name == stage.name)
            });
            let by_job = p.required_checks.iter().any(|c| {
                jobs.iter().any(|(w, j)| {
                    w.runs_on_pull_request
                        && j.stages.contains(&stage.name)
                        && produces(&j.check_name, j.dynamic, &c.context)
                })
            });
            if !by_name && !by_job {
                let candidates: Vec<&str> = jobs
                    .iter()
                    .filter(|(w, j)| w.runs_on_pull_request && j.stages.contains(&stage.name))
                    .map(|(_, j)| j.check_name.as_str())
                    .collect();
                let help = if candidates.is_empty() {
                    format!("add a `{}` job to pull-request CI, then make it a required status check of `{branch}`", stage.name)
                } else {
                    format!(
                        "add `{}` to the required status checks of `{branch}`",
                        candidates[0]
                    )
                };
                out.push(cx.diagnostic(
                    &["ci", "required-stages"],
                    format!(
                        "CI stage `{}` is not a required status check on `{branch}`",
                        stage.name
                    ),
                    help,
                ));
            }
        }

        // Only jobs of workflows that run on pull requests report checks on them: a deploy
        // job of the same name reports on pushes, and the pull request still waits.
        let mut pr_jobs: Vec<&str> = Vec::new();
        for (w, j) in &jobs {
            if w.runs_on_pull_request && !pr_jobs.contains(&j.check_name.as_str()) {
                pr_jobs.push(&j.check_name);
            }
        }
        for check in &p.required_checks {
            let from_actions = check.app_id.is_none_or(|id| id == GITHUB_ACTIONS_APP_ID);
            if !from_actions {
                continue;
            }
            let produced = jobs.iter().any(|(w, j)| {
                w.runs_on_pull_request && produces(&j.check_name, j.dynamic, &check.context)
            });
            if !produced {
                let names: Vec<&str> = pr_jobs.iter().copied().take(8).collect();
                out.push(cx.diagnostic(
                    &["ci", "required-stages"],
                    format!(
                        "required check `{}` ({}) is produced by no pull-request workflow job: every pull request to `{branch}` waits for it forever",
                        check.context, check.source
                    ),
                    format!(
                        "rename a pull-request job to `{}` or remove the check from the required checks (pull-request jobs here: {})",
                        check.context,
                        if names.is_empty() { "none".to_string() } else { names.join(", ") }
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::produces;

    #[test]
    fn check_names() {
        assert!(produces("build", false, "build"));
        assert!(produces("test", true, "test (ubuntu-latest, 1.80)"));
        assert!(produces("lint", false, "ci / lint"));
        assert!(!produces("build", false, "build-docs"));
        assert!(produces("Test ${{ matrix.os }}", true, "Test ubuntu"));
    }
}
