//! Fixture tests for the settings rules (`ship lint --github` / `--settings`).
//!
//! `tests/settings-fixtures/<rule-id>/` holds settings documents (what `ship settings export`
//! writes: GitHub's own responses with their status), `bad*.json` ones must trigger the rule,
//! `ok*.json` ones must not. Every document is linted against the same small repository,
//! `tests/settings-fixtures/repo` (pull-request CI with build, lint, test, coverage and
//! security-scan jobs; production deploys on `workflow_dispatch` and `v*` tags; staging; a
//! rollback), with only the rule under test enabled. The findings of the `bad*` documents are
//! snapshotted in the human format. The rules come from the registry
//! ([`settings_rule_ids`]): a new settings rule needs its fixture folder and snapshot, no line
//! here. `SHIP_TEST_RULE=<rule-id> cargo test -p ship-lint --test settings_rules` runs one.
//!
//! `compliant.json` and `scenarios/*.json` cover what the rules share: classic protection
//! only, rulesets only, both (the stricter setting wins), and settings the token could not
//! read.

mod common;

use ship_findings::Finding;
use ship_github_settings::{EffectiveSettings, SettingsSnapshot};
use ship_lint::{lint, resolve_policy, rule_ids, settings_rule_ids, LintOptions, LintReport};
use ship_policy::CompiledPolicy;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const REPOSITORY: &str = "acme/orders-api";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/settings-fixtures")
}

fn repo() -> PathBuf {
    fixtures().join("repo")
}

fn snapshot_at(path: &Path) -> SettingsSnapshot {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a settings document: {e}", path.display()))
}

fn settings(case: &str) -> EffectiveSettings {
    EffectiveSettings::from_snapshot(&snapshot_at(&fixtures().join(case)))
}

/// `policy` with every rule but `enabled` disabled.
fn enabling(mut policy: CompiledPolicy, enabled: &[&str]) -> CompiledPolicy {
    policy.policy.rules.disable = rule_ids()
        .into_iter()
        .filter(|id| !enabled.contains(id))
        .map(str::to_string)
        .collect();
    policy
}

/// Lint `dir` (with its own `.github/ship-policy.yml`, if any) against `settings`, with only
/// `enabled` rules on.
fn lint_with(dir: &Path, settings: EffectiveSettings, enabled: &[&str]) -> LintReport {
    let resolved = resolve_policy(dir, None).expect("the fixture policy loads");
    let mut opts = LintOptions::new(dir.to_path_buf(), enabling(resolved.policy, enabled));
    opts.policy_path = resolved.file.as_ref().map(|f| {
        f.strip_prefix(dir)
            .expect("the policy file is inside the repository")
            .to_string_lossy()
            .replace('\\', "/")
    });
    opts.policy_file = resolved.file;
    opts.settings = Some(settings);
    lint(&opts).unwrap_or_else(|e| panic!("linting {}: {e}", dir.display()))
}

fn lint_case(case: &str, enabled: &[&str]) -> LintReport {
    lint_with(&repo(), settings(case), enabled)
}

fn human(report: &LintReport) -> String {
    common::human(&report.findings, report.files)
}

fn of_rule<'a>(report: &'a LintReport, rule: &str) -> Vec<&'a Finding> {
    report.findings.iter().filter(|f| f.rule == rule).collect()
}

fn settings_findings(report: &LintReport) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| settings_rule_ids().contains(&f.rule.as_str()))
        .collect()
}

/// Without a policy file, settings findings point at the repository (`github:OWNER/REPO`,
/// line 0), except environment findings that point at the workflow naming the environment.
fn check_positions(case: &str, findings: &[Finding]) {
    for f in findings {
        assert!(!f.message.is_empty() && !f.help.is_empty(), "{case}: {f:?}");
        if f.path.starts_with(".github/workflows/") {
            assert!(f.line >= 1 && f.column >= 1, "{case}: unpositioned {f:?}");
        } else {
            assert_eq!(f.path, format!("github:{REPOSITORY}"), "{case}: {f:?}");
            assert_eq!((f.line, f.column), (0, 0), "{case}: {f:?}");
        }
    }
}

