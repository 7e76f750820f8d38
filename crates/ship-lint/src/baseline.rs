//! The baseline: the findings a repository had when it adopted ship, so that CI fails only on
//! new ones (`ship lint --write-baseline FILE`, then `ship lint [--baseline FILE]`).
//!
//! A finding is matched by a key that survives lines moving and unrelated edits: its rule,
//! its file, the id of the job it is in, the step it is in (the step's `id`, else its `name`,
//! else its `uses`, else the first line of its `run`, else its position in the job) and a
//! fingerprint of the offending text (the finding's span on its first line). The fingerprint
//! is a hash, never the text, so a baseline can hold a finding about a secret without holding
//! the secret. Two findings with the same key are one entry with a `count`.
//!
//! Findings that have no place in a file (line 0) are keyed by their message instead of the
//! offending text, and so are findings of settings rules (`--github`/`--settings`): they are
//! about the repository's settings, not about the file they point at, which changes when a
//! policy file is added, so their path is not part of the key either.
//!
//! Each entry also keeps the finding's message, for people reading the file and to tell
//! apart findings with the same key (the stages `ci-stages` misses all point at `jobs:`).
//! Matching first pairs findings with entries of the same key and message, then what is left
//! by key alone, so a reworded message in a newer ship does not turn a baselined finding
//! into a new one.
//!
//! Entries no finding matched become `baseline-stale` notes pointing at their line in the
//! baseline file. An entry is judged only when this run could have produced its finding:
//! the whole repository was linted (not `--workflow`), its rule is enabled, and for a settings
//! rule the settings were checked.
//!
//! ```no_run
//! use ship_lint::baseline::{self, Scope};
//! use ship_lint::{lint, LintOptions};
//! use ship_policy::CompiledPolicy;
//! let opts = LintOptions::new(".".into(), CompiledPolicy::builtin());
//! let report = lint(&opts).unwrap();
//! let scope = Scope::repository(&opts.dir, &opts.policy);
//! if let Some(baseline) = baseline::resolve(&opts.dir, None).unwrap() {
//!     let applied = baseline.apply(report.findings, &scope);
//!     println!("{} new, {} baselined", applied.findings.len(), applied.baselined);
//! }
//! ```

use crate::repo_files::{explicit_or_in_repository, RepoRoot};
use crate::rules::{baseline_stale::BaselineStale, hardcoded_secret::HardcodedSecret};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ship_findings::{sort_findings, Finding, RuleInfo, Severity};
use ship_policy::CompiledPolicy;
use ship_workflow::yaml::{self, Limits};
use ship_workflow::{Node, Pos, Source};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Where `ship lint DIR` looks for a baseline when `--baseline` is not given.
pub const DEFAULT_PATH: &str = ".github/ship-baseline.json";

/// A baseline is one line per accepted finding: 64 MiB is far beyond any real one, and
/// bounds what a hostile file can make ship read.
const MAX_BASELINE_SIZE: u64 = 64 << 20;

/// The file format version this ship reads and writes.
pub const VERSION: u32 = 1;

/// Written into every baseline file for whoever opens it.
const ABOUT: &str = "ship lint baseline: findings accepted when the repository adopted ship. \
`ship lint` fails only on findings not listed here; delete entries as they are fixed, or \
rewrite the file with `ship lint --write-baseline FILE`.";

/// Hex digits of SHA-256 kept in a fingerprint: 64 bits, ample to tell apart the findings of
/// one step, short enough to read.
const FINGERPRINT_HEX: usize = 16;

/// Step labels are cut here so that a long `run:` line does not make the file unreadable.
const MAX_LABEL_CHARS: usize = 100;

/// One accepted finding (or `count` identical ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub rule: String,
    /// As findings name it: relative to the linted directory, or `github:OWNER/REPO`.
    pub path: String,
    /// The id of the job the finding is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The step the finding is in: `id: …`, `name: …`, `uses: …`, `run: …` or `#N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Hash of the offending text (or of the message, for findings without one).
    pub fingerprint: String,
    /// How many findings with this key and message are accepted.
    #[serde(default = "one")]
    pub count: u32,
    /// The finding's message when it was recorded, for people reading the file.
    #[serde(default)]
    pub message: String,
}

fn one() -> u32 {
    1
}

