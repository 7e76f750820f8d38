//! `ship lint --write-baseline FILE`, `--baseline FILE`, the default
//! `.github/ship-baseline.json` and `--no-baseline`, end to end: what a team adopting ship on
//! a repository with history does, then the edits that follow.

use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

mod support;
use support::{run, ship, Run};

const CI: &str = ".github/workflows/ci.yml";
const BASELINE: &str = ".github/ship-baseline.json";

/// One job, one third-party action on a movable tag (an `unpinned-action` error), and
/// repository-wide findings (`ci-stages`) on top.
const WORKFLOW: &str = "\
name: CI
on:
  pull_request:
    branches: [main]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: Swatinem/rust-cache@v2
      - run: cargo test
";

fn ship_in(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = ship();
    cmd.current_dir(dir).args(args);
    run(cmd)
}

fn repo_with(workflow: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(dir.path().join(CI), workflow).unwrap();
    dir
}

fn edit(dir: &Path, workflow: &str) {
    std::fs::write(dir.join(CI), workflow).unwrap();
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn settings_fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ship-lint/tests/settings-fixtures")
        .join(case)
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().expect("`findings` is an array")
}

/// `ship lint --format json ARGS…` in `dir`: the exit code and the document.
fn lint_json(dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["lint", "--format", "json"];
    all.extend_from_slice(args);
    let r = ship_in(dir, &all);
    assert!(
        matches!(r.code, Some(0) | Some(1)),
        "exit {:?}\n{}\n{}",
        r.code,
        r.stdout,
        r.stderr
    );
    (r.code, r.json())
}

/// `ship lint --write-baseline .github/ship-baseline.json ARGS…` in `dir`, which must succeed.
fn write_baseline(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["lint", "--write-baseline", BASELINE];
    all.extend_from_slice(args);
    let r = ship_in(dir, &all);
    r.expect_code(0);
    assert_eq!(r.stdout, "", "--write-baseline prints no findings");
    r
}

fn baseline_file(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(BASELINE)).unwrap()).unwrap()
}

fn rules_of(v: &Value) -> Vec<&str> {
    findings(v)
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

#[test]
fn write_then_lint_unchanged_is_clean() {
    let dir = repo_with(WORKFLOW);
    let (code, before) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(1));
    let n = findings(&before).len();
    assert!(n >= 2, "{before:#}");

    let r = write_baseline(dir.path(), &[]);
    assert!(
        r.stderr
            .contains(&format!("wrote {BASELINE} with {n} findings")),
        "{}",
        r.stderr
    );
    let file = baseline_file(dir.path());
    assert_eq!(file["version"], 1);
    let entries = file["findings"].as_array().unwrap();
    let accepted: u64 = entries.iter().map(|e| e["count"].as_u64().unwrap()).sum();
    assert_eq!(accepted, n as u64);
    let unpinned = entries
        .iter()
        .find(|e| e["rule"] == "unpinned-action")
        .expect("an unpinned-action entry");
    assert_eq!(unpinned["path"], CI);
    assert_eq!(unpinned["job"], "test");
    assert_eq!(unpinned["step"], "uses: Swatinem/rust-cache@v2");
    assert_eq!(unpinned["fingerprint"].as_str().unwrap().len(), 16);
    assert!(unpinned["message"]
        .as_str()
        .unwrap()
        .contains("Swatinem/rust-cache@v2"));
    assert!(unpinned.get("line").is_none(), "lines are no part of a key");

    // The default file is picked up: nothing new, exit 0, and the summary says why.
    let r = ship_in(dir.path(), &["lint"]);
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        format!("no new findings in 1 file ({n} baselined)\n")
    );
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(0));
    assert!(findings(&v).is_empty(), "{v:#}");
    assert_eq!(v["summary"]["baselined"], n as u64);
    assert_eq!(v["summary"]["errors"], 0);

    // The same with the file named explicitly, from outside the repository.
    let file = dir.path().join(BASELINE);
    let mut cmd = ship();
    cmd.args(["lint", "--format", "json"])
        .arg(dir.path())
        .arg("--baseline")
        .arg(&file);
    let r = run(cmd);
    r.expect_code(0);
    assert_eq!(r.json()["summary"]["baselined"], n as u64);

    // Rewriting an unchanged repository changes nothing in the file.
    let first = std::fs::read_to_string(&file).unwrap();
    write_baseline(dir.path(), &[]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);
}

