//! The deploy model: what every job does for a release, which environment it really
//! targets, what can start it, and the evidence for each of those (`step "Deploy" line 58:
//! aws ecs update-service --cluster prod-api`).
//!
//! Computed once per file (with the repository's composite actions and reusable workflows,
//! see [`repository`]) and shared by every rule, so the rules agree on what "a deploy job"
//! is, and `ship deploys` shows exactly what the rules see.
//!
//! A job's roles come from what its steps run, not from its name: the deploy tools a script
//! runs ([`tools`]), the actions it uses ([`actions`]), the local composite actions and
//! reusable workflows it calls, followed into their files. Names only decide between
//! readings of the same evidence: a `docker compose up` on a self-hosted runner in a job
//! named `deploy` is that server's deploy, elsewhere a test stack; `aws ecs run-task` is
//! migrations when its names say so. What runs against the runner itself (service
//! containers, `localhost`, LocalStack, a compose database) is CI.

pub mod actions;
pub mod environment;
pub mod repository;
pub mod shell;
pub mod tools;
pub mod triggers;

pub use actions::is_ship_action;
use actions::recognise_action;
pub use environment::{EnvironmentBinding, Target};
use regex::{Regex, RegexSet};
pub use repository::Repository;
use ship_policy::CompiledPolicy;
use ship_workflow::{ActionRef, Job, Node, Source, Span, Step, Workflow};
use std::collections::BTreeSet;
use std::sync::LazyLock;
use tools::{recognise, Activity, ToolUse};

/// A regex whose `\b` is ASCII: the fast lazy DFA then runs it on any text (a Unicode
/// word boundary on non-ASCII text falls back to the slow PikeVM, which profiling showed
/// dominating a lint run). Workflow names and commands are ASCII.
pub(crate) fn ascii_words(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&ship_policy::ascii_word_boundaries(pattern))
}

/// [`ascii_words`] for a set.
pub(crate) fn ascii_words_set<I, S>(patterns: I) -> Result<RegexSet, regex::Error>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    RegexSet::new(
        patterns
            .into_iter()
            .map(|p| ship_policy::ascii_word_boundaries(p.as_ref())),
    )
}

/// What a step does for a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepRole {
    /// Updates what an environment serves (ECS rollout, terraform apply, helm upgrade…).
    Rollout,
    /// Applies database migrations to a deployed database.
    Migrations,
    /// Returns an environment to an earlier version.
    Rollback,
    /// Checks a deployed environment (smoke test, health check, e2e against its URL).
    SmokeTest,
    /// Pushes a container image to a registry.
    ImagePush,
}

/// A job's role in a release, most telling first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobRole {
    Rollback,
    Deploy,
    Migrations,
    SmokeTest,
    ImagePush,
    Ci,
    Other,
}

impl JobRole {
    pub fn as_str(self) -> &'static str {
        match self {
            JobRole::Rollback => "rollback",
            JobRole::Deploy => "deploy",
            JobRole::Migrations => "migrations",
            JobRole::SmokeTest => "smoke-test",
            JobRole::ImagePush => "image-push",
            JobRole::Ci => "ci",
            JobRole::Other => "other",
        }
    }

    fn of_step(role: StepRole) -> JobRole {
        match role {
            StepRole::Rollout => JobRole::Deploy,
            StepRole::Migrations => JobRole::Migrations,
            StepRole::Rollback => JobRole::Rollback,
            StepRole::SmokeTest => JobRole::SmokeTest,
            StepRole::ImagePush => JobRole::ImagePush,
        }
    }
}

/// Where a release activity was seen: the file (this workflow, a composite action, a
/// called workflow), line, step and what runs there.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evidence {
    pub path: String,
    pub line: u32,
    /// Where in `path`: the command's line, or the `uses:` value.
    pub span: Span,
    pub step: Option<String>,
    /// The command or action, shortened (`aws ecs update-service --cluster prod-api …`).
    pub what: String,
}

impl Evidence {
    /// `step "Deploy" line 58: aws ecs update-service …`, naming the file when it is not
    /// `here`.
    pub fn describe(&self, here: &str) -> String {
        let step = self
            .step
            .as_deref()
            .map(|s| format!("step \"{}\" ", shorten(s, 60)))
            .unwrap_or_default();
        let file = if self.path == here || self.path.is_empty() {
            String::new()
        } else {
            format!(" in {}", self.path)
        };
        format!("{step}line {}{file}: {}", self.line, self.what)
    }
}

/// A step with a release role, and the evidence for it.
#[derive(Debug, Clone)]
pub struct RoleStep {
    pub role: StepRole,
    /// The step's position in its job (0 for a job that calls a reusable workflow).
    pub step: usize,
    /// Where the step is in this file: its `uses:` or `run:` (the job's `uses:` for a call).
    pub span: Span,
    pub evidence: Evidence,
    /// Names it acts on (cluster, service, stack, what a caller passes): environment hints.
    pub targets: Vec<String>,
    /// It happens only when workflow inputs have these values (from `if:` conditions and
    /// commands chosen by an input): a caller passing other values does not get this role.
    pub when: Vec<InputCondition>,
}

/// `inputs.NAME == 'value'` (or `!=`): a condition on a reusable workflow's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputCondition {
    pub input: String,
    pub value: String,
    pub equal: bool,
}

