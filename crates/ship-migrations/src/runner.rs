//! The commands: `up`, `plan`, `status`, `verify`, `down`, and `--command` mode.
//!
//! Every command that changes the database runs under the run lock (see [`crate::db`]) and
//! reads the history table only after taking it, so two runners never apply the same
//! migration. Each migration runs in its own transaction together with its history row, so a
//! failure leaves the database exactly as it was before that migration: there is no "dirty"
//! state, and the next run continues from the failed migration.

use crate::db::{Actor, AppliedRow, Backend, DatabaseUrl, Db, DbError, TableName};
use crate::error::Error;
use crate::lint::{self, Dialect, LintReport};
use crate::source::{self, Migration, SqlFile};
use serde::Serialize;
use ship_findings::{Severity, Summary};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Everything the commands share.
#[derive(Debug, Clone)]
pub struct Options {
    pub url: DatabaseUrl,
    pub dir: PathBuf,
    pub table: TableName,
    pub lock_timeout: Duration,
    /// PostgreSQL: how long one statement may wait for a table lock (`lock_timeout`); zero
    /// waits without limit. [`DEFAULT_TABLE_LOCK_TIMEOUT`] unless the user says otherwise.
    pub table_lock_timeout: Duration,
    /// Accept applied migrations whose file changed (and record the new checksum on `up`).
    pub allow_changed: bool,
    /// Lint pending migrations before applying them.
    pub lint: bool,
    /// Apply up to and including this version.
    pub target: Option<i64>,
    /// `--command` mode, when the runner is interrupted: how long the command's processes get
    /// to exit after the signal is passed on to them, before they are killed.
    pub command_grace: Duration,
}

/// The default of [`Options::table_lock_timeout`]: long enough for a migration to queue
/// behind ordinary short transactions, short enough that the queries queued behind it do not
/// time out.
pub const DEFAULT_TABLE_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// The default of [`Options::command_grace`]: GitHub's runner sends SIGINT on cancel and
/// SIGTERM 7.5 s later, so 5 s leaves time to kill the command and release the lock before.
pub const DEFAULT_COMMAND_GRACE: Duration = Duration::from_secs(5);

/// Where progress lines go (the binary prints them to stderr).
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);

/// What one file or history row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Applied, and the file is unchanged.
    Applied,
    /// Not applied yet.
    Pending,
    /// Applied, but the file changed since.
    Changed,
    /// Applied, but there is no file (the code is older than the database, or it was deleted).
    Missing,
}

/// One line of `status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusEntry {
    pub version: i64,
    pub name: String,
    pub state: State,
    pub file: Option<String>,
    pub transaction: bool,
    pub reversible: bool,
    pub applied_at: Option<String>,
    pub applied_by: Option<String>,
    pub git_sha: Option<String>,
    pub run_id: Option<String>,
    pub execution_ms: Option<i64>,
    /// For `changed`: what the history table recorded, and what the file hashes to now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_checksum: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_checksum: Option<String>,
}

/// Files compared with the history table.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub entries: Vec<StatusEntry>,
    /// Indexes (into the migrations) of pending migrations, in order.
    pub pending: Vec<usize>,
    /// Highest applied version.
    pub version: Option<i64>,
}

impl Comparison {
    pub fn compare(migrations: &[Migration], history: &[AppliedRow]) -> Comparison {
        let mut entries = Vec::new();
        let mut pending = Vec::new();
        let by_version: std::collections::HashMap<i64, &AppliedRow> =
            history.iter().map(|r| (r.version, r)).collect();
        for (i, m) in migrations.iter().enumerate() {
            let row = by_version.get(&m.version);
            let file_checksum = m.up.checksum();
            let state = match row {
                None => State::Pending,
                Some(r) if r.checksum == file_checksum => State::Applied,
                Some(_) => State::Changed,
            };
            if state == State::Pending {
                pending.push(i);
            }
            entries.push(StatusEntry {
                version: m.version,
                name: m.name.clone(),
                state,
                file: Some(m.up.display.clone()),
                transaction: !m.up.no_transaction,
                reversible: m.down.is_some(),
                applied_at: row.map(|r| r.applied_at.clone()),
                applied_by: row.and_then(|r| r.applied_by.clone()),
                git_sha: row.and_then(|r| r.git_sha.clone()),
                run_id: row.and_then(|r| r.run_id.clone()),
                execution_ms: row.map(|r| r.execution_ms),
                recorded_checksum: (state == State::Changed)
                    .then(|| row.map(|r| r.checksum.clone()))
                    .flatten(),
                file_checksum: (state == State::Changed).then_some(file_checksum),
            });
        }
        for r in history {
            if !migrations.iter().any(|m| m.version == r.version) {
                entries.push(StatusEntry {
                    version: r.version,
                    name: r.name.clone(),
                    state: State::Missing,
                    file: None,
                    transaction: true,
                    reversible: false,
                    applied_at: Some(r.applied_at.clone()),
                    applied_by: r.applied_by.clone(),
                    git_sha: r.git_sha.clone(),
                    run_id: r.run_id.clone(),
                    execution_ms: Some(r.execution_ms),
                    recorded_checksum: None,
                    file_checksum: None,
                });
            }
        }
        entries.sort_by_key(|e| e.version);
        Comparison {
            entries,
            pending,
            version: history.iter().map(|r| r.version).max(),
        }
    }

    pub fn count(&self, state: State) -> usize {
        self.entries.iter().filter(|e| e.state == state).count()
    }

    fn with_state(&self, state: State) -> impl Iterator<Item = &StatusEntry> {
        self.entries.iter().filter(move |e| e.state == state)
    }

