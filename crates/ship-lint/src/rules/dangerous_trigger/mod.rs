use crate::context::{Diagnostic, WorkflowContext};
use crate::model::repository::CallerJob;
use crate::rules::rule_impl;
use crate::rules::template_injection::scope::{
    env_definition, trigger_event, trusted_objects, Conditions, EnvLevel, Events, ScriptLines,
};
use ship_workflow::expr::flow::flow;
use ship_workflow::expr::{expressions, parse, parse_condition, CompareOp, Expr, Flow, Kinds};
use ship_workflow::{ActionRef, Job, Node, Step};
use std::collections::HashMap;

declare_rule! {
    /// ## What it reports
    /// A workflow started by a privileged event (`pull_request_target`, `workflow_run`,
    /// `issue_comment`) that runs the pull request's code:
    ///
    /// - `actions/checkout` whose `ref:` names the PR head (`github.event.pull_request.head.sha`
    ///   or `.ref`, `github.head_ref`, `merge_commit_sha`, `refs/pull/N/head|merge`,
    ///   `github.event.workflow_run.head_sha` or `head_branch`), or whose `repository:` is the
    ///   fork (`github.event.pull_request.head.repo.full_name`), directly or through an
    ///   `env:` variable, a `$GITHUB_ENV` write, a step output computed from the PR
    ///   (`pulls.get`, `gh pr view`, `xt0rted/pull-request-comment-branch`) or a reusable
    ///   workflow's input;
    /// - `git fetch`/`checkout`/`switch`/`pull`/`clone` of the PR head, or `gh pr checkout`,
    ///   in a script;
    /// - in a `workflow_run` workflow, values read from the triggering run's artifacts (made
    ///   by the pull request's code) and written to `$GITHUB_ENV`;
    /// - any of these in a reusable workflow of the repository that a privileged workflow
    ///   calls (reported on the called workflow's `workflow_call`, naming the caller).
    ///
    /// One finding per workflow, on the privileged trigger, listing every place.
    ///
    /// Not reported: checkouts of the base branch (no `ref:`) or of other refs, jobs whose
    /// `if:` admits only trusted authors (`author_association` `OWNER`/`MEMBER`/
    /// `COLLABORATOR`), pull requests from this repository (`head.repo.full_name ==
    /// github.repository`, `!head.repo.fork`), merged pull requests (`pull_request.merged`),
    /// `workflow_run`s of pushes (`workflow_run.event == 'push'`), jobs that run when a
    /// maintainer adds a label (`github.event.label.name == 'safe to test'`; a label that
    /// stays on the pull request, `contains(…labels.*.name, …)`, lets later pushes run
    /// too, so it is no gate), and jobs that a
    /// `github.event_name` condition keeps off the privileged events. A job that waits for
    /// an `environment:` is still reported (whether it requires reviewers is a setting the
    /// files do not show), and the finding says so. `pull_request_review`
    /// and `pull_request_review_comment` are not privileged: from a fork they get a
    /// read-only token and no secrets.
    ///
    /// ## Why
    /// These triggers run with the base repository's secrets and a write token, even for
    /// pull requests from forks. Checking out and building the fork's code hands both to
    /// whoever opened the PR ("pwn request"). A line `X=<value>` appended to `$GITHUB_ENV`
    /// from an artifact lets the artifact's author set `NODE_OPTIONS`, `LD_PRELOAD` or
    /// `BASH_ENV` for every later step.
    ///
    /// ## How to fix
    /// Use `pull_request` for anything that runs PR code. If you need the privileged
    /// trigger, do not check out the head, gate the job on trusted authors, or split it: an
    /// unprivileged `pull_request` job produces an artifact, a privileged `workflow_run` job
    /// treats it as data (validate numbers and SHAs before use, never write it to
    /// `$GITHUB_ENV`):
    ///
    /// ```yaml
    /// on:
    ///   issue_comment:
    ///     types: [created]
    /// jobs:
    ///   test:
    ///     if: >-
    ///       github.event.issue.pull_request &&
    ///       contains(fromJSON('["OWNER", "MEMBER", "COLLABORATOR"]'), github.event.comment.author_association)
    /// ```
    pub struct DangerousTrigger {
        id: "dangerous-trigger",
        severity: Error,
        summary: "a privileged trigger checks out untrusted pull-request code",
    }
}
rule_impl!(DangerousTrigger, workflow);