impl InputCondition {
    /// Every `inputs.X == 'v'` / `inputs.X != 'v'` comparison in an `if:` that must hold
    /// (only conditions joined by `&&`, or alone; anything with `||` is not trusted).
    pub fn parse_all(cond: &str) -> Vec<InputCondition> {
        static CMP: LazyLock<Regex> = LazyLock::new(|| {
            ascii_words(r#"inputs\.([A-Za-z0-9_-]+)\s*(==|!=)\s*'([^']*)'"#).unwrap()
        });
        if cond.contains("||") {
            return Vec::new();
        }
        CMP.captures_iter(cond)
            .map(|c| InputCondition {
                input: c[1].to_string(),
                value: c[3].to_string(),
                equal: &c[2] == "==",
            })
            .collect()
    }

    /// Does `given` satisfy it? `None` for a value not known before the run.
    pub fn holds(&self, given: &str) -> Option<bool> {
        if given.contains("${{") {
            return None;
        }
        // `run-all apply` is an `apply` (commands chosen by an input are compared by word).
        let same = given == self.value || given.split_whitespace().any(|w| w == self.value);
        Some(same == self.equal)
    }
}

/// Release facts about one job.
#[derive(Debug, Clone)]
pub struct JobFacts {
    pub roles: Vec<RoleStep>,
    /// The job's role (the most telling of its roles, else CI or other).
    pub role: JobRole,
    /// Its further roles.
    pub also: Vec<JobRole>,
    /// The GitHub Environment the job runs in, as written.
    pub environment: EnvironmentBinding,
    /// The environment the job really targets, and how that is known.
    pub target: Target,
    /// Every policy environment it can target (several when chosen at run time from known
    /// choices, or different per caller).
    pub may_target: Vec<String>,
    /// The environment each pushed branch deploys to, when the environment follows the
    /// branch (`environment: ${{ github.ref_name }}`).
    pub by_branch: Vec<(String, String)>,
    /// The job calls this repository's reusable workflow (path as in `uses:`); its roles are
    /// the callee's, all pointing at the `uses:` line, so step-order rules leave it to the
    /// callee.
    pub called: Option<String>,
    /// The called workflow's deploy jobs have their own `concurrency:` group.
    pub called_has_concurrency: bool,
    /// The called workflow (or this job) runs a smoke test after its rollout.
    pub called_checks_after_rollout: bool,
}

impl JobFacts {
    /// A deploy job rolls out, migrates or rolls back.
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

    /// The step that makes this job a deploy (rollout first, then migrations, rollback).
    pub fn deploy_evidence(&self) -> Option<&RoleStep> {
        [StepRole::Rollout, StepRole::Migrations, StepRole::Rollback]
            .iter()
            .find_map(|role| self.steps_with(*role).next())
    }

    /// `(deploys at step "Deploy" line 58: aws ecs update-service …)`, for messages.
    pub fn because(&self, here: &str) -> String {
        match self.deploy_evidence() {
            Some(r) => format!(" (deploys at {})", r.evidence.describe(here)),
            None => String::new(),
        }
    }

    /// The policy environment the job targets, when known before the run.
    pub fn target_environment(&self) -> Option<&str> {
        self.target.environment()
    }
}

/// Release facts about one workflow; `jobs[i]` describes `workflow.jobs[i]`.
pub struct WorkflowFacts {
    pub jobs: Vec<JobFacts>,
}

/// What a job's names say, for choosing between readings of the same evidence.
struct JobNames<'a> {
    /// Job id and display name.
    job: [&'a str; 2],
    workflow: &'a str,
    file_stem: &'a str,
}

impl JobNames<'_> {
    fn any(&self, re: &Regex) -> bool {
        self.job.iter().any(|n| re.is_match(n))
            || re.is_match(self.workflow)
            || re.is_match(self.file_stem)
    }

    fn job_matches(&self, re: &Regex) -> bool {
        self.job.iter().any(|n| re.is_match(n))
    }
}

static DEPLOY_WORD: LazyLock<Regex> =
    LazyLock::new(|| ascii_words(r"(?i)(\b|_)(re)?deploy|\brelease\b|\bship\b|\bpublish").unwrap());
static ROLLBACK_WORD: LazyLock<Regex> =
    LazyLock::new(|| ascii_words(r"(?i)roll[-_ ]?back|\brevert\b").unwrap());
static MIGRATION_WORD: LazyLock<Regex> = LazyLock::new(|| {
    ascii_words(r"(?i)migrat|flyway|alembic|liquibase|\bschema\b|db[-_ ]?(upgrade|update)").unwrap()
});
static DOCS_WORD: LazyLock<Regex> = LazyLock::new(|| {
    ascii_words(r"(?i)\bdocs?\b|documentation|\bguide\b|\bbook\b|mkdocs|sphinx|javadoc|doxygen|storybook|target/site|\bsite \(")
        .unwrap()
});
static SMOKE_NAMES: LazyLock<Regex> = LazyLock::new(|| {
    ascii_words(r"(?i)\b(smoke|health[- ]?check|healthcheck|verify (the )?(deploy|release|rollout)|verify\b.{1,60}\bworks|check (the )?(deploy|site|service) )")
        .unwrap()
});

static TEST_RUNNER: LazyLock<Regex> = LazyLock::new(|| {
    ascii_words(r"\b(pytest|newman|playwright|cypress|jest|go test|(npm|yarn|pnpm) (run )?test|rspec|mvn\b[^\n]*\btest)\b").unwrap()
});

static NOT_A_CHECK: LazyLock<Regex> = LazyLock::new(|| {
    ascii_words(r"(?i)\b(zip|package|upload|artifact|build|install|set ?up|image|code)\b").unwrap()
});

impl WorkflowFacts {
    pub fn new(
        path: &str,
        source: &Source<'_>,
        wf: &Workflow<'_>,
        policy: &CompiledPolicy,
        repo: &Repository,
    ) -> Self {
        let file_stem = file_stem(path);
        let wf_name = wf.name.and_then(|n| n.as_str()).unwrap_or("");
        let mut jobs: Vec<JobFacts> = wf
            .jobs
            .iter()
            .map(|job| {
                let names = JobNames {
                    job: [job.id, job.display_name()],
                    workflow: wf_name,
                    file_stem,
                };
                job_facts(path, source, wf, job, &names, policy, repo)
            })
            .collect();
        classify_plain(wf, &mut jobs, policy);
        environment::resolve(path, wf, &mut jobs, policy, repo);
        WorkflowFacts { jobs }
    }
}

/// `deploy` for `.github/workflows/deploy.yml`.
fn pull_request_only(wf: &Workflow<'_>) -> bool {
    environment::pull_request_only(wf)
}

pub fn file_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"))
        .unwrap_or(name)
}

