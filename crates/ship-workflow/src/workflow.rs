//! A typed, borrowed view of a workflow over the positioned YAML tree.
//!
//! The view is lenient on purpose: a job with a malformed `steps:` still yields its other
//! fields, so one typo produces one `workflow-syntax` finding and every other rule still runs.

use crate::yaml::{Entry, Node};

/// The keys GitHub accepts in a workflow, a job and a step (more in [`crate::spec`]).
pub use crate::spec::{JOB_KEYS, STEP_KEYS, WORKFLOW_KEYS};

pub struct Workflow<'a> {
    pub root: &'a Node,
    pub name: Option<&'a Node>,
    /// The `on:` entry (key and value).
    pub on: Option<&'a Entry>,
    pub triggers: Vec<Trigger<'a>>,
    pub permissions: Option<&'a Entry>,
    pub env: Option<&'a Node>,
    pub concurrency: Option<&'a Entry>,
    /// The `jobs:` entry.
    pub jobs_entry: Option<&'a Entry>,
    pub jobs: Vec<Job<'a>>,
}

/// One event under `on:`.
pub struct Trigger<'a> {
    pub event: &'a str,
    /// The event name node (in a list or as a key).
    pub key: &'a Node,
    /// Its configuration (filters, inputs), when written as a map.
    pub config: Option<&'a Node>,
}

/// A `workflow_dispatch` or `workflow_call` input.
pub struct WorkflowInput<'a> {
    pub name: &'a str,
    pub key: &'a Node,
    pub node: &'a Node,
    pub required: Option<&'a Node>,
    pub default: Option<&'a Node>,
}

impl<'a> Trigger<'a> {
    /// A filter list such as `branches`, `tags`, `branches-ignore`, `paths`.
    pub fn filter(&self, name: &str) -> Option<&'a Node> {
        self.config?.get(name)
    }

    /// The patterns of a filter, as strings with their nodes.
    pub fn patterns(&self, name: &str) -> Vec<&'a Node> {
        self.filter(name).map(|n| n.str_items()).unwrap_or_default()
    }

    pub fn inputs(&self) -> Vec<WorkflowInput<'a>> {
        let Some(entries) = self
            .config
            .and_then(|c| c.get("inputs"))
            .and_then(|i| i.as_map())
        else {
            return Vec::new();
        };
        entries
            .iter()
            .filter_map(|e| {
                Some(WorkflowInput {
                    name: e.key.as_str()?,
                    key: &e.key,
                    node: &e.value,
                    required: e.value.get("required"),
                    default: e.value.get("default"),
                })
            })
            .collect()
    }
}

impl<'a> WorkflowInput<'a> {
    pub fn is_required(&self) -> bool {
        self.required.and_then(|r| r.as_bool()).unwrap_or(false)
    }
}

/// The environment a job names: `environment: production` or `environment: {name: production}`.
pub struct EnvironmentRef<'a> {
    pub name: &'a str,
    pub node: &'a Node,
}

pub struct Job<'a> {
    pub id: &'a str,
    pub key: &'a Node,
    pub node: &'a Node,
    pub name: Option<&'a Node>,
    pub needs: Vec<&'a Node>,
    pub environment: Option<EnvironmentRef<'a>>,
    /// The `environment:` entry itself, even when its value is malformed.
    pub environment_entry: Option<&'a Entry>,
    pub permissions: Option<&'a Entry>,
    pub concurrency: Option<&'a Entry>,
    pub env: Option<&'a Node>,
    /// A reusable-workflow call (`jobs.<id>.uses`).
    pub uses: Option<&'a Node>,
    pub with: Option<&'a Node>,
    /// Its `run:` and `uses:` steps in document order, those of `parallel:` groups included.
    pub steps: Vec<Step<'a>>,
}

/// A step of a job: a `run:` or `uses:` step of its `steps:`, or of a `parallel:` group in
/// them. Control steps (`wait:`, `wait-all:`, `cancel:`) and the groups themselves do nothing
/// of their own and are not steps here.
pub struct Step<'a> {
    /// Where the step comes in the job, in document order, counting the steps inside
    /// `parallel:` groups where the group stands: a step with a larger index is written later
    /// and starts later. (Steps of one group start together: see [`Step::group`].)
    pub index: usize,
    pub node: &'a Node,
    /// The `parallel:` group the step belongs to, if any.
    pub group: Option<StepGroup<'a>>,
    /// `background: true`: the job goes on to the next step without waiting for this one.
    pub background: bool,
    pub id: Option<&'a Node>,
    pub name: Option<&'a Node>,
    pub uses: Option<&'a Node>,
    pub run: Option<&'a Node>,
    pub with: Option<&'a Node>,
    pub env: Option<&'a Node>,
}

