//! The baseline library (`ship_lint::baseline`): how findings are keyed, matched, counted and
//! judged stale, on real repositories linted by `ship_lint::lint`.

use ship_findings::{Finding, Severity};
use ship_lint::baseline::{self, Baseline, Scope};
use ship_lint::{lint, LintOptions};
use ship_policy::CompiledPolicy;
use std::path::Path;
use tempfile::TempDir;

const CI: &str = ".github/workflows/ci.yml";

/// Pull-request CI with only a build job (so `ci-stages` misses four stages, all reported at
/// `jobs:`), and two third-party actions on movable tags.
const WORKFLOW: &str = "\
name: CI
on:
  pull_request:
    branches: [main]
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: org/setup@v1
      - id: compile
        run: cargo build
      - uses: org/cache@v2
";

fn repo(workflow: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(dir.path().join(CI), workflow).unwrap();
    dir
}

fn findings_in(dir: &Path, policy: &CompiledPolicy) -> Vec<Finding> {
    let mut opts = LintOptions::new(dir.to_path_buf(), CompiledPolicy::builtin());
    opts.policy = policy.clone();
    lint(&opts).unwrap().findings
}

/// Lint `dir`, record its baseline, and return it (as written to and read back from the
/// default file, so entry lines are known).
fn record(dir: &Path, policy: &CompiledPolicy) -> Baseline {
    let findings = findings_in(dir, policy);
    let scope = Scope::repository(dir, policy);
    let recorded = Baseline::from_findings(&findings, &scope, baseline::DEFAULT_PATH);
    recorded.write(&dir.join(baseline::DEFAULT_PATH)).unwrap();
    baseline::resolve(dir, None).unwrap().unwrap().baseline
}

fn apply(dir: &Path, b: &Baseline, policy: &CompiledPolicy) -> baseline::Applied {
    b.apply(findings_in(dir, policy), &Scope::repository(dir, policy))
}

fn rules(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule.as_str()).collect()
}

fn builtin() -> CompiledPolicy {
    CompiledPolicy::builtin()
}

#[test]
fn unchanged_repository_is_fully_baselined() {
    let dir = repo(WORKFLOW);
    let policy = builtin();
    let all = findings_in(dir.path(), &policy);
    assert!(all.len() >= 6, "{all:#?}");
    let b = record(dir.path(), &policy);
    assert_eq!(b.findings_accepted(), all.len());
    let applied = apply(dir.path(), &b, &policy);
    assert!(applied.findings.is_empty(), "{:#?}", applied.findings);
    assert_eq!((applied.baselined, applied.stale), (all.len(), 0));
}

#[test]
fn keys_name_the_job_and_step_not_the_line() {
    let dir = repo(WORKFLOW);
    let b = record(dir.path(), &builtin());
    let unpinned: Vec<(Option<&str>, Option<&str>)> = b
        .entries
        .iter()
        .filter(|e| e.rule == "unpinned-action")
        .map(|e| (e.job.as_deref(), e.step.as_deref()))
        .collect();
    assert_eq!(
        unpinned,
        [
            (Some("build"), Some("uses: org/cache@v2")),
            (Some("build"), Some("uses: org/setup@v1")),
        ]
    );
    // The four missing stages share one key (`jobs:`) and differ by message.
    let stages: Vec<&baseline::Entry> =
        b.entries.iter().filter(|e| e.rule == "ci-stages").collect();
    assert_eq!(stages.len(), 4, "{:#?}", b.entries);
    assert!(stages
        .iter()
        .all(|e| e.fingerprint == stages[0].fingerprint && e.job.is_none()));
}

#[test]
fn moved_lines_reordered_steps_and_new_jobs_still_match() {
    let dir = repo(WORKFLOW);
    let policy = builtin();
    let b = record(dir.path(), &policy);
    let edited = "\
# Moved down by this comment,
# and this one.
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
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: org/cache@v2
      - uses: actions/checkout@v4
      - id: compile
        run: cargo build --release
      - uses: org/setup@v1
        with:
          version: 3
";
    std::fs::write(dir.path().join(CI), edited).unwrap();
    let applied = apply(dir.path(), &b, &policy);
    assert!(applied.findings.is_empty(), "{:#?}", applied.findings);
    assert_eq!(applied.baselined, b.findings_accepted());
}