/// Events that run with the base repository's secrets and a write token whatever the
/// pull request's origin.
const PRIVILEGED: &[&str] = &["pull_request_target", "workflow_run", "issue_comment"];

/// Context paths that name the pull request's code (or the fork holding it), with the
/// privileged events whose payload has them.
const PR_HEAD: &[(&str, &str)] = &[
    ("github.head_ref", "pull_request_target"),
    ("github.event.pull_request.head.sha", "pull_request_target"),
    ("github.event.pull_request.head.ref", "pull_request_target"),
    (
        "github.event.pull_request.head.label",
        "pull_request_target",
    ),
    (
        "github.event.pull_request.merge_commit_sha",
        "pull_request_target",
    ),
    (
        "github.event.pull_request.head.repo.full_name",
        "pull_request_target",
    ),
    (
        "github.event.pull_request.head.repo.clone_url",
        "pull_request_target",
    ),
    (
        "github.event.pull_request.head.repo.ssh_url",
        "pull_request_target",
    ),
    (
        "github.event.pull_request.head.repo.git_url",
        "pull_request_target",
    ),
    ("github.event.workflow_run.head_sha", "workflow_run"),
    ("github.event.workflow_run.head_branch", "workflow_run"),
    ("github.event.workflow_run.head_commit.id", "workflow_run"),
    (
        "github.event.workflow_run.head_repository.full_name",
        "workflow_run",
    ),
    (
        "github.event.workflow_run.head_repository.clone_url",
        "workflow_run",
    ),
    (
        "github.event.workflow_run.pull_requests.*.head.sha",
        "workflow_run",
    ),
    (
        "github.event.workflow_run.pull_requests.*.head.ref",
        "workflow_run",
    ),
];

/// Text in a script that looks up the pull request's head (so its outputs name it).
const PR_HEAD_LOOKUPS: &[&str] = &[
    "head.sha",
    "head.ref",
    "head_sha",
    "head_ref",
    "headrefoid",
    "headrefname",
    "refs/pull/",
    "pulls.get",
    "gh pr view",
];

/// The path names the PR head under one of `events` (an `issue_comment` payload has no
/// `pull_request`: the value is empty there).
fn names_pr_head(path: &str, events: &Events) -> bool {
    PR_HEAD
        .iter()
        .any(|(p, on)| events.includes_any(&[on]) && same_path(path, p))
}

fn same_path(path: &str, pattern: &str) -> bool {
    let mut a = path.split('.');
    let mut b = pattern.split('.');
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == "*" || y == "*" || x.eq_ignore_ascii_case(y) => {}
            _ => return false,
        }
    }
}

/// Where a privileged workflow runs PR code.
struct Place {
    line: u32,
    what: String,
}

/// What the checks of one job need to know.
struct JobScan<'s, 'a> {
    cx: &'s WorkflowContext<'a>,
    job: &'s Job<'a>,
    /// Privileged callers, when the file is a reusable workflow they call.
    callers: &'s [&'s CallerJob],
    /// The privileged events that can start the job.
    events: Events,
    /// `$GITHUB_ENV` names earlier steps wrote from the PR head or from an artifact.
    env_writes: Vec<(String, String)>,
}

