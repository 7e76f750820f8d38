use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;
use ship_workflow::ActionRef;

declare_rule! {
    /// ## What it reports
    /// A `pull_request_target` or `workflow_run` workflow that checks out the pull
    /// request's head: `actions/checkout` with a `ref:` from the PR or the triggering run
    /// (`github.event.pull_request.head.sha`/`.ref`, `github.head_ref`,
    /// `github.event.workflow_run.head_sha`/`head_branch`, `refs/pull/…`), or
    /// `git checkout`/`gh pr checkout` of it in a script.
    ///
    /// ## Why
    /// These triggers run with the base repository's secrets and a write token, even for
    /// pull requests from forks. Checking out and building the fork's code hands both to
    /// whoever opened the PR ("pwn request").
    ///
    /// ## How to fix
    /// Use `pull_request` for anything that runs PR code. If you need the privileged
    /// trigger, do not check out the head, or split it: an unprivileged `pull_request` job
    /// produces an artifact, a privileged `workflow_run` job only reads it.
    pub struct DangerousTrigger {
        id: "dangerous-trigger",
        severity: Error,
        summary: "a privileged trigger checks out untrusted pull-request code",
    }
}
rule_impl!(DangerousTrigger, workflow);

fn names_pr_head(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "github.event.pull_request.head.sha",
        "github.event.pull_request.head.ref",
        "github.head_ref",
        "github.event.workflow_run.head_sha",
        "github.event.workflow_run.head_branch",
        "github.event.workflow_run.head_commit",
        "refs/pull/",
        "github.event.pull_request.merge_commit_sha",
        "github.event.number",
    ]
    .iter()
    .any(|p| t.contains(p))
}

impl DangerousTrigger {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(trigger) = cx
            .workflow
            .triggers
            .iter()
            .find(|t| t.event == "pull_request_target" || t.event == "workflow_run")
        else {
            return;
        };
        for job in &cx.workflow.jobs {
            for step in &job.steps {
                let checkout = matches!(
                    step.action(),
                    Some(ActionRef::Repository {
                        owner: "actions",
                        repo: "checkout",
                        ..
                    })
                );
                if checkout {
                    if let Some(r) = step.with.and_then(|w| w.get("ref")) {
                        if r.as_str().is_some_and(names_pr_head) {
                            out.push(Diagnostic::new(
                                r.span,
                                format!("`{}` workflow checks out the pull request's code", trigger.event),
                                "do not check out PR code under a privileged trigger; use `pull_request`, or split into an unprivileged build and a privileged `workflow_run` that only reads artifacts",
                            ));
                        }
                    }
                }
                if let Some(run) = step.run {
                    let Some(script) = run.as_str() else { continue };
                    for line in script.lines() {
                        let l = line.trim();
                        let fetches = l.contains("git checkout")
                            || l.contains("git fetch")
                            || l.contains("gh pr checkout");
                        if fetches && (names_pr_head(l) || l.contains("gh pr checkout")) {
                            let span = cx.source.find_in_span(run.span, l).unwrap_or(run.span);
                            out.push(Diagnostic::new(
                                span,
                                format!(
                                    "`{}` workflow fetches the pull request's code in a script",
                                    trigger.event
                                ),
                                "run PR code only under `pull_request`, without secrets",
                            ));
                        }
                    }
                }
            }
        }
    }
}
