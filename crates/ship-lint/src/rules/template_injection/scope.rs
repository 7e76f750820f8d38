//! What is known where a step runs: which events can have started it (the workflow's
//! triggers, a reusable workflow's callers' triggers, narrowed by `if:`), and which
//! context values its `if:` conditions pin to a literal. Shared with dangerous-trigger.

use crate::context::WorkflowContext;
use ship_workflow::expr::{parse_condition, CompareOp, Expr};
use ship_workflow::{Job, Node, Source, Step};

/// The events that can start a job or step; `None` when any can (a composite action, or a
/// reusable workflow called from outside the repository).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Events(Option<Vec<String>>);

/// Events whose `github.ref` is `refs/pull/N/merge`: a condition that pins `github.ref` to a
/// branch or tag rules them out.
const PULL_REF_EVENTS: &[&str] = &[
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
];

impl Events {
    pub fn any() -> Self {
        Events(None)
    }

    pub fn of_list(list: Vec<String>) -> Self {
        Events(Some(list))
    }

    /// The events that start the file: its triggers; for `workflow_call`, the triggers of
    /// its callers in the repository (any event when it has none: it is called from
    /// elsewhere).
    pub fn of_file(cx: &WorkflowContext<'_>) -> Self {
        if cx.is_action() {
            return Events::any();
        }
        let mut out: Vec<String> = Vec::new();
        for t in &cx.workflow.triggers {
            if t.event != "workflow_call" {
                push_unique(&mut out, t.event);
                continue;
            }
            let callers = cx.repo.callers_of(cx.path);
            if callers.is_empty() {
                return Events::any();
            }
            for c in callers {
                for event in c.triggers.iter().filter_map(|t| trigger_event(t)) {
                    if event == "workflow_call" {
                        // A chain of reusable workflows: do not follow it further.
                        return Events::any();
                    }
                    push_unique(&mut out, event);
                }
            }
        }
        Events(Some(out))
    }

    /// Some of `events` can start it.
    pub fn includes_any(&self, events: &[&str]) -> bool {
        match &self.0 {
            None => true,
            Some(list) => list.iter().any(|e| events.contains(&e.as_str())),
        }
    }

    /// The events, when known.
    pub fn known(&self) -> Option<&[String]> {
        self.0.as_deref()
    }

    /// Narrowed by what a condition's conjuncts say: `github.event_name == 'x'` (or `!=`),
    /// `github.ref` pinned to a branch or tag.
    pub fn narrowed(&self, cond: &Conditions) -> Events {
        let mut events = self.0.clone();
        for (path, value) in &cond.equal {
            if path.eq_ignore_ascii_case("github.event_name") {
                events = Some(match events {
                    None => vec![value.clone()],
                    Some(list) => list.into_iter().filter(|e| e == value).collect(),
                });
            } else if path.eq_ignore_ascii_case("github.ref")
                && (value.starts_with("refs/heads/") || value.starts_with("refs/tags/"))
            {
                if let Some(list) = &mut events {
                    list.retain(|e| !PULL_REF_EVENTS.contains(&e.as_str()));
                }
            }
        }
        for (path, value) in &cond.not_equal {
            if path.eq_ignore_ascii_case("github.event_name") {
                if let Some(list) = &mut events {
                    list.retain(|e| e != value);
                }
            }
        }
        for (path, prefix) in &cond.prefixes {
            if path.eq_ignore_ascii_case("github.ref")
                && (prefix.starts_with("refs/heads/") || prefix.starts_with("refs/tags/"))
            {
                if let Some(list) = &mut events {
                    list.retain(|e| !PULL_REF_EVENTS.contains(&e.as_str()));
                }
            }
        }
        Events(events)
    }
}

fn push_unique(list: &mut Vec<String>, event: &str) {
    if !list.iter().any(|e| e == event) {
        list.push(event.to_string());
    }
}

/// The event of a trigger description (`push: branches main`, `workflow_dispatch (inputs
/// version)`, `pull_request_target (if …)`).
pub fn trigger_event(description: &str) -> Option<&str> {
    description
        .split([':', ' ', '('])
        .next()
        .filter(|e| !e.is_empty())
}

/// What the `if:` conditions of a job and a step say must hold, from their top-level
/// `&&` operands.
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    /// `path == 'literal'`.
    pub equal: Vec<(String, String)>,
    /// `path != 'literal'`.
    pub not_equal: Vec<(String, String)>,
    /// `startsWith(path, 'literal')`.
    pub prefixes: Vec<(String, String)>,
    /// Event objects whose author the condition admits only when trusted
    /// (`github.event.comment` for `comment.author_association == 'MEMBER'`; the pull
    /// request for same-repository pull requests): their text is not an outsider's.
    pub trusted: Vec<String>,
}

