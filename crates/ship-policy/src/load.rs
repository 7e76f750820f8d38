//! Loading a policy file: YAML with positions → JSON Schema check → merge over the default →
//! semantic checks (regexes compile, stages exist, rule ids are known).

use crate::{
    parse_size, CompiledEnvironment, CompiledPolicy, CompiledStage, Policy, DEFAULT_POLICY_YAML,
};
use regex::{Regex, RegexBuilder};
use serde_json::Value;
use ship_workflow::schema as schema_check;
use ship_workflow::schema::key_path;
use ship_workflow::yaml::{self, Limits, Node};
use std::fmt;

/// Where a policy came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    Builtin,
    File(String),
}

/// One thing wrong with a policy file, at a place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    pub line: u32,
    pub column: u32,
    /// Dotted key path, e.g. `environments.production.triggers[1]`.
    pub key_path: String,
    pub message: String,
}

/// An invalid policy file: every problem found, each with its position and a fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    pub path: String,
    pub problems: Vec<PolicyProblem>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            if p.key_path.is_empty() {
                write!(
                    f,
                    "{}:{}:{}: invalid policy: {}",
                    self.path, p.line, p.column, p.message
                )?;
            } else {
                write!(
                    f,
                    "{}:{}:{}: invalid policy at `{}`: {}",
                    self.path, p.line, p.column, p.key_path, p.message
                )?;
            }
        }
        Ok(())
    }
}

impl PolicyError {
    fn single(path: &str, line: u32, column: u32, key_path: &str, message: String) -> Self {
        PolicyError {
            path: path.to_string(),
            problems: vec![PolicyProblem {
                line,
                column,
                key_path: key_path.to_string(),
                message,
            }],
        }
    }
}

/// The JSON Schema of a policy file.
pub fn schema() -> Value {
    let schema = schemars::schema_for!(Policy);
    let mut value = schema.to_value();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$id".into(),
            Value::String("https://github.com/org/ship/policy.schema.json".into()),
        );
        // A file must say which format it is written in.
        obj.insert("required".into(), serde_json::json!(["version"]));
    }
    value
}

fn default_json() -> Value {
    let root = yaml::parse(DEFAULT_POLICY_YAML, Limits::default())
        .expect("built-in policy is valid YAML")
        .expect("built-in policy is not empty");
    root.to_json()
}

