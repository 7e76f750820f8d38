//! Real repositories are the test that counts: `ship deploys` and `ship lint` on the thirty
//! repositories of `tests/realworld/corpus`, compared with their hand-written ground truth
//! (`EXPECTED.yml`, schema in the corpus README).
//!
//! - `ship deploys` must agree with the labels on at least 95 % of the jobs (role and
//!   environment); every disagreement is listed, with its reason, in
//!   `tests/realworld/deploys-disagreements.md`, and nothing else is listed there.
//! - `ship lint` must report nothing at a `fine` place, find at least 90 % of the labelled
//!   violations (those a rule can report: `rule: none` labels are outside every rule), keep
//!   finding every violation listed in `tests/realworld/found.tsv`, and every finding that
//!   matches no label must be judged in `tests/realworld/judged.tsv` (`true`: a real
//!   violation the labels missed; `false`: a false alarm). Each rule with ten findings or
//!   more must be at least 95 % precise. `tests/realworld/fixed-false.tsv` lists false alarms
//!   ship used to raise there: one coming back fails the test.
//! - `tests/realworld/label-corrections.md` corrects labels that are wrong (each `apply:`
//!   line), with the reasons.
//!
//! `SHIP_UPDATE_REALWORLD=1` rewrites `found.tsv` and `judged.tsv` from the current results
//! (keeping verdicts already given; a new finding gets the verdict `?`, which fails until a
//! person judges it).

// The comparison report is for the person running the test, and holds no secrets.
#![allow(clippy::disallowed_macros)]

mod support;

use serde_json::Value;
use ship_workflow::yaml::{parse, Limits, Node};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use support::{run, ship};

fn realworld() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/realworld")
}

fn repos() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(realworld().join("corpus"))
        .expect("tests/realworld/corpus")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("EXPECTED.yml").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    out.sort();
    out
}

fn expected(repo: &str) -> Node {
    let path = realworld().join("corpus").join(repo).join("EXPECTED.yml");
    let text = std::fs::read_to_string(&path).expect("EXPECTED.yml");
    parse(&text, Limits::default())
        .expect("EXPECTED.yml parses")
        .expect("EXPECTED.yml is not empty")
}

fn s<'a>(n: &'a Node, key: &str) -> &'a str {
    n.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

fn num(n: &Node, key: &str) -> u32 {
    s(n, key).parse().unwrap_or(0)
}

/// A labelled place: `violations` or `fine` entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Label {
    repo: String,
    rule: String,
    path: String,
    line: u32,
    /// ci-stages entries: the stage (`all` on a fine entry: every stage).
    stage: Option<String>,
}

impl Label {
    /// `rule repo path line`, the rule of a ci-stages label with its stage (like
    /// [`Found::key`]).
    fn key(&self) -> String {
        let rule = match &self.stage {
            Some(stage) if self.rule == "ci-stages" => format!("ci-stages/{stage}"),
            _ => self.rule.clone(),
        };
        format!("{rule}\t{}\t{}\t{}", self.repo, self.path, self.line)
    }
}

/// One `apply:` line of label-corrections.md:
/// `` `REPO PATH:LINE RULE => line N` `` (move), `=> drop` (not a violation),
/// `=> fine-drop` (a `fine` entry that is wrong).
struct Correction {
    repo: String,
    path: String,
    line: u32,
    rule: String,
    action: String,
}

fn corrections() -> Vec<Correction> {
    let text =
        std::fs::read_to_string(realworld().join("label-corrections.md")).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix("- apply: `") else {
            continue;
        };
        let body = rest.trim_end_matches('`');
        let (left, action) = body
            .split_once("=>")
            .unwrap_or_else(|| panic!("label-corrections.md: `{line}` has no `=>`"));
        let parts: Vec<&str> = left.split_whitespace().collect();
        let [repo, place, rule] = parts[..] else {
            panic!("label-corrections.md: `{line}` is not `REPO PATH:LINE RULE => ACTION`")
        };
        let (path, l) = place.rsplit_once(':').expect("PATH:LINE");
        out.push(Correction {
            repo: repo.to_string(),
            path: path.to_string(),
            line: l.parse().expect("line number"),
            rule: rule.to_string(),
            action: action.trim().to_string(),
        });
    }
    out
}

