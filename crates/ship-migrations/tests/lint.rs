//! Fixture tests for every lint rule, in the style of `ship lint`'s.
//!
//! `tests/fixtures/<rule-id>/` holds `bad*.sql` files that must trigger the rule and `ok*.sql`
//! files that must not produce any error or warning: `ok_allowed*.sql` carry
//! `-- ship:allow <rule> <reason>` (the finding becomes a note that prints the reason) and
//! `ok_safe*.sql` show the compliant form. The human rendering of each rule's fixtures is
//! snapshotted.

use ship_findings::{render, Finding, Format, RenderOptions, Severity, Summary};
use ship_migrations::lint::{lint_files, rules, Dialect};
use ship_migrations::source::SqlFile;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read(rule: &str, file: &Path) -> SqlFile {
    let name = file.file_name().unwrap().to_string_lossy();
    SqlFile::read(file, format!("fixtures/{rule}/{name}")).expect("read fixture")
}

fn human(findings: &[Finding], files: usize) -> String {
    rendered(findings, files, Format::Human)
}

fn rendered(findings: &[Finding], files: usize, format: Format) -> String {
    let infos = rules::rule_infos();
    let opts = RenderOptions {
        format,
        color: false,
        tool_name: "ship-run-migrations",
        tool_version: "test",
        information_uri: "https://github.com/org/ship",
        rules: &infos,
    };
    let mut out = Vec::new();
    render(&mut out, findings, &Summary::new(files, findings), &opts).unwrap();
    String::from_utf8(out).unwrap()
}

fn cases(rule: &str) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let dir = fixtures().join(rule);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no fixtures for `{rule}` at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let named = |prefix: &str| -> Vec<PathBuf> {
        files
            .iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .cloned()
            .collect()
    };
    let (bad, ok) = (named("bad"), named("ok"));
    assert!(!bad.is_empty(), "`{rule}` has no bad*.sql fixture");
    assert!(!ok.is_empty(), "`{rule}` has no ok*.sql fixture");
    (bad, ok)
}

fn check_rule(rule: &str) {
    let mut snapshot = String::new();
    let (bad, ok) = cases(rule);
    for path in &bad {
        let file = read(rule, path);
        let report = lint_files(&[&file], Dialect::Postgres);
        let hits: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule == rule && f.severity > Severity::Note)
            .collect();
        assert!(
            !hits.is_empty(),
            "{}: expected a `{rule}` finding, got:\n{}",
            path.display(),
            human(&report.findings, 1)
        );
        for f in &report.findings {
            assert!(f.line >= 1 && f.column >= 1, "{f:?}");
            assert!((f.end_line, f.end_column) >= (f.line, f.column), "{f:?}");
            assert!(f.severity == Severity::Note || !f.help.is_empty(), "{f:?}");
        }
        snapshot.push_str(&format!("=== {} ===\n", file.display));
        snapshot.push_str(&human(&report.findings, 1));
    }
    for path in &ok {
        let file = read(rule, path);
        let report = lint_files(&[&file], Dialect::Postgres);
        let loud: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.severity > Severity::Note)
            .collect();
        assert!(
            loud.is_empty(),
            "{}: expected no errors or warnings, got:\n{}",
            path.display(),
            human(&report.findings, 1)
        );
        let allowed = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("ok_allowed");
        if allowed {
            let note = report
                .findings
                .iter()
                .find(|f| f.rule == rule && f.severity == Severity::Note)
                .unwrap_or_else(|| {
                    panic!(
                        "{}: the allowed `{rule}` is reported as a note",
                        path.display()
                    )
                });
            assert!(
                note.message.contains("(reason: "),
                "the reason is printed: {note:?}"
            );
        }
        snapshot.push_str(&format!("=== {} ===\n", file.display));
        snapshot.push_str(&human(&report.findings, 1));
    }
    insta::assert_snapshot!(rule.to_string(), snapshot);
}

macro_rules! rule_tests {
    ($($name:ident => $id:literal),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check_rule($id);
            }
        )*

        /// Every rule in the registry has a fixture test above, and vice versa.
        #[test]
        fn every_rule_has_fixtures() {
            let tested = [$($id),*];
            for info in rules::rule_infos() {
                assert!(tested.contains(&info.id), "rule `{}` has no fixture test", info.id);
                assert!(fixtures().join(info.id).is_dir(), "rule `{}` has no fixtures", info.id);
            }
            assert_eq!(tested.len(), rules::registry().len());
        }
    };
}