impl Entry {
    /// Everything but the count: entries equal in this are one entry.
    fn identity(&self) -> (&str, &str, &Option<String>, &Option<String>, &str, &str) {
        (
            &self.path,
            &self.rule,
            &self.job,
            &self.step,
            &self.fingerprint,
            &self.message,
        )
    }
}

/// The file as stored.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    version: u32,
    #[serde(default)]
    about: Option<String>,
    findings: Vec<Entry>,
}

/// A baseline that cannot be used or written (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error(
        "cannot read baseline file `{path}`: {reason}; create it with \
         `ship lint --write-baseline {path}`, or lint without a baseline with --no-baseline"
    )]
    Unreadable { path: String, reason: String },
    #[error(
        "{path}:{line}:{column}: not a ship baseline file: {reason}; rewrite it with \
         `ship lint --write-baseline {path}`, or lint without a baseline with --no-baseline"
    )]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error(
        "{path}: baseline format version {found}, but this ship reads version {VERSION}; \
         rewrite it with `ship lint --write-baseline {path}`, or use the ship release that \
         wrote it"
    )]
    Version { path: String, found: String },
    #[error(
        "cannot write baseline file `{path}`: {reason}; check that its directory exists and \
         is writable"
    )]
    Unwritable { path: String, reason: String },
}

/// What a lint run covered, which decides how its findings are keyed and which baseline
/// entries it can judge.
pub struct Scope<'a> {
    /// The linted directory: finding paths are relative to it.
    pub dir: &'a Path,
    pub policy: &'a CompiledPolicy,
    /// Only the files given with `--workflow` were linted: their findings name them as given
    /// (relative to the working directory), and repository rules did not run.
    pub workflows_only: bool,
    /// Repository settings were checked (`--github` or `--settings`).
    pub settings_checked: bool,
}

impl<'a> Scope<'a> {
    /// A run over the whole repository at `dir`, without settings.
    pub fn repository(dir: &'a Path, policy: &'a CompiledPolicy) -> Self {
        Scope {
            dir,
            policy,
            workflows_only: false,
            settings_checked: false,
        }
    }

    fn enabled(&self, rule: &str) -> bool {
        !self.policy.policy.rules.disable.iter().any(|d| d == rule)
    }

    /// Could this run have produced the finding `entry` records?
    fn judges(&self, entry: &Entry) -> bool {
        if self.workflows_only || !self.enabled(&entry.rule) {
            return false;
        }
        // A rule this ship does not know can never match: its entries are judged stale.
        !reads_settings(&entry.rule) || self.settings_checked
    }
}

fn reads_settings(rule: &str) -> bool {
    crate::rules::rule_by_id(rule).is_some_and(|r| r.reads_settings())
}

/// The outcome of [`Baseline::apply`].
#[derive(Debug)]
pub struct Applied {
    /// The findings the baseline does not accept, and a `baseline-stale` note per entry no
    /// finding matched; sorted.
    pub findings: Vec<Finding>,
    /// How many findings the baseline accepted (not shown, not counted for the exit code).
    pub baselined: usize,
    /// How many entries matched no finding (whether or not `baseline-stale` is enabled).
    pub stale: usize,
}

/// Where an entry is in the file it was read from: its `"rule": "…"` field.
#[derive(Debug, Clone)]
struct EntryLine {
    line: u32,
    column: u32,
    end_column: u32,
    text: String,
}

/// The accepted findings, and where they were read from.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Sorted by path, rule, job, step, fingerprint, message when built from findings; in
    /// file order when read.
    pub entries: Vec<Entry>,
    /// The file as findings name it (`baseline-stale` notes point there).
    shown: String,
    /// Each entry's line in that file, when read from one, by index: entries appended or
    /// edited in place keep the others' lines right; removing or reordering entries of a
    /// baseline read from a file does not (nothing in ship does).
    lines: Vec<Option<EntryLine>>,
}

/// A baseline read from a file.
#[derive(Debug, Clone)]
pub struct LoadedBaseline {
    pub baseline: Baseline,
    /// The file read, as given or found.
    pub file: PathBuf,
}

impl std::ops::Deref for LoadedBaseline {
    type Target = Baseline;
    fn deref(&self) -> &Baseline {
        &self.baseline
    }
}