#[test]
fn moved_lines_reordered_steps_and_new_jobs_still_match() {
    let dir = repo_with(WORKFLOW);
    write_baseline(dir.path(), &[]);
    let edited = "\
# CI for the service.
# (Two comment lines move every line down.)
name: CI
on:
  pull_request:
    branches: [main]
permissions:
  contents: read
jobs:
  docs:
    runs-on: ubuntu-latest
    steps:
      - run: echo docs
  test:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: Swatinem/rust-cache@v2
      - uses: actions/checkout@v4
      - run: cargo test --all
";
    edit(dir.path(), edited);
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(0), "{v:#}");
    assert!(findings(&v).is_empty(), "{v:#}");
}

#[test]
fn a_new_finding_fails_and_is_the_only_one_shown() {
    let dir = repo_with(WORKFLOW);
    write_baseline(dir.path(), &[]);
    let n = baseline_file(dir.path())["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["count"].as_u64().unwrap())
        .sum::<u64>();
    edit(
        dir.path(),
        &WORKFLOW.replace(
            "      - run: cargo test\n",
            "      - run: cargo test\n      - uses: org/upload@v1\n",
        ),
    );
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(rules_of(&v), ["unpinned-action"], "{v:#}");
    assert_eq!(findings(&v)[0]["line"], 14);
    assert!(findings(&v)[0]["message"]
        .as_str()
        .unwrap()
        .contains("org/upload@v1"));
    assert_eq!(v["summary"]["baselined"], n);

    let r = ship_in(dir.path(), &["lint"]);
    r.expect_code(1);
    assert!(r.stdout.contains("org/upload@v1"), "{}", r.stdout);
    assert!(!r.stdout.contains("rust-cache"), "{}", r.stdout);
    assert!(
        r.stdout.ends_with(&format!(
            "1 error, 0 warnings, 0 notes in 1 file ({n} baselined)\n"
        )),
        "{}",
        r.stdout
    );
}

#[test]
fn a_fixed_finding_becomes_a_stale_note() {
    let dir = repo_with(WORKFLOW);
    write_baseline(dir.path(), &[]);
    let pinned = WORKFLOW.replace(
        "Swatinem/rust-cache@v2",
        "Swatinem/rust-cache@9d47c6ad4b02e050fd481d890b2ea34778fd09d6 # v2",
    );
    edit(dir.path(), &pinned);
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(0), "a note does not fail by default: {v:#}");
    assert_eq!(rules_of(&v), ["baseline-stale"], "{v:#}");
    let note = &findings(&v)[0];
    assert_eq!(note["severity"], "note");
    assert_eq!(note["path"], BASELINE);
    // It points at the entry's line in the baseline file.
    let text = std::fs::read_to_string(dir.path().join(BASELINE)).unwrap();
    let line = note["line"].as_u64().unwrap() as usize;
    let entry_line = text.lines().nth(line - 1).unwrap();
    assert!(
        entry_line.contains("\"rule\": \"unpinned-action\""),
        "{entry_line}"
    );
    let message = note["message"].as_str().unwrap();
    assert!(
        message.starts_with("the baselined `unpinned-action` finding in .github/workflows/ci.yml (job `test`, step `uses: Swatinem/rust-cache@v2`) no longer occurs"),
        "{message}"
    );
    assert!(
        note["help"]
            .as_str()
            .unwrap()
            .contains("ship lint --write-baseline .github/ship-baseline.json"),
        "{note}"
    );
    // A team that wants the file to shrink fails on it.
    ship_in(dir.path(), &["lint", "--fail-on", "note"]).expect_code(1);

    // Rewriting drops the entry.
    write_baseline(dir.path(), &[]);
    let (code, v) = lint_json(dir.path(), &["--fail-on", "note"]);
    assert_eq!(code, Some(0));
    assert!(findings(&v).is_empty(), "{v:#}");
    assert!(!std::fs::read_to_string(dir.path().join(BASELINE))
        .unwrap()
        .contains("rust-cache"));
}