fn job_facts(
    path: &str,
    source: &Source<'_>,
    wf: &Workflow<'_>,
    job: &Job<'_>,
    names: &JobNames<'_>,
    policy: &CompiledPolicy,
    repo: &Repository,
) -> JobFacts {
    if let Some(uses) = job.uses {
        return called_job_facts(path, job, uses, names, policy, repo);
    }
    let context = JobContext::of(wf, job, names);
    let job_when = job
        .node
        .get("if")
        .and_then(|n| n.as_str())
        .map(InputCondition::parse_all)
        .unwrap_or_default();
    let mut roles = Vec::new();
    for step in &job.steps {
        let span = step.uses.or(step.run).unwrap_or(step.node).span;
        let mut step_when = job_when.clone();
        if let Some(cond) = step.node.get("if").and_then(|n| n.as_str()) {
            step_when.extend(InputCondition::parse_all(cond));
        }
        for (activity, evidence) in step_activities(step, path, source, policy, repo) {
            if let Some(role) = context.role_of(&activity, step, &evidence) {
                let mut when = step_when.clone();
                if matches!(role, StepRole::Migrations | StepRole::SmokeTest) {
                    when.extend(context.local_unless.iter().cloned());
                }
                if let Some((input, value)) = &activity.when_input {
                    when.push(InputCondition {
                        input: input.clone(),
                        value: value.clone(),
                        equal: true,
                    });
                }
                roles.push(RoleStep {
                    role,
                    step: step.index,
                    span,
                    evidence,
                    targets: activity.targets,
                    when,
                });
            }
        }
        // A check named so ("Smoke test", "Verify deploy") that requests something: a URL
        // in the step, or a rollout earlier in the job. Packaging the smoke-test code or a
        // `--help` run of a fresh image is not a check of a deployed service.
        let requests_url = step
            .run_str()
            .is_some_and(|r| r.contains("://") || r.contains("URL"))
            || step.with.is_some_and(|w| {
                w.as_map().unwrap_or_default().iter().any(|e| {
                    e.value
                        .as_str()
                        .is_some_and(|v| v.contains("://") || v.contains("url"))
                })
            })
            || step.env.is_some_and(|w| {
                w.as_map().unwrap_or_default().iter().any(|e| {
                    e.key
                        .as_str()
                        .is_some_and(|k| k.to_ascii_uppercase().contains("URL"))
                })
            });
        // "Verify staging works: pytest tests/" after a rollout in the same job.
        let runs_tests_after_rollout = roles.iter().any(|r: &RoleStep| r.role == StepRole::Rollout)
            && [
                step.run_str(),
                step.with
                    .and_then(|w| w.get("command"))
                    .and_then(|c| c.as_str()),
            ]
            .into_iter()
            .flatten()
            .any(|t| TEST_RUNNER.is_match(t));
        let named_check = step
            .name_str()
            .is_some_and(|n| SMOKE_NAMES.is_match(n) && !NOT_A_CHECK.is_match(n))
            && (step.run.is_some() || step.uses.is_some())
            && (requests_url || runs_tests_after_rollout)
            && !roles.iter().any(|r: &RoleStep| r.step == step.index)
            && !context.local
            && !step.run_str().is_some_and(tools::is_local_reference);
        if named_check {
            roles.push(RoleStep {
                role: StepRole::SmokeTest,
                step: step.index,
                span,
                evidence: Evidence {
                    path: path.to_string(),
                    line: span.start.line,
                    span,
                    step: step.name_str().map(str::to_string),
                    what: "a check named so".to_string(),
                },
                targets: Vec::new(),
                when: job_when.clone(),
            });
        }
    }
    // A job named for a rollback that redeploys is the rollback.
    if names.job_matches(&ROLLBACK_WORD)
        || (ROLLBACK_WORD.is_match(names.workflow) || ROLLBACK_WORD.is_match(names.file_stem))
            && !names.job_matches(&DEPLOY_WORD)
    {
        for r in roles.iter_mut() {
            if r.role == StepRole::Rollout
                || r.role == StepRole::Migrations && names.job_matches(&ROLLBACK_WORD)
            {
                r.role = StepRole::Rollback;
            }
        }
        if !roles.iter().any(|r| r.role == StepRole::Rollback)
            && names.job_matches(&ROLLBACK_WORD)
            && job
                .steps
                .iter()
                .any(|s| s.uses_str().is_some_and(|u| ROLLBACK_WORD.is_match(u)))
        {
            if let Some(s) = job
                .steps
                .iter()
                .find(|s| s.uses_str().is_some_and(|u| ROLLBACK_WORD.is_match(u)))
            {
                let span = s.uses.unwrap_or(s.node).span;
                roles.push(RoleStep {
                    role: StepRole::Rollback,
                    step: s.index,
                    span,
                    evidence: Evidence {
                        path: path.to_string(),
                        line: span.start.line,
                        span,
                        step: s.name_str().map(str::to_string),
                        what: s.uses_str().unwrap_or("").to_string(),
                    },
                    targets: actions::with_targets(s.with),
                    when: job_when.clone(),
                });
            }
        }
    }
    let (role, also) = job_role(&roles, || JobRole::Other);
    JobFacts {
        roles,
        role,
        also,
        environment: EnvironmentBinding::of_job(job),
        target: Target::None,
        may_target: Vec::new(),
        by_branch: Vec::new(),
        called: None,
        called_has_concurrency: false,
        called_checks_after_rollout: false,
    }
}

/// The primary role and the others, most telling first.
fn job_role(roles: &[RoleStep], otherwise: impl FnOnce() -> JobRole) -> (JobRole, Vec<JobRole>) {
    let mut set: Vec<JobRole> = roles.iter().map(|r| JobRole::of_step(r.role)).collect();
    set.sort();
    set.dedup();
    match set.split_first() {
        Some((first, rest)) => (*first, rest.to_vec()),
        None => (otherwise(), Vec::new()),
    }
}

/// What the job's surroundings say about its steps.
struct JobContext<'n> {
    names: &'n JobNames<'n>,
    /// The job tests against things on the runner: service containers, a compose stack,
    /// LocalStack, a cluster started on the runner.
    local: bool,
    /// It deploys into something started on the runner (kind, k3s, minikube, LocalStack):
    /// its rollouts are tests.
    local_target: bool,
    /// The job is local only when these input conditions hold (a compose stack started
    /// only for `frontend_url == 'http://localhost:3000'`): its checks count otherwise.
    local_unless: Vec<InputCondition>,
    /// A self-hosted runner (a server that may be the deploy target itself).
    self_hosted: bool,
    /// Started by pull requests only (never a deploy of the real thing by compose).
    pull_request_only: bool,
}

