//! Fixture tests for every rule, in the style of ruff and zizmor.
//!
//! `tests/fixtures/<rule-id>/` holds small repositories: `bad*/` ones must trigger the rule,
//! `ok*/` ones show the compliant form and must not. Each rule is linted with only itself
//! enabled, plus the rules listed in `tests/fixtures/<rule-id>/also-enabled` (one id a line:
//! the rules an `unused-ignore` comment or a baseline entry names). A fixture repository is
//! linted as `ship lint DIR` would: with its `.github/ship-baseline.json` when it has one. The
//! findings of the `bad*/` repositories are snapshotted in the human format
//! (`snapshots/rules__<rule-id>.snap`).
//!
//! The rules come from the registry: a new rule needs its fixture folder and snapshot, no
//! line here. `SHIP_TEST_RULE=<rule-id> cargo test -p ship-lint --test rules` runs one rule.

mod common;

use ship_findings::Finding;
use ship_lint::baseline::{self, Scope};
use ship_lint::{lint, registry, rule_ids, LintOptions};
use ship_policy::CompiledPolicy;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The built-in policy with every rule but `enabled` disabled.
fn policy_enabling(enabled: &[&str]) -> CompiledPolicy {
    let mut policy = CompiledPolicy::builtin();
    policy.policy.rules.disable = rule_ids()
        .into_iter()
        .filter(|id| !enabled.contains(id))
        .map(str::to_string)
        .collect();
    policy
}

struct Linted {
    findings: Vec<Finding>,
    files: usize,
}

fn lint_dir(dir: &Path, enabled: &[&str]) -> Linted {
    let opts = LintOptions::new(dir.to_path_buf(), policy_enabling(enabled));
    let report = lint(&opts).unwrap_or_else(|e| panic!("linting {}: {e}", dir.display()));
    let findings = match baseline::resolve(dir, None)
        .unwrap_or_else(|e| panic!("the baseline of {}: {e}", dir.display()))
    {
        Some(b) => {
            b.apply(report.findings, &Scope::repository(&opts.dir, &opts.policy))
                .findings
        }
        None => report.findings,
    };
    Linted {
        findings,
        files: report.files,
    }
}

fn human(linted: &Linted) -> String {
    common::human(&linted.findings, linted.files)
}

/// The `bad*` and `ok*` fixture repositories of a rule, sorted by name.
fn cases(rule: &str) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let root = fixtures().join(rule);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("no fixtures for `{rule}` at {}: {e}", root.display()))
        .map(|e| e.expect("fixture entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let named = |prefix: &str| -> Vec<PathBuf> {
        dirs.iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .cloned()
            .collect()
    };
    let (bad, ok) = (named("bad"), named("ok"));
    assert!(!bad.is_empty(), "`{rule}` has no bad/ fixture");
    assert!(!ok.is_empty(), "`{rule}` has no ok/ fixture");
    (bad, ok)
}

/// Findings without a position: repository-level findings about a directory or a file
/// that is not a workflow (a missing workflows folder, a committed `.env`). A finding in a
/// workflow file always has one.
fn may_be_unpositioned(f: &Finding) -> bool {
    let workflow = f.path.starts_with(".github/workflows/")
        && (f.path.ends_with(".yml") || f.path.ends_with(".yaml"));
    !workflow
}

fn check_positions(case: &str, findings: &[Finding]) {
    let root = fixtures().to_string_lossy().replace('\\', "/");
    for f in findings {
        assert!(
            !f.path.starts_with('/') && !f.path.contains(&root) && !f.path.contains('\\'),
            "{case}: finding path `{}` is not relative to the linted directory",
            f.path
        );
        if may_be_unpositioned(f) && f.line == 0 {
            assert_eq!(f.column, 0, "{case}: {f:?}");
            continue;
        }
        assert!(f.line >= 1 && f.column >= 1, "{case}: unpositioned {f:?}");
        assert!(
            (f.end_line, f.end_column) >= (f.line, f.column),
            "{case}: span ends before it starts: {f:?}"
        );
        assert!(!f.message.is_empty() && !f.help.is_empty(), "{case}: {f:?}");
    }
}

