use crate::context::{Diagnostic, WorkflowContext};
use crate::images::pushes::{JobImages, PushKind};
use crate::images::tags::{Tag, TagKind};
use crate::images::value::{At, Origin, Part, Scope, Value};
use crate::images::{image_tag, is_image_key, is_image_tag_key, job_images, ImageTag};
use crate::model::{job_needs, StepRole};
use crate::rules::rule_impl;
use regex::Regex;
use ship_workflow::{Job, Node};
use std::sync::LazyLock;

declare_rule! {
    /// ## What it reports
    /// A production deploy (a job whose target environment is production) that deploys an
    /// image by a tag that moves:
    ///
    /// - `latest` (or another tag of the policy's `images.forbidden-tags`), or an image with
    ///   no tag at all (which is `latest`), in what the deploy is given: image and tag
    ///   inputs of its steps (`image`, `image-uri`, `image-tag`, `docker-tag`, `tag`…), the
    ///   `with:` of a reusable deploy workflow it calls, `IMAGE_TAG`-like env vars, and
    ///   `name:latest` in its deploy commands. Values are read where the file defines them
    ///   (`${{ env.IMAGE }}`, `$TAG`, step and job outputs, inputs).
    /// - A tag that a pull request number or a branch name makes: the pull request's tag is
    ///   reused by every push to it, the branch's by every merge.
    /// - A manual-run input whose default is `latest` and that feeds the deployed image; a
    ///   reusable workflow's input default of `latest` when a caller in the repository
    ///   leaves it to the default (not when every caller passes a tag).
    /// - An image pushed with a moving tag and then rolled out as is, by a forced new
    ///   deployment of the same task definition (`aws ecs update-service
    ///   --force-new-deployment` without `--task-definition`, rust-lang/simpleinfra
    ///   `upload-docker-image` with `redeploy_ecs_service`, `kubectl rollout restart`): the
    ///   service then runs whatever the moving tag points to. Composite actions are read;
    ///   the finding points at the step that uses them.
    /// - A promotion that production deploys (a retag or copy in the deploy job or a job it
    ///   needs) whose source is a moving tag (`target: test`): production gets whatever that
    ///   tag pointed to, not the image built from the released commit.
    ///
    /// Not reported: an immutable per-commit or per-run tag (`sha-<commit>`, the bare SHA,
    /// `git-<sha>`, `latest-<run number>`), a pinned upstream version
    /// (`stunnel:5.72-r0-alpine-3.19.1`), a tag chosen at run time that the file cannot know,
    /// and `latest` pushed, scanned or deployed outside production.
    ///
    /// ## Why
    /// `latest` moves. The task definition says `latest`, so a scaled-out or restarted
    /// task silently runs whatever was pushed last; a rollback to "the previous task
    /// definition" rolls back to the same `latest`. Production runs immutable
    /// `vMAJOR.MINOR.PATCH` or `sha-<commit>` tags only.
    ///
    /// ## How to fix
    /// Deploy the release tag: `image: 123.dkr.ecr.us-east-1.amazonaws.com/api:${{ inputs.version }}`,
    /// with a required `version` input and no `latest` default; render a new task definition
    /// with that image (`aws-actions/amazon-ecs-render-task-definition`) instead of forcing a
    /// new deployment of `latest`.
    ///
    /// ## Example
    /// ```yaml
    /// on: { push: { tags: ["v*"] } }
    /// jobs:
    ///   ship:
    ///     environment: production
    ///     steps:
    ///       - run: |
    ///           docker build -t "$ECR/api:latest" . && docker push "$ECR/api:latest"
    ///           aws ecs update-service --cluster prod --service api --force-new-deployment
    /// ```
    /// is reported at the push: the forced deployment restarts the same task definition,
    /// which runs whatever `latest` is. So is `tag: ${{ needs.pr.outputs.number }}` given to a
    /// production deploy workflow, and a release job that promotes `target: test`. A deploy
    /// of `…/api:sha-${{ github.sha }}`, or of `stunnel:5.72-r0-alpine-3.19.1`, is not.
    pub struct MutableImageTag {
        id: "mutable-image-tag",
        severity: Error,
        summary: "production deploys an image by a mutable tag such as `latest`",
    }
}
rule_impl!(MutableImageTag, workflow);