/// A `parallel:` group of steps: GitHub starts them together and waits for all of them
/// before the step after the group.
#[derive(Clone, Copy)]
pub struct StepGroup<'a> {
    /// The group's item in the job's `steps:` (the mapping with `parallel:`).
    pub node: &'a Node,
    /// Its position in the job's `steps:` list.
    pub position: usize,
}

impl<'a> Workflow<'a> {
    pub fn from_root(root: &'a Node) -> Self {
        let on = root.entry("on");
        let triggers = on.map(|e| triggers_of(&e.value)).unwrap_or_default();
        let jobs_entry = root.entry("jobs");
        let jobs = jobs_entry
            .and_then(|e| e.value.as_map())
            .map(|entries| entries.iter().filter_map(Job::from_entry).collect())
            .unwrap_or_default();
        Workflow {
            root,
            name: root.get("name"),
            on,
            triggers,
            permissions: root.entry("permissions"),
            env: root.get("env"),
            concurrency: root.entry("concurrency"),
            jobs_entry,
            jobs,
        }
    }

    pub fn trigger(&self, event: &str) -> Option<&Trigger<'a>> {
        self.triggers.iter().find(|t| t.event == event)
    }

    pub fn job(&self, id: &str) -> Option<&Job<'a>> {
        self.jobs.iter().find(|j| j.id == id)
    }

    /// Ids of every job `job` depends on, directly or transitively (cycles tolerated).
    pub fn needs_closure(&self, job: &Job<'a>) -> Vec<&'a str> {
        let mut seen: Vec<&'a str> = Vec::new();
        let mut todo: Vec<&'a str> = job.needs_ids();
        while let Some(id) = todo.pop() {
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            if let Some(j) = self.job(id) {
                todo.extend(j.needs_ids());
            }
        }
        seen
    }
}

fn triggers_of(on: &Node) -> Vec<Trigger<'_>> {
    if let Some(entries) = on.as_map() {
        return entries
            .iter()
            .filter_map(|e| {
                Some(Trigger {
                    event: e.key.as_str()?,
                    key: &e.key,
                    config: (!e.value.is_null()).then_some(&e.value),
                })
            })
            .collect();
    }
    on.str_items()
        .into_iter()
        .filter_map(|n| {
            Some(Trigger {
                event: n.as_str()?,
                key: n,
                config: None,
            })
        })
        .collect()
}

impl<'a> Job<'a> {
    fn from_entry(entry: &'a Entry) -> Option<Self> {
        let id = entry.key.as_str()?;
        let node = &entry.value;
        let environment_entry = node.entry("environment");
        let environment = environment_entry.and_then(|e| {
            let name_node = if e.value.as_map().is_some() {
                e.value.get("name")?
            } else {
                &e.value
            };
            Some(EnvironmentRef {
                name: name_node.as_str().filter(|s| !s.is_empty())?,
                node: name_node,
            })
        });
        let steps = node.get("steps").map(steps_of).unwrap_or_default();
        Some(Job {
            id,
            key: &entry.key,
            node,
            name: node.get("name"),
            needs: node.get("needs").map(|n| n.str_items()).unwrap_or_default(),
            environment,
            environment_entry,
            permissions: node.entry("permissions"),
            concurrency: node.entry("concurrency"),
            env: node.get("env"),
            uses: node.get("uses"),
            with: node.get("with"),
            steps,
        })
    }

    pub fn needs_ids(&self) -> Vec<&'a str> {
        self.needs.iter().filter_map(|n| n.as_str()).collect()
    }

    /// The job's display name, else its id.
    pub fn display_name(&self) -> &'a str {
        self.name.and_then(|n| n.as_str()).unwrap_or(self.id)
    }
}