/// `author_association` values of people with write access to the repository.
pub const TRUSTED_ASSOCIATIONS: &[&str] = &["owner", "member", "collaborator"];

impl Conditions {
    /// The conditions of a job's and a step's `if:` (either may be absent).
    pub fn of(job: Option<&Job<'_>>, step: Option<&Step<'_>>) -> Self {
        let mut out = Conditions::default();
        let job_if = job.and_then(|j| j.node.get("if"));
        let step_if = step.and_then(|s| s.node.get("if"));
        for node in [job_if, step_if].into_iter().flatten() {
            out.add(node);
        }
        out
    }

    /// These conditions and a step's own `if:`.
    pub fn with_step(&self, step: &Step<'_>) -> Self {
        let mut out = self.clone();
        if let Some(node) = step.node.get("if") {
            out.add(node);
        }
        out
    }

    fn add(&mut self, node: &Node) {
        if let Some(text) = node.as_str() {
            self.add_text(text);
        }
    }

    fn add_text(&mut self, text: &str) {
        let Ok(expr) = parse_condition(text) else {
            return;
        };
        for c in expr.conjuncts() {
            self.add_conjunct(c);
        }
    }

    fn add_conjunct(&mut self, c: &Expr<'_>) {
        if let Some(objects) = trusted_objects(c) {
            for o in objects {
                if !self.trusted.contains(&o) {
                    self.trusted.push(o);
                }
            }
        }
        if let Some((path, value)) = c.equality() {
            self.equal.push((path, value.to_string()));
            return;
        }
        if let Expr::Compare(CompareOp::Ne, a, b) = c {
            if let (Some(path), Some(value)) = (a.path(), b.as_str()) {
                self.not_equal.push((path, value.to_string()));
            } else if let (Some(value), Some(path)) = (a.as_str(), b.path()) {
                self.not_equal.push((path, value.to_string()));
            }
            return;
        }
        if let Some([subject, prefix]) = c.call("startsWith") {
            if let (Some(path), Some(prefix)) = (subject.path(), prefix.as_str()) {
                self.prefixes.push((path, prefix.to_string()));
            }
        }
    }

    /// The condition admits only a trusted author of the object holding this path.
    pub fn trusts(&self, path: &str) -> bool {
        self.trusted.iter().any(|o| {
            path.len() >= o.len()
                && path
                    .get(..o.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(o))
                && (path.len() == o.len() || path.as_bytes()[o.len()] == b'.')
        })
    }

    /// The literal a path is pinned to, if any.
    pub fn pinned(&self, path: &str) -> Option<&str> {
        self.equal
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(path))
            .map(|(_, v)| v.as_str())
    }
}

/// The event objects an `if:` operand admits only from trusted authors: `Some` when the
/// operand is such a check.
pub fn trusted_objects(c: &Expr<'_>) -> Option<Vec<String>> {
    // A pull request from this repository (or from a bot account) was opened by someone
    // with write access; its title, text and branch name are theirs.
    let pull_request = || {
        Some(vec![
            "github.event.pull_request".to_string(),
            "github.head_ref".to_string(),
        ])
    };
    let is = |p: &str, q: &str| p.eq_ignore_ascii_case(q);
    match c {
        Expr::Or(items) => {
            let mut all: Vec<String> = Vec::new();
            for item in items {
                let objects = trusted_objects(item)?;
                if !all.is_empty() && all != objects {
                    return None;
                }
                all = objects;
            }
            Some(all)
        }
        Expr::Compare(CompareOp::Eq, a, b) => {
            if let (Some(x), Some(y)) = (a.path(), b.path()) {
                let head = |p: &str| is(p, "github.event.pull_request.head.repo.full_name");
                let this = |p: &str| is(p, "github.repository");
                return (head(&x) && this(&y) || head(&y) && this(&x))
                    .then(pull_request)
                    .flatten();
            }
            if let Some((path, value)) = c.equality() {
                if let Some(object) = association_object(&path) {
                    return TRUSTED_ASSOCIATIONS
                        .contains(&value.to_ascii_lowercase().as_str())
                        .then(|| vec![object]);
                }
                if is(&path, "github.event.pull_request.user.login") && value.ends_with("[bot]") {
                    return pull_request();
                }
                return None;
            }
            // `github.event.pull_request.head.repo.fork == false`.
            match (a.path().or(b.path()), a.as_ref(), b.as_ref()) {
                (Some(p), Expr::Bool(false), _) | (Some(p), _, Expr::Bool(false))
                    if is(&p, "github.event.pull_request.head.repo.fork") =>
                {
                    pull_request()
                }
                _ => None,
            }
        }
        Expr::Not(inner) => inner
            .path()
            .filter(|p| is(p, "github.event.pull_request.head.repo.fork"))
            .and_then(|_| pull_request()),
        Expr::Call(..) => {
            let [list, subject] = c.call("contains")? else {
                return None;
            };
            let literal = match list {
                Expr::String(s) => s.as_ref(),
                _ => list.call("fromJSON")?.first()?.as_str()?,
            };
            let words: Vec<String> = literal
                .split(|ch: char| !ch.is_ascii_alphabetic() && ch != '_')
                .filter(|w| !w.is_empty())
                .map(|w| w.to_ascii_lowercase())
                .collect();
            if words.is_empty()
                || !words
                    .iter()
                    .all(|w| TRUSTED_ASSOCIATIONS.contains(&w.as_str()))
            {
                return None;
            }
            // `comment.author_association || review.author_association`: both objects.
            let subjects: Vec<&Expr<'_>> = match subject {
                Expr::Or(items) => items.iter().collect(),
                other => vec![other],
            };
            subjects
                .iter()
                .map(|s| association_object(&s.path()?))
                .collect()
        }
        _ => None,
    }
}

