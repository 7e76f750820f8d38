//! The two kinds of substitution in a spec:
//! - `${NAME}`: an environment variable, read once when the spec is loaded (tokens, hosts);
//! - `{{name}}`: a value captured from an earlier response, filled in for every request.
//!
//! And [`Secrets`], the values that must never be printed.

use serde_json::Value;
use std::collections::BTreeMap;

/// A string with `{{name}}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
}

/// Values captured so far (and the built-ins such as `run_id`), by name.
pub type Vars = BTreeMap<String, Value>;

impl Template {
    /// Parses `{{name}}` placeholders (spaces inside the braces are allowed). Names are
    /// letters, digits and `_`, not starting with a digit.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| {
                format!(
                    "`{{{{` without a closing `}}}}` in `{text}`; write captures as `{{{{name}}}}`"
                )
            })?;
            let name = after[..close].trim();
            if !is_name(name) {
                return Err(format!(
                    "`{{{{{name}}}}}` is not a capture name; names are letters, digits and `_`, e.g. `{{{{tenant_id}}}}`"
                ));
            }
            parts.push(Part::Var(name.to_string()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// A template of plain text.
    pub fn literal(text: &str) -> Template {
        Template {
            parts: vec![Part::Text(text.to_string())],
        }
    }

    /// The names this template needs.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The text with every placeholder filled in. A name without a value stays as
    /// `{{name}}` (loading a spec rejects names that no earlier check captures).
    pub fn render(&self, vars: &Vars) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(name) => match vars.get(name) {
                    Some(v) => out.push_str(&value_text(v)),
                    None => {
                        out.push_str("{{");
                        out.push_str(name);
                        out.push_str("}}");
                    }
                },
            }
        }
        out
    }

    /// The name, when the whole template is one placeholder (`"{{item_id}}"`): in a JSON body
    /// the captured value then keeps its JSON type, so a numeric id stays a number.
    fn single_var(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Var(name)] => Some(name),
            _ => None,
        }
    }
}

/// A captured value as text: strings without quotes, anything else as JSON.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Every `{{name}}` used in the string leaves of a JSON body; the first error found otherwise.
pub fn json_vars(body: &Value) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut stack = vec![body];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => names.extend(Template::parse(s)?.vars().map(str::to_string)),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    Ok(names)
}

/// A JSON body with its `{{name}}` placeholders filled in.
pub fn render_json(body: &Value, vars: &Vars) -> Value {
    match body {
        Value::String(s) => match Template::parse(s) {
            Ok(t) => match t.single_var().and_then(|name| vars.get(name)) {
                Some(v) => v.clone(),
                None => Value::String(t.render(vars)),
            },
            Err(_) => body.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(|i| render_json(i, vars)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), render_json(v, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Why `${NAME}` could not be filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvError {
    Unset(String),
    Empty(String),
    Syntax(String),
}

impl EnvError {
    /// One sentence naming the variable and the fix.
    pub fn message(&self) -> String {
        match self {
            EnvError::Unset(name) => format!(
                "`${{{name}}}` is not set; export {name} (in a workflow: `env: {name}: ${{{{ secrets.{name} }}}}` on the step)"
            ),
            EnvError::Empty(name) => format!(
                "`${{{name}}}` is empty; on GitHub Actions a secret that does not exist in this repository or environment reads as empty, so check its name and the job's `environment:`"
            ),
            EnvError::Syntax(msg) => msg.clone(),
        }
    }
}

/// Replaces `${NAME}` with the variable's value (`$${` stands for a literal `${`). Returns the
/// text and the values that were substituted, which the caller may treat as secrets.
pub fn expand_env(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, Vec<String>), EnvError> {
    if !text.contains("${") {
        return Ok((text.to_string(), Vec::new()));
    }
    let mut out = String::new();
    let mut used = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            out.push_str(&rest[..i - 1]);
            out.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let close = after.find('}').ok_or_else(|| {
            EnvError::Syntax(format!(
                "`${{` without a closing `}}` in `{text}`; write environment variables as `${{NAME}}` (and a literal `${{` as `$${{`)"
            ))
        })?;
        let name = &after[..close];
        if !is_name(name) {
            return Err(EnvError::Syntax(format!(
                "`${{{name}}}` is not an environment variable name; use letters, digits and `_`, e.g. `${{API_TOKEN}}`"
            )));
        }
        match lookup(name) {
            None => return Err(EnvError::Unset(name.to_string())),
            Some(v) if v.is_empty() => return Err(EnvError::Empty(name.to_string())),
            Some(v) => {
                out.push_str(&v);
                used.push(v);
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok((out, used))
}

/// Values that must not appear in logs, reports or outputs.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        if !value.is_empty() && !self.values.iter().any(|v| v == value) {
            self.values.push(value.to_string());
            // Longest first, so a secret containing another is replaced whole.
            self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// `text` with every secret replaced by `***`: these, and those of the process-wide
    /// registry (`ship_actions_runtime::secrets`: the URL's password, tokens from the
    /// environment), whose encoded forms (percent, base64) are masked too.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "***");
            }
        }
        ship_actions_runtime::redact(&out).into_owned()
    }
}

/// Whether a header's value is a credential by its name, so it is masked even when it was
/// written into the spec or flag directly rather than read from `${ENV}`.
pub fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || [
        "token",
        "secret",
        "key",
        "auth",
        "password",
        "session",
        "signature",
    ]
    .iter()
    .any(|w| n.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_captures_and_keeps_json_types() {
        let mut vars = Vars::new();
        vars.insert("tenant_id".into(), json!("t-1"));
        vars.insert("item_id".into(), json!(42));
        let t = Template::parse("/tenants/{{ tenant_id }}/items/{{item_id}}").unwrap();
        assert_eq!(t.render(&vars), "/tenants/t-1/items/42");
        assert_eq!(t.vars().collect::<Vec<_>>(), ["tenant_id", "item_id"]);
        let body =
            json!({"item": "{{item_id}}", "note": "for {{tenant_id}}", "n": [1, "{{item_id}}"]});
        assert_eq!(
            render_json(&body, &vars),
            json!({"item": 42, "note": "for t-1", "n": [1, 42]})
        );
        assert_eq!(json_vars(&body).unwrap().len(), 3);
    }

    #[test]
    fn template_errors() {
        assert!(Template::parse("/x/{{id").unwrap_err().contains("closing"));
        assert!(Template::parse("/x/{{a-b}}")
            .unwrap_err()
            .contains("not a capture name"));
    }

    #[test]
    fn env_expansion() {
        let lookup = |k: &str| match k {
            "TOKEN" => Some("s3cret".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let (text, used) = expand_env("Bearer ${TOKEN} costs $${X}", &lookup).unwrap();
        assert_eq!(text, "Bearer s3cret costs ${X}");
        assert_eq!(used, ["s3cret"]);
        assert_eq!(
            expand_env("${NOPE}", &lookup).unwrap_err(),
            EnvError::Unset("NOPE".into())
        );
        assert_eq!(
            expand_env("${EMPTY}", &lookup).unwrap_err(),
            EnvError::Empty("EMPTY".into())
        );
        assert!(matches!(
            expand_env("${A", &lookup).unwrap_err(),
            EnvError::Syntax(_)
        ));
    }

    #[test]
    fn secrets_are_redacted_longest_first() {
        let mut s = Secrets::default();
        s.add("abc");
        s.add("abcdef");
        assert_eq!(s.redact("x abcdef y abc"), "x *** y ***");
        assert!(is_sensitive_header("X-Api-Key"));
        assert!(is_sensitive_header("Authorization"));
        assert!(!is_sensitive_header("Accept"));
    }
}