#[test]
fn identical_findings_are_counted() {
    let twice = WORKFLOW.replace(
        "      - run: cargo test\n",
        "      - run: cargo test\n      - uses: Swatinem/rust-cache@v2\n",
    );
    let dir = repo_with(&twice);
    write_baseline(dir.path(), &[]);
    let file = baseline_file(dir.path());
    let unpinned: Vec<&Value> = file["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["rule"] == "unpinned-action")
        .collect();
    assert_eq!(unpinned.len(), 1, "one entry: {file:#}");
    assert_eq!(unpinned[0]["count"], 2);

    // A third identical step is one more than accepted: reported, and the help says why.
    let thrice = twice.replace(
        "      - run: cargo test\n",
        "      - run: cargo test\n      - uses: Swatinem/rust-cache@v2\n",
    );
    edit(dir.path(), &thrice);
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(rules_of(&v), ["unpinned-action"], "{v:#}");
    let help = findings(&v)[0]["help"].as_str().unwrap();
    assert!(
        help.contains(".github/ship-baseline.json accepts 2 `unpinned-action` findings with this job, step and value"),
        "{help}"
    );

    // Down to one: one of the two is stale.
    edit(dir.path(), WORKFLOW);
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(0));
    assert_eq!(rules_of(&v), ["baseline-stale"], "{v:#}");
    let message = findings(&v)[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("1 of 2 baselined `unpinned-action` findings"),
        "{message}"
    );
}

#[test]
fn secrets_never_reach_the_baseline_file() {
    // Built at run time so that no token-shaped string is committed.
    let token = format!("ghp_{}", "Zq7x".repeat(9));
    let password = "hunter2hunter2";
    // A second token in a `run:` line of a step without id or name, which would otherwise
    // label the step (a second use of the first token would be the same finding).
    let token2 = format!("ghp_{}", "Wm4y".repeat(9));
    let text = fixture("secrets.yml").replace("__GITHUB_TOKEN__", &token)
        + &format!(
            "      - run: |\n          curl -H \"Authorization: token {token2}\" https://api.github.com\n"
        );
    let dir = repo_with(&text);
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(1));
    let secrets = findings(&v)
        .iter()
        .filter(|f| f["rule"] == "hardcoded-secret")
        .count();
    assert_eq!(secrets, 3, "{v:#}");
    let total = findings(&v).len();

    let r = write_baseline(dir.path(), &[]);
    let written = std::fs::read_to_string(dir.path().join(BASELINE)).unwrap();
    for (what, output) in [("file", written.as_str()), ("stderr", r.stderr.as_str())] {
        assert!(
            !output.contains(&token),
            "the {what} holds the token:\n{output}"
        );
        assert!(
            !output.contains("Zq7x") && !output.contains("Wm4y"),
            "the {what} holds part of a token:\n{output}"
        );
        assert!(
            !output.contains(password),
            "the {what} holds the password:\n{output}"
        );
    }
    let file = baseline_file(dir.path());
    let steps: Vec<&str> = file["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["rule"] == "hardcoded-secret")
        .filter_map(|e| e["step"].as_str())
        .collect();
    // The run step is labelled by its place, not by its script.
    assert!(steps.contains(&"#4"), "{file:#}");

    // The secrets are still accepted by the baseline (matched by hash).
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["summary"]["baselined"], total as u64);

    // A rotated secret is a new finding.
    let rotated = text.replace(password, "correct-horse-battery");
    edit(dir.path(), &rotated);
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(1));
    assert!(rules_of(&v).contains(&"hardcoded-secret"), "{v:#}");
}

