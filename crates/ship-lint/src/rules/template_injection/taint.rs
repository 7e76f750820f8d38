//! Which values an outsider controls, and how they travel: through `env:`, through
//! `$GITHUB_ENV`/`$GITHUB_OUTPUT` writes of earlier steps, and from the jobs that call a
//! reusable workflow into its `inputs`.

use super::scope::{env_definition, trigger_event, Conditions, EnvLevel, Events, ScriptLines};
use crate::context::WorkflowContext;
use crate::model::repository::CallerJob;
use ship_workflow::expr::flow::flow;
use ship_workflow::expr::{expressions, parse, Flow, Kinds};
use ship_workflow::{Job, Node, Step};

/// Why a value is attacker-controlled, as the finding explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    /// What the script interpolates: `github.event.pull_request.title`, `env.TITLE`.
    pub shown: String,
    /// Why that is attacker text: "the pull request's title".
    pub why: String,
    /// The value is already an environment variable of the step (`env.X`): the fix is to
    /// use `$X`, not to add one.
    pub env_name: Option<String>,
}

const PULL_REQUEST: &[&str] = &[
    "pull_request",
    "pull_request_target",
    "pull_request_review",
    "pull_request_review_comment",
];
const ISSUE: &[&str] = &["issues", "issue_comment"];
const COMMENT: &[&str] = &[
    "issue_comment",
    "pull_request_review_comment",
    "commit_comment",
    "discussion_comment",
];
const DISCUSSION: &[&str] = &["discussion", "discussion_comment"];
const PUSH: &[&str] = &["push"];
const WORKFLOW_RUN: &[&str] = &["workflow_run"];
const MERGE_GROUP: &[&str] = &["merge_group"];

/// Context paths whose text anyone who can open a pull request, issue or comment (or push a
/// commit that gets merged) chooses, with the events that carry them. Names of users and
/// repositories are not here: GitHub limits them to `[A-Za-z0-9._-]`. Neither are numbers,
/// SHAs, `github.ref` (a branch or tag of this repository, or `refs/pull/N/merge`), labels
/// and releases (people with triage or write access make those), nor `workflow_dispatch`
/// inputs (people with write access dispatch).
const SOURCES: &[(&str, &str, &[&str])] = &[
    (
        "github.head_ref",
        "the pull request's branch name, chosen by its author",
        PULL_REQUEST,
    ),
    (
        "github.event.pull_request.title",
        "the pull request's title",
        PULL_REQUEST,
    ),
    (
        "github.event.pull_request.body",
        "the pull request's description",
        PULL_REQUEST,
    ),
    (
        "github.event.pull_request.head.ref",
        "the pull request's branch name, chosen by its author",
        PULL_REQUEST,
    ),
    (
        "github.event.pull_request.head.label",
        "the pull request's `owner:branch`, chosen by its author",
        PULL_REQUEST,
    ),
    (
        "github.event.pull_request.head.repo.default_branch",
        "the fork's default branch name",
        PULL_REQUEST,
    ),
    (
        "github.event.pull_request.head.repo.description",
        "the fork's description",
        PULL_REQUEST,
    ),
    (
        "github.event.pull_request.head.repo.homepage",
        "the fork's homepage",
        PULL_REQUEST,
    ),
    ("github.event.issue.title", "the issue's title", ISSUE),
    ("github.event.issue.body", "the issue's text", ISSUE),
    ("github.event.comment.body", "the comment's text", COMMENT),
    (
        "github.event.review.body",
        "the review's text",
        &["pull_request_review"],
    ),
    (
        "github.event.discussion.title",
        "the discussion's title",
        DISCUSSION,
    ),
    (
        "github.event.discussion.body",
        "the discussion's text",
        DISCUSSION,
    ),
    (
        "github.event.pages.*.page_name",
        "a wiki page's name",
        &["gollum"],
    ),
    (
        "github.event.pages.*.title",
        "a wiki page's title",
        &["gollum"],
    ),
    (
        "github.event.commits.*.message",
        "a pushed commit's message, written by its author",
        PUSH,
    ),
    (
        "github.event.commits.*.author.name",
        "a commit author's name",
        PUSH,
    ),
    (
        "github.event.commits.*.author.email",
        "a commit author's email",
        PUSH,
    ),
    (
        "github.event.commits.*.committer.name",
        "a committer's name",
        PUSH,
    ),
    (
        "github.event.commits.*.committer.email",
        "a committer's email",
        PUSH,
    ),
    (
        "github.event.head_commit.message",
        "the pushed commit's message, written by its author",
        PUSH,
    ),
    (
        "github.event.head_commit.author.name",
        "the commit author's name",
        PUSH,
    ),
    (
        "github.event.head_commit.author.email",
        "the commit author's email",
        PUSH,
    ),
    (
        "github.event.head_commit.committer.name",
        "the committer's name",
        PUSH,
    ),
    (
        "github.event.head_commit.committer.email",
        "the committer's email",
        PUSH,
    ),
    (
        "github.event.workflow_run.head_branch",
        "the triggering run's branch name, a pull request's branch when a PR started it",
        WORKFLOW_RUN,
    ),
    (
        "github.event.workflow_run.display_title",
        "the triggering run's title (a PR title or commit message)",
        WORKFLOW_RUN,
    ),
    (
        "github.event.workflow_run.head_commit.message",
        "the triggering run's commit message",
        WORKFLOW_RUN,
    ),
    (
        "github.event.workflow_run.head_commit.author.name",
        "the triggering run's commit author",
        WORKFLOW_RUN,
    ),
    (
        "github.event.workflow_run.head_commit.author.email",
        "the triggering run's commit author's email",
        WORKFLOW_RUN,
    ),
    (
        "github.event.workflow_run.pull_requests.*.head.ref",
        "a pull request's branch name",
        WORKFLOW_RUN,
    ),
    (
        "github.event.workflow_run.head_repository.description",
        "the fork's description",
        WORKFLOW_RUN,
    ),
    (
        "github.event.merge_group.head_commit.message",
        "a merge queue commit's message (the pull request's title and text)",
        MERGE_GROUP,
    ),
    (
        "github.event.check_suite.head_branch",
        "the checked branch's name",
        &["check_suite"],
    ),
    (
        "github.event.check_run.check_suite.head_branch",
        "the checked branch's name",
        &["check_run"],
    ),
];