/// The baseline for linting `dir`: `explicit` (`--baseline FILE`, which must exist), else
/// `DIR/.github/ship-baseline.json` when present, else none.
pub fn resolve(
    dir: &Path,
    explicit: Option<&Path>,
) -> Result<Option<LoadedBaseline>, BaselineError> {
    // The repository's own baseline is the pull request's file: read only when it is a
    // regular file inside DIR (a symlink to a FIFO or `/dev/zero` is an error, not a hang).
    let Some((file, files)) = explicit_or_in_repository(dir, explicit, DEFAULT_PATH) else {
        return Ok(None);
    };
    let shown = shown_path(dir, &file);
    let text = files
        .read_to_string(&file, MAX_BASELINE_SIZE)
        .map_err(|refusal| BaselineError::Unreadable {
            path: display(&file),
            reason: refusal.to_string(),
        })?;
    let baseline = Baseline::parse(&display(&file), &shown, &text)?;
    Ok(Some(LoadedBaseline { baseline, file }))
}

/// `file` as findings name it: relative to `dir` when inside it.
fn shown_path(dir: &Path, file: &Path) -> String {
    match file.strip_prefix(dir) {
        Ok(rel) if !rel.as_os_str().is_empty() => display(rel),
        _ => display(file),
    }
}

fn display(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

impl Baseline {
    /// An empty baseline whose notes would point at `shown`.
    pub fn empty(shown: &str) -> Self {
        Baseline {
            entries: Vec::new(),
            shown: shown.to_string(),
            lines: Vec::new(),
        }
    }

    /// Read a baseline file's text. `path` names the file in errors, `shown` in
    /// `baseline-stale` notes.
    pub fn parse(path: &str, shown: &str, text: &str) -> Result<Self, BaselineError> {
        let invalid = |e: serde_json::Error| BaselineError::Invalid {
            path: path.to_string(),
            line: e.line(),
            column: e.column(),
            reason: {
                let what = e.to_string();
                let what = what.split(" at line ").next().unwrap_or("").to_string();
                if e.is_syntax() || e.is_eof() {
                    format!("invalid JSON ({what})")
                } else {
                    what
                }
            },
        };
        // The version first: a file from a newer ship should say so, not fail on a field.
        let value: serde_json::Value = serde_json::from_str(text).map_err(invalid)?;
        match value.get("version") {
            Some(v) if v.as_u64() == Some(VERSION.into()) => {}
            Some(v) => {
                return Err(BaselineError::Version {
                    path: path.to_string(),
                    found: v.to_string(),
                })
            }
            None => {
                return Err(BaselineError::Invalid {
                    path: path.to_string(),
                    line: 1,
                    column: 1,
                    reason: format!(
                        "no `version` field (expected a JSON object like \
                         {{\"version\": {VERSION}, \"findings\": [...]}})"
                    ),
                })
            }
        }
        let doc: Document = serde_json::from_str(text).map_err(invalid)?;
        let lines = entry_lines(text, doc.findings.len());
        for (entry, at) in doc.findings.iter().zip(&lines) {
            if entry.count == 0 {
                return Err(BaselineError::Invalid {
                    path: path.to_string(),
                    line: at.as_ref().map_or(1, |l| l.line as usize),
                    column: at.as_ref().map_or(1, |l| l.column as usize),
                    reason: format!(
                        "the entry for `{}` in {} has `count: 0` (at least 1; delete the \
                         entry instead)",
                        entry.rule, entry.path
                    ),
                });
            }
        }
        Ok(Baseline {
            entries: doc.findings,
            shown: shown.to_string(),
            lines,
        })
    }

    /// The baseline that accepts exactly `findings` (what `--write-baseline` records), with
    /// notes pointing at `shown`. `baseline-stale` notes are never recorded.
    pub fn from_findings(findings: &[Finding], scope: &Scope<'_>, shown: &str) -> Self {
        let recorded: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.rule != BaselineStale::INFO.id)
            .collect();
        let keys = keys(&recorded, scope);
        let entries = recorded
            .iter()
            .zip(keys)
            .map(|(f, k)| Entry {
                rule: f.rule.clone(),
                path: k.entry_path,
                job: k.key.job,
                step: k.key.step,
                fingerprint: k.key.fingerprint,
                count: 1,
                message: f.message.clone(),
            })
            .collect();
        Baseline {
            entries: normalized(entries),
            shown: shown.to_string(),
            lines: Vec::new(),
        }
    }

    /// This baseline plus the entries of `previous` that `scope` cannot judge (settings rules
    /// when the settings were not checked), so that rewriting the file without
    /// `--github`/`--settings` keeps what only those runs can check. Returns how many were
    /// kept.
    pub fn keep_unjudged(&mut self, previous: &Baseline, scope: &Scope<'_>) -> usize {
        let kept: Vec<Entry> = previous
            .entries
            .iter()
            .filter(|e| {
                scope.enabled(&e.rule) && reads_settings(&e.rule) && !scope.settings_checked
            })
            .cloned()
            .collect();
        let n = kept.iter().map(|e| e.count as usize).sum();
        self.entries.extend(kept);
        self.entries = normalized(std::mem::take(&mut self.entries));
        n
    }

    /// How many findings the entries accept.
    pub fn findings_accepted(&self) -> usize {
        self.entries.iter().map(|e| e.count as usize).sum()
    }

    /// The file's text: one entry per line so that a diff shows one line per finding added
    /// or fixed.
    pub fn to_json(&self) -> String {
        let mut out = format!(
            "{{\n  \"version\": {VERSION},\n  \"about\": {},\n  \"findings\": [",
            serde_json::Value::from(ABOUT)
        );
        let entries = normalized(self.entries.clone());
        for (i, e) in entries.iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            out.push_str(&entry_json(e));
        }
        out.push_str(if entries.is_empty() {
            "]\n}\n"
        } else {
            "\n  ]\n}\n"
        });
        out
    }

    /// Write [`Self::to_json`] to `path`.
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        std::fs::write(path, self.to_json()).map_err(|e| BaselineError::Unwritable {
            path: display(path),
            reason: e.to_string(),
        })
    }

    /// Drop the findings this baseline accepts and add a `baseline-stale` note for each entry
    /// that matched none (when `scope` could have produced its finding).
    pub fn apply(&self, findings: Vec<Finding>, scope: &Scope<'_>) -> Applied {
        let refs: Vec<&Finding> = findings.iter().collect();
        let keys = keys(&refs, scope);

        let mut remaining: Vec<u32> = self.entries.iter().map(|e| e.count).collect();
        let mut buckets: HashMap<Key, Vec<usize>> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            buckets.entry(Key::of_entry(e)).or_default().push(i);
        }
        let mut accepted = vec![false; findings.len()];
        // First the entries with the finding's own message, so that of several findings with
        // one key the stale note names the one that went; then any entry of the key, so that
        // a reworded message still matches.
        for same_message in [true, false] {
            for (i, k) in keys.iter().enumerate() {
                if accepted[i] {
                    continue;
                }
                let Some(bucket) = buckets.get(&k.key) else {
                    continue;
                };
                let entry = bucket.iter().copied().find(|&e| {
                    remaining[e] > 0
                        && (!same_message || self.entries[e].message == findings[i].message)
                });
                if let Some(e) = entry {
                    remaining[e] -= 1;
                    accepted[i] = true;
                }
            }
        }

        let baselined = accepted.iter().filter(|a| **a).count();
        let mut out: Vec<Finding> = Vec::with_capacity(findings.len() - baselined);
        for ((mut f, k), accepted) in findings.into_iter().zip(&keys).zip(&accepted) {
            if *accepted {
                continue;
            }
            // More findings with this key than the baseline accepts: say so, since the
            // finding looks like one the baseline holds.
            if let Some(bucket) = buckets.get(&k.key) {
                let n: u32 = bucket.iter().map(|&e| self.entries[e].count).sum();
                let more = format!(
                    "{} accepts {n} `{}` finding{} with this job, step and value; this one is \
                     beyond them",
                    self.shown,
                    f.rule,
                    if n == 1 { "" } else { "s" }
                );
                f.help = if f.help.is_empty() {
                    more
                } else {
                    format!("{} ({more})", f.help)
                };
            }
            out.push(f);
        }

        let mut stale = 0;
        let stale_enabled = scope.enabled(BaselineStale::INFO.id);
        let severity = severity_for(&BaselineStale::INFO, scope.policy);
        for (i, entry) in self.entries.iter().enumerate() {
            if remaining[i] == 0 || !scope.judges(entry) {
                continue;
            }
            stale += 1;
            if stale_enabled {
                let at = self.lines.get(i).cloned().flatten();
                out.push(self.stale_note(entry, remaining[i], at, severity));
            }
        }
        sort_findings(&mut out);
        Applied {
            findings: out,
            baselined,
            stale,
        }
    }

    fn stale_note(
        &self,
        entry: &Entry,
        gone: u32,
        at: Option<EntryLine>,
        severity: Severity,
    ) -> Finding {
        let mut place = Vec::new();
        if let Some(job) = &entry.job {
            place.push(format!("job `{job}`"));
        }
        if let Some(step) = &entry.step {
            place.push(format!("step `{step}`"));
        }
        let place = if place.is_empty() {
            String::new()
        } else {
            format!(" ({})", place.join(", "))
        };
        let what = if gone == entry.count && gone == 1 {
            format!("the baselined `{}` finding", entry.rule)
        } else if gone == entry.count {
            format!("the {gone} baselined `{}` findings", entry.rule)
        } else {
            format!(
                "{gone} of {} baselined `{}` findings",
                entry.count, entry.rule
            )
        };
        let verb = if gone == 1 { "occurs" } else { "occur" };
        let message = format!(
            "{what} in {}{place} no longer {verb}: {}",
            entry.path, entry.message
        );
        let help = format!(
            "it was fixed, or its job, step or value changed: delete the entry (or lower its \
             `count`), or rewrite the baseline with `ship lint --write-baseline {}`",
            self.shown
        );
        let mut f = Finding::at_path(BaselineStale::INFO.id, severity, &self.shown, message, help);
        if let Some(at) = at {
            f.line = at.line;
            f.column = at.column;
            f.end_line = at.line;
            f.end_column = at.end_column;
            f.source_line = Some(truncate(at.text));
        }
        f
    }
}

