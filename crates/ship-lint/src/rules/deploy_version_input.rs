use crate::context::{Diagnostic, WorkflowContext};
use crate::model::StepRole;
use crate::rules::rule_impl;
use ship_workflow::{Job, WorkflowInput};

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

/// Input names accepted as "the version to deploy" (or inputs described so).
pub(crate) fn is_version_input(input: &WorkflowInput<'_>) -> bool {
    let n = input.name.to_ascii_lowercase().replace('_', "-");
    let named = n == "version"
        || n.ends_with("-version")
        || n == "tag"
        || n.ends_with("-tag")
        || n == "release"
        || n == "to-deploy"
        || n.ends_with("-sha");
    let described = input
        .node
        .get("description")
        .and_then(|d| d.as_str())
        .is_some_and(|d| {
            let d = d.to_ascii_lowercase();
            d.contains("version") || d.contains("release tag") || d.contains("image tag")
        });
    named || described
}

/// The image the deploy ships is written in the workflow with a fixed tag
/// (`ghcr.io/org/stunnel:5.72-r0`): a dispatch deploys that exact version, no input needed.
fn pinned_image(job: &Job<'_>) -> bool {
    job.steps.iter().any(|s| {
        s.with
            .and_then(|w| w.as_map())
            .unwrap_or_default()
            .iter()
            .any(|e| {
                e.value.as_str().is_some_and(|v| {
                    let v = v.trim();
                    !v.contains("${{")
                        && !v.contains('$')
                        && v.contains('/')
                        && v.rsplit_once(':').is_some_and(|(_, tag)| {
                            tag.chars()
                                .next()
                                .is_some_and(|c| c.is_ascii_digit() || c == 'v')
                                && tag.contains('.')
                                && !tag.contains('/')
                        })
                })
            })
    })
}

/// The job runs only when the chosen ref is a tag: the tag picked is the version.
fn runs_on_tags_only(job: &Job<'_>) -> bool {
    job.node
        .get("if")
        .and_then(|c| c.as_str())
        .is_some_and(|c| {
            (c.contains("startsWith(github.ref, 'refs/tags/')")
                || c.contains("github.ref_type == 'tag'"))
                && !c.contains("||")
        })
}

impl DeployVersionInput {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(dispatch) = cx.workflow.trigger("workflow_dispatch") else {
            return;
        };
        // A dispatch that can deploy production: to production, or to an environment chosen
        // at run time (an input, the branch) that production is one of.
        let rollout = cx.deploy_jobs().find(|(job, f)| {
            // An infrastructure apply deploys the code at the chosen ref: its version.
            let infrastructure_only = f.steps_with(StepRole::Rollout).all(|r| {
                let w = r.evidence.what.to_ascii_lowercase();
                [
                    "terraform",
                    "terragrunt",
                    "tofu ",
                    "pulumi",
                    "cdk ",
                    "cloudformation",
                ]
                .iter()
                .any(|t| w.contains(t))
            });
            f.has(StepRole::Rollout)
                && !infrastructure_only
                && !f.has(StepRole::Rollback)
                && (f
                    .target_environment()
                    .is_some_and(|n| cx.policy.is_production(n))
                    || f.target_environment().is_none()
                        && f.may_target.iter().any(|n| cx.policy.is_production(n)))
                && !dispatch_excluded(job)
                && !pinned_image(job)
                && !runs_on_tags_only(job)
        });
        let Some((job, facts)) = rollout else { return };
        let inputs = dispatch.inputs();
        let because = facts.because(cx.path);
        match inputs.iter().find(|i| is_version_input(i)) {
            None => out.push(Diagnostic::new(
                dispatch.key.span,
                format!("manual production rollout (job `{}`) has no `version` input{because}", job.id),
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

/// The job's `if:` keeps manual runs out (`github.event_name == 'push'`).
fn dispatch_excluded(job: &Job<'_>) -> bool {
    job.node
        .get("if")
        .and_then(|c| c.as_str())
        .is_some_and(|c| {
            c.contains("github.event_name == 'push'") && !c.contains("||")
                || c.contains("github.event_name != 'workflow_dispatch'")
        })
}
