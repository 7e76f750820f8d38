//! Type checks shared by every section: is this value a mapping, a list of names, a number,
//! a boolean? Each reports at the value, says what was found and how to write it.
//!
//! A value with an expression (`${{ … }}`) passes every check here: GitHub evaluates it when
//! the workflow runs, and what it evaluates to cannot be known from the file.

use super::did_you_mean;
use crate::context::Diagnostic;
use ship_workflow::yaml::Style;
use ship_workflow::{Entry, Node, Value};

/// A scalar with a `${{ }}` expression in it.
pub(super) fn is_expr(node: &Node) -> bool {
    node.as_str().is_some_and(|s| s.contains("${{"))
}

/// What a value is, for messages: `a list`, `a mapping`, `nothing`, `` `"30"` ``.
pub(super) fn shown(node: &Node) -> String {
    match &node.value {
        Value::Seq(_) => "a list".into(),
        Value::Map(_) => "a mapping".into(),
        _ if node.is_null() => "nothing".into(),
        Value::Scalar { text, style } => {
            let text: String = if text.chars().count() > 40 {
                text.chars().take(40).chain("…".chars()).collect()
            } else {
                text.clone()
            };
            match style {
                Style::Plain => format!("`{text}`"),
                _ => format!("`\"{text}\"` (quoted: text)"),
            }
        }
    }
}

/// Keys of `node` (a mapping) that are not in `allowed`, each reported at the key with the
/// likely key when it is a typo. `what` names the mapping, built only when there is a finding.
pub(super) fn unknown_keys(
    node: &Node,
    allowed: &[&str],
    what: &dyn Fn() -> String,
    out: &mut Vec<Diagnostic>,
) {
    for e in node.as_map().unwrap_or_default() {
        let Some(name) = e.key.as_str() else { continue };
        if !allowed.contains(&name) && !name.contains("${{") && name != "<<" {
            out.push(Diagnostic::new(
                e.key.span,
                format!("unknown key `{name}` in {}", what()),
                format!(
                    "{}allowed keys: {}",
                    did_you_mean(name, allowed),
                    allowed.join(", ")
                ),
            ));
        }
    }
}

/// The entries of a mapping; `None` (reported unless it is an expression) for anything else.
/// `how` says how to write it.
pub(super) fn map<'n>(
    node: &'n Node,
    key: &str,
    how: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<&'n [Entry]> {
    if let Some(entries) = node.as_map() {
        return Some(entries);
    }
    // `key:` with nothing after it: no entries.
    if node.is_null() {
        return Some(&[]);
    }
    if !is_expr(node) {
        out.push(Diagnostic::new(
            node.span,
            format!("`{key}:` must be a mapping, not {}", shown(node)),
            how,
        ));
    }
    None
}

/// `true` or `false`, unquoted (GitHub reads `"true"` as text and refuses it).
pub(super) fn boolean(node: &Node, key: &str, out: &mut Vec<Diagnostic>) {
    if node.as_bool().is_none() && !is_expr(node) {
        out.push(Diagnostic::new(
            node.span,
            format!("`{key}:` must be `true` or `false`, not {}", shown(node)),
            format!("write `{key}: true` or `{key}: false` without quotes, or an expression `${{{{ … }}}}`"),
        ));
    }
}

/// A number, unquoted.
pub(super) fn number(node: &Node, key: &str, out: &mut Vec<Diagnostic>) {
    let plain_number = matches!(&node.value, Value::Scalar { text, style: Style::Plain }
        if text.parse::<f64>().is_ok_and(f64::is_finite));
    if !plain_number && !is_expr(node) {
        out.push(Diagnostic::new(
            node.span,
            format!("`{key}:` must be a number, not {}", shown(node)),
            format!(
                "write a number without quotes, e.g. `{key}: 30`, or an expression `${{{{ … }}}}`"
            ),
        ));
    }
}

/// A single value (text, number or boolean), not a list or mapping.
pub(super) fn scalar(node: &Node, key: &str, out: &mut Vec<Diagnostic>) {
    if node.as_str().is_none() {
        out.push(Diagnostic::new(
            node.span,
            format!("`{key}:` must be a single value, not {}", shown(node)),
            format!("write `{key}:` as one line of text; quote it if it contains `: ` or `#`"),
        ));
    }
}

/// Text that is not empty.
pub(super) fn name(node: &Node, key: &str, out: &mut Vec<Diagnostic>) {
    if node.as_str().is_none() {
        scalar(node, key, out);
    } else if node.as_str().is_some_and(|s| s.trim().is_empty()) || node.is_null() {
        out.push(Diagnostic::new(
            node.span,
            format!("`{key}:` is empty"),
            format!("give `{key}:` a value, or remove it"),
        ));
    }
}

/// One name or a list of names (`branches: main`, `branches: [main, 'release/**']`), none
/// of them empty.
pub(super) fn names(node: &Node, key: &str, out: &mut Vec<Diagnostic>) {
    match &node.value {
        Value::Seq(items) => {
            for item in items {
                name(item, key, out);
            }
        }
        Value::Scalar { .. } => name(node, key, out),
        Value::Map(_) => out.push(Diagnostic::new(
            node.span,
            format!("`{key}:` must be a name or a list of names, not a mapping"),
            format!("write `{key}: [a, b]`, or one item per line starting with `- `"),
        )),
    }
}

/// A mapping of names to single values (`env:`, `with:`, `outputs:`).
pub(super) fn values(node: &Node, key: &str, out: &mut Vec<Diagnostic>) {
    let how = format!("write each entry as `NAME: value` under `{key}:`");
    let Some(entries) = map(node, key, &how, out) else {
        return;
    };
    for e in entries {
        if e.value.as_str().is_none() {
            let name = e.key.as_str().unwrap_or("");
            out.push(Diagnostic::new(
                e.value.span,
                format!("`{key}.{name}` must be a single value, not {}", shown(&e.value)),
                "write the value as text (a list or mapping can be passed as a JSON string, e.g. with `toJSON()`)",
            ));
        }
    }
}
