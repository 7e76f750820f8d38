use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;
use regex::Regex;
use ship_workflow::Node;
use std::sync::LazyLock;

declare_rule! {
    /// ## What it reports
    /// A secret named for one environment (`PROD_*`, `PRODUCTION_*`, `STAGING_*`…, from
    /// the policy's `environments.<name>.secret-prefixes`) used in a job whose
    /// `environment:` is another one, or none.
    ///
    /// ## Why
    /// Production credentials belong in the `production` GitHub Environment, where required
    /// reviewers guard them. A `PROD_` secret read by a job outside that environment is a
    /// repository secret: any workflow on any branch can read it, no approval needed.
    ///
    /// ## How to fix
    /// Move the secret into the environment (Settings → Environments → production → Secrets),
    /// give the job `environment: production`, and drop the prefix.
    pub struct SecretScope {
        id: "secret-scope",
        severity: Error,
        summary: "an environment's secret is used outside that environment",
    }
}
rule_impl!(SecretScope, workflow);

static SECRET_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"secrets(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\])"#,
    )
    .unwrap()
});

/// Every scalar below `node` that mentions `secrets.`.
fn secret_scalars(node: &Node) -> Vec<&Node> {
    let mut found = Vec::new();
    node.walk(|n| {
        if n.as_str().is_some_and(|s| s.contains("secrets")) {
            found.push(n);
        }
    });
    found
}

impl SecretScope {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let workflow_env: Vec<&Node> = cx.workflow.env.map(secret_scalars).unwrap_or_default();
        let mut reported: Vec<(ship_workflow::Pos, String)> = Vec::new();
        for (job, facts) in cx.jobs() {
            // GitHub compares environment names case-insensitively; `prod` is `production`.
            let job_env = match &facts.environment {
                crate::model::EnvironmentBinding::Explicit { name, .. } => Some(
                    cx.policy
                        .environment_named(name)
                        .map(|e| e.name.as_str())
                        .unwrap_or(name.as_str()),
                ),
                crate::model::EnvironmentBinding::Dynamic { .. } => continue,
                crate::model::EnvironmentBinding::Absent => None,
            };
            let mut scalars = secret_scalars(job.node);
            scalars.extend(workflow_env.iter().copied());
            for scalar in scalars {
                let text = scalar.as_str().unwrap_or("");
                for caps in SECRET_REF.captures_iter(text) {
                    let name = caps
                        .get(1)
                        .or(caps.get(2))
                        .map(|m| m.as_str())
                        .unwrap_or("");
                    let Some(owner) = cx.policy.secret_environment(name) else {
                        continue;
                    };
                    if job_env == Some(owner.name.as_str()) {
                        continue;
                    }
                    let nth = text[..caps.get(0).map_or(0, |m| m.start())]
                        .matches(&caps[0])
                        .count();
                    let span = cx
                        .source
                        .find_nth_in_span(scalar.span, &caps[0], nth)
                        .unwrap_or(scalar.span);
                    // A workflow-level `env:` secret is one mistake, not one per job.
                    if reported.contains(&(span.start, name.to_string())) {
                        continue;
                    }
                    reported.push((span.start, name.to_string()));
                    let where_ = match job_env {
                        Some(e) => format!("environment `{e}`"),
                        None => "no environment".to_string(),
                    };
                    out.push(Diagnostic::new(
                        span,
                        format!("`{name}` belongs to `{}` but job `{}` runs in {where_}", owner.name, job.id),
                        format!("store it as a secret of the `{}` environment and give the job `environment: {}`", owner.name, owner.name),
                    ));
                }
            }
        }
    }
}
