//! What a value in a workflow is before the run, as far as the file says.
//!
//! An image tag is written as text with `${{ … }}` expressions (`${{ env.TAG }}`,
//! `${{ steps.meta.outputs.version }}`) or, in a script, with shell variables (`$IMAGE_TAG`,
//! `${GITHUB_SHA::7}`, `$(git rev-parse --short HEAD)`). A [`Scope`] follows those through
//! the places a workflow defines them: `env:` of the workflow, job and step, assignments
//! earlier in the same script, `$GITHUB_ENV` and `$GITHUB_OUTPUT` written by earlier steps,
//! job outputs (`needs.build.outputs.tag`), inputs (with the value a caller passes), the
//! matrix, and GitHub's own contexts. The result is a [`Value`]: the text as literal parts
//! and parts whose origin is known ([`Origin`]: the commit, the branch, the git tag, the
//! pull request number…), with alternatives where the workflow picks one at run time
//! (`${{ inputs.tag || 'latest' }}`).
//!
//! Nothing is guessed from a name: `$IMAGE_TAG` is the value its definition gives it, and
//! [`Part::Unknown`] when nothing in the file defines it (a secret, a variable, a command's
//! output). Following is bounded in depth and in the number of alternatives, so a file that
//! defines a variable through itself costs a few steps, never a loop.

use crate::model::shell;
use ship_workflow::{Job, Node, Workflow};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// How deep definitions are followed (`$A` defined from `$B` defined from …).
const MAX_DEPTH: u8 = 12;
/// How many alternatives a value keeps before it is read as unknown.
const MAX_ALTERNATIVES: usize = 8;
/// How many values one job may read: definitions that each use a variable many times
/// (`A=$B$B$B`, `B=$C$C$C`…) would otherwise cost exponential time.
const BUDGET: u32 = 20_000;

/// Where a part of a value comes from, when the workflow says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The full commit SHA (`github.sha`, `$GITHUB_SHA`, `git rev-parse HEAD`).
    Commit,
    /// A shortened commit SHA (`${GITHUB_SHA::7}`, `git rev-parse --short HEAD`).
    ShortCommit,
    /// `github.ref_name` in a workflow started both by branches and by tags: the git tag on
    /// a tag push, the branch otherwise.
    RefName,
    /// The full ref, `refs/heads/…` or `refs/tags/…`.
    FullRef,
    /// A branch name.
    Branch,
    /// The git tag that started the workflow; `semver` when its trigger only takes
    /// version-like tags (`v*`, `[0-9]+.[0-9]+.[0-9]+`) or it is a release.
    GitTag { semver: bool },
    /// A version typed into a `version` input of a manual run.
    Version,
    /// A pull request's number (reused by every push to the pull request).
    PrNumber,
    /// The run number or id: unique per run.
    RunNumber,
    /// A date or time.
    Date,
}

impl Origin {
    /// How a message shows it.
    pub fn placeholder(self) -> &'static str {
        match self {
            Origin::Commit => "<commit>",
            Origin::ShortCommit => "<short commit>",
            Origin::RefName => "<branch or tag>",
            Origin::FullRef => "<ref>",
            Origin::Branch => "<branch>",
            Origin::GitTag { .. } => "<git tag>",
            Origin::Version => "<version>",
            Origin::PrNumber => "<PR number>",
            Origin::RunNumber => "<run number>",
            Origin::Date => "<date>",
        }
    }
}

/// One piece of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    Known(Origin),
    /// An input of a called workflow or composite action that this file does not give.
    Input(String),
    /// Not known before the run: the text as written.
    Unknown(String),
}

/// One way a value can come out: its parts in order.
pub type Template = Vec<Part>;

/// A value: one template, or several when the workflow chooses at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub alternatives: Vec<Template>,
}

impl Value {
    pub fn lit(text: impl Into<String>) -> Value {
        let mut t = Vec::new();
        push_part(&mut t, Part::Lit(text.into()));
        Value::single(t)
    }

    pub fn known(origin: Origin) -> Value {
        Value::single(vec![Part::Known(origin)])
    }

    pub fn unknown(text: impl Into<String>) -> Value {
        Value::single(vec![Part::Unknown(text.into())])
    }

    fn single(t: Template) -> Value {
        Value {
            alternatives: vec![t],
        }
    }

    /// This value followed by `other` (every combination of their alternatives).
    pub fn concat(&self, other: &Value) -> Value {
        if self.alternatives.len() * other.alternatives.len() > MAX_ALTERNATIVES {
            return Value::unknown(format!("{}{}", self.describe(), other.describe()));
        }
        let mut out = Vec::new();
        for a in &self.alternatives {
            for b in &other.alternatives {
                let mut t = a.clone();
                for p in b {
                    push_part(&mut t, p.clone());
                }
                out.push(t);
            }
        }
        Value { alternatives: out }
    }

    /// Either this value or `other`.
    pub fn or(mut self, other: Value) -> Value {
        for t in other.alternatives {
            if !self.alternatives.contains(&t) {
                self.alternatives.push(t);
            }
        }
        if self.alternatives.len() > MAX_ALTERNATIVES {
            return Value::unknown(self.describe());
        }
        self
    }

    /// The value as one literal string, when it is one.
    pub fn as_literal(&self) -> Option<&str> {
        match self.alternatives.as_slice() {
            [t] => match t.as_slice() {
                [Part::Lit(s)] => Some(s),
                [] => Some(""),
                _ => None,
            },
            _ => None,
        }
    }

