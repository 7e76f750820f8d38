use crate::context::{Diagnostic, WorkflowContext};
use crate::model::StepRole;
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// A production rollout that can be started by hand (`workflow_dispatch`) without a
    /// required `version` input. Rollback workflows are exempt (their target is optional).
    ///
    /// ## Why
    /// A manual production deploy must say which released, immutable version it ships.
    /// Without the input, a dispatch deploys whatever the branch points at, an image nobody
    /// reviewed as a release, and there is no record of which version went out.
    ///
    /// ## How to fix
    /// ```yaml
    /// on:
    ///   workflow_dispatch:
    ///     inputs:
    ///       version:
    ///         description: "Release to deploy (vX.Y.Z)"
    ///         required: true
    ///         type: string
    /// ```
    pub struct DeployVersionInput {
        id: "deploy-version-input",
        severity: Error,
        summary: "a manual production rollout has no required version input",
    }
}
rule_impl!(DeployVersionInput, workflow);

/// Input names accepted as "the version to deploy".
fn is_version_input(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "version"
        || n.ends_with("-version")
        || n.ends_with("_version")
        || n == "tag"
        || n == "image-tag"
        || n == "image_tag"
        || n == "release"
}

impl DeployVersionInput {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(dispatch) = cx.workflow.trigger("workflow_dispatch") else {
            return;
        };
        let rollout = cx.deploy_jobs().find(|(_, f)| {
            f.has(StepRole::Rollout)
                && !f.has(StepRole::Rollback)
                && f.target_environment()
                    .is_some_and(|n| cx.policy.is_production(n))
        });
        let Some((job, _)) = rollout else { return };
        let inputs = dispatch.inputs();
        match inputs.iter().find(|i| is_version_input(i.name)) {
            None => out.push(Diagnostic::new(
                dispatch.key.span,
                format!("manual production rollout (job `{}`) has no `version` input", job.id),
                "add `inputs: { version: { description: \"vX.Y.Z to deploy\", required: true, type: string } }` and deploy the image tagged with it",
            )),
            Some(input) if !input.is_required() => out.push(Diagnostic::new(
                input.required.map(|r| r.span).unwrap_or(input.key.span),
                format!("input `{}` of a manual production rollout is not required", input.name),
                "set `required: true`: a production deploy must name the release it ships",
            )),
            Some(_) => {}
        }
    }
}