/// Segment-wise comparison with `*` matching one segment, case-insensitive. `Some(true)`:
/// the path is the pattern; `Some(false)`: the path is an object holding it.
fn matches(path: &str, pattern: &str) -> Option<bool> {
    let mut p = path.split('.');
    let mut q = pattern.split('.');
    loop {
        match (p.next(), q.next()) {
            (None, None) => return Some(true),
            (None, Some(_)) => return Some(false),
            (Some(_), None) => return None,
            (Some(a), Some(b)) => {
                if !(a == "*" || b == "*" || a.eq_ignore_ascii_case(b)) {
                    return None;
                }
            }
        }
    }
}

/// The attacker-controlled `github.*` value at `path`, for these events.
pub fn github_source(path: &str, events: &Events) -> Option<Taint> {
    let mut holder: Option<&str> = None;
    for (pattern, why, on) in SOURCES {
        if !events.includes_any(on) {
            continue;
        }
        match matches(path, pattern) {
            Some(true) => {
                return Some(Taint {
                    shown: path.to_string(),
                    why: (*why).to_string(),
                    env_name: None,
                })
            }
            Some(false) => holder = holder.or(Some(why)),
            None => {}
        }
    }
    holder.map(|why| Taint {
        shown: path.to_string(),
        why: format!("an object holding {why}"),
        env_name: None,
    })
}

/// A value written to `$GITHUB_ENV` or `$GITHUB_OUTPUT` by a step, with what reaches it.
#[derive(Debug, Clone)]
pub struct Write {
    pub step_id: Option<String>,
    pub to_env: bool,
    pub name: String,
    pub line: u32,
    pub taint: Taint,
}

