use crate::context::{Diagnostic, WorkflowContext};
use crate::credentials::more_uses;
use crate::rules::rule_impl;
use regex::Regex;
use ship_workflow::{Entry, Node, Value};
use std::sync::LazyLock;

declare_rule! {
    /// ## What it reports
    /// Long-lived AWS access keys, read from the repository's secrets, handed to a job: as
    /// `aws-access-key-id`/`aws-secret-access-key` inputs (of
    /// `aws-actions/configure-aws-credentials`, a local composite action or any other
    /// action), as `env:` variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, or any
    /// `*AWS*_ACCESS_KEY`/`*AWS*_SECRET_*` name such as `DEPLOY_AWS_SECRET_ACCESS_KEY`), or as
    /// `secrets:` passed to a reusable workflow. The variable's name or the secret's name
    /// tells that it is an AWS key.
    ///
    /// One key pair is one problem: the first place a workflow hands it over is reported,
    /// with the number and lines of the other uses in the file. A second pair (another
    /// account's keys) is a finding of its own.
    ///
    /// Not reported: literal dummy keys for LocalStack or MinIO (`AWS_ACCESS_KEY_ID: test`:
    /// nothing long-lived is stored; literal real keys are `hardcoded-secret`'s), and
    /// composite actions forwarding their own inputs (`${{ inputs.aws-access-key-id }}`):
    /// their callers are reported where they pass the secrets.
    ///
    /// ## Why
    /// Static keys never expire: once leaked (a log, a compromised action, a fork) they work
    /// until someone notices. GitHub's OIDC provider lets the job assume a role for one run,
    /// scoped to this repository, branch or environment, with nothing stored.
    ///
    /// ## How to fix
    /// ```yaml
    ///     permissions:
    ///       id-token: write
    ///       contents: read
    ///     steps:
    ///       - uses: aws-actions/configure-aws-credentials@<sha> # v4
    ///         with:
    ///           role-to-assume: arn:aws:iam::123456789012:role/deploy-production
    ///           aws-region: us-east-1
    /// ```
    /// Then delete the IAM user's access keys and the repository secrets that held them.
    pub struct StaticCredentials {
        id: "static-credentials",
        severity: Error,
        summary: "long-lived AWS keys are used instead of OIDC role-to-assume",
    }
}
rule_impl!(StaticCredentials, workflow, actions);

/// `NAME` when the whole value is `${{ secrets.NAME }}`: a stored secret, handed over as is.
fn secret_ref(v: &str) -> Option<&str> {
    let inner = v.trim().strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let name = inner.strip_prefix("secrets.")?;
    (!name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    .then_some(name)
}

/// A name of one half of an AWS key pair: the pair's prefix (`AWS_`, `CICD_AWS_`) and
/// whether this half is the secret one.
static AWS_KEY_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?P<prefix>.*?)(?:(?P<id>ACCESS_KEY_ID|ACCESS_KEY)|(?P<secret>SECRET_ACCESS_KEY|SECRET_KEY|SECRET_ID|SECRET))$",
    )
    .expect("regex")
});

/// `(pair prefix, is the secret half)` when `name` names half of an AWS key pair.
fn aws_key_name(name: &str) -> Option<(String, bool)> {
    if name.len() > 128 {
        return None;
    }
    let norm = name.to_ascii_uppercase().replace('-', "_");
    let caps = AWS_KEY_NAME.captures(&norm)?;
    let prefix = caps.name("prefix")?.as_str();
    // `AWS` must be a word of the prefix: `MINIO_ACCESS_KEY` is not an AWS key.
    let aws = prefix.split('_').any(|w| w == "AWS");
    aws.then(|| (prefix.to_string(), caps.name("secret").is_some()))
}

/// Where a mapping of credentials sits.
enum Holder<'a> {
    /// `with:` of a step that uses this action (`None` for a step without `uses:`).
    With(Option<&'a str>),
    /// `env:` of the workflow, a job or a step.
    Env(&'static str),
    /// `secrets:` passed to this reusable workflow.
    Secrets(Option<&'a str>),
}

/// One mapping that hands over (half of) a key pair.
struct Use<'a> {
    /// The pair: the secret's name prefix (`AWS_`, `APHL_AWS_`).
    pair: String,
    /// The first entry of the pair in this mapping.
    key: &'a Entry,
    holder: Holder<'a>,
    role_to_assume: bool,
}

impl StaticCredentials {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let mut uses: Vec<Use<'_>> = Vec::new();
        let mut stack: Vec<&Node> = vec![cx.root];
        while let Some(node) = stack.pop() {
            match &node.value {
                Value::Scalar { .. } => {}
                Value::Seq(items) => stack.extend(items.iter()),
                Value::Map(entries) => {
                    for e in entries {
                        if let (Some(k), Some(map)) = (e.key.as_str(), e.value.as_map()) {
                            let holder = match k {
                                "with" => {
                                    Some(Holder::With(node.get("uses").and_then(Node::as_str)))
                                }
                                "env" => Some(Holder::Env(env_level(node))),
                                "secrets" => {
                                    Some(Holder::Secrets(node.get("uses").and_then(Node::as_str)))
                                }
                                _ => None,
                            };
                            if let Some(holder) = holder {
                                if let Some(u) = pair_use(map, holder) {
                                    uses.push(u);
                                }
                            }
                        }
                        stack.push(&e.value);
                    }
                }
            }
        }

        // One finding per key pair, at its first use; the others are listed in its message.
        uses.sort_by_key(|u| (u.key.key.span.start.line, u.key.key.span.start.column));
        let mut reported: Vec<&str> = Vec::new();
        for (i, u) in uses.iter().enumerate() {
            if reported.contains(&u.pair.as_str()) {
                continue;
            }
            reported.push(&u.pair);
            let mut others: Vec<u32> = uses[i + 1..]
                .iter()
                .filter(|o| o.pair == u.pair)
                .map(|o| o.key.key.span.start.line)
                .collect();
            others.dedup();
            let key = u.key.key.as_str().unwrap_or("?");
            let what = match &u.holder {
                Holder::With(Some(action)) if is_configure_aws_credentials(action) => {
                    if u.role_to_assume {
                        "configure-aws-credentials assumes its role with long-lived access keys"
                            .to_string()
                    } else {
                        "configure-aws-credentials is given long-lived access keys instead of `role-to-assume`".to_string()
                    }
                }
                Holder::With(Some(action)) => {
                    format!("`{}` is given long-lived AWS keys (`{key}`)", short(action))
                }
                Holder::With(None) => format!("`{key}` passes a long-lived AWS key to the step"),
                Holder::Env(level) => {
                    format!("`{key}` passes a long-lived AWS key to {level}")
                }
                Holder::Secrets(Some(callee)) => format!(
                    "`{key}` passes a long-lived AWS key to the reusable workflow `{}`",
                    short(callee)
                ),
                Holder::Secrets(None) => {
                    format!("`{key}` passes a long-lived AWS key to a reusable workflow")
                }
            };
            out.push(Diagnostic::new(
                u.key.key.span,
                format!("{what}{}", more_uses(&others)),
                "use OIDC: grant `permissions: { id-token: write }`, give `aws-actions/configure-aws-credentials` a `role-to-assume` instead of keys, then delete the IAM user's keys and these secrets",
            ));
        }
    }
}

