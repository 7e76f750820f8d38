//! Steps: what each kind of step may have (`run:`, `uses:`, and GitHub's concurrent steps
//! `parallel:`, `wait:`, `wait-all:`, `cancel:` with `background: true`), step ids, and the
//! values of their keys.

use super::{did_you_mean, shape};
use crate::context::Diagnostic;
use ship_workflow::spec::{self, StepKind, STEP_KEYS};
use ship_workflow::{ActionRef, Entry, Job, Node};

/// Ids seen so far in a job: those of one `steps:` list must differ (GitHub compares them
/// ignoring case; a group's steps are a list of their own), and `wait:`/`cancel:` may name
/// any earlier one.
struct Ids<'a> {
    earlier: Vec<&'a str>,
}

pub(super) fn check(job: &Job<'_>, steps: &Node, out: &mut Vec<Diagnostic>) {
    let Some(items) = steps.as_seq() else {
        if !shape::is_expr(steps) {
            out.push(Diagnostic::new(
                steps.span,
                format!("`steps:` of job `{}` must be a list", job.id),
                "write each step as a list item starting with `- `",
            ));
        }
        return;
    };
    let mut ids = Ids {
        earlier: Vec::new(),
    };
    list(items, false, &mut ids, out);
}

fn list<'a>(items: &'a [Node], in_group: bool, ids: &mut Ids<'a>, out: &mut Vec<Diagnostic>) {
    let mut scope: Vec<&'a Node> = Vec::new();
    for item in items {
        step(item, in_group, &mut scope, ids, out);
    }
}

fn step<'a>(
    item: &'a Node,
    in_group: bool,
    scope: &mut Vec<&'a Node>,
    ids: &mut Ids<'a>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(entries) = item.as_map() else {
        out.push(Diagnostic::new(
            item.span,
            if item.is_null() {
                "empty step: a step must be a mapping with `run:` or `uses:`".to_string()
            } else {
                format!(
                    "a step must be a mapping with `run:` or `uses:`, not {}",
                    shape::shown(item)
                )
            },
            "write `- run: …` or `- uses: owner/repo@ref`",
        ));
        return;
    };
    let mut kinds = entries
        .iter()
        .filter_map(|e| Some((StepKind::from_key(e.key.as_str()?)?, e)));
    let Some((kind, first)) = kinds.next() else {
        out.push(Diagnostic::new(
            item.span,
            "a step needs `run:` or `uses:`",
            "add `run: <script>` or `uses: owner/repo@ref`; concurrent steps are `parallel:`, `wait:`, `wait-all:` or `cancel:` steps",
        ));
        return;
    };
    if let Some((second, _)) = kinds.next() {
        out.push(Diagnostic::new(
            first.key.span,
            format!(
                "a step cannot have both `{}:` and `{}:`",
                kind.key(),
                second.key()
            ),
            "split it into two steps",
        ));
        return;
    }
    keys(kind, entries, in_group, out);
    if let Some(id) = item.get("id") {
        step_id(id, scope, out);
    }
    for e in entries {
        let v = &e.value;
        match e.key.as_str() {
            Some(k @ ("name" | "if" | "run")) => shape::scalar(v, k, out),
            Some("uses") => action_ref(v, out),
            Some("with") if kind == StepKind::Uses => shape::values(v, "with", out),
            Some("env") => shape::values(v, "env", out),
            Some(k @ ("shell" | "working-directory")) if kind == StepKind::Run => {
                shape::name(v, k, out)
            }
            Some("continue-on-error") => shape::boolean(v, "continue-on-error", out),
            Some("timeout-minutes") => shape::number(v, "timeout-minutes", out),
            // No expression in `background:`: GitHub must know before the step runs.
            Some("background") if !in_group && v.as_bool().is_none() => {
                out.push(Diagnostic::new(
                    v.span,
                    format!(
                        "`background:` must be `true` or `false`, not {}",
                        shape::shown(v)
                    ),
                    "write `background: true` without quotes",
                ))
            }
            Some(k @ ("wait" | "cancel")) if !in_group => targets(k, e, item.get("id"), ids, out),
            Some("wait-all") if !in_group && !v.is_null() && v.as_bool() != Some(true) => {
                out.push(Diagnostic::new(
                    v.span,
                    format!("`wait-all:` cannot be {}", shape::shown(v)),
                    "write `wait-all:` alone (or `wait-all: true`): it waits for every background step started before it",
                ))
            }
            Some("parallel") if !in_group => match v.as_seq() {
                Some(members) => list(members, true, ids, out),
                None => out.push(Diagnostic::new(
                    v.span,
                    format!(
                        "`parallel:` must be a list of steps, not {}",
                        shape::shown(v)
                    ),
                    "write the steps that run at once below `parallel:`, each starting with `- `",
                )),
            },
            _ => {}
        }
    }
    if let Some(id) = item.get("id").and_then(Node::as_str) {
        ids.earlier.push(id);
    }
}