impl DangerousTrigger {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        if cx.is_action() {
            return;
        }
        let direct: Vec<_> = cx
            .workflow
            .triggers
            .iter()
            .filter(|t| PRIVILEGED.contains(&t.event))
            .collect();
        let call = cx.workflow.trigger("workflow_call");
        let callers: Vec<&CallerJob> = match call {
            Some(_) => cx
                .repo
                .callers_of(cx.path)
                .iter()
                .filter(|c| privileged_caller(c).is_some())
                .collect(),
            None => Vec::new(),
        };
        if direct.is_empty() && callers.is_empty() {
            return;
        }
        let mut events: Vec<String> = direct.iter().map(|t| t.event.to_string()).collect();
        for c in &callers {
            if let Some(e) = privileged_caller(c) {
                if !events.iter().any(|x| x == e) {
                    events.push(e.to_string());
                }
            }
        }
        let privileged = Events::of_list(events);
        let mut places: Vec<Place> = Vec::new();
        for job in &cx.workflow.jobs {
            // The privileged events that can start this job, after its `if:`.
            let events = privileged.narrowed(&Conditions::of(Some(job), None));
            if events.known().is_some_and(|e| e.is_empty()) || trusted(job.node.get("if")) {
                continue;
            }
            let on_workflow_run = events.includes_any(&["workflow_run"]);
            let mut scan = JobScan {
                cx,
                job,
                callers: &callers,
                events,
                env_writes: Vec::new(),
            };
            let found = scan.places(on_workflow_run);
            if found.is_empty() {
                continue;
            }
            places.extend(found);
            // An environment with required reviewers makes every run wait for a person; the
            // repository's files cannot tell whether it has them.
            if let Some(env) = job.environment.as_ref().filter(|e| !e.name.contains("${{")) {
                places.push(Place {
                    line: env.node.span.start.line,
                    what: format!(
                        "job `{}` waits for environment `{}`, a safeguard only if it requires reviewers",
                        job.id, env.name
                    ),
                });
            }
        }
        if places.is_empty() {
            return;
        }
        let listed = list_places(places);
        let (span, message) = match direct.first() {
            Some(t) => (
                t.key.span,
                format!(
                    "`{}` runs with this repository's secrets and a write token, and this workflow uses the pull request's code: {}",
                    events_list(&direct.iter().map(|t| t.event).collect::<Vec<_>>()),
                    listed
                ),
            ),
            None => {
                let by: Vec<String> = callers
                    .iter()
                    .map(|c| {
                        format!(
                            "`{}` job `{}` on `{}`",
                            c.path,
                            c.job,
                            privileged_caller(c).unwrap_or("?")
                        )
                    })
                    .collect();
                (
                    call.map_or(cx.workflow_span(), |t| t.key.span),
                    format!(
                        "called by {}, with that event's secrets and write token, this workflow uses the pull request's code: {}",
                        by.join(", "),
                        listed
                    ),
                )
            }
        };
        out.push(Diagnostic::new(
            span,
            message,
            "run PR code only under `pull_request` (no secrets, read-only token); otherwise check out the base branch, gate the job on `author_association` (OWNER/MEMBER/COLLABORATOR), or hand data over as an artifact a `workflow_run` job only reads",
        ));
    }
}

/// The places as the message lists them: the same thing on several lines is one entry
/// with its lines, and a long list ends with how many more there are.
fn list_places(places: Vec<Place>) -> String {
    const SHOWN: usize = 6;
    let mut groups: Vec<(Vec<u32>, String)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for p in places {
        match index.get(&p.what) {
            Some(&i) => groups[i].0.push(p.line),
            None => {
                index.insert(p.what.clone(), groups.len());
                groups.push((vec![p.line], p.what));
            }
        }
    }
    let mut out: Vec<String> = groups
        .iter()
        .take(SHOWN)
        .map(|(lines, what)| {
            let shown: Vec<String> = lines.iter().take(SHOWN).map(u32::to_string).collect();
            let label = if lines.len() == 1 { "line" } else { "lines" };
            let more = if lines.len() > SHOWN { ", …" } else { "" };
            format!("{label} {}{more}: {what}", shown.join(", "))
        })
        .collect();
    if groups.len() > SHOWN {
        out.push(format!("and {} more", groups.len() - SHOWN));
    }
    out.join("; ")
}

fn events_list(events: &[&str]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in events {
        if !seen.contains(e) {
            seen.push(e);
        }
    }
    seen.join("` and `")
}