    /// Pending migrations older than the newest applied one: added "in the past".
    fn out_of_order(&self, migrations: &[Migration]) -> Result<(), Error> {
        let Some(top) = self.version else {
            return Ok(());
        };
        let late: Vec<&Migration> = self
            .pending
            .iter()
            .map(|&i| &migrations[i])
            .filter(|m| m.version < top)
            .collect();
        if late.is_empty() {
            return Ok(());
        }
        let newest = self
            .entries
            .iter()
            .filter(|e| e.version == top)
            .map(|e| {
                e.file
                    .clone()
                    .unwrap_or_else(|| format!("{} {}", e.version, e.name))
            })
            .next()
            .unwrap_or_default();
        let files: Vec<&str> = late.iter().map(|m| m.up.display.as_str()).collect();
        Err(Error::config(format!(
            "{} not applied, but the database already has version {top} ({newest}): {} added \
             below the applied migrations, probably merged from an older branch. Renumber {} \
             above {top} (e.g. {}) so it runs after the migrations already applied.",
            files.join(", "),
            if late.len() == 1 { "is" } else { "are" },
            if late.len() == 1 { "it" } else { "them" },
            renumbered(late[0], top)
        )))
    }

    /// Applied migrations whose file changed: an error unless allowed.
    fn changed_error(&self) -> Option<Error> {
        let changed: Vec<String> = self
            .with_state(State::Changed)
            .map(|e| e.file.clone().unwrap_or_default())
            .collect();
        if changed.is_empty() {
            return None;
        }
        Some(Error::failed(format!(
            "applied migration{} changed since {} applied: {}. An applied migration must not be \
             edited (the change never reaches databases that already ran it): revert the edit \
             and put the change in a new migration. If the edit is harmless (a comment, \
             formatting), re-run with --allow-changed to accept it and record the new checksum.",
            if changed.len() == 1 { "" } else { "s" },
            if changed.len() == 1 {
                "it was"
            } else {
                "they were"
            },
            changed.join(", ")
        )))
    }

    fn missing_warnings(&self) -> Vec<String> {
        self.with_state(State::Missing)
            .map(|e| {
                format!(
                    "version {} ({}) is applied but has no file in the migrations directory: the \
                     database is ahead of this code (a rollback?) or the file was deleted",
                    e.version, e.name
                )
            })
            .collect()
    }
}

fn renumbered(m: &Migration, top: i64) -> String {
    let file = m.up.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let digits = file.chars().take_while(|c| c.is_ascii_digit()).count();
    let next = top.saturating_add(1).to_string();
    let width = digits.max(next.len());
    format!("{:0>width$}_{}.sql", next, m.name)
}

/// Load and check the migrations directory.
pub fn load(opts: &Options) -> Result<Vec<Migration>, Error> {
    let migrations = source::load_dir(&opts.dir)?;
    source::check_transaction_control(&migrations)?;
    if let Some(t) = opts.target {
        if !migrations.iter().any(|m| m.version == t) {
            return Err(Error::config(format!(
                "--target {t} names no migration in {}: pass the version of an existing \
                 NNNN_name.sql file",
                opts.dir.display()
            )));
        }
    }
    Ok(migrations)
}

fn dialect_of(url: &DatabaseUrl) -> Dialect {
    match url.backend() {
        Ok(Backend::Sqlite) => Dialect::Sqlite,
        _ => Dialect::Postgres,
    }
}

/// Connect, run `f` on the connection, and close it whatever `f` returns. `create`: a missing
/// SQLite file is created (only commands that write may).
async fn with_db<T>(
    opts: &Options,
    create: bool,
    f: impl AsyncFnOnce(&mut Db) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut db = Db::connect(
        &opts.url,
        &opts.table,
        opts.lock_timeout,
        opts.table_lock_timeout,
        create,
    )
    .await?;
    let result = f(&mut db).await;
    db.close().await;
    result
}

/// The history table, read without the lock and without creating anything.
async fn read_history(opts: &Options) -> Result<Vec<AppliedRow>, Error> {
    with_db(opts, false, async |db| db.read_history().await).await
}

/// A migration that ran (or was reverted) in this run.
#[derive(Debug, Clone, Serialize)]
pub struct RanMigration {
    pub version: i64,
    pub name: String,
    pub file: String,
    pub duration_ms: u64,
    pub transaction: bool,
}

impl RanMigration {
    /// `file` (`m`'s up or down file) ran in `ms` milliseconds.
    fn new(m: &Migration, file: &SqlFile, ms: u64) -> RanMigration {
        RanMigration {
            version: m.version,
            name: m.name.clone(),
            file: file.display.clone(),
            duration_ms: ms,
            transaction: !file.no_transaction,
        }
    }
}

/// Why a migration failed, with everything needed to fix it.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationFailure {
    pub version: i64,
    pub name: String,
    pub file: String,
    /// Where the failing statement (or the error position inside it) is.
    pub line: u32,
    pub column: u32,
    /// 1-based index of the failing statement, and how many the file has.
    pub statement_number: usize,
    pub statement_count: usize,
    /// The line where the failing statement starts, and its text.
    pub statement_line: u32,
    pub statement: String,
    pub error: String,
    pub code: Option<String>,
    pub detail: Option<String>,
    pub hint: Option<String>,
    pub context: Option<String>,
    /// The migration ran in a transaction (so it was rolled back entirely).
    pub transaction: bool,
    /// Outside a transaction: statements that succeeded before the failure and stay applied.
    pub committed_statements: Vec<String>,
    /// The statements ran but recording them in the history table failed.
    pub recording_failed: bool,
}

