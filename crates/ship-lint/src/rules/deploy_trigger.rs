use crate::context::{Diagnostic, WorkflowContext};
use crate::model::{branch_filter_covers, JobFacts, StepRole};
use crate::rules::rule_impl;
use regex::Regex;
use ship_policy::TriggerKind;
use ship_workflow::{Job, Node, Trigger};
use std::sync::LazyLock;

declare_rule! {
    /// ## What it reports
    /// A deploy started by an event the policy does not allow for its environment:
    /// - production: `workflow_dispatch`, a push of a release tag (`release-tags`, default
    ///   `v*`; semver-shaped tag patterns such as `[0-9]+.[0-9]+.[0-9]+` count too) or a
    ///   published release;
    /// - staging: a push to the production branch or `workflow_dispatch`;
    /// - development: any push, schedule or dispatch; preview stacks: pull requests too;
    /// - any other environment: never `pull_request` or `pull_request_target`.
    ///
    /// The events that can start the deploy are the workflow's, narrowed by the job's and
    /// the deploy step's `if:` (`github.event_name == 'merge_group'`,
    /// `github.ref == 'refs/heads/main'`, `startsWith(github.ref, 'refs/tags/')`); the
    /// finding then points at that `if:`. The environment is the one the job really deploys
    /// to (see `ship deploys`); when it is read from names, the message says so.
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

/// What `if:` conditions say about the events and refs a job (or step) runs for.
#[derive(Default, Clone)]
struct RunsFor {
    /// Only these events (`github.event_name == 'x'`), when any are named.
    events: Vec<String>,
    /// Never these events (`github.event_name != 'x'`).
    not_events: Vec<String>,
    /// Only this branch (`github.ref == 'refs/heads/b'`, `github.ref_name == 'b'`).
    branch: Option<String>,
    /// Only tags (`startsWith(github.ref, 'refs/tags/')`, `github.ref_type == 'tag'`).
    tags_only: bool,
    /// The `if:` node that narrowed the events, to point at.
    node: Option<Span>,
}

use ship_workflow::Span;

static EVENT_CMP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"github\.event_name\s*(==|!=)\s*['"]([a-z_]+)['"]"#).unwrap());
static BRANCH_CMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"github\.ref(?:_name)?\s*==\s*['"](?:refs/heads/)?([^'"]+)['"]"#).unwrap()
});

impl RunsFor {
    fn read(cond: Option<&Node>) -> RunsFor {
        let Some(node) = cond else {
            return RunsFor::default();
        };
        let Some(text) = node.as_str() else {
            return RunsFor::default();
        };
        let mut r = RunsFor::default();
        for c in EVENT_CMP.captures_iter(text) {
            if &c[1] == "==" {
                r.events.push(c[2].to_string());
            } else {
                r.not_events.push(c[2].to_string());
            }
        }
        // A branch test joined with `||` (or next to other refs) is not a restriction.
        let branches: Vec<String> = BRANCH_CMP
            .captures_iter(text)
            .map(|c| c[1].to_string())
            .filter(|b| !b.starts_with("refs/"))
            .collect();
        if branches.len() == 1 && !text.contains("||") {
            r.branch = branches.into_iter().next();
        }
        if text.contains("startsWith(github.ref, 'refs/tags/')")
            || text.contains("github.ref_type == 'tag'")
        {
            r.tags_only = !text.contains("||");
        }
        if !r.events.is_empty() || !r.not_events.is_empty() || r.branch.is_some() || r.tags_only {
            r.node = Some(node.span);
        }
        r
    }

    /// Both conditions hold (a job's and its step's).
    fn and(mut self, other: RunsFor) -> RunsFor {
        if !other.events.is_empty() {
            self.events = if self.events.is_empty() {
                other.events
            } else {
                self.events
                    .into_iter()
                    .filter(|e| other.events.contains(e))
                    .collect()
            };
        }
        self.not_events.extend(other.not_events);
        self.branch = other.branch.or(self.branch);
        self.tags_only |= other.tags_only;
        self.node = other.node.or(self.node);
        self
    }

    fn allows_event(&self, event: &str) -> bool {
        (self.events.is_empty() || self.events.iter().any(|e| e == event))
            && !self.not_events.iter().any(|e| e == event)
    }
}

