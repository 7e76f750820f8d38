//! What GitHub accepts in a workflow file: the keys of each section, the events with their
//! filters and activity types, the permission scopes and their levels.
//!
//! Written from GitHub's own workflow schema (`workflow-v1.0.json` in `actions/languageservices`,
//! which GitHub's parser reads) and the workflow syntax reference. Keys are case-sensitive, as
//! GitHub compares them. Lists are sorted where a person reads them in a message.

/// Keys of the workflow itself.
pub const WORKFLOW_KEYS: &[&str] = &[
    "name",
    "run-name",
    "description",
    "on",
    "permissions",
    "env",
    "defaults",
    "concurrency",
    "jobs",
];

/// Keys of a job that runs on a runner (`runs-on:` and `steps:`).
pub const RUNNER_JOB_KEYS: &[&str] = &[
    "name",
    "permissions",
    "needs",
    "if",
    "runs-on",
    "snapshot",
    "environment",
    "concurrency",
    "outputs",
    "env",
    "defaults",
    "steps",
    "timeout-minutes",
    "cancel-timeout-minutes",
    "strategy",
    "continue-on-error",
    "container",
    "services",
];

/// Keys of a job that calls a reusable workflow (`uses:`).
pub const CALLER_JOB_KEYS: &[&str] = &[
    "name",
    "uses",
    "with",
    "secrets",
    "needs",
    "if",
    "permissions",
    "concurrency",
    "strategy",
];

/// Every key a job may have, of either kind.
pub const JOB_KEYS: &[&str] = &[
    "name",
    "permissions",
    "needs",
    "if",
    "runs-on",
    "snapshot",
    "environment",
    "concurrency",
    "outputs",
    "env",
    "defaults",
    "steps",
    "timeout-minutes",
    "cancel-timeout-minutes",
    "strategy",
    "continue-on-error",
    "container",
    "services",
    "uses",
    "with",
    "secrets",
];

/// What a step does: the key that decides which other keys it may have. A step has exactly
/// one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// `run:` a script.
    Run,
    /// `uses:` an action.
    Uses,
    /// `wait:` for background steps.
    Wait,
    /// `wait-all:` background steps.
    WaitAll,
    /// `cancel:` a background step.
    Cancel,
    /// `parallel:` a group of steps run at once.
    Parallel,
}

impl StepKind {
    pub const ALL: [StepKind; 6] = [
        StepKind::Run,
        StepKind::Uses,
        StepKind::Wait,
        StepKind::WaitAll,
        StepKind::Cancel,
        StepKind::Parallel,
    ];

    /// The key that makes a step this kind.
    pub fn key(self) -> &'static str {
        match self {
            StepKind::Run => "run",
            StepKind::Uses => "uses",
            StepKind::Wait => "wait",
            StepKind::WaitAll => "wait-all",
            StepKind::Cancel => "cancel",
            StepKind::Parallel => "parallel",
        }
    }

    pub fn from_key(key: &str) -> Option<StepKind> {
        StepKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The keys a step of this kind may have (its own key included).
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            StepKind::Run => &[
                "id",
                "if",
                "name",
                "run",
                "shell",
                "working-directory",
                "env",
                "continue-on-error",
                "timeout-minutes",
                "background",
            ],
            StepKind::Uses => &[
                "id",
                "if",
                "name",
                "uses",
                "with",
                "env",
                "continue-on-error",
                "timeout-minutes",
                "background",
            ],
            StepKind::Wait => &["id", "name", "wait", "continue-on-error"],
            StepKind::WaitAll => &["id", "name", "wait-all", "continue-on-error"],
            StepKind::Cancel => &["id", "name", "cancel", "continue-on-error"],
            // GitHub's schema gives a group no other key: not even a name.
            StepKind::Parallel => &["parallel"],
        }
    }

    /// What a step of this kind is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            StepKind::Run => "a `run:` step",
            StepKind::Uses => "a `uses:` step",
            StepKind::Wait => "a `wait:` step",
            StepKind::WaitAll => "a `wait-all:` step",
            StepKind::Cancel => "a `cancel:` step",
            StepKind::Parallel => "a `parallel:` group",
        }
    }
}