/// Evaluates expressions at one place of a file.
pub struct Scope<'s, 'a> {
    pub cx: &'s WorkflowContext<'a>,
    pub job: Option<&'s Job<'a>>,
    pub step: Option<&'s Step<'a>>,
    pub events: Events,
    pub conditions: Conditions,
    pub level: EnvLevel,
    /// Tainted writes of earlier steps of the job.
    pub writes: &'s [Write],
    pub depth: usize,
}

/// How deep `env:` → `env:` and caller → caller chains are followed.
const MAX_HOPS: usize = 4;

impl<'s, 'a> Scope<'s, 'a> {
    /// The attacker text that can reach the value of `${{ inner }}`: empty when none can
    /// (or its value is a boolean or number). An expression that does not parse is judged
    /// by the context paths it names.
    pub fn taints(&self, inner: &str) -> Vec<Taint> {
        let mut classify = |path: &str| self.classify(path);
        let f = match parse(inner) {
            Ok(expr) => flow(&expr, &mut classify),
            Err(_) => {
                let mut f = Flow::clean(Kinds::ANY);
                for r in ship_workflow::expr::context_references(inner) {
                    for t in classify(&r).sources {
                        if !f.sources.contains(&t) {
                            f.sources.push(t);
                        }
                    }
                }
                f
            }
        };
        if f.carries_text() {
            f.sources
        } else {
            Vec::new()
        }
    }