impl<'n> JobContext<'n> {
    fn of(wf: &Workflow<'_>, job: &Job<'_>, names: &'n JobNames<'n>) -> Self {
        let services = job.node.get("services").is_some();
        let mut local_target = job.steps.iter().any(|s| {
            s.uses_str().is_some_and(|u| {
                let u = u.to_ascii_lowercase();
                [
                    "k3s",
                    "kind-action",
                    "setup-kind",
                    "minikube",
                    "localstack",
                    "k3d",
                ]
                .iter()
                .any(|w| u.contains(w))
            })
        });
        let mut compose = false;
        let mut conditional_compose: Vec<InputCondition> = Vec::new();
        let mut local_env = false;
        let deploy_named = DEPLOY_WORD.is_match(names.job[0])
            || DEPLOY_WORD.is_match(names.job[1])
            || DEPLOY_WORD.is_match(names.workflow);
        for step in &job.steps {
            if let Some(run) = step.run_str() {
                let lower = run.to_ascii_lowercase();
                if lower.contains("localstack")
                    || lower.contains("kind create cluster")
                    || lower.contains("minikube start")
                    || lower.contains("k3d cluster create")
                    || lower.contains("get.k3s.io")
                    || lower.contains("k3s ")
                {
                    local_target = true;
                }
                if (lower.contains("docker compose") || lower.contains("docker-compose"))
                    && !deploy_named
                {
                    let when = step
                        .node
                        .get("if")
                        .and_then(|n| n.as_str())
                        .map(InputCondition::parse_all)
                        .unwrap_or_default();
                    if when.is_empty() {
                        compose = true;
                    } else {
                        conditional_compose.extend(when);
                    }
                }
            }
        }
        // A local URL in the environment makes a job a test against local services, except
        // where it is what a deploy checks: the workflow-wide environment of a deploy
        // workflow (`BASE_URL` of a self-hosted service), or any job that runs after a
        // deploy job (its smoke test checks what was deployed).
        let after_deploy = wf
            .needs_closure(job)
            .iter()
            .any(|id| DEPLOY_WORD.is_match(id));
        let workflow_env = wf.env.filter(|_| !DEPLOY_WORD.is_match(names.workflow));
        let envs = if after_deploy {
            [None, None]
        } else {
            [job.env, workflow_env]
        };
        for env in envs.into_iter().flatten() {
            for e in env.as_map().unwrap_or_default() {
                let k = e.key.as_str().unwrap_or("").to_ascii_uppercase();
                if (k.contains("DATABASE")
                    || k.contains("DB_")
                    || k.ends_with("_URL")
                    || k.contains("ENDPOINT"))
                    && e.value.as_str().is_some_and(tools::is_local_reference)
                {
                    local_env = true;
                }
            }
        }
        let local = services || compose || local_env || local_target;
        // Only a conditional compose stack: local exactly when its conditions hold.
        let local_unless = if local {
            Vec::new()
        } else {
            conditional_compose
                .into_iter()
                .map(|c| InputCondition {
                    equal: !c.equal,
                    ..c
                })
                .collect()
        };
        let runs_on = job.node.get("runs-on");
        let self_hosted = runs_on.is_some_and(|r| {
            let labels: Vec<&str> = match r.as_map() {
                Some(_) => r
                    .get("labels")
                    .map(|l| l.str_items())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|n| n.as_str())
                    .collect(),
                None => r.str_items().iter().filter_map(|n| n.as_str()).collect(),
            };
            labels.iter().any(|l| {
                let l = l.to_ascii_lowercase();
                l == "self-hosted"
                    || !(l.starts_with("ubuntu")
                        || l.starts_with("windows")
                        || l.starts_with("macos")
                        || l.contains("${{"))
            })
        });
        JobContext {
            names,
            local,
            local_target,
            local_unless,
            self_hosted,
            pull_request_only: pull_request_only(wf),
        }
    }

    /// The role an activity gives the step, in this job.
    fn role_of(&self, u: &ToolUse, step: &Step<'_>, evidence: &Evidence) -> Option<StepRole> {
        if u.local {
            return None;
        }
        let step_name = step.name_str().unwrap_or("");
        match u.activity {
            // Into a cluster or LocalStack on the runner: a test of the deploy, not a deploy.
            Activity::Rollout if self.local_target => None,
            Activity::Rollout => Some(StepRole::Rollout),
            Activity::Rollback => Some(StepRole::Rollback),
            Activity::ImagePush => Some(StepRole::ImagePush),
            // Against a compose database, service container or LocalStack: CI.
            Activity::Migrations => (!self.local).then_some(StepRole::Migrations),
            Activity::SmokeTest => (!self.local).then_some(StepRole::SmokeTest),
            Activity::OneOffTask => {
                let named = MIGRATION_WORD.is_match(step_name)
                    || self.names.job_matches(&MIGRATION_WORD)
                    || MIGRATION_WORD.is_match(&evidence.what)
                    || u.targets.iter().any(|t| MIGRATION_WORD.is_match(t));
                named.then_some(StepRole::Migrations)
            }
            Activity::Wait => None,
            Activity::PagesPublish => {
                let docs = self.names.any(&DOCS_WORD)
                    || DOCS_WORD.is_match(step_name)
                    || step.with.is_some_and(|w| {
                        w.as_map()
                            .unwrap_or_default()
                            .iter()
                            .any(|e| e.value.as_str().is_some_and(|v| DOCS_WORD.is_match(v)))
                    });
                (!docs).then_some(StepRole::Rollout)
            }
            Activity::ComposeUp => (self.self_hosted
                && !self.pull_request_only
                && (self.names.any(&DEPLOY_WORD) || DEPLOY_WORD.is_match(step_name)))
            .then_some(StepRole::Rollout),
            Activity::DeployScript => (DEPLOY_WORD.is_match(step_name)
                || self.names.job_matches(&DEPLOY_WORD))
            .then_some(StepRole::Rollout),
        }
    }
}

/// What a job without a release role looks like: CI (build, lint, test, scans) and/or a
/// bot, release or publishing step.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PlainSignals {
    pub(crate) ci: bool,
    other: bool,
    /// The CI signals are only a build (`make build`, a bundle) or a gate over other jobs:
    /// in a workflow that deploys, that is the deploy's preparation or summary, not CI.
    pub(crate) build_or_gate_only: bool,
}

