//! End-to-end tests of the `ship` binary: exit codes, output formats, policy errors, bad
//! input, inline suppressions and secret redaction. Each test runs the built binary in a
//! temporary repository (or on `examples/`) with a time limit, so a hang fails the test
//! instead of stalling the suite.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

mod support;
use support::{run, ship, Run};

/// `ship ARGS…` run in `dir`.
fn ship_in(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = ship();
    cmd.current_dir(dir).args(args);
    run(cmd)
}

fn ship_args(args: &[&str]) -> Run {
    let mut cmd = ship();
    cmd.args(args);
    run(cmd)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example(name: &str) -> String {
    workspace_root()
        .join("examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// A temporary repository whose `.github/workflows/` holds `workflows` (name, content).
fn repo(workflows: &[(&str, &[u8])]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    for (name, content) in workflows {
        std::fs::write(wf.join(name), content).unwrap();
    }
    dir
}

/// A repository with one workflow, `.github/workflows/ci.yml`.
fn repo_with(content: &str) -> TempDir {
    repo(&[("ci.yml", content.as_bytes())])
}

const CI: &str = ".github/workflows/ci.yml";

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().expect("`findings` is an array")
}

fn rule_ids(v: &Value) -> BTreeSet<String> {
    findings(v)
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

fn of_rule<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    findings(v).iter().filter(|f| f["rule"] == rule).collect()
}

/// Every rule id, as `ship rules --format json` lists them.
fn all_rule_ids() -> Vec<String> {
    let r = ship_args(&["rules", "--format", "json"]);
    r.expect_code(0);
    r.json()
        .as_array()
        .expect("rules is an array")
        .iter()
        .map(|r| r["id"].as_str().expect("rule id").to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Exit codes
// ---------------------------------------------------------------------------------------

#[test]
fn compliant_example_is_clean() {
    let r = ship_args(&["lint", &example("compliant")]);
    r.expect_code(0);
    assert!(r.stdout.contains("no findings"), "stdout:\n{}", r.stdout);
}

#[test]
fn bad_example_fails_with_many_rules() {
    let r = ship_args(&["lint", &example("bad")]);
    r.expect_code(1);
    let r = ship_args(&["lint", &example("bad"), "--format", "json"]);
    r.expect_code(1);
    let ids = rule_ids(&r.json());
    assert!(
        ids.len() >= 12,
        "examples/bad triggers only {} rules: {ids:?}",
        ids.len()
    );
    // Its README's table says which rules it breaks, and where: all of them are found. (A new
    // rule that also fires here needs no change to the example: adding a rule touches only
    // its file, its registry line and its fixtures.)
    let documented = bad_example_documented_rules();
    assert!(documented.len() >= 12, "{documented:?}");
    for id in &documented {
        assert!(
            ship_lint::rule_by_id(id).is_some(),
            "examples/bad/README.md lists `{id}`, which is not a rule"
        );
    }
    let missing: Vec<&String> = documented.difference(&ids).collect();
    assert!(
        missing.is_empty(),
        "examples/bad no longer triggers {missing:?} (listed in examples/bad/README.md)"
    );
}

/// The rule ids in the first column of examples/bad/README.md's table.
fn bad_example_documented_rules() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(workspace_root().join("examples/bad/README.md"))
        .expect("examples/bad/README.md");
    readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let r = ship_args(&["lint", "--no-such-flag"]);
    r.expect_code(2);
    assert!(r.stderr.contains("--no-such-flag"), "{}", r.stderr);
}

#[test]
fn missing_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-repo");
    let r = ship_args(&["lint", missing.to_str().unwrap()]);
    r.expect_code(2);
    assert!(r.stderr.contains("no-such-repo"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn a_file_instead_of_a_directory_is_a_usage_error() {
    let dir = repo_with(&fixture("unpinned.yml"));
    let r = ship_in(dir.path(), &["lint", CI]);
    r.expect_code(2);
    assert!(r.stderr.contains("not a directory"), "{}", r.stderr);
    assert!(r.stderr.contains("--workflow"), "{}", r.stderr);
}

#[test]
fn unreadable_workflows_directory_is_a_usage_error() {
    // `.github/workflows` exists but cannot be listed (a file here; permissions do not
    // stop root, so a mode-000 directory would not be a portable test).
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".github")).unwrap();
    std::fs::write(dir.path().join(".github/workflows"), "not a directory").unwrap();
    let r = ship_in(dir.path(), &["lint"]);
    r.expect_code(2);
    assert!(r.stderr.contains(".github/workflows"), "{}", r.stderr);
}

#[test]
fn missing_workflow_file_is_a_usage_error() {
    let dir = repo_with(&fixture("unpinned.yml"));
    let r = ship_in(
        dir.path(),
        &["lint", "--workflow", ".github/workflows/nope.yml"],
    );
    r.expect_code(2);
    assert!(r.stderr.contains("nope.yml"), "{}", r.stderr);
}

#[test]
fn unknown_rule_for_explain_is_a_usage_error() {
    let r = ship_args(&["lint", "--explain", "no-such-rule"]);
    r.expect_code(2);
    assert!(r.stderr.contains("no-such-rule"), "{}", r.stderr);
    assert!(r.stderr.contains("ship rules"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------
// Policy files
// ---------------------------------------------------------------------------------------

/// Lint a clean one-workflow repository with `--policy FIXTURE` (copied in as `policy.yml`).
fn lint_with_policy(policy_fixture: &str) -> Run {
    let dir = repo_with(&fixture("warning-only.yml"));
    std::fs::write(dir.path().join("policy.yml"), fixture(policy_fixture)).unwrap();
    ship_in(dir.path(), &["lint", ".", "--policy", "policy.yml"])
}

#[test]
fn policy_unknown_key_names_file_line_key_path_and_allowed_keys() {
    let r = lint_with_policy("policy-unknown-key.yml");
    r.expect_code(2);
    let err = &r.stderr;
    assert!(err.contains("policy.yml:4:3"), "{err}");
    assert!(err.contains("actions.allowed-owner"), "{err}");
    assert!(err.contains("`allowed-owners`"), "{err}");
    assert!(err.contains("`pinning`"), "{err}");
    // One problem, said once.
    assert_eq!(err.matches("allowed-owner`;").count(), 1, "{err}");
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn policy_wrong_type_names_the_key() {
    let r = lint_with_policy("policy-wrong-type.yml");
    r.expect_code(2);
    assert!(r.stderr.contains("policy.yml:2:"), "{}", r.stderr);
    assert!(r.stderr.contains("production-branch"), "{}", r.stderr);
    assert!(r.stderr.contains("string"), "{}", r.stderr);
}

#[test]
fn policy_invalid_regex_names_the_pattern() {
    let r = lint_with_policy("policy-bad-regex.yml");
    r.expect_code(2);
    assert!(r.stderr.contains("policy.yml:4:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("environments.production.match[0]"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("(prod"), "{}", r.stderr);
    assert!(r.stderr.contains("regex"), "{}", r.stderr);
}

#[test]
fn invalid_policy_in_the_repository_is_found_and_reported() {
    let dir = repo_with(&fixture("warning-only.yml"));
    std::fs::write(
        dir.path().join(".github/ship-policy.yml"),
        fixture("policy-unknown-key.yml"),
    )
    .unwrap();
    let r = ship_in(dir.path(), &["lint"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains(".github/ship-policy.yml:4:3"),
        "{}",
        r.stderr
    );
}

#[test]
fn missing_policy_file_is_a_usage_error() {
    let dir = repo_with(&fixture("warning-only.yml"));
    let r = ship_in(dir.path(), &["lint", ".", "--policy", "nope.yml"]);
    r.expect_code(2);
    assert!(r.stderr.contains("nope.yml"), "{}", r.stderr);
}

#[test]
fn policy_show_prints_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let r = ship_in(dir.path(), &["policy", "show"]);
    r.expect_code(0);
    assert!(
        r.stdout.lines().any(|l| l == "production-branch: main"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("the built-in default"), "{}", r.stdout);
}

#[test]
fn policy_show_merges_a_policy_file() {
    let r = ship_args(&[
        "policy",
        "show",
        "--policy",
        fixture_path("policy-trunk.yml").to_str().unwrap(),
    ]);
    r.expect_code(0);
    assert!(
        r.stdout.lines().any(|l| l == "production-branch: trunk"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("production-branch: main"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("merged with"), "{}", r.stdout);
    // Everything the file does not set comes from the default.
    assert!(r.stdout.contains("release-tags:"), "{}", r.stdout);
}

#[test]
fn policy_show_reads_the_repository_policy() {
    let r = ship_args(&["policy", "show", &example("compliant"), "--format", "json"]);
    r.expect_code(0);
    let owners = &r.json()["actions"]["allowed-owners"];
    assert_eq!(owners, &serde_json::json!(["actions", "github", "org"]));
}

#[test]
fn policy_schema_is_json_schema() {
    let r = ship_args(&["policy", "schema"]);
    r.expect_code(0);
    let v = r.json();
    assert!(v["$schema"].is_string(), "{v}");
    assert!(v["properties"]["production-branch"].is_object(), "{v}");
}

// ---------------------------------------------------------------------------------------
// Rules and documentation
// ---------------------------------------------------------------------------------------

#[test]
fn rules_lists_every_rule() {
    let ids = all_rule_ids();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate ids: {ids:?}");
    // Every rule of the registry, in its order.
    assert_eq!(
        ids,
        ship_lint::rule_ids(),
        "ship rules and the registry differ"
    );
    let settings_rules = ship_lint::settings_rule_ids();
    let r = ship_args(&["rules"]);
    r.expect_code(0);
    assert_eq!(r.stdout.lines().count(), ids.len(), "{}", r.stdout);
    for id in &ids {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.split_whitespace().next() == Some(id.as_str())),
            "{id}"
        );
    }
    // Every rule is documented.
    let docs = ship_args(&["rules", "--format", "json"]).json();
    for rule in docs.as_array().unwrap() {
        let text = rule["docs"].as_str().unwrap_or("");
        assert!(text.contains("## What it reports"), "{rule}");
        assert!(
            ["error", "warning", "note"].contains(&rule["severity"].as_str().unwrap()),
            "{rule}"
        );
        // Settings rules say they need --github/--settings; the workflow rules read files.
        let id = rule["id"].as_str().unwrap();
        let reads = if settings_rules.contains(&id) {
            "settings"
        } else {
            "files"
        };
        assert_eq!(rule["reads"], reads, "{rule}");
        let line = r
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap();
        assert_eq!(
            line.ends_with("(needs --github or --settings)"),
            reads == "settings",
            "{line}"
        );
    }
}

#[test]
fn a_reader_that_goes_away_changes_nothing() {
    // `ship rules | head -1`: the pipe closes early. No panic, no "Broken pipe" error, and the
    // exit code stays the command's own (1 for findings).
    let bad = example("bad");
    for (args, code) in [
        (vec!["rules", "--format", "json"], 0),
        (vec!["policy", "show"], 0),
        (vec!["lint", bad.as_str()], 1),
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ship"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn explain_prints_the_rule_docs() {
    let r = ship_args(&["lint", "--explain", "unpinned-action"]);
    r.expect_code(0);
    let out = &r.stdout;
    assert!(out.starts_with("# unpinned-action (error)"), "{out}");
    assert!(out.contains("## What it reports"), "{out}");
    assert!(out.contains("## Why"), "{out}");
    assert!(out.contains("## How to fix"), "{out}");
}

// ---------------------------------------------------------------------------------------
// --fail-on
// ---------------------------------------------------------------------------------------

#[test]
fn fail_on_warning() {
    let dir = repo_with(&fixture("warning-only.yml"));
    let r = ship_in(dir.path(), &["lint", "--format", "json"]);
    r.expect_code(0);
    let v = r.json();
    assert_eq!(rule_ids(&v), BTreeSet::from(["permissions".to_string()]));
    assert_eq!(v["summary"]["warnings"], 1);
    assert_eq!(v["summary"]["errors"], 0);

    ship_in(dir.path(), &["lint", "--fail-on", "error"]).expect_code(0);
    ship_in(dir.path(), &["lint", "--fail-on", "warning"]).expect_code(1);
    ship_in(dir.path(), &["lint", "--fail-on", "note"]).expect_code(1);
}

#[test]
fn fail_on_note() {
    let dir = repo_with(&fixture("unused-ignore.yml"));
    let r = ship_in(dir.path(), &["lint", "--workflow", CI, "--format", "json"]);
    r.expect_code(0);
    let v = r.json();
    assert_eq!(rule_ids(&v), BTreeSet::from(["unused-ignore".to_string()]));
    assert_eq!(v["summary"]["notes"], 1);

    ship_in(
        dir.path(),
        &["lint", "--workflow", CI, "--fail-on", "warning"],
    )
    .expect_code(0);
    ship_in(dir.path(), &["lint", "--workflow", CI, "--fail-on", "note"]).expect_code(1);
}

#[test]
fn fail_on_rejects_unknown_levels() {
    let dir = repo_with(&fixture("warning-only.yml"));
    ship_in(dir.path(), &["lint", "--fail-on", "fatal"]).expect_code(2);
}

// ---------------------------------------------------------------------------------------
// Output formats
// ---------------------------------------------------------------------------------------

#[test]
fn json_shape_and_order() {
    let r = ship_args(&["lint", &example("bad"), "--format", "json"]);
    r.expect_code(1);
    let v = r.json();
    let obj = v.as_object().unwrap();
    assert_eq!(
        obj.keys().collect::<BTreeSet<_>>(),
        BTreeSet::from([&"findings".to_string(), &"summary".to_string()])
    );

    let summary = v["summary"].as_object().unwrap();
    for key in ["files", "errors", "warnings", "notes"] {
        assert!(summary[key].is_u64(), "summary.{key}: {v}");
    }
    assert_eq!(v["summary"]["files"], 6);

    let list = findings(&v);
    assert!(!list.is_empty());
    let count = |sev: &str| list.iter().filter(|f| f["severity"] == sev).count() as u64;
    assert_eq!(v["summary"]["errors"], count("error"));
    assert_eq!(v["summary"]["warnings"], count("warning"));
    assert_eq!(v["summary"]["notes"], count("note"));

    for f in list {
        for key in ["rule", "severity", "path", "message", "help"] {
            assert!(f[key].is_string(), "{key} in {f}");
        }
        for key in ["line", "column"] {
            assert!(f[key].is_u64(), "{key} in {f}");
        }
        assert!(
            ["error", "warning", "note"].contains(&f["severity"].as_str().unwrap()),
            "{f}"
        );
        let path = f["path"].as_str().unwrap();
        assert!(
            !path.starts_with('/') && !path.contains('\\') && !path.starts_with("./"),
            "path is not relative and `/`-separated: {path}"
        );
        assert!(!path.contains("examples"), "path is not relative: {path}");
        assert!(f.get("source_line").is_none(), "{f}");
    }

    let keys: Vec<(String, u64, u64)> = list
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "findings are not sorted by path, line, column"
    );
}

fn check_sarif(v: &Value) {
    assert_eq!(v["version"], "2.1.0");
    assert!(
        v["$schema"].as_str().unwrap_or("").contains("sarif"),
        "$schema: {}",
        v["$schema"]
    );
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "ship");
    assert!(driver["version"].is_string());
    let rules: BTreeSet<&str> = driver["rules"]
        .as_array()
        .expect("driver.rules")
        .iter()
        .map(|r| r["id"].as_str().expect("rule id"))
        .collect();
    for id in all_rule_ids() {
        assert!(rules.contains(id.as_str()), "SARIF rules lack {id}");
    }
    let results = runs[0]["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for r in results {
        let rule = r["ruleId"].as_str().expect("ruleId");
        assert!(rules.contains(rule), "{rule}");
        assert!(
            ["error", "warning", "note"].contains(&r["level"].as_str().expect("level")),
            "{r}"
        );
        assert!(r["message"]["text"].is_string(), "{r}");
        let locations = r["locations"].as_array().expect("locations");
        assert!(!locations.is_empty(), "{r}");
        let physical = &locations[0]["physicalLocation"];
        let uri = physical["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(!uri.starts_with('/') && !uri.contains('\\'), "{uri}");
        if let Some(region) = physical.get("region") {
            assert!(region["startLine"].as_u64().unwrap() >= 1, "{r}");
            assert!(region["startColumn"].as_u64().unwrap() >= 1, "{r}");
        }
    }
}

#[test]
fn sarif_is_valid_and_fails_on_errors() {
    let r = ship_args(&["lint", &example("bad"), "--format", "sarif"]);
    r.expect_code(1);
    let v = r.json();
    check_sarif(&v);
    // Every finding is a result, and the positioned ones have regions.
    let json = ship_args(&["lint", &example("bad"), "--format", "json"]).json();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings(&json).len());
    assert!(results.iter().any(|r| r["locations"][0]["physicalLocation"]
        .get("region")
        .is_some()));
}

#[test]
fn sarif_file_is_written_alongside_other_formats() {
    let out = tempfile::tempdir().unwrap();
    let sarif = out.path().join("ship.sarif");
    let r = ship_args(&[
        "lint",
        &example("bad"),
        "--format",
        "json",
        "--sarif-file",
        sarif.to_str().unwrap(),
    ]);
    r.expect_code(1);
    // stdout is still the requested format…
    let json = r.json();
    assert!(json["findings"].is_array());
    // …and the file is SARIF with the same results.
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    check_sarif(&v);
    assert_eq!(
        v["runs"][0]["results"].as_array().unwrap().len(),
        findings(&json).len()
    );
}

#[test]
fn sarif_file_in_a_missing_directory_is_an_error() {
    let dir = repo_with(&fixture("warning-only.yml"));
    let r = ship_in(
        dir.path(),
        &["lint", "--sarif-file", "no-such-dir/ship.sarif"],
    );
    r.expect_code(2);
    assert!(r.stderr.contains("ship.sarif"), "{}", r.stderr);
}

#[test]
fn github_format_annotates_and_writes_the_step_summary() {
    let out = tempfile::tempdir().unwrap();
    let summary = out.path().join("summary.md");
    std::fs::write(&summary, "previous step\n").unwrap();
    let mut cmd = ship();
    cmd.args(["lint", &example("bad"), "--format", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary);
    let r = run(cmd);
    r.expect_code(1);

    let errors: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert!(!errors.is_empty(), "{}", r.stdout);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("::error file=.github/workflows/")
                && l.contains(",line=")
                && l.contains(",col=")
                && l.contains("title=ship%3A ")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.lines().any(|l| l.starts_with("::warning ")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.lines().any(|l| l.starts_with("::notice ")),
        "{}",
        r.stdout
    );
    // Every line is a workflow command: properties and multi-line messages are escaped
    // (`:` in the title as `%3A`, newlines as `%0A`).
    for line in r.stdout.lines() {
        assert!(line.starts_with("::"), "not a workflow command: {line}");
    }

    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("previous step\n"),
        "appends, not overwrites:\n{md}"
    );
    assert!(md.contains("### ship lint"), "{md}");
    assert!(
        md.contains("| Severity | Rule | Location | Message |"),
        "{md}"
    );
    assert!(md.contains("| --- |"), "{md}");
    assert!(md.contains("`unpinned-action`"), "{md}");
    let rows = md.lines().filter(|l| l.starts_with("| error |")).count();
    assert_eq!(rows, errors.len(), "{md}");
}

#[test]
fn github_format_without_step_summary_still_annotates() {
    let dir = repo_with(&fixture("unpinned.yml"));
    let r = ship_in(
        dir.path(),
        &["lint", "--workflow", CI, "--format", "github"],
    );
    r.expect_code(1);
    assert!(
        r.stdout.starts_with(
            "::error file=.github/workflows/ci.yml,line=12,endLine=12,col=15,endColumn=37,title=ship%3A unpinned-action::"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn human_format_shows_the_source_line_and_caret() {
    let dir = repo_with(&fixture("unpinned.yml"));
    let r = ship_in(dir.path(), &["lint", "--workflow", CI]);
    r.expect_code(1);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn human_format_clean_run() {
    let r = ship_args(&[
        "lint",
        &example("compliant"),
        "--workflow",
        &format!("{}/.github/workflows/ci.yml", example("compliant")),
    ]);
    r.expect_code(0);
    assert_eq!(r.stdout, "no findings in 1 file\n");
}

// ---------------------------------------------------------------------------------------
// Bad input: every case finishes quickly, exits 1 or 2, and reports `workflow-syntax`
// ---------------------------------------------------------------------------------------

/// Lint a repository holding `bad.yml` with `content`; return its `workflow-syntax` finding.
fn lint_bad_file(content: &[u8]) -> Value {
    let dir = repo(&[("bad.yml", content)]);
    let r = ship_in(dir.path(), &["lint", "--format", "json"]);
    r.expect_no_crash();
    let v = r.json();
    let syntax: Vec<&Value> = of_rule(&v, "workflow-syntax")
        .into_iter()
        .filter(|f| f["path"] == ".github/workflows/bad.yml")
        .collect();
    assert_eq!(syntax.len(), 1, "{v:#}");
    syntax[0].clone()
}

#[test]
fn malformed_yaml_reports_the_error_line() {
    let f = lint_bad_file(fixture("malformed.yml").as_bytes());
    assert_eq!(f["line"], 5, "{f}");
    assert!(
        f["message"].as_str().unwrap().contains("invalid YAML"),
        "{f}"
    );
}

#[test]
fn binary_file() {
    let mut bytes = b"on: push\njobs:\n".to_vec();
    bytes.extend((0u8..=255).cycle().take(4096));
    let f = lint_bad_file(&bytes);
    assert!(f["message"].as_str().unwrap().contains("binary"), "{f}");
}

#[test]
fn not_utf8() {
    let f = lint_bad_file(b"on: push\njobs:\n  caf\xe9: {}\n");
    assert!(f["message"].as_str().unwrap().contains("UTF-8"), "{f}");
}

#[test]
fn huge_file_is_not_parsed() {
    // 25 MB of valid YAML: a workflow followed by comment lines.
    let mut content = fixture("unpinned.yml").into_bytes();
    let line = b"# padding padding padding padding padding padding padding padding\n";
    while content.len() < 25 * 1024 * 1024 {
        content.extend_from_slice(line);
    }
    let f = lint_bad_file(&content);
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("MB") && msg.contains("limit"), "{f}");
    assert!(msg.contains("not parsed"), "{f}");
}

#[test]
fn deep_flow_nesting() {
    let content = "[".repeat(100_000);
    let f = lint_bad_file(content.as_bytes());
    assert!(f["message"].as_str().unwrap().contains("nesting"), "{f}");
}

#[test]
fn deep_block_nesting() {
    // `- - - … x`: 100,000 nested block sequences under a job's `steps:`.
    let content = format!(
        "on: push\njobs:\n  deep:\n    runs-on: ubuntu-latest\n    steps:\n      {}x\n",
        "- ".repeat(100_000)
    );
    let f = lint_bad_file(content.as_bytes());
    assert!(f["message"].as_str().unwrap().contains("nesting"), "{f}");
    assert_eq!(f["line"], 6, "{f}");
}

#[test]
fn deep_block_mapping_nesting() {
    // Indented `kN:` keys, one level per line (as deep as a file of sane size allows).
    let mut content = String::from("on: push\njobs:\n");
    for i in 1..3000 {
        content.push_str(&" ".repeat(i));
        content.push_str(&format!("k{i}:\n"));
    }
    let f = lint_bad_file(content.as_bytes());
    assert!(f["message"].as_str().unwrap().contains("nesting"), "{f}");
}

#[test]
fn billion_laughs() {
    let f = lint_bad_file(fixture("billion-laughs.yml").as_bytes());
    assert!(f["message"].as_str().unwrap().contains("alias"), "{f}");
}

#[test]
fn empty_file() {
    let f = lint_bad_file(b"");
    assert!(f["message"].as_str().unwrap().contains("empty"), "{f}");
}

#[test]
fn comments_only_file() {
    let f = lint_bad_file(b"# nothing here yet\n");
    assert!(f["message"].as_str().unwrap().contains("empty"), "{f}");
}

#[test]
fn top_level_list() {
    let f = lint_bad_file(fixture("top-level-list.yml").as_bytes());
    assert!(
        f["message"].as_str().unwrap().contains("not a workflow"),
        "{f}"
    );
}

#[test]
fn a_bad_file_does_not_stop_the_others() {
    let dir = repo(&[
        ("broken.yml", fixture("malformed.yml").as_bytes()),
        ("ci.yml", fixture("unpinned.yml").as_bytes()),
        ("empty.yaml", b""),
    ]);
    let r = ship_in(dir.path(), &["lint", "--format", "json"]);
    r.expect_code(1);
    let v = r.json();
    assert_eq!(v["summary"]["files"], 3);
    let syntax: BTreeSet<&str> = of_rule(&v, "workflow-syntax")
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        syntax,
        BTreeSet::from([
            ".github/workflows/broken.yml",
            ".github/workflows/empty.yaml"
        ])
    );
    let unpinned = of_rule(&v, "unpinned-action");
    assert_eq!(unpinned.len(), 1, "{v:#}");
    assert_eq!(unpinned[0]["path"], CI);
    assert_eq!(unpinned[0]["line"], 12);
}

#[test]
fn files_outside_workflows_and_other_extensions_are_ignored() {
    let dir = repo(&[
        ("ci.yml", fixture("warning-only.yml").as_bytes()),
        ("README.md", b"\x00 not yaml"),
        ("old.yml.bak", b"[[["),
    ]);
    let r = ship_in(dir.path(), &["lint", "--format", "json"]);
    r.expect_code(0);
    assert_eq!(r.json()["summary"]["files"], 1);
}

// ---------------------------------------------------------------------------------------
// Inline suppression
// ---------------------------------------------------------------------------------------

#[test]
fn ignore_comment_on_the_line_above_suppresses() {
    let dir = repo_with(&fixture("suppressed.yml"));
    let r = ship_in(dir.path(), &["lint", "--workflow", CI, "--format", "json"]);
    r.expect_code(0);
    let v = r.json();
    assert!(findings(&v).is_empty(), "{v:#}");
}

#[test]
fn ignore_comment_that_suppresses_nothing_is_a_note() {
    let dir = repo_with(&fixture("unused-ignore.yml"));
    let r = ship_in(dir.path(), &["lint", "--workflow", CI, "--format", "json"]);
    r.expect_code(0);
    let v = r.json();
    let notes = of_rule(&v, "unused-ignore");
    assert_eq!(notes.len(), 1, "{v:#}");
    assert_eq!(notes[0]["severity"], "note");
    assert_eq!(notes[0]["line"], 11);
    assert!(
        notes[0]["message"]
            .as_str()
            .unwrap()
            .contains("unpinned-action"),
        "{v:#}"
    );
}

#[test]
fn ignore_comment_naming_an_unknown_rule_is_a_note() {
    let text = fixture("suppressed.yml").replace(
        "ignore[unpinned-action]",
        "ignore[unpinned-action, no-such-rule]",
    );
    let dir = repo_with(&text);
    let r = ship_in(dir.path(), &["lint", "--workflow", CI, "--format", "json"]);
    r.expect_code(0);
    let v = r.json();
    assert!(of_rule(&v, "unpinned-action").is_empty(), "{v:#}");
    let notes = of_rule(&v, "unused-ignore");
    assert_eq!(notes.len(), 1, "{v:#}");
    assert!(
        notes[0]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-rule"),
        "{v:#}"
    );
}

// ---------------------------------------------------------------------------------------
// Secrets are never printed
// ---------------------------------------------------------------------------------------

#[test]
fn secrets_are_never_printed() {
    // Built at run time so that no token-shaped string is committed.
    let token = format!("ghp_{}", "Zq7x".repeat(9));
    let password = "hunter2hunter2";
    let text = fixture("secrets.yml").replace("__GITHUB_TOKEN__", &token);
    assert!(text.contains(&token) && text.contains(password));
    let dir = repo_with(&text);
    let secret_free = |what: &str, output: &str| {
        assert!(
            !output.contains(&token),
            "{what} prints the token:\n{output}"
        );
        assert!(
            !output.contains(password),
            "{what} prints the password:\n{output}"
        );
    };

    // Both are found…
    let r = ship_in(dir.path(), &["lint", "--workflow", CI, "--format", "json"]);
    r.expect_code(1);
    let v = r.json();
    let lines: BTreeSet<u64> = of_rule(&v, "hardcoded-secret")
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, BTreeSet::from([12, 17]), "{v:#}");
    secret_free("json", &r.stdout);

    // …and no format shows them, nor the SARIF file or the step summary.
    let summary = dir.path().join("summary.md");
    let sarif = dir.path().join("out.sarif");
    for format in ["human", "json", "sarif", "github"] {
        let mut cmd = ship();
        cmd.current_dir(dir.path())
            .args(["lint", "--workflow", CI, "--format", format])
            .args(["--sarif-file", sarif.to_str().unwrap()])
            .env("GITHUB_STEP_SUMMARY", &summary);
        let r = run(cmd);
        r.expect_code(1);
        secret_free(format, &r.stdout);
        secret_free(format, &r.stderr);
        secret_free("--sarif-file", &std::fs::read_to_string(&sarif).unwrap());
    }
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("hardcoded-secret"), "{md}");
    secret_free("step summary", &md);

    // The human format still points at the value, masked.
    let r = ship_in(dir.path(), &["lint", "--workflow", CI]);
    assert!(r.stdout.contains("GH_TOKEN: ****"), "{}", r.stdout);
    assert!(r.stdout.contains("password: ****"), "{}", r.stdout);
}

// ---------------------------------------------------------------------------------------
// ship deploys: the deploy model
// ---------------------------------------------------------------------------------------

#[test]
fn deploys_lists_the_compliant_example_with_roles_environments_and_evidence() {
    let r = ship_args(&["deploys", &example("compliant"), "--format", "json"]);
    r.expect_code(0);
    let v = r.json();
    assert_eq!(v["unread"], serde_json::json!([]));
    let jobs = v["jobs"].as_array().expect("`jobs` is an array");
    let find = |workflow: &str, job: &str| {
        jobs.iter()
            .find(|j| j["workflow"] == workflow && j["job"] == job)
            .unwrap_or_else(|| panic!("{workflow} job {job} missing:\n{}", r.stdout))
    };
    let deploy = find(".github/workflows/deploy-production.yml", "deploy");
    assert_eq!(deploy["role"], "deploy");
    assert_eq!(deploy["environment"], "production");
    assert_eq!(deploy["environment_key"], "production");
    assert!(deploy["line"].as_u64().unwrap() > 0);
    let evidence = deploy["evidence"].as_array().unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e.as_str().unwrap().contains("ecs-rollout")),
        "{evidence:?}"
    );
    let triggers = deploy["triggers"].as_array().unwrap();
    assert!(
        triggers
            .iter()
            .any(|t| t.as_str().unwrap().starts_with("workflow_dispatch")),
        "{triggers:?}"
    );
    assert_eq!(
        find(".github/workflows/deploy-staging.yml", "migrate")["role"],
        "migrations"
    );
    assert_eq!(find(".github/workflows/ci.yml", "test")["role"], "ci");

    // The human table lists deploys and leaves CI jobs to --all.
    let r = ship_args(&["deploys", &example("compliant")]);
    r.expect_code(0);
    assert!(r.stdout.contains(".github/workflows/deploy-production.yml"));
    assert!(
        r.stdout.contains("started by: workflow_dispatch"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains(".github/workflows/ci.yml"),
        "{}",
        r.stdout
    );
    let all = ship_args(&["deploys", &example("compliant"), "--all"]);
    all.expect_code(0);
    assert!(
        all.stdout.contains(".github/workflows/ci.yml"),
        "{}",
        all.stdout
    );
}

#[test]
fn deploys_says_so_when_nothing_deploys() {
    let dir = repo_with("on: pull_request\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo test\n");
    let r = ship_in(dir.path(), &["deploys"]);
    r.expect_code(0);
    assert!(r.stdout.contains("no job deploys"), "{}", r.stdout);
}

#[test]
fn deploys_on_a_missing_directory_is_a_usage_error() {
    let r = ship_args(&["deploys", "/nonexistent/ship-test-repository"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("/nonexistent/ship-test-repository"),
        "{}",
        r.stderr
    );
}

#[test]
fn deploys_names_a_workflow_it_cannot_read_and_exits_2() {
    let dir = repo(&[
        ("broken.yml", b"on: push\njobs:\n  deploy: [\n"),
        (
            "deploy.yml",
            b"on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    environment: production\n    steps:\n      - run: aws ecs update-service --cluster c --service s\n",
        ),
    ]);
    let r = ship_in(dir.path(), &["deploys", "--format", "json"]);
    r.expect_code(2);
    let v = r.json();
    // The readable workflow is still listed…
    assert_eq!(v["jobs"][0]["workflow"], ".github/workflows/deploy.yml");
    assert_eq!(v["jobs"][0]["role"], "deploy");
    // …and the broken one is named, with where it broke.
    let unread = &v["unread"][0];
    assert_eq!(unread["workflow"], ".github/workflows/broken.yml");
    assert!(unread["line"].as_u64().is_some(), "{unread}");
    assert!(
        unread["reason"].as_str().unwrap().contains("invalid YAML"),
        "{unread}"
    );
    assert!(
        r.stderr.contains(".github/workflows/broken.yml:"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------
// Hostile repository files: a pull request controls every file ship lint reads
// ---------------------------------------------------------------------------------------

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "mkfifo {}", path.display());
}

#[test]
fn symlinks_out_of_the_repository_and_special_files_are_reported_never_read() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.yml");
    std::fs::write(&secret, "on: push # DISTINCTIVE-OUTSIDE-LINE\njobs: {}\n").unwrap();
    let dir = repo_with(&fixture("warning-only.yml"));
    let wf = dir.path().join(".github/workflows");
    let link =
        |target: &Path, name: &str| std::os::unix::fs::symlink(target, wf.join(name)).unwrap();
    link(&secret, "outside.yml");
    link(Path::new("/proc/self/status"), "proc.yml");
    link(Path::new("/dev/zero"), "zero.yml");
    link(Path::new("/nonexistent/deploy.yml"), "dangling.yml");
    // A symlink that stays inside the repository is an ordinary workflow.
    link(&wf.join("ci.yml"), "inside.yml");
    mkfifo(&wf.join("fifo.yml"));

    let r = ship_in(dir.path(), &["lint", ".", "--format", "json"]);
    r.expect_code(1);
    assert!(
        !r.stdout.contains("DISTINCTIVE-OUTSIDE-LINE"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("VmRSS"), "{}", r.stdout);
    let v = r.json();
    let syntax = of_rule(&v, "workflow-syntax");
    let message_of = |name: &str| -> String {
        syntax
            .iter()
            .find(|f| f["path"] == format!(".github/workflows/{name}"))
            .unwrap_or_else(|| panic!("no workflow-syntax finding for {name}: {}", r.stdout))
            ["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let m = message_of("outside.yml");
    assert!(
        m.contains("outside the repository") && m.contains("secret.yml"),
        "{m}"
    );
    assert!(message_of("proc.yml").contains("outside the repository"));
    assert!(message_of("zero.yml").contains("outside the repository"));
    assert!(message_of("dangling.yml").contains("/nonexistent/deploy.yml"));
    assert!(message_of("fifo.yml").contains("FIFO"));
    assert!(syntax
        .iter()
        .all(|f| f["path"] != ".github/workflows/inside.yml"));

    // `ship deploys` names them as files it could not read.
    let r = ship_in(dir.path(), &["deploys", ".", "--format", "json"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("outside.yml") && r.stderr.contains("outside the repository"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stdout.contains("DISTINCTIVE-OUTSIDE-LINE")
            && !r.stderr.contains("DISTINCTIVE-OUTSIDE-LINE")
    );
}

#[test]
fn a_repository_policy_that_is_not_a_regular_file_is_an_error_not_the_builtin_policy() {
    for (what, make) in [
        ("dangling symlink", 0),
        ("FIFO", 1),
        ("directory", 2),
        ("symlink out of the repository", 3),
    ] {
        let dir = repo_with(&fixture("warning-only.yml"));
        let policy = dir.path().join(".github/ship-policy.yml");
        match make {
            0 => std::os::unix::fs::symlink("/nonexistent/policy.yml", &policy).unwrap(),
            1 => mkfifo(&policy),
            2 => std::fs::create_dir(&policy).unwrap(),
            _ => std::os::unix::fs::symlink("/etc/hostname", &policy).unwrap(),
        }
        let r = ship_in(dir.path(), &["lint", "."]);
        r.expect_code(2);
        assert!(
            r.stderr.contains(".github/ship-policy.yml"),
            "{what}: {}",
            r.stderr
        );
    }
}

#[test]
fn a_policy_or_workflow_that_is_a_device_or_too_large_is_a_usage_error() {
    let dir = repo_with(&fixture("warning-only.yml"));
    let r = ship_in(dir.path(), &["lint", ".", "--policy", "/dev/zero"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("/dev/zero") && r.stderr.contains("character device"),
        "{}",
        r.stderr
    );

    let big = dir.path().join("big-policy.yml");
    let mut text = String::from("version: 1\n");
    while text.len() < (2 << 20) {
        text.push_str("# padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&big, text).unwrap();
    let r = ship_in(dir.path(), &["lint", ".", "--policy", "big-policy.yml"]);
    r.expect_code(2);
    assert!(r.stderr.contains("limit"), "{}", r.stderr);

    let r = ship_in(dir.path(), &["lint", "--workflow", "/dev/zero"]);
    r.expect_code(2);
    assert!(r.stderr.contains("character device"), "{}", r.stderr);
    assert!(!r.stderr.contains("no such file"), "{}", r.stderr);
}

#[test]
fn an_unreadable_directory_is_reported_by_env_file_committed() {
    // Permissions do not stop root: as root there is no directory this test can make
    // unreadable, so it checks nothing there (CI runs as root; developers usually do not).
    let dir = repo_with(&fixture("warning-only.yml"));
    let locked = dir.path().join("config/secrets");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::write(locked.join(".env"), "AWS_SECRET_ACCESS_KEY=abc\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read_dir(&locked).is_ok() {
        return; // running as root: the directory is readable anyway
    }
    let r = ship_in(dir.path(), &["lint", ".", "--format", "json"]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let v = r.json();
    let env = of_rule(&v, "env-file-committed");
    assert!(
        env.iter().any(|f| f["message"]
            .as_str()
            .unwrap()
            .contains("could not be searched")),
        "{}",
        r.stdout
    );
}

#[test]
fn completions_and_man_pages_come_from_the_cli_definition() {
    for (shell, marker) in [
        ("bash", "_ship()"),
        ("zsh", "#compdef ship"),
        ("fish", "complete -c ship"),
    ] {
        let r = ship_args(&["completions", shell]);
        assert_eq!(r.code, Some(0), "{shell}: {}", r.stderr);
        assert!(
            r.stdout.contains(marker),
            "{shell}: no `{marker}` in\n{}",
            r.stdout
        );
        assert!(
            r.stdout.contains("lint"),
            "{shell}: the subcommands are completed"
        );
    }
    let bad = ship_args(&["completions", "tcsh"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);

    let dir = TempDir::new().unwrap();
    let out = dir.path().join("man1");
    let r = ship_args(&["man", out.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    for page in ["ship.1", "ship-lint.1", "ship-deploys.1", "ship-init.1"] {
        let text = std::fs::read_to_string(out.join(page)).unwrap_or_default();
        assert!(text.contains(".TH"), "{page} is not a man page:\n{text}");
    }
}