/// Every key a step may have, of any kind.
pub const STEP_KEYS: &[&str] = &[
    "id",
    "if",
    "name",
    "uses",
    "run",
    "working-directory",
    "shell",
    "with",
    "env",
    "continue-on-error",
    "timeout-minutes",
    "background",
    "wait",
    "wait-all",
    "cancel",
    "parallel",
];

/// Where a filter of an event is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub name: &'static str,
    /// The keys its configuration may have (`types`, `branches`, `inputs`…). Empty: the event
    /// takes no configuration.
    pub keys: &'static [&'static str],
    /// Its activity types for `types:`; empty when `types:` takes any name
    /// (`repository_dispatch`) or the event has none.
    pub types: &'static [&'static str],
}

const PR_KEYS: &[&str] = &[
    "types",
    "branches",
    "branches-ignore",
    "paths",
    "paths-ignore",
];
const TYPES: &[&str] = &["types"];
const CREATED_EDITED_DELETED: &[&str] = &["created", "edited", "deleted"];
const PR_TYPES: &[&str] = &[
    "assigned",
    "auto_merge_disabled",
    "auto_merge_enabled",
    "closed",
    "converted_to_draft",
    "demilestoned",
    "dequeued",
    "edited",
    "enqueued",
    "labeled",
    "locked",
    "milestoned",
    "opened",
    "ready_for_review",
    "reopened",
    "review_request_removed",
    "review_requested",
    "stacked",
    "synchronize",
    "unassigned",
    "unlabeled",
    "unlocked",
];

const fn event(
    name: &'static str,
    keys: &'static [&'static str],
    types: &'static [&'static str],
) -> Event {
    Event { name, keys, types }
}

/// Every event a workflow can be triggered by, sorted by name.
pub const EVENTS: &[Event] = &[
    event("branch_protection_rule", TYPES, CREATED_EDITED_DELETED),
    event(
        "check_run",
        TYPES,
        &["completed", "created", "requested_action", "rerequested"],
    ),
    event("check_suite", TYPES, &["completed"]),
    event("create", &[], &[]),
    event("delete", &[], &[]),
    event("deployment", &[], &[]),
    event("deployment_status", &[], &[]),
    event(
        "discussion",
        TYPES,
        &[
            "answered",
            "category_changed",
            "created",
            "deleted",
            "edited",
            "labeled",
            "locked",
            "pinned",
            "transferred",
            "unanswered",
            "unlabeled",
            "unlocked",
            "unpinned",
        ],
    ),
    event("discussion_comment", TYPES, CREATED_EDITED_DELETED),
    event("fork", &[], &[]),
    event("gollum", &[], &[]),
    event(
        "image_version",
        &["types", "names", "versions"],
        &["created", "deleted", "ready"],
    ),
    event("issue_comment", TYPES, CREATED_EDITED_DELETED),
    event(
        "issues",
        TYPES,
        &[
            "assigned",
            "closed",
            "deleted",
            "demilestoned",
            "edited",
            "field_added",
            "field_removed",
            "labeled",
            "locked",
            "milestoned",
            "opened",
            "pinned",
            "reopened",
            "transferred",
            "typed",
            "unassigned",
            "unlabeled",
            "unlocked",
            "unpinned",
            "untyped",
        ],
    ),
    event("label", TYPES, CREATED_EDITED_DELETED),
    event(
        "merge_group",
        &["types", "branches", "branches-ignore"],
        &["checks_requested"],
    ),
    event(
        "milestone",
        TYPES,
        &["closed", "created", "deleted", "edited", "opened"],
    ),
    event("page_build", &[], &[]),
    event(
        "project",
        TYPES,
        &["closed", "created", "deleted", "edited", "reopened"],
    ),
    event(
        "project_card",
        TYPES,
        &["converted", "created", "deleted", "edited", "moved"],
    ),
    event(
        "project_column",
        TYPES,
        &["created", "deleted", "moved", "updated"],
    ),
    event("public", &[], &[]),
    event("pull_request", PR_KEYS, PR_TYPES),
    event("pull_request_comment", TYPES, CREATED_EDITED_DELETED),
    event(
        "pull_request_review",
        TYPES,
        &["dismissed", "edited", "submitted"],
    ),
    event("pull_request_review_comment", TYPES, CREATED_EDITED_DELETED),
    event("pull_request_target", PR_KEYS, PR_TYPES),
    event(
        "push",
        &[
            "branches",
            "branches-ignore",
            "tags",
            "tags-ignore",
            "paths",
            "paths-ignore",
        ],
        &[],
    ),
    event("registry_package", TYPES, &["published", "updated"]),
    event(
        "release",
        TYPES,
        &[
            "created",
            "deleted",
            "edited",
            "prereleased",
            "published",
            "released",
            "unpublished",
        ],
    ),
    event("repository_dispatch", TYPES, &[]),
    event("schedule", &[], &[]),
    event("status", &[], &[]),
    event("watch", TYPES, &["started"]),
    event("workflow_call", &["inputs", "outputs", "secrets"], &[]),
    event("workflow_dispatch", &["inputs"], &[]),
    event(
        "workflow_run",
        &["types", "workflows", "branches", "branches-ignore"],
        &["completed", "in_progress", "requested"],
    ),
];