/// Merge `overlay` over `base`: maps key by key, `null` deletes, everything else replaces.
fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                if v.is_null() {
                    b.remove(&k);
                } else if let Some(slot) = b.get_mut(&k) {
                    merge(slot, v);
                } else {
                    b.insert(k, v);
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

impl CompiledPolicy {
    /// The built-in release policy.
    pub fn builtin() -> CompiledPolicy {
        let policy: Policy =
            serde_json::from_value(default_json()).expect("built-in policy matches the schema");
        compile(policy, "<built-in policy>", None, &[]).expect("built-in policy compiles")
    }

    /// Load a policy file's text, merged over the built-in default.
    /// `known_rules` are the rule ids `rules.disable` and `rules.severity` may name.
    pub fn load(
        path: &str,
        text: &str,
        known_rules: &[&str],
    ) -> Result<CompiledPolicy, PolicyError> {
        let root = match yaml::parse(text, Limits::default()) {
            Ok(Some(root)) => root,
            Ok(None) => {
                return Err(PolicyError::single(
                    path,
                    1,
                    1,
                    "",
                    "the file is empty; start it with `version: 1`".into(),
                ))
            }
            Err(e) => {
                return Err(PolicyError::single(
                    path,
                    e.pos.line,
                    e.pos.column,
                    "",
                    format!(
                        "not valid YAML: {}; fix the syntax at that position",
                        e.message
                    ),
                ))
            }
        };
        let file_json = root.to_json();
        if !file_json.is_object() {
            return Err(PolicyError::single(
                path,
                root.span.start.line,
                root.span.start.column,
                "",
                "a policy file is a mapping of keys such as `version: 1` and `production-branch: main`"
                    .into(),
            ));
        }
        validate_against_schema(path, &root)?;
        let mut merged = default_json();
        merge(&mut merged, file_json);
        let policy: Policy = serde_json::from_value(merged)
            .map_err(|e| PolicyError::single(path, 1, 1, "", format!("{e}")))?;
        compile(policy, path, Some(&root), known_rules)
    }

    /// The effective policy as YAML text.
    pub fn to_yaml(&self) -> String {
        let value = serde_json::to_value(&self.policy).expect("policy serialises");
        let mut out = String::new();
        write_yaml(&mut out, &value, 0, false);
        out
    }
}

fn position_of(root: Option<&Node>, path: &[String]) -> (u32, u32) {
    match root {
        Some(root) => schema_check::position_of(root, path),
        None => (0, 0),
    }
}

fn validate_against_schema(path: &str, root: &Node) -> Result<(), PolicyError> {
    let fix = |_: &str| "add `version: 1` at the top".to_string();
    let hints = schema_check::SchemaHints {
        schema_command: "ship policy schema",
        required_fix: &fix,
    };
    let problems: Vec<PolicyProblem> = schema_check::check(&schema(), root, &hints)
        .into_iter()
        .map(|p| PolicyProblem {
            line: p.line,
            column: p.column,
            key_path: p.key_path,
            message: p.message,
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PolicyError {
            path: path.to_string(),
            problems,
        })
    }
}

fn compile(
    policy: Policy,
    path: &str,
    root: Option<&Node>,
    known_rules: &[&str],
) -> Result<CompiledPolicy, PolicyError> {
    let mut problems = Vec::new();
    let mut problem = |segs: &[&str], message: String| {
        let segs: Vec<String> = segs.iter().map(|s| s.to_string()).collect();
        let (line, column) = position_of(root, &segs);
        problems.push(PolicyProblem {
            line,
            column,
            key_path: key_path(&segs),
            message,
        });
    };
    if policy.version != 1 {
        problem(
            &["version"],
            format!(
                "version {} is not supported; this ship reads `version: 1`",
                policy.version
            ),
        );
    }
    if policy.production_branch.trim().is_empty() {
        problem(
            &["production-branch"],
            "must name a branch, e.g. `main`".into(),
        );
    }
    if !policy
        .environments
        .contains_key(&policy.production_environment)
    {
        problem(
            &["production-environment"],
            format!(
                "`{}` is not one of the environments ({}); add it under `environments:` or name an existing one",
                policy.production_environment,
                policy.environments.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    let compile_re = |pattern: &str| -> Result<Regex, String> {
        // ASCII classes and word boundaries (workflow names and commands are ASCII): the
        // fast DFA then handles `\b` on any text, instead of the slow Unicode-aware engine.
        // A pattern that needs Unicode (a non-ASCII class) is compiled with it.
        let build = |pattern: &str| {
            RegexBuilder::new(pattern)
                .case_insensitive(true)
                .multi_line(true)
                .size_limit(1 << 20)
                .build()
        };
        build(&crate::ascii_word_boundaries(pattern))
            .or_else(|_| build(pattern))
            .map_err(|e| {
                // regex's message draws a caret over several lines; its last line says why.
                let text = e.to_string();
                let why = text
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim_start_matches("error: ")
                    .to_string();
                format!("`{pattern}` is not a valid regex ({why}); fix or escape it")
            })
    };

    // Their `match` patterns compile together below (`environment_names`).
    let environments: Vec<CompiledEnvironment> = policy
        .environments
        .iter()
        .map(|(name, env)| CompiledEnvironment {
            name: name.clone(),
            policy: env.clone(),
        })
        .collect();

    let mut stages = Vec::new();
    let mut stage_uses = Vec::new();
    for required in &policy.ci.required_stages {
        if !policy.ci.stages.contains_key(required) {
            problem(
                &["ci", "required-stages"],
                format!(
                    "stage `{required}` is required but not defined under `ci.stages`; define its `names`, `commands` or `uses`"
                ),
            );
        }
    }
    for (name, stage) in &policy.ci.stages {
        let compiled = CompiledStage {
            name: name.clone(),
            required: policy.ci.required_stages.contains(name),
        };
        for (i, p) in stage.uses.iter().enumerate() {
            match globset::GlobBuilder::new(&p.to_ascii_lowercase()).build() {
                // Compiled once, with every stage's globs, into `stage_uses`.
                Ok(g) => stage_uses.push((stages.len(), g)),
                Err(e) => problem(
                    &["ci", "stages", name, "uses", &i.to_string()],
                    format!("`{p}` is not a valid glob: {e}"),
                ),
            }
        }
        stages.push(compiled);
    }

    let mut ship_repositories = globset::GlobSetBuilder::new();
    for (i, p) in policy.actions.ship_repositories.iter().enumerate() {
        let glob = globset::GlobBuilder::new(&p.to_ascii_lowercase())
            .literal_separator(true)
            .build();
        match glob {
            Ok(g) if p.contains('/') => {
                ship_repositories.add(g);
            }
            Ok(_) => problem(
                &["actions", "ship-repositories", &i.to_string()],
                format!("`{p}` must be an `owner/repo` glob, e.g. `acme/ship` or `*/ship`"),
            ),
            Err(e) => problem(
                &["actions", "ship-repositories", &i.to_string()],
                format!("`{p}` is not a valid glob: {e}"),
            ),
        }
    }
    // Every glob compiled on its own above, so the set builds.
    let ship_repositories = ship_repositories
        .build()
        .unwrap_or_else(|_| globset::GlobSet::empty());

    if !known_rules.is_empty() {
        let unknown = |id: &str| !known_rules.contains(&id);
        for (i, id) in policy.rules.disable.iter().enumerate() {
            if unknown(id) {
                problem(
                    &["rules", "disable", &i.to_string()],
                    format!("unknown rule `{id}`; `ship rules` lists the rule ids"),
                );
            }
        }
        for id in policy.rules.severity.keys() {
            if unknown(id) {
                problem(
                    &["rules", "severity", id],
                    format!("unknown rule `{id}`; `ship rules` lists the rule ids"),
                );
            }
        }
    }

    let max_file_size = match parse_size(&policy.limits.max_file_size) {
        Ok(n) => n,
        Err(e) => {
            problem(&["limits", "max-file-size"], e);
            5 << 20
        }
    };

    // Every environment's `match` patterns in one set too.
    let environment_patterns: Vec<(usize, String)> = environments
        .iter()
        .enumerate()
        .flat_map(|(i, e)| e.policy.name_patterns.iter().map(move |p| (i, p.clone())))
        .collect();
    let stage_patterns = |of: fn(&crate::StagePolicy) -> &Vec<String>| {
        let mut patterns = Vec::new();
        for (i, stage) in stages.iter().enumerate() {
            if let Some(sp) = policy.ci.stages.get(&stage.name) {
                patterns.extend(of(sp).iter().map(|p| (i, p.clone())));
            }
        }
        patterns
    };
    let name_patterns = stage_patterns(|s| &s.names);
    let command_patterns = stage_patterns(|s| &s.commands);
    // The three sets compile at the same time: compiling them is most of a lint run's
    // start-up, before any file is read. (A thread that panics leaves its set `None`,
    // reported below like a set that does not compile.)
    let (environment_names, built_names, built_commands) = std::thread::scope(|s| {
        let environments = s.spawn(|| crate::StageMatcher::new(environment_patterns));
        let names = s.spawn(|| crate::StageMatcher::new(name_patterns));
        let commands = crate::StageMatcher::new(command_patterns);
        (
            environments.join().ok().flatten(),
            names.join().ok().flatten(),
            commands,
        )
    });
    // Only a set that does not compile has its patterns compiled one by one, to name the bad one.
    if environment_names.is_none() {
        let mut named = false;
        for (name, env) in &policy.environments {
            for (i, p) in env.name_patterns.iter().enumerate() {
                if let Err(e) = compile_re(p) {
                    problem(&["environments", name, "match", &i.to_string()], e);
                    named = true;
                }
            }
        }
        if !named {
            problem(
                &["environments"],
                "the environments' `match` patterns are too large to compile together; simplify them"
                    .to_string(),
            );
        }
    }
    // Each field's patterns of every stage compile together into one `StageMatcher`; only
    // when that fails are they compiled one by one, to name the bad one.
    let mut matcher = |field: &str,
                       of: fn(&crate::StagePolicy) -> &Vec<String>,
                       built: Option<crate::StageMatcher>| {
        if built.is_none() {
            let mut named = false;
            for (name, sp) in &policy.ci.stages {
                for (i, p) in of(sp).iter().enumerate() {
                    if let Err(e) = compile_re(p) {
                        problem(&["ci", "stages", name, field, &i.to_string()], e);
                        named = true;
                    }
                }
            }
            if !named {
                problem(
                    &["ci", "stages"],
                    format!("the stages' `{field}` patterns are too large to compile together; simplify them"),
                );
            }
        }
        built
    };
    let stage_names = matcher("names", |s| &s.names, built_names);
    let stage_commands = matcher("commands", |s| &s.commands, built_commands);
    let stage_uses = crate::StageGlobs::new(stage_uses);
    if stage_uses.is_none() {
        problem(
            &["ci", "stages"],
            "the stages' `uses` globs cannot be compiled together; simplify them".to_string(),
        );
    }

    problems.sort_by_key(|p| (p.line, p.column));
    if let (
        true,
        Some(stage_names),
        Some(stage_commands),
        Some(stage_uses),
        Some(environment_names),
    ) = (
        problems.is_empty(),
        stage_names,
        stage_commands,
        stage_uses,
        environment_names,
    ) {
        Ok(CompiledPolicy {
            policy,
            environments,
            environment_names,
            stages,
            stage_names,
            stage_commands,
            stage_uses,
            max_file_size,
            ship_repositories,
            production_branch_set: root.is_some_and(|r| r.get("production-branch").is_some()),
        })
    } else {
        Err(PolicyError {
            path: path.to_string(),
            problems,
        })
    }
}

/// A small YAML writer for `ship policy show` (the policy is plain data: maps, lists, scalars).
fn write_yaml(out: &mut String, value: &Value, indent: usize, in_list: bool) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (i, (k, v)) in map.iter().enumerate() {
                let lead = if in_list && i == 0 {
                    String::new()
                } else {
                    pad.clone()
                };
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{lead}{k}:\n"));
                        write_yaml(out, v, indent + 2, false);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{lead}{k}:\n"));
                        write_yaml(out, v, indent + 2, false);
                    }
                    _ => out.push_str(&format!("{lead}{k}: {}\n", scalar_yaml(v))),
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}- "));
                        write_yaml(out, item, indent + 2, true);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar_yaml(item))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar_yaml(other))),
    }
}