pub(crate) fn plain_signals(
    job: &Job<'_>,
    wf: &Workflow<'_>,
    policy: &CompiledPolicy,
) -> PlainSignals {
    // Names of actions say CI only in workflows CI runs in (not `/test-this-pr` bots).
    let ci_events = wf.triggers.iter().any(|t| {
        matches!(
            t.event,
            "pull_request" | "pull_request_target" | "push" | "merge_group" | "workflow_call"
        )
    });
    static OTHER_USES: LazyLock<RegexSet> = LazyLock::new(|| {
        ascii_words_set([
            r"(?i)^softprops/action-gh-release",
            r"(?i)^ncipollo/release-action",
            r"(?i)^pypa/gh-action-pypi-publish",
            r"(?i)^actions/(stale|labeler|add-to-project|deploy-pages|first-interaction)",
            r"(?i)^peter-evans/(create-pull-request|create-or-update-comment|find-comment)",
            r"(?i)^dessant/",
            r"(?i)^anthropics/|claude|openai|llm",
            r"(?i)slack",
            r"(?i)^(peaceiris/actions-gh-pages|jamesives/github-pages-deploy-action)",
            r"(?i)^(cycjimmy/semantic-release-action|python-semantic-release/|go-semantic-release/)",
            r"(?i)^(tiangolo/issue-manager|actions-r-us/actions-tagger)",
            r"(?i)^(rust-lang/crates-io-auth-action)",
            r"(?i)^(dependabot/fetch-metadata)",
            r"(?i)^(marocchino/sticky-pull-request-comment|thollander/actions-comment-pull-request)",
            r"(?i)^(trippss/conventional-changelog-action|release-drafter/)",
            r"(?i)^(actions/create-release|marvinpinto/action-automatic-releases)",
            r"(?i)report-lcov|coverage-comment",
        ])
        .unwrap()
    });
    static OTHER_COMMANDS: LazyLock<RegexSet> = LazyLock::new(|| {
        ascii_words_set([
            r"\bgh\s+(release|pr|issue|label|api|workflow)\b",
            r"\b(cargo|npm|pnpm|yarn)\s+publish\b",
            r"\btwine\s+upload\b",
            r"\bsemantic-release\b",
            r"\bmkdocs\s+gh-deploy\b",
            r"\b(terraform|tofu|terragrunt)\b[^\n]*\b(plan|destroy)\b",
            r"\bcdk\s+(diff|destroy|synth)\b",
            r"(^|/)publish(\.sh)?(\s|$)",
        ])
        .unwrap()
    });
    // CI beyond the policy's required stages: type checks, spelling, hooks, manifests.
    static CI_COMMANDS: LazyLock<RegexSet> = LazyLock::new(|| {
        ascii_words_set([
            r"\b(pre-commit|prek|tox|nox|mypy|pyright|tsc|typos|yamllint|tflint|hadolint|markdownlint|codespell|credo|dialyzer|shfmt|stylelint|vale)\b",
            r"\bmix\s+(test|format|compile|credo|dialyzer)\b",
            r"\bmake\s+(test|check|lint|ci|typecheck)",
            r"\bcargo\s+(doc|udeps|machete|hack|msrv|miri|semver-checks)\b",
            r"\b(helm|kube)\s*(lint|conform)|\bhelm\s+template\b",
            r"\bterraform\s+(fmt|validate)\b",
            r"\bmdbook\s+(build|test)\b",
            r"\b(npm|pnpm|yarn)\s+(run\s+)?(typecheck|types|check|format|styles|unused)",
        ])
        .unwrap()
    });
    static CI_USES: LazyLock<Regex> = LazyLock::new(|| {
        ascii_words(r"(?i)pre-commit|test|lint|check|analy|typos|spell|dialyzer|credo|sonar|paths-filter|alls-green").unwrap()
    });
    static OTHER_NAMES: LazyLock<Regex> =
        LazyLock::new(|| ascii_words(r"(?i)^(publish|release)\b").unwrap());
    let mut stage = vec![false; policy.stages.len()];
    policy.stage_names.mark(job.id, &mut stage);
    if let Some(name) = job.name.and_then(|n| n.as_str()) {
        policy.stage_names.mark(name, &mut stage);
    }
    let mut signals = PlainSignals {
        other: OTHER_NAMES.is_match(job.id),
        ..PlainSignals::default()
    };
    let build = policy.stages.iter().position(|s| s.name == "build");
    let other_stages = |stage: &[bool]| {
        stage
            .iter()
            .enumerate()
            .any(|(i, hit)| *hit && Some(i) != build)
    };
    // Once the job is known to run a CI stage beyond `build`, further stage matches change
    // nothing: skip them (these scans are most of this function's time).
    let mut strong_ci = other_stages(&stage);
    for s in &job.steps {
        if let Some(name) = s.name_str().filter(|_| !strong_ci) {
            policy.stage_names.mark(name, &mut stage);
        }
        if let Some(run) = s.run_str() {
            let script = strip_shell_comments(run);
            if !strong_ci {
                policy.stage_commands.mark(&script, &mut stage);
            }
            signals.other = signals.other || OTHER_COMMANDS.is_match(&script);
            strong_ci = strong_ci || CI_COMMANDS.is_match(&script);
        }
        if let Some(action) = s.action() {
            let name = action.lowercase_name();
            signals.other = signals.other || OTHER_USES.is_match(&name);
            strong_ci =
                strong_ci || ci_events && !name.starts_with("actions/") && CI_USES.is_match(&name);
            if !strong_ci {
                policy.stage_uses.mark(&name, &mut stage);
            }
        }
        strong_ci = strong_ci || other_stages(&stage);
    }
    let build_only = build.is_some_and(|b| stage[b]) && !strong_ci;
    signals.ci = strong_ci || build_only;
    // A gate over other jobs' results (`alls-green`, `needs.*.result`) is a CI check.
    let text_of_job = job
        .node
        .get("if")
        .and_then(|n| n.as_str())
        .into_iter()
        .chain(job.steps.iter().filter_map(|s| s.run_str()))
        .chain(
            job.steps
                .iter()
                .filter_map(|s| s.node.get("if").and_then(|n| n.as_str())),
        )
        .collect::<Vec<_>>()
        .join("\n");
    if !job.needs.is_empty()
        && (text_of_job.contains("needs.") && text_of_job.contains("result")
            || text_of_job.contains("toJson(needs)")
            || text_of_job.contains("contains(needs"))
    {
        signals.build_or_gate_only = !strong_ci;
        signals.ci = true;
    }
    signals.build_or_gate_only |= build_only;
    // Pushing a formatting fix or a pages artifact from a CI job keeps it CI.
    if !signals.ci {
        for s in &job.steps {
            if let Some(run) = s.run_str() {
                signals.other |= WEAK_OTHER.is_match(run);
            }
            if s.uses_str()
                .is_some_and(|u| u.starts_with("actions/upload-pages-artifact"))
            {
                signals.other = true;
            }
        }
    }
    signals
}

