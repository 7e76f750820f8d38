//! Which environment a job really targets, and how that is known.
//!
//! The GitHub Environment a job names (`environment:`, compared case-insensitively as GitHub
//! does, with `name:` and expressions resolved within the repository) is the first answer.
//! Names then confirm or correct it: the job's id and name, and the values it deploys to
//! (`--cluster prod-api`, `cluster: docs-rs-staging`, `app_env: dev`) are strong evidence;
//! step names, branch conditions, release triggers and the workflow's name and file name are
//! weak evidence, used only when nothing stronger is there. A job in a reusable workflow is
//! placed once per caller; when the callers disagree it is `unknown`.

use super::repository::{CallerJob, Repository};
use super::{JobFacts, JobRole};
use ship_policy::CompiledPolicy;
use ship_workflow::expr::expressions;
use ship_workflow::{Job, Node, Span, Workflow};

/// The GitHub Environment a job runs in, as the workflow writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvironmentBinding {
    /// `environment: NAME` (or `{name: NAME}`) on the job, or the literal a caller's `with:`
    /// passes to the called workflow's `environment: ${{ inputs.X }}`.
    Explicit { name: String, span: Span },
    /// `environment: ${{ … }}`: decided at run time.
    Dynamic { expression: String, span: Span },
    /// No `environment:`.
    Absent,
}

impl EnvironmentBinding {
    pub fn of_job(job: &Job<'_>) -> Self {
        match &job.environment {
            Some(env) if env.name.contains("${{") => EnvironmentBinding::Dynamic {
                expression: env.name.to_string(),
                span: env.node.span,
            },
            Some(env) => EnvironmentBinding::Explicit {
                name: env.name.to_string(),
                span: env.node.span,
            },
            None => EnvironmentBinding::Absent,
        }
    }