/// The steps of a job's `steps:` value, with the steps of `parallel:` groups in their place.
pub(crate) fn steps_of(steps: &Node) -> Vec<Step<'_>> {
    let Some(items) = steps.as_seq() else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    let mut index = 0;
    for (position, item) in items.iter().enumerate() {
        match item.get("parallel").and_then(Node::as_seq) {
            Some(members) => {
                let group = Some(StepGroup {
                    node: item,
                    position,
                });
                // GitHub refuses a group in a group; its steps are still read, as the group's.
                let mut todo: Vec<&Node> = members.iter().rev().collect();
                while let Some(member) = todo.pop() {
                    match member.get("parallel").and_then(Node::as_seq) {
                        Some(inner) => todo.extend(inner.iter().rev()),
                        None => {
                            out.extend(Step::read(index, member, group));
                            index += 1;
                        }
                    }
                }
            }
            None => {
                out.extend(Step::read(index, item, None));
                index += 1;
            }
        }
    }
    out
}

impl<'a> Step<'a> {
    /// The step `node` is, unless it is not a mapping or only controls other steps.
    fn read(index: usize, node: &'a Node, group: Option<StepGroup<'a>>) -> Option<Self> {
        let mut step = Step {
            index,
            node,
            group,
            background: false,
            id: None,
            name: None,
            uses: None,
            run: None,
            with: None,
            env: None,
        };
        let mut control = false;
        // One pass over the keys; the first of a repeated key wins, as in `Node::get`.
        for e in node.as_map()? {
            let value = Some(&e.value);
            match e.key.as_str() {
                Some("id") if step.id.is_none() => step.id = value,
                Some("name") if step.name.is_none() => step.name = value,
                Some("uses") if step.uses.is_none() => step.uses = value,
                Some("run") if step.run.is_none() => step.run = value,
                Some("with") if step.with.is_none() => step.with = value,
                Some("env") if step.env.is_none() => step.env = value,
                Some("background") if e.duplicate_of.is_none() => {
                    step.background = e.value.as_bool() == Some(true)
                }
                Some("wait" | "wait-all" | "cancel" | "parallel") => control = true,
                _ => {}
            }
        }
        if control && step.uses.is_none() && step.run.is_none() {
            return None;
        }
        Some(step)
    }

    pub fn uses_str(&self) -> Option<&'a str> {
        self.uses.and_then(|u| u.as_str())
    }

    pub fn run_str(&self) -> Option<&'a str> {
        self.run.and_then(|r| r.as_str())
    }

    pub fn with_str(&self, key: &str) -> Option<&'a str> {
        self.with.and_then(|w| w.get(key)).and_then(|v| v.as_str())
    }

    pub fn name_str(&self) -> Option<&'a str> {
        self.name.and_then(|n| n.as_str())
    }

    /// What `uses:` refers to, parsed.
    pub fn action(&self) -> Option<ActionRef<'a>> {
        self.uses_str().map(ActionRef::parse)
    }
}

