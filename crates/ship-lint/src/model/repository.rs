//! The repository's local composite actions and reusable workflows, read before any rule
//! runs, so a job is judged by what it really runs.
//!
//! - A step `uses: ./.github/actions/deploy-ecs` does what that action's steps do (followed
//!   through nested local actions); evidence points into the action's file.
//! - A job `uses: ./.github/workflows/deploy.yml` (or `$/…`, the self-repository form) takes
//!   the called workflow's roles, and the environment its `with:` picks when the callee says
//!   `environment: ${{ inputs.NAME }}`.
//! - A reusable workflow knows its callers: their triggers start it, their `with:` values
//!   place its jobs.
//!
//! Only the files involved are read here: composite actions under `.github/actions/`, and
//! workflows that can be called or that call one (a cheap text test first). Everything else
//! is parsed once, by the main pass.

use super::ascii_words;
use super::environment::EnvironmentBinding;
use super::tools::ToolUse;
use super::{
    input_value, step_activities, Evidence, InputCondition, JobRole, StepRole, WorkflowFacts,
};
use crate::repo_files::RepoRoot;
use ship_policy::CompiledPolicy;
use ship_workflow::yaml::{self, Limits};
use ship_workflow::{Job, Node, Source, Workflow};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// A workflow file's bytes as read (regular files inside the repository only), or why not.
pub type WorkflowBytes = Result<Vec<u8>, crate::repo_files::Refusal>;

/// What a local composite action does, with evidence in its own file (and the files of the
/// local actions it uses).
#[derive(Debug, Clone, Default)]
pub struct ActionSummary {
    /// `.github/actions/deploy-ecs/action.yml`.
    pub path: String,
    pub activities: Vec<(ToolUse, Evidence)>,
    /// The policy CI stages its steps run.
    pub stages: BTreeSet<String>,
}

/// A job that calls one of the repository's reusable workflows.
#[derive(Debug, Clone, Default)]
pub struct CallerJob {
    /// The caller's workflow file.
    pub path: String,
    pub job: String,
    /// The job's display name.
    pub name: String,
    /// Its `with:` values, as written.
    pub with: Vec<(String, String)>,
    /// The called workflow's input defaults.
    pub defaults: Vec<(String, String)>,
    /// What starts the caller (`push: branches main`, …).
    pub triggers: Vec<String>,
    /// The caller's workflow runs only for releases (tags, published releases, dispatch).
    pub release_only: bool,
    /// The caller's workflow runs only for pull requests.
    pub pull_request_only: bool,
    /// A job of the caller's workflow that `needs:` this one runs a smoke test.
    pub checked_after: bool,
    /// The caller is itself a reusable workflow (started only by `workflow_call`).
    pub in_reusable: bool,
}

/// How a called workflow's deploy job picks its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalleeEnvironment {
    /// `environment: production`.
    Named(String),
    /// `environment: ${{ inputs.NAME }}` (or `{name: ${{ inputs.NAME }}}`).
    Input(String),
    /// Any other expression, or none.
    Unknown,
}

/// What a reusable workflow does for a release, when called.
#[derive(Debug, Clone)]
pub struct CalleeSummary {
    pub path: String,
    /// The release roles of its jobs, each once per set of input conditions, with the
    /// first evidence.
    pub roles: Vec<(StepRole, Evidence, Vec<InputCondition>)>,
    /// Its role when it has no release role: CI if any job is, else other.
    pub role: JobRole,
    pub environment: CalleeEnvironment,
    pub input_defaults: Vec<(String, String)>,
    /// Its deploy jobs all have a `concurrency:` group (their own or the workflow's).
    pub has_concurrency: bool,
    /// Every rollout in it is followed by a smoke test inside it.
    pub checks_after_rollout: bool,
    /// It sets `permissions:` at its top, which caps the caller's token.
    pub declares_permissions: bool,
    /// The policy CI stages its jobs run.
    pub stages: BTreeSet<String>,
}