fn scalar_yaml(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
                && !matches!(s.as_str(), "true" | "false" | "null" | "yes" | "no")
                && s.parse::<f64>().is_err();
            if plain {
                s.clone()
            } else {
                format!("'{}'", s.replace('\'', "''"))
            }
        }
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &[&str] = &["unpinned-action", "permissions"];

    #[test]
    fn builtin_policy_compiles() {
        let p = CompiledPolicy::builtin();
        assert_eq!(p.policy.production_branch, "main");
        assert_eq!(p.stages.iter().filter(|s| s.required).count(), 5);
        assert!(p.is_release_tag("v1.2.3"));
        assert!(p.pattern_within_release_tags("v*.*.*"));
        assert!(!p.pattern_within_release_tags("*"));
    }

    #[test]
    fn thousands_of_stage_patterns_compile_into_one_set_and_match() {
        // A pull request controls the policy file: 8,000 patterns must compile without the
        // quadratic literal extraction (`StageMatcher`), and still say which stage matched.
        let mut text = String::from("version: 1\nci:\n  stages:\n    lint:\n      commands:\n");
        for i in 0..8000 {
            text.push_str(&format!("        - 'tool{i} (run|exec)\\b.*--flag{i}'\n"));
        }
        let p = CompiledPolicy::load("p.yml", &text, RULES).unwrap();
        let lint = p.stages.iter().position(|s| s.name == "lint").unwrap();
        let mut found = vec![false; p.stages.len()];
        p.stage_commands
            .mark("tool7999 exec x --flag7999", &mut found);
        assert!(found[lint]);
        let mut found = vec![false; p.stages.len()];
        p.stage_commands
            .mark("tool7999 exec x --flag7998", &mut found);
        assert!(!found[lint]);
    }

    #[test]
    fn file_merges_over_default() {
        let p = CompiledPolicy::load(
            "p.yml",
            "version: 1\nproduction-branch: trunk\nenvironments:\n  production:\n    match: [live]\n",
            RULES,
        )
        .unwrap();
        assert_eq!(p.policy.production_branch, "trunk");
        let prod = p.environment("production").unwrap();
        assert_eq!(prod.policy.name_patterns, vec!["live"]);
        // Untouched fields keep the default.
        assert_eq!(prod.policy.secret_prefixes, vec!["PROD_", "PRODUCTION_"]);
    }

    #[test]
    fn unknown_key_names_line_path_and_allowed_keys() {
        let err = CompiledPolicy::load(
            "p.yml",
            "version: 1\nenvironments:\n  production:\n    trigers: [push]\n",
            RULES,
        )
        .unwrap_err();
        insta::assert_snapshot!(err.to_string());
    }

    #[test]
    fn wrong_type_and_enum() {
        let err = CompiledPolicy::load(
            "p.yml",
            "version: 1\nactions:\n  pinning: tag\nci:\n  required-stages: build\n",
            RULES,
        )
        .unwrap_err();
        insta::assert_snapshot!(err.to_string());
    }

    #[test]
    fn semantic_errors() {
        let err = CompiledPolicy::load(
            "p.yml",
            "version: 1\nrules:\n  disable: [no-such-rule]\nci:\n  required-stages: [build, e2e]\nenvironments:\n  production:\n    match: ['(']\n",
            RULES,
        )
        .unwrap_err();
        insta::assert_snapshot!(err.to_string());
    }

    #[test]
    fn missing_version() {
        let err = CompiledPolicy::load("p.yml", "production-branch: main\n", RULES).unwrap_err();
        assert!(err.to_string().contains("version"), "{err}");
    }

    #[test]
    fn show_round_trips() {
        let p = CompiledPolicy::builtin();
        let text = p.to_yaml();
        let again = CompiledPolicy::load("shown.yml", &text, RULES).unwrap();
        assert_eq!(
            serde_json::to_value(&again.policy).unwrap(),
            serde_json::to_value(&p.policy).unwrap()
        );
    }
}
