//! What a workflow does, in release-policy terms: which steps roll out, migrate, roll back,
//! smoke-test or push images; which environment each job deploys to; which CI stages run.
//!
//! Computed once per file and shared by every rule, so the rules stay short and agree with
//! each other on what "a deploy job" is.

use crate::calls::{CalledWorkflow, CalledWorkflows, CalleeEnvironment};
use regex::{Regex, RegexSet};
use ship_policy::CompiledPolicy;
use ship_workflow::{ActionRef, Job, Node, Span, Step, Workflow};
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// What a step does for a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepRole {
    /// Updates a running service to a new version (ECS rollout, compose up…).
    Rollout,
    /// Applies database migrations.
    Migrations,
    /// Returns a service to an earlier version.
    Rollback,
    /// Checks the deployed service (smoke test, health check).
    SmokeTest,
    /// Pushes a container image to a registry.
    ImagePush,
}

/// The environment a job deploys to, and how we know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvironmentBinding {
    /// `environment: NAME` written on the job.
    Explicit { name: String, span: Span },
    /// `environment: ${{ … }}`: decided at run time.
    Dynamic { span: Span },
    /// No `environment:`; the name came from the job, workflow or file name.
    Inferred { name: String },
    /// No `environment:` and nothing to infer it from.
    Unknown,
}

impl EnvironmentBinding {
    /// The environment's name, when it is known before the run.
    pub fn name(&self) -> Option<&str> {
        match self {
            EnvironmentBinding::Explicit { name, .. } | EnvironmentBinding::Inferred { name } => {
                Some(name)
            }
            _ => None,
        }
    }
}

/// A step with a release role.
#[derive(Debug, Clone, Copy)]
pub struct RoleStep {
    pub role: StepRole,
    pub step: usize,
    pub span: Span,
}

/// Release facts about one job.
pub struct JobFacts {
    pub roles: Vec<RoleStep>,
    pub environment: EnvironmentBinding,
    /// The job calls this repository's reusable workflow (path as in `uses:`); its roles are
    /// the callee's, all pointing at the `uses:` line, so step-order rules leave it to the
    /// callee.
    pub called: Option<String>,
    /// The called workflow's deploy jobs have their own `concurrency:` group.
    pub called_has_concurrency: bool,
}

impl JobFacts {
    /// A deploy job rolls out, migrates or rolls back (DEVELOPERS.md's definition).
    pub fn is_deploy(&self) -> bool {
        self.roles.iter().any(|r| {
            matches!(
                r.role,
                StepRole::Rollout | StepRole::Migrations | StepRole::Rollback
            )
        })
    }

    pub fn has(&self, role: StepRole) -> bool {
        self.roles.iter().any(|r| r.role == role)
    }

    pub fn steps_with(&self, role: StepRole) -> impl Iterator<Item = &RoleStep> {
        self.roles.iter().filter(move |r| r.role == role)
    }
}

/// Release facts about one workflow; `jobs[i]` describes `workflow.jobs[i]`.
pub struct WorkflowFacts {
    pub jobs: Vec<JobFacts>,
}

impl WorkflowFacts {
    pub fn new(
        path: &str,
        wf: &Workflow<'_>,
        policy: &CompiledPolicy,
        calls: &CalledWorkflows,
    ) -> Self {
        let file_stem = path
            .rsplit('/')
            .next()
            .unwrap_or(path)
            .trim_end_matches(".yml")
            .trim_end_matches(".yaml");
        let wf_name = wf.name.and_then(|n| n.as_str()).unwrap_or("");
        let jobs = wf
            .jobs
            .iter()
            .map(|job| {
                let names = [job.id, job.display_name(), wf_name, file_stem];
                if let Some((uses, called)) =
                    job.uses.and_then(|u| Some((u, calls.get(u.as_str()?)?)))
                {
                    return called_job_facts(job, uses, called, &names, policy);
                }
                let roles = job
                    .steps
                    .iter()
                    .flat_map(|s| {
                        classify_step(s, policy)
                            .into_iter()
                            .map(move |role| RoleStep {
                                role,
                                step: s.index,
                                span: s.uses.or(s.run).unwrap_or(s.node).span,
                            })
                    })
                    .collect();
                let environment = bind_environment(job, &names, policy);
                JobFacts {
                    roles,
                    environment,
                    called: None,
                    called_has_concurrency: false,
                }
            })
            .collect();
        WorkflowFacts { jobs }
    }
}

