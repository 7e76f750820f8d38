use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;
use ship_workflow::{ActionRef, Node};

declare_rule! {
    /// ## What it reports
    /// Long-lived AWS access keys handed to a job: `aws-access-key-id` given to
    /// `aws-actions/configure-aws-credentials`, or `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY` set in `env:` from secrets.
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
    pub struct StaticCredentials {
        id: "static-credentials",
        severity: Error,
        summary: "long-lived AWS keys are used instead of OIDC role-to-assume",
    }
}
rule_impl!(StaticCredentials, workflow, actions);

fn static_env(env: Option<&Node>, out: &mut Vec<Diagnostic>) {
    let Some(entries) = env.and_then(|e| e.as_map()) else {
        return;
    };
    for e in entries {
        let Some(k) = e.key.as_str() else { continue };
        if matches!(k, "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY")
            && e.value.as_str().is_some_and(|v| v.contains("secrets."))
        {
            out.push(Diagnostic::new(
                e.key.span,
                format!("`{k}` passes a long-lived AWS key to the job"),
                "use OIDC: `permissions: { id-token: write }` and `aws-actions/configure-aws-credentials` with `role-to-assume`",
            ));
        }
    }
}

impl StaticCredentials {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        static_env(cx.workflow.env, out);
        for job in &cx.workflow.jobs {
            static_env(job.env, out);
            for step in &job.steps {
                static_env(step.env, out);
                let is_configure = matches!(step.action(), Some(ActionRef::Repository { owner, repo, .. })
                    if owner.eq_ignore_ascii_case("aws-actions") && repo.eq_ignore_ascii_case("configure-aws-credentials"));
                if !is_configure {
                    continue;
                }
                let Some(with) = step.with else { continue };
                if let Some(e) = with.entry("aws-access-key-id") {
                    let role = with.get("role-to-assume").is_some();
                    out.push(Diagnostic::new(
                        e.key.span,
                        if role {
                            "configure-aws-credentials assumes its role with long-lived access keys".to_string()
                        } else {
                            "configure-aws-credentials is given long-lived access keys instead of `role-to-assume`".to_string()
                        },
                        "drop `aws-access-key-id`/`aws-secret-access-key`; grant `id-token: write` and set `role-to-assume` (OIDC)",
                    ));
                }
            }
        }
    }
}