#[test]
fn a_new_finding_is_the_only_one_left() {
    let dir = repo(WORKFLOW);
    let policy = builtin();
    let b = record(dir.path(), &policy);
    std::fs::write(
        dir.path().join(CI),
        WORKFLOW.replace(
            "      - uses: org/cache@v2\n",
            "      - uses: org/cache@v2\n      - uses: org/upload@v4\n",
        ),
    )
    .unwrap();
    let applied = apply(dir.path(), &b, &policy);
    assert_eq!(rules(&applied.findings), ["unpinned-action"]);
    assert!(applied.findings[0].message.contains("org/upload@v4"));
    assert_eq!(applied.findings[0].line, 16);
    // A step moved to another job is a different finding.
    let moved = WORKFLOW.replace("      - uses: org/setup@v1\n", "")
        + "  release:\n    runs-on: ubuntu-latest\n    permissions: {}\n    steps:\n      - uses: org/setup@v1\n";
    std::fs::write(dir.path().join(CI), moved).unwrap();
    let applied = apply(dir.path(), &b, &policy);
    let new: Vec<&Finding> = applied
        .findings
        .iter()
        .filter(|f| f.rule == "unpinned-action")
        .collect();
    assert_eq!(new.len(), 1, "{:#?}", applied.findings);
    assert_eq!(
        rules(&applied.findings),
        ["baseline-stale", "unpinned-action"]
    );
}

#[test]
fn a_fixed_finding_is_a_stale_note_at_its_entry() {
    let dir = repo(WORKFLOW);
    let policy = builtin();
    let b = record(dir.path(), &policy);
    std::fs::write(
        dir.path().join(CI),
        WORKFLOW.replace(
            "org/setup@v1",
            "org/setup@0123456789abcdef0123456789abcdef01234567 # v1",
        ),
    )
    .unwrap();
    let applied = apply(dir.path(), &b, &policy);
    assert_eq!(rules(&applied.findings), ["baseline-stale"]);
    assert_eq!(applied.stale, 1);
    let note = &applied.findings[0];
    assert_eq!(note.severity, Severity::Note);
    assert_eq!(note.path, baseline::DEFAULT_PATH);
    let text = std::fs::read_to_string(dir.path().join(baseline::DEFAULT_PATH)).unwrap();
    let line = text.lines().nth(note.line as usize - 1).unwrap();
    assert!(line.contains("\"step\": \"uses: org/setup@v1\""), "{line}");
    assert_eq!(note.source_line.as_deref(), Some(line));
    // The caret is under `"rule": "unpinned-action"`.
    let under: String = line
        .chars()
        .skip(note.column as usize - 1)
        .take((note.end_column - note.column) as usize)
        .collect();
    assert_eq!(under, "\"rule\": \"unpinned-action\"");
    assert!(
        note.message.starts_with("the baselined `unpinned-action` finding in .github/workflows/ci.yml (job `build`, step `uses: org/setup@v1`) no longer occurs: "),
        "{}",
        note.message
    );
}

#[test]
fn of_findings_with_one_key_the_note_names_the_one_that_went() {
    let dir = repo(WORKFLOW);
    let policy = builtin();
    let b = record(dir.path(), &policy);
    // A lint job satisfies the `lint` stage: one of four `ci-stages` findings at `jobs:` goes.
    let with_lint = format!(
        "{WORKFLOW}  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo clippy -- -D warnings\n"
    );
    std::fs::write(dir.path().join(CI), with_lint).unwrap();
    let applied = apply(dir.path(), &b, &policy);
    assert_eq!(
        rules(&applied.findings),
        ["baseline-stale"],
        "{:#?}",
        applied.findings
    );
    assert!(
        applied.findings[0].message.contains("CI stage `lint`"),
        "{}",
        applied.findings[0].message
    );
}

#[test]
fn reworded_messages_still_match() {
    let dir = repo(WORKFLOW);
    let policy = builtin();
    let mut b = record(dir.path(), &policy);
    // A newer ship words every message differently: positioned findings still match by key.
    let positioned: Vec<bool> = b.entries.iter().map(|e| e.job.is_some()).collect();
    for e in b.entries.iter_mut().filter(|e| e.job.is_some()) {
        e.message = format!("reworded: {}", e.message);
    }
    assert!(positioned.iter().any(|p| *p));
    let applied = apply(dir.path(), &b, &policy);
    assert!(applied.findings.is_empty(), "{:#?}", applied.findings);
}

