use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;
use regex::{Regex, RegexSet};
use ship_workflow::{Node, Value};
use std::sync::LazyLock;

declare_rule! {
    /// ## What it reports
    /// Literal credentials in a workflow: AWS access key ids (`AKIA…`/`ASIA…`), private key
    /// blocks, GitHub tokens (`ghp_…`, `github_pat_…`), Slack tokens and webhooks, keys named
    /// like `password`, `secret`, `token` or `api-key` with a literal value, and URLs with an
    /// inline password (`postgres://user:pass@host`). Throwaway values for service
    /// containers and URLs to `localhost` are not reported. The finding never prints the
    /// value.
    ///
    /// ## Why
    /// Everything in a workflow file is in git history and readable by everyone with read
    /// access (the world, for a public repository), forever. A leaked key must be rotated.
    ///
    /// ## How to fix
    /// Rotate the credential, store it as an environment secret, and reference it:
    /// `password: ${{ secrets.DB_PASSWORD }}`.
    pub struct HardcodedSecret {
        id: "hardcoded-secret",
        severity: Error,
        summary: "a literal credential is written in the workflow",
    }
}
rule_impl!(HardcodedSecret, workflow, actions);

static TOKENS: LazyLock<(RegexSet, Vec<(Regex, &'static str)>)> = LazyLock::new(|| {
    let pats: Vec<(&str, &str)> = vec![
        (r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", "an AWS access key id"),
        (r"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----", "a private key"),
        (r"\bgh[pousr]_[A-Za-z0-9]{36}\b", "a GitHub token"),
        (r"\bgithub_pat_[A-Za-z0-9_]{22,}\b", "a GitHub token"),
        (r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b", "a Slack token"),
        (
            r"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+",
            "a Slack webhook URL",
        ),
        (
            r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@$]+@[^\s/]+",
            "a URL with an inline password",
        ),
    ];
    let set = RegexSet::new(pats.iter().map(|p| p.0)).unwrap();
    let res = pats
        .into_iter()
        .map(|(p, d)| (Regex::new(p).unwrap(), d))
        .collect();
    (set, res)
});

static SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(^|[-_])(password|passwd|pwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|client[-_]?secret)$").unwrap()
});

fn local_url(m: &str) -> bool {
    let host = m.rsplit('@').next().unwrap_or("");
    let host = host.split([':', '/']).next().unwrap_or("");
    matches!(host, "localhost" | "127.0.0.1" | "0.0.0.0" | "[::1]") || !host.contains('.')
}

/// Keys under `services:` and `container:` configure throwaway containers for the job.
fn container_subtrees(job: &Node) -> Vec<&Node> {
    let mut v = Vec::new();
    if let Some(s) = job.get("services") {
        v.push(s);
    }
    if let Some(c) = job.get("container") {
        v.push(c);
    }
    v
}

impl HardcodedSecret {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let (set, res) = &*TOKENS;
        let mut exempt: Vec<ship_workflow::Span> = Vec::new();
        for job in &cx.workflow.jobs {
            for c in container_subtrees(job.node) {
                exempt.push(c.span);
            }
        }
        // Values given to the job's service containers (a throwaway test database's
        // password) are not secrets when the job repeats them to connect.
        let mut container_values: Vec<&str> = Vec::new();
        for job in &cx.workflow.jobs {
            for c in container_subtrees(job.node) {
                c.walk(|n| {
                    if let Some(v) = n.as_str().filter(|v| v.len() >= 4) {
                        container_values.push(v);
                    }
                });
            }
        }
        let in_exempt = |n: &Node| {
            exempt
                .iter()
                .any(|s| s.start <= n.span.start && n.span.end <= s.end)
        };
        let mut check_scalar = |n: &Node, key: Option<&str>| {
            let Some(text) = n.as_str() else { return };
            if set.is_match(text) {
                for i in set.matches(text).iter() {
                    let (re, what) = &res[i];
                    for m in re.find_iter(text) {
                        let password_of_service = container_values
                            .iter()
                            .any(|v| m.as_str().contains(&format!(":{v}@")));
                        if i == 6 && (local_url(m.as_str()) || in_exempt(n) || password_of_service)
                        {
                            continue;
                        }
                        let span = cx
                            .source
                            .find_nth_in_span(
                                n.span,
                                m.as_str(),
                                text[..m.start()].matches(m.as_str()).count(),
                            )
                            .unwrap_or(n.span);
                        out.push(Diagnostic::new(
                            span,
                            format!("{what} is written in the workflow"),
                            "rotate it now, store it as an environment secret and use `${{ secrets.NAME }}`",
                        ).redacted());
                    }
                }
                return;
            }
            if let Some(k) = key {
                let literal = !text.trim().is_empty()
                    && !text.contains("${{")
                    && !text.starts_with('$')
                    && n.as_bool().is_none()
                    && text.parse::<f64>().is_err();
                if literal
                    && SECRET_KEY.is_match(k)
                    && !in_exempt(n)
                    && !container_values.contains(&text)
                    && text.len() >= 4
                    && !matches!(
                        n.value,
                        Value::Scalar {
                            style: ship_workflow::yaml::Style::Block,
                            ..
                        }
                    )
                {
                    out.push(
                        Diagnostic::new(
                            n.span,
                            format!("`{k}` has a literal value"),
                            format!(
                                "store it as a secret and write `{k}: ${{{{ secrets.NAME }}}}`"
                            ),
                        )
                        .redacted(),
                    );
                }
            }
        };
        // Walk map entries to know each scalar's key.
        // `permissions: { id-token: write }` names a scope, not a credential.
        let mut stack = vec![(cx.root, None::<&str>)];
        while let Some((node, key)) = stack.pop() {
            match &node.value {
                Value::Scalar { .. } => check_scalar(node, key),
                Value::Seq(items) => stack.extend(items.iter().map(|i| (i, None))),
                Value::Map(entries) => {
                    if key == Some("permissions") {
                        continue;
                    }
                    for e in entries {
                        stack.push((&e.value, e.key.as_str()));
                    }
                }
            }
        }
    }
}