/// What a trigger amounts to in policy terms, with the node to point at and how to name it
/// in a message; empty for events that never deploy alone.
fn classify<'a>(
    cx: &WorkflowContext<'_>,
    t: &Trigger<'a>,
    runs_for: &RunsFor,
) -> Vec<(TriggerKind, &'a Node, String)> {
    let policy = cx.policy;
    let one = |kind: TriggerKind| vec![(kind, t.key, kind.describe().to_string())];
    match t.event {
        "workflow_dispatch" => one(TriggerKind::WorkflowDispatch),
        "release" => one(TriggerKind::Release),
        "schedule" => one(TriggerKind::Schedule),
        "workflow_run" => one(TriggerKind::WorkflowRun),
        "repository_dispatch" => one(TriggerKind::RepositoryDispatch),
        "merge_group" => one(TriggerKind::MergeGroup),
        "pull_request" | "pull_request_target" => {
            vec![(TriggerKind::PullRequest, t.key, format!("`{}`", t.event))]
        }
        "push" => {
            let mut kinds = Vec::new();
            let has_branch_filter =
                t.filter("branches").is_some() || t.filter("branches-ignore").is_some();
            let has_tag_filter = t.filter("tags").is_some() || t.filter("tags-ignore").is_some();
            let prod = cx.production_branch();
            // Branch pushes run when there is a branch filter, or no filter at all.
            if (has_branch_filter || !has_tag_filter) && !runs_for.tags_only {
                let node = t.filter("branches").unwrap_or(t.key);
                match &runs_for.branch {
                    // The job runs for one branch only.
                    Some(b) => {
                        let kind = if b == prod {
                            TriggerKind::PushProductionBranch
                        } else {
                            TriggerKind::Push
                        };
                        let covered = t.filter("branches").is_none()
                            || branch_filter_covers(t.config, b)
                            || t.patterns("branches").iter().any(|p| {
                                p.as_str().is_some_and(|p| ship_policy::glob_matches(p, b))
                            });
                        if covered {
                            let described = if kind == TriggerKind::Push {
                                format!("a push to branch `{b}`")
                            } else {
                                kind.describe().to_string()
                            };
                            kinds.push((kind, node, described));
                        }
                    }
                    None => {
                        if branch_filter_covers(t.config, prod) {
                            let kind = TriggerKind::PushProductionBranch;
                            kinds.push((kind, node, kind.describe().to_string()));
                        }
                        let other_branches = match t.filter("branches") {
                            Some(b) => b
                                .str_items()
                                .iter()
                                .filter_map(|n| n.as_str())
                                .any(|p| !p.starts_with('!') && p != prod),
                            None => true,
                        };
                        if other_branches {
                            let kind = TriggerKind::Push;
                            kinds.push((kind, node, kind.describe().to_string()));
                        }
                    }
                }
            }
            if (has_tag_filter || !has_branch_filter) && runs_for.branch.is_none() {
                match t.filter("tags") {
                    Some(tags) => {
                        for p in tags.str_items() {
                            let pattern = p.as_str().unwrap_or("");
                            if pattern.starts_with('!') {
                                continue;
                            }
                            if policy.pattern_within_release_tags(pattern) || semver_shaped(pattern)
                            {
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

/// A tag pattern that only matches version numbers: `[0-9]+.[0-9]+.[0-9]+`, `v[0-9]*`,
/// `*.*.*`. Repositories that tag `1.2.3` instead of `v1.2.3` release the same way.
fn semver_shaped(pattern: &str) -> bool {
    let p = pattern.strip_prefix('v').unwrap_or(pattern);
    (p.starts_with("[0-9]") || p.starts_with("*.*") || p.starts_with("[0-9]*"))
        && p.matches('.').count() >= 1
}

/// The events that start the deploy: the job's `if:` and the `if:` of the step that
/// deploys.
fn runs_for(job: &Job<'_>, facts: &JobFacts) -> RunsFor {
    let job_if = RunsFor::read(job.node.get("if"));
    let deploy_step = facts
        .roles
        .iter()
        .find(|r| {
            matches!(
                r.role,
                StepRole::Rollout | StepRole::Migrations | StepRole::Rollback
            )
        })
        .and_then(|r| {
            job.steps
                .iter()
                .find(|s| s.index == r.step && job.uses.is_none())
        });
    let step_if = RunsFor::read(deploy_step.and_then(|s| s.node.get("if")));
    job_if.and(step_if)
}

impl DeployTrigger {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        if cx.is_action() {
            return;
        }
        let mut reported: Vec<(Span, String)> = Vec::new();
        for (job, facts) in cx.deploy_jobs() {
            let runs_for = runs_for(job, facts);
            if !facts.by_branch.is_empty() {
                self.check_by_branch(cx, job, facts, &mut reported, out);
                continue;
            }
            // Production, staging… or, for a deploy whose environment is chosen at run
            // time, only what every environment refuses (pull requests).
            let env_name = facts.target_environment();
            let allowed: Vec<TriggerKind> = match env_name.and_then(|n| cx.policy.environment(n)) {
                Some(env) => env.policy.triggers.clone(),
                None => Vec::new(),
            };
            for t in &cx.workflow.triggers {
                if t.event == "workflow_call" || !runs_for.allows_event(t.event) {
                    continue;
                }
                for (kind, node, described) in classify(cx, t, &runs_for) {
                    let known = env_name.is_some();
                    if known && allowed.contains(&kind)
                        || !known && kind != TriggerKind::PullRequest
                    {
                        continue;
                    }
                    let span = runs_for.node.unwrap_or(node.span);
                    let env_label = env_name.unwrap_or("an environment");
                    if reported.contains(&(span, env_label.to_string())) {
                        continue;
                    }
                    reported.push((span, env_label.to_string()));
                    out.push(diagnostic(cx, job, facts, kind, described, span, &allowed));
                }
            }
        }
    }
}

impl DeployTrigger {
    /// A deploy whose environment follows the pushed branch: each branch of the push filter
    /// against the environment it deploys to.
    fn check_by_branch(
        &self,
        cx: &WorkflowContext<'_>,
        job: &Job<'_>,
        facts: &JobFacts,
        reported: &mut Vec<(Span, String)>,
        out: &mut Vec<Diagnostic>,
    ) {
        let Some(push) = cx.workflow.trigger("push") else {
            return;
        };
        let prod = cx.production_branch();
        for item in push.patterns("branches") {
            let Some(branch) = item.as_str() else {
                continue;
            };
            let Some((_, env_name)) = facts.by_branch.iter().find(|(b, _)| b == branch) else {
                continue;
            };
            let Some(env) = cx.policy.environment(env_name) else {
                continue;
            };
            let kind = if branch == prod {
                TriggerKind::PushProductionBranch
            } else {
                TriggerKind::Push
            };
            if env.policy.triggers.contains(&kind)
                || reported.contains(&(item.span, env_name.clone()))
            {
                continue;
            }
            reported.push((item.span, env_name.clone()));
            let allowed: Vec<&str> = env.policy.triggers.iter().map(|k| k.describe()).collect();
            out.push(Diagnostic::new(
                item.span,
                format!(
                    "a push to `{branch}` deploys job `{}` to `{env_name}` (its environment follows the branch), which allows only {}{}",
                    job.id,
                    allowed.join(" or "),
                    facts.because(cx.path)
                ),
                if cx.policy.is_production(env_name) {
                    format!(
                        "deploy to `{env_name}` with `workflow_dispatch` (a `version` input) or a push of tags matching `{}`",
                        cx.policy.policy.release_tags
                    )
                } else {
                    format!("deploy `{env_name}` from `{prod}` (or change `environments.{env_name}.triggers` in the policy)")
                },
            ));
        }
    }
}

fn diagnostic(
    cx: &WorkflowContext<'_>,
    job: &Job<'_>,
    facts: &JobFacts,
    kind: TriggerKind,
    described: String,
    span: Span,
    allowed: &[TriggerKind],
) -> Diagnostic {
    let because = facts.because(cx.path);
    let Some(env_name) = facts.target_environment() else {
        return Diagnostic::new(
            span,
            format!(
                "{described} triggers deploy job `{}`{because}: pull requests must never deploy",
                job.id
            ),
            "run pull-request CI in its own workflow and deploy from `main` or a release tag",
        );
    };
    if kind == TriggerKind::PullRequest && !allowed.contains(&kind) {
        return Diagnostic::new(
            span,
            format!(
                "{described} triggers deploy job `{}` to `{env_name}`{}{because}: pull requests must never deploy there",
                job.id,
                inferred_note(facts)
            ),
            "run pull-request CI in its own workflow and deploy from `main` or a release tag",
        );
    }
    let allowed_text: Vec<&str> = allowed.iter().map(|k| k.describe()).collect();
    Diagnostic::new(
        span,
        format!(
            "{described} deploys job `{}` to `{env_name}`{}, which allows only {}{because}",
            job.id,
            inferred_note(facts),
            if allowed_text.is_empty() {
                "no trigger".to_string()
            } else {
                allowed_text.join(" or ")
            },
        ),
        if cx.policy.is_production(env_name) {
            format!(
                "deploy to `{env_name}` with `workflow_dispatch` (a `version` input) or a push of tags matching `{}`",
                cx.policy.policy.release_tags
            )
        } else {
            format!("change the trigger, or allow it in the policy under `environments.{env_name}.triggers`")
        },
    )
}

/// ` (inferred from job `deploy-prod`)` when the environment was read from names.
pub(crate) fn inferred_note(facts: &JobFacts) -> String {
    match &facts.target {
        crate::model::Target::Known {
            inferred: true,
            how,
            ..
        } => format!(" (inferred from {how})"),
        _ => String::new(),
    }
}
