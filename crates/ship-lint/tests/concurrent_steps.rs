//! GitHub's concurrent steps (`parallel:` groups, `background: true`, `wait:`, `wait-all:`,
//! `cancel:`): valid for `workflow-syntax`, and the steps inside a group are linted by every
//! other rule like the job's own steps.

use ship_lint::{lint, LintOptions};
use ship_policy::CompiledPolicy;

const WORKFLOW: &str = r#"name: CI
on: pull_request
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: db
        run: ./start-db
        background: true
      - parallel:
          - uses: some-org/lint-action@v1
          - run: echo "${{ github.head_ref }}"
      - wait: db
      - wait-all:
      - cancel: db
"#;

#[test]
fn steps_in_parallel_groups_are_linted_by_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(wf.join("ci.yml"), WORKFLOW).unwrap();
    let report = lint(&LintOptions::new(
        dir.path().to_path_buf(),
        CompiledPolicy::builtin(),
    ))
    .unwrap();
    let at = |rule: &str| -> Vec<u32> {
        report
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.line)
            .collect()
    };
    assert_eq!(
        at("workflow-syntax"),
        Vec::<u32>::new(),
        "{:#?}",
        report.findings
    );
    // The unpinned third-party action and the injected head ref, both inside the group.
    assert_eq!(at("unpinned-action"), vec![14], "{:#?}", report.findings);
    assert_eq!(at("template-injection"), vec![15], "{:#?}", report.findings);
}