    /// The inputs (of a called workflow or action) the value is built from.
    pub fn inputs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for t in &self.alternatives {
            for p in t {
                if let Part::Input(n) = p {
                    if !out.contains(&n.as_str()) {
                        out.push(n);
                    }
                }
            }
        }
        out
    }

    /// Replace `inputs.X` parts by what a caller gives (`given(X)`).
    pub fn substitute(&self, given: &dyn Fn(&str) -> Option<Value>) -> Value {
        let mut out: Option<Value> = None;
        for t in &self.alternatives {
            let mut acc = Value::lit("");
            for p in t {
                let piece = match p {
                    Part::Input(n) => {
                        given(n).unwrap_or_else(|| Value::unknown(format!("inputs.{n}")))
                    }
                    other => Value::single(vec![other.clone()]),
                };
                acc = acc.concat(&piece);
            }
            out = Some(match out {
                None => acc,
                Some(v) => v.or(acc),
            });
        }
        out.unwrap_or_else(|| Value::lit(""))
    }

    /// Every commit part shortened (`${SHA::7}`, `| cut -c1-7`).
    fn shortened(mut self) -> Value {
        for t in &mut self.alternatives {
            for p in t.iter_mut() {
                if *p == Part::Known(Origin::Commit) {
                    *p = Part::Known(Origin::ShortCommit);
                }
            }
        }
        self
    }

    /// The value for a message: `production-<short commit>`, alternatives joined by ` or `.
    pub fn describe(&self) -> String {
        self.alternatives
            .iter()
            .map(|t| describe_template(t))
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

/// A template for a message.
pub fn describe_template(t: &[Part]) -> String {
    let mut s = String::new();
    for p in t {
        match p {
            Part::Lit(l) => s.push_str(l),
            Part::Known(o) => s.push_str(o.placeholder()),
            Part::Input(n) => {
                s.push_str("${{ inputs.");
                s.push_str(n);
                s.push_str(" }}");
            }
            Part::Unknown(u) => s.push_str(u),
        }
    }
    s
}

/// Append a part, merging adjacent literals and dropping empty ones.
fn push_part(t: &mut Template, p: Part) {
    match p {
        Part::Lit(l) if l.is_empty() => {}
        Part::Lit(l) => match t.last_mut() {
            Some(Part::Lit(prev)) => prev.push_str(&l),
            _ => t.push(Part::Lit(l)),
        },
        other => t.push(other),
    }
}

/// What starts the workflow decides what `github.ref_name` is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Refs {
    /// A tag push or a release can start it.
    pub tags: bool,
    /// A branch (push, pull request, schedule, manual run on a branch) can start it.
    pub branches: bool,
    /// Every tag that can start it looks like a version.
    pub semver_tags: bool,
}

impl Refs {
    pub fn of(wf: &Workflow<'_>, is_action: bool) -> Refs {
        if is_action {
            // A composite action runs for whatever started its caller.
            return Refs {
                tags: true,
                branches: true,
                semver_tags: false,
            };
        }
        let mut r = Refs {
            tags: false,
            branches: false,
            semver_tags: true,
        };
        for t in &wf.triggers {
            match t.event {
                "push" => {
                    let tags = t.filter("tags").or_else(|| t.filter("tags-ignore"));
                    let branches = t.filter("branches").or_else(|| t.filter("branches-ignore"));
                    match (tags, branches) {
                        (None, None) => {
                            r.tags = true;
                            r.branches = true;
                            r.semver_tags = false;
                        }
                        (tags, branches) => {
                            if let Some(tags) = tags {
                                r.tags = true;
                                let version_like = t.filter("tags").is_some()
                                    && tags
                                        .str_items()
                                        .iter()
                                        .all(|p| p.as_str().is_some_and(version_like_pattern));
                                r.semver_tags &= version_like;
                            }
                            r.branches |= branches.is_some();
                        }
                    }
                }
                "release" => r.tags = true,
                // Started with the caller's ref: either.
                "workflow_call" => {
                    r.tags = true;
                    r.branches = true;
                    r.semver_tags = false;
                }
                _ => r.branches = true,
            }
        }
        r
    }

    fn ref_name(self) -> Origin {
        match (self.tags, self.branches) {
            (true, false) => Origin::GitTag {
                semver: self.semver_tags,
            },
            (false, _) => Origin::Branch,
            (true, true) => Origin::RefName,
        }
    }
}

/// A tag filter that only takes version-like tags: `v*`, `v[0-9]+.*`, `[0-9]+.[0-9]+.[0-9]+`.
fn version_like_pattern(p: &str) -> bool {
    let p = p.trim();
    let rest = p
        .strip_prefix('v')
        .or_else(|| p.strip_prefix('V'))
        .unwrap_or(p);
    (p.starts_with('v') || p.starts_with('V'))
        && (rest.is_empty() || !rest.starts_with(char::is_alphabetic))
        || rest.starts_with(|c: char| c.is_ascii_digit())
        || rest.starts_with("[0-9")
}

/// Where a value is read: in which step of the job (none for job-level text) and, for a
/// script, at which line (0-based) of it.
#[derive(Debug, Clone, Copy, Default)]
pub struct At {
    pub step: Option<usize>,
    pub line: usize,
}

impl At {
    pub fn step(index: usize) -> At {
        At {
            step: Some(index),
            line: usize::MAX,
        }
    }
}

/// What a script defines: assignments and the values it writes to `$GITHUB_OUTPUT` and
/// `$GITHUB_ENV`.
#[derive(Debug, Default)]
pub struct ScriptFacts {
    pub assigns: Vec<Assign>,
    pub writes: Vec<Write>,
}