impl MigrationFailure {
    /// A complete, multi-line report (the binary prints it as the error).
    pub fn render(&self) -> String {
        if self.recording_failed {
            let mut s = format!(
                "migration {} ({}): its statements ran, but recording it in the history table \
                 failed: {}",
                self.name_label(),
                self.file,
                self.error
            );
            if let Some(c) = &self.code {
                s.push_str(&format!(" [{c}]"));
            }
            s.push_str(if self.transaction {
                "\n  The whole migration was rolled back; nothing of it stays. Check the history \
                 table's permissions and re-run."
            } else {
                "\n  It ran outside a transaction, so its effects STAY but it is not recorded: \
                 make it re-runnable (IF NOT EXISTS) before re-running."
            });
            return s;
        }
        let mut s = format!(
            "migration {} failed at {}:{}:{} (statement {} of {}): {}",
            self.name_label(),
            self.file,
            self.line,
            self.column,
            self.statement_number,
            self.statement_count,
            self.error
        );
        if let Some(c) = &self.code {
            s.push_str(&format!(" [{c}]"));
        }
        s.push('\n');
        let start_line = self.statement_line as usize;
        let width = (start_line + self.statement.lines().count())
            .to_string()
            .len();
        for (i, l) in self.statement.lines().take(12).enumerate() {
            s.push_str(&format!("  {:>width$} | {}\n", start_line + i, l));
        }
        if self.statement.lines().count() > 12 {
            s.push_str(&format!("  {:>width$} | …\n", ""));
        }
        if let Some(d) = &self.detail {
            s.push_str(&format!("  detail: {d}\n"));
        }
        if let Some(h) = &self.hint {
            s.push_str(&format!("  hint: {h}\n"));
        }
        if let Some(c) = &self.context {
            s.push_str(&format!("  context: {c}\n"));
        }
        if self.transaction {
            s.push_str(
                "  The migration was rolled back: the database is as it was before it, and the \
                 history table lists only the migrations before it. Fix the file and re-run; \
                 the run continues from this migration.\n",
            );
        } else {
            s.push_str(
                "  This migration runs outside a transaction (-- ship:no-transaction), so nothing \
                 was rolled back and it was not recorded.",
            );
            if self.committed_statements.is_empty() {
                s.push_str(" No earlier statement of it had run.\n");
            } else {
                s.push_str(&format!(
                    " These {} statement(s) before the failing one took effect and stay: {}.\n",
                    self.committed_statements.len(),
                    self.committed_statements.join("; ")
                ));
            }
            s.push_str(
                "  Fix the file so it can run again over what is already there (IF NOT EXISTS; \
                 a failed CREATE INDEX CONCURRENTLY leaves an INVALID index: DROP INDEX \
                 CONCURRENTLY IF EXISTS it first), then re-run.\n",
            );
        }
        if self.code.as_deref() == Some("55P03") {
            s.push_str(
                "  It waited longer than --table-lock-timeout (PostgreSQL lock_timeout) for a \
                 lock another session holds on the table: a long transaction or a busy table. \
                 Re-run when it is quieter, or raise --table-lock-timeout (0 waits without \
                 limit, and every query queued behind the migration waits with it).\n",
            );
        }
        if self.code.as_deref() == Some("25001") {
            s.push_str(
                "  This statement cannot run inside a transaction: move it to a file of its own \
                 that starts with `-- ship:no-transaction`.\n",
            );
        }
        s.trim_end().to_string()
    }

    fn name_label(&self) -> String {
        let file = self.file.rsplit('/').next().unwrap_or(&self.file);
        file.strip_suffix(".sql").unwrap_or(file).to_string()
    }
}

/// Why `up`/`down` stopped.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Failure {
    /// The lint found errors in pending migrations; nothing was applied.
    Lint { errors: usize },
    /// A migration failed.
    Migration(Box<MigrationFailure>),
}

/// What `up` did.
#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    pub database: String,
    pub table: String,
    pub lock_wait_ms: u64,
    pub applied: Vec<RanMigration>,
    /// Schema version after the run (highest applied version).
    pub version: Option<i64>,
    /// Migrations still pending after the run.
    pub pending: usize,
    /// Applied migrations whose changed file was accepted with `--allow-changed`.
    pub accepted_changes: Vec<String>,
    pub warnings: Vec<String>,
    #[serde(skip)]
    pub lint: LintReport,
    pub failure: Option<Failure>,
    pub duration_ms: u64,
}

/// The pending migrations `up` applies (indexes, up to `--target`), and what the lint finds in
/// them (nothing without `--lint`).
fn to_apply(
    opts: &Options,
    migrations: &[Migration],
    cmp: &Comparison,
) -> (Vec<usize>, LintReport) {
    let todo: Vec<usize> = cmp
        .pending
        .iter()
        .copied()
        .filter(|&i| opts.target.is_none_or(|t| migrations[i].version <= t))
        .collect();
    let lint = if opts.lint {
        let files: Vec<&SqlFile> = todo.iter().map(|&i| &migrations[i].up).collect();
        lint::lint_files(&files, dialect_of(&opts.url))
    } else {
        LintReport::default()
    };
    (todo, lint)
}

/// `up`: apply pending migrations (up to `--target`), each in its own transaction.
pub async fn up(opts: &Options, progress: Progress<'_>) -> Result<UpReport, Error> {
    let started = Instant::now();
    let migrations = load(opts)?;
    with_db(opts, true, async |db| {
        up_locked(opts, db, &migrations, progress, started).await
    })
    .await
}