    /// Every taint of every `${{ }}` in a string (an `env:` value, a `with:` value).
    pub fn taints_in(&self, text: &str) -> Vec<Taint> {
        let mut out: Vec<Taint> = Vec::new();
        for e in expressions(text) {
            for t in self.taints(e.inner) {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    }

    fn at(&self, level: EnvLevel) -> Scope<'s, 'a> {
        Scope {
            cx: self.cx,
            job: self.job,
            step: self.step,
            events: self.events.clone(),
            conditions: self.conditions.clone(),
            level,
            writes: self.writes,
            depth: self.depth + 1,
        }
    }

    /// The kinds of the value at a context path, and the attacker text it carries.
    fn classify(&self, path: &str) -> Flow<Taint> {
        if self.conditions.pinned(path).is_some() {
            // `if: github.head_ref == 'main'`: here the value is that literal.
            return Flow::clean(Kinds::STRING);
        }
        if self.conditions.trusts(path) {
            // `if: github.event.comment.author_association == 'MEMBER'`: a member wrote it.
            return Flow::clean(Kinds::ANY);
        }
        let lower = path.to_ascii_lowercase();
        let mut parts = lower.splitn(2, '.');
        let context = parts.next().unwrap_or("");
        let rest = parts.next().unwrap_or("");
        let original_rest = path.get(context.len() + 1..).unwrap_or("");
        match context {
            "github" => {
                if let Some(name) = rest.strip_prefix("event.inputs.") {
                    return self.input(name, true);
                }
                match github_source(path, &self.events) {
                    Some(t) => Flow::from(Kinds::ANY, t),
                    None => Flow::clean(Kinds::ANY),
                }
            }
            "inputs" if !rest.is_empty() && !rest.contains('.') => self.input(original_rest, false),
            "env" if !rest.is_empty() && !rest.contains('.') => self.env(original_rest),
            "steps" => self.step_output(original_rest),
            _ => Flow::clean(Kinds::ANY),
        }
    }

    /// `env.NAME`: the step's own `env:`, else a `$GITHUB_ENV` write of an earlier step
    /// (it overrides the job's and the workflow's `env:` from then on), else the job's or
    /// the workflow's `env:`.
    fn env(&self, name: &str) -> Flow<Taint> {
        if self.depth > MAX_HOPS {
            return Flow::clean(Kinds::ANY);
        }
        let definition = env_definition(self.cx, self.job, self.step, self.level, name);
        let from_step = definition.is_some_and(|(_, at)| at == EnvLevel::Step);
        if self.level == EnvLevel::Step && !from_step {
            if let Some(w) = self
                .writes
                .iter()
                .rev()
                .find(|w| w.to_env && w.name.eq_ignore_ascii_case(name))
            {
                return Flow::from(
                    Kinds::ANY,
                    Taint {
                        shown: format!("env.{name}"),
                        why: format!(
                            "written to `$GITHUB_ENV` on line {} from `{}`, {}",
                            w.line, w.taint.shown, w.taint.why
                        ),
                        env_name: Some(name.to_string()),
                    },
                );
            }
        }
        let Some((node, found_at)) = definition else {
            return Flow::clean(Kinds::ANY);
        };
        let Some(text) = node.as_str() else {
            return Flow::clean(Kinds::ANY);
        };
        match self.at(found_at.outer()).taints_in(text).into_iter().next() {
            Some(t) => Flow::from(
                Kinds::ANY,
                Taint {
                    shown: format!("env.{name}"),
                    why: format!(
                        "set on line {} from `{}`, {}",
                        node.span.start.line, t.shown, t.why
                    ),
                    env_name: Some(name.to_string()),
                },
            ),
            None => Flow::clean(Kinds::ANY),
        }
    }

    /// `steps.ID.outputs.NAME`: a `$GITHUB_OUTPUT` write of an earlier step. Other step
    /// outputs are computed by the workflow (or an action) and trusted.
    fn step_output(&self, rest: &str) -> Flow<Taint> {
        let mut parts = rest.split('.');
        let (Some(id), Some(outputs), Some(name), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Flow::clean(Kinds::ANY);
        };
        if !outputs.eq_ignore_ascii_case("outputs") {
            return Flow::clean(Kinds::ANY);
        }
        let found = self.writes.iter().find(|w| {
            !w.to_env
                && w.name.eq_ignore_ascii_case(name)
                && w.step_id
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(id))
        });
        match found {
            Some(w) => Flow::from(
                Kinds::STRING,
                Taint {
                    shown: format!("steps.{rest}"),
                    why: format!(
                        "written by step `{id}` on line {} from `{}`, {}",
                        w.line, w.taint.shown, w.taint.why
                    ),
                    env_name: None,
                },
            ),
            None => Flow::clean(Kinds::ANY),
        }
    }

    /// `inputs.NAME` (or `github.event.inputs.NAME`): typed inputs carry no text;
    /// `workflow_dispatch` inputs come from people with write access; a reusable workflow's
    /// inputs carry what its callers in the repository pass.
    fn input(&self, name: &str, via_event: bool) -> Flow<Taint> {
        let kinds = self.declared_kinds(name);
        if !kinds.intersects(Kinds::TEXT) || via_event || self.cx.is_action() {
            // A composite action's inputs come from the workflows that use it, which are
            // judged where they pass them.
            return Flow::clean(kinds);
        }
        let Some(call) = self.cx.workflow.trigger("workflow_call") else {
            return Flow::clean(kinds);
        };
        let call_kinds = call
            .inputs()
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(name))
            .map_or(Kinds::ANY, |i| kinds_of_type(i.node));
        if !call_kinds.intersects(Kinds::TEXT) {
            return Flow::clean(kinds);
        }
        let mut out = Flow::clean(kinds);
        let mut seen = vec![self.cx.path.to_string()];
        for t in caller_taints(self.cx, self.cx.path, name, &mut seen, self.depth) {
            if !out.sources.contains(&t) {
                out.sources.push(t);
            }
        }
        out
    }

    /// The kinds the declared `workflow_dispatch`/`workflow_call` inputs of this name allow.
    fn declared_kinds(&self, name: &str) -> Kinds {
        let mut kinds = Kinds::NONE;
        let mut declared = false;
        for event in ["workflow_dispatch", "workflow_call"] {
            let Some(t) = self.cx.workflow.trigger(event) else {
                continue;
            };
            if let Some(i) = t
                .inputs()
                .iter()
                .find(|i| i.name.eq_ignore_ascii_case(name))
            {
                declared = true;
                kinds = kinds.union(kinds_of_type(i.node));
            }
        }
        if declared {
            kinds
        } else {
            Kinds::ANY
        }
    }
}

/// The kinds an input's `type:` allows (`choice` and `environment` are strings from a fixed
/// list: no free text).
fn kinds_of_type(input: &Node) -> Kinds {
    match input.get("type").and_then(|t| t.as_str()) {
        Some("boolean") => Kinds::BOOL,
        Some("number") => Kinds::NUMBER,
        Some("choice") | Some("environment") => Kinds::NULL,
        _ => Kinds::ANY,
    }
}