/// The privileged event a caller runs on, unless its job `if:` is an author check.
fn privileged_caller(c: &CallerJob) -> Option<&'static str> {
    c.triggers.iter().find_map(|t| {
        let event = trigger_event(t)?;
        // The description ends with the caller job's `if:` (shortened past 60 characters):
        // a gate there gates the call.
        if let Some((_, cond)) = t.split_once(" (if ") {
            let cond = cond.strip_suffix(')').unwrap_or(cond);
            let gated = cond.contains("author_association")
                || parse_condition(cond).is_ok_and(|e| e.conjuncts().iter().any(|c| gate(c)));
            if gated {
                return None;
            }
        }
        PRIVILEGED.iter().copied().find(|p| *p == event)
    })
}

/// An `if:` whose `&&` operands include a check that only trusted code or people get
/// through.
fn trusted(cond: Option<&Node>) -> bool {
    let Some(text) = cond.and_then(|n| n.as_str()) else {
        return false;
    };
    let Ok(expr) = parse_condition(text) else {
        return false;
    };
    let conjuncts = expr.conjuncts();
    conjuncts.iter().any(|c| gate(c))
}

/// One operand of an `if:` that admits only trusted authors or trusted code.
fn gate(c: &Expr<'_>) -> bool {
    match c {
        Expr::Or(items) => return items.iter().all(gate),
        Expr::And(items) => return items.iter().any(gate),
        _ => {}
    }
    // Trusted authors (`author_association`), same-repository or bot pull requests.
    if trusted_objects(c).is_some() {
        return true;
    }
    match c {
        Expr::Compare(CompareOp::Eq, a, b) => {
            if let (Some(x), Some(y)) = (a.path(), b.path()) {
                let head =
                    |p: &str| same_path(p, "github.event.workflow_run.head_repository.full_name");
                let this = |p: &str| p.eq_ignore_ascii_case("github.repository");
                return head(&x) && this(&y) || head(&y) && this(&x);
            }
            if let Some((path, value)) = c.equality() {
                let value = value.to_ascii_lowercase();
                // `github.event_name == 'pull_request' || …`: that branch is not privileged.
                if path.eq_ignore_ascii_case("github.event_name") {
                    return !PRIVILEGED.contains(&value.as_str());
                }
                if same_path(&path, "github.event.workflow_run.event") {
                    return !value.starts_with("pull_request") && value != "issue_comment";
                }
                // The label a maintainer just added (`types: [labeled]`, "safe to test"):
                // other events have no `label`, so the job runs only when someone with
                // triage access labels the pull request, on the head they saw.
                return same_path(&path, "github.event.label.name");
            }
            match (a.as_ref(), b.as_ref()) {
                (Expr::Bool(true), other) | (other, Expr::Bool(true)) => {
                    other.path().is_some_and(|p| merged(&p))
                }
                _ => false,
            }
        }
        other => other.path().is_some_and(|p| merged(&p)),
    }
}

/// A merged pull request's head is reviewed code on the base branch.
fn merged(path: &str) -> bool {
    same_path(path, "github.event.pull_request.merged")
}

impl<'s, 'a> JobScan<'s, 'a> {
    fn places(&mut self, on_workflow_run: bool) -> Vec<Place> {
        let mut places = Vec::new();
        let mut artifact: Option<u32> = None;
        for step in &self.job.steps {
            if trusted(step.node.get("if")) {
                continue;
            }
            match step.action() {
                Some(ActionRef::Repository { owner, repo, .. })
                    if owner.eq_ignore_ascii_case("actions")
                        && repo.eq_ignore_ascii_case("checkout") =>
                {
                    if let Some(p) = self.checkout(step) {
                        places.push(p);
                    }
                }
                _ => {}
            }
            if on_workflow_run && downloads_run_artifact(step) {
                artifact = artifact.or(Some(step.node.span.start.line));
            }
            if let Some(run) = step.run {
                places.extend(self.script(step, run, artifact));
            }
        }
        places
    }

    /// `actions/checkout` of the PR head or of the fork.
    fn checkout(&self, step: &Step<'a>) -> Option<Place> {
        let with = step.with?;
        for key in ["ref", "repository"] {
            let Some(node) = with.get(key) else { continue };
            let Some(text) = node.as_str() else { continue };
            if let Some(what) = self.pr_head_in(step, text) {
                return Some(Place {
                    line: node.span.start.line,
                    what: format!("job `{}` checks out {what} (`{key}:`)", self.job.id),
                });
            }
        }
        None
    }