async fn up_locked(
    opts: &Options,
    db: &mut Db,
    migrations: &[Migration],
    progress: Progress<'_>,
    started: Instant,
) -> Result<UpReport, Error> {
    let waited = db.lock(progress).await?;
    if waited > Duration::from_millis(500) {
        progress(&format!(
            "took the migration lock after waiting {:.1}s",
            waited.as_secs_f64()
        ));
    }
    db.ensure_history().await?;
    let history = db.read_history().await?;
    let cmp = Comparison::compare(migrations, &history);
    cmp.out_of_order(migrations)?;
    let mut accepted = Vec::new();
    if let Some(err) = cmp.changed_error() {
        if !opts.allow_changed {
            return Err(err);
        }
        for e in cmp.with_state(State::Changed) {
            let new = e.file_checksum.clone().unwrap_or_default();
            db.update_checksum(e.version, &new).await?;
            let file = e.file.clone().unwrap_or_default();
            progress(&format!(
                "warning: accepted the edit of applied migration {file} (--allow-changed): \
                 recorded checksum {} is now {}",
                short(e.recorded_checksum.as_deref().unwrap_or("")),
                short(&new)
            ));
            accepted.push(file);
        }
    }
    let (todo, lint) = to_apply(opts, migrations, &cmp);
    let mut report = UpReport {
        database: opts.url.masked(),
        table: opts.table.to_string(),
        lock_wait_ms: waited.as_millis() as u64,
        applied: Vec::new(),
        version: cmp.version,
        pending: cmp.pending.len(),
        accepted_changes: accepted,
        warnings: cmp.missing_warnings(),
        lint,
        failure: None,
        duration_ms: 0,
    };
    let lint_errors = Summary::new(report.lint.files, &report.lint.findings).errors;
    if lint_errors > 0 {
        report.failure = Some(Failure::Lint {
            errors: lint_errors,
        });
        report.duration_ms = started.elapsed().as_millis() as u64;
        return Ok(report);
    }
    if todo.is_empty() {
        progress(&match cmp.version {
            Some(v) => format!("nothing to apply: the database is at version {v}"),
            None => "nothing to apply: no migrations".to_string(),
        });
    }
    let actor = Actor::from_env();
    let steps = todo.iter().map(|&i| {
        let m = &migrations[i];
        let row = AppliedRow {
            version: m.version,
            name: m.name.clone(),
            checksum: m.up.checksum(),
            applied_at: crate::db::now_rfc3339(),
            execution_ms: 0,
            applied_by: actor.applied_by.clone(),
            git_sha: actor.git_sha.clone(),
            run_id: actor.run_id.clone(),
        };
        (m, &m.up, Record::Insert(row))
    });
    let failure = run_files(db, steps, |m, file, ms| {
        progress(&format!(
            "applied {} ({} ms{})",
            m.label(),
            ms,
            if file.no_transaction {
                ", no transaction"
            } else {
                ""
            }
        ));
        report.applied.push(RanMigration::new(m, file, ms));
        report.version = Some(report.version.map_or(m.version, |v| v.max(m.version)));
        report.pending -= 1;
    })
    .await;
    report.failure = failure;
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

fn short(checksum: &str) -> &str {
    checksum.get(..12).unwrap_or(checksum)
}

/// What to do with the history table when a file succeeds.
enum Record {
    Insert(AppliedRow),
    Delete(i64),
}

/// Run `steps` (a migration, its up or down file, and how to record it) in order, stopping at
/// the first that fails; `ran` hears of each that succeeded and how many milliseconds it took.
async fn run_files<'m>(
    db: &mut Db,
    steps: impl IntoIterator<Item = (&'m Migration, &'m SqlFile, Record)>,
    mut ran: impl FnMut(&'m Migration, &'m SqlFile, u64),
) -> Option<Failure> {
    for (m, file, record) in steps {
        match run_file(db, m, file, record).await {
            Ok(ms) => ran(m, file, ms),
            Err(f) => return Some(Failure::Migration(Box::new(f))),
        }
    }
    None
}

/// Run one file's statements (in a transaction unless it says otherwise) and record it.
async fn run_file(
    db: &mut Db,
    m: &Migration,
    file: &SqlFile,
    record: Record,
) -> Result<u64, MigrationFailure> {
    let tx = !file.no_transaction;
    let count = file.script.statements.len();
    let failure = |i: usize, e: DbError, committed: Vec<String>, recording: bool| {
        let (line, column, statement_line) = if i < count {
            let st = &file.script.statements[i];
            let mut pos = st.start;
            if let Some(p) = e.position {
                // PostgreSQL positions count characters from 1.
                let text = &file.text[st.start..st.end];
                pos = match text.char_indices().nth(p.saturating_sub(1)) {
                    Some((off, _)) => st.start + off,
                    None => st.end, // just past the statement (its `;`)
                };
            }
            let (l, c) = file.script.line_col(&file.text, pos);
            let (sl, _) = file.script.line_col(&file.text, st.start);
            (l, c, sl)
        } else {
            (1, 1, 1)
        };
        MigrationFailure {
            version: m.version,
            name: m.name.clone(),
            file: file.display.clone(),
            line,
            column,
            statement_number: (i + 1).min(count.max(1)),
            statement_count: count,
            statement: if i < count {
                file.statement_text(i).to_string()
            } else {
                String::new()
            },
            error: e.message.clone(),
            code: e.code.clone(),
            detail: e.detail.clone(),
            hint: e.hint.clone(),
            context: e.context.clone(),
            transaction: tx,
            committed_statements: committed,
            recording_failed: recording,
            statement_line,
        }
    };
    // On PostgreSQL every round trip counts: a transactional migration is sent as one query
    // string, `BEGIN` and all its statements, and its history row travels with `COMMIT`. The
    // failing statement is found from the error position, or else from how many statements
    // completed before the error.
    let pipelined = tx && db.backend() == Backend::Postgres && count > 0;
    if tx && !pipelined {
        if let Err(e) = db.begin().await {
            return Err(failure(
                0,
                DbError {
                    message: e.to_string(),
                    ..DbError::default()
                },
                Vec::new(),
                false,
            ));
        }
    }
    let started = Instant::now();
    if pipelined {
        let mut batch = String::from("BEGIN;\n");
        // (char offset in the batch, char length) of each statement.
        let mut spans = Vec::with_capacity(count);
        let mut chars = batch.chars().count();
        for i in 0..count {
            let text = file.statement_text(i);
            let len = text.chars().count();
            spans.push((chars, len));
            batch.push_str(text);
            batch.push_str(";\n");
            chars += len + 2;
        }
        if let Err((done, mut e)) = db.execute_batch(&batch).await {
            db.rollback().await;
            let by_position = e.position.and_then(|p| {
                let p = p.checked_sub(1)?;
                spans
                    .iter()
                    .position(|&(start, len)| p >= start && p <= start + len)
                    .map(|i| (i, p - spans[i].0 + 1))
            });
            let i = match by_position {
                Some((i, pos)) => {
                    e.position = Some(pos);
                    i
                }
                None => {
                    e.position = None;
                    // `BEGIN` completed first; then one completion per statement.
                    done.saturating_sub(1).min(count - 1)
                }
            };
            return Err(failure(i, e, Vec::new(), false));
        }
    } else {
        for i in 0..count {
            if let Err(e) = db.execute(file.statement_text(i)).await {
                if tx {
                    db.rollback().await;
                }
                let committed = if tx {
                    Vec::new()
                } else {
                    (0..i).map(|j| first_line(file.statement_text(j))).collect()
                };
                return Err(failure(i, e, committed, false));
            }
        }
    }
    let ms = started.elapsed().as_millis() as u64;
    let mut committed = false;
    let recorded = match record {
        Record::Insert(mut row) => {
            row.execution_ms = ms as i64;
            if pipelined {
                committed = true;
                db.insert_history_and_commit(&row).await
            } else {
                db.insert_history(&row).await
            }
        }
        Record::Delete(v) => db.delete_history(v).await,
    };
    if let Err(e) = recorded {
        if tx {
            db.rollback().await;
        }
        return Err(failure(count, e, Vec::new(), true));
    }
    if tx && !committed {
        if let Err(e) = db.commit().await {
            db.rollback().await;
            return Err(failure(count, e, Vec::new(), true));
        }
    }
    Ok(ms)
}