/// The attacker text the callers of the reusable workflow at `path` pass as input `name`
/// (or its default), followed through callers that are reusable workflows themselves.
fn caller_taints(
    cx: &WorkflowContext<'_>,
    path: &str,
    name: &str,
    seen: &mut Vec<String>,
    depth: usize,
) -> Vec<Taint> {
    let mut out: Vec<Taint> = Vec::new();
    if depth > MAX_HOPS {
        return out;
    }
    for caller in cx.repo.callers_of(path) {
        let given = caller
            .with
            .iter()
            .chain(caller.defaults.iter())
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        let Some(value) = given else { continue };
        for e in expressions(value) {
            for t in caller_expression_taints(cx, caller, e.inner, seen, depth) {
                let t = Taint {
                    shown: format!("inputs.{name}"),
                    why: format!(
                        "`{}` job `{}` passes `{}`, {}",
                        caller.path, caller.job, t.shown, t.why
                    ),
                    env_name: None,
                };
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
    }
    out
}

/// An expression in a caller's `with:`, evaluated with what the caller's triggers carry.
fn caller_expression_taints(
    cx: &WorkflowContext<'_>,
    caller: &CallerJob,
    inner: &str,
    seen: &mut Vec<String>,
    depth: usize,
) -> Vec<Taint> {
    let mut events: Vec<String> = Vec::new();
    let mut any = false;
    for e in caller.triggers.iter().filter_map(|t| trigger_event(t)) {
        if e == "workflow_call" {
            any = true;
        }
        events.push(e.to_string());
    }
    let events = if any {
        Events::any()
    } else {
        Events::of_list(events)
    };
    let called = any;
    let mut nested: Vec<(String, Vec<Taint>)> = Vec::new();
    let mut classify = |p: &str| -> Flow<Taint> {
        let lower = p.to_ascii_lowercase();
        if let Some(input) = lower.strip_prefix("inputs.") {
            if !called || input.contains('.') || seen.contains(&caller.path) {
                return Flow::clean(Kinds::ANY);
            }
            let original = p.get("inputs.".len()..).unwrap_or(input);
            if let Some((_, ts)) = nested.iter().find(|(n, _)| n == input) {
                return Flow {
                    kinds: Kinds::ANY,
                    sources: ts.clone(),
                };
            }
            seen.push(caller.path.clone());
            let ts = caller_taints(cx, &caller.path, original, seen, depth + 1);
            seen.pop();
            nested.push((input.to_string(), ts.clone()));
            return Flow {
                kinds: Kinds::ANY,
                sources: ts,
            };
        }
        if lower.starts_with("github.") && !lower.starts_with("github.event.inputs.") {
            if let Some(t) = github_source(p, &events) {
                return Flow::from(Kinds::ANY, t);
            }
        }
        Flow::clean(Kinds::ANY)
    };
    let f = match parse(inner) {
        Ok(expr) => flow(&expr, &mut classify),
        Err(_) => return Vec::new(),
    };
    if f.carries_text() {
        f.sources
    } else {
        Vec::new()
    }
}

/// The `$GITHUB_ENV` and `$GITHUB_OUTPUT` writes in a `run:` script whose value carries
/// attacker text: `echo "NAME=…" >> "$GITHUB_OUTPUT"` and the `NAME<<DELIMITER` heredoc
/// form. A value carries it when it interpolates a tainted expression or expands an
/// environment variable (`$VAR`, `${VAR}`) that holds one.
pub fn tainted_writes(scope: &Scope<'_, '_>, step: &Step<'_>) -> Vec<Write> {
    let mut out = Vec::new();
    let Some(run) = step.run else { return out };
    let Some(script) = run.as_str() else {
        return out;
    };
    if !script.contains("GITHUB_ENV") && !script.contains("GITHUB_OUTPUT") {
        return out;
    }
    let step_id = step.id.and_then(|n| n.as_str()).map(str::to_string);
    let mut lines = ScriptLines::new(scope.cx.source, run);
    let mut heredoc: Option<(String, String, bool)> = None; // name, delimiter, to_env
    for line in script.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let line_no = lines.locate(line);
        let to_env = line.contains("GITHUB_ENV");
        let redirected = line.contains(">>") && (to_env || line.contains("GITHUB_OUTPUT"));
        if let Some((name, delimiter, env)) = &heredoc {
            if line.contains(delimiter.as_str()) && redirected && !line.contains('$') {
                heredoc = None;
                continue;
            }
            if redirected {
                let value = line.split(">>").next().unwrap_or("");
                if let Some(t) = value_taint(scope, value) {
                    out.push(Write {
                        step_id: step_id.clone(),
                        to_env: *env,
                        name: name.clone(),
                        line: line_no,
                        taint: t,
                    });
                }
            }
            continue;
        }
        if !redirected {
            continue;
        }
        let body = line.split(">>").next().unwrap_or("");
        let body = body
            .trim()
            .trim_start_matches("echo")
            .trim_start_matches(" -e")
            .trim()
            .trim_matches(['"', '\'']);
        let Some(eq) = body.find(['=', '<']) else {
            continue;
        };
        let name = body[..eq].trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            continue;
        }
        let rest = &body[eq..];
        if let Some(delimiter) = rest.strip_prefix("<<") {
            let delimiter = delimiter.trim().trim_matches(['"', '\'']).to_string();
            if !delimiter.is_empty() {
                heredoc = Some((name.to_string(), delimiter, to_env));
            }
            continue;
        }
        let value = rest.trim_start_matches('=');
        if let Some(t) = value_taint(scope, value) {
            out.push(Write {
                step_id: step_id.clone(),
                to_env,
                name: name.to_string(),
                line: line_no,
                taint: t,
            });
        }
    }
    out
}