impl CalleeSummary {
    /// The environment binding of a caller job: the value its `with:` gives the callee's
    /// environment input.
    pub fn binding_for(&self, job: &Job<'_>, uses: &Node) -> EnvironmentBinding {
        match &self.environment {
            CalleeEnvironment::Named(name) => EnvironmentBinding::Explicit {
                name: name.clone(),
                span: uses.span,
            },
            CalleeEnvironment::Input(input) => {
                let given = job.with.and_then(|w| input_value(w, input));
                match given.and_then(|n| n.as_str()) {
                    Some(v) if v.trim().is_empty() => EnvironmentBinding::Absent,
                    Some(v) if v.contains("${{") => EnvironmentBinding::Dynamic {
                        expression: v.to_string(),
                        span: given.map_or(uses.span, |n| n.span),
                    },
                    Some(v) => EnvironmentBinding::Explicit {
                        name: v.to_string(),
                        span: given.map_or(uses.span, |n| n.span),
                    },
                    None => match self
                        .input_defaults
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(input))
                    {
                        Some((_, d)) if d.trim().is_empty() => EnvironmentBinding::Absent,
                        Some((_, d)) if !d.contains("${{") => EnvironmentBinding::Explicit {
                            name: d.clone(),
                            span: uses.span,
                        },
                        Some(_) => EnvironmentBinding::Dynamic {
                            expression: format!("${{{{ inputs.{input} }}}}"),
                            span: uses.span,
                        },
                        None => EnvironmentBinding::Absent,
                    },
                }
            }
            CalleeEnvironment::Unknown => EnvironmentBinding::Absent,
        }
    }
}

/// The repository's composite actions and reusable workflows.
#[derive(Debug, Default)]
pub struct Repository {
    actions: HashMap<String, ActionSummary>,
    callees: HashMap<String, CalleeSummary>,
    callers: HashMap<String, Vec<CallerJob>>,
    /// Action files found, for linting them (paths as shown, relative to the repository).
    pub action_files: Vec<(PathBuf, String)>,
    /// The production branch read from the workflows when the policy does not name one
    /// and the workflows never mention the default.
    inferred_production_branch: Option<String>,
    /// The CI stages the repository's pre-commit hooks run (`.pre-commit-config.yaml`),
    /// when it has that file.
    pub precommit_stages: Option<BTreeSet<String>>,
}

/// `./.github/actions/x/` or `$/.github/workflows/y.yml@ref` → the repository-relative path.
fn local_path(uses: &str) -> Option<&str> {
    let u = uses.trim();
    let rest = u.strip_prefix("./").or_else(|| u.strip_prefix("$/"))?;
    let rest = rest.split('@').next().unwrap_or(rest);
    Some(rest.trim_end_matches('/'))
}

impl Repository {
    /// The local composite action a step's `uses:` names.
    pub fn action(&self, uses: &str) -> Option<&ActionSummary> {
        self.actions.get(local_path(uses)?)
    }

    /// This repository's reusable workflow a job's `uses:` names.
    pub fn callee(&self, uses: &str) -> Option<&CalleeSummary> {
        self.callees.get(local_path(uses)?)
    }

