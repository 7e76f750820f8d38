use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// - A workflow with no `permissions:` at the top and a job without its own, including a
    ///   job that calls a reusable workflow (the callee gets the caller's token) unless that
    ///   workflow is this repository's and sets its own `permissions:`. Workflows started
    ///   only by `workflow_call` run with their caller's token and are not reported.
    /// - `permissions: write-all` anywhere.
    /// - A `pull_request` workflow granting write scopes at its top, so every job running
    ///   the pull request's code gets them (unless it has a single job that uses an action
    ///   or the API).
    ///
    /// ## Why
    /// Without `permissions:`, the job's `GITHUB_TOKEN` gets the repository default, which
    /// in many organisations is read/write on everything. Any compromised step (a hijacked
    /// action, an injected script) can then push code, create releases or approve PRs.
    ///
    /// ## How to fix
    /// Start from nothing and grant per job what it needs:
    ///
    /// ```yaml
    /// permissions: {}
    /// jobs:
    ///   deploy:
    ///     permissions:
    ///       contents: read
    ///       id-token: write   # OIDC to AWS
    /// ```
    pub struct Permissions {
        id: "permissions",
        severity: Warning,
        summary: "the workflow's token permissions are not restricted",
    }
}
rule_impl!(Permissions, workflow);

impl Permissions {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let write_all = |e: &ship_workflow::Entry, out: &mut Vec<Diagnostic>, whom: &str| {
            if e.value.as_str() == Some("write-all") {
                out.push(Diagnostic::new(
                    e.value.span,
                    format!("{whom} grants `write-all` to the token"),
                    "list only the scopes it needs, e.g. `permissions: { contents: read }`",
                ));
            }
        };
        if let Some(p) = cx.workflow.permissions {
            write_all(p, out, "the workflow");
            // Pull-request code gets the workflow's grants in every job: write scopes
            // belong on the one job that needs them.
            let on_pull_requests = cx
                .workflow
                .triggers
                .iter()
                .any(|t| t.event == "pull_request");
            let writes: Vec<&str> = p
                .value
                .as_map()
                .unwrap_or_default()
                .iter()
                .filter(|e| e.value.as_str() == Some("write"))
                .filter_map(|e| e.key.as_str())
                .collect();
            // One job that calls an action or the API may need them; one that only echoes
            // does not.
            let one_job_needing_them = match cx.workflow.jobs.as_slice() {
                [job] => {
                    job.uses.is_some()
                        || job.steps.iter().any(|s| {
                            // Checking out needs only `contents: read`.
                            s.uses_str()
                                .is_some_and(|u| !u.starts_with("actions/checkout"))
                                || s.run_str().is_some_and(|r| {
                                    ["gh ", "git ", "curl", "GITHUB_TOKEN", "github.token"]
                                        .iter()
                                        .any(|w| r.contains(w))
                                })
                        })
                }
                _ => false,
            };
            if on_pull_requests && !writes.is_empty() && !one_job_needing_them {
                let scopes: Vec<String> = writes.iter().map(|w| format!("`{w}: write`")).collect();
                out.push(Diagnostic::new(
                    p.key.span,
                    format!(
                        "every job of this pull-request workflow gets {}",
                        scopes.join(", ")
                    ),
                    "grant read at the workflow level (`permissions: { contents: read }`) and write scopes only on the jobs that need them",
                ));
            }
        }
        // A reusable workflow runs with its caller's token: the caller is reported.
        let only_called = !cx.workflow.triggers.is_empty()
            && cx
                .workflow
                .triggers
                .iter()
                .all(|t| t.event == "workflow_call");
        for job in &cx.workflow.jobs {
            match job.permissions {
                Some(p) => write_all(p, out, &format!("job `{}`", job.id)),
                // A job that calls a reusable workflow hands it this token, unless the called
                // workflow caps it with its own `permissions:`.
                None if cx.workflow.permissions.is_none()
                    && !only_called
                    && !job
                        .uses
                        .and_then(|u| u.as_str())
                        .and_then(|u| cx.repo.callee(u))
                        .is_some_and(|c| c.declares_permissions) => out.push(Diagnostic::new(
                    job.key.span,
                    format!("job `{}` has no `permissions:` (nor has the workflow): its token gets the repository default", job.id),
                    "add `permissions: { contents: read }` to the workflow (or to the job), plus what it needs",
                )),
                None => {}
            }
        }
    }
}
