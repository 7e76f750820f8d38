use crate::context::{Diagnostic, WorkflowContext};
use crate::images::job_images;
use crate::images::pushes::{Push, PushKind};
use crate::images::tags::{missing, Tag, TagKind};
use crate::model::{is_ship_action, job_needs};
use crate::rules::rule_impl;
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
    /// nothing (a public image published for its users on Docker Hub or ghcr.io) is not
    /// reported, but an image pushed to a private cloud registry (ECR, Artifact Registry,
    /// ACR…) is always for a deploy, even one started outside the workflows (an ECR push
    /// that triggers CodeDeploy). With `--workflow FILE` the files given are the repository.
    /// Retags of an image already in the same repository (promoting `:good`, `:prod`) and
    /// images whose tags say they are for CI (`ci-…`) are not builds. Where the problem is what a caller passes to
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
    ///
    /// ## Example
    /// ```yaml
    /// on: { push: { branches: [main] } }
    /// jobs:
    ///   build:
    ///     steps:
    ///       - id: info
    ///         run: echo "tag=production-$(git rev-parse --short HEAD)" >> "$GITHUB_OUTPUT"
    ///       - env: { TAG: "${{ steps.info.outputs.tag }}" }
    ///         run: |
    ///           docker build -t "$ECR/api:$TAG" -t "$ECR/api:latest" .
    ///           docker push --all-tags "$ECR/api"
    /// ```
    /// is reported: `$ECR/api` is tagged `production-<short commit>` and `latest`, no
    /// `vX.Y.Z` and no `sha-<commit>` tag. `-t "$ECR/api:sha-$GITHUB_SHA"` with
    /// `-t "$ECR/api:$GITHUB_REF_NAME"` in a workflow started by `v*` tags is not.
    pub struct ImageTags {
        id: "image-tags",
        severity: Error,
        summary: "a build pushes images without both a semver and a sha-<commit> tag",
    }
}

rule_impl!(ImageTags, workflow, actions);

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
    /// An image goes to a private cloud registry (it is for a deploy).
    private: bool,
}

/// Is the image's registry a private cloud registry (`Some(true)`: ECR, Artifact Registry,
/// ACR…), a public one users pull from (`Some(false)`: Docker Hub, ghcr.io, quay.io,
/// public.ecr.aws), or not written (`None`)?
fn private_registry(image: &str) -> Option<bool> {
    let i = image.to_ascii_lowercase();
    const PRIVATE: &[&str] = &[
        ".dkr.ecr.",
        ".azurecr.io",
        "-docker.pkg.dev",
        "gcr.io/",
        ".ocir.io",
        "registry.digitalocean.com",
        "registry.heroku.com",
        "registry.fly.io",
    ];
    const PUBLIC: &[&str] = &["docker.io/", "ghcr.io/", "quay.io/", "public.ecr.aws/"];
    if PRIVATE.iter().any(|p| i.contains(p)) {
        return Some(true);
    }
    if PUBLIC.iter().any(|p| i.starts_with(p)) {
        return Some(false);
    }
    // `org/name`: Docker Hub. A variable or expression: not written here.
    let first = i.split('/').next().unwrap_or("");
    if i.contains('$') || i.contains('<') {
        None
    } else if !first.contains('.') && !first.contains(':') && first != "localhost" {
        Some(false)
    } else {
        None
    }
}

/// Does the job log in to a private cloud registry (`aws ecr get-login-password`,
/// amazon-ecr-login, `az acr login`, `gcloud auth configure-docker`)?
fn logs_into_private_registry(job: &Job<'_>) -> bool {
    job.steps.iter().any(|s| {
        let uses = s.uses_str().unwrap_or("").to_ascii_lowercase();
        let public_ecr = s
            .with_str("registry-type")
            .is_some_and(|t| t.trim() == "public");
        let login_to = s
            .with_str("registry")
            .or_else(|| s.with_str("login-server"))
            .is_some_and(|r| private_registry(&format!("{r}/x")) == Some(true));
        (uses.starts_with("aws-actions/amazon-ecr-login") && !public_ecr)
            || ((uses.starts_with("docker/login-action") || uses.starts_with("azure/docker-login"))
                && login_to)
            || s.run_str().is_some_and(|r| {
                r.contains("aws ecr get-login-password")
                    || r.contains("az acr login")
                    || r.contains("gcloud auth configure-docker")
            })
    })
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
                let private = match private_registry(&p.key) {
                    Some(known) => known,
                    None => p.via.is_none() && logs_into_private_registry(job),
                };
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
                        g.private |= private;
                    }
                    None => groups.push(Group {
                        anchor,
                        images: vec![p.image.clone()],
                        tags: tags_text,
                        missing,
                        note,
                        via,
                        private,
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
                let d = Diagnostic::new(
                    g.anchor,
                    message,
                    "tag every image the repository deploys `vX.Y.Z` and `sha-<commit>` (metadata-action `type=semver,pattern={{version}}` + `type=sha`; `-t IMAGE:sha-$GITHUB_SHA` with the release tag; or ship's tag-image action after the push)",
                );
                // An image for a private registry is for a deploy, even one this repository's
                // workflows do not run (a push that starts CodeDeploy); another is judged only
                // where something deploys.
                out.push(if g.private {
                    d
                } else {
                    d.only_if_repository_deploys()
                });
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