    /// The name as written, for a literal environment.
    pub fn literal(&self) -> Option<&str> {
        match self {
            EnvironmentBinding::Explicit { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// The environment a job targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Nothing: CI, bots, publishing.
    None,
    /// A policy environment (`production`, `staging`…), and how it is known.
    Known {
        environment: String,
        how: String,
        /// Read from names, not from an `environment:` the job runs in.
        inferred: bool,
    },
    /// A GitHub Environment the policy does not know, and no name says more.
    Unlisted { name: String },
    /// Chosen at run time (an input, the branch, a matrix) or different per caller.
    Unknown { how: String },
}

impl Target {
    /// The policy environment, when known before the run.
    pub fn environment(&self) -> Option<&str> {
        match self {
            Target::Known { environment, .. } => Some(environment),
            _ => None,
        }
    }

    /// `production`, `unknown`, `none`: what `ship deploys` prints.
    pub fn label(&self) -> &str {
        match self {
            Target::None => "none",
            Target::Known { environment, .. } => environment,
            Target::Unlisted { .. } | Target::Unknown { .. } => "unknown",
        }
    }

    pub fn how(&self) -> String {
        match self {
            Target::None => String::new(),
            Target::Known { how, .. } => how.clone(),
            Target::Unlisted { name } => {
                format!("environment `{name}`, which the policy does not know")
            }
            Target::Unknown { how } => how.clone(),
        }
    }
}

/// A name that places a job, and where it was read.
#[derive(Debug, Clone)]
struct Hint {
    environment: String,
    how: String,
}

/// Everything known about one job in one context (itself, or as called by one caller).
#[derive(Default)]
struct Reading {
    /// The literal environment, after resolving `${{ inputs.X }}` through the caller.
    explicit: Option<String>,
    /// An expression nothing resolves.
    dynamic: Option<String>,
    /// The job's own names (id, display name, the caller job's).
    names: Vec<Hint>,
    /// The job id alone.
    job_id: Vec<Hint>,
    /// What it deploys to: cluster, service, stack, `with:`/`env:` values.
    strong: Vec<Hint>,
    /// How it is started: only by releases (production), only by pull requests (preview).
    started: Vec<Hint>,
    /// Environment names the job's `if:` compares with (`environment == 'prod'`).
    condition: Vec<Hint>,
    /// The policy environments a run-time choice can pick (dispatch choices, a matrix).
    candidates: Vec<String>,
    weak: Vec<Hint>,
}

/// Started only by releases: pushed tags, published releases, manual dispatch.
pub fn release_only(wf: &Workflow<'_>) -> bool {
    let tag_push = |t: &ship_workflow::Trigger<'_>| {
        t.event == "push" && t.filter("tags").is_some() && t.filter("branches").is_none()
    };
    !wf.triggers.is_empty()
        && wf
            .triggers
            .iter()
            .any(|t| t.event == "release" || tag_push(t))
        && wf
            .triggers
            .iter()
            .all(|t| matches!(t.event, "release" | "workflow_dispatch") || tag_push(t))
}

/// Started only by pull requests.
pub fn pull_request_only(wf: &Workflow<'_>) -> bool {
    !wf.triggers.is_empty()
        && wf
            .triggers
            .iter()
            .all(|t| matches!(t.event, "pull_request" | "pull_request_target"))
}

fn hint(policy: &CompiledPolicy, value: &str, how: impl FnOnce() -> String) -> Option<Hint> {
    let value = value.trim();
    // A stack named after the pull request is that pull request's preview.
    if value.contains("github.event.number") || value.contains("pull_request.number") {
        return preview(policy, how);
    }
    if value.is_empty() || value.contains("${{") {
        return None;
    }
    policy.infer_environment(&[value]).map(|e| Hint {
        environment: e.name.clone(),
        how: how(),
    })
}

/// Place every job of a workflow (fills `JobFacts::target`, and the binding of jobs that
/// call a reusable workflow).
pub fn resolve(
    path: &str,
    wf: &Workflow<'_>,
    jobs: &mut [JobFacts],
    policy: &CompiledPolicy,
    repo: &Repository,
) {
    let deploys = jobs.iter().any(|f| f.is_deploy());
    let callers = if wf.trigger("workflow_call").is_some() {
        repo.callers_of(path)
    } else {
        &[]
    };
    let only_called =
        !wf.triggers.is_empty() && wf.triggers.iter().all(|t| t.event == "workflow_call");
    for (job, facts) in wf.jobs.iter().zip(jobs.iter_mut()) {
        if let (Some(uses), Some(callee)) = (
            job.uses,
            facts.called.as_deref().and_then(|u| repo.callee(u)),
        ) {
            facts.environment = callee.binding_for(job, uses);
        }
        if facts.role == JobRole::Ci {
            facts.target = Target::None;
            continue;
        }
        let contexts: Vec<Option<&CallerJob>> = if callers.is_empty() || !only_called {
            vec![None]
        } else {
            callers.iter().map(Some).collect()
        };
        let mut candidates: Vec<String> = Vec::new();
        let mut by_branch: Vec<(String, String)> = Vec::new();
        let mut results: Vec<Target> = contexts
            .iter()
            .map(|caller| {
                let reading = read(path, wf, job, facts, *caller, policy);
                if caller.is_none() {
                    by_branch =
                        branch_environments(wf, facts, policy, repo.production_branch(policy));
                }
                let target = decide(&reading, facts.role, deploys, caller.is_some(), policy);
                match &target {
                    Target::Known { environment, .. } => candidates.push(environment.clone()),
                    _ => candidates.extend(reading.candidates.iter().cloned()),
                }
                target
            })
            .collect();
        candidates.extend(by_branch.iter().map(|(_, e)| e.clone()));
        candidates.sort();
        candidates.dedup();
        facts.may_target = candidates;
        facts.by_branch = by_branch;
        results.dedup();
        facts.target = if results.len() == 1 {
            results.pop().unwrap_or(Target::None)
        } else {
            let envs: Vec<&str> = results.iter().map(|t| t.label()).collect();
            Target::Unknown {
                how: format!("different per caller: {}", envs.join(", ")),
            }
        };
    }
    // A check with nothing else to go on checks what the deploy it follows deployed.
    let placed: Vec<(&str, Target)> = wf
        .jobs
        .iter()
        .zip(jobs.iter())
        .filter(|(_, f)| f.role == JobRole::Deploy && matches!(f.target, Target::Known { .. }))
        .map(|(j, f)| (j.id, f.target.clone()))
        .collect();
    for (job, facts) in wf.jobs.iter().zip(jobs.iter_mut()) {
        let unplaced =
            matches!(&facts.target, Target::Unknown { how } if how.starts_with("no environment"));
        if facts.role != JobRole::SmokeTest || !unplaced {
            continue;
        }
        let needs = job.needs_ids();
        if let Some((id, Target::Known { environment, .. })) =
            placed.iter().find(|(id, _)| needs.contains(id))
        {
            facts.target = Target::Known {
                environment: environment.clone(),
                how: format!("checks what job `{id}` deployed"),
                inferred: true,
            };
        }
    }
    // A bot that runs after a deploy to an environment chosen at run time (a notification,
    // stopping the runner in that account) acts on that same environment.
    let undecided: Vec<&str> = wf
        .jobs
        .iter()
        .zip(jobs.iter())
        .filter(|(_, f)| f.role == JobRole::Deploy && matches!(f.target, Target::Unknown { .. }))
        .map(|(j, _)| j.id)
        .collect();
    if undecided.is_empty() {
        return;
    }
    for (job, facts) in wf.jobs.iter().zip(jobs.iter_mut()) {
        if facts.role != JobRole::Other || facts.target != Target::None {
            continue;
        }
        let after: Vec<&str> = wf.needs_closure(job);
        if let Some(d) = undecided.iter().find(|d| after.contains(d)) {
            facts.target = Target::Unknown {
                how: format!("runs after job `{d}`, whose environment is decided at run time"),
            };
        }
    }
}

fn decide(
    r: &Reading,
    role: JobRole,
    deploys: bool,
    called: bool,
    policy: &CompiledPolicy,
) -> Target {
    let deploy_like = matches!(
        role,
        JobRole::Deploy | JobRole::Migrations | JobRole::Rollback | JobRole::SmokeTest
    );
    // Which evidence places which kind of job: a deploy by anything it says; an image push
    // by where it runs and what starts it (a job named `retag-dev` pushes to one registry
    // for all); a bot or a guard only by its `environment:`, unless its own name corrects it.
    let (names, strong, started, weak) = match role {
        JobRole::Ci => return Target::None,
        JobRole::Deploy | JobRole::Migrations | JobRole::Rollback | JobRole::SmokeTest => (
            r.names.first(),
            r.strong.first(),
            r.started.first(),
            r.condition.first().or(r.weak.first()),
        ),
        // An image push: where it runs, what its callers pass it, or a release workflow's
        // production (a pull request's images are not a preview's yet).
        JobRole::ImagePush => (
            None,
            r.strong.first().filter(|_| called),
            r.started
                .first()
                .filter(|h| (deploys || called) && policy.is_production(&h.environment)),
            None,
        ),
        JobRole::Other => (None, None, None, None),
    };
    let named = names.or(strong);
    // A bot, guard or teardown: its own id says where it acts (`pause-dev`,
    // `destroy-prod`), else the environment it runs in or the one its `if:` picks, else
    // nothing.
    if role == JobRole::Other {
        if let Some(h) = r.job_id.first() {
            return known(h);
        }
        if r.explicit.is_none() {
            if let Some(h) = r.condition.first() {
                return known(h);
            }
        }
        return match &r.explicit {
            Some(name) => policy
                .environment_named(name)
                .map(|e| Target::Known {
                    environment: e.name.clone(),
                    how: format!("environment `{name}`"),
                    inferred: false,
                })
                .unwrap_or(Target::None),
            None if r.dynamic.is_some() => Target::Unknown {
                how: format!(
                    "environment `{}` is decided at run time",
                    r.dynamic.as_deref().unwrap_or("")
                ),
            },
            None => Target::None,
        };
    }
    if let Some(name) = &r.explicit {
        match policy.environment_named(name) {
            Some(env) => {
                // The names say another environment: the job deploys there, in the wrong
                // GitHub Environment (deploy-environment reports the mismatch).
                let correction = if role == JobRole::Other {
                    r.names.first()
                } else {
                    named
                };
                if let Some(h) = correction.filter(|h| h.environment != env.name) {
                    return known(h);
                }
                return Target::Known {
                    environment: env.name.clone(),
                    how: format!("environment `{name}`"),
                    inferred: false,
                };
            }
            None if !deploy_like => return named.or(started).map(known).unwrap_or(Target::None),
            None => {
                return match named.or(started).or(weak) {
                    Some(h) => known(h),
                    None => Target::Unlisted { name: name.clone() },
                }
            }
        }
    }
    if let Some(expr) = &r.dynamic {
        if let Some(h) = named {
            return known(h);
        }
        // A pull-request-only workflow's run-time choice is one of its previews.
        if let Some(h) = started.filter(|h| {
            policy.environment(&h.environment).is_some_and(|e| {
                e.policy
                    .triggers
                    .contains(&ship_policy::TriggerKind::PullRequest)
            })
        }) {
            return known(h);
        }
        return if deploy_like || role == JobRole::ImagePush || role == JobRole::Other {
            Target::Unknown {
                how: format!("environment `{expr}` is decided at run time"),
            }
        } else {
            Target::None
        };
    }
    if let Some(h) = named.or(started).or(weak) {
        return known(h);
    }
    match role {
        // A deploy that names no environment at all deploys the one live service.
        JobRole::Deploy | JobRole::Migrations | JobRole::Rollback => Target::Known {
            environment: policy.policy.production_environment.clone(),
            how: "no environment is named, so the one live service".to_string(),
            inferred: true,
        },
        JobRole::SmokeTest => Target::Unknown {
            how: "no environment and no name says which".to_string(),
        },
        _ => Target::None,
    }
}

fn known(h: &Hint) -> Target {
    Target::Known {
        environment: h.environment.clone(),
        how: h.how.clone(),
        inferred: true,
    }
}

/// Resolve `${{ inputs.X }}` in `value` with what `caller` passes (or the input's default).
fn through_caller(value: &str, caller: Option<&CallerJob>) -> Option<String> {
    if !value.contains("${{") {
        return Some(value.to_string());
    }
    let caller = caller?;
    let mut out = String::new();
    let mut last = 0;
    for e in expressions(value) {
        out.push_str(&value[last..e.offset]);
        let name = e.inner.strip_prefix("inputs.")?;
        let given = caller
            .with
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        let v = given.or_else(|| {
            caller
                .defaults
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        })?;
        if v.contains("${{") {
            return None;
        }
        out.push_str(v);
        last = e.offset + e.raw.len();
    }
    out.push_str(&value[last..]);
    Some(out)
}

/// The values an expression can take, when the workflow lists them all: a matrix, or a
/// dispatch input's choices with a `|| 'default'` for other events.
fn possible_values(expression: &str, wf: &Workflow<'_>, job: &Job<'_>) -> Option<Vec<String>> {
    if let Some(v) = matrix_values(job, expression) {
        return Some(v);
    }
    let exprs = expressions(expression);
    let e = exprs.first()?;
    if exprs.len() != 1 || expression.trim() != e.raw {
        return None;
    }
    let mut values = Vec::new();
    for part in e.inner.split("||").map(str::trim) {
        if let Some(lit) = part.strip_prefix('\'').and_then(|p| p.strip_suffix('\'')) {
            values.push(lit.to_string());
            continue;
        }
        let name = part
            .strip_prefix("github.event.inputs.")
            .or_else(|| part.strip_prefix("inputs."))?;
        let dispatch = wf.trigger("workflow_dispatch")?;
        let inputs = dispatch.inputs();
        let input = inputs.iter().find(|i| i.name == name)?;
        let options: Vec<String> = input
            .node
            .get("options")
            .map(|o| o.str_items())
            .unwrap_or_default()
            .iter()
            .filter_map(|n| n.as_str())
            .map(str::to_string)
            .collect();
        if options.is_empty() {
            return None;
        }
        values.extend(options);
    }
    (!values.is_empty()).then_some(values)
}

/// `environment: ${{ github.ref_name }}` (or a `github.ref_name == 'x' && 'y' || …` chain):
/// the environment each pushed branch deploys to. A branch-named environment of the
/// production branch is production.
fn branch_environments(
    wf: &Workflow<'_>,
    facts: &JobFacts,
    policy: &CompiledPolicy,
    production_branch: &str,
) -> Vec<(String, String)> {
    let EnvironmentBinding::Dynamic { expression, .. } = &facts.environment else {
        return Vec::new();
    };
    if !expression.contains("github.ref_name") {
        return Vec::new();
    }
    let Some(push) = wf.trigger("push") else {
        return Vec::new();
    };
    let inner = expressions(expression)
        .first()
        .map(|e| e.inner.to_string())
        .unwrap_or_default();
    static PAIR: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"github\.ref_name\s*==\s*'([^']+)'\s*&&\s*'([^']+)'").unwrap()
    });
    let pairs: Vec<(String, String)> = PAIR
        .captures_iter(&inner)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    let identity = inner.trim() == "github.ref_name";
    if !identity && pairs.is_empty() {
        return Vec::new();
    }
    push.patterns("branches")
        .iter()
        .filter_map(|n| n.as_str())
        .filter(|b| !b.contains(['*', '?', '[', '!']))
        .filter_map(|branch| {
            let name = if identity {
                branch.to_string()
            } else {
                pairs.iter().find(|(b, _)| b == branch)?.1.clone()
            };
            let env = if branch == production_branch && name == branch {
                Some(policy.policy.production_environment.clone())
            } else {
                policy.environment_named(&name).map(|e| e.name.clone())
            }?;
            Some((branch.to_string(), env))
        })
        .collect()
}