/// The `bad*` and `ok*` documents of a rule, sorted by name.
fn cases(rule: &str) -> (Vec<String>, Vec<String>) {
    let dir = fixtures().join(rule);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "no settings fixtures for `{rule}` at {}: {e}",
                dir.display()
            )
        })
        .map(|e| {
            e.expect("fixture entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let named = |prefix: &str| -> Vec<String> {
        names
            .iter()
            .filter(|n| n.starts_with(prefix))
            .map(|n| format!("{rule}/{n}"))
            .collect()
    };
    let (bad, ok) = (named("bad"), named("ok"));
    assert!(!bad.is_empty(), "`{rule}` has no bad*.json");
    assert!(!ok.is_empty(), "`{rule}` has no ok*.json");
    (bad, ok)
}

/// Lint every document of `rule` with only `rule` enabled; return the snapshot text.
fn run_rule(rule: &str) -> String {
    let (bad, ok) = cases(rule);
    let mut snapshot = String::new();
    for case in &bad {
        let report = lint_case(case, &[rule]);
        assert!(
            !of_rule(&report, rule).is_empty(),
            "{case}: expected at least one `{rule}` finding, got:\n{}",
            human(&report)
        );
        assert!(
            report.findings.iter().all(|f| f.rule == rule),
            "{case}: only `{rule}` is enabled:\n{}",
            human(&report)
        );
        check_positions(case, &report.findings);
        let text = human(&report);
        let root = fixtures().to_string_lossy().into_owned();
        assert!(!text.contains(&root), "{case}: absolute path in:\n{text}");
        snapshot.push_str(&format!("──── {case} ────\n{text}\n"));
    }
    for case in &ok {
        let report = lint_case(case, &[rule]);
        assert!(
            report.findings.is_empty(),
            "{case}: expected no `{rule}` finding, got:\n{}",
            human(&report)
        );
    }
    snapshot
}

/// Every settings rule against its documents. One test for all, so that the registry is the
/// list; every failing rule is named at the end (its panic is printed above).
#[test]
fn every_settings_rule_against_its_fixtures() {
    let only = std::env::var("SHIP_TEST_RULE").ok();
    let rules: Vec<&str> = settings_rule_ids()
        .into_iter()
        .filter(|id| only.as_deref().is_none_or(|o| o == *id))
        .collect();
    if only.is_some() && rules.is_empty() {
        return; // SHIP_TEST_RULE names a file rule: tests/rules.rs runs it.
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
        "the settings fixtures of {failed:?} failed (see above); SHIP_TEST_RULE=<rule-id> runs one"
    );
}

/// Every settings rule has a fixture folder, and every folder (but the shared `repo` and
/// `scenarios`) is a settings rule.
#[test]
fn every_settings_rule_has_fixtures() {
    let folders: BTreeSet<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "repo" && n != "scenarios")
        .collect();
    let rules: BTreeSet<String> = settings_rule_ids()
        .into_iter()
        .map(str::to_string)
        .collect();
    let missing: Vec<&String> = rules.difference(&folders).collect();
    let unknown: Vec<&String> = folders.difference(&rules).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "settings rules without tests/settings-fixtures/<rule-id>/bad*.json and ok*.json: \
         {missing:?}; fixture folders that are no settings rule: {unknown:?}"
    );
}

/// The shared repository is itself compliant: its workflows raise no finding at all.
#[test]
fn shared_repository_is_compliant() {
    let opts = LintOptions::new(repo(), CompiledPolicy::builtin());
    let report = lint(&opts).unwrap();
    assert_eq!(report.files, 4);
    assert!(report.findings.is_empty(), "{}", human(&report));
}

/// A fully compliant repository (rulesets only, no classic protection): every rule on, no
/// finding at all.
#[test]
fn compliant_repository_has_no_settings_finding() {
    let all = rule_ids();
    let report = lint_case("compliant.json", &all);
    assert_eq!(settings_findings(&report), Vec::<&Finding>::new());
    // The workflows are compliant too: nothing at all.
    assert!(report.findings.is_empty(), "{}", human(&report));
}