static WEAK_OTHER: LazyLock<Regex> =
    LazyLock::new(|| ascii_words(r"\bgit\s+(push|tag)\b").unwrap());

/// CI or other, for every job without a release role. In a pull-request or merge-queue
/// workflow that runs CI and deploys nothing, the jobs around the checks (gates, path
/// filters) are CI too.
fn classify_plain(wf: &Workflow<'_>, jobs: &mut [JobFacts], policy: &CompiledPolicy) {
    let signals: Vec<PlainSignals> = wf
        .jobs
        .iter()
        .map(|j| plain_signals(j, wf, policy))
        .collect();
    let deploys = jobs.iter().any(|f| f.is_deploy());
    let checks_changes = wf
        .triggers
        .iter()
        .any(|t| matches!(t.event, "pull_request" | "merge_group"))
        && signals.iter().any(|s| s.ci && !s.other)
        && !jobs.iter().any(|f| f.is_deploy());
    for ((job, facts), sig) in wf.jobs.iter().zip(jobs.iter_mut()).zip(signals) {
        if !facts.roles.is_empty() || job.uses.is_some() {
            continue;
        }
        // In a deploy workflow a build or a gate prepares or sums up the deploy; in a
        // pull-request or merge-queue workflow it is still CI.
        let checks_prs = wf
            .triggers
            .iter()
            .any(|t| matches!(t.event, "pull_request" | "merge_group"));
        facts.role = if sig.other || deploys && !checks_prs && sig.build_or_gate_only {
            JobRole::Other
        } else if sig.ci || checks_changes {
            JobRole::Ci
        } else {
            JobRole::Other
        };
    }
}

/// Everything a step does for a release, with the evidence, following local composite
/// actions into their files.
pub fn step_activities(
    step: &Step<'_>,
    path: &str,
    source: &Source<'_>,
    policy: &CompiledPolicy,
    repo: &Repository,
) -> Vec<(ToolUse, Evidence)> {
    let mut out = Vec::new();
    let step_name = step.name_str().map(str::to_string);
    if let Some(run) = step.run {
        if let Some(script) = run.as_str() {
            for cmd in shell::commands_read_once(script).iter() {
                let uses = recognise(cmd);
                if uses.is_empty() {
                    continue;
                }
                let span = source.find_in_span(run.span, &cmd.text).unwrap_or(run.span);
                for u in uses {
                    out.push((
                        u,
                        Evidence {
                            path: path.to_string(),
                            line: span.start.line,
                            span,
                            step: step_name.clone(),
                            what: shorten(&cmd.text, 100),
                        },
                    ));
                }
            }
        }
    }
    if let (Some(uses_node), Some(action)) = (step.uses, step.action()) {
        match action {
            ActionRef::Local(local) => {
                if let Some(summary) = repo.action(local) {
                    for (u, e) in &summary.activities {
                        let mut u = u.clone();
                        // A command the caller chooses (`terragrunt-command: run-all destroy`).
                        if let Some((input, value)) = &u.when_input {
                            let given = step
                                .with
                                .and_then(|w| input_value(w, input))
                                .and_then(|v| v.as_str());
                            match given {
                                Some(g) if !g.contains("${{") => {
                                    if !g.split_whitespace().any(|w| w == value) {
                                        continue;
                                    }
                                    u.when_input = None;
                                }
                                _ => {}
                            }
                        }
                        // What the caller passes names the target (`cluster: docs-rs-staging`).
                        u.targets.extend(actions::with_targets(step.with));
                        out.push((u, e.clone()));
                    }
                }
            }
            other => {
                for u in recognise_action(&other, step.with, policy) {
                    out.push((
                        u,
                        Evidence {
                            path: path.to_string(),
                            line: uses_node.span.start.line,
                            span: uses_node.span,
                            step: step_name.clone(),
                            what: uses_node.as_str().unwrap_or("").to_string(),
                        },
                    ));
                }
            }
        }
    }
    out
}