fn first_line(s: &str) -> String {
    let l = s.lines().next().unwrap_or("").trim();
    if s.lines().count() > 1 {
        format!("`{l} …`")
    } else {
        format!("`{l}`")
    }
}

/// One migration `up` would run.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub version: i64,
    pub name: String,
    pub file: String,
    pub transaction: bool,
    pub statements: usize,
}

/// What `plan` found.
#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    pub database: String,
    pub table: String,
    pub version: Option<i64>,
    pub pending: Vec<Planned>,
    pub warnings: Vec<String>,
    #[serde(skip)]
    pub lint: LintReport,
    /// `up` would refuse to run because of lint errors.
    pub blocked: bool,
}

/// `plan`: what `up` would do, without changing anything (no lock, no table created).
pub async fn plan(opts: &Options) -> Result<PlanReport, Error> {
    let migrations = load(opts)?;
    let history = read_history(opts).await?;
    let cmp = Comparison::compare(&migrations, &history);
    cmp.out_of_order(&migrations)?;
    let mut warnings = cmp.missing_warnings();
    if let Some(err) = cmp.changed_error() {
        if !opts.allow_changed {
            return Err(err);
        }
        warnings.push(format!("{err}"));
    }
    let (todo, lint) = to_apply(opts, &migrations, &cmp);
    let blocked = lint.findings.iter().any(|f| f.severity == Severity::Error);
    Ok(PlanReport {
        database: opts.url.masked(),
        table: opts.table.to_string(),
        version: cmp.version,
        pending: todo
            .iter()
            .map(|&i| {
                let m = &migrations[i];
                Planned {
                    version: m.version,
                    name: m.name.clone(),
                    file: m.up.display.clone(),
                    transaction: !m.up.no_transaction,
                    statements: m.up.script.statements.len(),
                }
            })
            .collect(),
        warnings,
        lint,
        blocked,
    })
}

/// What `status` found.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub database: String,
    pub table: String,
    pub version: Option<i64>,
    pub applied: usize,
    pub pending: usize,
    pub changed: usize,
    pub missing: usize,
    pub migrations: Vec<StatusEntry>,
}

/// `status`: every migration and its state. Read-only.
pub async fn status(opts: &Options) -> Result<StatusReport, Error> {
    let migrations = source::load_dir(&opts.dir)?;
    let history = read_history(opts).await?;
    let cmp = Comparison::compare(&migrations, &history);
    Ok(StatusReport {
        database: opts.url.masked(),
        table: opts.table.to_string(),
        version: cmp.version,
        applied: cmp.count(State::Applied),
        pending: cmp.count(State::Pending),
        changed: cmp.count(State::Changed),
        missing: cmp.count(State::Missing),
        migrations: cmp.entries,
    })
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub database: String,
    pub checked: usize,
    pub changed: Vec<StatusEntry>,
    pub warnings: Vec<String>,
    /// No changed applied migration (or changes allowed).
    pub ok: bool,
}

/// `verify`: the checksums of applied migrations match their files. Read-only.
pub async fn verify(opts: &Options) -> Result<VerifyReport, Error> {
    let migrations = source::load_dir(&opts.dir)?;
    let history = read_history(opts).await?;
    let cmp = Comparison::compare(&migrations, &history);
    let changed: Vec<StatusEntry> = cmp.with_state(State::Changed).cloned().collect();
    Ok(VerifyReport {
        database: opts.url.masked(),
        checked: cmp.count(State::Applied) + changed.len(),
        ok: changed.is_empty() || opts.allow_changed,
        changed,
        warnings: cmp.missing_warnings(),
    })
}

/// The error `verify` ends with when files changed.
pub fn verify_error(report: &VerifyReport) -> Option<Error> {
    if report.ok {
        return None;
    }
    let cmp = Comparison {
        entries: report.changed.clone(),
        pending: Vec::new(),
        version: None,
    };
    cmp.changed_error()
}

/// What `down` did.
#[derive(Debug, Clone, Serialize)]
pub struct DownReport {
    pub database: String,
    pub table: String,
    pub lock_wait_ms: u64,
    pub reverted: Vec<RanMigration>,
    pub version: Option<i64>,
    pub failure: Option<Failure>,
    pub duration_ms: u64,
}