/// Every fixture is a well-formed settings document whose responses GitHub could have sent.
#[test]
fn fixtures_are_settings_documents() {
    let mut seen = 0;
    let mut stack = vec![fixtures()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("repo") {
                    stack.push(path);
                }
                continue;
            }
            let s = snapshot_at(&path);
            seen += 1;
            assert_eq!(s.format, 1, "{}", path.display());
            assert_eq!(s.repository, REPOSITORY, "{}", path.display());
            assert_eq!(s.branch, "main", "{}", path.display());
            // List endpoints: arrays, or `{total_count, <items>}` objects.
            for (resp, items) in [
                (&s.branch_rules, None),
                (&s.tag_rulesets, None),
                (&s.environments, Some("environments")),
            ] {
                if let Some(body) = resp.ok() {
                    let list = items.map_or(Some(body), |k| body.get(k));
                    assert!(
                        list.is_some_and(|l| l.is_array()),
                        "{}: {body}",
                        path.display()
                    );
                } else {
                    assert!(!resp.message().is_empty(), "{}", path.display());
                }
            }
            // Every rule names its ruleset, and that ruleset's detail is in the document.
            for rule in s
                .branch_rules
                .ok()
                .and_then(|b| b.as_array())
                .into_iter()
                .flatten()
            {
                let id = rule["ruleset_id"].to_string();
                assert!(
                    s.rulesets.contains_key(&id),
                    "{}: ruleset {id}",
                    path.display()
                );
                assert_eq!(rule["ruleset_source"], REPOSITORY);
            }
        }
    }
    assert!(seen >= 40, "only {seen} settings documents");
}

// ----- how classic protection and rulesets combine --------------------------------------

/// Classic protection only (no ruleset applies to `main`): everything it requires counts.
#[test]
fn classic_protection_only() {
    let s = settings("scenarios/classic-only.json");
    let p = s.protection.as_ref().expect("protection was read");
    assert!(p.classic && p.rulesets.is_empty() && !p.partial);
    assert_eq!(p.required_approvals, 1);
    assert_eq!(p.enforce_admins, Some(true));
    assert!(p.dismiss_stale_reviews && p.strict_checks);
    assert!(!p.force_push_allowed && !p.deletion_allowed);
    assert_eq!(p.required_checks.len(), 5);
    assert!(p
        .required_checks
        .iter()
        .all(|c| c.source == "classic protection" && c.app_id == Some(15368)));
    let report = lint_with(&repo(), s, &settings_rule_ids());
    assert!(report.findings.is_empty(), "{}", human(&report));
}

/// Rulesets only: classic protection answers 404 "Branch not protected".
#[test]
fn rulesets_only() {
    let s = settings("compliant.json");
    let p = s.protection.as_ref().expect("protection was read");
    assert!(!p.classic && !p.partial);
    assert_eq!(p.enforce_admins, None);
    assert_eq!(p.rulesets.len(), 1);
    assert_eq!(p.rulesets[0].name, "main protection");
    assert_eq!(p.rulesets[0].enforcement, "active");
    assert_eq!(p.rulesets[0].bypass_actors.as_deref(), Some(&[][..]));
    assert_eq!(p.rulesets[0].include, ["~DEFAULT_BRANCH"]);
    assert!(p
        .required_checks
        .iter()
        .all(|c| c.source == "ruleset \"main protection\""));
    assert!(s.access_problems.is_empty(), "{:?}", s.access_problems);
    let tags = s.tag_rulesets.as_ref().expect("tag rulesets were read");
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].include, ["refs/tags/v*"]);
    assert_eq!(tags[0].rule_types, ["creation", "update", "deletion"]);
}