/// A job that calls one of the repository's reusable workflows: the callee's roles, and the
/// environment the callee's deploy job ends up with given this job's `with:`.
fn called_job_facts(
    job: &Job<'_>,
    uses: &Node,
    called: &CalledWorkflow,
    names: &[&str],
    policy: &CompiledPolicy,
) -> JobFacts {
    let roles = called
        .roles
        .iter()
        .map(|&role| RoleStep {
            role,
            step: 0,
            span: uses.span,
        })
        .collect();
    let environment = match &called.environment {
        CalleeEnvironment::Named(name) => EnvironmentBinding::Explicit {
            name: name.clone(),
            span: uses.span,
        },
        CalleeEnvironment::Input(input) => {
            let given = job.with.and_then(|w| w.get(input));
            match given.and_then(|n| n.as_str()) {
                Some(v) if v.contains("${{") => EnvironmentBinding::Dynamic {
                    span: given.map_or(uses.span, |n| n.span),
                },
                Some(v) => EnvironmentBinding::Explicit {
                    name: v.to_string(),
                    span: given.map_or(uses.span, |n| n.span),
                },
                None => match called.input_defaults.get(input) {
                    Some(d) if !d.contains("${{") => EnvironmentBinding::Explicit {
                        name: d.clone(),
                        span: uses.span,
                    },
                    _ => EnvironmentBinding::Dynamic { span: uses.span },
                },
            }
        }
        CalleeEnvironment::Unknown => bind_environment(job, names, policy),
    };
    JobFacts {
        roles,
        environment,
        called: uses.as_str().map(str::to_string),
        called_has_concurrency: called.has_concurrency,
    }
}

fn bind_environment(job: &Job<'_>, names: &[&str], policy: &CompiledPolicy) -> EnvironmentBinding {
    if let Some(env) = &job.environment {
        if env.name.contains("${{") {
            return EnvironmentBinding::Dynamic {
                span: env.node.span,
            };
        }
        return EnvironmentBinding::Explicit {
            name: env.name.to_string(),
            span: env.node.span,
        };
    }
    match policy.infer_environment(names) {
        Some(env) => EnvironmentBinding::Inferred {
            name: env.name.clone(),
        },
        None => EnvironmentBinding::Unknown,
    }
}

/// Is this a `*/ship/<name>` action or a local `./actions/<name>` (ship's own repository)?
pub fn is_ship_action(action: &ActionRef<'_>, name: &str, policy: &CompiledPolicy) -> bool {
    match action {
        ActionRef::Repository {
            owner,
            repo,
            path: Some(path),
            ..
        } => {
            // `org/ship/ecs-rollout@v1` and the repository's real layout,
            // `org/ship/actions/ecs-rollout@v1`, are both ship's action.
            let path = path.trim_end_matches('/');
            (path == name || path.strip_prefix("actions/") == Some(name))
                && policy.is_ship_repository(owner, repo)
        }
        ActionRef::Local(p) => {
            let p = p.trim_end_matches('/');
            p.ends_with(&format!("actions/{name}"))
                || (p.ends_with(&format!("/{name}")) && p.contains("ship"))
        }
        _ => false,
    }
}

fn action_is(action: &ActionRef<'_>, owner_repo: &str) -> bool {
    match action {
        ActionRef::Repository {
            owner,
            repo,
            path: None,
            ..
        } => {
            let (o, r) = owner_repo.split_once('/').unwrap_or((owner_repo, ""));
            owner.eq_ignore_ascii_case(o) && repo.eq_ignore_ascii_case(r)
        }
        _ => false,
    }
}

// ship's binaries are matched as whole names: `ship-run-migrations-cli` (a cargo package in
// ship's own repository) is not the `ship-run-migrations` binary.
static ROLLOUT_COMMANDS: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        r"\baws\s+ecs\s+update-service\b",
        r"(^|[\s;&|/])ecs-deploy\b",
        r"\becspresso\s+(.*\s)?deploy\b",
        r"\bdocker[\s-]compose\b[^\n]*\sup\b",
        r"\bship-ecs-rollout(?:$|[^\w-])",
    ])
    .unwrap()
});

static MIGRATION_COMMANDS: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        r"\bship-run-migrations(?:$|[^\w-])",
        r"\bsqlx\s+migrate\s+run\b",
        r"\bmigrate\b[^\n]*\s(up|goto)\b",
        r"\balembic\s+upgrade\b",
        r"\bflyway\b[^\n]*\bmigrate\b",
        r"\bprisma\s+migrate\s+deploy\b",
        r"\b(rails|rake|bin/rails)\s+db:migrate\b",
        r"manage\.py\s+migrate\b",
        r"\b(npm|yarn|pnpm)\s+(run\s+)?(db:)?migrate\b",
        r"\bgoose\b[^\n]*\bup\b",
        r"\bliquibase\b[^\n]*\bupdate\b",
        r"\bknex\s+migrate:latest\b",
        r"\bdbmate\b[^\n]*\b(up|migrate)\b",
        r"\batlas\s+migrate\s+apply\b",
        r"\bdiesel\s+migration\s+run\b",
    ])
    .unwrap()
});

