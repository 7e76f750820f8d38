use crate::context::{Diagnostic, SettingsContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// - a workflow deploys to an environment that does not exist in the repository
    ///   (GitHub creates it on first use, with no protection at all);
    /// - the production environment has fewer required reviewers than the policy's
    ///   `environments.production.required-reviewers` (default 1);
    /// - its deployment branch policy lets any branch deploy: none set, or custom patterns
    ///   beyond the production branch and the release tags.
    ///
    /// ## Why
    /// The environment is where production secrets live and where a person approves the
    /// deploy. Without reviewers anyone who can start the workflow deploys; without a branch
    /// policy a workflow on any branch can read the production secrets.
    ///
    /// ## How to fix
    /// Settings → Environments → production: add required reviewers, and under "Deployment
    /// branches and tags" choose "Selected branches and tags" with `main` and `v*`.
    pub struct EnvironmentProtection {
        id: "environment-protection",
        severity: Error,
        summary: "a deploy environment is missing or unprotected",
    }
}
rule_impl!(EnvironmentProtection, settings);

impl EnvironmentProtection {
    fn check(&self, cx: &SettingsContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(envs) = &cx.settings.environments else {
            return;
        };
        let exists = |name: &str| envs.iter().any(|e| e.name.eq_ignore_ascii_case(name));
        let mut reported: Vec<&str> = Vec::new();
        for w in cx.workflows {
            for (name, span) in &w.deploy_environments {
                if !exists(name) && !reported.contains(&name.as_str()) {
                    reported.push(name);
                    out.push(Diagnostic::in_file(
                        &w.path,
                        Some(*span),
                        format!("environment `{name}` does not exist in {}: GitHub creates it unprotected on the first deploy", cx.settings.repository),
                        format!("create `{name}` under Settings → Environments with required reviewers and a deployment branch policy"),
                    ));
                }
            }
        }
        let prod_name = &cx.policy.policy.production_environment;
        let Some(prod) = envs.iter().find(|e| e.name.eq_ignore_ascii_case(prod_name)) else {
            return;
        };
        let wanted = cx
            .policy
            .environment(prod_name)
            .and_then(|e| e.policy.required_reviewers)
            .unwrap_or(1) as usize;
        if prod.required_reviewers < wanted {
            out.push(cx.diagnostic(
                &["environments", prod_name, "required-reviewers"],
                format!("environment `{prod_name}` has {} required reviewer(s); the policy requires {wanted}", prod.required_reviewers),
                format!("add required reviewers to the `{prod_name}` environment (Settings → Environments)"),
            ));
        }
        let branch = &cx.settings.branch;
        let release = &cx.policy.policy.release_tags;
        match &prod.deployment_branch_policy {
            None => out.push(cx.diagnostic(
                &["environments", prod_name],
                format!("environment `{prod_name}` lets any branch deploy (no deployment branch policy)"),
                format!("restrict it to `{branch}` and tags `{release}` (\"Selected branches and tags\")"),
            )),
            Some(d) if d.custom_branch_policies => {
                let extra: Vec<String> = prod
                    .custom_policies
                    .iter()
                    .filter(|(pattern, kind)| {
                        let ok = if kind == "tag" {
                            cx.policy.pattern_within_release_tags(pattern)
                        } else {
                            pattern == branch
                        };
                        !ok
                    })
                    .map(|(p, k)| format!("{k} `{p}`"))
                    .collect();
                if !extra.is_empty() {
                    out.push(cx.diagnostic(
                        &["environments", prod_name],
                        format!("environment `{prod_name}` also accepts deploys from {}", extra.join(", ")),
                        format!("allow only branch `{branch}` and tags `{release}`"),
                    ));
                }
            }
            Some(_) => {}
        }
    }
}
