//! The runner against real databases: a PostgreSQL cluster started by
//! `tests/infra/postgres.sh` and SQLite files. Every scenario that applies to both runs on
//! both (`<scenario>::postgres`, `<scenario>::sqlite`).

mod common;

use common::{wait_until, Kind, TestDb, PASSWORD};
use std::time::Duration;

/// Run a scenario on both databases.
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn postgres() {
                super::$name(super::Kind::Postgres)
            }
            #[test]
            fn sqlite() {
                super::$name(super::Kind::Sqlite)
            }
        }
    )*};
}

both!(
    fresh_database_then_rerun_is_a_no_op,
    three_migrations_then_two_more,
    failing_middle_migration_is_rolled_back_and_rerun_continues,
    two_runners_at_once_apply_each_migration_once,
    lock_timeout_names_the_holder,
    sigkill_mid_migration_leaves_no_partial_state,
    changed_checksum_is_an_error_naming_the_file,
    crlf_copy_of_an_applied_file_is_not_a_change,
    down_reverts_and_refuses_irreversible,
    command_mode_runs_under_the_lock,
    duplicates_gaps_and_bad_names_are_errors_naming_files,
    target_stops_at_a_version,
    github_outputs_and_step_summary,
);

/// A statement that keeps the database busy for about `secs` seconds.
fn slow(kind: Kind, secs: f64) -> String {
    match kind {
        Kind::Postgres => format!("SELECT pg_sleep({secs});"),
        Kind::Sqlite => format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {}) SELECT count(*) FROM c;",
            (secs * 2_500_000.0) as u64
        ),
    }
}

fn fresh_database_then_rerun_is_a_no_op(kind: Kind) {
    let db = TestDb::new(kind, "fresh");
    db.write(
        "0001_users.sql",
        "CREATE TABLE users (id integer PRIMARY KEY, email text);\n",
    );
    db.write(
        "0002_orders.sql",
        "-- orders and a first user\nCREATE TABLE orders (id integer PRIMARY KEY, user_id integer);\nINSERT INTO users (id, email) VALUES (1, 'a@example.com');\n",
    );
    db.write(
        "0003_users_name.sql",
        "ALTER TABLE users ADD COLUMN name text;\n",
    );
    let run = db
        .cmd(&["up", "--format", "json"])
        .env("GITHUB_SHA", "0123456789abcdef")
        .env("GITHUB_RUN_ID", "4242")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .env("GITHUB_ACTOR", "octocat")
        .output()
        .unwrap();
    let run = common::Run::from(run);
    run.expect(0);
    let j = run.json();
    assert_eq!(j["applied_count"], 3);
    assert_eq!(j["version"], 3);
    assert_eq!(j["pending"], 0);
    assert_eq!(
        j["database"].as_str().unwrap().contains("***"),
        kind == Kind::Postgres
    );
    assert_eq!(db.history(), vec![1, 2, 3]);
    let rows = db.query(
        "SELECT name, checksum, applied_by, git_sha, run_id, execution_ms FROM schema_migrations WHERE version = 2",
    );
    assert_eq!(rows[0][0], "orders");
    assert_eq!(rows[0][1].len(), 64, "SHA-256 hex: {rows:?}");
    assert_eq!(&rows[0][2..5], ["octocat", "0123456789abcdef", "4242/2"]);
    assert!(rows[0][5].parse::<i64>().unwrap() >= 0);
    assert_eq!(db.scalar("SELECT count(*) FROM users"), "1");

    let again = db.run(&["up", "--format", "json"]);
    again.expect(0);
    assert_eq!(again.json()["applied_count"], 0);
    assert_eq!(again.json()["version"], 3);
    assert!(
        again.stderr.contains("nothing to apply"),
        "{}",
        again.stderr
    );
    assert_eq!(db.scalar("SELECT count(*) FROM users"), "1");

    let status = db.run(&["status", "--format", "json"]);
    status.expect(0);
    let s = status.json();
    assert_eq!(s["applied"], 3);
    assert_eq!(s["pending"], 0);
    assert_eq!(s["migrations"][0]["state"], "applied");
    let human = db.run(&["status"]);
    human.expect(0);
    assert!(human.stdout.contains("users_name") && human.stdout.contains("applied"));
}