/// Sorted, with identical entries merged into one with the sum of their counts.
fn normalized(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.sort_by(|a, b| a.identity().cmp(&b.identity()));
    let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
    for e in entries {
        match out.last_mut() {
            Some(last) if last.identity() == e.identity() => last.count += e.count,
            _ => out.push(e),
        }
    }
    out
}

/// One entry as one line of JSON, its fields in a fixed order (the key first, the message
/// last).
fn entry_json(e: &Entry) -> String {
    let s = |v: &str| serde_json::Value::from(v).to_string();
    let mut fields = vec![
        format!("\"rule\": {}", s(&e.rule)),
        format!("\"path\": {}", s(&e.path)),
    ];
    if let Some(job) = &e.job {
        fields.push(format!("\"job\": {}", s(job)));
    }
    if let Some(step) = &e.step {
        fields.push(format!("\"step\": {}", s(step)));
    }
    fields.push(format!("\"fingerprint\": {}", s(&e.fingerprint)));
    fields.push(format!("\"count\": {}", e.count));
    fields.push(format!("\"message\": {}", s(&e.message)));
    format!("{{{}}}", fields.join(", "))
}

/// Where each of the first `n` entries is: its `"rule"` key and value. Only entries have
/// that key, and inside a JSON string its quotes would be escaped, so the i-th occurrence is
/// the i-th entry however the file is formatted.
fn entry_lines(text: &str, n: usize) -> Vec<Option<EntryLine>> {
    const KEY: &str = "\"rule\"";
    let mut found = Vec::with_capacity(n);
    for (idx, line) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(at) = line[from..].find(KEY).map(|i| from + i) {
            from = at + KEY.len();
            let Some(value) = line[from..].trim_start().strip_prefix(':') else {
                continue;
            };
            let value = value.trim_start();
            // The end of the rule id's string (ids hold no escapes), else of the key.
            let end = match value.strip_prefix('"').and_then(|v| v.find('"')) {
                Some(close) => line.len() - value.len() + close + 2,
                None => from,
            };
            let column = |byte: usize| line[..byte].chars().count() as u32 + 1;
            found.push(Some(EntryLine {
                line: idx as u32 + 1,
                column: column(at),
                end_column: column(end),
                text: line.to_string(),
            }));
        }
    }
    found.resize(n, None);
    found.truncate(n);
    found
}