static SCRIPT_IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9][A-Za-z0-9._\-/]*(:[0-9]+)?/[A-Za-z0-9._\-/]*:([A-Za-z0-9._\-]+)")
        .unwrap()
});

/// `with:` keys that name the tag a deploy runs.
fn is_tag_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace('_', "-");
    is_image_tag_key(&k)
        || matches!(
            k.as_str(),
            "tag" | "docker-tag" | "container-tag" | "containers-tag" | "image-version"
        )
}

/// A tag that moves, as a message says it, when one alternative of `tag` does; literal
/// words only when the policy forbids them (a fixed word may name a pinned upstream
/// image).
fn moving(tag: &Tag) -> Option<(String, String)> {
    tag.kinds
        .iter()
        .zip(&tag.value.alternatives)
        .find(|(k, t)| match k {
            TagKind::Forbidden(_) => true,
            TagKind::Moving(_) => t.iter().any(|p| {
                matches!(
                    p,
                    Part::Known(Origin::PrNumber | Origin::Branch | Origin::FullRef)
                )
            }),
            _ => false,
        })
        .map(|(k, t)| (crate::images::value::describe_template(t), k.what()))
}

struct Found {
    out: Vec<Diagnostic>,
}

impl Found {
    fn push(&mut self, d: Diagnostic) {
        if !self.out.iter().any(|o| o.span == d.span) {
            self.out.push(d);
        }
    }
}