fn three_migrations_then_two_more(kind: Kind) {
    let db = TestDb::new(kind, "three_two");
    for i in 1..=3 {
        db.write(
            &format!("{i:04}_t{i}.sql"),
            &format!("CREATE TABLE t{i} (id integer);\n"),
        );
    }
    db.run(&["up"]).expect(0);
    assert_eq!(db.history(), vec![1, 2, 3]);
    for i in 4..=5 {
        db.write(
            &format!("{i:04}_t{i}.sql"),
            &format!("CREATE TABLE t{i} (id integer);\n"),
        );
    }
    let plan = db.run(&["plan", "--format", "json"]);
    plan.expect(0);
    let p = plan.json();
    assert_eq!(p["pending"].as_array().unwrap().len(), 2);
    assert_eq!(p["pending"][0]["file"], "db/migrations/0004_t4.sql");
    let run = db.run(&["up", "--format", "json"]);
    run.expect(0);
    assert_eq!(run.json()["applied_count"], 2);
    assert_eq!(run.json()["version"], 5);
    assert_eq!(db.history(), vec![1, 2, 3, 4, 5]);
    assert!(db.table_exists("t5"));
}

fn failing_middle_migration_is_rolled_back_and_rerun_continues(kind: Kind) {
    let db = TestDb::new(kind, "failing");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    db.write(
        "0002_b.sql",
        "CREATE TABLE b (id integer);\nINSERT INTO b VALUES (1);\nINSERT INTO missing_table VALUES (1);\n",
    );
    db.write("0003_c.sql", "CREATE TABLE c (id integer);\n");
    let run = db.run(&["up", "--format", "json"]);
    run.expect(1);
    assert!(
        run.stderr.contains("db/migrations/0002_b.sql:3:"),
        "names file and line:\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("missing_table"), "{}", run.stderr);
    assert!(
        run.stderr.contains("INSERT INTO missing_table VALUES (1)"),
        "prints the statement:\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("rolled back"), "{}", run.stderr);
    let j = run.json();
    assert_eq!(j["applied_count"], 1);
    assert_eq!(j["failure"]["kind"], "migration");
    assert_eq!(j["failure"]["line"], 3);
    // The state before the failing migration, intact; nothing of it or after it.
    assert_eq!(db.history(), vec![1]);
    assert!(db.table_exists("a"));
    assert!(
        !db.table_exists("b"),
        "the failed migration's first statement was rolled back"
    );
    assert!(!db.table_exists("c"));

    db.write(
        "0002_b.sql",
        "CREATE TABLE b (id integer);\nINSERT INTO b VALUES (1);\nINSERT INTO b VALUES (2);\n",
    );
    let rerun = db.run(&["up", "--format", "json"]);
    rerun.expect(0);
    assert_eq!(rerun.json()["applied_count"], 2);
    assert_eq!(db.history(), vec![1, 2, 3]);
    assert_eq!(db.scalar("SELECT count(*) FROM b"), "2");
}

fn two_runners_at_once_apply_each_migration_once(kind: Kind) {
    let db = TestDb::new(kind, "two_runners");
    for i in 1..=3 {
        db.write(
            &format!("{i:04}_t{i}.sql"),
            &format!(
                "CREATE TABLE t{i} (id integer);\nINSERT INTO t{i} VALUES ({i});\n{}\n",
                slow(kind, 0.6)
            ),
        );
    }
    let a = db.spawn(&["up", "--format", "json"]);
    let b = db.spawn(&["up", "--format", "json"]);
    let a = common::Run::from(a.wait_with_output().unwrap());
    let b = common::Run::from(b.wait_with_output().unwrap());
    a.expect(0);
    b.expect(0);
    let (na, nb) = (
        a.json()["applied_count"].as_u64().unwrap(),
        b.json()["applied_count"].as_u64().unwrap(),
    );
    assert_eq!(
        na + nb,
        3,
        "every migration applied exactly once:\n{a:?}\n{b:?}"
    );
    assert!(
        na == 0 || nb == 0,
        "one runner applied everything while the other waited"
    );
    let waiter = if na == 0 { &a } else { &b };
    // PostgreSQL's advisory lock answers at once, so the waiter always sees the holder. On
    // SQLite the waiter may instead spend its wait inside SQLite's busy handler (the holder's
    // write transaction locks the whole file) and find the lock row free afterwards: then it
    // only says how long it waited.
    let saw_holder = waiter
        .stderr
        .contains("waiting for the migration lock, held by");
    let said_wait = waiter
        .stderr
        .contains("took the migration lock after waiting");
    assert!(
        saw_holder || (kind == Kind::Sqlite && said_wait),
        "the second runner waited for the lock:\n{}",
        waiter.stderr
    );
    assert_eq!(db.history(), vec![1, 2, 3]);
    for i in 1..=3 {
        assert_eq!(db.scalar(&format!("SELECT count(*) FROM t{i}")), "1");
    }
}

fn lock_timeout_names_the_holder(kind: Kind) {
    let db = TestDb::new(kind, "lock_timeout");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    // A --command run holds the migration lock while it sleeps.
    let holder = db.spawn(&["--command", "sleep 5"]);
    let held = wait_until(Duration::from_secs(20), || {
        match kind {
        Kind::Postgres => {
            db.scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
                != "0"
        }
        Kind::Sqlite => {
            db.table_exists("schema_migrations_lock")
                && db.scalar("SELECT count(*) FROM schema_migrations_lock") == "1"
        }
    }
    });
    assert!(held, "the --command runner took the lock");
    let run = db.run(&["up", "--lock-timeout", "1s"]);
    run.expect(1);
    assert!(run.stderr.contains("timed out after"), "{}", run.stderr);
    match kind {
        Kind::Postgres => assert!(
            run.stderr.contains("held by PostgreSQL backend pid ")
                && run.stderr.contains("application `ship-run-migrations pid"),
            "names the holder:\n{}",
            run.stderr
        ),
        Kind::Sqlite => assert!(
            run.stderr.contains(&format!("held by pid {}", holder.id())),
            "names the holder's pid:\n{}",
            run.stderr
        ),
    }
    assert!(
        db.history().is_empty(),
        "nothing applied while the lock was held"
    );
    let holder = common::Run::from(holder.wait_with_output().unwrap());
    holder.expect(0);
    db.run(&["up"]).expect(0);
    assert_eq!(db.history(), vec![1]);
}

fn sigkill_mid_migration_leaves_no_partial_state(kind: Kind) {
    let db = TestDb::new(kind, "sigkill");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    db.write(
        "0002_b.sql",
        &format!(
            "CREATE TABLE b (id integer);\nINSERT INTO b VALUES (1);\n{}\n",
            slow(kind, 5.0)
        ),
    );
    let mut child = db.spawn(&["up"]);
    // Migration 1 is committed and recorded; migration 2 is running its slow statement.
    let started = wait_until(Duration::from_secs(30), || {
        match kind {
        Kind::Postgres => {
            db.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%pg_sleep%'",
            ) == "1"
        }
        Kind::Sqlite => db.history() == vec![1],
    }
    });
    assert!(started, "the runner reached the slow migration");
    std::thread::sleep(Duration::from_millis(700));
    child.kill().expect("SIGKILL the runner");
    let status = child.wait().unwrap();
    assert!(!status.success());

    assert_eq!(
        db.history(),
        vec![1],
        "the killed migration is not recorded"
    );
    assert!(db.table_exists("a"));
    assert!(
        !db.table_exists("b"),
        "nothing of the killed migration is visible"
    );

    let rerun = db.run(&["up", "--format", "json"]);
    rerun.expect(0);
    assert_eq!(rerun.json()["applied_count"], 1);
    if kind == Kind::Sqlite {
        assert!(
            rerun
                .stderr
                .contains("taking over the migration lock left by pid"),
            "the killed runner's lock row is recognised as stale:\n{}",
            rerun.stderr
        );
    }
    assert_eq!(db.history(), vec![1, 2]);
    assert_eq!(db.scalar("SELECT count(*) FROM b"), "1");
}

fn changed_checksum_is_an_error_naming_the_file(kind: Kind) {
    let db = TestDb::new(kind, "changed");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    db.write("0002_b.sql", "CREATE TABLE b (id integer);\n");
    db.run(&["up"]).expect(0);
    db.write("0001_a.sql", "CREATE TABLE a (id integer, extra text);\n");
    db.write("0003_c.sql", "CREATE TABLE c (id integer);\n");

    let up = db.run(&["up"]);
    up.expect(1);
    assert!(
        up.stderr.contains("db/migrations/0001_a.sql"),
        "{}",
        up.stderr
    );
    assert!(up.stderr.contains("--allow-changed"), "{}", up.stderr);
    assert!(
        !db.table_exists("c"),
        "nothing applied when an applied file changed"
    );

    let verify = db.run(&["verify"]);
    verify.expect(1);
    assert!(
        verify.all().contains("db/migrations/0001_a.sql"),
        "{}",
        verify.all()
    );
    let status = db.run(&["status", "--format", "json"]);
    status.expect(0);
    assert_eq!(status.json()["migrations"][0]["state"], "changed");
    assert_eq!(status.json()["changed"], 1);

    db.run(&["verify", "--allow-changed"]).expect(0);
    let accept = db.run(&["up", "--allow-changed"]);
    accept.expect(0);
    assert!(
        accept
            .stderr
            .contains("accepted the edit of applied migration db/migrations/0001_a.sql"),
        "{}",
        accept.stderr
    );
    assert!(db.table_exists("c"));
    db.run(&["verify"]).expect(0);
}

fn crlf_copy_of_an_applied_file_is_not_a_change(kind: Kind) {
    let db = TestDb::new(kind, "crlf");
    let lf = "-- a table\nCREATE TABLE a (id integer);\nINSERT INTO a VALUES (1);\n";
    db.write("0001_a.sql", lf);
    db.run(&["up"]).expect(0);
    db.write("0001_a.sql", &lf.replace('\n', "\r\n"));
    let verify = db.run(&["verify"]);
    verify.expect(0);
    assert!(
        verify.stdout.contains("checksums match"),
        "{}",
        verify.stdout
    );
    let up = db.run(&["up", "--format", "json"]);
    up.expect(0);
    assert_eq!(up.json()["applied_count"], 0);
    let status = db.run(&["status", "--format", "json"]);
    assert_eq!(status.json()["migrations"][0]["state"], "applied");
    assert_eq!(db.scalar("SELECT count(*) FROM a"), "1");
}

fn down_reverts_and_refuses_irreversible(kind: Kind) {
    let db = TestDb::new(kind, "down");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    db.write("0002_b.sql", "CREATE TABLE b (id integer);\n");
    db.write("0002_b.down.sql", "DROP TABLE b;\n");
    db.write("0003_c.sql", "ALTER TABLE a ADD COLUMN c text;\n");
    db.write(
        "0003_c.down.sql",
        "-- ship:allow drop-column down migration\nALTER TABLE a DROP COLUMN c;\n",
    );
    db.run(&["up"]).expect(0);
    assert_eq!(db.history(), vec![1, 2, 3]);

    let down = db.run(&["down", "--to", "1", "--format", "json"]);
    down.expect(0);
    let j = down.json();
    let reverted: Vec<i64> = j["reverted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert_eq!(reverted, vec![3, 2], "newest first");
    assert_eq!(j["version"], 1);
    assert_eq!(db.history(), vec![1]);
    assert!(!db.table_exists("b"));

    let refused = db.run(&["down", "--to", "0"]);
    refused.expect(2);
    assert!(
        refused
            .stderr
            .contains("db/migrations/0001_a.sql is irreversible"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("0001_a.down.sql"),
        "{}",
        refused.stderr
    );
    assert_eq!(db.history(), vec![1], "nothing reverted when refused");

    db.run(&["up"]).expect(0);
    assert_eq!(db.history(), vec![1, 2, 3]);
}

fn command_mode_runs_under_the_lock(kind: Kind) {
    let db = TestDb::new(kind, "command");
    let cmd = match kind {
        // Creates a table with psql and records how many advisory locks are held meanwhile.
        Kind::Postgres => concat!(
            r#"psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qc "CREATE TABLE from_cmd (x int)" && "#,
            r#"psql "$DATABASE_URL" -Atc "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())" > locks.txt"#
        ),
        // Records whether the lock row is there while the command runs.
        Kind::Sqlite => r#"echo "$DATABASE_URL" > url.txt && ls app.db > ran.txt"#,
    };
    let run = db.run(&["--command", cmd, "--format", "json"]);
    run.expect(0);
    let j = run.json();
    assert_eq!(j["success"], true);
    assert_eq!(j["exit_code"], 0);
    assert!(
        run.stderr.contains("under the migration lock"),
        "{}",
        run.stderr
    );
    match kind {
        Kind::Postgres => {
            assert!(db.table_exists("from_cmd"));
            let locks = std::fs::read_to_string(db.work.path().join("locks.txt")).unwrap();
            assert_eq!(
                locks.trim(),
                "1",
                "the advisory lock was held while the command ran"
            );
            assert_eq!(
                db.scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
                "0",
                "and released after"
            );
        }
        Kind::Sqlite => {
            assert!(db.work.path().join("ran.txt").exists());
            let url = std::fs::read_to_string(db.work.path().join("url.txt")).unwrap();
            assert_eq!(url.trim(), db.url, "DATABASE_URL is passed to the command");
            assert_eq!(
                db.scalar("SELECT count(*) FROM schema_migrations_lock"),
                "0",
                "released"
            );
        }
    }
    let failed = db.run(&["--command", "echo failing >&2; exit 3", "--format", "json"]);
    failed.expect(1);
    assert_eq!(failed.json()["exit_code"], 3);
    assert!(failed.stderr.contains("exit status 3"), "{}", failed.stderr);
}

fn duplicates_gaps_and_bad_names_are_errors_naming_files(kind: Kind) {
    let db = TestDb::new(kind, "names");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    db.write("001_again.sql", "CREATE TABLE again (id integer);\n");
    let dup = db.run(&["up"]);
    dup.expect(2);
    assert!(
        dup.stderr.contains("db/migrations/0001_a.sql")
            && dup.stderr.contains("db/migrations/001_again.sql"),
        "{}",
        dup.stderr
    );
    db.remove("001_again.sql");
    db.write("V2__flyway_style.sql", "SELECT 1;\n");
    let bad = db.run(&["up"]);
    bad.expect(2);
    assert!(
        bad.stderr.contains("db/migrations/V2__flyway_style.sql"),
        "{}",
        bad.stderr
    );
    db.remove("V2__flyway_style.sql");

    db.write("0003_c.sql", "CREATE TABLE c (id integer);\n");
    db.run(&["up"]).expect(0);
    db.write("0002_b.sql", "CREATE TABLE b (id integer);\n");
    let gap = db.run(&["up"]);
    gap.expect(2);
    assert!(
        gap.stderr.contains("db/migrations/0002_b.sql"),
        "{}",
        gap.stderr
    );
    assert!(
        gap.stderr.contains("0004_b.sql"),
        "suggests a new number:\n{}",
        gap.stderr
    );
    assert!(!db.table_exists("b"));
    // A transaction-control statement in a transactional file is refused before anything runs.
    db.remove("0002_b.sql");
    db.write(
        "0004_d.sql",
        "BEGIN;\nCREATE TABLE d (id integer);\nCOMMIT;\n",
    );
    let tc = db.run(&["up"]);
    tc.expect(2);
    assert!(
        tc.stderr.contains("db/migrations/0004_d.sql:1 (BEGIN)"),
        "{}",
        tc.stderr
    );
}

fn target_stops_at_a_version(kind: Kind) {
    let db = TestDb::new(kind, "target");
    for i in 1..=3 {
        db.write(
            &format!("{i:04}_t{i}.sql"),
            &format!("CREATE TABLE t{i} (id integer);\n"),
        );
    }
    let run = db.run(&["up", "--target", "2", "--format", "json"]);
    run.expect(0);
    assert_eq!(run.json()["applied_count"], 2);
    assert_eq!(run.json()["pending"], 1);
    assert_eq!(db.history(), vec![1, 2]);
    db.run(&["up", "--target", "9"]).expect(2);
    db.run(&["up"]).expect(0);
    assert_eq!(db.history(), vec![1, 2, 3]);
}

fn github_outputs_and_step_summary(kind: Kind) {
    let db = TestDb::new(kind, "outputs");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    db.write("0002_b.sql", "CREATE TABLE b (id integer);\n");
    let out = db.work.path().join("github_output");
    let summary = db.work.path().join("step_summary");
    let run = db
        .cmd(&["up"])
        .env("GITHUB_OUTPUT", &out)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    common::Run::from(run).expect(0);
    let outputs = std::fs::read_to_string(&out).unwrap();
    for line in ["applied=2", "version=2", "pending=0"] {
        assert!(outputs.lines().any(|l| l == line), "{line} in {outputs}");
    }
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("### ship-run-migrations up"), "{md}");
    assert!(md.contains("`db/migrations/0002_b.sql`"), "{md}");
    assert!(!md.contains(PASSWORD));
}

// PostgreSQL only.

#[test]
fn no_transaction_file_runs_create_index_concurrently() {
    let db = TestDb::postgres("no_tx");
    db.write(
        "0001_items.sql",
        "CREATE TABLE items (id integer, name text);\nINSERT INTO items VALUES (1, 'a');\n",
    );
    db.write(
        "0002_items_name.sql",
        "-- ship:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS items_name ON items (name);\n",
    );
    let run = db.run(&["up", "--format", "json"]);
    run.expect(0);
    assert_eq!(run.json()["applied"][1]["transaction"], false);
    assert_eq!(
        db.scalar(
            "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'items_name'::regclass"
        ),
        "true"
    );
    assert_eq!(db.history(), vec![1, 2]);

    // CONCURRENTLY in a transactional file: the lint stops it, and without the lint
    // PostgreSQL refuses it and the error says what to do.
    db.write(
        "0003_items_id.sql",
        "CREATE INDEX CONCURRENTLY items_id ON items (id);\n",
    );
    let linted = db.run(&["up"]);
    linted.expect(1);
    assert!(
        linted.stdout.contains("concurrently-in-transaction"),
        "{}",
        linted.stdout
    );
    let unlinted = db.run(&["up", "--no-lint"]);
    unlinted.expect(1);
    assert!(
        unlinted.stderr.contains("ship:no-transaction"),
        "{}",
        unlinted.stderr
    );
    assert_eq!(db.history(), vec![1, 2]);

    // A failing no-transaction migration: reported (what stays), not recorded; fixed, it runs.
    db.write(
        "0003_items_id.sql",
        "-- ship:no-transaction\nCREATE TABLE side (id integer);\nCREATE INDEX CONCURRENTLY items_id ON items (no_such_column);\n",
    );
    let failed = db.run(&["up"]);
    failed.expect(1);
    assert!(
        failed.stderr.contains("outside a transaction"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("`CREATE TABLE side (id integer)`"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("0003_items_id.sql:3:"),
        "{}",
        failed.stderr
    );
    assert_eq!(db.history(), vec![1, 2]);
    db.write(
        "0003_items_id.sql",
        "-- ship:no-transaction\nCREATE TABLE IF NOT EXISTS side (id integer);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS items_id ON items (id);\n",
    );
    db.run(&["up"]).expect(0);
    assert_eq!(db.history(), vec![1, 2, 3]);
}

#[test]
fn sqlite_no_transaction_file_runs_vacuum() {
    let db = TestDb::sqlite("no_tx");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    db.write("0002_vacuum.sql", "VACUUM;\n");
    let inside = db.run(&["up"]);
    inside.expect(1);
    assert!(
        inside.stderr.contains("0002_vacuum.sql:1:"),
        "{}",
        inside.stderr
    );
    assert_eq!(db.history(), vec![1]);
    db.write("0002_vacuum.sql", "-- ship:no-transaction\nVACUUM;\n");
    db.run(&["up"]).expect(0);
    assert_eq!(db.history(), vec![1, 2]);
}

#[test]
fn lint_blocks_up_and_allow_prints_the_reason() {
    let db = TestDb::postgres("lint_gate");
    db.write(
        "0001_users.sql",
        "CREATE TABLE users (id integer, legacy text);\n",
    );
    db.run(&["up"]).expect(0);
    db.write(
        "0002_drop_legacy.sql",
        "ALTER TABLE users DROP COLUMN legacy;\n",
    );
    let blocked = db.run(&["up"]);
    blocked.expect(1);
    assert!(
        blocked.stdout.contains("error[drop-column]"),
        "{}",
        blocked.stdout
    );
    assert!(
        blocked
            .stdout
            .contains("db/migrations/0002_drop_legacy.sql:1:"),
        "{}",
        blocked.stdout
    );
    assert!(
        blocked.stderr.contains("nothing was applied"),
        "{}",
        blocked.stderr
    );
    assert_eq!(db.history(), vec![1]);

    let plan = db.run(&["plan"]);
    plan.expect(1);
    assert!(
        plan.stdout.contains("up would refuse to run"),
        "{}",
        plan.stdout
    );

    db.write(
        "0002_drop_legacy.sql",
        "-- ship:allow drop-column unused since release 41\nALTER TABLE users DROP COLUMN legacy;\n",
    );
    let allowed = db.run(&["up"]);
    allowed.expect(0);
    assert!(
        allowed.stdout.contains("note[drop-column]")
            && allowed.stdout.contains("reason: unused since release 41"),
        "the annotation's reason is printed:\n{}",
        allowed.stdout
    );
    assert_eq!(db.history(), vec![1, 2]);
}

#[test]
fn plan_changes_nothing() {
    let db = TestDb::postgres("plan");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    db.write(
        "0002_b.sql",
        "-- ship:no-transaction\nCREATE TABLE b (id integer);\n",
    );
    let plan = db.run(&["plan", "--format", "json"]);
    plan.expect(0);
    let j = plan.json();
    assert_eq!(j["pending"].as_array().unwrap().len(), 2);
    assert_eq!(j["pending"][1]["transaction"], false);
    assert!(
        !db.table_exists("schema_migrations"),
        "plan creates nothing"
    );
    assert!(!db.table_exists("a"));
}

#[test]
fn unreachable_database_is_reported_without_the_password() {
    let db = TestDb::sqlite("unreachable");
    db.write("0001_a.sql", "SELECT 1;\n");
    let url = format!("postgres://app:{PASSWORD}@127.0.0.1:1/app");
    let run = common::Run::from(
        std::process::Command::new(common::BIN)
            .current_dir(db.work.path())
            .args(["up", "--database-url", &url])
            .output()
            .unwrap(),
    );
    run.expect(1);
    assert!(
        run.stderr
            .contains("cannot connect to postgres://app:***@127.0.0.1:1/app"),
        "{}",
        run.stderr
    );
    let bad = common::Run::from(
        std::process::Command::new(common::BIN)
            .current_dir(db.work.path())
            .args(["up", "--database-url", "mysql://root:x@h/db"])
            .output()
            .unwrap(),
    );
    bad.expect(2);
}

#[test]
fn custom_history_table_in_its_own_schema() {
    let db = TestDb::postgres("custom_table");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    // A migration that moves search_path must not move the history table.
    db.write(
        "0002_path.sql",
        "CREATE SCHEMA app;\nSET search_path TO app;\n",
    );
    db.write("0003_b.sql", "CREATE TABLE b (id integer);\n");
    db.run(&["up", "--table", "ops.migrations"]).expect(0);
    assert_eq!(db.scalar("SELECT count(*) FROM ops.migrations"), "3");
    assert!(!db.table_exists("schema_migrations"));
    // Another tool's table of the default name is recognised, not misread.
    let other = TestDb::postgres("foreign_table");
    other.query(
        "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)",
    );
    other.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    let run = other.run(&["up"]);
    run.expect(2);
    assert!(run.stderr.contains("golang-migrate"), "{}", run.stderr);
}

#[test]
fn json_errors_are_documents_too() {
    let db = TestDb::sqlite("json_error");
    db.write("0001_a.sql", "SELECT 1;\n");
    db.write("0001_b.sql", "SELECT 2;\n");
    let run = db.run(&["up", "--format", "json"]);
    run.expect(2);
    let j = run.json();
    assert_eq!(j["exit_code"], 2);
    assert!(j["error"]
        .as_str()
        .unwrap()
        .contains("db/migrations/0001_b.sql"));
}

#[test]
fn help_never_shows_the_database_url() {
    let out = common::Run::from(
        std::process::Command::new(common::BIN)
            .arg("--help")
            .env(
                "DATABASE_URL",
                format!("postgres://app:{PASSWORD}@db.internal:5432/app"),
            )
            .output()
            .unwrap(),
    );
    out.expect(0);
    assert!(out.stdout.contains("[env: DATABASE_URL]"), "{}", out.stdout);
    assert!(!out.stdout.contains("db.internal"), "{}", out.stdout);
}

#[test]
fn lint_command_formats_exit_codes_and_docs() {
    let db = TestDb::sqlite("lint_cli");
    db.write(
        "0001_users.sql",
        "CREATE TABLE users (id integer, legacy text);\n",
    );
    db.write("0002_drop.sql", "ALTER TABLE users DROP COLUMN legacy;\n");
    db.write("0003_index.sql", "CREATE INDEX users_id ON users (id);\n");
    // No database needed: every file in --dir.
    let lint = |args: &[&str]| {
        common::Run::from(
            std::process::Command::new(common::BIN)
                .current_dir(db.work.path())
                .args(args)
                .env_remove("DATABASE_URL")
                .env("NO_COLOR", "1")
                .output()
                .unwrap(),
        )
    };
    let human = lint(&["lint"]);
    human.expect(1);
    assert!(
        human.stdout.contains("error[drop-column]"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("error[create-index-without-concurrently]"),
        "{}",
        human.stdout
    );
    // The SQLite dialect has no CONCURRENTLY to ask for.
    let lite = lint(&["lint", "--dialect", "sqlite", "--format", "json"]);
    lite.expect(1);
    let rules: Vec<String> = lite.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rules, vec!["drop-column"]);
    let since = lint(&["lint", "--since", "2", "--format", "sarif"]);
    since.expect(1);
    let sarif = since.json();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 1);
    let github = lint(&["lint", "db/migrations/0002_drop.sql", "--format", "github"]);
    github.expect(1);
    assert!(
        github
            .stdout
            .starts_with("::error file=db/migrations/0002_drop.sql,line=1,"),
        "{}",
        github.stdout
    );
    lint(&["lint", "db/migrations/0001_users.sql"]).expect(0);
    let explain = lint(&["lint", "--explain", "set-not-null"]);
    explain.expect(0);
    assert!(
        explain.stdout.contains("## How to fix"),
        "{}",
        explain.stdout
    );
    lint(&["lint", "--explain", "no-such-rule"]).expect(2);
    let list = lint(&["lint", "--list-rules"]);
    list.expect(0);
    assert_eq!(list.stdout.lines().count(), 16);
    lint(&["status", "--format", "sarif"]).expect(2);
}

#[test]
fn reading_commands_do_not_create_a_missing_sqlite_file() {
    let db = TestDb::sqlite("missing");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    for command in ["status", "plan", "verify"] {
        let run = db.run(&[command]);
        run.expect(2);
        assert!(
            run.stderr.contains("app.db` does not exist")
                && run.stderr.contains("run `up` to create it"),
            "{command}: {}",
            run.stderr
        );
    }
    assert!(
        !db.work.path().join("app.db").exists(),
        "no empty database left behind"
    );
    db.run(&["up"]).expect(0);
    db.run(&["status"]).expect(0);
}

/// A migration that needs a lock another session holds fails after --table-lock-timeout
/// (PostgreSQL's lock_timeout) instead of queueing every later query behind it.
#[test]
fn table_lock_timeout_fails_a_blocked_alter_fast() {
    let db = TestDb::postgres("table_lock_timeout");
    db.write("0001_items.sql", "CREATE TABLE items (id integer);\n");
    db.run(&["up"]).expect(0);
    db.write(
        "0002_items_note.sql",
        "ALTER TABLE items ADD COLUMN note text;\n",
    );

    // Another session reads the table in an open transaction: ALTER TABLE must wait for it.
    let url = db.url.clone();
    let holder = common::block_on(async move {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
        sqlx::raw_sql("BEGIN; LOCK TABLE items IN ACCESS SHARE MODE;")
            .execute(&mut c)
            .await
            .expect("lock the table");
        c
    });
    let started = std::time::Instant::now();
    let run = db.run(&["up", "--table-lock-timeout", "1s"]);
    run.expect(1);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "failed fast: {:?}",
        started.elapsed()
    );
    assert!(
        run.stderr.contains("--table-lock-timeout") && run.stderr.contains("rolled back"),
        "{}",
        run.stderr
    );
    assert_eq!(
        db.history(),
        vec![1],
        "the blocked migration is not recorded"
    );

    drop(holder);
    db.run(&["up", "--table-lock-timeout", "0"]).expect(0);
    assert_eq!(db.history(), vec![1, 2]);
}

/// On a runner, a `--command` tool's output is one collapsible group, and ship's own report
/// comes after it, outside the group.
#[test]
fn command_output_is_a_log_group_on_a_runner() {
    let db = TestDb::sqlite("command_group");
    let run = db
        .cmd(&["up", "--command", "echo from-the-tool"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    let run = common::Run::from(run);
    run.expect(0);
    let err = &run.stderr;
    let start = err.find("::group::output of `echo from-the-tool`");
    let line = err.find("\nfrom-the-tool\n");
    let end = err.find("::endgroup::");
    assert!(
        matches!((start, line, end), (Some(s), Some(l), Some(e)) if s < l && l < e),
        "{err}"
    );
    // Off a runner: no markers.
    let plain = db.run(&["up", "--command", "echo from-the-tool"]);
    plain.expect(0);
    assert!(!plain.stderr.contains("::group::"), "{}", plain.stderr);
}
