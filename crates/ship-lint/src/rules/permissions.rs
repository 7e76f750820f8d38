use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// A workflow with no `permissions:` at the top and a job without its own, or
    /// `permissions: write-all` anywhere.
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
        }
        for job in &cx.workflow.jobs {
            match job.permissions {
                Some(p) => write_all(p, out, &format!("job `{}`", job.id)),
                None if cx.workflow.permissions.is_none() && job.uses.is_none() => out.push(Diagnostic::new(
                    job.key.span,
                    format!("job `{}` has no `permissions:` (nor has the workflow): its token gets the repository default", job.id),
                    "add `permissions: { contents: read }` to the workflow (or to the job), plus what it needs",
                )),
                None => {}
            }
        }
    }
}