/// `NAME=value`, `NAME=(a b c)`, `NAME+=(d)` at a line of a script.
#[derive(Debug, Clone)]
pub struct Assign {
    pub line: usize,
    pub name: String,
    /// The value's words as written (one for a scalar, the elements of an array).
    pub words: Vec<String>,
    pub array: bool,
    pub append: bool,
}

/// `echo "name=value" >> $GITHUB_OUTPUT` (or `$GITHUB_ENV`).
#[derive(Debug, Clone)]
pub struct Write {
    pub line: usize,
    pub env: bool,
    pub name: String,
    /// The value as written, to be read as a shell word.
    pub value: String,
}

/// The values callers give a called workflow's or composite action's inputs.
#[derive(Debug, Default)]
pub struct Given {
    pub values: Vec<(String, Value)>,
}

impl Given {
    pub fn get(&self, name: &str) -> Option<Value> {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// Reads values in one job of one workflow (or one composite action).
pub struct Scope<'s> {
    pub wf: &'s Workflow<'s>,
    pub job: &'s Job<'s>,
    pub refs: Refs,
    pub is_action: bool,
    /// What the caller passes to `inputs.*`; `None` leaves inputs as [`Part::Input`].
    pub given: Option<&'s Given>,
    /// Scripts read so far, by step index.
    scripts: RefCell<Vec<Option<Rc<ScriptFacts>>>>,
    /// Reads left (see [`BUDGET`]).
    budget: Cell<u32>,
}

impl<'s> Scope<'s> {
    pub fn new(
        wf: &'s Workflow<'s>,
        job: &'s Job<'s>,
        is_action: bool,
        given: Option<&'s Given>,
    ) -> Self {
        Scope {
            wf,
            job,
            refs: Refs::of(wf, is_action),
            is_action,
            given,
            scripts: RefCell::new(vec![
                None;
                job.steps.iter().map(|s| s.index + 1).max().unwrap_or(0)
            ]),
            budget: Cell::new(BUDGET),
        }
    }

    /// Take one read from the budget; `false` when it is spent.
    fn spend(&self) -> bool {
        let left = self.budget.get();
        self.budget.set(left.saturating_sub(1));
        left > 0
    }

    /// What the script of step `index` defines.
    pub fn script(&self, index: usize) -> Rc<ScriptFacts> {
        if let Some(Some(facts)) = self.scripts.borrow().get(index) {
            return facts.clone();
        }
        let facts = Rc::new(
            self.step_at(index)
                .and_then(|s| s.run_str())
                .map(read_script)
                .unwrap_or_default(),
        );
        if let Some(slot) = self.scripts.borrow_mut().get_mut(index) {
            *slot = Some(facts.clone());
        }
        facts
    }

    /// The step whose index (place in the `steps:` list) is `index`.
    pub fn step_at(&self, index: usize) -> Option<&'s ship_workflow::Step<'s>> {
        self.job.steps.iter().find(|s| s.index == index)
    }

    /// A YAML string value (`with:`, `env:`): expressions substituted, the rest literal.
    pub fn text(&self, text: &str, at: At) -> Value {
        self.text_at(text, at, 0)
    }

    fn text_at(&self, text: &str, at: At, depth: u8) -> Value {
        if depth > MAX_DEPTH || !self.spend() {
            return Value::unknown(text);
        }
        let mut acc = Value::lit("");
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            acc = acc.concat(&Value::lit(&rest[..start]));
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else {
                acc = acc.concat(&Value::lit(&rest[start..]));
                return acc;
            };
            acc = acc.concat(&self.expr(after[..end].trim(), at, depth + 1));
            rest = &after[end + 2..];
        }
        acc.concat(&Value::lit(rest))
    }

    /// One shell word of the script of `at.step`, at `at.line` (quotes, `$VAR`, `${VAR…}`,
    /// `$(…)`, `${{ … }}`).
    pub fn word(&self, word: &str, at: At) -> Value {
        self.word_at(word, at, 0)
    }

