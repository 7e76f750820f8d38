//! Sections a workflow and its jobs share: `permissions`, `env`, `defaults`, `concurrency`.

use super::{did_you_mean, shape};
use crate::context::Diagnostic;
use ship_workflow::spec::{
    CONCURRENCY_KEYS, CONCURRENCY_QUEUES, DEFAULTS_KEYS, DEFAULTS_RUN_KEYS, PERMISSION_SCOPES,
    PERMISSION_SHORTHANDS,
};
use ship_workflow::{Node, Span, Value};

/// `permissions: read-all | write-all | {}` or a mapping of scopes to levels.
pub(super) fn permissions(node: &Node, out: &mut Vec<Diagnostic>) {
    match &node.value {
        _ if node.is_null() => out.push(Diagnostic::new(
            node.span,
            "`permissions:` is empty",
            "write `permissions: {}` for a token without permissions, or list the scopes the jobs need, e.g. `contents: read`",
        )),
        Value::Scalar { text, .. } => {
            if !PERMISSION_SHORTHANDS.contains(&text.as_str()) {
                out.push(Diagnostic::new(
                    node.span,
                    format!(
                        "`permissions: {text}` is not a permission: the whole token takes `read-all`, `write-all` or `{{}}`"
                    ),
                    format!(
                        "{}list the scopes the jobs need instead, e.g. `permissions: {{ contents: read }}`",
                        did_you_mean(text, PERMISSION_SHORTHANDS)
                    ),
                ));
            }
        }
        Value::Seq(_) => out.push(Diagnostic::new(
            node.span,
            "`permissions:` must be a mapping of scopes to levels, not a list",
            "write `permissions:` with one `scope: read|write|none` per line, e.g. `contents: read`",
        )),
        Value::Map(entries) => {
            let scopes: Vec<&str> = PERMISSION_SCOPES.iter().map(|(s, _)| *s).collect();
            for e in entries {
                let Some(scope) = e.key.as_str() else {
                    continue;
                };
                let Some((_, levels)) = PERMISSION_SCOPES.iter().find(|(s, _)| *s == scope)
                else {
                    out.push(Diagnostic::new(
                        e.key.span,
                        format!("unknown permission scope `{scope}`"),
                        format!("{}scopes: {}", did_you_mean(scope, &scopes), scopes.join(", ")),
                    ));
                    continue;
                };
                let allowed = levels.allowed();
                let level = e.value.as_str().filter(|_| !e.value.is_null());
                if !level.is_some_and(|l| allowed.contains(&l)) {
                    let level = level.unwrap_or("");
                    let hint = if level.ends_with("-all") {
                        "`read-all`/`write-all` apply to the whole token; ".to_string()
                    } else {
                        did_you_mean(level, allowed)
                    };
                    out.push(Diagnostic::new(
                        e.value.span,
                        format!(
                            "`{scope}` cannot be {}",
                            if level.is_empty() {
                                "empty".to_string()
                            } else {
                                format!("`{level}`")
                            }
                        ),
                        format!("{hint}`{scope}` takes {}", or_list(allowed)),
                    ));
                }
            }
        }
    }
}

/// `` `a`, `b` or `c` ``.
pub(super) fn or_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// `env:`: names to single values.
pub(super) fn env(node: &Node, out: &mut Vec<Diagnostic>) {
    shape::values(node, "env", out);
}

/// `defaults: { run: { shell, working-directory } }`.
pub(super) fn defaults(node: &Node, out: &mut Vec<Diagnostic>) {
    let Some(entries) = shape::map(
        node,
        "defaults",
        "write `defaults:` with `run:` below it, e.g. `run: { shell: bash }`",
        out,
    ) else {
        return;
    };
    shape::unknown_keys(node, DEFAULTS_KEYS, &|| "`defaults`".into(), out);
    let Some(run) = entries
        .iter()
        .find(|e| e.key.as_str() == Some("run"))
        .map(|e| &e.value)
    else {
        return;
    };
    if shape::map(
        run,
        "defaults.run",
        "write `shell:` and/or `working-directory:` below `run:`",
        out,
    )
    .is_some()
    {
        shape::unknown_keys(run, DEFAULTS_RUN_KEYS, &|| "`defaults.run`".into(), out);
        for key in DEFAULTS_RUN_KEYS {
            if let Some(v) = run.get(key) {
                shape::name(v, key, out);
            }
        }
    }
}

/// `concurrency: group-name` or `{ group, cancel-in-progress, queue }`. A job's concurrency
/// must not be empty text; the workflow's may (GitHub's schema differs there).
pub(super) fn concurrency(node: &Node, key: Span, job: bool, out: &mut Vec<Diagnostic>) {
    match &node.value {
        Value::Scalar { .. } if job => shape::name(node, "concurrency", out),
        Value::Scalar { .. } => {}
        Value::Seq(_) => out.push(Diagnostic::new(
            node.span,
            "`concurrency:` must be a group name or a mapping with `group:`, not a list",
            "write `concurrency: deploy-${{ github.ref }}` or `concurrency: { group: …, cancel-in-progress: true }`",
        )),
        Value::Map(entries) => {
            shape::unknown_keys(node, CONCURRENCY_KEYS, &|| "`concurrency`".into(), out);
            match node.get("group") {
                Some(group) => shape::name(group, "group", out),
                None => out.push(Diagnostic::new(
                    key,
                    "`concurrency:` has no `group:`",
                    "add `group:` (the name of the concurrency group), or write the group name as `concurrency:`'s value",
                )),
            }
            for e in entries {
                match e.key.as_str() {
                    Some("cancel-in-progress") => {
                        shape::boolean(&e.value, "cancel-in-progress", out)
                    }
                    Some("queue") => {
                        let q = e.value.as_str().unwrap_or("");
                        if !CONCURRENCY_QUEUES.contains(&q) && !shape::is_expr(&e.value) {
                            out.push(Diagnostic::new(
                                e.value.span,
                                format!("`queue:` cannot be {}", shape::shown(&e.value)),
                                format!("`queue:` takes {}", or_list(CONCURRENCY_QUEUES)),
                            ));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