#[test]
fn bad_baseline_files_are_usage_errors() {
    let dir = repo_with(WORKFLOW);
    // An explicit file that does not exist.
    let r = ship_in(dir.path(), &["lint", "--baseline", "no-such.json"]);
    r.expect_code(2);
    assert!(
        r.stderr
            .contains("cannot read baseline file `no-such.json`")
            && r.stderr.contains("ship lint --write-baseline no-such.json")
            && r.stderr.contains("--no-baseline"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "one paragraph: {}", r.stderr);

    for (content, expected) in [
        (
            "{\"version\": 1, \"findings\": [",
            ".github/ship-baseline.json:1:",
        ),
        ("[]", "no `version` field"),
        (
            "{\"version\": 2, \"findings\": []}",
            "baseline format version 2, but this ship reads version 1",
        ),
        (
            "{\"version\": 1, \"findings\": [{\"rule\": \"x\", \"path\": \"p\"}]}",
            "missing field `fingerprint`",
        ),
        (
            "{\"version\": 1, \"findings\": [], \"extra\": true}",
            "unknown field `extra`",
        ),
    ] {
        std::fs::write(dir.path().join(BASELINE), content).unwrap();
        // The default file, when present, must be valid too…
        let r = ship_in(dir.path(), &["lint"]);
        r.expect_code(2);
        assert!(r.stderr.contains(expected), "{content}: {}", r.stderr);
        assert!(
            r.stderr.contains(".github/ship-baseline.json")
                && r.stderr
                    .contains("--write-baseline .github/ship-baseline.json"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        // …and --no-baseline lints without it.
        ship_in(dir.path(), &["lint", "--no-baseline"]).expect_code(1);
    }
}

#[test]
fn no_baseline_reports_everything() {
    let dir = repo_with(WORKFLOW);
    let (_, all) = lint_json(dir.path(), &[]);
    write_baseline(dir.path(), &[]);
    let (code, v) = lint_json(dir.path(), &["--no-baseline"]);
    assert_eq!(code, Some(1));
    assert_eq!(findings(&v), findings(&all));
    assert!(v["summary"].get("baselined").is_none(), "{v:#}");
    // The flags that contradict each other are refused.
    ship_in(
        dir.path(),
        &["lint", "--no-baseline", "--baseline", BASELINE],
    )
    .expect_code(2);
}

#[test]
fn fail_on_and_inline_suppressions() {
    // A warning only: baselined, even --fail-on warning passes.
    let dir = repo_with(&fixture("warning-only.yml"));
    ship_in(dir.path(), &["lint", "--fail-on", "warning"]).expect_code(1);
    write_baseline(dir.path(), &[]);
    ship_in(dir.path(), &["lint", "--fail-on", "warning"]).expect_code(0);
    ship_in(dir.path(), &["lint", "--fail-on", "note"]).expect_code(0);

    // A suppressed finding is not recorded; the comment keeps working with the baseline.
    let dir = repo_with(&fixture("suppressed.yml"));
    write_baseline(dir.path(), &[]);
    assert!(!std::fs::read_to_string(dir.path().join(BASELINE))
        .unwrap()
        .contains("unpinned-action"));
    let (code, v) = lint_json(dir.path(), &["--fail-on", "note"]);
    assert_eq!(code, Some(0), "{v:#}");
    // Removing the comment brings the finding back as new.
    edit(
        dir.path(),
        &fixture("suppressed.yml").replace(
            "      # ship: ignore[unpinned-action] cache only, no secrets in this job; reviewed in #42\n",
            "",
        ),
    );
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(rules_of(&v), ["unpinned-action"], "{v:#}");
}

#[test]
fn settings_findings_are_keyed_by_rule_and_message() {
    let repo = settings_fixture("repo");
    let dir = tempfile::tempdir().unwrap();
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    for entry in std::fs::read_dir(repo.join(".github/workflows")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, workflows.join(path.file_name().unwrap())).unwrap();
    }
    let settings = settings_fixture("required-reviews/bad.json");
    let settings = settings.to_str().unwrap();
    let (code, v) = lint_json(dir.path(), &["--settings", settings]);
    assert_eq!(code, Some(1));
    assert!(rules_of(&v).contains(&"required-reviews"), "{v:#}");
    assert!(findings(&v).iter().all(|f| f["line"] == 0), "{v:#}");

    write_baseline(dir.path(), &["--settings", settings]);
    let (code, v) = lint_json(dir.path(), &["--settings", settings]);
    assert_eq!(code, Some(0), "{v:#}");
    assert!(findings(&v).is_empty(), "{v:#}");

    // Without settings, their entries are not judged: no stale note.
    let (code, v) = lint_json(dir.path(), &["--fail-on", "note"]);
    assert_eq!(code, Some(0), "{v:#}");
    assert!(findings(&v).is_empty(), "{v:#}");

    // Rewriting without settings keeps what only a run with settings can check.
    let r = write_baseline(dir.path(), &[]);
    assert!(
        r.stderr.contains("kept 1 finding(s) of settings rules"),
        "{}",
        r.stderr
    );
    assert!(std::fs::read_to_string(dir.path().join(BASELINE))
        .unwrap()
        .contains("\"rule\": \"required-reviews\""));

    // A policy file added later moves settings findings to its lines: still the same ones.
    std::fs::write(
        dir.path().join(".github/ship-policy.yml"),
        "version: 1\nprotection:\n  required-approvals: 1\n",
    )
    .unwrap();
    let (code, v) = lint_json(dir.path(), &["--settings", settings, "--no-baseline"]);
    assert_eq!(code, Some(1));
    assert!(
        findings(&v)
            .iter()
            .any(|f| f["rule"] == "required-reviews" && f["path"] == ".github/ship-policy.yml"),
        "{v:#}"
    );
    let (code, v) = lint_json(dir.path(), &["--settings", settings, "--fail-on", "note"]);
    assert_eq!(code, Some(0), "{v:#}");

    // Fixed on GitHub: stale.
    let fixed = settings_fixture("required-reviews/ok.json");
    let (_, v) = lint_json(dir.path(), &["--settings", fixed.to_str().unwrap()]);
    assert_eq!(rules_of(&v), ["baseline-stale"], "{v:#}");
    assert!(findings(&v)[0]["message"]
        .as_str()
        .unwrap()
        .contains("`required-reviews`"));
}

#[test]
fn workflow_runs_match_but_judge_no_entry() {
    let dir = repo_with(WORKFLOW);
    write_baseline(dir.path(), &[]);
    // Repository rules do not run with --workflow: their entries are not stale.
    let (code, v) = lint_json(dir.path(), &["--workflow", CI, "--fail-on", "note"]);
    assert_eq!(code, Some(0), "{v:#}");
    assert!(findings(&v).is_empty(), "{v:#}");
    assert_eq!(v["summary"]["baselined"], 1);
    // Named through the directory, the file still matches.
    let mut cmd = ship();
    cmd.args(["lint", "--format", "json", "--workflow"])
        .arg(dir.path().join(CI))
        .arg("--baseline")
        .arg(dir.path().join(BASELINE))
        .arg(dir.path());
    let r = run(cmd);
    r.expect_code(0);
    assert_eq!(r.json()["summary"]["baselined"], 1);
    // Recording from part of the repository would drop the rest: refused.
    ship_in(
        dir.path(),
        &["lint", "--workflow", CI, "--write-baseline", BASELINE],
    )
    .expect_code(2);
}

#[test]
fn sarif_and_github_formats_say_how_many_were_baselined() {
    let dir = repo_with(WORKFLOW);
    write_baseline(dir.path(), &[]);
    let n = baseline_file(dir.path())["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["count"].as_u64().unwrap())
        .sum::<u64>();
    let r = ship_in(dir.path(), &["lint", "--format", "sarif"]);
    r.expect_code(0);
    let sarif = r.json();
    assert_eq!(sarif["runs"][0]["properties"]["baselined"], n);
    assert!(sarif["runs"][0]["results"].as_array().unwrap().is_empty());

    let summary = dir.path().join("summary.md");
    let mut cmd = ship();
    cmd.current_dir(dir.path())
        .args(["lint", "--format", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary);
    let r = run(cmd);
    r.expect_code(0);
    assert_eq!(r.stdout, "", "no annotation for baselined findings");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains(&format!("No new findings in 1 file ({n} baselined).")),
        "{md}"
    );
}

#[test]
fn write_baseline_errors_name_the_file() {
    let dir = repo_with(WORKFLOW);
    let r = ship_in(
        dir.path(),
        &["lint", "--write-baseline", "no-such-dir/baseline.json"],
    );
    r.expect_code(2);
    assert!(
        r.stderr
            .contains("cannot write baseline file `no-such-dir/baseline.json`"),
        "{}",
        r.stderr
    );
    // The help documents the flags.
    let r = ship_in(dir.path(), &["lint", "--help"]);
    r.expect_code(0);
    for flag in [
        "--baseline <FILE>",
        "--no-baseline",
        "--write-baseline <FILE>",
    ] {
        assert!(r.stdout.contains(flag), "{flag}: {}", r.stdout);
    }
}