    fn word_at(&self, word: &str, at: At, depth: u8) -> Value {
        if depth > MAX_DEPTH || !self.spend() {
            return Value::unknown(word);
        }
        let chars: Vec<char> = word.chars().collect();
        let mut acc = Value::lit("");
        let mut lit = String::new();
        let mut in_double = false;
        let mut i = 0;
        let flush = |acc: &mut Value, lit: &mut String| {
            if !lit.is_empty() {
                *acc = acc.concat(&Value::lit(std::mem::take(lit)));
            }
        };
        while i < chars.len() {
            let c = chars[i];
            match c {
                '\'' if !in_double => {
                    i += 1;
                    while i < chars.len() && chars[i] != '\'' {
                        lit.push(chars[i]);
                        i += 1;
                    }
                    i += 1;
                }
                '"' => {
                    in_double = !in_double;
                    i += 1;
                }
                '\\' => {
                    if let Some(&n) = chars.get(i + 1) {
                        lit.push(n);
                    }
                    i += 2;
                }
                '$' if chars.get(i + 1) == Some(&'{') && chars.get(i + 2) == Some(&'{') => {
                    let mut j = i + 3;
                    while j + 1 < chars.len() && !(chars[j] == '}' && chars[j + 1] == '}') {
                        j += 1;
                    }
                    let inner: String = chars[(i + 3).min(chars.len())..j.min(chars.len())]
                        .iter()
                        .collect();
                    flush(&mut acc, &mut lit);
                    acc = acc.concat(&self.expr(inner.trim(), at, depth + 1));
                    i = (j + 2).min(chars.len());
                }
                '$' if chars.get(i + 1) == Some(&'(') => {
                    let arithmetic = chars.get(i + 2) == Some(&'(');
                    let (inner, end) = balanced(&chars, i + 2, '(', ')');
                    flush(&mut acc, &mut lit);
                    acc = acc.concat(&if arithmetic {
                        Value::unknown(format!("$({inner})"))
                    } else {
                        self.substitution(&inner, at, depth + 1)
                    });
                    i = end;
                }
                '$' if chars.get(i + 1) == Some(&'{') => {
                    let (inner, end) = balanced(&chars, i + 2, '{', '}');
                    flush(&mut acc, &mut lit);
                    acc = acc.concat(&self.parameter(&inner, at, depth + 1));
                    i = end;
                }
                '$' if chars
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_') =>
                {
                    let mut j = i + 1;
                    while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                        j += 1;
                    }
                    let name: String = chars[i + 1..j].iter().collect();
                    flush(&mut acc, &mut lit);
                    acc = acc.concat(&self.variable(&name, at, depth + 1));
                    i = j;
                }
                '$' if chars.get(i + 1).is_some() => {
                    flush(&mut acc, &mut lit);
                    acc = acc.concat(&Value::unknown(format!("${}", chars[i + 1])));
                    i += 2;
                }
                '`' => {
                    let mut j = i + 1;
                    while j < chars.len() && chars[j] != '`' {
                        j += 1;
                    }
                    let inner: String = chars[i + 1..j.min(chars.len())].iter().collect();
                    flush(&mut acc, &mut lit);
                    acc = acc.concat(&self.substitution(&inner, at, depth + 1));
                    i = j + 1;
                }
                _ => {
                    lit.push(c);
                    i += 1;
                }
            }
        }
        flush(&mut acc, &mut lit);
        acc
    }

    /// `${NAME}`, `${NAME::7}`, `${NAME:-default}`, `${GITHUB_REF#refs/tags/}`, `${NAME//\//-}`.
    fn parameter(&self, inner: &str, at: At, depth: u8) -> Value {
        let name_len = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        let (name, op) = inner.split_at(name_len);
        if name.is_empty() || op.starts_with('[') {
            return Value::unknown(format!("${{{inner}}}"));
        }
        let value = self.variable(name, at, depth);
        if op.is_empty() {
            return value;
        }
        for default_op in [":-", ":=", "-", "="] {
            if let Some(default) = op.strip_prefix(default_op) {
                return value.or(self.word_at(default, at, depth + 1));
            }
        }
        if op.starts_with(":+") || op.starts_with('+') {
            return Value::unknown(format!("${{{inner}}}"));
        }
        if op.starts_with(':') {
            // A substring: of a commit, a short commit.
            return value.shortened();
        }
        if op.starts_with('#') || op.starts_with('%') {
            // `${GITHUB_REF#refs/tags/}` is the tag, `#refs/heads/` the branch.
            let full_ref = value
                .alternatives
                .iter()
                .any(|t| t.contains(&Part::Known(Origin::FullRef)));
            if full_ref && op.contains("refs/tags/") {
                return Value::known(self.refs_tag());
            }
            if full_ref && op.contains("refs/heads/") {
                return Value::known(Origin::Branch);
            }
            if full_ref && op.starts_with("##") && op.contains("*/") {
                return Value::known(self.refs.ref_name());
            }
            return value;
        }
        // Replacements and case changes keep what the value is.
        value
    }

    /// The git tag of a tag-started run.
    fn refs_tag(&self) -> Origin {
        Origin::GitTag {
            semver: self.refs.semver_tags,
        }
    }

    /// `$(command)`: what a few well-known commands print.
    fn substitution(&self, inner: &str, at: At, depth: u8) -> Value {
        let cmds = shell::commands(inner);
        let Some(first) = cmds.first() else {
            return Value::unknown(format!("$({inner})"));
        };
        let args: Vec<&str> = first.args().iter().map(String::as_str).collect();
        let mut value = match first.program() {
            "git" if args.first() == Some(&"rev-parse") => {
                if args.iter().any(|a| a.starts_with("--short")) {
                    Value::known(Origin::ShortCommit)
                } else if args.iter().any(|a| *a == "HEAD" || *a == "@") {
                    Value::known(Origin::Commit)
                } else {
                    Value::unknown(format!("$({inner})"))
                }
            }
            "git" if args.first() == Some(&"log") => {
                if args.iter().any(|a| a.contains("%h")) {
                    Value::known(Origin::ShortCommit)
                } else if args.iter().any(|a| a.contains("%H")) {
                    Value::known(Origin::Commit)
                } else {
                    Value::unknown(format!("$({inner})"))
                }
            }
            "date" => Value::known(Origin::Date),
            "echo" => {
                let mut v = Value::lit("");
                for (n, a) in args.iter().filter(|a| !a.starts_with('-')).enumerate() {
                    if n > 0 {
                        v = v.concat(&Value::lit(" "));
                    }
                    v = v.concat(&self.word_at(a, at, depth + 1));
                }
                v
            }
            _ => return Value::unknown(format!("$({})", crate::model::shorten(inner, 30))),
        };
        // The rest of a pipeline: cutting a commit shortens it; other filters keep it.
        for cmd in &cmds[1..] {
            match cmd.program() {
                "cut" | "head" => value = value.shortened(),
                "tr" | "sed" | "xargs" => {}
                _ => return Value::unknown(format!("$({inner})")),
            }
        }
        value
    }

    /// `$NAME` at a point of a script: an assignment before it in the same script, the
    /// step's environment, `$GITHUB_ENV` from earlier steps, the job's and the workflow's
    /// `env:`, or one of GitHub's variables.
    fn variable(&self, name: &str, at: At, depth: u8) -> Value {
        if depth > MAX_DEPTH {
            return Value::unknown(format!("${name}"));
        }
        if let Some(step) = at.step {
            let facts = self.script(step);
            if let Some(a) = facts
                .assigns
                .iter()
                .rev()
                .find(|a| a.name == name && a.line < at.line)
            {
                let here = At {
                    step: Some(step),
                    line: a.line,
                };
                return match a.words.first() {
                    Some(w) => self.word_at(w, here, depth + 1),
                    None => Value::lit(""),
                };
            }
        }
        if let Some(v) = self.env(name, at, depth) {
            return v;
        }
        match name {
            "GITHUB_SHA" => Value::known(Origin::Commit),
            "GITHUB_REF_NAME" => Value::known(self.refs.ref_name()),
            "GITHUB_REF" => Value::known(Origin::FullRef),
            "GITHUB_HEAD_REF" | "GITHUB_BASE_REF" => Value::known(Origin::Branch),
            "GITHUB_RUN_NUMBER" | "GITHUB_RUN_ID" | "GITHUB_RUN_ATTEMPT" => {
                Value::known(Origin::RunNumber)
            }
            _ => Value::unknown(format!("${name}")),
        }
    }

    /// The array `NAME` (`NAME=(…)` and `NAME+=(…)` before `at` in the script), as written.
    pub fn array(&self, name: &str, at: At) -> Option<Vec<(usize, String)>> {
        let step = at.step?;
        let facts = self.script(step);
        let mut out: Option<Vec<(usize, String)>> = None;
        for a in facts
            .assigns
            .iter()
            .filter(|a| a.name == name && a.array && a.line < at.line)
        {
            let words = a.words.iter().map(|w| (a.line, w.clone()));
            match (&mut out, a.append) {
                (Some(list), true) => list.extend(words),
                _ => out = Some(words.collect()),
            }
        }
        out
    }

    /// The `env` context at `at`: the step's `env:`, `$GITHUB_ENV` written by an earlier
    /// step, the job's and the workflow's `env:`.
    fn env(&self, name: &str, at: At, depth: u8) -> Option<Value> {
        if let Some(step) = at.step.and_then(|i| self.step_at(i)) {
            if let Some(v) = step.env.and_then(|e| e.get(name)) {
                let text = scalar(v)?;
                // A step's env reads the job's and the workflow's, not itself.
                return Some(self.text_at(
                    &text,
                    At {
                        step: None,
                        line: 0,
                    },
                    depth + 1,
                ));
            }
            for earlier in self.job.steps.iter().filter(|s| s.index < step.index).rev() {
                let facts = self.script(earlier.index);
                if let Some(w) = facts.writes.iter().rev().find(|w| w.env && w.name == name) {
                    let here = At {
                        step: Some(earlier.index),
                        line: w.line,
                    };
                    return Some(self.word_at(&w.value, here, depth + 1));
                }
            }
        }
        for map in [self.job.env, self.wf.env].into_iter().flatten() {
            if let Some(v) = map.get(name) {
                let text = scalar(v)?;
                return Some(self.text_at(
                    &text,
                    At {
                        step: None,
                        line: 0,
                    },
                    depth + 1,
                ));
            }
        }
        None
    }

    /// The value of an expression's inside (`github.sha`, `env.TAG || 'latest'`,
    /// `startsWith(github.ref, 'refs/tags/') && github.ref_name || github.sha`).
    pub fn expr(&self, inner: &str, at: At, depth: u8) -> Value {
        if depth > MAX_DEPTH || !self.spend() {
            return Value::unknown(format!("${{{{ {inner} }}}}"));
        }
        let mut out: Option<Value> = None;
        for alternative in split_top(inner, "||") {
            // `cond && value`: the value.
            let operand = split_top(alternative, "&&")
                .last()
                .copied()
                .unwrap_or(alternative)
                .trim();
            let v = self.operand(operand, at, depth);
            out = Some(match out {
                None => v,
                Some(acc) => acc.or(v),
            });
        }
        out.unwrap_or_else(|| Value::unknown(format!("${{{{ {inner} }}}}")))
    }

    fn operand(&self, operand: &str, at: At, depth: u8) -> Value {
        let unknown = || Value::unknown(format!("${{{{ {operand} }}}}"));
        if let Some(s) = operand
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
        {
            return Value::lit(s.replace("''", "'"));
        }
        if let Some(inside) = operand.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
            return self.expr(inside, at, depth + 1);
        }
        if operand.contains(['=', '<', '>', '!']) {
            return unknown();
        }
        if let Some(args) = operand
            .strip_prefix("format(")
            .and_then(|s| s.strip_suffix(')'))
        {
            return self.format(args, at, depth).unwrap_or_else(unknown);
        }
        if operand.contains('(') {
            return unknown();
        }
        let path = operand
            .replace("['", ".")
            .replace("']", "")
            .replace("[\"", ".")
            .replace("\"]", "");
        let segments: Vec<&str> = path.split('.').collect();
        match segments.as_slice() {
            ["github", "sha"]
            | ["github", "event", "after"]
            | ["github", "event", "head_commit", "id"]
            | ["github", "event", "workflow_run", "head_sha"]
            | ["github", "event", "pull_request", "head", "sha"]
            | ["github", "event", "pull_request", "merge_commit_sha"] => {
                Value::known(Origin::Commit)
            }
            ["github", "ref_name"] => Value::known(self.refs.ref_name()),
            ["github", "ref"] => Value::known(Origin::FullRef),
            ["github", "head_ref" | "base_ref"]
            | ["github", "event", "pull_request", "head" | "base", "ref"]
            | ["github", "event", "workflow_run", "head_branch"] => Value::known(Origin::Branch),
            ["github", "event", "release", "tag_name"] => {
                Value::known(Origin::GitTag { semver: true })
            }
            ["github", "event", "number"]
            | ["github", "event", "pull_request", "number"]
            | ["github", "event", "issue", "number"] => Value::known(Origin::PrNumber),
            ["github", "run_number" | "run_id" | "run_attempt"] => Value::known(Origin::RunNumber),
            ["env", name] => self.env(name, at, depth).unwrap_or_else(unknown),
            ["inputs", name] | ["github", "event", "inputs", name] => self.input(name),
            ["steps", id, "outputs", name] => self.step_output(id, name, depth),
            ["needs", job, "outputs", name] => self.job_output(job, name, depth),
            ["matrix", name] => self.matrix(name).unwrap_or_else(unknown),
            _ => unknown(),
        }
    }

    /// `format('{0}-{1}', a, b)`.
    fn format(&self, args: &str, at: At, depth: u8) -> Option<Value> {
        let parts = split_top(args, ",");
        let pattern = parts
            .first()?
            .trim()
            .strip_prefix('\'')?
            .strip_suffix('\'')?;
        let values: Vec<Value> = parts[1..]
            .iter()
            .map(|a| self.expr(a.trim(), at, depth + 1))
            .collect();
        let mut acc = Value::lit("");
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            acc = acc.concat(&Value::lit(&rest[..open]));
            let close = rest[open..].find('}')? + open;
            let n: usize = rest[open + 1..close].parse().ok()?;
            acc = acc.concat(values.get(n)?);
            rest = &rest[close + 1..];
        }
        Some(acc.concat(&Value::lit(rest)))
    }

    /// `inputs.NAME`: what the caller gives, a manual run's input, or an input left to the
    /// caller ([`Part::Input`]).
    fn input(&self, name: &str) -> Value {
        if let Some(v) = self.given.and_then(|g| g.get(name)) {
            return v;
        }
        if let Some(dispatch) = self.wf.trigger("workflow_dispatch") {
            if let Some(input) = dispatch.inputs().into_iter().find(|i| i.name == name) {
                let typed = if is_version_input(name) {
                    Value::known(Origin::Version)
                } else {
                    Value::unknown(format!("${{{{ inputs.{name} }}}}"))
                };
                let default = input
                    .default
                    .and_then(|d| d.as_str())
                    .map(|d| d.trim().to_string())
                    .filter(|d| !d.is_empty() && !d.contains("${{"));
                return match default {
                    Some(d) => typed.or(Value::lit(d)),
                    None => typed,
                };
            }
        }
        if self.is_action || self.wf.trigger("workflow_call").is_some() {
            return Value::single(vec![Part::Input(name.to_string())]);
        }
        Value::unknown(format!("${{{{ inputs.{name} }}}}"))
    }

    /// `steps.ID.outputs.NAME`: what that step writes to `$GITHUB_OUTPUT`, or a known
    /// action's output.
    fn step_output(&self, id: &str, name: &str, depth: u8) -> Value {
        let unknown = || Value::unknown(format!("${{{{ steps.{id}.outputs.{name} }}}}"));
        let Some(step) = self
            .job
            .steps
            .iter()
            .find(|s| s.id.and_then(|n| n.as_str()) == Some(id))
        else {
            return unknown();
        };
        if step.run.is_some() {
            let facts = self.script(step.index);
            return match facts.writes.iter().rev().find(|w| !w.env && w.name == name) {
                Some(w) => self.word_at(
                    &w.value,
                    At {
                        step: Some(step.index),
                        line: w.line,
                    },
                    depth + 1,
                ),
                None => unknown(),
            };
        }
        let action = step
            .uses_str()
            .map(|u| u.split('@').next().unwrap_or(u).to_ascii_lowercase())
            .unwrap_or_default();
        match (action.as_str(), name) {
            ("bcgov/action-get-pr" | "bcgov-nr/action-get-pr", "pr") => {
                Value::known(Origin::PrNumber)
            }
            ("mbta/actions/build-push-ecr", "docker-tag") => {
                let repo = step
                    .with
                    .and_then(|w| w.get("docker-repo"))
                    .and_then(scalar)
                    .map(|r| self.text_at(&r, At::step(step.index), depth + 1))
                    .unwrap_or_else(|| Value::unknown("<docker-repo>"));
                repo.concat(&Value::lit(":git-"))
                    .concat(&Value::known(Origin::ShortCommit))
            }
            ("mbta/actions/build-push-ecr", "docker-tag-suffix") => {
                Value::lit("git-").concat(&Value::known(Origin::ShortCommit))
            }
            _ => unknown(),
        }
    }

    /// `needs.JOB.outputs.NAME`: that job's `outputs:` value, read in that job.
    fn job_output(&self, job_id: &str, name: &str, depth: u8) -> Value {
        let unknown = || Value::unknown(format!("${{{{ needs.{job_id}.outputs.{name} }}}}"));
        let Some(job) = self.wf.jobs.iter().find(|j| j.id == job_id) else {
            return unknown();
        };
        let Some(text) = job
            .node
            .get("outputs")
            .and_then(|o| o.get(name))
            .and_then(scalar)
        else {
            return unknown();
        };
        let scope = Scope::new(self.wf, job, self.is_action, self.given);
        // The other job's reads come out of this job's budget.
        scope.budget.set(self.budget.get());
        let v = scope.text_at(
            &text,
            At {
                step: None,
                line: 0,
            },
            depth + 1,
        );
        self.budget.set(scope.budget.get());
        v
    }

    /// `matrix.NAME` when the matrix lists literal values.
    fn matrix(&self, name: &str) -> Option<Value> {
        let list = self
            .job
            .node
            .get("strategy")?
            .get("matrix")?
            .get(name)?
            .as_seq()?;
        let mut out: Option<Value> = None;
        for item in list {
            let v = Value::lit(item.as_str()?);
            out = Some(match out {
                None => v,
                Some(acc) => acc.or(v),
            });
        }
        out
    }
}