/// The rules `tests/fixtures/<rule>/also-enabled` lists (none when there is no such file).
fn also_enabled(rule: &str) -> Vec<String> {
    let path = fixtures().join(rule).join("also-enabled");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    let ids: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    for id in &ids {
        assert!(
            rule_ids().contains(&id.as_str()),
            "{}: `{id}` is not a rule id",
            path.display()
        );
    }
    ids
}

/// Lint every fixture of `rule` with `rule` (and its also-enabled rules) on; return the
/// snapshot text.
fn run_rule(rule: &str) -> String {
    let also = also_enabled(rule);
    let mut enabled = vec![rule];
    enabled.extend(also.iter().map(String::as_str));
    let (bad, ok) = cases(rule);
    let root = fixtures();
    let mut snapshot = String::new();
    for dir in &bad {
        let case = dir
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let linted = lint_dir(dir, &enabled);
        assert!(
            linted.findings.iter().any(|f| f.rule == rule),
            "{case}: expected at least one `{rule}` finding, got:\n{}",
            human(&linted)
        );
        check_positions(&case, &linted.findings);
        let text = human(&linted);
        assert!(
            !text.contains(&*root.to_string_lossy()),
            "{case}: the output names the absolute fixture path:\n{text}"
        );
        snapshot.push_str(&format!("──── {case} ────\n{text}\n"));
    }
    for dir in &ok {
        let case = dir
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let linted = lint_dir(dir, &enabled);
        let mine: Vec<&Finding> = linted.findings.iter().filter(|f| f.rule == rule).collect();
        assert!(
            mine.is_empty(),
            "{case}: expected no `{rule}` finding, got:\n{}",
            human(&linted)
        );
        check_positions(&case, &linted.findings);
    }
    snapshot
}

/// The workflow and repository rules. Settings rules never run on a directory: their
/// fixtures are in settings_rules.rs.
fn file_rules() -> Vec<&'static str> {
    registry()
        .iter()
        .filter(|r| !r.reads_settings())
        .map(|r| r.info().id)
        .collect()
}

/// Every workflow and repository rule against its fixtures. One test for all, so that the
/// registry is the list; every failing rule is named at the end (its panic is printed above).
#[test]
fn every_rule_against_its_fixtures() {
    let only = std::env::var("SHIP_TEST_RULE").ok();
    let rules: Vec<&str> = file_rules()
        .into_iter()
        .filter(|id| only.as_deref().is_none_or(|o| o == *id))
        .collect();
    if only.is_some() && rules.is_empty() {
        return; // SHIP_TEST_RULE names a settings rule: tests/settings_rules.rs runs it.
    }
    let failed: Vec<&str> = rules
        .into_iter()
        .filter(|rule| {
            std::panic::catch_unwind(|| {
                let snapshot = run_rule(rule);
                insta::assert_snapshot!(*rule, snapshot);
            })
            .is_err()
        })
        .collect();
    assert!(
        failed.is_empty(),
        "the fixtures of {failed:?} failed (see above); SHIP_TEST_RULE=<rule-id> runs one"
    );
}

/// Every fixture folder is a workflow or repository rule, and every such rule has one.
#[test]
fn every_rule_has_fixtures() {
    let folders: BTreeSet<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let rules: BTreeSet<String> = file_rules().into_iter().map(str::to_string).collect();
    let missing: Vec<&String> = rules.difference(&folders).collect();
    let unknown: Vec<&String> = folders.difference(&rules).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "rules without tests/fixtures/<rule-id>/bad and ok: {missing:?}; fixture folders \
         that are no workflow or repository rule: {unknown:?}"
    );
}

#[test]
fn rule_docs_have_the_required_sections() {
    for rule in registry() {
        let info = rule.info();
        for section in ["## What it reports", "## Why", "## How to fix"] {
            assert!(
                info.docs.contains(section),
                "the docs of `{}` lack `{section}`",
                info.id
            );
        }
        assert!(!info.summary.is_empty(), "`{}` has no summary", info.id);
    }
}

