use crate::context::{Diagnostic, WorkflowContext};
use crate::images::job_images;
use crate::images::pushes::{Push, PushKind};
use crate::images::tags::{missing, Tag, TagKind};
use crate::model::{is_ship_action, job_needs};
use ship_workflow::{Job, Span, Step};

declare_rule! {
    /// ## What it reports
    /// A build that pushes an image without both release tags: `vX.Y.Z` (the version) and
    /// `sha-<commit>` (the commit, full or short, after the literal `sha-`). It reads what
    /// the build really tags:
    ///
    /// - `docker build -t`/`docker tag` then `docker push` (`--all-tags`: every tag the job
    ///   gave that repository), `docker buildx build --push` or `--output type=registry`,
    ///   `docker buildx imagetools create`, and copies into another repository (`crane
    ///   copy`, `skopeo copy`, `regctl image copy`, `docker pull` + `tag` + `push`);
    /// - `docker/build-push-action` `tags:`, including the rules of the
    ///   `docker/metadata-action` they come from (`type=semver`, `type=sha`, `type=raw`,
    ///   `type=ref`, `flavor: latest=`, and its defaults when `tags:` is absent);
    /// - well-known push actions (rust-lang/simpleinfra `upload-docker-image` pushes
    ///   `latest` unless given a `tag`; mbta `build-push-ecr` pushes `git-<sha>`; bcgov
    ///   `builder-ghcr` its `tags:`), another repository's image-build workflow with the
    ///   tags its `with:` gives, and this repository's composite actions and reusable
    ///   workflows, with what the caller passes.
    ///
    /// Tags written through variables are read where the file defines them (`env:`, an
    /// assignment earlier in the script, `$GITHUB_ENV`, step and job outputs, inputs with
    /// the caller's value). A name is never taken for a version: `$IMAGE_TAG` is what its
    /// definition says. It is a version when it is one: a literal `v1.2.3`, the git tag of a
    /// run that only version tags start (`push: tags: [v*]`, a release), a `version` input
    /// of a manual run. When a tag cannot be known (a secret, a command's output), it is
    /// given the benefit of the doubt, unless one tag alone is pushed (it cannot be both).
    ///
    /// What ship accepts: `vX.Y.Z` or `X.Y.Z` (pre-release suffixes allowed) for the version;
    /// `sha-` followed by the commit SHA, full or short, for the commit. The bare SHA,
    /// `git-<sha>` or `production-<sha7>` identify the commit too, but not in the form the
    /// policy (and ship's rollback) looks for.
    ///
    /// Only images the repository deploys are judged: a repository whose workflows deploy
    /// nothing (a public image published for its users) is not reported. Retags of an image
    /// already in the same repository (promoting `:good`, `:prod`) and images whose tags say
    /// they are for CI (`ci-…`) are not builds. Where the problem is what a caller passes to
    /// a composite action or reusable workflow, the finding points at the caller's `with:`.
    ///
    /// ## Why
    /// The release policy builds one image per merge and names it twice: `sha-<commit>`
    /// ties a running task to the exact code, `vX.Y.Z` is what people deploy and roll back
    /// to. Without the version tag there is nothing to roll back *to* by version; without
    /// the commit tag nobody can tell which commit is live; a build that pushes only
    /// `latest` or a branch name leaves nothing immutable to deploy.
    ///
    /// ## How to fix
    /// ```yaml
    ///       - uses: docker/metadata-action@<sha>
    ///         id: meta
    ///         with:
    ///           images: ghcr.io/org/api
    ///           tags: |
    ///             type=semver,pattern={{version}},prefix=v
    ///             type=sha
    ///       - uses: docker/build-push-action@<sha>
    ///         with:
    ///           push: true
    ///           tags: ${{ steps.meta.outputs.tags }}
    /// ```
    /// or `docker build -t "$IMAGE:sha-$GITHUB_SHA" -t "$IMAGE:$GITHUB_REF_NAME"` in a
    /// workflow started by `v*` tags, or `uses: org/ship/tag-image@v1` after pushing
    /// `sha-<commit>`.
    pub struct ImageTags {
        id: "image-tags",
        severity: Error,
        summary: "a build pushes images without both a semver and a sha-<commit> tag",
    }
}

impl crate::rules::Rule for ImageTags {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn reads_actions(&self) -> bool {
        true
    }

    fn only_if_repository_deploys(&self) -> bool {
        true
    }

    fn check_workflow(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        self.check(cx, out)
    }
}

/// Does ship's `tag-image` run after step `step` of `job`: later in the job, or in a job
/// that `needs:` it? It then adds the missing tags to what the step pushed.
fn tagged_later(cx: &WorkflowContext<'_>, job: &Job<'_>, step: usize) -> bool {
    let is_tag_image = |s: &Step<'_>| {
        s.action()
            .is_some_and(|a| is_ship_action(&a, "tag-image", cx.policy))
    };
    job.steps.iter().any(|s| s.index > step && is_tag_image(s))
        || cx.workflow.jobs.iter().any(|other| {
            other.id != job.id
                && job_needs(cx.workflow, other, job.id)
                && other.steps.iter().any(is_tag_image)
        })
}

