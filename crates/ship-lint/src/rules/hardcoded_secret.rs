use crate::context::{Diagnostic, WorkflowContext};
use crate::credentials::{
    client_side, is_placeholder, key_kind, literal_secret, local_host, more_uses, never_secret,
    public_name, scan_shapes,
};
use crate::rules::rule_impl;
use ship_workflow::yaml::Style;
use ship_workflow::{Node, Span, Value};
use std::collections::{HashMap, HashSet};

declare_rule! {
    /// ## What it reports
    /// Literal credentials in a workflow or a composite action, judged by the value, not only
    /// by its key:
    ///
    /// - credentials of a known shape anywhere, scripts included: private key blocks, GitHub,
    ///   GitLab, Slack, Stripe live, Google, npm, PyPI, Docker Hub, SendGrid, OpenAI and
    ///   Anthropic tokens, Slack and Discord webhook URLs, JSON Web Tokens, Azure storage
    ///   account keys, AWS secret access keys after their name, and URLs with an inline
    ///   password to a real host (`postgres://app:…@db.prod.example.io`);
    /// - keys named like a secret (`password`, `token`, `api-key`, `client_secret`,
    ///   `AWS_SECRET_ACCESS_KEY`, `RAILS_MASTER_KEY`, `SECRET_KEY_BASE`, `*_SIGNING_KEY`…)
    ///   whose literal value looks generated (20+ hex characters, a random-looking base64
    ///   string) or like a chosen password (10+ characters mixing three kinds of character);
    /// - `credentials.password` of a job's `container:` or `services:`: the password of the
    ///   registry the image is pulled from.
    ///
    /// Not reported: booleans and numbers (`mask-password: 'true'`), `${{ }}` expressions and
    /// `$VARIABLES`, placeholders (`changeme`, `changethis`, `dummy`, `test`, `example`,
    /// `xxx`, `<token>`), plain test dummies (`postgres`, `minio123`, LocalStack's `test`),
    /// the values a job gives its service containers (a throwaway database's
    /// `POSTGRES_PASSWORD`) wherever the workflow repeats them, URLs to `localhost` or to a
    /// service container, published development keys (Azurite's), values public by design
    /// (keys named `*PUBLIC*`/`*PUBLISHABLE*`, Supabase anon JWTs), and AWS access key ids (`AKIA…`): an id names a key, the secret key is the
    /// credential. Long-lived AWS keys read from secrets are `static-credentials`' concern.
    ///
    /// The same secret written many times is reported once, at its first place, with the
    /// number and lines of the others. The finding never prints the value.
    ///
    /// ## Why
    /// Everything in a workflow file is in git history and readable by everyone with read
    /// access (the world, for a public repository), forever. A leaked key must be rotated.
    ///
    /// ## How to fix
    /// Rotate the credential, store it as an environment secret, and reference it:
    ///
    /// ```yaml
    ///     env:
    ///       RAILS_MASTER_KEY: ${{ secrets.RAILS_MASTER_KEY }}
    ///     container:
    ///       image: ghcr.io/acme/builder:2
    ///       credentials:
    ///         username: ${{ github.actor }}
    ///         password: ${{ secrets.GITHUB_TOKEN }}
    /// ```
    pub struct HardcodedSecret {
        id: "hardcoded-secret",
        severity: Error,
        summary: "a literal credential is written in the workflow",
    }
}
rule_impl!(HardcodedSecret, workflow, actions);

/// Where a finding in a composite action is; actions cannot read `secrets`, so the fix differs.
const ACTION: &str = "the action";
const ACTION_HELP: &str = "rotate it, and take it as an input (`${{ inputs.NAME }}`) that callers fill from their secrets";

/// One literal credential found, before repeats of the same secret are merged.
struct Hit {
    span: Span,
    message: String,
    help: String,
    /// The secret itself: the same text found again is the same cause.
    secret: String,
}

/// `services:` of a job: a map from service names to definitions with an `image`.
fn services_map(n: &Node) -> Option<&[ship_workflow::Entry]> {
    let entries = n.as_map()?;
    entries
        .iter()
        .all(|e| e.value.as_map().is_some())
        .then_some(entries)
        .filter(|es| es.iter().any(|e| e.value.get("image").is_some()))
}