    /// The jobs that call the reusable workflow at `path`.
    pub fn callers_of(&self, path: &str) -> &[CallerJob] {
        self.callers.get(path).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The production branch: the policy's, or the one the workflows use when the policy
    /// leaves it at the default that no workflow mentions (`master`, `develop`).
    pub fn production_branch<'p>(&'p self, policy: &'p CompiledPolicy) -> &'p str {
        self.inferred_production_branch
            .as_deref()
            .unwrap_or(&policy.policy.production_branch)
    }

    /// Is `uses:` a local reusable-workflow call (`./.github/workflows/x.yml`, `$/…`)?
    pub fn is_local_call(uses: &str) -> bool {
        local_path(uses).is_some_and(|p| p.starts_with(".github/workflows/"))
    }

    /// Read the composite actions under `dir/.github/actions/` and the workflows among
    /// `workflows` that call or can be called, and summarise them.
    /// The repository's model, and the bytes of each of `workflows` (in order) as read for
    /// it: the main pass lints those bytes instead of reading every file a second time.
    pub fn build(
        dir: &Path,
        workflows: &[(PathBuf, String)],
        policy: &CompiledPolicy,
    ) -> (Self, Vec<WorkflowBytes>) {
        // Every file here is the pull request's: only regular files inside `dir` are read
        // (the engine reports the others).
        let files = RepoRoot::new(dir);
        let mut repo = Repository {
            action_files: discover_actions(dir),
            precommit_stages: precommit_stages(&files, policy),
            ..Repository::default()
        };
        repo.read_actions(&files, policy);
        let bytes = repo.read_workflows(&files, workflows, policy);
        (repo, bytes)
    }

    fn read_actions(&mut self, files: &RepoRoot, policy: &CompiledPolicy) {
        struct Raw {
            text: String,
            root: Node,
        }
        let mut raw: HashMap<String, Raw> = HashMap::new();
        for (path, shown) in &self.action_files {
            let Ok(text) = files.read_to_string(path, policy.max_file_size) else {
                continue;
            };
            let Ok(Some(root)) = yaml::parse(&text, Limits::default()) else {
                continue;
            };
            let dir = shown
                .rsplit_once('/')
                .map(|(d, _)| d)
                .unwrap_or("")
                .to_string();
            raw.insert(dir, Raw { text, root });
        }
        // Follow nested local actions depth first; a cycle contributes nothing twice.
        fn summarise(
            key: &str,
            raw: &HashMap<String, Raw>,
            done: &mut HashMap<String, ActionSummary>,
            visiting: &mut HashSet<String>,
            files: &HashMap<String, String>,
            policy: &CompiledPolicy,
        ) {
            if done.contains_key(key) || !visiting.insert(key.to_string()) {
                return;
            }
            let Some(r) = raw.get(key) else { return };
            let Some(wf) = ship_workflow::action::workflow_of_action(&r.root) else {
                visiting.remove(key);
                done.insert(key.to_string(), ActionSummary::default());
                return;
            };
            let path = files.get(key).cloned().unwrap_or_default();
            // Nested actions first, so the step reader finds them.
            for job in &wf.jobs {
                for step in &job.steps {
                    if let Some(nested) = step.uses_str().and_then(local_path) {
                        summarise(nested, raw, done, visiting, files, policy);
                    }
                }
            }
            let source = Source::new(&r.text);
            let view = Repository {
                actions: done.clone(),
                ..Repository::default()
            };
            let mut activities = Vec::new();
            let mut found = vec![false; policy.stages.len()];
            for job in &wf.jobs {
                for step in &job.steps {
                    activities.extend(step_activities(step, &path, &source, policy, &view));
                    super::mark_step_stages(step, policy, &view, &mut found);
                }
            }
            let stages = policy
                .stages
                .iter()
                .zip(found)
                .filter(|(_, hit)| *hit)
                .map(|(s, _)| s.name.clone())
                .collect();
            visiting.remove(key);
            done.insert(
                key.to_string(),
                ActionSummary {
                    path,
                    activities,
                    stages,
                },
            );
        }
        let files: HashMap<String, String> = self
            .action_files
            .iter()
            .map(|(_, shown)| {
                (
                    shown
                        .rsplit_once('/')
                        .map(|(d, _)| d)
                        .unwrap_or("")
                        .to_string(),
                    shown.clone(),
                )
            })
            .collect();
        let mut done = HashMap::new();
        let mut keys: Vec<&String> = raw.keys().collect();
        keys.sort();
        for key in keys {
            summarise(key, &raw, &mut done, &mut HashSet::new(), &files, policy);
        }
        self.actions = done;
    }

    fn read_workflows(
        &mut self,
        files: &RepoRoot,
        workflows: &[(PathBuf, String)],
        policy: &CompiledPolicy,
    ) -> Vec<WorkflowBytes> {
        use rayon::prelude::*;
        // One read per file: its bytes (for the main pass), which of the usual production
        // branch names it mentions, and (cheap text tests first: most workflows neither call
        // nor can be called) its tree when it calls or can be called.
        type Read = (WorkflowBytes, [bool; 3], Option<(String, String, Node)>);
        // Once a workflow mentions the policy's default branch, nothing is inferred: the
        // other files need not be searched for branch names.
        let default_seen = std::sync::atomic::AtomicBool::new(false);
        let default_index = BRANCH_NAMES
            .iter()
            .position(|b| *b == policy.policy.production_branch.as_str());
        let read: Vec<Read> = workflows
            .par_iter()
            .map(|(path, shown)| {
                let bytes = files.read(path, policy.max_file_size);
                let Some(text) = bytes
                    .as_ref()
                    .ok()
                    .and_then(|b| std::str::from_utf8(b).ok())
                else {
                    return (bytes, [false; 3], None);
                };
                // Only needed to read the production branch when the policy does not name it.
                let relaxed = std::sync::atomic::Ordering::Relaxed;
                let mentions = if policy.production_branch_set
                    || default_index.is_none()
                    || default_seen.load(relaxed)
                {
                    [false; 3]
                } else {
                    let m = BRANCH_NAMES.map(|b| mentions_branch(text, b));
                    if default_index.is_some_and(|i| m[i]) {
                        default_seen.store(true, relaxed);
                    }
                    m
                };
                let involved = text.contains("workflow_call")
                    || text.contains(".github/workflows/")
                        && (text.contains("./.github") || text.contains("$/.github"));
                if !involved {
                    return (bytes, mentions, None);
                }
                let tree = match yaml::parse(text, Limits::default()) {
                    Ok(Some(root)) => Some((shown.clone(), text.to_string(), root)),
                    _ => None,
                };
                (bytes, mentions, tree)
            })
            .collect();
        let mut parsed: Vec<(String, String, Node)> = Vec::new();
        let mut mentions: Vec<[bool; 3]> = Vec::new();
        let mut all_bytes = Vec::with_capacity(read.len());
        for (b, m, p) in read {
            all_bytes.push(b);
            mentions.push(m);
            parsed.extend(p);
        }
        if !policy.production_branch_set {
            let default = policy.policy.production_branch.as_str();
            let seen = |i: usize| mentions.iter().any(|m| m[i]);
            let default_seen = BRANCH_NAMES
                .iter()
                .position(|b| *b == default)
                .is_none_or(seen);
            if !default_seen {
                self.inferred_production_branch = BRANCH_NAMES
                    .iter()
                    .enumerate()
                    .find(|(i, b)| **b != default && seen(*i))
                    .map(|(_, b)| b.to_string());
            }
        }
        let mut defaults: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for (shown, _, root) in &parsed {
            let wf = Workflow::from_root(root);
            if let Some(t) = wf.trigger("workflow_call") {
                let d = t
                    .inputs()
                    .iter()
                    .filter_map(|i| Some((i.name.to_string(), i.default?.as_str()?.to_string())))
                    .collect();
                defaults.insert(shown.clone(), d);
            }
        }
        // Callers first: a called workflow's jobs are placed through them.
        for (shown, _, root) in &parsed {
            let wf = Workflow::from_root(root);
            let triggers = super::triggers::describe(&wf);
            let release_only = super::environment::release_only(&wf);
            let pull_request_only = super::environment::pull_request_only(&wf);
            let in_reusable =
                !wf.triggers.is_empty() && wf.triggers.iter().all(|t| t.event == "workflow_call");
            for job in &wf.jobs {
                let Some(callee) = job.uses.and_then(|u| u.as_str()).and_then(local_path) else {
                    continue;
                };
                let with = job
                    .with
                    .and_then(|w| w.as_map())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|e| {
                        Some((e.key.as_str()?.to_string(), e.value.as_str()?.to_string()))
                    })
                    .collect();
                let mut job_triggers = triggers.clone();
                if let Some(cond) = job.node.get("if").and_then(|n| n.as_str()) {
                    for t in job_triggers.iter_mut() {
                        t.push_str(&format!(" (if {})", super::shorten(cond, 60)));
                    }
                }
                self.callers
                    .entry(callee.to_string())
                    .or_default()
                    .push(CallerJob {
                        path: shown.clone(),
                        job: job.id.to_string(),
                        name: job.display_name().to_string(),
                        with,
                        defaults: defaults.get(callee).cloned().unwrap_or_default(),
                        triggers: job_triggers,
                        release_only,
                        pull_request_only,
                        checked_after: false,
                        in_reusable,
                    });
            }
        }
        let by_path: HashMap<&str, (&str, &Node)> = parsed
            .iter()
            .map(|(shown, text, root)| (shown.as_str(), (text.as_str(), root)))
            .collect();
        let mut keys: Vec<&str> = by_path.keys().copied().collect();
        keys.sort();
        for key in keys.iter() {
            self.summarise_callee(key, &by_path, &mut HashSet::new(), policy);
        }
        // Which callers are followed by a check in their own workflow.
        for key in keys {
            let Some((text, root)) = by_path.get(key) else {
                continue;
            };
            let wf = Workflow::from_root(root);
            if !wf.jobs.iter().any(|j| {
                j.uses
                    .and_then(|u| u.as_str())
                    .is_some_and(|u| local_path(u).is_some())
            }) {
                continue;
            }
            let source = Source::new(text);
            let facts = WorkflowFacts::new(key, &source, &wf, policy, self);
            for job in &wf.jobs {
                let Some(callee) = job.uses.and_then(|u| u.as_str()).and_then(local_path) else {
                    continue;
                };
                let checked = wf.jobs.iter().zip(&facts.jobs).any(|(other, of)| {
                    other.id != job.id
                        && of.has(StepRole::SmokeTest)
                        && super::job_needs(&wf, other, job.id)
                });
                if let Some(list) = self.callers.get_mut(callee) {
                    for c in list
                        .iter_mut()
                        .filter(|c| c.path == *key && c.job == job.id)
                    {
                        c.checked_after = checked;
                    }
                }
            }
        }
        all_bytes
    }