impl MutableImageTag {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let production: Vec<usize> = cx
            .jobs()
            .enumerate()
            .filter(|(_, (_, f))| {
                f.is_deploy()
                    && f.target_environment()
                        .is_some_and(|n| cx.policy.is_production(n))
            })
            .map(|(i, _)| i)
            .collect();
        if production.is_empty() {
            return;
        }
        let images: Vec<JobImages> = cx.workflow.jobs.iter().map(|j| job_images(cx, j)).collect();
        let mut found = Found { out: Vec::new() };
        for i in production {
            let job = &cx.workflow.jobs[i];
            self.values(cx, job, i, &images[i], &mut found);
            self.scripts(cx, job, i, &mut found);
            self.redeployed(cx, job, i, &images, &mut found);
            self.promoted(cx, job, i, &images, &mut found);
        }
        out.extend(found.out);
    }

    /// Image and tag values the deploy job is given.
    fn values(
        &self,
        cx: &WorkflowContext<'_>,
        job: &Job<'_>,
        index: usize,
        images: &JobImages,
        found: &mut Found,
    ) {
        let facts = &cx.facts.jobs[index];
        let scope = Scope::new(cx.workflow, job, false, None);
        let forbidden = &cx.policy.policy.images.forbidden_tags;
        let deploy_step = |i: usize| {
            facts.roles.iter().any(|r| {
                r.step == i
                    && matches!(
                        r.role,
                        StepRole::Rollout | StepRole::Migrations | StepRole::Rollback
                    )
            })
        };
        // (map, where its values are read, is it an action's input, may `tag:` be read)
        let mut maps: Vec<(&Node, At, bool, bool)> = Vec::new();
        maps.extend(cx.workflow.env.map(|m| (m, At::default(), false, false)));
        maps.extend(job.env.map(|m| (m, At::default(), false, false)));
        maps.extend(job.with.map(|m| (m, At::default(), true, true)));
        for step in &job.steps {
            // A step that pushes: its `image:` is the image it uploads, not a deploy.
            if images
                .pushes
                .iter()
                .any(|p| p.step == step.index && p.via.is_none())
            {
                continue;
            }
            // What a deploy step (or the task definition it deploys) is given; a scan, a
            // signature or a test of an image deploys nothing.
            let renders = step
                .uses_str()
                .is_some_and(|u| u.to_ascii_lowercase().contains("task-definition"));
            if !deploy_step(step.index) && !renders {
                continue;
            }
            let at = At::step(step.index);
            maps.extend(step.with.map(|m| (m, at, true, true)));
            maps.extend(step.env.map(|m| (m, at, false, false)));
        }
        for (map, at, action_input, tag_keys) in maps {
            for e in map.as_map().unwrap_or_default() {
                let (Some(key), Some(text)) = (e.key.as_str(), e.value.as_str()) else {
                    continue;
                };
                let image_key = is_image_key(key);
                let tag_key = if action_input {
                    tag_keys && is_tag_key(key)
                } else {
                    is_image_tag_key(key)
                };
                if !image_key && !tag_key {
                    continue;
                }
                if let Some(d) = self.input_default(cx, job, text) {
                    found.push(d);
                    continue;
                }
                let value = scope.text(text, at);
                let as_reference = image_key || text.contains('/') || text.contains(':');
                if as_reference {
                    for t in &value.alternatives {
                        let written = crate::images::value::describe_template(t);
                        match image_tag(&written) {
                            ImageTag::Literal(tag) if forbidden.contains(&tag) => {
                                found.push(Diagnostic::new(
                                    e.value.span,
                                    format!(
                                        "production deploy job `{}` deploys {}, a mutable tag",
                                        job.id,
                                        shown(text, &written)
                                    ),
                                    "deploy an immutable release tag, e.g. `…/api:${{ inputs.version }}`",
                                ));
                                break;
                            }
                            // An image without a tag is `latest`; env vars often name only
                            // the repository, so only an action input is judged.
                            ImageTag::Missing
                                if action_input
                                    && image_key
                                    && !key.eq_ignore_ascii_case("image-name")
                                    && !key.eq_ignore_ascii_case("image_name") =>
                            {
                                found.push(Diagnostic::new(
                                    e.value.span,
                                    format!(
                                        "production deploy job `{}` deploys {} without a tag, which means `latest`",
                                        job.id,
                                        shown(text, &written)
                                    ),
                                    "add the release tag: `…:vX.Y.Z` or `…:${{ inputs.version }}`",
                                ));
                                break;
                            }
                            _ => {}
                        }
                    }
                    // A tag made from a pull request number or a branch.
                    let tags: Vec<Value> = value
                        .alternatives
                        .iter()
                        .filter_map(|t| tag_part(t))
                        .collect();
                    for v in tags {
                        let tag = Tag::of(v, forbidden);
                        if let Some((what, why)) =
                            moving(&tag).filter(|(w, _)| !forbidden.iter().any(|f| f == w))
                        {
                            found.push(Diagnostic::new(
                                e.value.span,
                                format!(
                                    "production deploy job `{}` deploys the tag `{what}`, {why}",
                                    job.id
                                ),
                                "deploy an immutable release tag (`vX.Y.Z` or `sha-<commit>`)",
                            ));
                            break;
                        }
                    }
                    continue;
                }
                let tag = Tag::of(value, forbidden);
                if let Some((what, why)) = moving(&tag) {
                    let message = if forbidden.contains(&what) {
                        format!(
                            "production deploy job `{}` deploys image tag `{what}`",
                            job.id
                        )
                    } else {
                        format!(
                            "production deploy job `{}` deploys the tag `{what}` (`{}`), {why}",
                            job.id,
                            text.trim()
                        )
                    };
                    found.push(Diagnostic::new(
                        e.value.span,
                        message,
                        "deploy an immutable release tag (`vX.Y.Z` or `sha-<commit>`)",
                    ));
                }
            }
        }
    }

    /// `name:latest` in the job's deploy commands.
    fn scripts(&self, cx: &WorkflowContext<'_>, job: &Job<'_>, index: usize, found: &mut Found) {
        let facts = &cx.facts.jobs[index];
        let forbidden = &cx.policy.policy.images.forbidden_tags;
        for step in &job.steps {
            let Some(run) = step.run else { continue };
            let Some(script) = run.as_str() else { continue };
            // Deploy commands only: a push of `latest` next to an immutable tag is not a
            // deploy of `latest` (a redeploy of it is, see `redeployed`).
            if !facts.roles.iter().any(|r| {
                r.step == step.index
                    && matches!(
                        r.role,
                        StepRole::Rollout | StepRole::Migrations | StepRole::Rollback
                    )
            }) {
                continue;
            }
            let script = crate::model::strip_shell_comments(script);
            for caps in SCRIPT_IMAGE.captures_iter(&script) {
                let tag = &caps[2];
                if !forbidden.iter().any(|f| f == tag) {
                    continue;
                }
                let whole = &caps[0];
                let nth = script[..caps.get(0).map_or(0, |m| m.start())]
                    .matches(whole)
                    .count();
                let span = cx
                    .source
                    .find_nth_in_span(run.span, whole, nth)
                    .unwrap_or(run.span);
                found.push(Diagnostic::new(
                    span,
                    format!(
                        "production deploy job `{}` uses image `{whole}`, a mutable tag",
                        job.id
                    ),
                    "use the release tag (`vX.Y.Z` or `sha-<commit>`) instead",
                ));
            }
        }
    }

    /// A moving tag pushed by the job (or a job it needs) and rolled out as is.
    fn redeployed(
        &self,
        cx: &WorkflowContext<'_>,
        job: &Job<'_>,
        index: usize,
        images: &[JobImages],
        found: &mut Found,
    ) {
        let Some(redeploy) = images[index].redeploys.first() else {
            return;
        };
        let how = match &redeploy.via {
            Some(path) => format!("{} at {path} line {}", redeploy.what, redeploy.line),
            None => format!("{} at line {}", redeploy.what, redeploy.line),
        };
        for (k, other) in cx.workflow.jobs.iter().enumerate() {
            if k != index && !job_needs(cx.workflow, job, other.id) {
                continue;
            }
            for p in &images[k].pushes {
                let tags = p.caller_tags.as_ref().unwrap_or(&p.tags);
                let Some((_, what)) = tags.iter().find_map(|t| t.mutable()) else {
                    continue;
                };
                let by = match &p.via {
                    Some(path) if k == index => format!("runs `{path}`, which pushes"),
                    Some(path) => {
                        format!("needs job `{}`, which runs `{path}` and pushes", other.id)
                    }
                    None if k == index => "pushes".to_string(),
                    None => format!("needs job `{}`, which pushes", other.id),
                };
                found.push(Diagnostic::new(
                    p.push_anchor,
                    format!(
                        "production deploy job `{}` {by} `{}:{what}` and redeploys the service as is ({how}): production runs whatever `{what}` points to",
                        job.id, p.image
                    ),
                    "push an immutable tag (`sha-<commit>`, `vX.Y.Z`) and deploy a task definition that names it (amazon-ecs-render-task-definition + amazon-ecs-deploy-task-definition, or ship's ecs-rollout)",
                ));
            }
        }
    }

    /// A retag or copy that production deploys, from a tag that moves.
    fn promoted(
        &self,
        cx: &WorkflowContext<'_>,
        job: &Job<'_>,
        index: usize,
        images: &[JobImages],
        found: &mut Found,
    ) {
        for (k, other) in cx.workflow.jobs.iter().enumerate() {
            if k != index && !job_needs(cx.workflow, job, other.id) {
                continue;
            }
            for p in &images[k].pushes {
                // Sources written in a followed file depend on its caller: not judged here.
                if p.via.is_some() || p.kind == PushKind::Build {
                    continue;
                }
                let Some((source, span)) = &p.source else {
                    continue;
                };
                let Some((kind, what)) = source.mutable() else {
                    continue;
                };
                let why = kind.what();
                let in_job = if k == index {
                    String::new()
                } else {
                    format!(" (job `{}`)", other.id)
                };
                found.push(Diagnostic::new(
                    *span,
                    format!(
                        "production deploy job `{}` deploys `{}` promoted{in_job} from `{what}`, {why}: production gets whatever `{what}` pointed to, not an image built from the release",
                        job.id, p.image
                    ),
                    "promote an immutable tag (`sha-<commit>` of the released commit, or the version built for it)",
                ));
            }
        }
    }

    /// A workflow input with a forbidden default that feeds `text`: a manual run's input
    /// (its default is used whenever nobody types one), or a reusable workflow's input
    /// that a caller in this repository leaves to its default.
    fn input_default(
        &self,
        cx: &WorkflowContext<'_>,
        job: &Job<'_>,
        text: &str,
    ) -> Option<Diagnostic> {
        let forbidden = &cx.policy.policy.images.forbidden_tags;
        let is_forbidden = |v: &str| {
            forbidden.iter().any(|f| f == v)
                || matches!(image_tag(v), ImageTag::Literal(t) if forbidden.contains(&t))
        };
        for event in ["workflow_dispatch", "workflow_call"] {
            let Some(trigger) = cx.workflow.trigger(event) else {
                continue;
            };
            for input in trigger.inputs() {
                let named = [
                    format!("inputs.{}", input.name),
                    format!("github.event.inputs.{}", input.name),
                ];
                if !named.iter().any(|n| text.contains(n.as_str())) {
                    continue;
                }
                let Some(default) = input.default else {
                    continue;
                };
                let Some(value) = default.as_str().map(str::trim) else {
                    continue;
                };
                if !is_forbidden(value) {
                    continue;
                }
                if event == "workflow_call" {
                    // Used only when a caller leaves it out.
                    let callers = cx.repo.callers_of(cx.path);
                    if callers.is_empty()
                        || callers
                            .iter()
                            .all(|c| c.with.iter().any(|(k, _)| k == input.name))
                    {
                        continue;
                    }
                }
                return Some(Diagnostic::new(
                    default.span,
                    format!(
                        "input `{}` defaults to `{value}` and feeds the image of production deploy job `{}`",
                        input.name, job.id
                    ),
                    "remove the default and make the input required, so every run names a release",
                ));
            }
        }
        None
    }
}