/// A job that calls a reusable workflow: this repository's (the callee's roles, environment
/// and checks), or another repository's (what its name and inputs say).
fn called_job_facts(
    path: &str,
    job: &Job<'_>,
    uses: &Node,
    names: &JobNames<'_>,
    policy: &CompiledPolicy,
    repo: &Repository,
) -> JobFacts {
    let uses_str = uses.as_str().unwrap_or("");
    let evidence = |what: String| Evidence {
        path: path.to_string(),
        line: uses.span.start.line,
        span: uses.span,
        step: None,
        what,
    };
    let mut facts = JobFacts {
        roles: Vec::new(),
        role: JobRole::Other,
        also: Vec::new(),
        environment: EnvironmentBinding::of_job(job),
        target: Target::None,
        may_target: Vec::new(),
        by_branch: Vec::new(),
        called: None,
        called_has_concurrency: false,
        called_checks_after_rollout: false,
    };
    if let Some(callee) = repo.callee(uses_str) {
        let given = |input: &str| -> Option<String> {
            job.with
                .and_then(|w| input_value(w, input))
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .or_else(|| {
                    callee
                        .input_defaults
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(input))
                        .map(|(_, v)| v.clone())
                })
        };
        for (role, e, when) in &callee.roles {
            // What this caller passes decides whether the callee does it.
            let mut kept = Vec::new();
            let mut holds = true;
            for c in when {
                if let Some(v) = given(&c.input) {
                    match c.holds(&v) {
                        Some(false) => holds = false,
                        Some(true) => {}
                        // Passed on from this workflow's own input: the condition moves up.
                        None => {
                            if let Some(outer) = environment_input(&v) {
                                kept.push(InputCondition {
                                    input: outer.to_string(),
                                    ..c.clone()
                                });
                            }
                        }
                    }
                }
            }
            if !holds {
                continue;
            }
            let step = RoleStep {
                role: *role,
                step: 0,
                span: uses.span,
                evidence: Evidence {
                    what: format!("calls {} ({})", callee.path, e.describe(&callee.path)),
                    ..evidence(String::new())
                },
                targets: actions::with_targets(job.with),
                when: kept,
            };
            if !facts
                .roles
                .iter()
                .any(|r| r.role == step.role && r.when == step.when)
            {
                facts.roles.push(step);
            }
        }
        let (role, also) = job_role(&facts.roles, || callee.role);
        facts.role = role;
        facts.also = also;
        facts.called = Some(uses_str.to_string());
        facts.called_has_concurrency = callee.has_concurrency;
        facts.called_checks_after_rollout = callee.checks_after_rollout;
        return facts;
    }
    // Another repository's reusable workflow: its file name says what it does.
    let action = ActionRef::parse(uses_str);
    let stem = file_stem(uses_str.split('@').next().unwrap_or(uses_str)).to_ascii_lowercase();
    let with_targets = actions::with_targets(job.with);
    let mut activities: Vec<Activity> = Vec::new();
    let mut fallback = JobRole::Other;
    let words: Vec<&str> = stem.split(['-', '_', '.']).collect();
    if static_docs(&stem) {
        // Documentation builds and sites.
    } else if stem.contains("deploy") || stem.contains("apply") {
        activities.push(Activity::Rollout);
    } else if ROLLBACK_WORD.is_match(&stem) {
        activities.push(Activity::Rollback);
    } else if ["image", "docker", "container", "ecr", "ghcr"]
        .iter()
        .any(|w| stem.contains(w))
        && ["build", "push", "publish"]
            .iter()
            .any(|w| stem.contains(w))
        || stem.ends_with("_build") && stem.contains("ecs")
    {
        activities.push(Activity::ImagePush);
    } else if words.iter().any(|w| {
        [
            "test",
            "tests",
            "lint",
            "check",
            "checks",
            "ci",
            "precommit",
            "scan",
            "codeql",
            "sonar",
        ]
        .contains(w)
    }) || stem.contains("pre-commit")
        || stem.contains("analys")
    {
        fallback = JobRole::Ci;
    } else {
        activities.extend(
            recognise_action(&action, job.with, policy)
                .into_iter()
                .map(|u| u.activity),
        );
    }
    for a in activities {
        let role = match a {
            Activity::Rollout => Some(StepRole::Rollout),
            Activity::Rollback => Some(StepRole::Rollback),
            Activity::Migrations => Some(StepRole::Migrations),
            Activity::SmokeTest => Some(StepRole::SmokeTest),
            Activity::ImagePush => Some(StepRole::ImagePush),
            _ => None,
        };
        if let Some(role) = role {
            if ROLLBACK_WORD.is_match(&stem) && role == StepRole::Rollout {
                continue;
            }
            facts.roles.push(RoleStep {
                role,
                step: 0,
                span: uses.span,
                evidence: evidence(format!("calls {uses_str}")),
                targets: with_targets.clone(),
                when: Vec::new(),
            });
        }
    }
    let _ = names;
    let (role, also) = job_role(&facts.roles, || fallback);
    facts.role = role;
    facts.also = also;
    facts
}

/// Documentation builds: `mkdocs_build`, `doxygen_build`, `openapi_build`, `docs` (not
/// `build-docker`).
fn static_docs(stem: &str) -> bool {
    stem.split(['-', '_', '.'])
        .any(|w| w == "doc" || w == "docs")
        || [
            "mkdocs",
            "doxygen",
            "openapi",
            "sphinx",
            "pages",
            "storybook",
        ]
        .iter()
        .any(|w| stem.contains(w))
}

/// The `with:` value of an input: GitHub compares input names case-insensitively
/// (`FRONTEND_URL:` sets `inputs.frontend_url`).
pub fn input_value<'n>(with: &'n Node, input: &str) -> Option<&'n Node> {
    with.as_map()?
        .iter()
        .find(|e| {
            e.key
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case(input))
        })
        .map(|e| &e.value)
}

/// `${{ inputs.NAME }}` → `NAME`.
fn environment_input(value: &str) -> Option<&str> {
    repository::input_reference(value)
}

/// The commands a script runs, one per line, without what it only prints: `echo "coverage
/// includes…"` runs no coverage.
pub fn commands_run(script: &str) -> String {
    let mut out = String::new();
    for cmd in shell::commands_read_once(script).iter() {
        if matches!(
            cmd.program(),
            "echo" | "printf" | "cat" | "tee" | "true" | ":" | "exit"
        ) {
            continue;
        }
        out.push_str(&cmd.words.join(" "));
        out.push('\n');
    }
    out
}