/// The mapping's entries that hand over an AWS key read from secrets, as one use of a pair.
fn pair_use<'a>(map: &'a [Entry], holder: Holder<'a>) -> Option<Use<'a>> {
    let mut first: Option<&Entry> = None;
    let mut pair_id: Option<String> = None;
    let mut pair_secret: Option<String> = None;
    for e in map {
        let (Some(k), Some(v)) = (e.key.as_str(), e.value.as_str()) else {
            continue;
        };
        let Some(secret_name) = secret_ref(v) else {
            continue;
        };
        // The stored secret's name identifies the pair; the variable's name, when the secret
        // has a name of its own (`AWS_SECRET_ACCESS_KEY: ${{ secrets.DEPLOY_KEY }}`), says
        // only that it is an AWS key.
        let named = aws_key_name(secret_name);
        let (pair, is_secret) = match (&named, aws_key_name(k)) {
            (Some((p, s)), _) => (p.clone(), *s),
            (None, Some((_, s))) => (secret_name.to_ascii_uppercase(), s),
            (None, None) => continue,
        };
        first.get_or_insert(e);
        if is_secret {
            pair_secret.get_or_insert(pair);
        } else {
            pair_id.get_or_insert(pair);
        }
    }
    let key = first?;
    let role_to_assume = map.iter().any(|e| e.key.as_str() == Some("role-to-assume"));
    Some(Use {
        pair: pair_secret.or(pair_id)?,
        key,
        holder,
        role_to_assume,
    })
}

/// Which level an `env:` belongs to, from the map that holds it.
fn env_level(holder: &Node) -> &'static str {
    if holder.get("jobs").is_some() || holder.get("on").is_some() {
        "every job of the workflow"
    } else if holder.get("steps").is_some() || holder.get("runs-on").is_some() {
        "the job"
    } else {
        "the step"
    }
}

fn is_configure_aws_credentials(uses: &str) -> bool {
    let path = uses.split('@').next().unwrap_or(uses);
    path.eq_ignore_ascii_case("aws-actions/configure-aws-credentials")
}

/// An action or workflow reference without its ref, as findings name it.
fn short(uses: &str) -> &str {
    uses.split('@').next().unwrap_or(uses)
}

#[cfg(test)]
mod tests {
    use super::{aws_key_name, secret_ref};

    #[test]
    fn secret_refs() {
        assert_eq!(secret_ref("${{ secrets.AWS_KEY }}"), Some("AWS_KEY"));
        assert_eq!(secret_ref(" ${{secrets.AWS_KEY}} "), Some("AWS_KEY"));
        assert_eq!(secret_ref("${{ secrets.A || 'x' }}"), None);
        assert_eq!(secret_ref("${{ inputs.aws-access-key-id }}"), None);
        assert_eq!(secret_ref("x ${{ secrets.A }}"), None);
    }

    #[test]
    fn aws_key_names() {
        let n = |s: &str| aws_key_name(s);
        assert_eq!(n("AWS_ACCESS_KEY_ID"), Some(("AWS_".into(), false)));
        assert_eq!(n("AWS_SECRET_ACCESS_KEY"), Some(("AWS_".into(), true)));
        assert_eq!(n("aws-secret-access-key"), Some(("AWS_".into(), true)));
        assert_eq!(
            n("CICD_AWS_SECRET_ACCESS_KEY"),
            Some(("CICD_AWS_".into(), true))
        );
        assert_eq!(
            n("AWS_GITHUBRUNNER_USER_SECRET_ID"),
            Some(("AWS_GITHUBRUNNER_USER_".into(), true))
        );
        assert_eq!(
            n("AWS_GITHUBRUNNER_USER_ACCESS_KEY"),
            Some(("AWS_GITHUBRUNNER_USER_".into(), false))
        );
        assert_eq!(n("MINIO_ACCESS_KEY"), None);
        assert_eq!(n("AWS_SECRET_NAME"), None);
        assert_eq!(n("AWS_REGION"), None);
    }
}