/// A scalar's text (numbers and booleans too).
pub fn scalar(node: &Node) -> Option<String> {
    node.as_str().map(str::to_string)
}

/// Input names that hold the version to deploy or build (as deploy-version-input reads
/// them): `version`, `*-version`, `*_version`, `release`, `release-tag`.
pub fn is_version_input(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "version"
        || n.ends_with("-version")
        || n.ends_with("_version")
        || n == "release"
        || n == "release-tag"
        || n == "release_tag"
}

/// Split at `sep` outside quotes and brackets.
fn split_top<'t>(text: &'t str, sep: &str) -> Vec<&'t str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote = false;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' {
            quote = !quote;
        } else if !quote {
            if b == b'(' || b == b'[' {
                depth += 1;
            } else if b == b')' || b == b']' {
                depth -= 1;
            } else if depth == 0 && text[i..].starts_with(sep) {
                out.push(&text[start..i]);
                i += sep.len();
                start = i;
                continue;
            }
        }
        i += 1;
    }
    out.push(&text[start..]);
    out
}

/// The text from `start` to the bracket that closes one opened just before it, and the
/// index after that bracket (quotes respected).
fn balanced(chars: &[char], start: usize, open: char, close: char) -> (String, usize) {
    let mut depth = 1;
    let mut quote: Option<char> = None;
    let mut j = start;
    while j < chars.len() {
        let c = chars[j];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == open => depth += 1,
            None if c == close => {
                depth -= 1;
                if depth == 0 {
                    return (chars[start..j].iter().collect(), j + 1);
                }
            }
            None => {}
        }
        j += 1;
    }
    (
        chars[start.min(chars.len())..].iter().collect(),
        chars.len(),
    )
}