    /// Whether a value names the pull request's head: `Some(what it names, and how)`.
    fn pr_head_in(&self, step: &Step<'a>, text: &str) -> Option<String> {
        if text.to_ascii_lowercase().contains("refs/pull/") {
            return Some(format!("`{}`", crate::model::shorten(text, 60)));
        }
        for e in expressions(text) {
            if let Some(why) = self.pr_head_expression(step, e.inner, EnvLevel::Step, 0) {
                return Some(why);
            }
        }
        None
    }

    fn pr_head_expression(
        &self,
        step: &Step<'a>,
        inner: &str,
        level: EnvLevel,
        depth: usize,
    ) -> Option<String> {
        if depth > 4 {
            return None;
        }
        let Ok(expr) = parse(inner) else {
            return None;
        };
        let mut classify = |path: &str| -> Flow<String> {
            match self.pr_head_path(step, path, level, depth) {
                Some(why) => Flow::from(Kinds::STRING, why),
                None => Flow::clean(Kinds::ANY),
            }
        };
        let f = flow(&expr, &mut classify);
        if f.carries_text() {
            f.sources.into_iter().next()
        } else {
            None
        }
    }

    /// Does this context path hold the PR head? `Some(explanation)`.
    fn pr_head_path(
        &self,
        step: &Step<'a>,
        path: &str,
        level: EnvLevel,
        depth: usize,
    ) -> Option<String> {
        if names_pr_head(path, &self.events) {
            return Some(format!("`{path}`"));
        }
        let lower = path.to_ascii_lowercase();
        if let Some(name) = lower.strip_prefix("env.") {
            let name = path.get(4..).unwrap_or(name);
            if let Some((node, at)) =
                env_definition(self.cx, Some(self.job), Some(step), level, name)
            {
                let text = node.as_str()?;
                let line = node.span.start.line;
                if text.to_ascii_lowercase().contains("refs/pull/") {
                    return Some(format!("`env.{name}`, set to `{text}` on line {line}"));
                }
                for e in expressions(text) {
                    if let Some(inner) =
                        self.pr_head_expression(step, e.inner, at.outer(), depth + 1)
                    {
                        return Some(format!("`env.{name}`, set on line {line} to {inner}"));
                    }
                }
                return None;
            }
            return self
                .env_writes
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, why)| format!("`env.{name}`, {why}"));
        }
        if let Some(rest) = lower.strip_prefix("steps.") {
            let mut parts = rest.split('.');
            let id = parts.next()?;
            let producer = self.job.steps.iter().find(|s| {
                s.id.and_then(|i| i.as_str())
                    .is_some_and(|i| i.eq_ignore_ascii_case(id))
            })?;
            if looks_up_pr_head(producer) {
                return Some(format!(
                    "`{path}`, which step `{id}` (line {}) looks up from the pull request",
                    producer.node.span.start.line
                ));
            }
            return None;
        }
        if let Some(name) = lower.strip_prefix("inputs.") {
            for c in self.callers {
                let Some((_, value)) = c.with.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))
                else {
                    continue;
                };
                let names = value.to_ascii_lowercase().contains("refs/pull/")
                    || expressions(value).iter().any(|e| {
                        parse(e.inner).ok().is_some_and(|x| {
                            let mut classify = |p: &str| {
                                if names_pr_head(p, &self.events) {
                                    Flow::from(Kinds::STRING, ())
                                } else {
                                    Flow::clean(Kinds::ANY)
                                }
                            };
                            flow(&x, &mut classify).carries_text()
                        })
                    });
                if names {
                    return Some(format!(
                        "`{path}`, which `{}` job `{}` sets to `{}`",
                        c.path,
                        c.job,
                        crate::model::shorten(value, 60)
                    ));
                }
            }
        }
        None
    }

    /// `git fetch`/`checkout` of the PR head, `gh pr checkout`, and `$GITHUB_ENV` writes of
    /// artifact contents (after `artifact`, the line of the step that downloaded them).
    fn script(&mut self, step: &Step<'a>, run: &'a Node, artifact: Option<u32>) -> Vec<Place> {
        let mut places = Vec::new();
        let Some(script) = run.as_str() else {
            return places;
        };
        let mut lines = ScriptLines::new(self.cx.source, run);
        for line in script.lines() {
            let l = line.trim();
            if l.is_empty() {
                continue;
            }
            let line_no = lines.locate(l);
            if l.starts_with('#') {
                continue;
            }
            if let Some(what) = self.fetches_pr_head(step, l) {
                let fetched = if what.is_empty() {
                    String::new()
                } else {
                    format!(", which fetches {what}")
                };
                places.push(Place {
                    line: line_no,
                    what: format!(
                        "job `{}` runs `{}`{fetched}",
                        self.job.id,
                        crate::model::shorten(l, 80)
                    ),
                });
                continue;
            }
            let writes_env = l.contains("GITHUB_ENV") && l.contains(">>");
            if !writes_env {
                continue;
            }
            let name = written_name(l);
            // A value derived from the PR head (`HEAD=${{ github.event.pull_request.head.sha }}`).
            if let Some(name) = &name {
                if let Some(why) = self.pr_head_in(step, l) {
                    self.env_writes.push((
                        name.clone(),
                        format!("written to `$GITHUB_ENV` on line {line_no} from {why}"),
                    ));
                    continue;
                }
            }
            if let Some(download) = artifact {
                if reads_files(l) {
                    places.push(Place {
                        line: line_no,
                        what: format!(
                            "job `{}` writes the triggering run's artifact (downloaded on line {download}) to `$GITHUB_ENV`",
                            self.job.id
                        ),
                    });
                    if let Some(name) = name {
                        self.env_writes.push((
                            name,
                            format!("read from the artifact and written to `$GITHUB_ENV` on line {line_no}"),
                        ));
                    }
                }
            }
        }
        places
    }

    /// A script line that fetches or checks out the PR head: `Some(what it fetches)`, empty
    /// when the line says so itself.
    fn fetches_pr_head(&self, step: &Step<'a>, l: &str) -> Option<String> {
        if l.contains("gh pr checkout") {
            return Some(String::new());
        }
        const VERBS: &[&str] = &[
            "git fetch",
            "git checkout",
            "git switch",
            "git pull",
            "git clone",
            "git worktree add",
            "git reset",
        ];
        if !VERBS.iter().any(|v| l.contains(v)) {
            return None;
        }
        let lower = l.to_ascii_lowercase();
        if lower.contains("pull/") && (lower.contains("/head") || lower.contains("/merge")) {
            return Some(String::new());
        }
        if expressions(l).iter().any(|e| {
            self.pr_head_expression(step, e.inner, EnvLevel::Step, 0)
                .is_some()
        }) {
            return Some(String::new());
        }
        for var in crate::rules::template_injection::taint::shell_variables(l) {
            // The runner's own variable for `github.head_ref`.
            if var == "GITHUB_HEAD_REF" && self.events.includes_any(&["pull_request_target"]) {
                return Some("`$GITHUB_HEAD_REF`, the pull request's branch".to_string());
            }
            let path = format!("env.{var}");
            if let Some(why) = self.pr_head_path(step, &path, EnvLevel::Step, 0) {
                return Some(why);
            }
        }
        None
    }
}