#[test]
fn rule_ids_are_unique_kebab_case() {
    let ids = rule_ids();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate rule ids in {ids:?}");
    for id in ids {
        let kebab = !id.is_empty()
            && !id.starts_with('-')
            && !id.ends_with('-')
            && !id.contains("--")
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        assert!(kebab, "rule id `{id}` is not kebab-case");
    }
}

/// A literal secret is reported without ever printing it, in workflows and in `.env` files.
#[test]
fn hardcoded_secret_values_are_never_rendered() {
    let secrets = [
        "FZbq/1OTuzE3GWo712StgQW+6zJUVbUAf1NhP6xb",
        "s3cr3t-Passw0rd",
        "7c6b1d8e0f2a4b3c9d5e",
        "JIuouaB74P0zYIwhoiUZDlib",
        "66ccf4f9adb537b1bdf660ff5bb167448ca6be036d2a931fd588071e092ae6fc",
        "2XXHuAMLbv0Oo0BGkExgQfHNDoLqFqBz",
        "Wint3r-Deploy-2024",
        "76853ce38a04479fc155b26bbfd5726f271de5738d959bec16de1cbf84716a024bb46c5c31acd3ebd0164c4e505588326089e5fa180e6552858b11d889f1ae03",
        "KXD2w1BSSyrolWREkBUZURCAuQBYzJLJMYYX",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
    ];
    for (rule, case) in [
        ("hardcoded-secret", "bad"),
        ("hardcoded-secret", "bad-value-shapes"),
        ("env-file-committed", "bad"),
    ] {
        let linted = lint_dir(&fixtures().join(rule).join(case), &[rule]);
        assert!(!linted.findings.is_empty(), "{rule}/{case}: no findings");
        let text = human(&linted);
        let json = serde_json::to_string(&linted.findings).unwrap();
        for secret in secrets {
            assert!(
                !text.contains(secret) && !json.contains(secret),
                "{rule}/{case}: `{secret}` is printed:\n{text}"
            );
        }
    }
}

/// `.env` files that `.gitignore` ignores are not committed, so not reported.
#[test]
fn env_file_ignored_by_gitignore_is_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".gitignore"),
        ".env\n.env.*\n!.env.example\n",
    )
    .unwrap();
    let real = "TOKEN=9b1f4c7e2a8d5f3b6c0e9a7d4f1b8c5e\n";
    std::fs::write(dir.path().join(".env"), real).unwrap();
    std::fs::write(dir.path().join(".env.local"), real).unwrap();
    std::fs::write(dir.path().join(".env.example"), "TOKEN=\n").unwrap();
    let linted = lint_dir(dir.path(), &["env-file-committed"]);
    assert!(linted.findings.is_empty(), "{}", human(&linted));

    // Without the .gitignore both are reported; the placeholder template still is not.
    std::fs::remove_file(dir.path().join(".gitignore")).unwrap();
    let linted = lint_dir(dir.path(), &["env-file-committed"]);
    let paths: Vec<&str> = linted.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, vec![".env", ".env.local"], "{}", human(&linted));
}

/// The committed binary fixture really is binary (a NUL byte), as workflow-syntax expects.
#[test]
fn binary_fixture_has_a_nul_byte() {
    let bytes =
        std::fs::read(fixtures().join("workflow-syntax/bad/.github/workflows/binary.yml")).unwrap();
    assert!(bytes.contains(&0));
}

/// image-tags judges the builds of a repository that deploys; with `--workflow` the files
/// given are the repository.
#[test]
fn image_tags_needs_a_deploying_repository() {
    let dir = fixtures().join("image-tags/bad");
    let count = |files: &[&str]| {
        let mut opts = LintOptions::new(dir.clone(), policy_enabling(&["image-tags"]));
        opts.workflows = files
            .iter()
            .map(|f| dir.join(".github/workflows").join(f))
            .collect();
        lint(&opts)
            .unwrap()
            .findings
            .iter()
            .filter(|f| f.rule == "image-tags")
            .count()
    };
    assert_eq!(count(&["build.yml"]), 0);
    assert_eq!(count(&["build.yml", "deploy.yml"]), 2);
}