/// Images made for CI (`ci-main`, `test-…`, build caches): their tags say so.
fn ci_image(tags: &[Tag]) -> bool {
    !tags.is_empty()
        && tags.iter().all(|t| {
            let d = t.value.describe().to_ascii_lowercase();
            ["ci-", "ci_", "test-", "cache", "buildcache"]
                .iter()
                .any(|p| d.starts_with(p))
        })
}

/// One finding: every image pushed at one place with the same tags.
struct Group {
    anchor: Span,
    images: Vec<String>,
    tags: String,
    missing: String,
    note: Option<String>,
    /// `with: KEY` and the followed file, for a problem in what a caller passes.
    via: Option<(String, String)>,
}

impl ImageTags {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        for job in &cx.workflow.jobs {
            let images = job_images(cx, job);
            let mut groups: Vec<Group> = Vec::new();
            for p in &images.pushes {
                if p.kind == PushKind::Retag || tagged_later(cx, job, p.step) {
                    continue;
                }
                let Some((tags, anchor, via)) = judged(p) else {
                    continue;
                };
                if ci_image(&tags) {
                    continue;
                }
                let Some(lack) = missing(&tags) else {
                    continue;
                };
                let missing = lack.text(&tags);
                let shown: Vec<String> = tags.iter().take(6).map(Tag::shown).collect();
                let mut tags_text = shown.join(", ");
                if tags.len() > 6 {
                    tags_text.push_str(&format!(" and {} more", tags.len() - 6));
                }
                let note = tags
                    .iter()
                    .flat_map(|t| t.kinds.iter().zip(&t.value.alternatives))
                    .find(|(k, _)| matches!(k, TagKind::Immutable(_)))
                    .map(|(k, t)| {
                        format!(
                            "`{}` is {}",
                            crate::images::value::describe_template(t),
                            k.what()
                        )
                    });
                match groups.iter_mut().find(|g| {
                    g.anchor == anchor
                        && g.tags == tags_text
                        && g.missing == missing
                        && g.via == via
                }) {
                    Some(g) => {
                        if !g.images.contains(&p.image) {
                            g.images.push(p.image.clone());
                        }
                    }
                    None => groups.push(Group {
                        anchor,
                        images: vec![p.image.clone()],
                        tags: tags_text,
                        missing,
                        note,
                        via,
                    }),
                }
            }
            for g in groups {
                let images = match g.images.as_slice() {
                    [one] if one.starts_with("the image ") => one.clone(),
                    [one] => format!("`{one}`"),
                    many => format!(
                        "{} images ({})",
                        many.len(),
                        many.iter()
                            .take(4)
                            .map(|i| format!("`{i}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let note = g.note.map(|n| format!(" ({n})")).unwrap_or_default();
                let who = if cx.is_action() {
                    "this action".to_string()
                } else {
                    format!("job `{}`", job.id)
                };
                let message = match &g.via {
                    Some((key, file)) => format!(
                        "{who} passes `{key}` to `{file}`, which pushes {images} tagged {}: {}{note}",
                        g.tags, g.missing
                    ),
                    None => format!("{who} pushes {images} tagged {}: {}{note}", g.tags, g.missing),
                };
                out.push(Diagnostic::new(
                    g.anchor,
                    message,
                    "tag every image the repository deploys `vX.Y.Z` and `sha-<commit>` (metadata-action `type=semver,pattern={{version}}` + `type=sha`; `-t IMAGE:sha-$GITHUB_SHA` with the release tag; or ship's tag-image action after the push)",
                ));
            }
        }
    }
}

/// The tags to judge, where to point, and the caller's `with:` key and followed file.
type Judged = (Vec<Tag>, Span, Option<(String, String)>);

/// The tags to judge for a push, where to point, and the caller's `with:` key and the
/// followed file when the problem is in what this file passes. `None` when the push is
/// judged in its own file (a composite action or called workflow that is wrong whatever
/// its caller passes) or this file passes nothing it is built from.
fn judged(p: &Push) -> Option<Judged> {
    let (Some(via), Some(caller_tags)) = (&p.via, &p.caller_tags) else {
        return Some((p.tags.clone(), p.anchor, None));
    };
    if missing(&p.tags).is_some() || p.inputs.is_empty() {
        return None;
    }
    let (key, anchor) = p
        .inputs
        .iter()
        .find_map(|i| p.given.iter().find(|(k, _)| k == i))
        .cloned()?;
    Some((caller_tags.clone(), anchor, Some((key, via.clone()))))
}