static ROLLBACK_COMMANDS: LazyLock<RegexSet> =
    LazyLock::new(|| RegexSet::new([r"\bship-rollback(?:$|[^\w-])"]).unwrap());

static SMOKE_COMMANDS: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        r"\bship-smoke-test(?:$|[^\w-])",
        r"\bcurl\b[^\n]*(health|smoke|ready|status|version|--fail\b|\s-f\w*\b|\s-\w*f\b)",
        r"\bwget\b[^\n]*(--spider|health)",
        r"\bhurl\b",
        r"\bk6\s+run\b",
        r"\b(npm|yarn|pnpm)\s+(run\s+)?(smoke|e2e)",
        r"\bplaywright\s+test\b",
    ])
    .unwrap()
});

static SMOKE_NAMES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(smoke|health|healthcheck|health-check|verify deploy)").unwrap()
});

static DOCKER_PUSH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\bdocker\s+(push\b|(buildx\s+)?build\b[^\n]*--push\b|buildx\s+imagetools\s+create\b)",
    )
    .unwrap()
});

/// The release roles of a step (usually zero or one).
pub fn classify_step(step: &Step<'_>, policy: &CompiledPolicy) -> Vec<StepRole> {
    let mut roles = Vec::new();
    if let Some(action) = step.action() {
        if is_ship_action(&action, "ecs-rollout", policy)
            || action_is(&action, "aws-actions/amazon-ecs-deploy-task-definition")
        {
            roles.push(StepRole::Rollout);
        }
        if is_ship_action(&action, "run-migrations", policy) {
            roles.push(StepRole::Migrations);
        }
        if is_ship_action(&action, "rollback", policy) {
            roles.push(StepRole::Rollback);
        }
        if is_ship_action(&action, "smoke-test", policy)
            || action
                .name_without_ref()
                .to_ascii_lowercase()
                .contains("url-health-check")
        {
            roles.push(StepRole::SmokeTest);
        }
        if is_ship_action(&action, "tag-image", policy)
            || (action_is(&action, "docker/build-push-action")
                && step
                    .with
                    .and_then(|w| w.get("push"))
                    .and_then(|p| p.as_str())
                    .is_some_and(|p| p != "false"))
        {
            roles.push(StepRole::ImagePush);
        }
    }
    if let Some(run) = step.run_str() {
        let script = strip_shell_comments(run);
        if ROLLOUT_COMMANDS.is_match(&script) {
            roles.push(StepRole::Rollout);
        }
        if MIGRATION_COMMANDS.is_match(&script) {
            roles.push(StepRole::Migrations);
        }
        if ROLLBACK_COMMANDS.is_match(&script) {
            roles.push(StepRole::Rollback);
        }
        if SMOKE_COMMANDS.is_match(&script) {
            roles.push(StepRole::SmokeTest);
        }
        if DOCKER_PUSH.is_match(&script) {
            roles.push(StepRole::ImagePush);
        }
    }
    if !roles.contains(&StepRole::SmokeTest)
        && step.name_str().is_some_and(|n| SMOKE_NAMES.is_match(n))
        && (step.run.is_some() || step.uses.is_some())
        && !roles.contains(&StepRole::Rollout)
    {
        roles.push(StepRole::SmokeTest);
    }
    roles.dedup();
    roles
}

