//! Database access: connecting, the history table, executing statements, and the run lock.
//!
//! PostgreSQL and SQLite through `sqlx`'s query API (no compile-time macros). One connection
//! does everything: it holds the lock, runs the migrations and writes the history table.
//!
//! ## Locking
//! - **PostgreSQL**: a session-level advisory lock (`pg_try_advisory_lock`) on a key derived from
//!   the history table's name, held for the whole run. A second runner polls for it, prints who
//!   holds it every few seconds, and gives up after `--lock-timeout` naming the holder's backend
//!   pid and application name. The lock belongs to the session, so a runner that dies (even by
//!   `SIGKILL`) releases it when PostgreSQL notices the closed connection; the runner asks the
//!   server to check its client every 2 s (`client_connection_check_interval`, PostgreSQL 14+).
//! - **SQLite** has no advisory locks, and holding a write transaction for the whole run would
//!   block a `--command` tool writing the same file. The lock is a row in `<table>_lock`,
//!   inserted in a `BEGIN IMMEDIATE` transaction (SQLite's own write lock makes the check and the
//!   insert atomic) and deleted at the end. The row records the holder's pid, host and process
//!   start time; a row whose process is gone (same host, pid not running or reused) is stale and
//!   taken over, so a killed runner never leaves a lock to clear by hand. Each migration then
//!   runs in its own `BEGIN IMMEDIATE` transaction.

use crate::error::Error;
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgDatabaseError, PgErrorPosition};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ColumnIndex, ConnectOptions, Connection, Decode, Row, Type};
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime};

/// A database URL and the ways to show it without its password.
///
/// Its credentials (the password of `postgres://user:pw@host`, of `user:pw@host/db` written
/// without a scheme, `?password=pw`) are registered in the process-wide secret registry when
/// the URL is made, so every output of the process masks them, including errors quoting the
/// URL back (see `ship_actions_runtime::secrets`).
#[derive(Clone)]
pub struct DatabaseUrl {
    raw: String,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.masked())
    }
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl DatabaseUrl {
    pub fn new(raw: impl Into<String>) -> DatabaseUrl {
        let raw = raw.into();
        ship_actions_runtime::secrets::register_url(&raw);
        DatabaseUrl { raw }
    }

    /// The URL as given. Only for connecting and for a child process's `DATABASE_URL`.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL with its password replaced by `***`.
    pub fn masked(&self) -> String {
        self.redact(&ship_actions_runtime::mask_url_password(&self.raw))
    }

    /// `text` with every registered secret (this URL's password among them) replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        ship_actions_runtime::redact(text).into_owned()
    }

    pub fn backend(&self) -> Result<Backend, Error> {
        let scheme = self
            .raw
            .split(':')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match scheme.as_str() {
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            "sqlite" => Ok(Backend::Sqlite),
            "" => Err(Error::config(
                "no database URL: pass --database-url or set DATABASE_URL \
                 (postgres://user:password@host:5432/db or sqlite://path/to/file.db)",
            )),
            _ if !self.raw.contains("://") => Err(Error::config(format!(
                "the database URL `{}` has no scheme: write it as postgres://{} \
                 (or postgresql://…, or sqlite://path/to/file.db) in --database-url / DATABASE_URL",
                self.masked(),
                self.masked()
            ))),
            other => Err(Error::config(format!(
                "unsupported database URL scheme `{other}:` in {}: ship-run-migrations supports \
                 postgres://… (or postgresql://…) and sqlite://…",
                self.masked()
            ))),
        }
    }
}

/// A validated history table name: `table` or `schema.table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub schema: Option<String>,
    pub table: String,
}

impl TableName {
    pub fn parse(s: &str) -> Result<TableName, Error> {
        let ident = |p: &str| {
            let mut c = p.chars();
            c.next()
                .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
                && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
                && p.len() <= 63
        };
        let parts: Vec<&str> = s.split('.').collect();
        let ok = match parts.as_slice() {
            [t] => ident(t),
            [sch, t] => ident(sch) && ident(t),
            _ => false,
        };
        if !ok {
            return Err(Error::config(format!(
                "invalid history table name `{s}`: use `name` or `schema.name` with letters, \
                 digits and underscores (at most 63 each), e.g. --table schema_migrations"
            )));
        }
        Ok(match parts.as_slice() {
            [t] => TableName {
                schema: None,
                table: t.to_string(),
            },
            [sch, t] => TableName {
                schema: Some(sch.to_string()),
                table: t.to_string(),
            },
            _ => unreachable!("checked above"),
        })
    }

    /// `"schema"."table"` or `"table"`.
    pub fn quoted(&self) -> String {
        match &self.schema {
            Some(s) => format!("\"{s}\".\"{}\"", self.table),
            None => format!("\"{}\"", self.table),
        }
    }

    /// The name of the companion lock table (SQLite).
    fn lock_table(&self) -> TableName {
        TableName {
            schema: self.schema.clone(),
            table: format!("{}_lock", self.table),
        }
    }