/// Keys the step may not have: unknown ones, and those of another kind of step.
fn keys(kind: StepKind, entries: &[Entry], in_group: bool, out: &mut Vec<Diagnostic>) {
    let allowed = kind.keys();
    for e in entries {
        let Some(key) = e.key.as_str() else { continue };
        if in_group && key == kind.key() && kind != StepKind::Run && kind != StepKind::Uses {
            let (message, help) = if kind == StepKind::Parallel {
                (
                    "a `parallel:` group cannot contain another group".to_string(),
                    "move these steps into the outer group".to_string(),
                )
            } else {
                (
                    format!("`{key}:` cannot be used inside a `parallel:` group"),
                    "the group already waits for all its steps; move this step after the group"
                        .to_string(),
                )
            };
            out.push(Diagnostic::new(e.key.span, message, help));
            continue;
        }
        if in_group && key == "background" {
            out.push(Diagnostic::new(
                e.key.span,
                "`background:` cannot be used in a `parallel:` group: its steps already run in the background",
                "remove `background:`; the job goes on once every step of the group has finished",
            ));
            continue;
        }
        if allowed.contains(&key) || key.contains("${{") || key == "<<" {
            continue;
        }
        let (message, help) = match (kind, key) {
            (StepKind::Uses, "shell" | "working-directory") => (
                format!("`{key}:` only applies to `run:` steps, and this step `uses:` an action"),
                format!("remove `{key}:`; if the action has such a setting, pass it under `with:`"),
            ),
            (StepKind::Run, "with") => (
                "`with:` only applies to `uses:` steps, and this step `run:`s a script".to_string(),
                "pass values to the script with `env:` and read them as environment variables"
                    .to_string(),
            ),
            (StepKind::Parallel, _) if STEP_KEYS.contains(&key) => (
                format!("a `parallel:` group takes no `{key}:`"),
                "put names, ids and conditions on the steps inside the group".to_string(),
            ),
            _ if STEP_KEYS.contains(&key) => (
                format!("`{key}:` cannot be used in {}", kind.describe()),
                format!("{} may have: {}", kind.describe(), allowed.join(", ")),
            ),
            _ => (format!("unknown key `{key}` in a step"), {
                // A key of this kind of step first, else of any kind.
                let mut hint = did_you_mean(key, allowed);
                if hint.is_empty() {
                    hint = did_you_mean(key, STEP_KEYS);
                }
                format!("{hint}allowed keys: {}", allowed.join(", "))
            }),
        };
        out.push(Diagnostic::new(e.key.span, message, help));
    }
}

/// A step id: valid, and not the id of an earlier step of the same list.
fn step_id<'a>(id: &'a Node, scope: &mut Vec<&'a Node>, out: &mut Vec<Diagnostic>) {
    let Some(text) = id.as_str().filter(|_| !shape::is_expr(id)) else {
        return shape::scalar(id, "id", out);
    };
    if !spec::is_valid_id(text) || text.starts_with("__") {
        out.push(Diagnostic::new(
            id.span,
            format!("`{text}` is not a valid step id"),
            "a step id starts with a letter or `_` (not `__`) and has only letters, digits, `-` and `_`; put a display name in `name:`",
        ));
    } else if let Some(first) = scope
        .iter()
        .find(|o| o.as_str().is_some_and(|o| o.eq_ignore_ascii_case(text)))
    {
        out.push(Diagnostic::new(
            id.span,
            format!(
                "step id `{text}` is already used at line {} (ids are compared ignoring case)",
                first.span.start.line
            ),
            "give each step of a job its own id",
        ));
    }
    scope.push(id);
}

/// `uses:` of a step: `./path`, `docker://image` or `owner/repo[/path]@ref`.
fn action_ref(uses: &Node, out: &mut Vec<Diagnostic>) {
    shape::name(uses, "uses", out);
    let Some(text) = uses.as_str().filter(|t| !t.trim().is_empty()) else {
        return;
    };
    // `$/path`: an action of the workflow's own repository, at the workflow's commit.
    if shape::is_expr(uses) || text.starts_with("$/") {
        return;
    }
    if let ActionRef::Repository {
        owner,
        repo,
        git_ref,
        ..
    } = ActionRef::parse(text)
    {
        let (message, help) = if git_ref.is_none() {
            (
                format!("action `{text}` has no `@ref`"),
                format!("name the version to run: `{text}@<tag or commit>` (`./path` for an action in this repository)"),
            )
        } else if owner.is_empty() || repo.is_empty() {
            (
                format!("action `{text}` names no `owner/repo`"),
                "write `owner/repo@ref` or `owner/repo/path@ref` (e.g. `actions/checkout@v4`), `./path` for an action in this repository".to_string(),
            )
        } else {
            return;
        };
        out.push(Diagnostic::new(uses.span, message, help));
    }
}

/// `wait:` (one id or a list) and `cancel:` (one id): earlier steps of the job.
fn targets(key: &str, e: &Entry, own_id: Option<&Node>, ids: &Ids<'_>, out: &mut Vec<Diagnostic>) {
    let v = &e.value;
    let items: &[Node] = match &v.value {
        ship_workflow::Value::Seq(items) if key == "wait" => items,
        ship_workflow::Value::Scalar { .. } => std::slice::from_ref(v),
        _ => {
            out.push(Diagnostic::new(
                v.span,
                format!("`{key}:` must name a step id, not {}", shape::shown(v)),
                if key == "wait" {
                    "write `wait: <step id>` or `wait: [<id>, <id>]`"
                } else {
                    "write `cancel: <step id>` (one step)"
                },
            ));
            return;
        }
    };
    for item in items {
        let Some(target) = item.as_str().filter(|t| !t.is_empty() && !item.is_null()) else {
            shape::name(item, key, out);
            continue;
        };
        if own_id
            .and_then(Node::as_str)
            .is_some_and(|own| own.eq_ignore_ascii_case(target))
        {
            out.push(Diagnostic::new(
                item.span,
                if key == "wait" {
                    "this step waits for itself".to_string()
                } else {
                    "this step cancels itself".to_string()
                },
                format!("`{key}:` names the `id:` of an earlier `background: true` step"),
            ));
        } else if !ids.earlier.contains(&target) {
            out.push(Diagnostic::new(
                item.span,
                format!("no earlier step of this job has the id `{target}`"),
                format!(
                    "{}`{key}:` names the `id:` of an earlier `background: true` step",
                    did_you_mean(target, &ids.earlier)
                ),
            ));
        }
    }
}