#[test]
fn counts_accept_that_many_identical_findings() {
    let twice = WORKFLOW.replace(
        "      - uses: org/cache@v2\n",
        "      - uses: org/cache@v2\n      - uses: org/cache@v2\n",
    );
    let dir = repo(&twice);
    let policy = builtin();
    let b = record(dir.path(), &policy);
    let cache: Vec<&baseline::Entry> = b
        .entries
        .iter()
        .filter(|e| e.step.as_deref() == Some("uses: org/cache@v2"))
        .collect();
    assert_eq!(cache.len(), 1);
    assert_eq!(cache[0].count, 2);

    let thrice = twice.replace(
        "      - uses: org/cache@v2\n",
        "      - uses: org/cache@v2\n      - uses: org/cache@v2\n",
    );
    std::fs::write(dir.path().join(CI), &thrice).unwrap();
    // (the replacement doubled both: four steps now)
    let applied = apply(dir.path(), &b, &policy);
    assert_eq!(
        rules(&applied.findings),
        ["unpinned-action", "unpinned-action"]
    );
    // The ones beyond the count are reported: the last in the file.
    assert_eq!(applied.findings[0].line, 17);
    assert!(applied.findings[0]
        .help
        .contains("accepts 2 `unpinned-action` findings with this job, step and value"));

    std::fs::write(dir.path().join(CI), WORKFLOW).unwrap();
    let applied = apply(dir.path(), &b, &policy);
    assert_eq!(rules(&applied.findings), ["baseline-stale"]);
    assert!(applied.findings[0]
        .message
        .starts_with("1 of 2 baselined `unpinned-action` findings"));
}

#[test]
fn what_a_run_could_not_produce_is_not_stale() {
    let dir = repo(WORKFLOW);
    let policy = builtin();
    let b = record(dir.path(), &policy);
    let findings = findings_in(dir.path(), &policy);

    // Only one file linted (`--workflow DIR/.github/workflows/ci.yml`, named through the
    // directory): matches, judges nothing (the repository rules did not run).
    let mut opts = LintOptions::new(dir.path().to_path_buf(), builtin());
    opts.workflows = vec![dir.path().join(CI)];
    let partial = lint(&opts).unwrap().findings;
    assert!(partial.iter().all(|f| f.path.ends_with(CI) && f.path != CI));
    let scope = Scope {
        workflows_only: true,
        ..Scope::repository(dir.path(), &policy)
    };
    let applied = b.apply(partial, &scope);
    assert!(applied.findings.is_empty(), "{:#?}", applied.findings);
    assert_eq!((applied.baselined, applied.stale), (2, 0));

    // A rule the policy disables: its entries are not judged.
    let mut disabled = builtin();
    disabled.policy.rules.disable = vec!["ci-stages".into()];
    let applied = apply(dir.path(), &b, &disabled);
    assert!(applied.findings.is_empty(), "{:#?}", applied.findings);

    // `baseline-stale` disabled: entries are still counted stale, no note is shown.
    let mut quiet = builtin();
    quiet.policy.rules.disable = vec!["baseline-stale".into()];
    let fewer: Vec<Finding> = findings
        .iter()
        .filter(|f| f.rule != "unpinned-action")
        .cloned()
        .collect();
    let applied = b.apply(fewer.clone(), &Scope::repository(dir.path(), &quiet));
    assert!(applied.findings.is_empty(), "{:#?}", applied.findings);
    assert_eq!(applied.stale, 2);

    // Its severity follows the policy.
    let mut loud = builtin();
    loud.policy.rules.severity.insert(
        "baseline-stale".into(),
        serde_json::from_str("\"error\"").unwrap(),
    );
    let applied = b.apply(fewer, &Scope::repository(dir.path(), &loud));
    assert!(applied
        .findings
        .iter()
        .all(|f| f.rule == "baseline-stale" && f.severity == Severity::Error));
    assert_eq!(applied.findings.len(), 2);
}

fn settings_finding(path: &str, line: u32, message: &str) -> Finding {
    let mut f = Finding::at_path("required-reviews", Severity::Error, path, message, "help");
    f.line = line;
    f.column = line.min(1);
    f
}