fn severity_for(info: &RuleInfo, policy: &CompiledPolicy) -> Severity {
    policy
        .policy
        .rules
        .severity
        .get(info.id)
        .map(|s| (*s).into())
        .unwrap_or(info.default_severity)
}

fn truncate(line: String) -> String {
    const MAX: usize = 400;
    if line.chars().count() <= MAX {
        line
    } else {
        let mut s: String = line.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

// ----- keys ---------------------------------------------------------------------------------

/// What identifies a finding across edits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    rule: String,
    /// `None` for settings rules, whose findings move between files.
    path: Option<String>,
    job: Option<String>,
    step: Option<String>,
    fingerprint: String,
}

impl Key {
    fn of_entry(e: &Entry) -> Key {
        Key {
            rule: e.rule.clone(),
            path: (!reads_settings(&e.rule)).then(|| e.path.clone()),
            job: e.job.clone(),
            step: e.step.clone(),
            fingerprint: e.fingerprint.clone(),
        }
    }
}

struct Keyed {
    key: Key,
    /// The path an entry for this finding records.
    entry_path: String,
}

fn fingerprint(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..FINGERPRINT_HEX].to_string()
}

/// A file some findings point into, read again to find their jobs, steps and text.
struct FileView {
    text: String,
    root: Option<Node>,
}

