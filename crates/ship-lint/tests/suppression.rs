//! Inline `# ship: ignore[...]` comments apply to repository-wide findings too.

use ship_lint::{lint, LintOptions};
use ship_policy::CompiledPolicy;

fn repo(workflow: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(wf.join("ci.yml"), workflow).unwrap();
    dir
}

const CI_ON_PUSH_ONLY: &str = "name: ci\non: # IGNORE\n  push:\n    branches: [main]\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo build\n";

#[test]
fn repository_finding_is_suppressed_by_a_comment_on_its_line() {
    let plain = repo(&CI_ON_PUSH_ONLY.replace(" # IGNORE", ""));
    let report = lint(&LintOptions::new(
        plain.path().into(),
        CompiledPolicy::builtin(),
    ))
    .unwrap();
    assert!(report
        .findings
        .iter()
        .any(|f| f.rule == "ci-trigger" && f.line == 2));

    let ignored = repo(&CI_ON_PUSH_ONLY.replace(
        "IGNORE",
        "ship: ignore[ci-trigger] CI runs in another system",
    ));
    let report = lint(&LintOptions::new(
        ignored.path().into(),
        CompiledPolicy::builtin(),
    ))
    .unwrap();
    assert!(
        !report.findings.iter().any(|f| f.rule == "ci-trigger"),
        "{:#?}",
        report.findings
    );
    assert!(
        !report.findings.iter().any(|f| f.rule == "unused-ignore"),
        "{:#?}",
        report.findings
    );
}

#[test]
fn unused_ignore_is_still_noted() {
    let dir = repo(&CI_ON_PUSH_ONLY.replace("IGNORE", "ship: ignore[template-injection]"));
    let report = lint(&LintOptions::new(
        dir.path().into(),
        CompiledPolicy::builtin(),
    ))
    .unwrap();
    let note = report
        .findings
        .iter()
        .find(|f| f.rule == "unused-ignore")
        .expect("a note");
    assert_eq!(
        (note.line, note.path.as_str()),
        (2, ".github/workflows/ci.yml")
    );
    assert!(note
        .source_line
        .as_deref()
        .unwrap()
        .contains("ship: ignore[template-injection]"));
}