/// The event called `name` (case-sensitive, as GitHub reads it).
pub fn event_named(name: &str) -> Option<&'static Event> {
    EVENTS.iter().find(|e| e.name == name)
}

/// Every event name, sorted.
pub fn event_names() -> impl Iterator<Item = &'static str> {
    EVENTS.iter().map(|e| e.name)
}

/// Filters that are pairs: an event may have one of each pair, not both.
pub const EXCLUSIVE_FILTERS: &[(&str, &str)] = &[
    ("branches", "branches-ignore"),
    ("tags", "tags-ignore"),
    ("paths", "paths-ignore"),
];

/// Every key some event's configuration takes. GitHub ignores one of these on an event that
/// does not take it (`branches` on `release`: the workflow runs for every release), so only
/// other keys make a workflow invalid.
pub const EVENT_KEYS: &[&str] = &[
    "types",
    "branches",
    "branches-ignore",
    "tags",
    "tags-ignore",
    "paths",
    "paths-ignore",
    "workflows",
    "names",
    "versions",
    "inputs",
    "outputs",
    "secrets",
];

/// The keys of one `workflow_dispatch` input.
pub const DISPATCH_INPUT_KEYS: &[&str] = &["description", "type", "required", "default", "options"];
/// The types of a `workflow_dispatch` input.
pub const DISPATCH_INPUT_TYPES: &[&str] = &["string", "boolean", "number", "environment", "choice"];
/// Most inputs a `workflow_dispatch` event may have.
pub const DISPATCH_MAX_INPUTS: usize = 25;
/// The keys of one `workflow_call` input.
pub const CALL_INPUT_KEYS: &[&str] = &["description", "type", "required", "default"];
/// The types of a `workflow_call` input.
pub const CALL_INPUT_TYPES: &[&str] = &["string", "boolean", "number"];
/// The keys of one `workflow_call` output.
pub const CALL_OUTPUT_KEYS: &[&str] = &["description", "value"];
/// The keys of one `workflow_call` secret.
pub const CALL_SECRET_KEYS: &[&str] = &["description", "required"];
/// The keys of one `schedule` entry.
pub const SCHEDULE_KEYS: &[&str] = &["cron", "timezone"];

/// The levels a permission scope can be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Levels {
    /// `read`, `write` or `none`.
    Any,
    /// `read` or `none` (`models`, `vulnerability-alerts`).
    ReadOrNone,
    /// `write` or `none` (`id-token`, `copilot-requests`).
    WriteOrNone,
}

impl Levels {
    pub fn allowed(self) -> &'static [&'static str] {
        match self {
            Levels::Any => &["read", "write", "none"],
            Levels::ReadOrNone => &["read", "none"],
            Levels::WriteOrNone => &["write", "none"],
        }
    }
}