/// The logical lines of a script (continued lines joined), each with the 0-based line
/// where it starts.
pub fn logical_lines(script: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (n, line) in script.lines().enumerate() {
        if current.is_empty() {
            start = n;
        }
        let trimmed = line.trim_end();
        match trimmed.strip_suffix('\\') {
            Some(cont) if !trimmed.trim_start().starts_with('#') => {
                current.push_str(cont);
                current.push(' ');
            }
            _ => {
                current.push_str(trimmed);
                out.push((start, std::mem::take(&mut current)));
            }
        }
    }
    if !current.is_empty() {
        out.push((start, current));
    }
    out
}

/// Read one shell word (quotes, `$( )`, `${ }` kept whole) from the start of `s`; returns
/// the word and the rest.
fn take_word(s: &str) -> (String, &str) {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    let mut quote: Option<char> = None;
    let mut depth = 0i32;
    while i < chars.len() {
        let c = chars[i].1;
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => i += 1,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '\\' => i += 1,
                '(' | '{' => depth += 1,
                ')' | '}' if depth > 0 => depth -= 1,
                c if depth == 0 && (c.is_whitespace() || c == ';' || c == '&' || c == '|') => break,
                _ => {}
            },
        }
        i += 1;
    }
    let end = chars.get(i).map(|(b, _)| *b).unwrap_or(s.len());
    (s[..end].to_string(), &s[end..])
}