/// The `NAME` of `echo "NAME=…" >> $GITHUB_ENV`.
fn written_name(line: &str) -> Option<String> {
    let body = line.split(">>").next()?.trim();
    let body = body.strip_prefix("echo").unwrap_or(body).trim();
    let body = body.trim_start_matches(['"', '\'']);
    let (name, _) = body.split_once('=')?;
    let name = name.trim();
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| name.to_string())
}

/// A shell line whose value comes from files: `$(cat f)`, `$(<f)`, `jq … f`, `cat f >>`.
fn reads_files(l: &str) -> bool {
    l.contains("$(") || l.contains('`') || l.starts_with("cat ") || l.contains(" < ")
}

/// A step that downloads the triggering run's artifacts.
fn downloads_run_artifact(step: &Step<'_>) -> bool {
    if step
        .run_str()
        .is_some_and(|r| r.contains("gh run download"))
    {
        return true;
    }
    let Some(ActionRef::Repository { owner, repo, .. }) = step.action() else {
        return false;
    };
    let is = |o: &str, r: &str| owner.eq_ignore_ascii_case(o) && repo.eq_ignore_ascii_case(r);
    if is("actions", "download-artifact") {
        return step
            .with_str("run-id")
            .is_some_and(|v| v.contains("workflow_run"));
    }
    if is("dawidd6", "action-download-artifact") {
        return true;
    }
    if is("actions", "github-script") {
        return step
            .with_str("script")
            .is_some_and(|s| s.contains("downloadArtifact"));
    }
    false
}