/// Every permission scope of the `GITHUB_TOKEN`, sorted, with its levels.
pub const PERMISSION_SCOPES: &[(&str, Levels)] = &[
    ("actions", Levels::Any),
    ("artifact-metadata", Levels::Any),
    ("attestations", Levels::Any),
    ("checks", Levels::Any),
    ("code-quality", Levels::Any),
    ("contents", Levels::Any),
    ("copilot-requests", Levels::WriteOrNone),
    ("deployments", Levels::Any),
    ("discussions", Levels::Any),
    ("drives", Levels::Any),
    ("id-token", Levels::WriteOrNone),
    ("issues", Levels::Any),
    ("models", Levels::ReadOrNone),
    ("packages", Levels::Any),
    ("pages", Levels::Any),
    ("pull-requests", Levels::Any),
    ("repository-projects", Levels::Any),
    ("security-events", Levels::Any),
    ("statuses", Levels::Any),
    ("vulnerability-alerts", Levels::ReadOrNone),
];

/// The whole-token shorthands of `permissions:`.
pub const PERMISSION_SHORTHANDS: &[&str] = &["read-all", "write-all"];

/// Keys of a job's `container:` (services add `entrypoint` and `command`).
pub const CONTAINER_KEYS: &[&str] = &["image", "options", "env", "ports", "volumes", "credentials"];
/// Keys of a service container.
pub const SERVICE_KEYS: &[&str] = &[
    "image",
    "options",
    "env",
    "ports",
    "volumes",
    "credentials",
    "entrypoint",
    "command",
];
/// Keys of a container's `credentials:`.
pub const CREDENTIALS_KEYS: &[&str] = &["username", "password"];
/// Keys of `strategy:`.
pub const STRATEGY_KEYS: &[&str] = &["fail-fast", "max-parallel", "matrix"];
/// Keys of `concurrency:` written as a mapping.
pub const CONCURRENCY_KEYS: &[&str] = &["group", "cancel-in-progress", "queue"];
/// Values of `concurrency.queue`.
pub const CONCURRENCY_QUEUES: &[&str] = &["single", "max"];
/// Keys of `environment:` written as a mapping.
pub const ENVIRONMENT_KEYS: &[&str] = &["name", "url", "deployment"];
/// Keys of `defaults:`, and of `defaults.run:`.
pub const DEFAULTS_KEYS: &[&str] = &["run"];
pub const DEFAULTS_RUN_KEYS: &[&str] = &["shell", "working-directory"];
/// Keys of `runs-on:` written as a mapping.
pub const RUNS_ON_KEYS: &[&str] = &["group", "labels"];
/// Keys of `snapshot:` written as a mapping.
pub const SNAPSHOT_KEYS: &[&str] = &["image-name", "if", "version"];

/// A job or step id GitHub accepts: a letter or `_` first, then letters, digits, `-` and `_`,
/// fewer than 100 characters.
pub fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() < 100
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_sorted_and_unique() {
        let names: Vec<&str> = event_names().collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert!(event_named("workflow_dispatch").is_some());
        assert!(event_named("workflow-dispatch").is_none());
    }

    #[test]
    fn event_keys_are_every_key_of_an_event() {
        for e in EVENTS {
            for k in e.keys {
                assert!(EVENT_KEYS.contains(k), "{}: {k}", e.name);
            }
        }
        for k in EVENT_KEYS {
            assert!(EVENTS.iter().any(|e| e.keys.contains(k)), "{k}");
        }
    }

    #[test]
    fn permission_scopes_are_sorted() {
        assert!(PERMISSION_SCOPES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn every_step_kind_key_is_a_step_key() {
        for kind in StepKind::ALL {
            assert_eq!(StepKind::from_key(kind.key()), Some(kind));
            for key in kind.keys() {
                assert!(STEP_KEYS.contains(key), "{key}");
            }
        }
    }

    #[test]
    fn ids() {
        for ok in ["build", "_x", "a-b_c9", "B"] {
            assert!(is_valid_id(ok), "{ok}");
        }
        for bad in ["", "-foo", "1-2-3", "v1.2.3", "echo for test", "é"] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }
}