/// The words of `( a "b c" $d )` (without the parentheses).
fn array_words(s: &str) -> (Vec<String>, &str) {
    let mut rest = s.trim_start();
    let mut words = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix(')') {
            rest = after;
            break;
        }
        let (w, r) = take_word_until_paren(rest);
        if w.is_empty() {
            break;
        }
        words.push(w);
        rest = r;
    }
    (words, rest)
}

/// Like [`take_word`], also ending at an unquoted `)`.
fn take_word_until_paren(s: &str) -> (String, &str) {
    let (word, _) = take_word(s);
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in word.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' => depth += 1,
                ')' if depth == 0 => return (word[..i].to_string(), &s[i..]),
                ')' => depth -= 1,
                _ => {}
            },
        }
    }
    let len = word.len();
    (word, &s[len..])
}

/// Assignments and `$GITHUB_OUTPUT`/`$GITHUB_ENV` writes of a script.
pub fn read_script(script: &str) -> ScriptFacts {
    let mut facts = ScriptFacts::default();
    for (line, text) in logical_lines(script) {
        let t = text.trim_start();
        if t.starts_with('#') {
            continue;
        }
        if let Some(w) = read_write(line, t) {
            facts.writes.push(w);
            continue;
        }
        let mut t = t;
        for prefix in ["export ", "local ", "readonly ", "declare -x ", "declare "] {
            if let Some(rest) = t.strip_prefix(prefix) {
                t = rest.trim_start();
            }
        }
        let name_len = t
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(t.len());
        if name_len == 0 || t.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let (name, rest) = t.split_at(name_len);
        let (append, rest) = match rest.strip_prefix("+=") {
            Some(r) => (true, r),
            None => match rest.strip_prefix('=') {
                Some(r) => (false, r),
                None => continue,
            },
        };
        if let Some(inside) = rest.strip_prefix('(') {
            let (words, _) = array_words(inside);
            facts.assigns.push(Assign {
                line,
                name: name.to_string(),
                words,
                array: true,
                append,
            });
        } else {
            let (word, _) = take_word(rest);
            facts.assigns.push(Assign {
                line,
                name: name.to_string(),
                words: vec![word],
                array: false,
                append,
            });
        }
    }
    facts
}