    /// The advisory lock key for this table: the first 8 bytes of
    /// SHA-256(`ship-run-migrations:` + name), so two history tables never share a lock.
    pub fn lock_key(&self) -> i64 {
        let name = match &self.schema {
            Some(s) => format!("{s}.{}", self.table),
            None => self.table.clone(),
        };
        let digest = Sha256::digest(format!("ship-run-migrations:{}", name.to_ascii_lowercase()));
        let mut b = [0u8; 8];
        b.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(b)
    }
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.table),
            None => f.write_str(&self.table),
        }
    }
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppliedRow {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    /// RFC 3339, UTC.
    pub applied_at: String,
    pub execution_ms: i64,
    pub applied_by: Option<String>,
    pub git_sha: Option<String>,
    pub run_id: Option<String>,
}

/// Who is applying: recorded with every migration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub applied_by: Option<String>,
    pub git_sha: Option<String>,
    pub run_id: Option<String>,
}

impl Actor {
    /// From `GITHUB_ACTOR`/`GITHUB_SHA`/`GITHUB_RUN_ID`(`/GITHUB_RUN_ATTEMPT`), or the local
    /// user and host.
    pub fn from_env() -> Actor {
        Actor::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Actor {
        let applied_by = env("GITHUB_ACTOR").or_else(|| {
            Some(
                match env("USER")
                    .or_else(|| env("LOGNAME"))
                    .or_else(|| env("USERNAME"))
                {
                    Some(user) => format!("{user}@{}", hostname()),
                    None => hostname(),
                },
            )
        });
        let run_id = env("GITHUB_RUN_ID").map(|id| match env("GITHUB_RUN_ATTEMPT") {
            Some(a) => format!("{id}/{a}"),
            None => id,
        });
        Actor {
            applied_by,
            git_sha: env("GITHUB_SHA"),
            run_id,
        }
    }
}

/// The machine's host name, best effort.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// A database error from one statement.
#[derive(Debug, Clone, Default)]
pub struct DbError {
    pub message: String,
    /// SQLSTATE (PostgreSQL) or extended result code (SQLite).
    pub code: Option<String>,
    /// 1-based character position in the statement (PostgreSQL syntax errors and the like).
    pub position: Option<usize>,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// For errors inside a function body: the internal query and position.
    pub context: Option<String>,
}

impl DbError {
    fn from_sqlx(e: sqlx::Error) -> DbError {
        if let Some(db) = e.as_database_error() {
            if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                let (position, context) = match pg.position() {
                    Some(PgErrorPosition::Original(p)) => (Some(p), None),
                    Some(PgErrorPosition::Internal { position, query }) => (
                        None,
                        Some(format!("in internal query at position {position}: {query}")),
                    ),
                    None => (None, None),
                };
                return DbError {
                    message: pg.message().to_string(),
                    code: Some(pg.code().to_string()),
                    position,
                    detail: pg.detail().map(str::to_string),
                    hint: pg.hint().map(str::to_string),
                    context: context.or_else(|| pg.r#where().map(str::to_string)),
                };
            }
            return DbError {
                message: db.message().to_string(),
                code: db.code().map(|c| c.into_owned()),
                ..DbError::default()
            };
        }
        DbError {
            message: e.to_string(),
            ..DbError::default()
        }
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(c) = &self.code {
            write!(f, " (code {c})")?;
        }
        Ok(())
    }
}

enum Inner {
    Pg(PgConnection),
    Lite(SqliteConnection),
}

/// `for_both!(inner, |c| body)`: `body` with `c` bound to whichever connection `inner` holds,
/// the same code type-checked once for each backend.
macro_rules! for_both {
    ($inner:expr, |$c:ident| $body:expr) => {
        match $inner {
            Inner::Pg($c) => $body,
            Inner::Lite($c) => $body,
        }
    };
}

/// One connection to the database, with the history table it works on.
pub struct Db {
    inner: Inner,
    pub url: DatabaseUrl,
    pub table: TableName,
    /// The table as used in SQL, schema-qualified once known (PostgreSQL), so a migration that
    /// changes `search_path` does not move the history table.
    qualified: String,
    lock_timeout: Duration,
    lock: Option<LockState>,
}

#[derive(Debug)]
enum LockState {
    Advisory(i64),
    Row { pid: i64, host: String },
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

fn connect_error(url: &DatabaseUrl, e: impl std::fmt::Display) -> Error {
    Error::failed(url.redact(&format!(
        "cannot connect to {}: {e}. Check the host, port, credentials and database name in \
         --database-url / DATABASE_URL, and that the database accepts connections from here.",
        url.masked()
    )))
}

impl Db {
    /// Connect. `lock_timeout` is also SQLite's busy timeout. `table_lock_timeout` is
    /// PostgreSQL's `lock_timeout` for every statement of the session (zero: the server's
    /// setting). `create`: a missing SQLite file is created (only `up` does; reading commands
    /// must not leave an empty database behind).
    pub async fn connect(
        url: &DatabaseUrl,
        table: &TableName,
        lock_timeout: Duration,
        table_lock_timeout: Duration,
        create: bool,
    ) -> Result<Db, Error> {
        let backend = url.backend()?;
        let inner = match backend {
            Backend::Postgres => {
                let opts = PgConnectOptions::from_str(url.expose())
                    .map_err(|e| {
                        Error::config(
                            url.redact(&format!("invalid PostgreSQL URL {}: {e}", url.masked())),
                        )
                    })?
                    .application_name(&application_name())
                    .disable_statement_logging();
                let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, opts.connect())
                    .await
                    .map_err(|_| {
                        connect_error(
                            url,
                            format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()),
                        )
                    })?
                    .map_err(|e| connect_error(url, e))?;
                // Notice a dead client (a killed runner) quickly, so its advisory lock and
                // transaction go away in seconds, not when a TCP timeout fires. PostgreSQL 14+;
                // older servers reject the setting, which is fine.
                let _ = sqlx::raw_sql("SET client_connection_check_interval = '2s'")
                    .execute(&mut conn)
                    .await;
                // A statement waits at most this long for a lock another session holds on its
                // table: an ALTER TABLE queued behind a long transaction would otherwise make
                // every query that arrives after it wait too, stalling the service.
                if !table_lock_timeout.is_zero() {
                    let ms = table_lock_timeout.as_millis().clamp(1, i32::MAX as u128);
                    sqlx::raw_sql(&format!("SET lock_timeout = '{ms}ms'"))
                        .execute(&mut conn)
                        .await
                        .map_err(|e| connect_error(url, e))?;
                }
                Inner::Pg(conn)
            }
            Backend::Sqlite => {
                let opts = SqliteConnectOptions::from_str(url.expose())
                    .map_err(|e| {
                        Error::config(url.redact(&format!(
                            "invalid SQLite URL {}: {e} (use sqlite://path/to/file.db)",
                            url.masked()
                        )))
                    })?
                    .create_if_missing(create)
                    .busy_timeout(lock_timeout)
                    .disable_statement_logging();
                let file = opts.get_filename();
                let in_memory = file.as_os_str().is_empty() || file.as_os_str() == ":memory:";
                if !create && !in_memory && !file.exists() {
                    return Err(Error::config(format!(
                        "the SQLite database `{}` does not exist; this command reads an existing \
                         database. Check the path in --database-url, or run `up` to create it.",
                        file.display()
                    )));
                }
                let conn = opts.connect().await.map_err(|e| connect_error(url, e))?;
                Inner::Lite(conn)
            }
        };
        Ok(Db {
            inner,
            url: url.clone(),
            table: table.clone(),
            qualified: table.quoted(),
            lock_timeout,
            lock: None,
        })
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            Inner::Pg(_) => Backend::Postgres,
            Inner::Lite(_) => Backend::Sqlite,
        }
    }

    /// The `n`th (1-based) bind parameter as this backend writes it: `$n` or `?`.
    fn param(&self, n: usize) -> String {
        match self.inner {
            Inner::Pg(_) => format!("${n}"),
            Inner::Lite(_) => "?".to_string(),
        }
    }

    fn db_error(&self, what: &str, e: sqlx::Error) -> Error {
        Error::failed(self.url.redact(&format!(
            "{what} failed on {}: {}",
            self.url.masked(),
            DbError::from_sqlx(e)
        )))
    }

    /// Run one statement (no parameters, simple protocol).
    pub async fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        let r = for_both!(&mut self.inner, |c| sqlx::raw_sql(sql)
            .execute(c)
            .await
            .map(|_| ()));
        r.map_err(DbError::from_sqlx)
    }

    /// Run several statements in one round trip (PostgreSQL's simple query protocol). On
    /// failure, also says how many statements completed before it (one `CommandComplete` each).
    pub async fn execute_batch(&mut self, sql: &str) -> Result<(), (usize, DbError)> {
        let mut stream = match &mut self.inner {
            Inner::Pg(c) => sqlx::raw_sql(sql).execute_many(c),
            Inner::Lite(_) => {
                return self.execute(sql).await.map_err(|e| (0, e));
            }
        };
        let mut done = 0;
        loop {
            let next =
                std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx))
                    .await;
            match next {
                None => return Ok(()),
                Some(Ok(_)) => done += 1,
                Some(Err(e)) => return Err((done, DbError::from_sqlx(e))),
            }
        }
    }

    /// Start a transaction (`BEGIN IMMEDIATE` on SQLite: take the write lock up front).
    pub async fn begin(&mut self) -> Result<(), Error> {
        let sql = match self.inner {
            Inner::Pg(_) => "BEGIN",
            Inner::Lite(_) => "BEGIN IMMEDIATE",
        };
        self.execute(sql).await.map_err(|e| {
            Error::failed(self.url.redact(&format!("cannot start a transaction: {e}")))
        })
    }

    pub async fn commit(&mut self) -> Result<(), DbError> {
        self.execute("COMMIT").await
    }

    /// Roll back, ignoring errors (used on the way out of a failure).
    pub async fn rollback(&mut self) {
        let _ = self.execute("ROLLBACK").await;
    }

    /// Does the history table exist?
    pub async fn history_exists(&mut self) -> Result<bool, Error> {
        let r = match &mut self.inner {
            Inner::Pg(c) => sqlx::query("SELECT to_regclass($1) IS NOT NULL")
                .bind(self.table.quoted())
                .fetch_one(c)
                .await
                .and_then(|row| row.try_get::<bool, _>(0)),
            Inner::Lite(c) => {
                let master = match &self.table.schema {
                    Some(s) => format!("\"{s}\".sqlite_master"),
                    None => "sqlite_master".into(),
                };
                sqlx::query(&format!(
                    "SELECT count(*) FROM {master} WHERE type = 'table' AND name = ?"
                ))
                .bind(&self.table.table)
                .fetch_one(c)
                .await
                .and_then(|row| row.try_get::<i64, _>(0))
                .map(|n| n > 0)
            }
        };
        r.map_err(|e| self.db_error("looking up the history table", e))
    }

    /// Create the history table if needed and check that it is ours.
    pub async fn ensure_history(&mut self) -> Result<(), Error> {
        let t = self.table.quoted();
        let ddl = match self.inner {
            Inner::Pg(_) => {
                let schema = match &self.table.schema {
                    Some(s) => format!("CREATE SCHEMA IF NOT EXISTS \"{s}\";\n"),
                    None => String::new(),
                };
                format!(
                    "{schema}CREATE TABLE IF NOT EXISTS {t} (\n\
                     version BIGINT PRIMARY KEY,\n\
                     name TEXT NOT NULL,\n\
                     checksum TEXT NOT NULL,\n\
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n\
                     execution_ms BIGINT NOT NULL,\n\
                     applied_by TEXT,\n\
                     git_sha TEXT,\n\
                     run_id TEXT)"
                )
            }
            Inner::Lite(_) => format!(
                "CREATE TABLE IF NOT EXISTS {t} (\n\
                 version INTEGER PRIMARY KEY,\n\
                 name TEXT NOT NULL,\n\
                 checksum TEXT NOT NULL,\n\
                 applied_at TEXT NOT NULL,\n\
                 execution_ms INTEGER NOT NULL,\n\
                 applied_by TEXT,\n\
                 git_sha TEXT,\n\
                 run_id TEXT)"
            ),
        };
        if let Err(e) = self.execute(&ddl).await {
            return Err(Error::failed(self.url.redact(&format!(
                "cannot create the history table {}: {e}. The database user needs CREATE \
                 privilege on the schema, or create the table beforehand (see docs/migrations.md).",
                self.table
            ))));
        }
        self.check_history_columns().await?;
        if let Inner::Pg(c) = &mut self.inner {
            // Pin the schema: later migrations may change search_path.
            let schema: Result<String, _> = sqlx::query(
                "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.oid = to_regclass($1)",
            )
            .bind(&t)
            .fetch_one(c)
            .await
            .and_then(|row| row.try_get(0));
            if let Ok(schema) = schema {
                self.qualified = format!(
                    "\"{}\".\"{}\"",
                    schema.replace('"', "\"\""),
                    self.table.table
                );
            }
        }
        Ok(())
    }

    async fn check_history_columns(&mut self) -> Result<(), Error> {
        let cols: Result<Vec<String>, sqlx::Error> = match &mut self.inner {
            Inner::Pg(c) => sqlx::query(
                "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) \
                 AND attnum > 0 AND NOT attisdropped",
            )
            .bind(self.table.quoted())
            .fetch_all(c)
            .await
            .and_then(|rows| rows.iter().map(|r| r.try_get(0)).collect()),
            Inner::Lite(c) => {
                let q = match &self.table.schema {
                    Some(_) => "SELECT name FROM pragma_table_info(?, ?)",
                    None => "SELECT name FROM pragma_table_info(?)",
                };
                let mut query = sqlx::query(q).bind(&self.table.table);
                if let Some(s) = &self.table.schema {
                    query = query.bind(s);
                }
                query
                    .fetch_all(c)
                    .await
                    .and_then(|rows| rows.iter().map(|r| r.try_get(0)).collect())
            }
        };
        let cols = cols.map_err(|e| self.db_error("reading the history table's columns", e))?;
        let need = [
            "version",
            "name",
            "checksum",
            "applied_at",
            "execution_ms",
            "applied_by",
            "git_sha",
            "run_id",
        ];
        let missing: Vec<&str> = need
            .iter()
            .copied()
            .filter(|n| !cols.iter().any(|c| c == n))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let owner = if cols.iter().any(|c| c == "dirty") {
            " It looks like golang-migrate's table."
        } else if cols.iter().any(|c| c == "installed_rank") {
            " It looks like Flyway's table."
        } else if cols.iter().any(|c| c == "execution_time") && cols.iter().any(|c| c == "success")
        {
            " It looks like sqlx's table."
        } else {
            ""
        };
        Err(Error::config(format!(
            "the table {} exists but is not a ship-run-migrations history table (it has columns \
             {}; missing {}).{owner} Use another table with --table (e.g. --table \
             ship_schema_migrations), or rename the existing one.",
            self.table,
            cols.join(", "),
            missing.join(", ")
        )))
    }

    /// Every applied migration, by version. An absent table means nothing is applied.
    pub async fn read_history(&mut self) -> Result<Vec<AppliedRow>, Error> {
        if !self.history_exists().await? {
            return Ok(Vec::new());
        }
        self.check_history_columns().await?;
        let t = &self.qualified;
        let sql = match self.inner {
            Inner::Pg(_) => format!(
                "SELECT version, name, checksum, \
                     to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
                     execution_ms, applied_by, git_sha, run_id FROM {t} ORDER BY version"
            ),
            Inner::Lite(_) => format!("SELECT {HISTORY_COLUMNS} FROM {t} ORDER BY version"),
        };
        let rows = for_both!(&mut self.inner, |c| sqlx::query(&sql)
            .fetch_all(c)
            .await
            .and_then(|rows| rows.iter().map(history_row).collect()));
        rows.map_err(|e| self.db_error("reading the history table", e))
    }

    /// Record a migration (inside its transaction, when it has one).
    pub async fn insert_history(&mut self, row: &AppliedRow) -> Result<(), DbError> {
        let t = &self.qualified;
        let sql = match self.inner {
            Inner::Pg(_) => format!(
                "INSERT INTO {t} ({HISTORY_COLUMNS}) \
                 VALUES ($1, $2, $3, $4::timestamptz, $5, $6, $7, $8)"
            ),
            Inner::Lite(_) => {
                format!("INSERT INTO {t} ({HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            }
        };
        let r = for_both!(&mut self.inner, |c| sqlx::query(&sql)
            .bind(row.version)
            .bind(&row.name)
            .bind(&row.checksum)
            .bind(&row.applied_at)
            .bind(row.execution_ms)
            .bind(&row.applied_by)
            .bind(&row.git_sha)
            .bind(&row.run_id)
            .execute(c)
            .await
            .map(|_| ()));
        r.map_err(DbError::from_sqlx)
    }

    /// Record a migration and commit its transaction in one round trip (PostgreSQL; the
    /// values are inlined as escaped literals). Elsewhere: insert, then the caller commits.
    pub async fn insert_history_and_commit(&mut self, row: &AppliedRow) -> Result<(), DbError> {
        if !matches!(self.inner, Inner::Pg(_)) {
            return self.insert_history(row).await;
        }
        let lit = |v: &Option<String>| v.as_deref().map_or("NULL".to_string(), pg_literal);
        let sql = format!(
            "INSERT INTO {} ({HISTORY_COLUMNS}) \
             VALUES ({}, {}, {}, {}::timestamptz, {}, {}, {}, {});\nCOMMIT",
            self.qualified,
            row.version,
            pg_literal(&row.name),
            pg_literal(&row.checksum),
            pg_literal(&row.applied_at),
            row.execution_ms,
            lit(&row.applied_by),
            lit(&row.git_sha),
            lit(&row.run_id),
        );
        self.execute(&sql).await
    }

    /// Remove a reverted migration's row.
    pub async fn delete_history(&mut self, version: i64) -> Result<(), DbError> {
        let sql = format!(
            "DELETE FROM {} WHERE version = {}",
            self.qualified,
            self.param(1)
        );
        let r = for_both!(&mut self.inner, |c| sqlx::query(&sql)
            .bind(version)
            .execute(c)
            .await
            .map(|_| ()));
        r.map_err(DbError::from_sqlx)
    }

    /// Record an accepted change of an applied migration's file (`--allow-changed`).
    pub async fn update_checksum(&mut self, version: i64, checksum: &str) -> Result<(), Error> {
        let sql = format!(
            "UPDATE {} SET checksum = {} WHERE version = {}",
            self.qualified,
            self.param(1),
            self.param(2)
        );
        let r = for_both!(&mut self.inner, |c| sqlx::query(&sql)
            .bind(checksum)
            .bind(version)
            .execute(c)
            .await
            .map(|_| ()));
        r.map_err(|e| self.db_error("updating a checksum in the history table", e))
    }

    /// Take the run lock, waiting up to the lock timeout. `progress` gets a line when the lock
    /// is busy and every few seconds while waiting.
    pub async fn lock(&mut self, progress: &dyn Fn(&str)) -> Result<Duration, Error> {
        let started = Instant::now();
        let mut last_report: Option<Instant> = None;
        loop {
            let (got, holder) = match self.backend() {
                Backend::Postgres => self.try_advisory().await?,
                Backend::Sqlite => self.try_lock_row(progress).await?,
            };
            if got {
                return Ok(started.elapsed());
            }
            let waited = started.elapsed();
            let holder = holder.unwrap_or_else(|| "another runner".into());
            if waited >= self.lock_timeout {
                let help = match self.backend() {
                    Backend::Postgres => {
                        "Another deploy is running migrations on this database: wait for it and \
                         re-run, or raise --lock-timeout. If that session is stuck, end it with \
                         SELECT pg_terminate_backend(<pid>)."
                    }
                    Backend::Sqlite => {
                        "Another ship-run-migrations process is running on this database file: \
                         wait for it and re-run, or raise --lock-timeout. A lock left by a \
                         process on another host can be cleared by deleting the row from the \
                         lock table."
                    }
                };
                return Err(Error::failed(self.url.redact(&format!(
                    "timed out after {} waiting for the migration lock on {} (table {}): it is \
                     held by {holder}. {help}",
                    humantime::format_duration(Duration::from_secs(waited.as_secs())),
                    self.url.masked(),
                    self.table
                ))));
            }
            let due = last_report.is_none_or(|t| t.elapsed() >= Duration::from_secs(5));
            if due {
                last_report = Some(Instant::now());
                progress(&self.url.redact(&format!(
                    "waiting for the migration lock, held by {holder} ({}s of {}s)",
                    waited.as_secs(),
                    self.lock_timeout.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn try_advisory(&mut self) -> Result<(bool, Option<String>), Error> {
        let key = self.table.lock_key();
        let Inner::Pg(c) = &mut self.inner else {
            unreachable!("advisory locks are PostgreSQL's")
        };
        let got: Result<bool, _> = sqlx::query("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *c)
            .await
            .and_then(|r| r.try_get(0));
        let got = got.map_err(|e| self.db_error("taking the advisory lock", e))?;
        if got {
            self.lock = Some(LockState::Advisory(key));
            return Ok((true, None));
        }
        let Inner::Pg(c) = &mut self.inner else {
            unreachable!()
        };
        let holder = sqlx::query(
            "SELECT l.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local socket'), \
             coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"'), ''), \
             coalesce(a.state, ''), coalesce(left(a.query, 120), '') \
             FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
             AND l.classid::bigint = $1 AND l.objid::bigint = $2 \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .bind((key >> 32) & 0xffff_ffff)
        .bind(key & 0xffff_ffff)
        .fetch_optional(c)
        .await
        .ok()
        .flatten()
        .map(|r| {
            let pid: i32 = r.try_get(0).unwrap_or_default();
            let app: String = r.try_get(1).unwrap_or_default();
            let addr: String = r.try_get(2).unwrap_or_default();
            let since: String = r.try_get(3).unwrap_or_default();
            let state: String = r.try_get(4).unwrap_or_default();
            let query: String = r.try_get(5).unwrap_or_default();
            let mut s = format!("PostgreSQL backend pid {pid}");
            let mut parts = Vec::new();
            if !app.is_empty() {
                parts.push(format!("application `{app}`"));
            }
            parts.push(format!("client {addr}"));
            if !since.is_empty() {
                parts.push(format!("connected since {since}"));
            }
            if !state.is_empty() {
                let q = query.split_whitespace().collect::<Vec<_>>().join(" ");
                if state == "active" && !q.is_empty() {
                    parts.push(format!("running `{q}`"));
                } else {
                    parts.push(state);
                }
            }
            s.push_str(&format!(" ({})", parts.join(", ")));
            s
        });
        Ok((false, holder))
    }

    async fn try_lock_row(
        &mut self,
        progress: &dyn Fn(&str),
    ) -> Result<(bool, Option<String>), Error> {
        let lt = self.table.lock_table().quoted();
        let me = ProcessId::current();
        let busy_ms = self.lock_timeout.as_millis().min(i64::MAX as u128);
        let Inner::Lite(c) = &mut self.inner else {
            unreachable!("lock rows are SQLite's")
        };
        let (master, lock_name) = match &self.table.schema {
            Some(sch) => (
                format!("\"{sch}\".sqlite_master"),
                self.table.lock_table().table,
            ),
            None => ("sqlite_master".to_string(), self.table.lock_table().table),
        };
        let result: Result<(bool, Option<String>), sqlx::Error> = async {
            // Short waits while polling: a busy database is just "not yet".
            sqlx::raw_sql("PRAGMA busy_timeout = 1000").execute(&mut *c).await?;
            let exists: i64 = sqlx::query(&format!(
                "SELECT count(*) FROM {master} WHERE type = 'table' AND name = ?"
            ))
            .bind(&lock_name)
            .fetch_one(&mut *c)
            .await?
            .try_get(0)?;
            if exists == 0 {
                sqlx::raw_sql(&format!(
                    "CREATE TABLE IF NOT EXISTS {lt} (id INTEGER PRIMARY KEY CHECK (id = 1), \
                     pid INTEGER NOT NULL, host TEXT NOT NULL, process_start TEXT NOT NULL, \
                     acquired_at TEXT NOT NULL, owner TEXT)"
                ))
                .execute(&mut *c)
                .await?;
            }
            // A quick read first: no write lock while someone else holds the row.
            if let Some(row) = LockRow::read(&mut *c, &lt).await? {
                if row.holder.is_alive() {
                    return Ok((false, Some(row.describe()?)));
                }
            }
            if sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *c).await.is_err() {
                // Another writer holds the database; try again on the next poll.
                return Ok((false, None));
            }
            let inner: Result<(bool, Option<String>), sqlx::Error> = async {
                if let Some(row) = LockRow::read(&mut *c, &lt).await? {
                    let holder = row.describe()?;
                    if row.holder.is_alive() {
                        return Ok((false, Some(holder)));
                    }
                    progress(&format!(
                        "taking over the migration lock left by {holder} (that process is no longer running)"
                    ));
                    sqlx::query(&format!("DELETE FROM {lt} WHERE id = 1"))
                        .execute(&mut *c)
                        .await?;
                }
                sqlx::query(&format!(
                    "INSERT INTO {lt} (id, pid, host, process_start, acquired_at, owner) VALUES (1, ?, ?, ?, ?, ?)"
                ))
                .bind(me.pid)
                .bind(&me.host)
                .bind(&me.start)
                .bind(now_rfc3339())
                .bind(application_name())
                .execute(&mut *c)
                .await?;
                Ok((true, None))
            }
            .await;
            match inner {
                Ok((true, _)) => {
                    sqlx::raw_sql("COMMIT").execute(&mut *c).await?;
                    Ok((true, None))
                }
                other => {
                    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *c).await;
                    other
                }
            }
        }
        .await;
        // Migrations wait for other writers up to the lock timeout.
        let _ = sqlx::raw_sql(&format!("PRAGMA busy_timeout = {busy_ms}"))
            .execute(&mut *c)
            .await;
        let (got, holder) = match result {
            Err(e) if is_busy(&e) => (false, None),
            other => other.map_err(|e| self.db_error("taking the migration lock", e))?,
        };
        if got {
            self.lock = Some(LockState::Row {
                pid: me.pid,
                host: me.host,
            });
        }
        Ok((got, holder))
    }

    /// Release the run lock (also done by PostgreSQL when the session ends).
    pub async fn unlock(&mut self) {
        let Some(state) = self.lock.take() else {
            return;
        };
        match (&mut self.inner, state) {
            (Inner::Pg(c), LockState::Advisory(key)) => {
                let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .execute(c)
                    .await;
            }
            (Inner::Lite(c), LockState::Row { pid, host }) => {
                let lt = self.table.lock_table().quoted();
                let _ = sqlx::query(&format!(
                    "DELETE FROM {lt} WHERE id = 1 AND pid = ? AND host = ?"
                ))
                .bind(pid)
                .bind(host)
                .execute(c)
                .await;
            }
            _ => {}
        }
    }

    /// Close the connection cleanly.
    pub async fn close(mut self) {
        self.unlock().await;
        let _ = for_both!(self.inner, |c| c.close().await);
    }
}

/// A PostgreSQL string literal that means `s` whatever `standard_conforming_strings` is.
fn pg_literal(s: &str) -> String {
    format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// SQLITE_BUSY or SQLITE_LOCKED (any extended code): another connection is writing.
fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<i64>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

/// The history table's columns, in the order [`Db::insert_history`] binds them and
/// [`history_row`] reads them.
const HISTORY_COLUMNS: &str =
    "version, name, checksum, applied_at, execution_ms, applied_by, git_sha, run_id";

/// A history row read from a query selecting [`HISTORY_COLUMNS`] (`applied_at` as text).
fn history_row<'r, R>(r: &'r R) -> Result<AppliedRow, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(AppliedRow {
        version: r.try_get(0)?,
        name: r.try_get(1)?,
        checksum: r.try_get(2)?,
        applied_at: r.try_get(3)?,
        execution_ms: r.try_get(4)?,
        applied_by: r.try_get(5)?,
        git_sha: r.try_get(6)?,
        run_id: r.try_get(7)?,
    })
}

/// `ship-run-migrations` plus what identifies this run, as PostgreSQL's `application_name`
/// (shown to a runner waiting for the lock). At most 63 bytes.
pub fn application_name() -> String {
    let mut s = format!("ship-run-migrations pid {}", std::process::id());
    if let Ok(run) = std::env::var("GITHUB_RUN_ID") {
        if !run.is_empty() {
            s.push_str(&format!(" run {run}"));
        }
    }
    s.push_str(&format!(" on {}", hostname()));
    let mut end = s.len().min(63);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

/// Now, RFC 3339 with milliseconds, UTC.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// A process, identified well enough to tell whether it is still running.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ProcessId {
    pid: i64,
    host: String,
    /// Start time in clock ticks since boot (Linux `/proc/PID/stat` field 22); guards against
    /// pid reuse. Empty where unknown.
    start: String,
}

impl ProcessId {
    fn current() -> ProcessId {
        let pid = std::process::id() as i64;
        ProcessId {
            pid,
            host: hostname(),
            start: proc_start_time(pid).unwrap_or_default(),
        }
    }

    /// Whether the process may still be running. Unknown (another host, no `/proc`) counts
    /// as alive: only a provably dead holder is taken over.
    fn is_alive(&self) -> bool {
        if self.host != hostname() || !std::path::Path::new("/proc/self/stat").exists() {
            return true;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) else {
            return false;
        };
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            return true;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        if fields.first() == Some(&"Z") || fields.first() == Some(&"X") {
            return false; // a zombie: killed, not yet reaped
        }
        match fields.get(19) {
            Some(start) if !self.start.is_empty() => *start == self.start,
            _ => true,
        }
    }

    fn describe(&self, since: &str, owner: &str) -> String {
        let mut s = format!("pid {} on host {}", self.pid, self.host);
        if !owner.is_empty() {
            s.push_str(&format!(" (`{owner}`"));
            if !since.is_empty() {
                s.push_str(&format!(", since {since}"));
            }
            s.push(')');
        } else if !since.is_empty() {
            s.push_str(&format!(" (since {since})"));
        }
        s
    }
}

/// The row of the SQLite lock table, when there is one.
struct LockRow {
    holder: ProcessId,
    /// The rest of the row (when the lock was taken, the holder's application name), read
    /// by [`LockRow::describe`].
    row: sqlx::sqlite::SqliteRow,
}

impl LockRow {
    async fn read(
        c: &mut SqliteConnection,
        lock_table: &str,
    ) -> Result<Option<LockRow>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT pid, host, process_start, acquired_at, coalesce(owner, '') FROM {lock_table} WHERE id = 1"
        ))
        .fetch_optional(c)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let holder = ProcessId {
            pid: row.try_get(0)?,
            host: row.try_get(1)?,
            start: row.try_get(2)?,
        };
        Ok(Some(LockRow { holder, row }))
    }

    /// The holder, for messages: pid, host, application name and since when.
    fn describe(&self) -> Result<String, sqlx::Error> {
        let since: String = self.row.try_get(3)?;
        let owner: String = self.row.try_get(4)?;
        Ok(self.holder.describe(&since, &owner))
    }
}

fn proc_start_time(pid: i64) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_masking_and_redaction() {
        let u = DatabaseUrl::new("postgres://app:s%40cret@db:5432/app");
        assert_eq!(u.masked(), "postgres://app:***@db:5432/app");
        assert_eq!(
            u.redact("password s@cret and s%40cret"),
            "password *** and ***"
        );
        assert_eq!(u.backend().unwrap(), Backend::Postgres);
        let plain = DatabaseUrl::new("sqlite://x.db");
        assert_eq!(plain.masked(), "sqlite://x.db");
        assert_eq!(plain.backend().unwrap(), Backend::Sqlite);
        // Without a scheme, and with the password in the query: masked all the same.
        let bare = DatabaseUrl::new("app:zq-bare-pw@db/app");
        assert_eq!(bare.masked(), "app:***@db/app");
        let err = bare.backend().unwrap_err().to_string();
        assert!(err.contains("has no scheme"), "{err}");
        assert!(!err.contains("zq-bare-pw"), "{err}");
        let query = DatabaseUrl::new("postgres://app@db/app?password=zq-query-pw");
        assert_eq!(query.masked(), "postgres://app@db/app?password=***");
        assert!(DatabaseUrl::new("mysql://x").backend().is_err());
        assert!(DatabaseUrl::new("").backend().is_err());
    }

    #[test]
    fn table_names() {
        assert_eq!(
            TableName::parse("schema_migrations").unwrap().quoted(),
            "\"schema_migrations\""
        );
        assert_eq!(
            TableName::parse("ops.history").unwrap().quoted(),
            "\"ops\".\"history\""
        );
        for bad in ["", "a.b.c", "1x", "x;drop", "a-b", "\"x\""] {
            assert!(TableName::parse(bad).is_err(), "{bad}");
        }
        let a = TableName::parse("schema_migrations").unwrap().lock_key();
        let b = TableName::parse("other").unwrap().lock_key();
        assert_ne!(a, b);
        assert_eq!(a, TableName::parse("SCHEMA_MIGRATIONS").unwrap().lock_key());
    }

    #[test]
    fn actor_from_github_env() {
        let env = |k: &str| {
            match k {
                "GITHUB_ACTOR" => Some("octocat"),
                "GITHUB_SHA" => Some("abc123"),
                "GITHUB_RUN_ID" => Some("42"),
                "GITHUB_RUN_ATTEMPT" => Some("2"),
                _ => None,
            }
            .map(str::to_string)
        };
        assert_eq!(
            Actor::from_lookup(env),
            Actor {
                applied_by: Some("octocat".into()),
                git_sha: Some("abc123".into()),
                run_id: Some("42/2".into()),
            }
        );
    }

    #[test]
    fn this_process_is_alive_and_a_dead_one_is_not() {
        let me = ProcessId::current();
        assert!(me.is_alive());
        if std::path::Path::new("/proc/self/stat").exists() {
            let gone = ProcessId {
                pid: i32::MAX as i64,
                ..me.clone()
            };
            assert!(!gone.is_alive());
            let reused = ProcessId {
                start: "1".into(),
                ..me
            };
            assert!(!reused.is_alive());
        }
    }
}
