use crate::context::{Diagnostic, WorkflowContext};
use crate::images::{pushed_tags, TagKind};
use crate::model::{is_ship_action, job_needs};
use crate::rules::rule_impl;
use ship_workflow::{Job, Step};

declare_rule! {
    /// ## What it reports
    /// A build that pushes images without both a semver tag (`vMAJOR.MINOR.PATCH`) and a
    /// `sha-<commit>` tag. Reads `docker/build-push-action` tags (including the rules of a
    /// `docker/metadata-action` step they come from), `docker push`, `docker buildx build
    /// --push` and `imagetools create`. ship's `tag-image` action always applies both, so a
    /// push followed by it (later in the job, or in a job that `needs:` the pushing one)
    /// passes too.
    ///
    /// ## Why
    /// The release policy builds one image per merge and names it twice: `sha-<commit>`
    /// ties a running task to the exact code, `vX.Y.Z` is what people deploy and roll back
    /// to. Without the semver tag there is nothing to roll back *to* by version; without
    /// the sha tag nobody can tell which commit is live.
    ///
    /// ## How to fix
    /// ```yaml
    ///       - uses: docker/metadata-action@<sha>
    ///         id: meta
    ///         with:
    ///           images: ghcr.io/org/api
    ///           tags: |
    ///             type=semver,pattern={{version}},prefix=v
    ///             type=sha,format=short
    /// ```
    /// or `uses: org/ship/tag-image@v1` after pushing `sha-<commit>`.
    pub struct ImageTags {
        id: "image-tags",
        severity: Error,
        summary: "a build pushes images without both a semver and a sha-<commit> tag",
    }
}
rule_impl!(ImageTags, workflow, actions);

/// Does ship's `tag-image` run after `step` of `job`: later in the job, or in a job that
/// `needs:` it? It then adds the missing tags to what the step pushed.
fn tagged_later(cx: &WorkflowContext<'_>, job: &Job<'_>, step: &Step<'_>) -> bool {
    let is_tag_image = |s: &Step<'_>| {
        s.action()
            .is_some_and(|a| is_ship_action(&a, "tag-image", cx.policy))
    };
    job.steps
        .iter()
        .any(|s| s.index > step.index && is_tag_image(s))
        || cx.workflow.jobs.iter().any(|other| {
            other.id != job.id
                && job_needs(cx.workflow, other, job.id)
                && other.steps.iter().any(is_tag_image)
        })
}

impl ImageTags {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        for job in &cx.workflow.jobs {
            for step in &job.steps {
                let Some(pushed) = pushed_tags(job, step, cx.policy) else {
                    continue;
                };
                if pushed.ship_tag_image || tagged_later(cx, job, step) {
                    continue;
                }
                let kinds = pushed.all_kinds();
                let semver = kinds.contains(&TagKind::Semver);
                let sha = kinds.contains(&TagKind::Sha);
                let missing = match (semver, sha) {
                    (true, true) => continue,
                    (false, true) => "a semver tag (`vX.Y.Z`)",
                    (true, false) => "a `sha-<commit>` tag",
                    (false, false) => "a semver tag (`vX.Y.Z`) and a `sha-<commit>` tag",
                };
                // In a script, point at the pushing command rather than the first `docker`.
                let span = match pushed.node.as_str() {
                    Some(script) if step.run.is_some() => [
                        "docker push",
                        "docker buildx imagetools",
                        "docker buildx build",
                        "docker build",
                        "docker",
                    ]
                    .iter()
                    .find(|needle| script.contains(*needle))
                    .and_then(|needle| cx.source.find_in_span(pushed.node.span, needle))
                    .unwrap_or(pushed.node.span),
                    _ => pushed.node.span,
                };
                out.push(Diagnostic::new(
                    span,
                    format!("job `{}` pushes an image without {missing}", job.id),
                    "tag every pushed image `vX.Y.Z` and `sha-<commit>` (e.g. metadata-action `type=semver` + `type=sha`, or ship's tag-image action)",
                ));
            }
        }
    }
}