/// The violations and fine places of every repository, corrected.
fn labels() -> (Vec<Label>, Vec<Label>) {
    let fixes = corrections();
    let mut violations = Vec::new();
    let mut fine = Vec::new();
    for repo in repos() {
        let root = expected(&repo);
        for (list, out) in [("violations", &mut violations), ("fine", &mut fine)] {
            for v in root.get(list).and_then(|l| l.as_seq()).unwrap_or_default() {
                let mut label = Label {
                    repo: repo.clone(),
                    rule: s(v, "rule").to_string(),
                    path: s(v, "path").to_string(),
                    line: num(v, "line"),
                    stage: v.get("stage").and_then(|s| s.as_str()).map(str::to_string),
                };
                let fix = fixes.iter().find(|c| {
                    c.repo == label.repo
                        && c.path == label.path
                        && c.line == label.line
                        && c.rule == label.rule
                });
                match fix.map(|c| c.action.as_str()) {
                    Some("drop") if list == "violations" => continue,
                    Some("fine-drop") if list == "fine" => continue,
                    Some(a) if a.starts_with("line ") => {
                        label.line = a[5..].trim().parse().expect("line N");
                    }
                    _ => {}
                }
                out.push(label);
            }
        }
    }
    (violations, fine)
}

/// The span of every step and job in a file, to match a label and a finding in one step.
fn blocks(repo: &str, path: &str) -> Vec<(u32, u32)> {
    let full = realworld().join("corpus").join(repo).join(path);
    let Ok(text) = std::fs::read_to_string(full) else {
        return Vec::new();
    };
    let Ok(Some(root)) = parse(&text, Limits::default()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut add_steps = |steps: Option<&Node>| {
        for step in steps.and_then(|s| s.as_seq()).unwrap_or_default() {
            out.push((step.span.start.line, step.span.end.line));
        }
    };
    if let Some(jobs) = root.get("jobs").and_then(|j| j.as_map()) {
        for job in jobs {
            add_steps(job.value.get("steps"));
        }
    }
    if let Some(runs) = root.get("runs") {
        add_steps(runs.get("steps"));
    }
    out
}

/// A finding describes a labelled place: same rule and file, and a line within three of it
/// or in the same step. The CI rules are about the repository as a whole (which workflow
/// they point at is a presentation choice): a `ci-trigger` finding describes the
/// repository's `ci-trigger` label, a `ci-stages` finding the label of its stage.
fn describes(label: &Label, f: &Found, steps: &[(u32, u32)]) -> bool {
    let (rule, path, line) = (f.rule.as_str(), f.path.as_str(), f.line);
    if label.rule != rule {
        return false;
    }
    match rule {
        // About the repository as a whole: the workflow pointed at is a presentation choice.
        "ci-trigger" | "rollback-path" => return true,
        "ci-stages" => {
            let stage = f.message.split('`').nth(1).unwrap_or_default().to_string();
            return label
                .stage
                .as_deref()
                .is_some_and(|s| s == "all" || s == stage);
        }
        _ => {}
    }
    if label.path != path {
        return false;
    }
    if label.line.abs_diff(line) <= 3 {
        return true;
    }
    steps
        .iter()
        .any(|(a, b)| (*a..=*b).contains(&label.line) && (*a..=*b).contains(&line))
}

#[derive(Debug, Clone)]
struct Found {
    repo: String,
    rule: String,
    path: String,
    line: u32,
    message: String,
}

impl Found {
    /// `rule repo path line`; a ci-stages finding's rule carries its stage
    /// (`ci-stages/coverage`): several stages are reported at one line.
    fn key(&self) -> String {
        let rule = if self.rule == "ci-stages" {
            format!(
                "ci-stages/{}",
                self.message.split('`').nth(1).unwrap_or_default()
            )
        } else {
            self.rule.clone()
        };
        format!("{rule}\t{}\t{}\t{}", self.repo, self.path, self.line)
    }
}

fn lint_all() -> Vec<Found> {
    let mut out = Vec::new();
    for repo in repos() {
        let dir = realworld().join("corpus").join(&repo);
        let r = run({
            let mut c = ship();
            c.args([
                "lint",
                "--format",
                "json",
                "--fail-on",
                "note",
                "--no-baseline",
            ])
            .arg(&dir);
            c
        });
        assert!(
            matches!(r.code, Some(0) | Some(1)),
            "ship lint {repo} exited {:?}: {}",
            r.code,
            r.stderr
        );
        let json: Value = r.json();
        for f in json["findings"].as_array().cloned().unwrap_or_default() {
            out.push(Found {
                repo: repo.clone(),
                rule: f["rule"].as_str().unwrap_or("").to_string(),
                path: f["path"].as_str().unwrap_or("").to_string(),
                line: f["line"].as_u64().unwrap_or(0) as u32,
                message: f["message"].as_str().unwrap_or("").to_string(),
            });
        }
    }
    out
}

/// `rule repo path line verdict reason` rows of a TSV file (after a header line).
fn read_tsv(name: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(realworld().join(name))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn ship_lint_on_real_repositories() {
    let (violations, fine) = labels();
    let findings = lint_all();
    let mut steps_cache: BTreeMap<(String, String), Vec<(u32, u32)>> = BTreeMap::new();
    let mut steps_of = |repo: &str, path: &str| -> Vec<(u32, u32)> {
        steps_cache
            .entry((repo.to_string(), path.to_string()))
            .or_insert_with(|| blocks(repo, path))
            .clone()
    };
    let mut problems: Vec<String> = Vec::new();

    // Nothing at a `fine` place.
    for f in &findings {
        let steps = steps_of(&f.repo, &f.path);
        for place in fine.iter().filter(|l| l.repo == f.repo) {
            if describes(place, f, &steps) {
                problems.push(format!(
                    "finding at a fine place: {} {}:{} [{}] {}",
                    f.repo, f.path, f.line, f.rule, f.message
                ));
            }
        }
    }

    // Which labels are found, and which findings match none.
    let mut found_labels: BTreeSet<String> = BTreeSet::new();
    let mut unmatched: Vec<&Found> = Vec::new();
    let mut matched_count: BTreeMap<String, usize> = BTreeMap::new();
    for f in &findings {
        let steps = steps_of(&f.repo, &f.path);
        let mut matched = false;
        for v in violations.iter().filter(|l| l.repo == f.repo) {
            if describes(v, f, &steps) {
                found_labels.insert(v.key());
                matched = true;
            }
        }
        if matched {
            *matched_count.entry(f.rule.clone()).or_default() += 1;
        } else {
            unmatched.push(f);
        }
    }
    let reportable: Vec<&Label> = violations.iter().filter(|v| v.rule != "none").collect();
    if std::env::var_os("SHIP_REALWORLD_VERBOSE").is_some() {
        for v in &violations {
            if v.rule != "none" && !found_labels.contains(&v.key()) {
                eprintln!("missed\t{}", v.key());
            }
        }
    }
    let found = reportable
        .iter()
        .filter(|v| found_labels.contains(&v.key()))
        .count();
    let recall = found as f64 / reportable.len().max(1) as f64;

    // Judgements of findings that match no label.
    let judged: BTreeMap<String, (String, String)> = read_tsv("judged.tsv")
        .into_iter()
        .filter(|r| r.len() >= 5)
        .map(|r| {
            (
                format!("{}\t{}\t{}\t{}", r[0], r[1], r[2], r[3]),
                (r[4].clone(), r.get(5).cloned().unwrap_or_default()),
            )
        })
        .collect();
    let fixed_false: BTreeSet<String> = read_tsv("fixed-false.tsv")
        .into_iter()
        .filter(|r| r.len() >= 4)
        .map(|r| format!("{}\t{}\t{}\t{}", r[0], r[1], r[2], r[3]))
        .collect();
    let mut per_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new(); // (true, all)
    for f in &findings {
        per_rule.entry(f.rule.clone()).or_default().1 += 1;
    }
    for (rule, n) in &matched_count {
        per_rule.entry(rule.clone()).or_default().0 += n;
    }
    let unmatched_keys: BTreeSet<String> = unmatched.iter().map(|f| f.key()).collect();
    for f in &unmatched {
        if fixed_false.contains(&f.key()) {
            problems.push(format!(
                "a false alarm fixed earlier is back (fixed-false.tsv): {} {}:{} [{}] {}",
                f.repo, f.path, f.line, f.rule, f.message
            ));
        }
        match judged.get(&f.key()).map(|(v, _)| v.as_str()) {
            Some("true") => per_rule.entry(f.rule.clone()).or_default().0 += 1,
            Some("false") => {}
            _ => problems.push(format!(
                "unjudged finding (judge it in tests/realworld/judged.tsv): {}\t{}\t{}\t{}\t{}",
                f.rule, f.repo, f.path, f.line, f.message
            )),
        }
    }
    for key in judged.keys() {
        if !unmatched_keys.contains(key) {
            problems.push(format!(
                "judged.tsv lists a finding ship no longer reports: {key}"
            ));
        }
    }
    // Found violations stay found.
    let was_found: BTreeSet<String> = read_tsv("found.tsv")
        .into_iter()
        .filter(|r| r.len() >= 4)
        .map(|r| format!("{}\t{}\t{}\t{}", r[0], r[1], r[2], r[3]))
        .collect();
    for key in &was_found {
        if !found_labels.contains(key) {
            problems.push(format!("a violation ship found before is lost: {key}"));
        }
    }

    let mut report = String::new();
    writeln!(
        report,
        "ship lint on {} repositories: {} findings",
        repos().len(),
        findings.len()
    )
    .ok();
    writeln!(
        report,
        "labelled violations found: {found} of {} ({:.1} %)",
        reportable.len(),
        recall * 100.0
    )
    .ok();
    writeln!(
        report,
        "{:<22} {:>8} {:>6} {:>9}",
        "rule", "findings", "true", "precision"
    )
    .ok();
    for (rule, (t, all)) in &per_rule {
        let precision = *t as f64 / (*all).max(1) as f64;
        writeln!(
            report,
            "{rule:<22} {all:>8} {t:>6} {:>8.1} %",
            precision * 100.0
        )
        .ok();
        if *all >= 10 && precision < 0.95 {
            problems.push(format!(
                "{rule}: precision {:.1} % is below 95 %",
                precision * 100.0
            ));
        }
    }
    if recall < 0.90 {
        problems.push(format!("recall {:.1} % is below 90 %", recall * 100.0));
    }
    eprintln!("{report}");

    if std::env::var_os("SHIP_UPDATE_REALWORLD").is_some() {
        let mut text = String::from("rule\trepo\tpath\tline\n");
        for key in &found_labels {
            text.push_str(key);
            text.push('\n');
        }
        std::fs::write(realworld().join("found.tsv"), text).expect("write found.tsv");
        let mut text = String::from("rule\trepo\tpath\tline\tverdict\treason\n");
        let mut rows: Vec<String> = unmatched
            .iter()
            .map(|f| {
                let (verdict, reason) = judged
                    .get(&f.key())
                    .cloned()
                    .unwrap_or_else(|| ("?".into(), format!("ship says: {}", f.message)));
                format!("{}\t{verdict}\t{reason}", f.key())
            })
            .collect();
        rows.sort();
        rows.dedup();
        for r in rows {
            text.push_str(&r);
            text.push('\n');
        }
        std::fs::write(realworld().join("judged.tsv"), text).expect("write judged.tsv");
        // ship 1.0.0's findings (the corpus's BASELINE.tsv) that describe no violation and
        // are gone now: false alarms fixed, which must not come back.
        let reported: BTreeSet<String> = findings.iter().map(|f| f.key()).collect();
        let baseline =
            std::fs::read_to_string(realworld().join("corpus/BASELINE.tsv")).unwrap_or_default();
        let mut rows = BTreeSet::new();
        for line in baseline.lines().skip(1) {
            let c: Vec<&str> = line.split('\t').collect();
            if c.len() < 5 {
                continue;
            }
            let repo = c[1].replace('/', "__");
            let f = Found {
                repo: repo.clone(),
                rule: c[0].to_string(),
                path: c[2].to_string(),
                line: c[3].parse().unwrap_or(0),
                message: c[4].to_string(),
            };
            let steps = steps_of(&f.repo, &f.path);
            let real = violations
                .iter()
                .filter(|l| l.repo == f.repo)
                .any(|l| describes(l, &f, &steps));
            if !real && !reported.contains(&f.key()) {
                rows.insert(format!("{}\t{}", f.key(), f.message.replace('\t', " ")));
            }
        }
        let mut text = String::from("rule\trepo\tpath\tline\tmessage (ship 1.0.0)\n");
        for r in rows {
            text.push_str(&r);
            text.push('\n');
        }
        std::fs::write(realworld().join("fixed-false.tsv"), text).expect("write fixed-false.tsv");
        eprintln!("wrote tests/realworld/found.tsv, judged.tsv and fixed-false.tsv");
    }
    assert!(problems.is_empty(), "{report}\n{}", problems.join("\n"));
}

/// `| repo | workflow | job | want | got | reason |` rows of deploys-disagreements.md.
fn listed_disagreements() -> BTreeMap<(String, String, String), (String, String)> {
    let text =
        std::fs::read_to_string(realworld().join("deploys-disagreements.md")).unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // ["", repo, workflow, job, want, got, reason, ""]
        if cells.len() < 8 || cells[1] == "repo" || cells[1].starts_with("---") {
            continue;
        }
        out.insert(
            (
                cells[1].to_string(),
                cells[2].trim_matches('`').to_string(),
                cells[3].trim_matches('`').to_string(),
            ),
            (cells[4].to_string(), cells[5].to_string()),
        );
    }
    out
}

#[test]
fn ship_deploys_on_real_repositories() {
    let listed = listed_disagreements();
    let mut total = 0usize;
    let mut agree = 0usize;
    let mut problems = Vec::new();
    let mut disagreements = BTreeSet::new();
    for repo in repos() {
        let dir = realworld().join("corpus").join(&repo);
        let r = run({
            let mut c = ship();
            c.args(["deploys", "--format", "json"]).arg(&dir);
            c
        });
        r.expect_code(0);
        let json = r.json();
        let got: BTreeMap<(String, String), (String, String)> = json["jobs"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|j| {
                (
                    (
                        j["workflow"].as_str().unwrap_or("").to_string(),
                        j["job"].as_str().unwrap_or("").to_string(),
                    ),
                    (
                        j["role"].as_str().unwrap_or("").to_string(),
                        j["environment"].as_str().unwrap_or("").to_string(),
                    ),
                )
            })
            .collect();
        let root = expected(&repo);
        for job in root
            .get("jobs")
            .and_then(|j| j.as_seq())
            .unwrap_or_default()
        {
            total += 1;
            let key = (s(job, "workflow").to_string(), s(job, "job").to_string());
            let want = format!("{}/{}", s(job, "role"), s(job, "environment"));
            let got = got
                .get(&key)
                .map(|(r, e)| format!("{r}/{e}"))
                .unwrap_or_else(|| "missing".to_string());
            if got == want {
                agree += 1;
                continue;
            }
            let id = (repo.clone(), key.0.clone(), key.1.clone());
            disagreements.insert(id.clone());
            match listed.get(&id) {
                Some((w, g)) if *w == want && *g == got => {}
                Some((w, g)) => problems.push(format!(
                    "{repo} {}:{}: want {want}, got {got}, but deploys-disagreements.md says want {w}, got {g}",
                    key.0, key.1
                )),
                None => problems.push(format!(
                    "{repo} {}:{}: want {want}, got {got} (not listed in deploys-disagreements.md)",
                    key.0, key.1
                )),
            }
        }
    }
    for id in listed.keys() {
        if !disagreements.contains(id) {
            problems.push(format!(
                "deploys-disagreements.md lists {} {}:{}, which now agrees: remove it",
                id.0, id.1, id.2
            ));
        }
    }
    let share = agree as f64 / total.max(1) as f64;
    let summary = format!(
        "ship deploys agrees with the labels on {agree} of {total} jobs ({:.1} %)",
        share * 100.0
    );
    eprintln!("{summary}");
    if share < 0.95 {
        problems.push(format!("{summary}: below 95 %"));
    }
    assert!(problems.is_empty(), "{summary}\n{}", problems.join("\n"));
}