impl FileView {
    fn read(files: &RepoRoot, path: &Path, max_size: u64) -> Option<FileView> {
        // A file above the limit (or outside the repository) was reported, not parsed; it is
        // not read here either.
        let text = files.read_to_string(path, max_size).ok()?;
        let root = yaml::parse(&text, Limits::default()).ok().flatten();
        Some(FileView { text, root })
    }
}

/// The key of each finding, reading each file that positioned findings point into once.
fn keys(findings: &[&Finding], scope: &Scope<'_>) -> Vec<Keyed> {
    let mut by_path: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        by_path.entry(f.path.as_str()).or_default().push(i);
    }
    let mut out: Vec<Option<Keyed>> = (0..findings.len()).map(|_| None).collect();
    for (path, indices) in by_path {
        let entry_path = if scope.workflows_only {
            // `--workflow DIR/.github/workflows/x.yml` names the file as the directory run
            // does, so entries written by that run still match.
            shown_path(scope.dir, Path::new(path))
        } else {
            path.to_string()
        };
        let in_file = |f: &Finding| f.line > 0 && !reads_settings(&f.rule);
        let view = if indices.iter().any(|&i| in_file(findings[i])) {
            let (fs_path, files) = if scope.workflows_only {
                (PathBuf::from(path), RepoRoot::unbounded(scope.dir))
            } else {
                (scope.dir.join(path), RepoRoot::new(scope.dir))
            };
            FileView::read(&files, &fs_path, scope.policy.max_file_size)
        } else {
            None
        };
        let source = view.as_ref().map(|v| Source::new(&v.text));

        // The offending text of every finding here; the secrets among it are kept out of
        // step labels too.
        let texts: Vec<Option<String>> = indices
            .iter()
            .map(|&i| {
                let f = findings[i];
                let line = source.as_ref()?.line(f.line).filter(|_| in_file(f))?;
                Some(span_text(line, f))
            })
            .collect();
        let secrets: Vec<Secret> = indices
            .iter()
            .zip(&texts)
            .filter_map(|(&i, text)| {
                let f = findings[i];
                let text = text.as_ref()?;
                let raw = source.as_ref()?.line(f.line)?;
                is_secret(f, raw).then(|| Secret {
                    pos: Pos {
                        line: f.line,
                        column: f.column,
                    },
                    text: text.clone(),
                })
            })
            .collect();

        for (&i, text) in indices.iter().zip(texts) {
            let f = findings[i];
            let (job, step) = match (&view, text.is_some()) {
                (
                    Some(FileView {
                        root: Some(root), ..
                    }),
                    true,
                ) => locate(
                    root,
                    Pos {
                        line: f.line,
                        column: f.column,
                    },
                    &secrets,
                ),
                _ => (None, None),
            };
            let key = Key {
                rule: f.rule.clone(),
                path: (!reads_settings(&f.rule)).then(|| entry_path.clone()),
                job,
                step,
                // Salted with the rule (and the file, for text), so that a short secret's
                // hash cannot be looked up in a table made for every repository.
                fingerprint: match &text {
                    Some(text) => fingerprint(&format!("{}\0{entry_path}\0{text}", f.rule)),
                    None => fingerprint(&format!("{}\0{}", f.rule, f.message)),
                },
            };
            out[i] = Some(Keyed {
                key,
                entry_path: entry_path.clone(),
            });
        }
    }
    out.into_iter().flatten().collect()
}

/// The finding's span on its first line, trimmed: the offending text.
fn span_text(line: &str, f: &Finding) -> String {
    let start = f.column.saturating_sub(1) as usize;
    let end = if f.end_line == f.line && f.end_column > f.column {
        f.end_column as usize - 1
    } else {
        usize::MAX
    };
    let text: String = line
        .chars()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    text.trim().to_string()
}