/// The registry host of an image reference, when it names one (`ghcr.io/a/b`,
/// `localhost:5000/b`); `None` for Docker Hub images (`postgres:16`, `acme/app`).
fn registry_host(image: &str) -> Option<&str> {
    let (first, rest) = image.split_once('/')?;
    (!rest.is_empty() && (first.contains('.') || first.contains(':') || first == "localhost"))
        .then_some(first)
}

impl HardcodedSecret {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let place = if cx.is_action() {
            ACTION
        } else {
            "the workflow"
        };
        // What the workflow gives its service containers (a test database's password):
        // throwaways wherever the workflow repeats them, e.g. in a DATABASE_URL.
        let mut service_values: HashSet<&str> = HashSet::new();
        cx.root.walk(|n| {
            let Some(entries) = n.as_map() else { return };
            for e in entries {
                if e.key.as_str() != Some("services") {
                    continue;
                }
                // Not their registry `credentials`: those are no throwaways.
                let settings = services_map(&e.value)
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.value.as_map())
                    .flatten()
                    .filter(|setting| setting.key.as_str() != Some("credentials"));
                for setting in settings {
                    setting.value.walk(|v| {
                        if let Some(t) = v.as_str().filter(|t| t.len() >= 4) {
                            service_values.insert(t);
                        }
                    });
                }
            }
        });
        let throwaway = |s: &str| service_values.contains(s);

        let mut hits: Vec<Hit> = Vec::new();
        // (node, its key, inside a service container's definition)
        let mut stack: Vec<(&Node, Option<&str>, bool)> = vec![(cx.root, None, false)];
        while let Some((node, key, in_service)) = stack.pop() {
            match &node.value {
                Value::Scalar { text, style } => {
                    self.check_scalar(
                        cx, node, text, *style, key, in_service, &throwaway, place, &mut hits,
                    );
                }
                Value::Seq(items) => stack.extend(items.iter().map(|i| (i, None, in_service))),
                Value::Map(entries) => {
                    // `permissions: { id-token: write }` names a scope, not a credential.
                    if key == Some("permissions") {
                        continue;
                    }
                    let job_services = entries
                        .iter()
                        .find(|e| e.key.as_str() == Some("services"))
                        .and_then(|e| services_map(&e.value));
                    let service_names: Vec<&str> = job_services
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e.key.as_str())
                        .collect();
                    for e in entries {
                        let k = e.key.as_str();
                        match k {
                            Some("container") => {
                                self.check_registry(
                                    &e.value,
                                    "the job container",
                                    &service_names,
                                    &throwaway,
                                    place,
                                    &mut hits,
                                );
                                push_definition(&mut stack, &e.value, in_service);
                            }
                            Some("services") if job_services.is_some() => {
                                for s in job_services.into_iter().flatten() {
                                    let what = format!(
                                        "the service container `{}`",
                                        s.key.as_str().unwrap_or("?")
                                    );
                                    self.check_registry(
                                        &s.value,
                                        &what,
                                        &service_names,
                                        &throwaway,
                                        place,
                                        &mut hits,
                                    );
                                    push_definition(&mut stack, &s.value, true);
                                }
                            }
                            _ => stack.push((&e.value, k, in_service)),
                        }
                    }
                }
            }
        }

        // The same secret many times is one cause: one finding, at its first place.
        hits.sort_by_key(|h| (h.span.start.line, h.span.start.column));
        let mut first_of: HashMap<&str, usize> = HashMap::new();
        let mut others: Vec<Vec<u32>> = vec![Vec::new(); hits.len()];
        for (i, h) in hits.iter().enumerate() {
            match first_of.get(h.secret.as_str()) {
                Some(&f) => others[f].push(h.span.start.line),
                None => {
                    first_of.insert(h.secret.as_str(), i);
                }
            }
        }
        for (i, h) in hits.iter().enumerate() {
            if first_of.get(h.secret.as_str()) != Some(&i) {
                continue;
            }
            out.push(
                Diagnostic::new(
                    h.span,
                    format!("{}{}", h.message, more_uses(&others[i])),
                    h.help.clone(),
                )
                .redacted(),
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_scalar(
        &self,
        cx: &WorkflowContext<'_>,
        n: &Node,
        text: &str,
        style: Style,
        key: Option<&str>,
        in_service: bool,
        throwaway: &dyn Fn(&str) -> bool,
        place: &str,
        hits: &mut Vec<Hit>,
    ) {
        let mut shapes = scan_shapes(text, throwaway);
        if key.is_some_and(public_name) {
            shapes.retain(|s| !client_side(s));
        }
        if !shapes.is_empty() {
            for s in shapes {
                let secret = &text[s.start..s.end];
                let nth = text[..s.start].matches(secret).count();
                hits.push(Hit {
                    span: cx
                        .source
                        .find_nth_in_span(n.span, secret, nth)
                        .unwrap_or(n.span),
                    message: format!("{} is written in {place}", s.what),
                    help: if place == ACTION {
                        ACTION_HELP.into()
                    } else {
                        "rotate it now, store it as an environment secret and use `${{ secrets.NAME }}`".into()
                    },
                    secret: secret.to_string(),
                });
            }
            return;
        }
        // A service container's own settings are throwaways; block scalars are scripts and
        // documents, which only known shapes (above) can tell apart.
        let Some(k) = key else { return };
        if in_service || style == Style::Block || throwaway(text) {
            return;
        }
        let Some(kind) = key_kind(k) else { return };
        if let Some(why) = literal_secret(kind, text) {
            hits.push(Hit {
                span: n.span,
                message: format!("`{k}` holds {why} written in {place}"),
                help: if place == ACTION {
                    ACTION_HELP.into()
                } else {
                    format!(
                        "rotate it, store it as a secret and write `{k}: ${{{{ secrets.NAME }}}}`"
                    )
                },
                secret: text.trim().to_string(),
            });
        }
    }

    /// `credentials.password` of a job container or service container: the password of the
    /// registry its image comes from, a real secret unless that registry is the job's own
    /// throwaway (a `localhost:5000` or service-container registry).
    #[allow(clippy::too_many_arguments)]
    fn check_registry(
        &self,
        def: &Node,
        what: &str,
        service_names: &[&str],
        throwaway: &dyn Fn(&str) -> bool,
        place: &str,
        hits: &mut Vec<Hit>,
    ) {
        let Some(pw) = def.get("credentials").and_then(|c| c.get("password")) else {
            return;
        };
        let Some(text) = pw.as_str() else { return };
        let text = text.trim();
        if never_secret(text) || is_placeholder(text) || throwaway(text) {
            return;
        }
        let image = def.get("image").and_then(Node::as_str).unwrap_or("");
        if let Some(host) = registry_host(image) {
            let name = host.split(':').next().unwrap_or(host);
            if local_host(host) || service_names.contains(&name) {
                return;
            }
        }
        let shape = scan_shapes(text, throwaway)
            .first()
            .map(|s| s.what)
            .unwrap_or("a registry password");
        hits.push(Hit {
            span: pw.span,
            message: format!(
                "{shape} for pulling {what}'s image is written in {place}"
            ),
            help: "rotate it, store it as a secret and write `password: ${{ secrets.REGISTRY_PASSWORD }}` (for ghcr.io, `${{ secrets.GITHUB_TOKEN }}` with `packages: read`)".into(),
            secret: text.to_string(),
        });
    }
}

/// Walk a container or service definition, except its `credentials` (checked as a registry
/// login by `check_registry`).
fn push_definition<'a>(
    stack: &mut Vec<(&'a Node, Option<&'a str>, bool)>,
    def: &'a Node,
    in_service: bool,
) {
    match def.as_map() {
        Some(entries) => {
            for e in entries {
                if e.key.as_str() != Some("credentials") {
                    stack.push((&e.value, e.key.as_str(), in_service));
                }
            }
        }
        None => stack.push((def, Some("container"), in_service)),
    }
}