/// The first attacker text in a shell value: a tainted `${{ }}`, or a `$VAR` whose `env:`
/// definition is tainted.
fn value_taint(scope: &Scope<'_, '_>, value: &str) -> Option<Taint> {
    if let Some(t) = scope.taints_in(value).into_iter().next() {
        return Some(t);
    }
    for var in shell_variables(value) {
        if let Some(t) = scope.env(var).sources.into_iter().next() {
            return Some(Taint {
                shown: format!("${var}"),
                why: t.why,
                env_name: Some(var.to_string()),
            });
        }
    }
    None
}

/// The names of `$VAR` and `${VAR}` expansions in shell text.
pub fn shell_variables(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let braced = bytes.get(i + 1) == Some(&b'{');
        let start = i + 1 + usize::from(braced);
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        if end > start && !bytes[start].is_ascii_digit() {
            out.push(&text[start..end]);
        }
        i = end.max(i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_follow_events() {
        let pr = Events::of_list(vec!["pull_request".into()]);
        let push = Events::of_list(vec!["push".into()]);
        assert!(github_source("github.event.pull_request.title", &pr).is_some());
        assert!(github_source("github.head_ref", &pr).is_some());
        assert!(github_source("github.head_ref", &push).is_none());
        assert!(github_source("github.event.head_commit.message", &push).is_some());
        assert!(github_source("github.event.commits.*.message", &push).is_some());
        assert!(github_source("github.event.pull_request.number", &pr).is_none());
        assert!(github_source("github.event.pull_request.head.sha", &pr).is_none());
        assert!(github_source("github.event.pull_request.head.repo.full_name", &pr).is_none());
        assert!(github_source("github.sha", &Events::any()).is_none());
        // Objects holding attacker text.
        assert!(github_source("github.event", &pr).is_some());
        assert!(github_source("github", &pr).is_some());
        assert!(github_source("github.event", &Events::of_list(vec!["schedule".into()])).is_none());
        assert!(github_source("GITHUB.Event.Issue.Title", &Events::any()).is_some());
    }

    #[test]
    fn shell_variable_names() {
        assert_eq!(shell_variables("a=$X ${Y}z $1 $$ ${ {"), vec!["X", "Y"]);
    }
}
