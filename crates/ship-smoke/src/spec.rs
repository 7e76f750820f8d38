//! The smoke-test spec: the YAML file format (with its JSON Schema), the quick form built from
//! flags, and the [`Plan`] both compile to. Every problem is reported where the user wrote
//! it: a file's line and column, or the flag and line of `--checks`.

use crate::json_path::JsonPath;
use crate::status::StatusSet;
use crate::template::{self, expand_env, is_sensitive_header, json_vars, Secrets, Template};
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ship_workflow::schema::{self as schema_check, key_path, SchemaHints};
use ship_workflow::yaml::{self, Limits, Node};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

/// Per-request timeout when neither the spec nor `--timeout` sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Names every spec may use without capturing them.
pub const BUILTIN_VARS: &[&str] = &["run_id", "expected_version"];

// ----------------------------------------------------------------------------- file format

/// A smoke-test spec file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "ship-smoke-test spec")]
pub struct SpecFile {
    /// Where the service answers, e.g. `https://api.example.com`; check paths are appended to
    /// it. `--url` overrides it. May use `${ENV}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Headers sent with every request. Values may use `${ENV}`; those values, and the values
    /// of credential headers (Authorization, Cookie, *-Token, *-Key), are masked in all output.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Longest wait for one response, e.g. `10s` (default 10s). `--timeout` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Where the running version is read, for `--expect-version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<VersionSpec>,
    /// The checks, run in order; a value captured by one is usable in the later ones.
    pub checks: Vec<CheckSpec>,
}

/// Where the service reports its version.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionSpec {
    /// The check (by `name`) whose response carries the version. Default: the first response
    /// that has the field or header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// JSON field holding the version: a JSON Pointer (`/build/version`) or dotted path
    /// (`build.version`). Default `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Response header holding the version (instead of a JSON field), e.g. `X-App-Version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    #[default]
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
        }
    }

    fn parse(text: &str) -> Option<Method> {
        Some(match text {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            _ => return None,
        })
    }

    /// Methods that may be repeated in watch mode without changing anything.
    pub fn is_safe(self) -> bool {
        matches!(self, Method::Get | Method::Head | Method::Options)
    }
}

/// One request and what its response must look like.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Name in reports and in the `failed-checks` output (default: `METHOD path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// HTTP method (default GET).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Path appended to `base_url` (or a full `https://` URL). May use `{{captures}}`.
    pub path: String,
    /// Headers for this request, added to the spec's `headers`. May use `{{captures}}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// JSON request body. Strings may use `{{captures}}`; a string that is only
    /// `{{name}}` becomes the captured value with its JSON type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// Text request body (instead of `json`). May use `{{captures}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// What the response must look like.
    #[serde(default)]
    pub expect: ExpectSpec,
    /// Values to keep for later checks: name → JSON path (`id`, `/data/id`) or
    /// `header:Location`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, String>,
    /// Repeat this check in watch mode (default: true for GET, HEAD and OPTIONS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<bool>,
}

/// Expectations on a response.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// Acceptable status: `200`, `2xx`, `[200, 204]` or `"200,204"` (default 2xx).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusSpec>,
    /// Slowest acceptable response, e.g. `500ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_latency: Option<String>,
    /// Assertions on the JSON body: JSON path (`data.items[0].id`, `/data/id`) → assertion.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub json: BTreeMap<String, Assertion>,
    /// Assertions on response headers: header name → assertion.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Assertion>,
    /// Text the body must contain (one string or a list). May use `{{captures}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<OneOrMany>,
}

/// A status code, a class such as `2xx`, or a list of them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StatusSpec {
    Code(u16),
    Text(String),
    List(Vec<StatusListItem>),
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StatusListItem {
    Code(u16),
    Text(String),
}

/// One string or a list of strings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Conditions on one value; every condition given must hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1))]
pub struct Assertion {
    /// The value equals this (numbers compare by value; strings may use `{{captures}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
    /// `true`: the value is present and not null; `false`: it is absent or null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// The value (as text) matches this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// The value (as text) contains this, or the array has an element equal to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// The value is a number greater than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<f64>,
    /// The value is a number greater than or equal to this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gte: Option<f64>,
    /// The value is a number less than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<f64>,
    /// The value is a number less than or equal to this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lte: Option<f64>,
}

/// The JSON Schema of a spec file (`ship-smoke-test schema`).
pub fn schema() -> Value {
    let mut value = schemars::schema_for!(SpecFile).to_value();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$id".into(),
            Value::String("https://github.com/org/ship/smoke-test.schema.json".into()),
        );
    }
    value
}

