//! Fixture tests for every rule, in the style of ruff and zizmor.
//!
//! `tests/fixtures/<rule-id>/` holds small repositories: `bad*/` ones must trigger the rule,
//! `ok*/` ones show the compliant form and must not. Each rule is linted with only itself
//! enabled (plus, for `unused-ignore`, the rules its comments name), and the findings for its
//! `bad*/` repositories are snapshotted in the human format.

mod common;

use ship_findings::Finding;
use ship_lint::{lint, registry, rule_ids, settings_rule_ids, LintOptions};
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
    let report = lint(&LintOptions::new(
        dir.to_path_buf(),
        policy_enabling(enabled),
    ))
    .unwrap_or_else(|e| panic!("linting {}: {e}", dir.display()));
    Linted {
        findings: report.findings,
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
/// that is not a workflow.
fn may_be_unpositioned(f: &Finding) -> bool {
    (f.rule == "ci-trigger" && f.path == ".github/workflows") || f.rule == "env-file-committed"
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

/// Lint every fixture of `rule` with `rule` (and `also`) enabled; return the snapshot text.
fn run_rule(rule: &str, also: &[&str]) -> String {
    let mut enabled = vec![rule];
    enabled.extend_from_slice(also);
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

macro_rules! rule_tests {
    ($($test:ident: $rule:literal $(+ [$($also:literal),*])?;)*) => {
        $(
            #[test]
            fn $test() {
                let snapshot = run_rule($rule, &[$($($also),*)?]);
                insta::assert_snapshot!($rule, snapshot);
            }
        )*

        /// Every workflow and repository rule has a test above, and every fixture folder is
        /// such a rule.
        #[test]
        fn every_rule_has_fixtures_and_a_test() {
            let tested: BTreeSet<&str> = [$($rule),*].into_iter().collect();
            // Settings rules never run on a directory: their fixtures are in settings_rules.rs.
            let settings: BTreeSet<&str> = settings_rule_ids().into_iter().collect();
            assert!(tested.is_disjoint(&settings), "a rule is listed twice");
            let registered: BTreeSet<&str> = rule_ids().into_iter().collect();
            let file_rules: BTreeSet<&str> = registered.difference(&settings).copied().collect();
            assert_eq!(tested, file_rules, "rules without a fixture test (or tests of no rule)");
            let folders: BTreeSet<String> = std::fs::read_dir(fixtures())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            let file_rules: BTreeSet<String> =
                file_rules.into_iter().map(str::to_string).collect();
            assert_eq!(folders, file_rules, "fixture folders and rule ids differ");
        }
    };
}

rule_tests! {
    workflow_syntax: "workflow-syntax";
    ci_trigger: "ci-trigger";
    ci_stages: "ci-stages";
    deploy_trigger: "deploy-trigger";
    deploy_environment: "deploy-environment";
    deploy_concurrency: "deploy-concurrency";
    deploy_version_input: "deploy-version-input";
    migrations_order: "migrations-order";
    post_deploy_check: "post-deploy-check";
    mutable_image_tag: "mutable-image-tag";
    image_tags: "image-tags";
    rollback_path: "rollback-path";
    secret_scope: "secret-scope";
    hardcoded_secret: "hardcoded-secret";
    template_injection: "template-injection";
    permissions: "permissions";
    unpinned_action: "unpinned-action";
    static_credentials: "static-credentials";
    dangerous_trigger: "dangerous-trigger";
    env_file_committed: "env-file-committed";
    // Its comments name these rules; with them off, every comment would be unused.
    unused_ignore: "unused-ignore" + ["unpinned-action", "permissions"];
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

/// A literal secret is reported without ever printing it.
#[test]
fn hardcoded_secret_values_are_never_rendered() {
    let linted = lint_dir(
        &fixtures().join("hardcoded-secret/bad"),
        &["hardcoded-secret"],
    );
    let text = human(&linted);
    for secret in [
        "AKIAIOSFODNN7EXAMPLE",
        "s3cr3t-Passw0rd",
        "7c6b1d8e0f2a4b3c9d5e",
        "XXXXXXXXXXXXXXXXXXXXXXXX",
    ] {
        assert!(!text.contains(secret), "`{secret}` is printed:\n{text}");
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
    std::fs::write(dir.path().join(".env"), "TOKEN=local\n").unwrap();
    std::fs::write(dir.path().join(".env.local"), "TOKEN=local\n").unwrap();
    std::fs::write(dir.path().join(".env.example"), "TOKEN=\n").unwrap();
    let linted = lint_dir(dir.path(), &["env-file-committed"]);
    assert!(linted.findings.is_empty(), "{}", human(&linted));

    // Without the .gitignore both are reported.
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