/// A script without its `#` comment lines, so a commented-out deploy is not a deploy.
pub fn strip_shell_comments(script: &str) -> String {
    script
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Which of the policy's CI stages each job runs (`result[i]` for `wf.jobs[i]`).
pub fn job_stages(wf: &Workflow<'_>, policy: &CompiledPolicy) -> Vec<BTreeSet<String>> {
    let stages = &policy.stages;
    wf.jobs
        .iter()
        .map(|job| {
            let mut found = vec![false; stages.len()];
            policy.stage_names.mark(job.id, &mut found);
            if let Some(name) = job.name.and_then(|n| n.as_str()) {
                policy.stage_names.mark(name, &mut found);
            }
            for s in &job.steps {
                if let Some(name) = s.name_str() {
                    policy.stage_names.mark(name, &mut found);
                }
                if let Some(run) = s.run_str() {
                    policy
                        .stage_commands
                        .mark(&strip_shell_comments(run), &mut found);
                }
                if let Some(action) = s.action() {
                    let name = action.name_without_ref().to_ascii_lowercase();
                    for (i, stage) in stages.iter().enumerate() {
                        if !found[i] && stage.uses.iter().any(|g| g.is_match(&name)) {
                            found[i] = true;
                        }
                    }
                }
            }
            stages
                .iter()
                .zip(found)
                .filter(|(_, hit)| *hit)
                .map(|(s, _)| s.name.clone())
                .collect()
        })
        .collect()
}

/// Does a `push`/`pull_request` branch filter cover `branch`? No filter covers every branch.
pub fn branch_filter_covers(trigger_config: Option<&Node>, branch: &str) -> bool {
    let Some(config) = trigger_config else {
        return true;
    };
    if let Some(branches) = config.get("branches") {
        let patterns: Vec<&str> = branches
            .str_items()
            .iter()
            .filter_map(|n| n.as_str())
            .collect();
        // GitHub applies patterns in order; a later `!pattern` excludes.
        let mut covered = false;
        for p in patterns {
            if let Some(neg) = p.strip_prefix('!') {
                if ship_policy::glob_matches(neg, branch) {
                    covered = false;
                }
            } else if ship_policy::glob_matches(p, branch) {
                covered = true;
            }
        }
        return covered;
    }
    if let Some(ignore) = config.get("branches-ignore") {
        return !ignore
            .str_items()
            .iter()
            .filter_map(|n| n.as_str())
            .any(|p| ship_policy::glob_matches(p, branch));
    }
    // Only tag filters: a branch push does not run it.
    !(config.get("tags").is_some() || config.get("tags-ignore").is_some())
        || config.get("branches").is_some()
}

/// Is `target` reachable from `job` through `needs` (directly or transitively)?
pub fn job_needs(wf: &Workflow<'_>, job: &Job<'_>, target: &str) -> bool {
    wf.needs_closure(job).contains(&target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ship_workflow::yaml::{parse, Limits};

    fn roles_of(src: &str) -> Vec<Vec<StepRole>> {
        roles_under(src, &CompiledPolicy::builtin())
    }

    fn roles_under(src: &str, policy: &CompiledPolicy) -> Vec<Vec<StepRole>> {
        let root = parse(src, Limits::default()).unwrap().unwrap();
        let wf = Workflow::from_root(&root);
        wf.jobs[0]
            .steps
            .iter()
            .map(|s| classify_step(s, policy))
            .collect()
    }

    #[test]
    fn classifies_steps() {
        let roles = roles_of(
            "on: push\njobs:\n  d:\n    steps:\n      - uses: org/ship/actions/run-migrations@v1\n      - uses: org/ship/ecs-rollout@v1\n      - run: aws ecs update-service --cluster c --service s\n      - name: Smoke test\n        run: curl -fsS https://x/health\n      - run: |\n          # aws ecs update-service is commented out\n          echo hi\n      - uses: docker/build-push-action@v6\n        with:\n          push: true\n",
        );
        assert_eq!(
            roles,
            vec![
                vec![StepRole::Migrations],
                vec![StepRole::Rollout],
                vec![StepRole::Rollout],
                vec![StepRole::SmokeTest],
                vec![],
                vec![StepRole::ImagePush],
            ]
        );
    }

    #[test]
    fn ship_binaries_are_matched_as_whole_names() {
        let roles = roles_of(
            "on: push\njobs:\n  d:\n    steps:\n      - run: cargo build -p ship-run-migrations-cli -p ship-ecs-cli -p ship-smoke-test-cli\n      - run: exec \"$BIN/ship-run-migrations\" up --dir db\n      - run: ship-ecs-rollout --cluster c --service s --image i\n      - run: ship-smoke-test --url \"$URL\"\n      - run: ship-rollback --cluster c --service s\n",
        );
        assert_eq!(
            roles,
            vec![
                vec![],
                vec![StepRole::Migrations],
                vec![StepRole::Rollout],
                vec![StepRole::SmokeTest],
                vec![StepRole::Rollback],
            ]
        );
    }

    #[test]
    fn ship_actions_come_from_the_policy_repositories() {
        let src = "on: push\njobs:\n  d:\n    steps:\n      - uses: acme/deploy-kit/actions/ecs-rollout@v1\n      - uses: acme/ship/rollback@v1\n      - uses: acme/shipyard/actions/rollback@v1\n";
        assert_eq!(
            roles_of(src),
            vec![vec![], vec![StepRole::Rollback], vec![]],
            "by default only repositories named `ship` hold ship's actions"
        );
        let forked = CompiledPolicy::load(
            "ship-policy.yml",
            "version: 1\nactions:\n  ship-repositories: ['acme/deploy-kit']\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            roles_under(src, &forked),
            vec![vec![StepRole::Rollout], vec![], vec![]]
        );
    }

    #[test]
    fn branch_filters() {
        let root = parse(
            "a: {branches: [main]}\nb: {branches-ignore: [main]}\nc: {tags: ['v*']}\nd: {branches: ['**', '!main']}\n",
            Limits::default(),
        )
        .unwrap()
        .unwrap();
        assert!(branch_filter_covers(root.get("a"), "main"));
        assert!(!branch_filter_covers(root.get("b"), "main"));
        assert!(!branch_filter_covers(root.get("c"), "main"));
        assert!(!branch_filter_covers(root.get("d"), "main"));
        assert!(branch_filter_covers(None, "main"));
    }
}