// ----------------------------------------------------------------------------- the plan

/// A spec ready to run: URLs checked, durations and regexes parsed, captures resolved.
#[derive(Debug, Clone)]
pub struct Plan {
    pub base_url: String,
    pub headers: Vec<(String, Template)>,
    pub timeout: Duration,
    pub version: VersionSource,
    pub expected_version: Option<String>,
    pub checks: Vec<Check>,
    /// Values never to print (add them to the runner's masks too).
    pub secrets: Secrets,
    /// CA certificates trusted besides the system's roots (`ca-cert`).
    pub ca_certs: Vec<reqwest::Certificate>,
}

/// Where the served version is read.
#[derive(Debug, Clone)]
pub struct VersionSource {
    /// Index of the check whose response carries it; `None`: the first that has it.
    pub check: Option<usize>,
    pub locator: VersionLocator,
}

#[derive(Debug, Clone)]
pub enum VersionLocator {
    Field(JsonPath),
    Header(String),
}

impl fmt::Display for VersionLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionLocator::Field(p) => write!(f, "JSON field `{p}`"),
            VersionLocator::Header(h) => write!(f, "header `{h}`"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub method: Method,
    pub path: Template,
    pub headers: Vec<(String, Template)>,
    pub body: Body,
    pub expect: Expectations,
    pub captures: Vec<Capture>,
    pub watch: bool,
}

#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(Value),
    Text(Template),
}

#[derive(Debug, Clone)]
pub struct Expectations {
    pub status: StatusSet,
    pub max_latency: Option<Duration>,
    pub json: Vec<(JsonPath, CompiledAssertion)>,
    pub headers: Vec<(String, CompiledAssertion)>,
    pub body_contains: Vec<Template>,
}

/// An [`Assertion`] with its regex compiled and its templates parsed.
#[derive(Debug, Clone, Default)]
pub struct CompiledAssertion {
    pub equals: Option<Value>,
    pub exists: Option<bool>,
    pub matches: Option<Regex>,
    pub contains: Option<Template>,
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Capture {
    pub name: String,
    pub from: CaptureSource,
}

#[derive(Debug, Clone)]
pub enum CaptureSource {
    Json(JsonPath),
    Header(String),
}

// ----------------------------------------------------------------------------- errors

/// One thing wrong with a spec or the flags, where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecProblem {
    /// `smoke.yml:12:5`, or the flag (`--checks line 2`).
    pub location: String,
    /// Dotted key path in the spec, e.g. `checks[2].expect.status`; empty for the whole file.
    pub key_path: String,
    pub message: String,
}

/// A spec or flags that cannot run, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecError {
    pub problems: Vec<SpecProblem>,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            if p.key_path.is_empty() {
                write!(f, "{}: {}", p.location, p.message)?;
            } else {
                write!(f, "{}: `{}`: {}", p.location, p.key_path, p.message)?;
            }
        }
        Ok(())
    }
}

/// Maps a key path in the spec to where the user wrote it.
trait Locate {
    fn locate(&self, segs: &[String]) -> String;
}

struct FileLocator<'a> {
    label: &'a str,
    root: &'a Node,
}

impl Locate for FileLocator<'_> {
    fn locate(&self, segs: &[String]) -> String {
        let (line, column) = schema_check::position_of(self.root, segs);
        format!("{}:{line}:{column}", self.label)
    }
}

/// The quick form has no file: problems are placed at the flag that carried the value.
struct FlagLocator {
    /// Line of `--checks` each check came from.
    check_lines: Vec<usize>,
}

impl Locate for FlagLocator {
    fn locate(&self, segs: &[String]) -> String {
        let first = segs.first().map(String::as_str).unwrap_or("");
        match first {
            "checks" => match segs.get(1).and_then(|i| i.parse::<usize>().ok()) {
                Some(i) => match self.check_lines.get(i) {
                    Some(line) => format!("--checks line {line}"),
                    None => "--url".into(),
                },
                None => "--checks".into(),
            },
            "headers" => "--headers".into(),
            "timeout" => "--timeout".into(),
            "version" => "--version-field/--version-header".into(),
            _ => "--url".into(),
        }
    }
}

/// Problems found while compiling, each at its key path.
struct Problems<'a> {
    locator: &'a dyn Locate,
    list: Vec<SpecProblem>,
}