/// Both, disagreeing: classic protection requires nothing (0 approvals, force pushes and
/// deletions allowed, admins exempt, not strict), the ruleset requires it all. GitHub
/// enforces both, so the stricter setting wins and nothing is reported.
#[test]
fn both_disagreeing_the_stricter_wins() {
    let s = settings("scenarios/both-stricter-wins.json");
    let p = s.protection.as_ref().unwrap();
    assert!(p.classic && p.rulesets.len() == 1);
    assert_eq!(p.required_approvals, 2);
    assert!(p.dismiss_stale_reviews && p.strict_checks);
    assert!(!p.force_push_allowed && !p.deletion_allowed);
    assert_eq!(p.enforce_admins, Some(false));
    // `build` comes from classic protection, the rest from the ruleset.
    let sources: Vec<(&str, &str)> = p
        .required_checks
        .iter()
        .map(|c| (c.context.as_str(), c.source.as_str()))
        .collect();
    assert_eq!(sources[0], ("build", "classic protection"));
    assert_eq!(sources.len(), 5, "{sources:?}");
    let report = lint_with(&repo(), s, &settings_rule_ids());
    assert!(report.findings.is_empty(), "{}", human(&report));
}

/// The same rule-by-rule: a weak classic setting is no finding when a ruleset is stricter.
#[test]
fn a_stricter_ruleset_silences_each_rule() {
    for (case, rule) in [
        (
            "required-reviews/ok-ruleset-stricter.json",
            "required-reviews",
        ),
        ("force-push/ok-ruleset-blocks.json", "force-push"),
        (
            "branch-deletion/ok-ruleset-restricts.json",
            "branch-deletion",
        ),
        ("admin-bypass/ok-ruleset-covers.json", "admin-bypass"),
        ("stale-reviews/ok-classic-stricter.json", "stale-reviews"),
        ("strict-checks/ok-classic-stricter.json", "strict-checks"),
    ] {
        let s = settings(case);
        let p = s.protection.as_ref().unwrap();
        assert!(p.classic && !p.rulesets.is_empty(), "{case}: both sources");
        let report = lint_with(&repo(), s, &[rule]);
        assert!(report.findings.is_empty(), "{case}:\n{}", human(&report));
    }
}

// ----- settings the token cannot read --------------------------------------------------

/// A 403 on classic protection: one settings-access finding naming `administration: read`;
/// the environment rule still runs and reports the unprotected production environment; and
/// nothing is claimed about what classic protection may require (only the ruleset was read,
/// and it lacks approvals and the force-push block).
#[test]
fn protection_403_reports_access_and_lints_the_rest() {
    let s = settings("scenarios/protection-403.json");
    assert!(s.protection.as_ref().is_some_and(|p| p.partial));
    let report = lint_with(&repo(), s, &rule_ids());
    let access = of_rule(&report, "settings-access");
    assert_eq!(access.len(), 1, "{}", human(&report));
    assert!(access[0].message.contains("branch protection of `main`"));
    assert!(access[0].message.contains("403"));
    assert!(access[0]
        .message
        .contains("Resource not accessible by integration"));
    assert!(
        access[0].help.contains("administration: read"),
        "{}",
        access[0].help
    );
    let env = of_rule(&report, "environment-protection");
    assert_eq!(env.len(), 1, "{}", human(&report));
    assert!(env[0].message.contains("0 required reviewer"), "{env:?}");
    let rules: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        ["environment-protection", "settings-access"].into(),
        "{}",
        human(&report)
    );
    insta::assert_snapshot!("protection-403", human(&report));
}

/// A 403 on the branch's rules with classic protection absent: no claim that `main` is
/// unprotected (a ruleset may protect it), only the access problem.
#[test]
fn rules_403_does_not_claim_the_branch_is_unprotected() {
    let report = lint_case("scenarios/rules-403.json", &rule_ids());
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["settings-access"], "{}", human(&report));
    assert!(report.findings[0].help.contains("metadata: read"));
    // Not the workflow GITHUB_TOKEN hint: metadata is readable with any token.
    assert!(!report.findings[0].help.contains("GITHUB_TOKEN"));
}

/// A tag ruleset whose detail cannot be read may protect the release tags: tag-protection
/// says nothing, settings-access names the ruleset.
#[test]
fn unreadable_tag_ruleset_is_not_judged() {
    let report = lint_case(
        "settings-access/bad-tag-ruleset-unreadable.json",
        &settings_rule_ids(),
    );
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["settings-access"], "{}", human(&report));
    assert!(report.findings[0]
        .message
        .contains("ruleset \"release tags\" (GET /repos/acme/orders-api/rulesets/43 404"));
}