/// `github.event.comment.author_association` → `github.event.comment`.
fn association_object(path: &str) -> Option<String> {
    let (object, field) = path.rsplit_once('.')?;
    field
        .eq_ignore_ascii_case("author_association")
        .then(|| object.to_string())
}

/// Which env var definitions a `${{ env.X }}` at some place sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvLevel {
    /// A step's own `run:`/`with:`: the step's, the job's and the workflow's `env:`.
    Step,
    /// A step's `env:` values: the job's and the workflow's.
    Job,
    /// A job's `env:` values: the workflow's.
    Workflow,
    /// The workflow's `env:` values: none.
    None,
}

impl EnvLevel {
    /// The level an `env:` value at this level is evaluated at.
    pub fn outer(self) -> EnvLevel {
        match self {
            EnvLevel::Step => EnvLevel::Job,
            EnvLevel::Job => EnvLevel::Workflow,
            EnvLevel::Workflow | EnvLevel::None => EnvLevel::None,
        }
    }
}

/// The `env:` definition of `name` visible at `level`: its value node and the level it was
/// found at. Names compare case-insensitively, as the `env` context does.
pub fn env_definition<'a>(
    cx: &WorkflowContext<'a>,
    job: Option<&Job<'a>>,
    step: Option<&Step<'a>>,
    level: EnvLevel,
    name: &str,
) -> Option<(&'a Node, EnvLevel)> {
    let find = |env: Option<&'a Node>| -> Option<&'a Node> {
        env?.as_map()?
            .iter()
            .find(|e| e.key.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
            .map(|e| &e.value)
    };
    let mut at = level;
    loop {
        let found = match at {
            EnvLevel::Step => find(step.and_then(|s| s.env)),
            EnvLevel::Job => find(job.and_then(|j| j.env)),
            EnvLevel::Workflow => find(cx.workflow.env),
            EnvLevel::None => return None,
        };
        if let Some(node) = found {
            return Some((node, at));
        }
        at = at.outer();
    }
}

/// The source line of each line of a scalar's value (a script), found in one forward pass:
/// a literal block keeps its lines, a folded or quoted one may join them, so each value line
/// is looked for in the next few source lines and the search resumes after the match.
pub struct ScriptLines<'s> {
    source: &'s Source<'s>,
    next: u32,
    last: u32,
}

impl<'s> ScriptLines<'s> {
    /// How far ahead a value line is looked for: blank lines and joined lines in between.
    const WINDOW: u32 = 16;

    pub fn new(source: &'s Source<'s>, node: &Node) -> Self {
        ScriptLines {
            source,
            next: node.span.start.line,
            last: node.span.end.line.max(node.span.start.line),
        }
    }

