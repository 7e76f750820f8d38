use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;
use ship_policy::Pinning;
use ship_workflow::{ActionRef, Node};

declare_rule! {
    /// ## What it reports
    /// A third-party action (or reusable workflow) not pinned as the policy's
    /// `actions.pinning` requires: `sha` (default) wants a full 40-hex commit, `ref` any
    /// `@ref`. Local actions (`./…`) and owners in `actions.allowed-owners` (default
    /// `actions`, `github`) pass; `docker://` images need an `@sha256:` digest under `sha`.
    ///
    /// ## Why
    /// Tags and branches move. Whoever controls the action's repository (or steals its
    /// maintainer's token, as in the tj-actions/changed-files compromise) can change what
    /// `@v4` means and run code in your deploy job with your cloud credentials.
    ///
    /// ## How to fix
    /// Pin the commit and keep the version as a comment (Dependabot and Renovate update
    /// both):
    ///
    /// ```yaml
    ///       - uses: aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502 # v4
    /// ```
    pub struct UnpinnedAction {
        id: "unpinned-action",
        severity: Error,
        summary: "a third-party action is not pinned to a commit SHA",
    }
}
rule_impl!(UnpinnedAction, workflow, actions);

fn is_full_sha(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

impl UnpinnedAction {
    fn check_uses(&self, cx: &WorkflowContext<'_>, node: &Node, out: &mut Vec<Diagnostic>) {
        let Some(uses) = node.as_str() else { return };
        let pinning = cx.policy.policy.actions.pinning;
        let allowed = &cx.policy.policy.actions.allowed_owners;
        match ActionRef::parse(uses) {
            ActionRef::Local(_) => {}
            ActionRef::Docker(image) => {
                if pinning == Pinning::Sha && !image.contains("@sha256:") {
                    out.push(Diagnostic::new(
                        node.span,
                        format!("docker image `{image}` is not pinned to a digest"),
                        "pin it: `docker://image@sha256:<digest>`",
                    ));
                }
            }
            ActionRef::Repository { owner, git_ref, .. } => {
                if allowed.iter().any(|o| o.eq_ignore_ascii_case(owner)) || pinning == Pinning::Any
                {
                    return;
                }
                match git_ref {
                    None => out.push(Diagnostic::new(
                        node.span,
                        format!("`{uses}` has no `@ref`"),
                        "pin it to a full commit SHA: `owner/repo@<40-hex sha> # vX`",
                    )),
                    Some(r) if pinning == Pinning::Sha && !is_full_sha(r) => out.push(Diagnostic::new(
                        node.span,
                        format!("`{uses}` is pinned to `{r}`, which can move; pin a full commit SHA"),
                        format!("use `{}@<40-hex commit of {r}> # {r}`, or allow the owner in `actions.allowed-owners`", uses.split('@').next().unwrap_or(uses)),
                    )),
                    Some(_) => {}
                }
            }
        }
    }

    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        for job in &cx.workflow.jobs {
            if let Some(u) = job.uses {
                self.check_uses(cx, u, out);
            }
            for step in &job.steps {
                if let Some(u) = step.uses {
                    self.check_uses(cx, u, out);
                }
            }
        }
    }
}