/// Hidden bypass actors (a token that may not administer rulesets): admin-bypass cannot
/// tell, settings-access asks for `administration: read`.
#[test]
fn hidden_bypass_actors_are_an_access_problem() {
    let s = settings("settings-access/bad-bypass-hidden.json");
    assert_eq!(
        s.protection.as_ref().unwrap().rulesets[0].bypass_actors,
        None
    );
    let report = lint_with(&repo(), s, &settings_rule_ids());
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["settings-access"], "{}", human(&report));
    assert!(report.findings[0].help.contains("administration: read"));
}

// ----- where findings point -------------------------------------------------------------

/// Copy the shared repository with a `.github/ship-policy.yml`.
fn repo_with_policy(policy: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let workflows = tmp.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    for entry in std::fs::read_dir(repo().join(".github/workflows")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, workflows.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(tmp.path().join(".github/ship-policy.yml"), policy).unwrap();
    tmp
}

const POLICY: &str = "\
# Stricter than the built-in policy: two approvals, two production reviewers.
version: 1
protection:
  required-approvals: 2
  dismiss-stale-reviews: true
environments:
  production:
    required-reviewers: 2
";

/// With a policy file, a settings finding points at the line of the policy key that governs
/// the setting (or the deepest key present, else line 1), shown with its source line.
#[test]
fn findings_point_at_the_policy_file() {
    let tmp = repo_with_policy(POLICY);
    let report = lint_with(tmp.path(), settings("compliant.json"), &settings_rule_ids());
    let at: Vec<(&str, &str, u32, u32)> = report
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.path.as_str(), f.line, f.column))
        .collect();
    assert_eq!(
        at,
        [
            // `required-approvals:` on line 4, `required-reviewers:` on line 8.
            ("required-reviews", ".github/ship-policy.yml", 4, 3),
            ("environment-protection", ".github/ship-policy.yml", 8, 5),
        ],
        "{}",
        human(&report)
    );
    assert_eq!(
        report.findings[0].source_line.as_deref(),
        Some("  required-approvals: 2")
    );
    // A key the policy file does not set: its deepest ancestor present, else line 1.
    let report = lint_with(
        tmp.path(),
        settings("force-push/bad.json"),
        &["force-push", "tag-protection"],
    );
    assert_eq!(report.findings.len(), 1, "{}", human(&report));
    assert_eq!(
        (report.findings[0].path.as_str(), report.findings[0].line),
        (".github/ship-policy.yml", 1)
    );
    let report = lint_with(
        tmp.path(),
        settings("tag-protection/bad.json"),
        &["tag-protection"],
    );
    assert_eq!(
        (report.findings[0].path.as_str(), report.findings[0].line),
        (".github/ship-policy.yml", 1)
    );
    insta::assert_snapshot!("policy-file-positions", {
        let r = lint_with(tmp.path(), settings("compliant.json"), &settings_rule_ids());
        human(&r)
    });
}

/// Without a policy file, the same findings point at `github:OWNER/REPO`, line 0.
#[test]
fn findings_point_at_the_repository_without_a_policy_file() {
    for case in [
        "required-reviews/bad.json",
        "force-push/bad.json",
        "settings-access/bad.json",
    ] {
        let report = lint_case(case, &settings_rule_ids());
        assert!(!report.findings.is_empty(), "{case}");
        for f in &report.findings {
            assert_eq!(
                (f.path.as_str(), f.line, f.column),
                ("github:acme/orders-api", 0, 0),
                "{case}: {f:?}"
            );
            assert_eq!(f.source_line, None);
        }
    }
}

/// Settings access findings point at the repository even with a policy file: they are
/// about the token, not about the policy.
#[test]
fn access_findings_point_at_the_repository_even_with_a_policy_file() {
    let tmp = repo_with_policy(POLICY);
    let report = lint_with(
        tmp.path(),
        settings("settings-access/bad.json"),
        &["settings-access"],
    );
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].path, "github:acme/orders-api");
    assert_eq!(report.findings[0].line, 0);
}