/// A script without its `#` comment lines, so a commented-out deploy is not a deploy.
pub fn strip_shell_comments(script: &str) -> String {
    script
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` cut to `max` characters with an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    let t = text.trim();
    if t.chars().count() <= max {
        t.to_string()
    } else {
        let mut s: String = t.chars().take(max).collect();
        s.push('…');
        s
    }
}

/// Mark the policy CI stages one step runs: its name, its script, the action it uses, and
/// what a local composite action it uses runs.
pub fn mark_step_stages(
    step: &Step<'_>,
    policy: &CompiledPolicy,
    repo: &Repository,
    found: &mut [bool],
) {
    let script = step.run_str().map(commands_run);
    mark_step_commands(step, script.as_deref(), policy, repo, found);
    // A step that only prints ("Generate final coverage report: echo …") runs no stage,
    // whatever its name.
    let only_prints = script.as_deref().is_some_and(|s| s.trim().is_empty());
    if !only_prints {
        if let Some(name) = step.name_str() {
            policy.stage_names.mark(name, found);
        }
    }
}

/// The stages a step's commands and action run.
fn mark_step_commands(
    step: &Step<'_>,
    script: Option<&str>,
    policy: &CompiledPolicy,
    repo: &Repository,
    found: &mut [bool],
) {
    if let Some(script) = script {
        policy.stage_commands.mark(script, found);
    }
    // pre-commit runs the repository's hooks: their stages, when the config is readable.
    let runs_precommit = step
        .uses_str()
        .is_some_and(|u| u.starts_with("pre-commit/action"))
        || step
            .run_str()
            .is_some_and(|r| r.contains("pre-commit run") || r.contains("prek"));
    if runs_precommit {
        if let Some(stages) = &repo.precommit_stages {
            for (i, stage) in policy.stages.iter().enumerate() {
                if stages.contains(&stage.name) {
                    found[i] = true;
                }
            }
        }
    }
    // Actions that run the commands they are given (`commands: npm run lint`, retries).
    for e in step.with.and_then(|w| w.as_map()).unwrap_or_default() {
        let key = e.key.as_str().unwrap_or("").to_ascii_lowercase();
        if key.contains("command") || key.contains("script") || key == "run" {
            if let Some(v) = e.value.as_str() {
                policy.stage_commands.mark(v, found);
            }
        }
    }
    if let Some(action) = step.action() {
        if let ActionRef::Local(local) = action {
            if let Some(summary) = repo.action(local) {
                for (i, stage) in policy.stages.iter().enumerate() {
                    if summary.stages.contains(&stage.name) {
                        found[i] = true;
                    }
                }
            }
            return;
        }
        let name = action.lowercase_name();
        policy.stage_uses.mark(&name, found);
    }
}

/// A step whose `if:` asks for a matrix value the matrix does not have
/// (`if: matrix.python-version == '3.11'` under `python-version: ["3.13", "3.14"]`): it
/// never runs, so the stages it would run are not run.
fn never_runs(job: &Job<'_>, step: &Step<'_>) -> bool {
    static MATRIX_EQ: LazyLock<Regex> = LazyLock::new(|| {
        ascii_words(
            r#"^\s*(?:\$\{\{\s*)?matrix\.([A-Za-z0-9_-]+)\s*==\s*'([^']*)'\s*(?:\}\})?\s*$"#,
        )
        .unwrap()
    });
    let Some(cond) = step.node.get("if").and_then(|n| n.as_str()) else {
        return false;
    };
    let Some(c) = MATRIX_EQ.captures(cond) else {
        return false;
    };
    let Some(matrix) = job.node.get("strategy").and_then(|s| s.get("matrix")) else {
        return false;
    };
    let Some(values) = matrix.get(&c[1]).and_then(|v| v.as_seq()) else {
        return false;
    };
    let included = matrix
        .get("include")
        .and_then(|i| i.as_seq())
        .unwrap_or_default()
        .iter()
        .any(|item| item.get(&c[1]).and_then(|v| v.as_str()) == Some(&c[2]));
    !included && !values.iter().any(|v| v.as_str() == Some(&c[2]))
}

/// Which of the policy's CI stages each job runs (`result[i]` for `wf.jobs[i]`), following
/// local composite actions and this repository's reusable workflows.
pub fn job_stages(
    wf: &Workflow<'_>,
    policy: &CompiledPolicy,
    repo: &Repository,
) -> Vec<BTreeSet<String>> {
    let stages = &policy.stages;
    wf.jobs
        .iter()
        .map(|job| {
            if let Some(callee) = job
                .uses
                .and_then(|u| u.as_str())
                .and_then(|u| repo.callee(u))
            {
                return callee.stages.clone();
            }
            let mut found = vec![false; stages.len()];
            for s in job.steps.iter().filter(|s| !never_runs(job, s)) {
                mark_step_stages(s, policy, repo, &mut found);
            }
            // `build` is the job id GitHub's starter workflows give every job: a job `build`
            // that runs `ruff` lints, and only its steps say so.
            let generic = job.id == "build" && job.name.is_none() && found.iter().any(|f| *f);
            if !generic {
                policy.stage_names.mark(job.id, &mut found);
                if let Some(name) = job.name.and_then(|n| n.as_str()) {
                    policy.stage_names.mark(name, &mut found);
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

    fn facts_of(src: &str) -> Vec<JobFacts> {
        let root = parse(src, Limits::default()).unwrap().unwrap();
        let wf = Workflow::from_root(&root);
        let source = Source::new(src);
        WorkflowFacts::new(
            ".github/workflows/x.yml",
            &source,
            &wf,
            &CompiledPolicy::builtin(),
            &Repository::default(),
        )
        .jobs
    }

    fn roles_of(src: &str) -> Vec<Vec<StepRole>> {
        let facts = facts_of(src);
        let root = parse(src, Limits::default()).unwrap().unwrap();
        let wf = Workflow::from_root(&root);
        wf.jobs[0]
            .steps
            .iter()
            .map(|s| {
                facts[0]
                    .roles
                    .iter()
                    .filter(|r| r.step == s.index)
                    .map(|r| r.role)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn classifies_steps() {
        let roles = roles_of(
            "on: push\njobs:\n  d:\n    steps:\n      - uses: org/ship/run-migrations@v1\n      - uses: org/ship/ecs-rollout@v1\n      - run: aws ecs update-service --cluster c --service s\n      - name: Smoke test\n        run: curl -fsS https://x/health\n      - run: |\n          # aws ecs update-service is commented out\n          echo hi\n      - uses: docker/build-push-action@v6\n        with:\n          push: true\n",
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
        let roles = roles_of(src);
        assert_eq!(roles[1], vec![StepRole::Rollback]);
    }

    #[test]
    fn ci_jobs_against_local_services_are_not_deploys() {
        let facts = facts_of(
            "on: pull_request\njobs:\n  test:\n    services:\n      db: {image: postgres}\n    steps:\n      - run: bin/rails db:migrate\n      - run: bundle exec rspec\n",
        );
        assert_eq!(facts[0].role, JobRole::Ci);
        assert!(!facts[0].is_deploy());
    }

    #[test]
    fn a_local_url_in_a_deploy_workflow_is_what_its_smoke_test_checks() {
        // A self-hosted service (or a test of the generated pipeline) at 127.0.0.1: the smoke
        // job after the deploy checks it, it is not a test against local services.
        let facts = facts_of(
            "name: Deploy staging\non: push\nenv:\n  BASE_URL: http://127.0.0.1:8080\njobs:\n  deploy:\n    steps:\n      - uses: org/ship/ecs-rollout@v1\n  smoke:\n    needs: [deploy]\n    steps:\n      - uses: org/ship/smoke-test@v1\n        with:\n          url: ${{ env.BASE_URL }}\n",
        );
        assert!(facts[1].has(StepRole::SmokeTest));
        // The same URL in a test job's own environment still marks it local.
        let facts = facts_of(
            "on: pull_request\njobs:\n  test:\n    env:\n      DATABASE_URL: postgres://localhost/test\n    steps:\n      - run: bin/rails db:migrate\n",
        );
        assert!(!facts[0].is_deploy());
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