    fn summarise_callee(
        &mut self,
        path: &str,
        files: &HashMap<&str, (&str, &Node)>,
        visiting: &mut HashSet<String>,
        policy: &CompiledPolicy,
    ) {
        if self.callees.contains_key(path) || !visiting.insert(path.to_string()) {
            return;
        }
        let Some((text, root)) = files.get(path) else {
            return;
        };
        let wf = Workflow::from_root(root);
        if wf.trigger("workflow_call").is_none() {
            return;
        }
        for job in &wf.jobs {
            if let Some(nested) = job.uses.and_then(|u| u.as_str()).and_then(local_path) {
                self.summarise_callee(nested, files, visiting, policy);
            }
        }
        let source = Source::new(text);
        let facts = WorkflowFacts::new(path, &source, &wf, policy, self);
        let mut summary = summarise(path, &wf, &facts);
        // A workflow whose only release roles depend on its inputs (an e2e run that is a
        // smoke test of a deployed URL, or CI against a local stack) is CI otherwise.
        if wf.jobs.iter().zip(&facts.jobs).any(|(j, f)| {
            let s = super::plain_signals(j, &wf, policy);
            f.roles.iter().all(|r| !r.when.is_empty()) && s.ci && !s.build_or_gate_only
        }) {
            summary.role = JobRole::Ci;
        }
        summary.stages = super::job_stages(&wf, policy, self)
            .into_iter()
            .flatten()
            .collect();
        visiting.remove(path);
        self.callees.insert(path.to_string(), summary);
    }
}