/// The tag part of a reference template (after the last `:` past the last `/`).
fn tag_part(t: &[Part]) -> Option<Value> {
    let mut slash_seen_at: Option<usize> = None;
    for (i, p) in t.iter().enumerate() {
        if let Part::Lit(l) = p {
            if l.contains('/') {
                slash_seen_at = Some(i);
            }
        }
    }
    for (i, p) in t.iter().enumerate().rev() {
        if slash_seen_at.is_some_and(|s| i < s) {
            break;
        }
        if let Part::Lit(l) = p {
            let from = if Some(i) == slash_seen_at {
                l.rfind('/').map(|x| x + 1).unwrap_or(0)
            } else {
                0
            };
            if let Some(c) = l[from..].rfind(':') {
                let mut tag = Vec::new();
                let rest = &l[from + c + 1..];
                if !rest.is_empty() {
                    tag.push(Part::Lit(rest.to_string()));
                }
                tag.extend(t[i + 1..].iter().cloned());
                return (!tag.is_empty()).then_some(Value {
                    alternatives: vec![tag],
                });
            }
        }
    }
    None
}

/// The value as written, and what it is when that differs (`${{ env.IMAGE }}` → the image).
fn shown(text: &str, resolved: &str) -> String {
    let text = text.trim();
    if text == resolved {
        format!("`{text}`")
    } else {
        format!("`{text}` (`{resolved}`)")
    }
}