/// A step whose outputs are computed from the pull request's head.
fn looks_up_pr_head(step: &Step<'_>) -> bool {
    if let Some(ActionRef::Repository { owner, repo, .. }) = step.action() {
        if owner.eq_ignore_ascii_case("xt0rted")
            && repo.eq_ignore_ascii_case("pull-request-comment-branch")
        {
            return true;
        }
    }
    let text = step
        .run_str()
        .or_else(|| step.with_str("script"))
        .unwrap_or("")
        .to_ascii_lowercase();
    PR_HEAD_LOOKUPS.iter().any(|k| text.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gated(cond: &str) -> bool {
        let e = parse_condition(cond).unwrap();
        e.conjuncts().iter().any(|c| gate(c))
    }

    #[test]
    fn gates() {
        assert!(gated("github.event.comment.author_association == 'OWNER'"));
        assert!(gated(
            "github.event.issue.pull_request && contains(fromJSON('[\"OWNER\", \"MEMBER\"]'), github.event.comment.author_association)"
        ));
        assert!(gated(
            "github.event.comment.author_association == 'OWNER' || github.event.comment.author_association == 'MEMBER'"
        ));
        assert!(gated(
            "github.event.pull_request.head.repo.full_name == github.repository"
        ));
        assert!(gated("github.event.pull_request.merged == true"));
        assert!(gated("${{ github.event.pull_request.merged }}"));
        assert!(gated("!github.event.pull_request.head.repo.fork"));
        assert!(gated("github.event.workflow_run.event == 'push'"));
        assert!(!gated("github.event.workflow_run.event == 'pull_request'"));
        assert!(!gated("github.event.comment.author_association != 'NONE'"));
        assert!(!gated(
            "github.event.comment.author_association == 'OWNER' || github.actor == 'x'"
        ));
        assert!(!gated(
            "contains(fromJSON('[\"OWNER\", \"CONTRIBUTOR\"]'), github.event.comment.author_association)"
        ));
        assert!(!gated("github.actor == 'dependabot[bot]'"));
        assert!(gated(
            "github.event.pull_request.user.login == 'dependabot[bot]'"
        ));
        assert!(!gated("github.event.workflow_run.head_branch == 'main'"));
        assert!(gated("github.event.label.name == 'safe to test'"));
        assert!(!gated(
            "contains(github.event.pull_request.labels.*.name, 'safe to test')"
        ));
    }

    #[test]
    fn names() {
        assert_eq!(
            written_name("echo \"PR_SHA=$(cat PR_SHA)\" >> $GITHUB_ENV").as_deref(),
            Some("PR_SHA")
        );
        assert_eq!(
            written_name("echo X=1 >> \"$GITHUB_ENV\"").as_deref(),
            Some("X")
        );
        let any = Events::any();
        assert!(names_pr_head(
            "github.event.workflow_run.pull_requests.*.head.sha",
            &any
        ));
        assert!(names_pr_head("GITHUB.HEAD_REF", &any));
        assert!(!names_pr_head("github.event.pull_request.base.sha", &any));
        let comment = Events::of_list(vec!["issue_comment".into()]);
        assert!(!names_pr_head(
            "github.event.pull_request.head.sha",
            &comment
        ));
    }
}