    /// The source line of the next value line; call it for every non-blank value line, in
    /// order. A line not found (escapes in a quoted scalar) gets the best guess.
    pub fn locate(&mut self, value_line: &str) -> u32 {
        let text = value_line.trim();
        for n in self.next..=self.last.min(self.next.saturating_add(Self::WINDOW)) {
            if self.source.line(n).is_some_and(|l| l.contains(text)) {
                self.next = n + 1;
                return n;
            }
        }
        self.next.min(self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conditions(text: &str) -> Conditions {
        let mut c = Conditions::default();
        c.add_text(text);
        c
    }

    fn events(list: &[&str]) -> Events {
        Events::of_list(list.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn narrowing_by_conditions() {
        let all = events(&["push", "pull_request", "pull_request_target", "schedule"]);
        assert_eq!(
            all.narrowed(&conditions("github.event_name == 'push'")),
            events(&["push"])
        );
        assert_eq!(
            all.narrowed(&conditions(
                "${{ github.event_name != 'schedule' && github.event_name != 'push' }}"
            )),
            events(&["pull_request", "pull_request_target"])
        );
        // `pull_request` runs on refs/pull/N/merge; `pull_request_target` on the base branch.
        assert_eq!(
            all.narrowed(&conditions("github.ref == 'refs/heads/main'")),
            events(&["push", "pull_request_target", "schedule"])
        );
        assert_eq!(
            all.narrowed(&conditions("startsWith(github.ref, 'refs/tags/v')")),
            events(&["push", "pull_request_target", "schedule"])
        );
        // A disjunction pins nothing.
        assert_eq!(
            all.narrowed(&conditions(
                "github.event_name == 'push' || github.event_name == 'schedule'"
            )),
            all
        );
        assert_eq!(
            Events::any().narrowed(&conditions("github.event_name == 'push'")),
            events(&["push"])
        );
    }

    #[test]
    fn trusted_authors() {
        let c = conditions(
            "github.event.issue.pull_request && contains(fromJSON('[\"OWNER\", \"MEMBER\"]'), github.event.comment.author_association)",
        );
        assert!(c.trusts("github.event.comment.body"));
        assert!(!c.trusts("github.event.issue.title"));
        assert!(!c.trusts("github.event.commentary"));
        let c = conditions(
            "github.event.comment.author_association == 'OWNER' || github.event.comment.author_association == 'MEMBER'",
        );
        assert!(c.trusts("github.event.comment.body"));
        let c = conditions(
            "github.event.comment.author_association == 'OWNER' || github.event.comment.author_association == 'CONTRIBUTOR'",
        );
        assert!(!c.trusts("github.event.comment.body"));
        let c = conditions("github.event.pull_request.head.repo.full_name == github.repository");
        assert!(c.trusts("github.event.pull_request.title"));
        assert!(c.trusts("github.head_ref"));
        assert!(conditions("!github.event.pull_request.head.repo.fork").trusts("github.head_ref"));
        assert!(!conditions("github.actor == 'dependabot[bot]'").trusts("github.head_ref"));
        assert!(
            conditions("github.event.pull_request.user.login == 'dependabot[bot]'")
                .trusts("github.head_ref")
        );
        assert!(
            !conditions("github.event.pull_request.head.repo.full_name != github.repository")
                .trusts("github.head_ref")
        );
    }

    #[test]
    fn pinned_values() {
        let c = conditions("success() && github.head_ref == 'main' && 'x' == env.MODE");
        assert_eq!(c.pinned("github.head_ref"), Some("main"));
        assert_eq!(c.pinned("GITHUB.HEAD_REF"), Some("main"));
        assert_eq!(c.pinned("env.MODE"), Some("x"));
        assert_eq!(
            conditions("github.head_ref == 'a' || x").pinned("github.head_ref"),
            None
        );
        assert_eq!(conditions("not an (expression").pinned("x"), None);
    }

    #[test]
    fn script_lines() {
        let src = "run: |\n  echo a\n\n  # c\n  echo a\nx: >-\n  one\n  two\n";
        let root = ship_workflow::yaml::parse(src, ship_workflow::yaml::Limits::default())
            .unwrap()
            .unwrap();
        let source = Source::new(src);
        let run = root.get("run").unwrap();
        let mut lines = ScriptLines::new(&source, run);
        let found: Vec<u32> = run
            .as_str()
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| lines.locate(l))
            .collect();
        assert_eq!(found, vec![2, 4, 5]);
        let x = root.get("x").unwrap();
        let mut lines = ScriptLines::new(&source, x);
        assert_eq!(lines.locate("one two"), 7);
    }

    #[test]
    fn trigger_events() {
        assert_eq!(trigger_event("push: branches main"), Some("push"));
        assert_eq!(
            trigger_event("workflow_dispatch (inputs version)"),
            Some("workflow_dispatch")
        );
        assert_eq!(
            trigger_event("pull_request_target"),
            Some("pull_request_target")
        );
        assert_eq!(trigger_event(""), None);
    }
}
