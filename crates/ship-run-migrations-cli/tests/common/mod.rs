//! Test infrastructure: a real PostgreSQL cluster started through `tests/infra/postgres.sh`
//! (stopped when the last test using it drops its handle, and by the script's watchdog if the
//! test process dies), SQLite files, and helpers to run the binary and query the database.
//!
//! Nothing is skipped: if PostgreSQL cannot be installed or started, the tests fail and say why.

#![allow(dead_code)]

use sqlx::{Column, Connection, Row, TypeInfo};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_ship-run-migrations");

/// The password put in every PostgreSQL URL (trust auth ignores it); it must never be printed.
pub const PASSWORD: &str = "Sup3r-s3cret-pw";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/infra/postgres.sh")
}

/// A running throwaway cluster.
pub struct Cluster {
    dir: PathBuf,
    pub port: u16,
}

impl Cluster {
    fn start() -> Cluster {
        let mut last_error = String::new();
        for attempt in 0..3 {
            let port = free_port();
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            // Directly under /tmp: the `postgres` user must be able to reach it.
            let dir = PathBuf::from(format!(
                "/tmp/ship-pg-{}-{nanos}-{attempt}",
                std::process::id()
            ));
            let out = Command::new("bash")
                .arg(script())
                .arg("start")
                .arg(&dir)
                .arg(port.to_string())
                .env("OWNER_PID", std::process::id().to_string())
                .stdin(Stdio::null())
                .output()
                .expect("run tests/infra/postgres.sh");
            if out.status.success() {
                return Cluster { dir, port };
            }
            last_error = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let _ = Command::new("bash")
                .arg(script())
                .arg("stop")
                .arg(&dir)
                .output();
        }
        panic!(
            "could not start a PostgreSQL cluster for the tests with tests/infra/postgres.sh \
             (these tests need a real server; run `tests/infra/postgres.sh install` as root to \
             install Debian's postgresql package):\n{last_error}"
        );
    }

    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .output();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a free port on 127.0.0.1")
}

/// The shared cluster; started on first use, stopped when the last holder drops it.
pub fn cluster() -> Arc<Cluster> {
    static SHARED: Mutex<Weak<Cluster>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = shared.upgrade() {
        return c;
    }
    let c = Arc::new(Cluster::start());
    *shared = Arc::downgrade(&c);
    c
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Postgres,
    Sqlite,
}

/// One test's database and working directory (with `db/migrations/`).
pub struct TestDb {
    pub kind: Kind,
    pub url: String,
    pub work: tempfile::TempDir,
    _cluster: Option<Arc<Cluster>>,
}

impl TestDb {
    pub fn postgres(name: &str) -> TestDb {
        let cluster = cluster();
        let db = format!("t_{name}");
        block_on(async {
            let mut c = sqlx::PgConnection::connect(&cluster.admin_url())
                .await
                .expect("connect to the test cluster");
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .execute(&mut c)
                .await
                .expect("drop database");
            sqlx::raw_sql(&format!("CREATE DATABASE {db}"))
                .execute(&mut c)
                .await
                .expect("create database");
        });
        let work = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(work.path().join("db/migrations")).unwrap();
        TestDb {
            kind: Kind::Postgres,
            url: format!(
                "postgres://postgres:{PASSWORD}@127.0.0.1:{}/{db}",
                cluster.port
            ),
            work,
            _cluster: Some(cluster),
        }
    }

    pub fn sqlite(_name: &str) -> TestDb {
        let work = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(work.path().join("db/migrations")).unwrap();
        TestDb {
            kind: Kind::Sqlite,
            url: format!("sqlite://{}", work.path().join("app.db").display()),
            work,
            _cluster: None,
        }
    }

    pub fn new(kind: Kind, name: &str) -> TestDb {
        match kind {
            Kind::Postgres => TestDb::postgres(name),
            Kind::Sqlite => TestDb::sqlite(name),
        }
    }

    pub fn dir(&self) -> PathBuf {
        self.work.path().join("db/migrations")
    }