/// `down --to VERSION`: revert applied migrations above `to`, newest first, with their
/// `.down.sql` files. Refused (nothing runs) if any of them has no down file.
pub async fn down(opts: &Options, to: i64, progress: Progress<'_>) -> Result<DownReport, Error> {
    let started = Instant::now();
    let migrations = source::load_dir(&opts.dir)?;
    source::check_transaction_control(&migrations)?;
    with_db(opts, false, async |db| {
        down_locked(opts, db, &migrations, to, progress, started).await
    })
    .await
}

async fn down_locked(
    opts: &Options,
    db: &mut Db,
    migrations: &[Migration],
    to: i64,
    progress: Progress<'_>,
    started: Instant,
) -> Result<DownReport, Error> {
    let waited = db.lock(progress).await?;
    let history = db.read_history().await?;
    let mut revert: Vec<&AppliedRow> = history.iter().filter(|r| r.version > to).collect();
    revert.sort_by_key(|r| std::cmp::Reverse(r.version));
    let mut problems = Vec::new();
    let mut plan = Vec::new();
    for r in &revert {
        match migrations.iter().find(|m| m.version == r.version) {
            None => problems.push(format!(
                "version {} ({}) has no file in {}",
                r.version,
                r.name,
                opts.dir.display()
            )),
            Some(m) => match &m.down {
                None => problems.push(format!(
                    "{} is irreversible (there is no {})",
                    m.up.display,
                    m.up.display
                        .strip_suffix(".up.sql")
                        .or_else(|| m.up.display.strip_suffix(".sql"))
                        .map(|s| format!("{s}.down.sql"))
                        .unwrap_or_default()
                )),
                Some(_) => plan.push(m),
            },
        }
    }
    if !problems.is_empty() {
        return Err(Error::config(format!(
            "refusing to migrate down to version {to}: {}. Nothing was reverted. Choose a --to \
             at or above the newest irreversible migration, or add the missing down file.",
            problems.join("; ")
        )));
    }
    let mut report = DownReport {
        database: opts.url.masked(),
        table: opts.table.to_string(),
        lock_wait_ms: waited.as_millis() as u64,
        reverted: Vec::new(),
        version: history.iter().map(|r| r.version).max(),
        failure: None,
        duration_ms: 0,
    };
    if plan.is_empty() {
        progress(&format!(
            "nothing to revert: no applied migration above version {to}"
        ));
    }
    let steps = plan.into_iter().map(|m| {
        let file = m.down.as_ref().expect("checked above");
        (m, file, Record::Delete(m.version))
    });
    let failure = run_files(db, steps, |m, file, ms| {
        progress(&format!("reverted {} ({} ms)", m.label(), ms));
        report.reverted.push(RanMigration::new(m, file, ms));
        report.version = history
            .iter()
            .map(|r| r.version)
            .filter(|&v| v < m.version)
            .max();
    })
    .await;
    report.failure = failure;
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// What `--command` mode did.
#[derive(Debug, Clone, Serialize)]
pub struct CommandReport {
    pub database: String,
    pub command: String,
    pub lock_wait_ms: u64,
    pub exit_code: Option<i32>,
    pub success: bool,
    pub duration_ms: u64,
    /// Ended by a signal we passed on (the runner was cancelled).
    pub interrupted: bool,
    /// The signal that interrupted the runner: `SIGTERM` or `SIGINT`.
    pub signal: Option<String>,
    /// How the command's processes were stopped, when they had to be (interrupted, or
    /// processes left running in the background after the command exited).
    pub stopped: Option<String>,
    /// Processes of the command's group still running when the lock was released: 0 unless
    /// one survived SIGKILL (stuck in the kernel) or left the group.
    pub left_running: usize,
}

/// `--command`: run another tool's migrations under the same lock. The command runs with
/// `sh -c`, `DATABASE_URL` set, in a process group of its own, its standard output and error
/// copied to our standard error (so `--format json` output stays clean) with every registered
/// secret masked.
///
/// When the runner is interrupted (SIGTERM, SIGINT), the signal goes to the command's whole
/// process group (the tool `sh` started, and whatever it started), the group gets
/// [`Options::command_grace`] to exit, is then killed, and only once none of it is running is
/// the lock released: otherwise a second runner could take the lock while the first tool is
/// still migrating. Processes the command leaves running in the background after it exits are
/// stopped the same way.
pub async fn run_command(
    opts: &Options,
    command: &str,
    progress: Progress<'_>,
) -> Result<CommandReport, Error> {
    with_db(opts, true, async |db| {
        command_locked(opts, db, command, progress).await
    })
    .await
}

async fn command_locked(
    opts: &Options,
    db: &mut Db,
    command: &str,
    progress: Progress<'_>,
) -> Result<CommandReport, Error> {
    let waited = db.lock(progress).await?;
    let shown = opts.url.redact(command);
    progress(&format!("running `{shown}` under the migration lock"));
    let started = Instant::now();
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .env("DATABASE_URL", opts.url.expose())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    // Its own group: one signal reaches everything the command starts, and a Ctrl-C on a
    // terminal reaches only us, so we decide the order (stop the command, then unlock).
    #[cfg(unix)]
    cmd.process_group(0);
    // Listening before the spawn: a SIGTERM between the spawn and the wait would otherwise
    // end us at once and leave the command running without the lock.
    let signals = group::Signals::install();
    let mut child = cmd.spawn().map_err(|e| {
        Error::failed(format!(
            "cannot start `{shown}` with sh -c: {e}. Check that `sh` is on PATH."
        ))
    })?;
    // On a runner the command's output (often long: every migration a tool applies) is one
    // collapsible group; what ship reports about it comes after, outside the group.
    let output_group = ship_actions_runtime::stderr_group(&format!("output of `{shown}`"));
    let copies: Vec<_> = [
        child.stdout.take().map(|s| tokio::spawn(copy_redacted(s))),
        child.stderr.take().map(|s| tokio::spawn(copy_redacted(s))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let supervised = group::supervise(&mut child, signals, opts.command_grace, progress).await;
    // The pipes close once no process of the group holds them; a process that left the group
    // could keep them open forever, so do not wait on it long.
    for copy in copies {
        let abort = copy.abort_handle();
        if tokio::time::timeout(Duration::from_secs(2), copy)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
    drop(output_group);
    let status = supervised
        .status
        .map_err(|e| Error::failed(format!("waiting for `{shown}` failed: {e}")))?;
    let interrupted = supervised.signal.is_some();
    let report = CommandReport {
        database: opts.url.masked(),
        command: shown,
        lock_wait_ms: waited.as_millis() as u64,
        exit_code: status.code(),
        success: status.success() && !interrupted,
        duration_ms: started.elapsed().as_millis() as u64,
        interrupted,
        signal: supervised.signal.map(str::to_owned),
        stopped: supervised.stopped,
        left_running: supervised.left_running,
    };
    Ok(report)
}

/// Copies a child's output to our standard error, line by line, with secrets masked.
async fn copy_redacted(mut from: impl tokio::io::AsyncRead + Unpin) {
    use std::io::Write as _;
    use tokio::io::AsyncReadExt as _;
    let mut to = ship_actions_runtime::Redacting::new(std::io::stderr());
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let _ = to.write_all(&buf[..n]);
            }
        }
    }
    let _ = to.flush();
}

/// Supervising the command's process group.
mod group {
    use super::Progress;
    use std::process::ExitStatus;
    use std::time::{Duration, Instant};

    /// How the command ended.
    pub(super) struct Supervised {
        pub status: std::io::Result<ExitStatus>,
        /// The signal that interrupted the runner.
        pub signal: Option<&'static str>,
        /// How the group was stopped, when it had to be.
        pub stopped: Option<String>,
        /// Processes still running after the group was stopped.
        pub left_running: usize,
    }

    /// After SIGKILL, how long to wait for the kernel to tear the group down.
    const KILL_WAIT: Duration = Duration::from_secs(10);
    const POLL: Duration = Duration::from_millis(50);

    /// Nothing to listen to without Unix signals.
    #[cfg(not(unix))]
    pub(super) struct Signals;

    #[cfg(not(unix))]
    impl Signals {
        pub(super) fn install() -> Signals {
            Signals
        }
    }

    #[cfg(not(unix))]
    pub(super) async fn supervise(
        child: &mut tokio::process::Child,
        _signals: Signals,
        _grace: Duration,
        _progress: Progress<'_>,
    ) -> Supervised {
        Supervised {
            status: child.wait().await,
            signal: None,
            stopped: None,
            left_running: 0,
        }
    }

    /// Waits for the command; on SIGTERM/SIGINT, or when it leaves processes behind, stops
    /// its whole group (see [`stop`]) before returning.
    #[cfg(unix)]
    pub(super) async fn supervise(
        child: &mut tokio::process::Child,
        mut signals: Signals,
        grace: Duration,
        progress: Progress<'_>,
    ) -> Supervised {
        use nix::sys::signal::Signal;
        // `process_group(0)`: the group's id is the child's pid.
        let Some(pgid) = child.id().and_then(|p| i32::try_from(p).ok()) else {
            return Supervised {
                status: child.wait().await,
                signal: None,
                stopped: None,
                left_running: 0,
            };
        };
        tokio::select! {
            status = child.wait() => {
                // Whatever it left in the background would go on migrating after the lock is
                // released.
                let running = running_in_group(pgid);
                if running == 0 {
                    return Supervised { status, signal: None, stopped: None, left_running: 0 };
                }
                progress(&format!(
                    "the command exited but left {running} process{} of its group running; stopping {} before the migration lock is released",
                    if running == 1 { "" } else { "es" },
                    if running == 1 { "it" } else { "them" },
                ));
                let stop = stop(pgid, Signal::SIGTERM, grace, &mut signals, child, progress).await;
                Supervised {
                    status,
                    signal: None,
                    stopped: Some(format!("left in the background by the command: {}", stop.describe)),
                    left_running: stop.left_running,
                }
            }
            received = signals.next() => {
                progress(&format!(
                    "interrupted by {}: passing it on to the command's process group {pgid}; it is killed if it has not exited within {}",
                    received.as_str(),
                    crate::runner::seconds(grace),
                ));
                let stop = stop(pgid, received, grace, &mut signals, child, progress).await;
                Supervised {
                    status: child.wait().await,
                    signal: Some(received.as_str()),
                    stopped: Some(stop.describe),
                    left_running: stop.left_running,
                }
            }
        }
    }

    /// SIGTERM and SIGINT, caught instead of ending the process.
    #[cfg(unix)]
    pub(super) struct Signals {
        term: Option<tokio::signal::unix::Signal>,
        int: Option<tokio::signal::unix::Signal>,
    }

    #[cfg(unix)]
    impl Signals {
        /// Starts catching SIGTERM and SIGINT (for the rest of the process: tokio never puts
        /// the default action back). A handler that cannot be installed leaves that signal's
        /// default action, ending the process, as before.
        pub(super) fn install() -> Signals {
            use tokio::signal::unix::{signal, SignalKind};
            Signals {
                term: signal(SignalKind::terminate()).ok(),
                int: signal(SignalKind::interrupt()).ok(),
            }
        }

        /// The next SIGTERM or SIGINT (never, if neither handler could be installed).
        async fn next(&mut self) -> nix::sys::signal::Signal {
            use nix::sys::signal::Signal;
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                let received = match s {
                    Some(s) => s.recv().await.is_some(),
                    None => false,
                };
                if !received {
                    std::future::pending::<()>().await;
                }
            }
            tokio::select! {
                () = recv(&mut self.term) => Signal::SIGTERM,
                () = recv(&mut self.int) => Signal::SIGINT,
            }
        }
    }

    #[cfg(unix)]
    struct Stopped {
        describe: String,
        left_running: usize,
    }

    /// Sends `first` to group `pgid`, waits up to `grace` (cut short by another signal) for
    /// every process of it to exit, then SIGKILLs what is left and waits until the kernel has
    /// torn it down.
    #[cfg(unix)]
    async fn stop(
        pgid: i32,
        first: nix::sys::signal::Signal,
        grace: Duration,
        signals: &mut Signals,
        child: &mut tokio::process::Child,
        progress: Progress<'_>,
    ) -> Stopped {
        use nix::sys::signal::{killpg, Signal};
        use nix::unistd::Pid;
        let group = Pid::from_raw(pgid);
        let started = Instant::now();
        let _ = killpg(group, first);
        let deadline = started + grace;
        let mut hurried = false;
        loop {
            // Reap `sh` as soon as it exits (a zombie is not counted, but tidy anyway).
            let _ = child.try_wait();
            if running_in_group(pgid) == 0 {
                return Stopped {
                    describe: format!(
                        "its processes exited {} after {}",
                        super::seconds(started.elapsed()),
                        first.as_str()
                    ),
                    left_running: 0,
                };
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                again = signals.next() => {
                    progress(&format!("{} again: killing the command's process group {pgid} now", again.as_str()));
                    hurried = true;
                    break;
                }
            }
        }
        let _ = killpg(group, Signal::SIGKILL);
        let killed_at = Instant::now();
        let mut running = running_in_group(pgid);
        while running > 0 && killed_at.elapsed() < KILL_WAIT {
            let _ = child.try_wait();
            tokio::time::sleep(POLL).await;
            running = running_in_group(pgid);
        }
        let why = if hurried {
            format!(
                "a second signal came {} after {}",
                super::seconds(started.elapsed()),
                first.as_str()
            )
        } else {
            format!(
                "they had not exited {} after {}",
                super::seconds(grace),
                first.as_str()
            )
        };
        Stopped {
            describe: format!("its processes were killed (SIGKILL): {why}"),
            left_running: running,
        }
    }

    /// How many processes of group `pgid` are running (zombies, already dead, are not).
    #[cfg(target_os = "linux")]
    fn running_in_group(pgid: i32) -> usize {
        let Ok(proc) = std::fs::read_dir("/proc") else {
            return probe_group(pgid);
        };
        proc.filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            })
            .filter(|e| {
                // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
                let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                    return false;
                };
                let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                    return false;
                };
                let mut fields = after.split_whitespace();
                let state = fields.next().unwrap_or("");
                let pgrp = fields.nth(1).and_then(|p| p.parse::<i32>().ok());
                pgrp == Some(pgid) && !matches!(state, "Z" | "X" | "x")
            })
            .count()
    }

    #[cfg(all(unix, not(target_os = "linux")))]
    fn running_in_group(pgid: i32) -> usize {
        probe_group(pgid)
    }

    /// 1 if group `pgid` has any member (zombies included), else 0: what `kill(2)` can tell.
    #[cfg(unix)]
    fn probe_group(pgid: i32) -> usize {
        usize::from(nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), None).is_ok())
    }
}