/// A secret's place and text, kept out of everything the baseline writes.
struct Secret {
    pos: Pos,
    text: String,
}

/// Whether the finding is about a secret: `hardcoded-secret`, or any finding whose shown
/// source line was masked where the raw line is not.
fn is_secret(f: &Finding, raw_line: &str) -> bool {
    if f.rule == HardcodedSecret::INFO.id {
        return true;
    }
    let Some(shown) = &f.source_line else {
        return false;
    };
    let start = f.column.saturating_sub(1) as usize;
    let len = if f.end_line == f.line && f.end_column > f.column {
        (f.end_column - f.column) as usize
    } else {
        usize::MAX
    };
    let masked: String = shown.chars().skip(start).take(len).collect();
    let raw: String = raw_line.chars().skip(start).take(len).collect();
    !masked.is_empty() && masked.chars().all(|c| c == '*') && masked != raw
}

fn within(start: Pos, end: Pos, pos: Pos) -> bool {
    start <= pos && (pos < end || start == pos)
}

/// The id of the job at `pos` and the label of its step there. A composite action
/// (`runs.steps`, no `jobs:`) has steps but no job.
fn locate(root: &Node, pos: Pos, secrets: &[Secret]) -> (Option<String>, Option<String>) {
    let step_at = |steps: Option<&Node>| {
        steps
            .and_then(Node::as_seq)
            .and_then(|steps| {
                steps
                    .iter()
                    .enumerate()
                    .find(|(_, s)| within(s.span.start, s.span.end, pos))
            })
            .map(|(index, step)| step_label(step, index, secrets))
    };
    let Some(jobs) = root.get("jobs").and_then(Node::as_map) else {
        return (None, step_at(root.get("runs").and_then(|r| r.get("steps"))));
    };
    let Some(job) = jobs.iter().find(|j| {
        let end = j.value.span.end.max(j.key.span.end);
        within(j.key.span.start, end, pos)
    }) else {
        return (None, None);
    };
    let id = job.key.as_str().map(str::to_string);
    (id, step_at(job.value.get("steps")))
}

