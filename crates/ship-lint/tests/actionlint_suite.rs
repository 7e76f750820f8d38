//! actionlint's test data as a second suite for `workflow-syntax` (copied with its licence;
//! `tests/actionlint-testdata/SOURCES.md` says from where and what).
//!
//! - every `ok/*.yaml` must lint without a `workflow-syntax` finding;
//! - every `err/*.yaml` and `examples/*.yaml` is either checked or left out in
//!   `LEFT-OUT.md`, with the reason. In a checked file, every line actionlint's expected
//!   output (`<name>.out`, lines `test.yaml:LINE:COL: message [kind]`) reports must have a
//!   `workflow-syntax` finding on that line, unless `LEFT-OUT.md` lists that line.
//! - `LEFT-OUT.md` lists nothing that does not exist or that ship now reports: the list
//!   stays true.

mod common;

use ship_findings::Finding;
use ship_lint::{lint, rule_ids, LintOptions};
use ship_policy::CompiledPolicy;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/actionlint-testdata")
}

/// The `workflow-syntax` findings of one file, linted on its own.
fn syntax_findings(file: &Path) -> Vec<Finding> {
    let mut policy = CompiledPolicy::builtin();
    policy.policy.rules.disable = rule_ids()
        .into_iter()
        .filter(|id| *id != "workflow-syntax")
        .map(str::to_string)
        .collect();
    let mut opts = LintOptions::new(data(), policy);
    opts.workflows = vec![file.to_path_buf()];
    let report = lint(&opts).unwrap_or_else(|e| panic!("linting {}: {e}", file.display()));
    report.findings
}

/// `dir/*.yaml`, as `dir/name.yaml`, sorted.
fn yaml_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(data().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    files.sort();
    files
}

/// The lines actionlint reports in `file` (from `<file without .yaml>.out`). A line of the
/// expected output is `test.yaml:LINE:COL: …`, or a regex `/test\.yaml:LINE:COL: …/`; a regex
/// without a position gives no line.
fn expected_lines(file: &str) -> BTreeSet<u32> {
    let out = data().join(file.replace(".yaml", ".out"));
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    text.lines()
        .filter_map(|l| {
            let l = l.strip_prefix('/').unwrap_or(l);
            let rest = l
                .strip_prefix("test.yaml:")
                .or_else(|| l.strip_prefix("test\\.yaml:"))?;
            rest.split(':').next()?.parse().ok()
        })
        .collect()
}

/// `LEFT-OUT.md`: table rows whose first cell is `` `err/x.yaml` `` (the whole file) or
/// `` `err/x.yaml:12` `` (one expected line), with the reason in the next cell.
struct LeftOut {
    files: BTreeMap<String, String>,
    lines: BTreeMap<(String, u32), String>,
}

fn left_out() -> LeftOut {
    let text = std::fs::read_to_string(data().join("LEFT-OUT.md")).expect("LEFT-OUT.md");
    let mut files = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for row in text.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (Some(entry), Some(why)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let entry = entry.trim_matches('`');
        assert!(!why.is_empty(), "LEFT-OUT.md: `{entry}` has no reason");
        match entry.rsplit_once(':') {
            Some((file, line)) if line.chars().all(|c| c.is_ascii_digit()) => {
                let line: u32 = line.parse().expect("line number");
                assert!(
                    lines
                        .insert((file.to_string(), line), why.to_string())
                        .is_none(),
                    "LEFT-OUT.md lists `{entry}` twice"
                );
            }
            _ => {
                assert!(
                    files.insert(entry.to_string(), why.to_string()).is_none(),
                    "LEFT-OUT.md lists `{entry}` twice"
                );
            }
        }
    }
    LeftOut { files, lines }
}

#[test]
fn ok_files_have_no_workflow_syntax_finding() {
    let files = yaml_files("ok");
    assert!(
        files.len() >= 80,
        "actionlint's ok/ has {} files",
        files.len()
    );
    let mut failures = String::new();
    for file in &files {
        let findings = syntax_findings(&data().join(file));
        if !findings.is_empty() {
            failures.push_str(&format!(
                "──── {file} ────\n{}\n",
                common::human(&findings, 1)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "workflow-syntax findings on valid workflows:\n{failures}"
    );
}

#[test]
fn err_files_are_caught_or_left_out() {
    let left = left_out();
    let mut files = yaml_files("err");
    files.extend(yaml_files("examples"));
    for f in left.files.keys() {
        assert!(
            files.contains(f),
            "LEFT-OUT.md lists `{f}`, which is not in the test data"
        );
    }
    let mut failures = Vec::new();
    let (mut checked_files, mut checked_lines, mut left_lines) = (0, 0, 0);
    for file in &files {
        let expected = expected_lines(file);
        if left.files.contains_key(file) {
            for (f, line) in left.lines.keys() {
                assert!(
                    f != file,
                    "LEFT-OUT.md leaves out `{file}` and also its line {line}"
                );
            }
            continue;
        }
        checked_files += 1;
        let found: BTreeSet<u32> = syntax_findings(&data().join(file))
            .iter()
            .map(|f| f.line)
            .collect();
        for line in &expected {
            let key = (file.clone(), *line);
            match (left.lines.get(&key), found.contains(line)) {
                (None, true) => checked_lines += 1,
                (None, false) => failures.push(format!(
                    "{file}:{line}: actionlint reports this line; ship has no workflow-syntax finding there (catch it, or list `{file}:{line}` in LEFT-OUT.md with the reason)"
                )),
                (Some(_), false) => left_lines += 1,
                (Some(_), true) => failures.push(format!(
                    "{file}:{line}: listed in LEFT-OUT.md, but ship reports it now: remove it from the list"
                )),
            }
        }
    }
    for (file, line) in left.lines.keys() {
        assert!(
            files.contains(file) && expected_lines(file).contains(line),
            "LEFT-OUT.md lists `{file}:{line}`, which actionlint's expected output does not report"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Printed with --nocapture: the counts the report quotes.
    println!(
        "actionlint err/examples: {checked_files} files checked ({checked_lines} expected lines caught, {left_lines} lines left out), {} files left out",
        left.files.len()
    );
}