/// `0.3 s`, `5 s`.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 || d.subsec_millis() == 0 {
        format!("{:.0} s", s)
    } else {
        format!("{s:.1} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mig(version: i64, name: &str, text: &str) -> Migration {
        let file = format!("{version:04}_{name}.sql");
        Migration {
            version,
            name: name.into(),
            up: SqlFile::from_text(file.clone().into(), format!("db/{file}"), text.into()),
            down: None,
        }
    }

    fn row(version: i64, name: &str, text: &str) -> AppliedRow {
        AppliedRow {
            version,
            name: name.into(),
            checksum: source::checksum(text),
            applied_at: "2024-01-01T00:00:00.000Z".into(),
            execution_ms: 1,
            applied_by: None,
            git_sha: None,
            run_id: None,
        }
    }

    #[test]
    fn compare_states() {
        let ms = vec![
            mig(1, "a", "SELECT 1;"),
            mig(2, "b", "SELECT 2;\r\n"),
            mig(3, "c", "SELECT 3;"),
            mig(5, "e", "SELECT 5;"),
        ];
        let hist = vec![
            row(1, "a", "SELECT 1;"),
            row(2, "b", "SELECT 2;\n"),
            row(3, "c", "SELECT 33;"),
            row(4, "d", "SELECT 4;"),
        ];
        let cmp = Comparison::compare(&ms, &hist);
        let states: Vec<(i64, State)> = cmp.entries.iter().map(|e| (e.version, e.state)).collect();
        assert_eq!(
            states,
            vec![
                (1, State::Applied),
                (2, State::Applied),
                (3, State::Changed),
                (4, State::Missing),
                (5, State::Pending)
            ]
        );
        assert_eq!(cmp.version, Some(4));
        assert!(cmp.out_of_order(&ms).is_ok());
        let err = cmp.changed_error().unwrap().to_string();
        assert!(err.contains("db/0003_c.sql"), "{err}");
    }

    #[test]
    fn migration_added_in_the_past_is_named() {
        let ms = vec![mig(1, "a", ""), mig(2, "late", ""), mig(3, "c", "")];
        let hist = vec![row(1, "a", ""), row(3, "c", "")];
        let err = Comparison::compare(&ms, &hist)
            .out_of_order(&ms)
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(msg.contains("db/0002_late.sql"), "{msg}");
        assert!(msg.contains("db/0003_c.sql"), "{msg}");
        assert!(msg.contains("0004_late.sql"), "{msg}");
    }
}