impl Problems<'_> {
    fn push(&mut self, segs: &[&str], message: impl Into<String>) {
        let segs: Vec<String> = segs.iter().map(|s| s.to_string()).collect();
        self.list.push(SpecProblem {
            location: self.locator.locate(&segs),
            key_path: key_path(&segs),
            message: message.into(),
        });
    }
}

// ----------------------------------------------------------------------------- loading

/// What the command line adds to (or overrides in) a spec.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--url` with `--spec`: the base URL instead of the spec's `base_url`.
    pub base_url: Option<String>,
    /// `--expect-version`.
    pub expected_version: Option<String>,
    /// `--version-field`.
    pub version_field: Option<String>,
    /// `--version-header`.
    pub version_header: Option<String>,
    /// `--timeout`.
    pub timeout: Option<Duration>,
}

/// Reads a spec file. `label` names it in messages; `env` reads `${NAME}` variables.
pub fn load_file(
    label: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Plan, SpecError> {
    let single = |line: u32, column: u32, message: String| SpecError {
        problems: vec![SpecProblem {
            location: format!("{label}:{line}:{column}"),
            key_path: String::new(),
            message,
        }],
    };
    let root = match yaml::parse(text, Limits::default()) {
        Ok(Some(root)) => root,
        Ok(None) => {
            return Err(single(
                1,
                1,
                "the spec is empty; start it with `base_url:` and a list of `checks:` (`ship-smoke-test schema` prints the format)".into(),
            ))
        }
        Err(e) => {
            return Err(single(
                e.pos.line,
                e.pos.column,
                format!("not valid YAML: {}; fix the syntax at that position", e.message),
            ))
        }
    };
    if root.as_map().is_none() {
        return Err(single(
            root.span.start.line,
            root.span.start.column,
            "a spec is a mapping with `base_url:` and `checks:`, not a list or a single value"
                .into(),
        ));
    }
    let locator = FileLocator { label, root: &root };
    let fix = |key: &str| match key {
        "checks" => "add `checks:` with at least one `- path: /health`".to_string(),
        "path" => "every check needs the `path:` it requests, e.g. `path: /health`".to_string(),
        _ => format!("add `{key}:`"),
    };
    let hints = SchemaHints {
        schema_command: "ship-smoke-test schema",
        required_fix: &fix,
    };
    let schema_problems = schema_check::check(&schema(), &root, &hints);
    if !schema_problems.is_empty() {
        return Err(SpecError {
            problems: schema_problems
                .into_iter()
                .map(|p| SpecProblem {
                    location: format!("{label}:{}:{}", p.line, p.column),
                    key_path: p.key_path,
                    message: p.message,
                })
                .collect(),
        });
    }
    compile_json(root.to_json(), &locator, env, overrides)
}

/// Builds a plan from the quick-form flags: `--url`, optional `--checks` lines
/// (`GET /health 200`), `--expect-status` and `--headers` lines (`Name: value`).
pub fn quick(
    url: &str,
    checks: Option<&str>,
    expect_status: Option<&str>,
    headers: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Plan, SpecError> {
    let mut problems = Vec::new();
    let mut spec = SpecFile {
        base_url: Some(url.to_string()),
        ..SpecFile::default()
    };
    let status = expect_status.map(|s| StatusSpec::Text(s.to_string()));
    if let Some(s) = expect_status {
        if let Err(e) = StatusSet::parse(s) {
            problems.push(SpecProblem {
                location: "--expect-status".into(),
                key_path: String::new(),
                message: e,
            });
        }
    }
    let mut check_lines = Vec::new();
    match checks.map(str::trim).filter(|c| !c.is_empty()) {
        None => {
            check_lines.push(0);
            spec.checks.push(CheckSpec {
                path: String::new(),
                name: Some(url.to_string()),
                expect: ExpectSpec {
                    status: status.clone(),
                    ..ExpectSpec::default()
                },
                ..CheckSpec::default()
            });
        }
        Some(text) => {
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                match parse_check_line(line) {
                    Ok((method, path, line_status)) => {
                        check_lines.push(n + 1);
                        spec.checks.push(CheckSpec {
                            method: Some(method),
                            path: path.to_string(),
                            expect: ExpectSpec {
                                status: line_status
                                    .map(|s| StatusSpec::Text(s.to_string()))
                                    .or_else(|| status.clone()),
                                ..ExpectSpec::default()
                            },
                            ..CheckSpec::default()
                        });
                    }
                    Err(e) => problems.push(SpecProblem {
                        location: format!("--checks line {}", n + 1),
                        key_path: String::new(),
                        message: e,
                    }),
                }
            }
            if spec.checks.is_empty() && problems.is_empty() {
                problems.push(SpecProblem {
                    location: "--checks".into(),
                    key_path: String::new(),
                    message: "no checks given; write one per line, e.g. `GET /health 200`".into(),
                });
            }
        }
    }
    for (n, line) in headers.unwrap_or("").lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() && !name.contains(' ') => {
                spec.headers
                    .insert(name.trim().to_string(), value.trim().to_string());
            }
            _ => problems.push(SpecProblem {
                location: format!("--headers line {}", n + 1),
                key_path: String::new(),
                message: "a header is written `Name: value`, one per line".into(),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(SpecError { problems });
    }
    let json = serde_json::to_value(&spec).map_err(|e| SpecError {
        problems: vec![SpecProblem {
            location: "--url".into(),
            key_path: String::new(),
            message: format!("internal error: {e}"),
        }],
    })?;
    compile_json(json, &FlagLocator { check_lines }, env, overrides)
}

/// `GET /health 200`, `/health`, `POST /v1/orders 201`.
fn parse_check_line(line: &str) -> Result<(Method, &str, Option<&str>), String> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let (method, rest) = match tokens.first().and_then(|t| Method::parse(t)) {
        Some(m) => (m, &tokens[1..]),
        None if tokens
            .first()
            .is_some_and(|t| t.chars().all(|c| c.is_ascii_alphabetic())) =>
        {
            return Err(format!(
                "`{}` is not an HTTP method; use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS, e.g. `GET /health 200`",
                tokens[0]
            ))
        }
        None => (Method::Get, &tokens[..]),
    };
    match rest {
        [path] => Ok((method, path, None)),
        [path, status] => Ok((method, path, Some(status))),
        _ => Err(format!(
            "`{line}` is not `METHOD PATH [STATUS]`; write e.g. `GET /health 200` (a path with spaces must be URL-encoded)"
        )),
    }
}

/// `${ENV}` expansion over every string value, then deserialisation and compilation.
fn compile_json(
    mut json: Value,
    locator: &dyn Locate,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Plan, SpecError> {
    let mut problems = Problems {
        locator,
        list: Vec::new(),
    };
    let mut secrets = Secrets::default();
    // Unset variables are reported, and compiling goes on so every problem shows at once.
    expand_env_in(&mut json, &mut Vec::new(), env, &mut secrets, &mut problems);
    let spec: SpecFile = match serde_json::from_value(json) {
        Ok(s) => s,
        Err(e) => {
            problems.push(
                &[],
                format!("{e}; `ship-smoke-test schema` prints the format"),
            );
            return Err(SpecError {
                problems: problems.list,
            });
        }
    };
    let plan = compile(spec, &mut problems, secrets, overrides);
    if problems.list.is_empty() {
        if let Some(plan) = plan {
            return Ok(plan);
        }
    }
    let mut list = problems.list;
    list.sort_by_key(|p| line_and_column(&p.location));
    list.dedup();
    Err(SpecError { problems: list })
}

/// `(line, column)` of a `file:line:column` location; flags sort first, in their order.
fn line_and_column(location: &str) -> (u32, u32) {
    let mut parts = location.rsplitn(3, ':');
    let column = parts.next().and_then(|c| c.parse().ok());
    let line = parts.next().and_then(|l| l.parse().ok());
    match (line, column) {
        (Some(l), Some(c)) => (l, c),
        _ => (0, 0),
    }
}

/// Expands `${NAME}` in every string below `value`. Substituted values are secrets, except in
/// places that are shown on purpose: the base URL and the expected values of assertions.
fn expand_env_in(
    value: &mut Value,
    segs: &mut Vec<String>,
    env: &dyn Fn(&str) -> Option<String>,
    secrets: &mut Secrets,
    problems: &mut Problems<'_>,
) {
    match value {
        Value::String(s) => match expand_env(s, env) {
            Ok((text, used)) => {
                let shown = segs.first().is_some_and(|s| s == "base_url")
                    || segs.iter().any(|s| s == "expect");
                if !shown {
                    for v in &used {
                        secrets.add(v);
                    }
                }
                *s = text;
            }
            Err(e) => {
                let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
                problems.push(&refs, e.message());
            }
        },
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                segs.push(i.to_string());
                expand_env_in(item, segs, env, secrets, problems);
                segs.pop();
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                segs.push(k.clone());
                expand_env_in(v, segs, env, secrets, problems);
                segs.pop();
            }
        }
        _ => {}
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    ship_actions_runtime::parse_duration(text)
}

fn compile(
    spec: SpecFile,
    problems: &mut Problems<'_>,
    mut secrets: Secrets,
    overrides: &Overrides,
) -> Option<Plan> {
    let base_url = overrides
        .base_url
        .clone()
        .or(spec.base_url.clone())
        .unwrap_or_default();
    if base_url.is_empty() {
        let needs_base = spec
            .checks
            .iter()
            .any(|c| !c.path.starts_with("http://") && !c.path.starts_with("https://"));
        if needs_base {
            problems.push(
                &["base_url"],
                "no base URL: set `base_url:` in the spec or pass --url https://your-service",
            );
        }
    } else if base_url.contains("${") {
        // An unset variable, already reported.
    } else if let Err(e) = check_url(&base_url) {
        let at: &[&str] = if overrides.base_url.is_some() {
            &[]
        } else {
            &["base_url"]
        };
        problems.push(at, e);
    }

    let timeout = match (overrides.timeout, &spec.timeout) {
        (Some(t), _) => t,
        (None, Some(text)) => match parse_duration(text) {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => {
                problems.push(
                    &["timeout"],
                    "a timeout of 0 would fail every request; use e.g. `10s`",
                );
                DEFAULT_TIMEOUT
            }
            Err(e) => {
                problems.push(&["timeout"], e);
                DEFAULT_TIMEOUT
            }
        },
        (None, None) => DEFAULT_TIMEOUT,
    };

    let mut headers = Vec::new();
    for (name, value) in &spec.headers {
        if let Some(h) = header_template(name, value, &["headers", name], problems, &mut secrets) {
            headers.push(h);
        }
    }

    // Names defined so far, to reject `{{x}}` used before a check captures it.
    let mut defined: BTreeSet<String> = BUILTIN_VARS.iter().map(|s| s.to_string()).collect();
    if overrides.expected_version.is_none() {
        defined.remove("expected_version");
    }
    let mut names = BTreeSet::new();
    let mut checks = Vec::new();
    for (i, c) in spec.checks.iter().enumerate() {
        let idx = i.to_string();
        let at = |rest: &[&str]| -> Vec<String> {
            let mut v = vec!["checks".to_string(), idx.clone()];
            v.extend(rest.iter().map(|s| s.to_string()));
            v
        };
        let method = c.method.unwrap_or_default();
        let name = c
            .name
            .clone()
            .unwrap_or_else(|| format!("{} {}", method.as_str(), c.path));
        if !names.insert(name.clone()) {
            let segs = at(&["name"]);
            let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
            problems.push(
                &refs,
                format!("two checks are named `{name}`; give each a different `name:` so reports can tell them apart"),
            );
        }
        let path = match Template::parse(&c.path) {
            Ok(t) => {
                require(
                    &defined,
                    at(&["path"]),
                    t.vars().map(str::to_string).collect(),
                    problems,
                );
                t
            }
            Err(e) => {
                let segs = at(&["path"]);
                problems.push(&segs.iter().map(String::as_str).collect::<Vec<_>>(), e);
                Template::literal(&c.path)
            }
        };
        if (c.path.starts_with("http://") || c.path.starts_with("https://"))
            && !c.path.contains("{{")
        {
            if let Err(e) = check_url(&c.path) {
                let segs = at(&["path"]);
                problems.push(&segs.iter().map(String::as_str).collect::<Vec<_>>(), e);
            }
        }
        let mut check_headers = Vec::new();
        for (hname, value) in &c.headers {
            let segs = at(&["headers", hname]);
            let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
            if let Some(h) = header_template(hname, value, &refs, problems, &mut secrets) {
                require(
                    &defined,
                    segs.clone(),
                    h.1.vars().map(str::to_string).collect(),
                    problems,
                );
                check_headers.push(h);
            }
        }
        let body = match (&c.json, &c.body) {
            (Some(_), Some(_)) => {
                let segs = at(&["body"]);
                problems.push(
                    &segs.iter().map(String::as_str).collect::<Vec<_>>(),
                    "a check sends either `json:` or `body:`, not both; keep one",
                );
                Body::None
            }
            (Some(json), None) => {
                match json_vars(json) {
                    Ok(vars) => require(&defined, at(&["json"]), vars, problems),
                    Err(e) => {
                        let segs = at(&["json"]);
                        problems.push(&segs.iter().map(String::as_str).collect::<Vec<_>>(), e);
                    }
                }
                Body::Json(json.clone())
            }
            (None, Some(text)) => match Template::parse(text) {
                Ok(t) => {
                    require(
                        &defined,
                        at(&["body"]),
                        t.vars().map(str::to_string).collect(),
                        problems,
                    );
                    Body::Text(t)
                }
                Err(e) => {
                    let segs = at(&["body"]);
                    problems.push(&segs.iter().map(String::as_str).collect::<Vec<_>>(), e);
                    Body::None
                }
            },
            (None, None) => Body::None,
        };
        let expect = compile_expect(&c.expect, &at, problems, &defined);

        // Captures become usable only after this check.
        let mut captures = Vec::new();
        for (cname, source) in &c.capture {
            let segs = at(&["capture", cname]);
            let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
            if BUILTIN_VARS.contains(&cname.as_str()) {
                problems.push(
                    &refs,
                    format!("`{cname}` is a built-in name; capture into another name"),
                );
                continue;
            }
            if !template_name_ok(cname) {
                problems.push(
                    &refs,
                    format!("`{cname}` cannot be used as `{{{{{cname}}}}}`; capture names are letters, digits and `_`"),
                );
                continue;
            }
            let from = match source.trim().strip_prefix("header:") {
                Some(h) if !h.trim().is_empty() => CaptureSource::Header(h.trim().to_string()),
                Some(_) => {
                    problems.push(
                        &refs,
                        "`header:` needs a header name, e.g. `header:Location`",
                    );
                    continue;
                }
                None => match JsonPath::parse(source) {
                    Ok(p) => CaptureSource::Json(p),
                    Err(e) => {
                        problems.push(&refs, e);
                        continue;
                    }
                },
            };
            captures.push(Capture {
                name: cname.clone(),
                from,
            });
        }
        for cap in &captures {
            defined.insert(cap.name.clone());
        }
        checks.push(Check {
            name,
            method,
            path,
            headers: check_headers,
            body,
            expect,
            captures,
            watch: c.watch.unwrap_or(method.is_safe()),
        });
    }
    if spec.checks.is_empty() {
        problems.push(
            &["checks"],
            "no checks; add at least one, e.g. `- path: /health`",
        );
    }

    let version_spec = spec.version.clone().unwrap_or_default();
    let header = overrides
        .version_header
        .clone()
        .or(if overrides.version_field.is_some() {
            None
        } else {
            version_spec.header.clone()
        });
    let locator = match header {
        Some(h) => VersionLocator::Header(h),
        None => {
            let field = overrides
                .version_field
                .clone()
                .or(version_spec.field.clone())
                .unwrap_or_else(|| "version".into());
            match JsonPath::parse(&field) {
                Ok(p) => VersionLocator::Field(p),
                Err(e) => {
                    problems.push(&["version", "field"], e);
                    VersionLocator::Field(JsonPath::parse("version").ok()?)
                }
            }
        }
    };
    let check = match &version_spec.check {
        Some(name) => match checks.iter().position(|c| &c.name == name) {
            Some(i) => Some(i),
            None => {
                problems.push(
                    &["version", "check"],
                    format!(
                        "no check is named `{name}`; the checks are: {}",
                        checks
                            .iter()
                            .map(|c| format!("`{}`", c.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                None
            }
        },
        None => None,
    };
    if version_spec.header.is_some() && version_spec.field.is_some() {
        problems.push(
            &["version", "header"],
            "the version is read from `field:` or from `header:`, not both; keep one",
        );
    }

    Some(Plan {
        base_url,
        headers,
        timeout,
        version: VersionSource { check, locator },
        expected_version: overrides.expected_version.clone(),
        checks,
        secrets,
        ca_certs: Vec::new(),
    })
}

fn template_name_ok(name: &str) -> bool {
    Template::parse(&format!("{{{{{name}}}}}")).is_ok()
}

/// Reports every name in `vars` that no earlier check captured, at `segs`.
fn require(
    defined: &BTreeSet<String>,
    segs: Vec<String>,
    vars: Vec<String>,
    problems: &mut Problems<'_>,
) {
    for var in vars {
        if !defined.contains(&var) {
            let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
            problems.push(&refs, undefined_var_message(&var, defined));
        }
    }
}

fn undefined_var_message(var: &str, defined: &BTreeSet<String>) -> String {
    if var == "expected_version" {
        return "`{{expected_version}}` is only set with --expect-version; pass it (e.g. `--expect-version v1.2.3`)".into();
    }
    let captured: Vec<String> = defined
        .iter()
        .filter(|d| !BUILTIN_VARS.contains(&d.as_str()))
        .map(|d| format!("`{{{{{d}}}}}`"))
        .collect();
    format!(
        "`{{{{{var}}}}}` is not captured by any earlier check; add `capture: {{ {var}: <JSON path> }}` to a check before this one{}",
        if captured.is_empty() {
            String::new()
        } else {
            format!(" (captured so far: {})", captured.join(", "))
        }
    )
}

fn header_template(
    name: &str,
    value: &str,
    segs: &[&str],
    problems: &mut Problems<'_>,
    secrets: &mut Secrets,
) -> Option<(String, Template)> {
    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        problems.push(segs, format!("`{name}` is not a valid header name"));
        return None;
    }
    if value.contains(['\n', '\r']) {
        problems.push(segs, "a header value cannot contain a line break");
        return None;
    }
    if is_sensitive_header(name) {
        secrets.add(value);
        // `Bearer xyz`: the token alone must be masked too, wherever it shows up.
        if let Some((_, token)) = value.split_once(' ') {
            secrets.add(token);
        }
    }
    match Template::parse(value) {
        Ok(t) => Some((name.to_string(), t)),
        Err(e) => {
            problems.push(segs, e);
            None
        }
    }
}

fn compile_expect(
    spec: &ExpectSpec,
    at: &dyn Fn(&[&str]) -> Vec<String>,
    problems: &mut Problems<'_>,
    defined: &BTreeSet<String>,
) -> Expectations {
    let push = |problems: &mut Problems<'_>, rest: &[&str], msg: String| {
        let segs = at(rest);
        problems.push(&segs.iter().map(String::as_str).collect::<Vec<_>>(), msg);
    };
    let status = match &spec.status {
        None => StatusSet::success(),
        Some(s) => {
            let text = match s {
                StatusSpec::Code(c) => c.to_string(),
                StatusSpec::Text(t) => t.clone(),
                StatusSpec::List(items) => items
                    .iter()
                    .map(|i| match i {
                        StatusListItem::Code(c) => c.to_string(),
                        StatusListItem::Text(t) => t.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            };
            StatusSet::parse(&text).unwrap_or_else(|e| {
                push(problems, &["expect", "status"], e);
                StatusSet::success()
            })
        }
    };
    let max_latency = spec
        .max_latency
        .as_ref()
        .and_then(|t| match parse_duration(t) {
            Ok(d) => Some(d),
            Err(e) => {
                push(problems, &["expect", "max_latency"], e);
                None
            }
        });
    let mut json = Vec::new();
    for (path, assertion) in &spec.json {
        match JsonPath::parse(path) {
            Ok(p) => {
                if let Some(a) =
                    compile_assertion(assertion, &["expect", "json", path], at, problems, defined)
                {
                    json.push((p, a));
                }
            }
            Err(e) => push(problems, &["expect", "json", path], e),
        }
    }
    let mut headers = Vec::new();
    for (name, assertion) in &spec.headers {
        if let Some(a) = compile_assertion(
            assertion,
            &["expect", "headers", name],
            at,
            problems,
            defined,
        ) {
            headers.push((name.clone(), a));
        }
    }
    let mut body_contains = Vec::new();
    let texts: Vec<String> = match &spec.body_contains {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s.clone()],
        Some(OneOrMany::Many(v)) => v.clone(),
    };
    for t in texts {
        match Template::parse(&t) {
            Ok(tpl) => {
                require(
                    defined,
                    at(&["expect", "body_contains"]),
                    tpl.vars().map(str::to_string).collect(),
                    problems,
                );
                body_contains.push(tpl);
            }
            Err(e) => push(problems, &["expect", "body_contains"], e),
        }
    }
    Expectations {
        status,
        max_latency,
        json,
        headers,
        body_contains,
    }
}

fn compile_assertion(
    a: &Assertion,
    rest: &[&str],
    at: &dyn Fn(&[&str]) -> Vec<String>,
    problems: &mut Problems<'_>,
    defined: &BTreeSet<String>,
) -> Option<CompiledAssertion> {
    let segs = at(rest);
    let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let mut ok = true;
    let mut vars = Vec::new();
    if let Some(eq) = &a.equals {
        match json_vars(eq) {
            Ok(v) => vars.extend(v),
            Err(e) => {
                problems.push(&refs, e);
                ok = false;
            }
        }
    }
    let contains = match &a.contains {
        Some(c) => match Template::parse(c) {
            Ok(t) => {
                vars.extend(t.vars().map(str::to_string));
                Some(t)
            }
            Err(e) => {
                problems.push(&refs, e);
                ok = false;
                None
            }
        },
        None => None,
    };
    let matches = match &a.matches {
        Some(pattern) => match regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
        {
            Ok(re) => Some(re),
            Err(e) => {
                let why = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim_start_matches("error: ")
                    .to_string();
                problems.push(
                    &refs,
                    format!("`{pattern}` is not a valid regex ({why}); fix or escape it"),
                );
                ok = false;
                None
            }
        },
        None => None,
    };
    if let (Some(lo), Some(hi)) = (a.gt.or(a.gte), a.lt.or(a.lte)) {
        if lo > hi {
            problems.push(
                &refs,
                format!("no number is above {lo} and below {hi}; check the bounds"),
            );
            ok = false;
        }
    }
    require(defined, segs.clone(), vars, problems);
    ok.then(|| CompiledAssertion {
        equals: a.equals.clone(),
        exists: a.exists,
        matches,
        contains,
        gt: a.gt,
        gte: a.gte,
        lt: a.lt,
        lte: a.lte,
    })
}

/// An absolute http(s) URL, or a message saying what is wrong with it.
fn check_url(url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(u) => Err(format!(
            "`{url}` is not an http:// or https:// URL (scheme `{}`); write e.g. `https://api.example.com`",
            u.scheme()
        )),
        Err(e) => Err(format!(
            "`{url}` is not a URL ({e}); write e.g. `https://api.example.com`"
        )),
    }
}

/// The URL a check requests: its path appended to the base URL (a path that is itself a URL
/// stands alone). Appending, not RFC 3986 resolution: `https://h/api` + `/health` is
/// `https://h/api/health`, which is what people mean.
pub fn join_url(base: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        return path.to_string();
    }
    if path.is_empty() {
        return base.to_string();
    }
    if path.starts_with('?') {
        return format!("{base}{path}");
    }
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// `{{name}}` values a run starts with.
pub fn builtin_vars(expected_version: Option<&str>) -> template::Vars {
    let mut vars = template::Vars::new();
    let run_id = format!(
        "{:x}{:04x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        fastrand::u16(..)
    );
    vars.insert("run_id".into(), Value::String(run_id));
    if let Some(v) = expected_version {
        vars.insert("expected_version".into(), Value::String(v.to_string()));
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn quick_form_lines() {
        let plan = quick(
            "https://api.example.com/",
            Some("GET /health 200\n\n# comment\nPOST /v1/orders 2xx,409\n/version"),
            None,
            Some("Authorization: Bearer abc123\nAccept: application/json"),
            &no_env,
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(plan.checks.len(), 3);
        assert_eq!(plan.checks[1].method, Method::Post);
        assert!(!plan.checks[1].watch);
        assert!(plan.checks[1].expect.status.contains(409));
        assert_eq!(plan.checks[2].name, "GET /version");
        assert_eq!(plan.secrets.redact("x abc123"), "x ***");
        assert_eq!(plan.secrets.redact("application/json"), "application/json");
        let err = quick(
            "https://a",
            Some("GTE /x\nGET /y 20"),
            None,
            None,
            &no_env,
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--checks line 1: `GTE` is not an HTTP method"),
            "{err}"
        );
        let err = quick(
            "ftp://a",
            None,
            Some("abc"),
            None,
            &no_env,
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("--expect-status"), "{err}");
    }

    #[test]
    fn join_appends_paths() {
        assert_eq!(
            join_url("https://h/api/", "/health"),
            "https://h/api/health"
        );
        assert_eq!(join_url("https://h", "health?x=1"), "https://h/health?x=1");
        assert_eq!(join_url("https://h/x", ""), "https://h/x");
        assert_eq!(join_url("https://h", "http://o/p"), "http://o/p");
    }

    #[test]
    fn env_values_become_secrets_but_not_in_base_url() {
        let env = |k: &str| match k {
            "HOST" => Some("https://api.example.com".to_string()),
            "TOKEN" => Some("tok-123".to_string()),
            _ => None,
        };
        let plan = load_file(
            "s.yml",
            "base_url: ${HOST}\nheaders:\n  X-Trace: ${TOKEN}\nchecks:\n  - path: /h\n",
            &env,
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(plan.base_url, "https://api.example.com");
        assert_eq!(plan.secrets.values(), ["tok-123"]);
    }
}