/// The step's `id`, else its `name`, else its `uses`, else the first line of its `run`, else
/// `#N` (1-based). A field that holds a secret is skipped, and secret text is masked.
fn step_label(step: &Node, index: usize, secrets: &[Secret]) -> String {
    for key in ["id", "name", "uses", "run"] {
        let Some(node) = step.get(key) else { continue };
        if secrets
            .iter()
            .any(|s| within(node.span.start, node.span.end, s.pos))
        {
            continue;
        }
        let Some(first) = node
            .as_str()
            .and_then(|t| t.lines().map(str::trim).find(|l| !l.is_empty()))
        else {
            continue;
        };
        let mut label = first.to_string();
        for s in secrets {
            let bare = s.text.trim_matches(|c| c == '"' || c == '\'');
            for text in [s.text.as_str(), bare] {
                if !text.is_empty() {
                    label = label.replace(text, "****");
                }
            }
        }
        if label.chars().count() > MAX_LABEL_CHARS {
            label = label.chars().take(MAX_LABEL_CHARS).collect::<String>() + "…";
        }
        return format!("{key}: {label}");
    }
    format!("#{}", index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rule: &str, fp: &str, count: u32) -> Entry {
        Entry {
            rule: rule.into(),
            path: ".github/workflows/ci.yml".into(),
            job: Some("build".into()),
            step: None,
            fingerprint: fp.into(),
            count,
            message: "m".into(),
        }
    }

    #[test]
    fn identical_entries_merge_and_sort() {
        let merged = normalized(vec![
            entry("b", "1", 1),
            entry("a", "2", 1),
            entry("b", "1", 2),
        ]);
        assert_eq!(merged, vec![entry("a", "2", 1), entry("b", "1", 3)]);
    }

    #[test]
    fn the_file_round_trips_with_one_entry_per_line() {
        let mut b = Baseline::empty(DEFAULT_PATH);
        b.entries = vec![entry("unpinned-action", "00ff", 2)];
        let text = b.to_json();
        assert!(
            text.contains("\n    {\"rule\": \"unpinned-action\", \"path\": \".github/workflows/ci.yml\", \"job\": \"build\", \"fingerprint\": \"00ff\", \"count\": 2, \"message\": \"m\"}\n"),
            "{text}"
        );
        let read = Baseline::parse("b.json", "b.json", &text).unwrap();
        assert_eq!(read.entries, b.entries);
        let at = read.lines[0].as_ref().unwrap();
        // `"rule": "unpinned-action"` on line 5.
        assert_eq!((at.line, at.column, at.end_column), (5, 6, 31));
        let empty = Baseline::empty(DEFAULT_PATH).to_json();
        assert!(empty.ends_with("\"findings\": []\n}\n"), "{empty}");
        assert!(Baseline::parse("b.json", "b.json", &empty)
            .unwrap()
            .entries
            .is_empty());
    }

    #[test]
    fn entry_lines_survive_reformatting() {
        let text = "{\"version\": 1, \"findings\": [\n  {\n    \"rule\": \"a\", \"path\": \"p\", \"fingerprint\": \"f\", \"message\": \"say \\\"rule\\\": x\"\n  },\n  {\"rule\" : \"b\", \"path\": \"p\", \"fingerprint\": \"f\"}\n]}";
        let b = Baseline::parse("b.json", "b.json", text).unwrap();
        let lines: Vec<u32> = b.lines.iter().map(|l| l.as_ref().unwrap().line).collect();
        assert_eq!(lines, [3, 5]);
        assert_eq!(b.entries[1].count, 1);
    }

    #[test]
    fn bad_files_name_the_file_and_the_fix() {
        let cases = [
            ("not json", "b.json:1:2: not a ship baseline file: invalid JSON"),
            ("{\"findings\": []}", "no `version` field"),
            ("{\"version\": 2, \"findings\": []}", "version 2, but this ship reads version 1"),
            (
                "{\"version\": 1, \"findings\": [{\"rule\": \"x\"}]}",
                "missing field `path`",
            ),
            (
                "{\"version\": 1, \"findings\": [{\"rule\": \"x\", \"path\": \"p\", \"fingerprint\": \"f\", \"count\": 0}]}",
                "`count: 0`",
            ),
        ];
        for (text, expected) in cases {
            let e = Baseline::parse("b.json", "b.json", text)
                .unwrap_err()
                .to_string();
            assert!(e.contains(expected), "{text}: {e}");
            assert!(e.contains("b.json"), "{e}");
            assert!(e.contains("--write-baseline b.json"), "{e}");
        }
    }

    #[test]
    fn step_labels_fall_back_in_order() {
        let root = yaml::parse(
            "jobs:\n  j:\n    steps:\n      - id: a\n        name: A\n      - name: B\n        uses: x/y@v1\n      - uses: x/y@v1\n        run: z\n      - run: |\n\n          first\n          second\n      - shell: bash\n",
            Limits::default(),
        )
        .unwrap()
        .unwrap();
        let steps = root
            .get("jobs")
            .unwrap()
            .get("j")
            .unwrap()
            .get("steps")
            .unwrap();
        let labels: Vec<String> = steps
            .as_seq()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, s)| step_label(s, i, &[]))
            .collect();
        assert_eq!(
            labels,
            ["id: a", "name: B", "uses: x/y@v1", "run: first", "#5"]
        );
    }

    #[test]
    fn composite_action_steps_have_labels_but_no_job() {
        let root = yaml::parse(
            "name: setup\nruns:\n  using: composite\n  steps:\n    - uses: org/setup@v1\n    - run: make\n      shell: bash\n",
            Limits::default(),
        )
        .unwrap()
        .unwrap();
        let at = |line| locate(&root, Pos { line, column: 7 }, &[]);
        assert_eq!(at(5), (None, Some("uses: org/setup@v1".to_string())));
        assert_eq!(at(7), (None, Some("run: make".to_string())));
        assert_eq!(at(1), (None, None));
    }

    #[test]
    fn a_field_holding_a_secret_is_no_label() {
        let root = yaml::parse(
            "jobs:\n  j:\n    steps:\n      - run: curl -u admin:hunter2 x\n",
            Limits::default(),
        )
        .unwrap()
        .unwrap();
        let secret = Secret {
            pos: Pos {
                line: 4,
                column: 25,
            },
            text: "hunter2".into(),
        };
        let (job, step) = locate(
            &root,
            Pos {
                line: 4,
                column: 25,
            },
            &[secret],
        );
        assert_eq!(job.as_deref(), Some("j"));
        assert_eq!(step.as_deref(), Some("#1"));
    }
}