    /// Write `db/migrations/<file>`.
    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir().join(file), text).unwrap();
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.dir().join(file)).unwrap();
    }

    /// The binary with `--database-url`, run in the work directory, with no GitHub variables.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.work.path())
            .args(args)
            .arg("--database-url")
            .arg(&self.url)
            .env_remove("DATABASE_URL")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("GITHUB_SHA")
            .env_remove("GITHUB_RUN_ID")
            .env_remove("GITHUB_RUN_ATTEMPT")
            .env_remove("GITHUB_ACTOR")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("run ship-run-migrations"))
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ship-run-migrations")
    }

    /// Rows of `sql`, every value as text (NULL as "NULL").
    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        let url = self.url.clone();
        let kind = self.kind;
        let sql = sql.to_string();
        block_on(async move {
            match kind {
                Kind::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
                    let rows = sqlx::query(&sql)
                        .fetch_all(&mut c)
                        .await
                        .unwrap_or_else(|e| panic!("query `{sql}` failed: {e}"));
                    rows.iter()
                        .map(|r| (0..r.len()).map(|i| pg_text(r, i)).collect())
                        .collect()
                }
                Kind::Sqlite => {
                    // The runner may not have created the file yet.
                    let opts =
                        <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&url)
                            .expect("sqlite url")
                            .create_if_missing(true);
                    let mut c = sqlx::SqliteConnection::connect_with(&opts)
                        .await
                        .expect("connect");
                    let rows = sqlx::query(&sql)
                        .fetch_all(&mut c)
                        .await
                        .unwrap_or_else(|e| panic!("query `{sql}` failed: {e}"));
                    rows.iter()
                        .map(|r| (0..r.len()).map(|i| lite_text(r, i)).collect())
                        .collect()
                }
            }
        })
    }

    pub fn scalar(&self, sql: &str) -> String {
        self.query(sql)
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .unwrap_or_else(|| "NULL".into())
    }

    /// Does table `name` exist (committed, visible to a new connection)?
    pub fn table_exists(&self, name: &str) -> bool {
        match self.kind {
            Kind::Postgres => {
                self.scalar(&format!("SELECT (to_regclass('{name}') IS NOT NULL)::text")) == "true"
            }
            Kind::Sqlite => {
                self.scalar(&format!(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{name}'"
                )) == "1"
            }
        }
    }

    /// Versions recorded in the history table.
    pub fn history(&self) -> Vec<i64> {
        if !self.table_exists("schema_migrations") {
            return Vec::new();
        }
        self.query("SELECT version FROM schema_migrations ORDER BY version")
            .into_iter()
            .map(|r| r[0].parse().unwrap())
            .collect()
    }
}

fn pg_text(r: &sqlx::postgres::PgRow, i: usize) -> String {
    let ty = r.column(i).type_info().name().to_string();
    let v: Option<String> = match ty.as_str() {
        "INT8" => r
            .try_get::<Option<i64>, _>(i)
            .unwrap()
            .map(|v| v.to_string()),
        "INT4" => r
            .try_get::<Option<i32>, _>(i)
            .unwrap()
            .map(|v| v.to_string()),
        "BOOL" => r
            .try_get::<Option<bool>, _>(i)
            .unwrap()
            .map(|v| v.to_string()),
        _ => r
            .try_get::<Option<String>, _>(i)
            .unwrap_or_else(|e| panic!("column {i} ({ty}): {e}")),
    };
    v.unwrap_or_else(|| "NULL".into())
}

fn lite_text(r: &sqlx::sqlite::SqliteRow, i: usize) -> String {
    if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
        return v.map(|v| v.to_string()).unwrap_or_else(|| "NULL".into());
    }
    r.try_get::<Option<String>, _>(i)
        .unwrap()
        .unwrap_or_else(|| "NULL".into())
}

/// A finished run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        let run = Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        };
        assert!(
            !run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD),
            "the database password leaked into the output:\n{run:?}"
        );
        assert!(
            !run.stderr.contains("panicked"),
            "ship-run-migrations panicked:\n{}",
            run.stderr
        );
        run
    }
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Wait for `f` to be true, polling, up to `timeout`.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}