/// The policy environments `values` name.
fn environments_of(values: &[String], policy: &CompiledPolicy) -> Vec<String> {
    let mut out: Vec<String> = values
        .iter()
        .filter_map(|v| policy.environment_named(v).map(|e| e.name.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The one policy environment all `values` name, if they agree.
fn same_environment(values: &[String], policy: &CompiledPolicy) -> Option<String> {
    let envs: Vec<Option<&str>> = values
        .iter()
        .map(|v| policy.environment_named(v).map(|e| e.name.as_str()))
        .collect();
    match envs.first() {
        Some(Some(first)) if envs.iter().all(|e| e == &Some(*first)) => Some(first.to_string()),
        _ => None,
    }
}

/// Literal values a `${{ matrix.X }}` expression takes.
fn matrix_values(job: &Job<'_>, expression: &str) -> Option<Vec<String>> {
    let inner = expressions(expression).first()?.inner.to_string();
    let key = inner.strip_prefix("matrix.")?;
    let matrix = job.node.get("strategy")?.get("matrix")?;
    let mut values = Vec::new();
    if let Some(list) = matrix.get(key) {
        values.extend(
            list.str_items()
                .iter()
                .filter_map(|n| n.as_str())
                .map(str::to_string),
        );
    }
    if let Some(include) = matrix.get("include").and_then(|i| i.as_seq()) {
        for item in include {
            if let Some(v) = item.get(key).and_then(|v| v.as_str()) {
                values.push(v.to_string());
            }
        }
    }
    (!values.is_empty()).then_some(values)
}

fn read(
    path: &str,
    wf: &Workflow<'_>,
    job: &Job<'_>,
    facts: &JobFacts,
    caller: Option<&CallerJob>,
    policy: &CompiledPolicy,
) -> Reading {
    let mut r = Reading::default();
    // The environment as written (or passed by the caller of this reusable workflow). A
    // call that deploys nothing (a plan, a teardown) runs in the callee's environment
    // without targeting it.
    let binding = if facts.called.is_some() && facts.role == JobRole::Other {
        &EnvironmentBinding::Absent
    } else {
        &facts.environment
    };
    match binding {
        EnvironmentBinding::Explicit { name, .. } => r.explicit = Some(name.clone()),
        EnvironmentBinding::Dynamic { expression, .. } => {
            match through_caller(expression, caller) {
                Some(v) => r.explicit = Some(v),
                None => match possible_values(expression, wf, job) {
                    Some(values) => match same_environment(&values, policy) {
                        Some(env) => r.explicit = Some(env),
                        None => {
                            r.candidates = environments_of(&values, policy);
                            r.dynamic = Some(format!("{expression} ({})", values.join(", ")))
                        }
                    },
                    None => r.dynamic = Some(expression.clone()),
                },
            }
        }
        EnvironmentBinding::Absent => {}
    }
    // A target chosen by an input (`environment: ${{ inputs.environment }}` passed to an
    // action or a called workflow) is decided at run time.
    if r.explicit.is_none() && r.dynamic.is_none() {
        let maps: Vec<&Node> = job
            .with
            .into_iter()
            .chain(job.steps.iter().filter_map(|s| s.with))
            .chain(job.steps.iter().filter_map(|s| s.env))
            .collect();
        let values = maps
            .iter()
            .flat_map(|m| m.as_map().unwrap_or_default().iter());
        for e in values {
            let (Some(k), Some(v)) = (e.key.as_str(), e.value.as_str()) else {
                continue;
            };
            let names_environment = {
                let k = k.to_ascii_lowercase();
                k.contains("env") && !k.contains("file") && !k.contains("var")
                    || k.contains("stage")
            };
            if names_environment
                && v.contains("${{")
                && through_caller(v, caller).is_none()
                && !v.contains("github.event.number")
            {
                let values = possible_values(v, wf, job);
                match values
                    .as_deref()
                    .and_then(|vals| same_environment(vals, policy))
                {
                    Some(env) => r.strong.push(Hint {
                        environment: env.clone(),
                        how: format!("`{k}: {v}` is always `{env}`"),
                    }),
                    None => {
                        // Choices not listed in the workflow (a free or `environment` input)
                        // may be any environment, production included.
                        r.candidates = match values {
                            Some(v) => environments_of(&v, policy),
                            None => policy.environments.iter().map(|e| e.name.clone()).collect(),
                        };
                        r.dynamic = Some(v.to_string());
                    }
                }
                break;
            }
        }
    }
    // `if: inputs.environment != 'prod'` rules production out of a run-time choice.
    if !r.candidates.is_empty() {
        if let Some(cond) = job.node.get("if").and_then(|n| n.as_str()) {
            for c in super::InputCondition::parse_all(cond) {
                let named = policy.environment_named(&c.value).map(|e| e.name.clone());
                if let Some(env) = named {
                    if c.equal {
                        r.candidates.retain(|e| *e == env);
                    } else {
                        r.candidates.retain(|e| *e != env);
                    }
                }
            }
        }
    }
    if let Some(h) = hint(policy, job.id, || format!("job `{}`", job.id)) {
        r.job_id.push(h);
    } else if job.id.ends_with("-test") || job.id.ends_with("_test") {
        // `pause-resources-test`: the `test` stage (a CI job named `*-test` is never placed).
        if let Some(h) = hint(policy, "test", || format!("job `{}`", job.id)) {
            r.job_id.push(h);
        }
    }
    // Names: the job's own, and its caller's.
    for name in [job.id, job.display_name()] {
        if let Some(h) = hint(policy, name, || format!("job `{name}`")) {
            r.names.push(h);
        }
    }
    if let Some(c) = caller {
        for name in [c.job.as_str(), c.name.as_str()] {
            if let Some(h) = hint(policy, name, || {
                format!("called by job `{}` of {}", c.job, c.path)
            }) {
                r.names.push(h);
            }
        }
        if c.release_only {
            r.started.push(Hint {
                environment: policy.policy.production_environment.clone(),
                how: format!("called from {}, which runs for releases", c.path),
            });
        }
        if c.pull_request_only {
            if let Some(h) = preview(policy, || {
                format!("called from {}, which runs for pull requests", c.path)
            }) {
                r.started.push(h);
            }
        }
        for (k, v) in &c.with {
            if is_env_key(k) && r.explicit.as_deref() != Some(v.as_str()) {
                if let Some(h) = hint(policy, v, || {
                    format!("`{k}: {v}` from {} job `{}`", c.path, c.job)
                }) {
                    r.strong.push(h);
                }
            }
        }
    }
    if let Some(with) = job.with {
        for e in with.as_map().unwrap_or_default() {
            let (Some(k), Some(v)) = (e.key.as_str(), e.value.as_str()) else {
                continue;
            };
            if is_env_key(k) && r.explicit.as_deref() != Some(v) {
                if let Some(h) = hint(policy, v, || format!("`{k}: {v}`")) {
                    r.strong.push(h);
                }
            }
        }
    }
    // What its steps are told: `env: {ECR_REPOSITORY: api-dev, CLUSTER: prod}`.
    for step in &job.steps {
        for e in step.env.and_then(|n| n.as_map()).unwrap_or_default() {
            let (Some(k), Some(v)) = (e.key.as_str(), e.value.as_str()) else {
                continue;
            };
            if is_env_key(k) || k.to_ascii_lowercase().contains("repository") {
                let v = through_caller(v, caller).unwrap_or_default();
                for part in v.split(['/', ' ', ':']) {
                    if let Some(h) = hint(policy, part, || format!("`{k}: {v}`")) {
                        r.strong.push(h);
                    }
                }
            }
        }
    }
    for role in &facts.roles {
        for t in &role.targets {
            let t = through_caller(t, caller).unwrap_or_default();
            for part in t.split(['/', ' ', ':']) {
                if let Some(h) = hint(policy, part, || {
                    format!(
                        "{} acts on `{t}`",
                        role.evidence
                            .what
                            .split_whitespace()
                            .take(3)
                            .collect::<Vec<_>>()
                            .join(" ")
                    )
                }) {
                    r.strong.push(h);
                }
            }
        }
    }
    // Weak: step names, branch conditions, release triggers, the workflow's names.
    for role in &facts.roles {
        if let Some(step) = &role.evidence.step {
            if let Some(h) = hint(policy, step, || format!("step \"{step}\"")) {
                r.weak.push(h);
            }
        }
    }
    // A guard that fails the run for an environment does not act on it.
    let guard = job
        .steps
        .iter()
        .filter_map(|s| s.run_str())
        .any(|r| r.contains("exit 1"))
        && job.steps.iter().all(|s| s.uses.is_none());
    if let Some(cond) = job
        .node
        .get("if")
        .and_then(|n| n.as_str())
        .filter(|_| !guard)
    {
        for lit in cond.split('\'').skip(1).step_by(2) {
            if lit.starts_with("refs/") {
                continue;
            }
            if let Some(h) = hint(policy, lit, || {
                format!("runs if `{}`", super::shorten(cond, 60))
            }) {
                r.condition.push(h);
            }
        }
    }
    if let Some(cond) = job.node.get("if").and_then(|n| n.as_str()) {
        for branch in branches_in_condition(cond) {
            if let Some(h) = hint(policy, &branch, || format!("runs for branch `{branch}`")) {
                r.weak.push(h);
            }
        }
    }
    if let Some(push) = wf.trigger("push") {
        let branches: Vec<&str> = push
            .patterns("branches")
            .iter()
            .filter_map(|n| n.as_str())
            .collect();
        if !branches.is_empty() && push.filter("tags").is_none() {
            let envs: Vec<Option<String>> = branches
                .iter()
                .map(|b| policy.infer_environment(&[b]).map(|e| e.name.clone()))
                .collect();
            if let Some(Some(first)) = envs.first() {
                if envs.iter().all(|e| e.as_ref() == Some(first)) {
                    r.weak.push(Hint {
                        environment: first.clone(),
                        how: format!("pushes to `{}`", branches.join("`, `")),
                    });
                }
            }
        }
    }
    if release_only(wf) {
        r.started.push(Hint {
            environment: policy.policy.production_environment.clone(),
            how: "started by releases".to_string(),
        });
    }
    if pull_request_only(wf) {
        if let Some(h) = preview(policy, || "started by pull requests".to_string()) {
            r.started.push(h);
        }
    }
    let wf_name = wf.name.and_then(|n| n.as_str()).unwrap_or("");
    if let Some(h) = hint(policy, wf_name, || format!("workflow \"{wf_name}\"")) {
        r.weak.push(h);
    }
    let stem = super::file_stem(path);
    if let Some(h) = hint(policy, stem, || format!("file {path}")) {
        r.weak.push(h);
    }
    r
}

/// The environment per-pull-request deploys go to (the first that allows pull requests).
fn preview(policy: &CompiledPolicy, how: impl FnOnce() -> String) -> Option<Hint> {
    policy
        .environments
        .iter()
        .find(|e| {
            e.policy
                .triggers
                .contains(&ship_policy::TriggerKind::PullRequest)
        })
        .map(|e| Hint {
            environment: e.name.clone(),
            how: how(),
        })
}

/// `with:` keys whose value names where a deploy goes.
fn is_env_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "env",
        "stage",
        "target",
        "cluster",
        "service",
        "stack",
        "workspace",
        "namespace",
        "tier",
        "deployment",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// Branch names a job condition tests (`github.ref == 'refs/heads/develop'`).
fn branches_in_condition(cond: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in cond.split('\'').skip(1).step_by(2) {
        let b = part.strip_prefix("refs/heads/").unwrap_or(part);
        if !b.is_empty()
            && !b.contains(' ')
            && (part.starts_with("refs/heads/")
                || cond.contains("ref_name")
                || cond.contains("github.ref "))
        {
            out.push(b.to_string());
        }
    }
    out
}

/// Read a literal string node.
pub fn literal(node: Option<&Node>) -> Option<&str> {
    node.and_then(|n| n.as_str()).filter(|s| !s.contains("${{"))
}
