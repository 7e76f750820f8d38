use crate::context::{Diagnostic, WorkflowContext};
use crate::images::{image_tag, is_image_key, is_image_tag_key, pushed_tags, ImageTag};
use crate::model::StepRole;
use crate::rules::rule_impl;
use regex::Regex;
use ship_workflow::{Job, Node, Span};
use std::sync::LazyLock;

declare_rule! {
    /// ## What it reports
    /// - In a production deploy job: an image reference whose tag is `latest` (or another
    ///   tag in the policy's `images.forbidden-tags`), an image with no tag at all (which
    ///   means `latest`), or one fed by a `workflow_dispatch` input whose default is
    ///   `latest`. Image references are `image`-like inputs and env vars (`image`,
    ///   `image-uri`, `IMAGE`, `image-tag`…) and `name:latest` in scripts. An env var with
    ///   no tag is reported only where an action input deploys it whole
    ///   (`image: ${{ env.IMAGE }}`): env vars often name the repository and get their tag
    ///   where they are used.
    /// - In any workflow: a build that pushes only `latest`.
    ///
    /// ## Why
    /// `latest` moves. The task definition says `latest`, so a scaled-out or restarted
    /// task silently runs whatever was pushed last; a rollback to "the previous task
    /// definition" rolls back to the same `latest`. Production runs immutable
    /// `vMAJOR.MINOR.PATCH` or `sha-<commit>` tags only.
    ///
    /// ## How to fix
    /// Deploy the release tag: `image: 123.dkr.ecr.us-east-1.amazonaws.com/api:${{ inputs.version }}`,
    /// with a required `version` input and no `latest` default.
    pub struct MutableImageTag {
        id: "mutable-image-tag",
        severity: Error,
        summary: "production deploys an image by a mutable tag such as `latest`",
    }
}
rule_impl!(MutableImageTag, workflow);

/// A value that is exactly one env var: `${{ env.NAME }}`.
static ENV_REF: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}$").unwrap());

static SCRIPT_IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9][A-Za-z0-9._\-/]*(:[0-9]+)?/[A-Za-z0-9._\-/]*:([A-Za-z0-9._\-]+)")
        .unwrap()
});

impl MutableImageTag {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let forbidden = &cx.policy.policy.images.forbidden_tags;
        let is_forbidden = |t: &str| forbidden.iter().any(|f| f == t);

        // A build that pushes only forbidden tags, anywhere.
        for job in &cx.workflow.jobs {
            for step in &job.steps {
                let Some(pushed) = pushed_tags(job, step, cx.policy) else {
                    continue;
                };
                if pushed.ship_tag_image || !pushed.kinds.is_empty() {
                    continue;
                }
                let literal = pushed.literal_tags();
                if !literal.is_empty()
                    && literal.len() == pushed.tags.len()
                    && literal.iter().all(|t| is_forbidden(t))
                {
                    out.push(Diagnostic::new(
                        pushed.node.span,
                        format!("this build pushes only `{}`", literal[0]),
                        "push immutable tags: `vX.Y.Z` and `sha-<commit>` (ship's tag-image action does both)",
                    ));
                }
            }
        }

