use crate::context::{Diagnostic, WorkflowContext};
use crate::model::branch_filter_covers;
use crate::rules::rule_impl;
use ship_policy::TriggerKind;
use ship_workflow::Trigger;

declare_rule! {
    /// ## What it reports
    /// A deploy started by an event the policy does not allow for its environment:
    /// - production: only `workflow_dispatch` or a push of a release tag (`release-tags`,
    ///   default `v*`);
    /// - staging: only a push to the production branch or `workflow_dispatch`;
    /// - any environment: never `pull_request` or `pull_request_target`.
    ///
    /// The allowed triggers per environment are `environments.<name>.triggers` in the
    /// policy. `workflow_call` is always allowed: a job that calls a reusable workflow of the
    /// repository (`uses: ./.github/workflows/deploy.yml`) deploys where the callee does, with
    /// the environment its `with:` picks, and is checked against its own workflow's triggers.
    ///
    /// ## Why
    /// A production deploy on every push to `main` skips the release step (version, review,
    /// environment approval); a deploy on a pull request runs unreviewed code with deploy
    /// credentials.
    ///
    /// ## How to fix
    /// Move the deploy to a workflow with the allowed triggers, e.g. for production:
    ///
    /// ```yaml
    /// on:
    ///   workflow_dispatch:
    ///     inputs:
    ///       version: { description: "vX.Y.Z to deploy", required: true }
    ///   push:
    ///     tags: ["v*"]
    /// ```
    pub struct DeployTrigger {
        id: "deploy-trigger",
        severity: Error,
        summary: "a deploy is triggered by an event its environment does not allow",
    }
}
rule_impl!(DeployTrigger, workflow);

/// What a trigger amounts to in policy terms, with the node to point at and how to name it
/// in a message; empty for events that never deploy alone.
fn classify<'a>(
    cx: &WorkflowContext<'_>,
    t: &Trigger<'a>,
) -> Vec<(TriggerKind, &'a ship_workflow::Node, String)> {
    let policy = cx.policy;
    let one = |kind: TriggerKind| vec![(kind, t.key, kind.describe().to_string())];
    match t.event {
        "workflow_dispatch" => one(TriggerKind::WorkflowDispatch),
        "release" => one(TriggerKind::Release),
        "schedule" => one(TriggerKind::Schedule),
        "workflow_run" => one(TriggerKind::WorkflowRun),
        "repository_dispatch" => one(TriggerKind::RepositoryDispatch),
        "merge_group" => one(TriggerKind::MergeGroup),
        "push" => {
            let mut kinds = Vec::new();
            let has_branch_filter =
                t.filter("branches").is_some() || t.filter("branches-ignore").is_some();
            let has_tag_filter = t.filter("tags").is_some() || t.filter("tags-ignore").is_some();
            // Branch pushes run when there is a branch filter, or no filter at all.
            if has_branch_filter || !has_tag_filter {
                let node = t.filter("branches").unwrap_or(t.key);
                let prod = &policy.policy.production_branch;
                if branch_filter_covers(t.config, prod) {
                    let kind = TriggerKind::PushProductionBranch;
                    kinds.push((kind, node, kind.describe().to_string()));
                }
                let other_branches = match t.filter("branches") {
                    Some(b) => b
                        .str_items()
                        .iter()
                        .filter_map(|n| n.as_str())
                        .any(|p| !p.starts_with('!') && p != prod.as_str()),
                    None => true,
                };
                if other_branches {
                    let kind = TriggerKind::Push;
                    kinds.push((kind, node, kind.describe().to_string()));
                }
            }
            if has_tag_filter || !has_branch_filter {
                match t.filter("tags") {
                    Some(tags) => {
                        for p in tags.str_items() {
                            let pattern = p.as_str().unwrap_or("");
                            if pattern.starts_with('!') {
                                continue;
                            }
                            if policy.pattern_within_release_tags(pattern) {
                                let kind = TriggerKind::ReleaseTag;
                                kinds.push((kind, p, kind.describe().to_string()));
                            } else {
                                // Not a release tag, and not a branch either.
                                kinds.push((
                                    TriggerKind::Push,
                                    p,
                                    format!("a push of tags matching `{pattern}` (not only release tags)"),
                                ));
                            }
                        }
                    }
                    // Every tag push, release or not.
                    None => kinds.push((TriggerKind::Push, t.key, "a push of any tag".to_string())),
                }
            }
            kinds
        }
        _ => Vec::new(),
    }
}

impl DeployTrigger {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let deploys: Vec<_> = cx.deploy_jobs().collect();
        if deploys.is_empty() {
            return;
        }
        // Pull requests deploy only where the policy allows it (per-PR preview stacks).
        let allows_pull_requests = |facts: &crate::model::JobFacts| {
            facts
                .target_environment()
                .and_then(|n| cx.policy.environment(n))
                .is_some_and(|e| e.policy.triggers.contains(&TriggerKind::PullRequest))
        };
        for t in &cx.workflow.triggers {
            if t.event == "pull_request" || t.event == "pull_request_target" {
                let Some((job, facts)) = deploys.iter().find(|(_, f)| !allows_pull_requests(f))
                else {
                    continue;
                };
                out.push(Diagnostic::new(
                    t.key.span,
                    format!(
                        "`{}` triggers deploy job `{}`{}: pull requests must never deploy",
                        t.event,
                        job.id,
                        facts.because(cx.path)
                    ),
                    "run pull-request CI in its own workflow and deploy from `main` or a release tag",
                ));
            }
        }
        let mut reported = Vec::new();
        for (job, facts) in &deploys {
            let Some(env_name) = facts.target_environment() else {
                continue;
            };
            let Some(env) = cx.policy.environment(env_name) else {
                continue;
            };
            let allowed = &env.policy.triggers;
            for t in &cx.workflow.triggers {
                if matches!(
                    t.event,
                    "pull_request" | "pull_request_target" | "workflow_call"
                ) {
                    continue;
                }
                for (kind, node, described) in classify(cx, t) {
                    if allowed.contains(&kind) || reported.contains(&(node.span, env_name)) {
                        continue;
                    }
                    reported.push((node.span, env_name));
                    let allowed_text: Vec<&str> = allowed.iter().map(|k| k.describe()).collect();
                    out.push(Diagnostic::new(
                        node.span,
                        format!(
                            "{described} deploys job `{}` to `{env_name}`{}, which allows only {}{}",
                            job.id,
                            inferred_note(facts),
                            if allowed_text.is_empty() { "no trigger".to_string() } else { allowed_text.join(" or ") },
                            facts.because(cx.path)
                        ),
                        if cx.policy.is_production(env_name) {
                            format!(
                                "deploy to `{env_name}` with `workflow_dispatch` (a `version` input) or a push of tags matching `{}`",
                                cx.policy.policy.release_tags
                            )
                        } else {
                            format!("change the trigger, or allow it in the policy under `environments.{env_name}.triggers`")
                        },
                    ));
                }
            }
        }
    }
}

/// ` (inferred from job `deploy-prod`)` when the environment was read from names.
pub(crate) fn inferred_note(facts: &crate::model::JobFacts) -> String {
    match &facts.target {
        crate::model::Target::Known {
            inferred: true,
            how,
            ..
        } => format!(" (inferred from {how})"),
        _ => String::new(),
    }
}