/// `echo "name=value" >> $GITHUB_OUTPUT` (also `"$GITHUB_OUTPUT"`, `${GITHUB_ENV}`), and
/// `echo "::set-output name=NAME::VALUE"`.
fn read_write(line: usize, t: &str) -> Option<Write> {
    let rest = t.strip_prefix("echo ")?.trim_start();
    let rest = rest
        .strip_prefix("-e ")
        .or_else(|| rest.strip_prefix("-n "))
        .unwrap_or(rest)
        .trim_start();
    if let Some(set) = rest
        .trim_matches(['"', '\''])
        .strip_prefix("::set-output name=")
    {
        let (name, value) = set.split_once("::")?;
        return Some(Write {
            line,
            env: false,
            name: name.to_string(),
            value: value.to_string(),
        });
    }
    let redirect = rest.rfind(">>")?;
    let target = rest[redirect + 2..]
        .trim()
        .trim_matches(['"', '{', '}', '$'])
        .trim_matches(['"', '{', '}']);
    let env = match target {
        "GITHUB_OUTPUT" => false,
        "GITHUB_ENV" => true,
        _ => return None,
    };
    let arg = rest[..redirect].trim();
    // The argument as one word: `"name=value"`, `'name=value'` or `name=$value`.
    let (quote, inner) = match arg.chars().next() {
        Some(q @ ('"' | '\'')) if arg.len() >= 2 && arg.ends_with(q) => {
            (Some(q), &arg[1..arg.len() - 1])
        }
        _ => (None, arg),
    };
    let (name, value) = inner.split_once('=')?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    let value = match quote {
        Some(q) => format!("{q}{value}{q}"),
        None => value.to_string(),
    };
    Some(Write {
        line,
        env,
        name: name.to_string(),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ship_workflow::yaml::{parse, Limits};

    fn with_scope<R>(src: &str, f: impl FnOnce(&Scope<'_>) -> R) -> R {
        let root = parse(src, Limits::default()).unwrap().unwrap();
        let wf = Workflow::from_root(&root);
        let scope = Scope::new(&wf, &wf.jobs[0], false, None);
        f(&scope)
    }

    #[test]
    fn reads_env_outputs_and_scripts() {
        let src = r#"
on: {push: {tags: ['v*']}}
env:
  REPO: api
jobs:
  b:
    env:
      TAG: ${{ github.ref_name }}
    steps:
      - id: info
        run: |
          echo "short=$(echo ${{ github.sha }} | cut -c1-7)" >> $GITHUB_OUTPUT
          echo IMAGE_TAG=prod-${GITHUB_SHA::7} >> "$GITHUB_ENV"
      - run: |
          BASE="$REPO"
          TAGS=("-t" "$BASE:$TAG")
          TAGS+=("-t" "$BASE:${{ steps.info.outputs.short }}")
          docker build "${TAGS[@]}" .
"#;
        with_scope(src, |s| {
            let at = At {
                step: Some(1),
                line: 3,
            };
            assert_eq!(s.word("$BASE", at).describe(), "api");
            assert_eq!(
                s.word("$TAG", at).alternatives[0],
                vec![Part::Known(Origin::GitTag { semver: true })]
            );
            assert_eq!(
                s.word("${{ steps.info.outputs.short }}", at).describe(),
                "<short commit>"
            );
            assert_eq!(s.word("$IMAGE_TAG", at).describe(), "prod-<short commit>");
            let arr = s.array("TAGS", at).unwrap();
            assert_eq!(arr.len(), 4);
            assert_eq!(arr[3].1, "\"$BASE:${{ steps.info.outputs.short }}\"");
        });
    }

    #[test]
    fn expressions_with_alternatives() {
        let src = "on: {push: {branches: [main]}, workflow_dispatch: {inputs: {tag: {default: latest}}}}\njobs:\n  b:\n    steps: []\n";
        with_scope(src, |s| {
            let v = s.expr("inputs.tag || 'edge'", At::default(), 0);
            assert_eq!(v.describe(), "${{ inputs.tag }} or latest or edge");
            let v = s.expr(
                "startsWith(github.ref, 'refs/tags/') && github.ref_name || github.sha",
                At::default(),
                0,
            );
            assert_eq!(v.describe(), "<branch> or <commit>");
            let v = s.expr("format('sha-{0}', github.sha)", At::default(), 0);
            assert_eq!(v.describe(), "sha-<commit>");
        });
    }

    #[test]
    fn fan_out_is_bounded() {
        // Each variable uses the next one ten times: 10^12 reads without a budget.
        let mut script = String::new();
        for i in 0..12 {
            script.push_str(&format!(
                "          V{i}={}\n",
                format!("$V{}", i + 1).repeat(10)
            ));
        }
        script.push_str("          docker push r/api:$V0\n");
        let src = format!("on: push\njobs:\n  b:\n    steps:\n      - run: |\n{script}");
        with_scope(&src, |s| {
            let v = s.word(
                "$V0",
                At {
                    step: Some(0),
                    line: 12,
                },
            );
            assert!(!v.alternatives.is_empty());
        });
    }

    #[test]
    fn never_loops() {
        let src = "on: push\nenv:\n  A: ${{ env.B }}\n  B: ${{ env.A }}\njobs:\n  b:\n    steps:\n      - run: X=$X\n";
        with_scope(src, |s| {
            let _ = s.word("$A", At::step(0));
            let _ = s.word(
                "$X",
                At {
                    step: Some(0),
                    line: 5,
                },
            );
        });
    }
}