rule_tests! {
    drop_table => "drop-table",
    drop_column => "drop-column",
    rename_table => "rename-table",
    rename_column => "rename-column",
    alter_column_type => "alter-column-type",
    add_not_null_column_without_default => "add-not-null-column-without-default",
    set_not_null => "set-not-null",
    create_index_without_concurrently => "create-index-without-concurrently",
    add_foreign_key_without_not_valid => "add-foreign-key-without-not-valid",
    add_unique_constraint => "add-unique-constraint",
    truncate => "truncate",
    concurrently_in_transaction => "concurrently-in-transaction",
    transaction_control => "transaction-control",
    unparseable_statement => "unparseable-statement",
    invalid_annotation => "invalid-annotation",
    unused_allow => "unused-allow",
}

/// The eleven rules the release policy names are all there, as errors.
#[test]
fn backward_compatibility_rules_are_errors() {
    for id in [
        "drop-table",
        "drop-column",
        "rename-table",
        "rename-column",
        "alter-column-type",
        "add-not-null-column-without-default",
        "set-not-null",
        "create-index-without-concurrently",
        "add-foreign-key-without-not-valid",
        "add-unique-constraint",
        "truncate",
    ] {
        let rule = rules::rule_by_id(id).unwrap_or_else(|| panic!("missing rule {id}"));
        assert_eq!(rule.info().default_severity, Severity::Error, "{id}");
        let docs = rule.info().documentation();
        for section in [
            "## What it reports",
            "## Why",
            "## How to fix",
            "## Example",
        ] {
            assert!(docs.contains(section), "{id} docs lack `{section}`");
        }
    }
}

fn lint_text(text: &str, dialect: Dialect) -> Vec<Finding> {
    let file = SqlFile::from_text("x.sql".into(), "x.sql".into(), text.into());
    lint_files(&[&file], dialect).findings
}

#[test]
fn sqlite_dialect_skips_postgres_locking_rules() {
    let text = "CREATE INDEX i ON t (x);\nALTER TABLE t DROP COLUMN y;\n";
    let pg: Vec<String> = lint_text(text, Dialect::Postgres)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(pg, vec!["create-index-without-concurrently", "drop-column"]);
    let lite: Vec<String> = lint_text(text, Dialect::Sqlite)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(lite, vec!["drop-column"]);
}

#[test]
fn unparseable_statement_is_a_warning_and_the_rest_is_still_checked() {
    let f = lint_text("SELECT FROM WHERE (;\nDROP TABLE t;\n", Dialect::Postgres);
    let rules: Vec<(&str, Severity)> = f.iter().map(|f| (f.rule.as_str(), f.severity)).collect();
    assert_eq!(
        rules,
        vec![
            ("unparseable-statement", Severity::Warning),
            ("drop-table", Severity::Error)
        ]
    );
}

#[test]
fn crlf_files_report_the_same_positions() {
    let lf = "SELECT 1;\n\nALTER TABLE t\n  DROP COLUMN c;\n";
    let a = lint_text(lf, Dialect::Postgres);
    let b = lint_text(&lf.replace('\n', "\r\n"), Dialect::Postgres);
    assert_eq!(a.len(), 1);
    assert_eq!((a[0].line, a[0].column), (4, 3));
    assert_eq!(
        (b[0].line, b[0].column, b[0].end_column),
        (a[0].line, a[0].column, a[0].end_column)
    );
}

#[test]
fn every_format_renders() {
    let file = SqlFile::read(
        &fixtures().join("drop-column/bad.sql"),
        "db/migrations/0007_drop.sql".into(),
    )
    .unwrap();
    let report = lint_files(&[&file], Dialect::Postgres);
    for format in [Format::Json, Format::Sarif, Format::Github] {
        let text = rendered(&report.findings, 1, format);
        match format {
            Format::Github => assert!(
                text.starts_with("::error file=db/migrations/0007_drop.sql,line=1,"),
                "{text}"
            ),
            _ => {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert!(v.is_object());
            }
        }
    }
}

/// docs/migrations.md documents every rule (its reference section is generated from
/// `lint --explain`; regenerate it when a rule is added).
#[test]
fn docs_list_every_rule() {
    let docs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/migrations.md"),
    )
    .expect("docs/migrations.md");
    for info in rules::rule_infos() {
        let heading = format!("### `{}` ({})", info.id, info.default_severity);
        assert!(
            docs.contains(&heading),
            "docs/migrations.md lacks `{heading}`"
        );
        assert!(
            docs.contains(info.summary),
            "docs/migrations.md has an outdated summary for `{}`",
            info.id
        );
    }
}
