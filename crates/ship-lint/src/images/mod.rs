//! Container images in workflows: what a build pushes and with which tags, and what a
//! deploy names.
//!
//! - [`value`]: what a value is before the run (`$IMAGE_TAG`, `${{ steps.meta.outputs.version }}`),
//!   followed through the places a workflow defines it; nothing guessed from names.
//! - [`tags`]: what a tag is for the release policy (`vX.Y.Z`, `sha-<commit>`, another
//!   immutable tag, or one that moves).
//! - [`pushes`]: what each job pushes (docker commands, build-push-action with
//!   metadata-action, well-known push actions, local composite actions and reusable
//!   workflows), and whether it redeploys a service as is.

mod metadata;
pub mod pushes;
pub mod tags;
pub mod value;

use crate::context::WorkflowContext;
use ship_workflow::expr::{context_references, expressions};
use ship_workflow::Job;

/// What `job` of the file in `cx` pushes, and whether it redeploys as is.
pub fn job_images(cx: &WorkflowContext<'_>, job: &Job<'_>) -> pushes::JobImages {
    let scope = value::Scope::new(cx.workflow, job, cx.is_action(), None);
    let reader = pushes::Reader {
        source: cx.source,
        policy: cx.policy,
        repo: cx.repo,
        dir: cx.dir,
        outer: None,
        depth: 0,
    };
    reader.job(&scope)
}

/// The tag part of an image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageTag {
    /// Pinned by `@sha256:…`.
    Digest,
    /// A literal tag.
    Literal(String),
    /// No tag at all: the registry serves `latest`.
    Missing,
    /// Decided at run time; these are the context references the tag is built from.
    Dynamic(Vec<String>),
}

/// Read the tag of `reference` (`registry/repo:tag`, `repo@sha256:…`, with `${{ }}` parts).
pub fn image_tag(reference: &str) -> ImageTag {
    let r = reference.trim();
    if r.contains("@sha256:") {
        return ImageTag::Digest;
    }
    let exprs = expressions(r);
    // Blank out expressions so their `:`/`/` do not confuse the split.
    let mut masked = r.to_string();
    for e in exprs.iter().rev() {
        masked.replace_range(
            e.offset..e.offset + e.raw.len(),
            &"\u{1}".repeat(e.raw.len()),
        );
    }
    let last_slash = masked.rfind('/').map(|i| i + 1).unwrap_or(0);
    let last_segment = &masked[last_slash..];
    match last_segment.rfind(':') {
        Some(colon) => {
            let start = last_slash + colon + 1;
            let tag = &r[start..];
            let tag_exprs: Vec<String> = exprs
                .iter()
                .filter(|e| e.offset >= start)
                .flat_map(|e| context_references(e.inner))
                .collect();
            if masked[start..].contains('\u{1}') {
                ImageTag::Dynamic(tag_exprs)
            } else if tag.contains('$') {
                ImageTag::Dynamic(vec![tag.to_string()])
            } else {
                ImageTag::Literal(tag.to_string())
            }
        }
        None if masked.contains('\u{1}') || r.contains('$') => ImageTag::Dynamic(
            exprs
                .iter()
                .flat_map(|e| context_references(e.inner))
                .collect(),
        ),
        None => ImageTag::Missing,
    }
}

/// Keys whose values are whole image references.
pub fn is_image_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace('_', "-");
    matches!(
        k.as_str(),
        "image" | "image-uri" | "image-ref" | "image-name" | "container-image" | "docker-image"
    )
}

/// Keys whose values are image tags.
pub fn is_image_tag_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace('_', "-");
    k == "image-tag"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tags() {
        assert_eq!(
            image_tag("123.dkr.ecr.us-east-1.amazonaws.com/api:latest"),
            ImageTag::Literal("latest".into())
        );
        assert_eq!(image_tag("localhost:5000/api"), ImageTag::Missing);
        assert_eq!(image_tag("ghcr.io/o/api@sha256:abc"), ImageTag::Digest);
        assert_eq!(
            image_tag("${{ env.REGISTRY }}/api:${{ inputs.version }}"),
            ImageTag::Dynamic(vec!["inputs.version".into()])
        );
        assert_eq!(
            image_tag("${{ inputs.image }}"),
            ImageTag::Dynamic(vec!["inputs.image".into()])
        );
    }
}