fn summarise(path: &str, wf: &Workflow<'_>, facts: &WorkflowFacts) -> CalleeSummary {
    let mut roles: Vec<(StepRole, Evidence, Vec<InputCondition>)> = Vec::new();
    for r in facts.jobs.iter().flat_map(|f| f.roles.iter()) {
        if !roles
            .iter()
            .any(|(role, _, when)| *role == r.role && *when == r.when)
        {
            roles.push((r.role, r.evidence.clone(), r.when.clone()));
        }
    }
    let deploy_jobs: Vec<(&Job<'_>, &super::JobFacts)> = wf
        .jobs
        .iter()
        .zip(&facts.jobs)
        .filter(|(_, f)| f.is_deploy())
        .collect();
    // The first deploy job that names an environment (a nested call names none).
    let environment = deploy_jobs
        .iter()
        .find_map(|(job, _)| job.environment.as_ref())
        .map(|env| match input_reference(env.name) {
            Some(input) => CalleeEnvironment::Input(input.to_string()),
            None if env.name.contains("${{") => CalleeEnvironment::Unknown,
            None => CalleeEnvironment::Named(env.name.to_string()),
        })
        .unwrap_or(CalleeEnvironment::Unknown);
    let has_concurrency = deploy_jobs
        .iter()
        .all(|(job, _)| job.concurrency.is_some() || wf.concurrency.is_some());
    let checks_after_rollout = wf.jobs.iter().zip(&facts.jobs).all(|(job, f)| {
        f.steps_with(StepRole::Rollout).all(|rollout| {
            f.steps_with(StepRole::SmokeTest)
                .any(|s| s.step > rollout.step)
                || f.called_checks_after_rollout && f.called.is_some()
                || wf.jobs.iter().zip(&facts.jobs).any(|(other, of)| {
                    other.id != job.id
                        && of.has(StepRole::SmokeTest)
                        && super::job_needs(wf, other, job.id)
                })
        })
    });
    let role = if facts.jobs.iter().any(|f| f.role == JobRole::Ci) {
        JobRole::Ci
    } else {
        JobRole::Other
    };
    let input_defaults = wf
        .trigger("workflow_call")
        .map(|t| {
            t.inputs()
                .iter()
                .filter_map(|i| Some((i.name.to_string(), i.default?.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    CalleeSummary {
        path: path.to_string(),
        roles,
        role,
        environment,
        input_defaults,
        has_concurrency,
        checks_after_rollout,
        declares_permissions: wf.permissions.is_some(),
        stages: BTreeSet::new(),
    }
}

/// Production branch names, most likely first.
const BRANCH_NAMES: [&str; 3] = ["main", "master", "develop"];

/// Does the workflow text name `branch` as a branch: a filter item (`- main`,
/// `[main, dev]`, `branches: main`), a quoted name or a `refs/heads/` ref? (Prose in
/// comments, `main.py` or `domain` do not count.)
fn mentions_branch(text: &str, branch: &str) -> bool {
    static PATTERNS: std::sync::LazyLock<Vec<regex::Regex>> = std::sync::LazyLock::new(|| {
        BRANCH_NAMES
            .iter()
            .map(|b| {
                ascii_words(&format!(
                    r#"(?m)^\s*-\s*['"]?{b}['"]?\s*(#.*)?$|[\[,]\s*['"]?{b}['"]?\s*[\],]|['"]{b}['"]|refs/heads/{b}\b|branches:\s*['"]?{b}['"]?\s*$"#
                ))
                .unwrap()
            })
            .collect()
    });
    BRANCH_NAMES
        .iter()
        .position(|b| *b == branch)
        .is_some_and(|i| text.contains(branch) && PATTERNS[i].is_match(text))
}

/// `${{ inputs.NAME }}` (spaces optional) → `NAME`.
pub fn input_reference(value: &str) -> Option<&str> {
    let inner = value.trim().strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let name = inner.strip_prefix("inputs.")?;
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        .then_some(name)
}

/// The policy stages the hooks of `.pre-commit-config.yaml` run: each hook's id and name
/// read like a command (`bandit` is a security scan, `ruff` a lint).
fn precommit_stages(files: &RepoRoot, policy: &CompiledPolicy) -> Option<BTreeSet<String>> {
    let text = [".pre-commit-config.yaml", ".pre-commit-config.yml"]
        .iter()
        .find_map(|f| files.read_relative(f, policy.max_file_size).ok())?;
    let root = yaml::parse(&text, Limits::default()).ok()??;
    let mut found = vec![false; policy.stages.len()];
    for repo in root
        .get("repos")
        .and_then(|r| r.as_seq())
        .unwrap_or_default()
    {
        for hook in repo
            .get("hooks")
            .and_then(|h| h.as_seq())
            .unwrap_or_default()
        {
            for key in ["id", "name", "entry"] {
                if let Some(v) = hook.get(key).and_then(|v| v.as_str()) {
                    policy.stage_commands.mark(v, &mut found);
                    policy.stage_names.mark(v, &mut found);
                }
            }
        }
    }
    Some(
        policy
            .stages
            .iter()
            .zip(found)
            .filter(|(_, hit)| *hit)
            .map(|(s, _)| s.name.clone())
            .collect(),
    )
}

/// `.github/actions/**/action.y(a)ml`, sorted, not following links out of the repository.
fn discover_actions(dir: &Path) -> Vec<(PathBuf, String)> {
    let root = dir.join(".github").join("actions");
    let mut out = Vec::new();
    let mut stack = vec![(root, ".github/actions".to_string(), 0usize)];
    while let Some((d, shown, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            let name = e.file_name().to_string_lossy().to_string();
            let child = format!("{shown}/{name}");
            if ft.is_dir() && depth < 8 {
                stack.push((e.path(), child, depth + 1));
            } else if !ft.is_dir() && (name == "action.yml" || name == "action.yaml") {
                // Symlinks too: linting reports one that leads out of the repository.
                out.push((e.path(), child));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

#[cfg(test)]
mod tests {
    use super::{input_reference, local_path};

    #[test]
    fn input_references() {
        assert_eq!(
            input_reference("${{ inputs.environment }}"),
            Some("environment")
        );
        assert_eq!(input_reference("${{inputs.env}}"), Some("env"));
        assert_eq!(input_reference("${{ inputs.env || 'staging' }}"), None);
        assert_eq!(input_reference("production"), None);
    }

    #[test]
    fn local_paths() {
        assert_eq!(
            local_path("./.github/actions/deploy/"),
            Some(".github/actions/deploy")
        );
        assert_eq!(
            local_path("$/.github/workflows/d.yml@main"),
            Some(".github/workflows/d.yml")
        );
        assert_eq!(local_path("org/repo/.github/workflows/d.yml@v1"), None);
    }
}