/// A parsed `uses:` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionRef<'a> {
    /// `./path/to/action` in the same repository.
    Local(&'a str),
    /// `docker://image[:tag|@digest]`.
    Docker(&'a str),
    /// `owner/repo[/path]@ref`.
    Repository {
        owner: &'a str,
        repo: &'a str,
        path: Option<&'a str>,
        git_ref: Option<&'a str>,
    },
}

impl<'a> ActionRef<'a> {
    pub fn parse(uses: &'a str) -> Self {
        let uses = uses.trim();
        if uses.starts_with("./") || uses.starts_with("../") || uses == "." {
            return ActionRef::Local(uses);
        }
        if let Some(image) = uses.strip_prefix("docker://") {
            return ActionRef::Docker(image);
        }
        let (target, git_ref) = match uses.split_once('@') {
            Some((t, r)) => (t, Some(r)),
            None => (uses, None),
        };
        let mut parts = target.splitn(3, '/');
        let owner = parts.next().unwrap_or("");
        let repo = parts.next().unwrap_or("");
        let path = parts.next();
        ActionRef::Repository {
            owner,
            repo,
            path,
            git_ref,
        }
    }

    /// `owner/repo/path` without the ref, lowercased comparisons are up to the caller.
    pub fn name_without_ref(&self) -> String {
        // Built without `format!`: rules ask for it for every step.
        let mut name = String::with_capacity(64);
        match self {
            ActionRef::Local(p) => name.push_str(p),
            ActionRef::Docker(i) => {
                name.push_str("docker://");
                name.push_str(i);
            }
            ActionRef::Repository {
                owner, repo, path, ..
            } => {
                name.push_str(owner);
                name.push('/');
                name.push_str(repo);
                if let Some(p) = path {
                    name.push('/');
                    name.push_str(p);
                }
            }
        }
        name
    }

    /// [`ActionRef::name_without_ref`] in lower case: how the policy and the rules compare
    /// action names (GitHub's owner and repository names ignore case).
    pub fn lowercase_name(&self) -> String {
        let mut name = self.name_without_ref();
        name.make_ascii_lowercase();
        name
    }

    /// The last path segment: the action's name (`ecs-rollout` for `org/ship/ecs-rollout@v1`).
    pub fn leaf(&self) -> &'a str {
        let name = match self {
            ActionRef::Local(p) => p,
            ActionRef::Docker(i) => i,
            ActionRef::Repository { repo, path, .. } => path.unwrap_or(repo),
        };
        name.trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{parse, Limits};

    #[test]
    fn action_names_without_their_ref() {
        for (uses, name, lower) in [
            (
                "Org/Ship/ecs-rollout@v1",
                "Org/Ship/ecs-rollout",
                "org/ship/ecs-rollout",
            ),
            (
                "actions/checkout@v4",
                "actions/checkout",
                "actions/checkout",
            ),
            ("owner", "owner/", "owner/"),
            (
                "./.github/actions/Deploy",
                "./.github/actions/Deploy",
                "./.github/actions/deploy",
            ),
            (
                "docker://alpine:3",
                "docker://alpine:3",
                "docker://alpine:3",
            ),
        ] {
            let a = ActionRef::parse(uses);
            assert_eq!(a.name_without_ref(), name, "{uses}");
            assert_eq!(a.lowercase_name(), lower, "{uses}");
        }
    }

    #[test]
    fn reads_triggers_in_all_three_shapes() {
        for (src, n) in [
            ("on: push\njobs: {}\n", 1),
            ("on: [push, pull_request]\njobs: {}\n", 2),
            (
                "on:\n  push:\n    branches: [main]\n  workflow_dispatch:\njobs: {}\n",
                2,
            ),
        ] {
            let root = parse(src, Limits::default()).unwrap().unwrap();
            let wf = Workflow::from_root(&root);
            assert_eq!(wf.triggers.len(), n, "{src}");
        }
    }

    #[test]
    fn reads_jobs_steps_and_environment() {
        let src = "on: push\njobs:\n  deploy:\n    needs: [build]\n    environment:\n      name: production\n    steps:\n      - uses: org/ship/ecs-rollout@v1\n      - run: echo hi\n  build:\n    steps: []\n";
        let root = parse(src, Limits::default()).unwrap().unwrap();
        let wf = Workflow::from_root(&root);
        let deploy = wf.job("deploy").unwrap();
        assert_eq!(deploy.environment.as_ref().unwrap().name, "production");
        assert_eq!(deploy.steps.len(), 2);
        assert_eq!(deploy.steps[0].action().unwrap().leaf(), "ecs-rollout");
        assert_eq!(wf.needs_closure(deploy), vec!["build"]);
    }

    #[test]
    fn steps_of_parallel_groups_are_steps_of_the_job() {
        let src = "on: push\njobs:\n  ci:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - id: db\n        run: ./start-db\n        background: true\n      - parallel:\n          - run: make lint\n          - uses: org/ship/ecs-rollout@v1\n      - wait: db\n      - wait-all:\n      - cancel: db\n      - run: make test\n";
        let root = parse(src, Limits::default()).unwrap().unwrap();
        let wf = Workflow::from_root(&root);
        let steps = &wf.job("ci").unwrap().steps;
        type Seen<'a> = (usize, Option<&'a str>, Option<&'a str>, Option<usize>, bool);
        let seen: Vec<Seen> = steps
            .iter()
            .map(|s| {
                (
                    s.index,
                    s.run_str(),
                    s.uses_str(),
                    s.group.map(|g| g.position),
                    s.background,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (0, None, Some("actions/checkout@v4"), None, false),
                (1, Some("./start-db"), None, None, true),
                (2, Some("make lint"), None, Some(2), false),
                (3, None, Some("org/ship/ecs-rollout@v1"), Some(2), false),
                (7, Some("make test"), None, None, false),
            ]
        );
    }

    #[test]
    fn parses_action_refs() {
        assert_eq!(
            ActionRef::parse("actions/checkout@v4"),
            ActionRef::Repository {
                owner: "actions",
                repo: "checkout",
                path: None,
                git_ref: Some("v4")
            }
        );
        assert_eq!(ActionRef::parse("./actions/rollback").leaf(), "rollback");
        assert_eq!(
            ActionRef::parse("docker://alpine:3"),
            ActionRef::Docker("alpine:3")
        );
    }
}