#[test]
fn settings_findings_match_by_message_wherever_they_point() {
    let dir = repo(WORKFLOW);
    let policy = builtin();
    let with_settings = Scope {
        settings_checked: true,
        ..Scope::repository(dir.path(), &policy)
    };
    let message = "pull requests to `main` need 0 approvals; the policy requires 1";
    let b = Baseline::from_findings(
        &[settings_finding("github:acme/api", 0, message)],
        &with_settings,
        baseline::DEFAULT_PATH,
    );
    // With a policy file the same finding points at its line: still baselined.
    let applied = b.apply(
        vec![settings_finding(".github/ship-policy.yml", 3, message)],
        &with_settings,
    );
    assert!(applied.findings.is_empty(), "{:#?}", applied.findings);
    // Another value is another finding.
    let applied = b.apply(
        vec![settings_finding(
            "github:acme/api",
            0,
            "pull requests to `main` need 0 approvals; the policy requires 2",
        )],
        &with_settings,
    );
    assert_eq!(
        rules(&applied.findings),
        ["baseline-stale", "required-reviews"]
    );
    // Without settings checked, the entry is kept when the baseline is rewritten.
    let mut rewritten = Baseline::from_findings(
        &[],
        &Scope::repository(dir.path(), &policy),
        baseline::DEFAULT_PATH,
    );
    assert_eq!(
        rewritten.keep_unjudged(&b, &Scope::repository(dir.path(), &policy)),
        1
    );
    assert_eq!(rewritten.entries, b.entries);
    // With settings checked, nothing is kept: the run judged them.
    let mut rewritten = Baseline::from_findings(&[], &with_settings, baseline::DEFAULT_PATH);
    assert_eq!(rewritten.keep_unjudged(&b, &with_settings), 0);
}

#[test]
fn entries_of_unknown_rules_are_stale() {
    let dir = repo(WORKFLOW);
    let policy = builtin();
    let mut b = record(dir.path(), &policy);
    let mut gone = b.entries[0].clone();
    gone.rule = "no-longer-a-rule".into();
    b.entries.push(gone);
    let applied = apply(dir.path(), &b, &policy);
    assert_eq!(rules(&applied.findings), ["baseline-stale"]);
    assert!(applied.findings[0].message.contains("`no-longer-a-rule`"));
}

#[test]
fn the_file_never_holds_a_secret() {
    let password = "Tr0ub4dor-and-3";
    let token = format!("ghp_{}", "k9Xw".repeat(9));
    let workflow = format!(
        "name: deploy\non: workflow_dispatch\npermissions: {{}}\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n      DB_PASSWORD: {password}\n    steps:\n      - name: Call the API with {token}\n        run: echo hi\n      - run: |\n          curl -u admin:{password} https://api.example.com\n      - uses: org/login@0123456789abcdef0123456789abcdef01234567\n        with:\n          token: {token}\n"
    );
    let dir = repo(&workflow);
    let policy = builtin();
    let findings = findings_in(dir.path(), &policy);
    let secrets = findings
        .iter()
        .filter(|f| f.rule == "hardcoded-secret")
        .count();
    // The password (DB_PASSWORD, the curl URL) and the token (a step name, an input) are
    // one finding each: hardcoded-secret reports a repeated secret once.
    assert!(secrets >= 2, "{findings:#?}");
    let b = Baseline::from_findings(
        &findings,
        &Scope::repository(dir.path(), &policy),
        baseline::DEFAULT_PATH,
    );
    let text = b.to_json();
    for secret in [password, token.as_str(), "k9Xw", "Tr0ub4dor"] {
        assert!(!text.contains(secret), "`{secret}` is in the file:\n{text}");
    }
    // And the hashes still match the findings.
    let applied = b.apply(findings, &Scope::repository(dir.path(), &policy));
    assert!(applied.findings.is_empty(), "{:#?}", applied.findings);
}

#[test]
fn resolve_uses_the_default_file_only_when_present() {
    let dir = repo(WORKFLOW);
    assert!(baseline::resolve(dir.path(), None).unwrap().is_none());
    let err = baseline::resolve(dir.path(), Some(Path::new("missing.json"))).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read baseline file `missing.json`"),
        "{err}"
    );
    std::fs::write(dir.path().join(baseline::DEFAULT_PATH), "{").unwrap();
    let err = baseline::resolve(dir.path(), None).unwrap_err().to_string();
    assert!(
        err.contains("ship-baseline.json:1:1: not a ship baseline file"),
        "{err}"
    );
}