        for (job, facts) in cx.deploy_jobs() {
            if !facts
                .target_environment()
                .is_some_and(|n| cx.policy.is_production(n))
            {
                continue;
            }
            // `env_scope` is `None` for an env var itself, else the env maps (innermost
            // first) an action input's `${{ env.NAME }}` reads.
            let mut check_value = |key: &str, value: &Node, env_scope: Option<&[Option<&Node>]>| {
                let Some(text) = value.as_str() else { return };
                if is_image_tag_key(key) {
                    if is_forbidden(text.trim()) {
                        out.push(Diagnostic::new(
                            value.span,
                            format!(
                                "production deploy job `{}` deploys image tag `{}`",
                                job.id,
                                text.trim()
                            ),
                            "deploy an immutable release tag (`vX.Y.Z` or `sha-<commit>`)",
                        ));
                    } else if let Some(d) = self.dispatch_default(cx, job, text, &is_forbidden) {
                        out.push(d);
                    }
                    return;
                }
                if !is_image_key(key) {
                    return;
                }
                match image_tag(text) {
                    ImageTag::Literal(tag) if is_forbidden(&tag) => out.push(Diagnostic::new(
                        value.span,
                        format!("production deploy job `{}` deploys `{}`, a mutable tag", job.id, text.trim()),
                        "deploy an immutable release tag, e.g. `…/api:${{ inputs.version }}`",
                    )),
                    // An env var often names the image *repository* and gets its tag where
                    // it is used (`${{ env.IMAGE }}:${{ inputs.version }}`): only an action
                    // input is known to deploy the value as it is.
                    ImageTag::Missing if env_scope.is_some() => out.push(Diagnostic::new(
                        value.span,
                        format!("production deploy job `{}` deploys `{}` without a tag, which means `latest`", job.id, text.trim()),
                        "add the release tag: `…:vX.Y.Z` or `…:${{ inputs.version }}`",
                    )),
                    ImageTag::Dynamic(_) => {
                        // `image: ${{ env.IMAGE }}` deploys that env var's value as it is.
                        let env_value = env_scope.zip(ENV_REF.captures(text.trim())).and_then(|(scope, caps)| {
                            scope.iter().flatten().find_map(|env| env.get(&caps[1]))
                        });
                        if let Some(v) = env_value.and_then(|v| v.as_str()) {
                            if image_tag(v) == ImageTag::Missing {
                                out.push(Diagnostic::new(
                                    value.span,
                                    format!("production deploy job `{}` deploys `{}` (`{}`) without a tag, which means `latest`", job.id, text.trim(), v.trim()),
                                    "add the release tag: `…:vX.Y.Z` or `…:${{ inputs.version }}`",
                                ));
                                return;
                            }
                        }
                        if let Some(d) = self.dispatch_default(cx, job, text, &is_forbidden) {
                            out.push(d);
                        }
                    }
                    _ => {}
                }
            };
            let mut maps: Vec<(&Node, Option<[Option<&Node>; 3]>)> = Vec::new();
            maps.extend(cx.workflow.env.map(|m| (m, None)));
            maps.extend(job.env.map(|m| (m, None)));
            for step in &job.steps {
                maps.extend(
                    step.with
                        .map(|m| (m, Some([step.env, job.env, cx.workflow.env]))),
                );
                maps.extend(step.env.map(|m| (m, None)));
            }
            for (map, env_scope) in maps {
                for e in map.as_map().unwrap_or_default() {
                    if let Some(k) = e.key.as_str() {
                        check_value(k, &e.value, env_scope.as_ref().map(|s| s.as_slice()));
                    }
                }
            }
            // `repo:latest` in the job's deploy scripts.
            for step in &job.steps {
                let Some(run) = step.run else { continue };
                let Some(script) = run.as_str() else { continue };
                if !facts
                    .roles
                    .iter()
                    .any(|r| r.step == step.index && r.role != StepRole::SmokeTest)
                {
                    continue;
                }
                for caps in SCRIPT_IMAGE.captures_iter(script) {
                    let tag = &caps[2];
                    if is_forbidden(tag) {
                        let whole = &caps[0];
                        let span = cx
                            .source
                            .find_nth_in_span(
                                run.span,
                                whole,
                                script[..caps.get(0).map_or(0, |m| m.start())]
                                    .matches(whole)
                                    .count(),
                            )
                            .unwrap_or(run.span);
                        out.push(Diagnostic::new(
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
        }
    }

    /// A dispatch input feeding `text` whose default is a forbidden tag.
    fn dispatch_default(
        &self,
        cx: &WorkflowContext<'_>,
        job: &Job<'_>,
        text: &str,
        is_forbidden: &dyn Fn(&str) -> bool,
    ) -> Option<Diagnostic> {
        let dispatch = cx.workflow.trigger("workflow_dispatch")?;
        for input in dispatch.inputs() {
            let named = [
                format!("inputs.{}", input.name),
                format!("github.event.inputs.{}", input.name),
            ];
            if !named.iter().any(|n| text.contains(n.as_str())) {
                continue;
            }
            let default = input.default?;
            let value = default.as_str()?.trim();
            let bad = is_forbidden(value)
                || matches!(image_tag(value), ImageTag::Literal(t) if is_forbidden(&t));
            if bad {
                let span: Span = default.span;
                return Some(Diagnostic::new(
                    span,
                    format!(
                        "input `{}` defaults to `{value}` and feeds the image of production deploy job `{}`",
                        input.name, job.id
                    ),
                    "remove the default and make the input required, so every dispatch names a release",
                ));
            }
        }
        None
    }
}
