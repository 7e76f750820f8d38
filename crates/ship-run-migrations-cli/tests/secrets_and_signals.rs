//! Issue 16: the database password in no output (URLs without a scheme or with the password in
//! the query, `--format json` on a runner, a `--command`'s own output), and a cancelled
//! `--command` stopped as a whole process group before the migration lock is released, against
//! a real PostgreSQL cluster (`tests/infra/postgres.sh`).

mod common;

use common::{wait_until, TestDb, BIN, PASSWORD};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A finished run whose output may hold `::add-mask::` lines (GITHUB_ACTIONS=true).
struct RunnerRun {
    code: i32,
    stdout: String,
    stderr: String,
}

impl RunnerRun {
    fn from(o: Output) -> RunnerRun {
        let run = RunnerRun {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        };
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            let leaked: Vec<&str> = text
                .lines()
                .filter(|l| !l.starts_with("::add-mask::") && l.contains(PASSWORD))
                .collect();
            assert!(
                leaked.is_empty(),
                "the password is in {stream} outside ::add-mask:: lines: {leaked:?}\nstdout:\n{}\nstderr:\n{}",
                run.stdout,
                run.stderr
            );
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        run
    }

    #[track_caller]
    fn expect(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// The binary as on a runner, with `DATABASE_URL` set to `url`, in `dir`.
fn on_runner(dir: &std::path::Path, url: &str, args: &[&str]) -> RunnerRun {
    let out = Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .env("DATABASE_URL", url)
        .env("GITHUB_ACTIONS", "true")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    RunnerRun::from(out)
}

#[test]
fn url_without_scheme_or_with_the_password_in_the_query_is_masked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("db/migrations")).unwrap();
    std::fs::write(dir.path().join("db/migrations/0001_a.sql"), "SELECT 1;\n").unwrap();

    let bare = on_runner(
        dir.path(),
        &format!("app:{PASSWORD}@127.0.0.1:1/app"),
        &["up", "--format", "json"],
    );
    bare.expect(2);
    let error = bare.json()["error"].as_str().unwrap().to_string();
    assert!(error.contains("has no scheme"), "{error}");
    assert!(error.contains("app:***@127.0.0.1:1/app"), "{error}");
    assert!(
        bare.stderr
            .lines()
            .any(|l| l == format!("::add-mask::{PASSWORD}")),
        "the runner is told to mask it, on stderr:\n{}",
        bare.stderr
    );

    let query = on_runner(
        dir.path(),
        &format!("postgres://app@127.0.0.1:1/app?password={PASSWORD}"),
        &["up", "--format", "json"],
    );
    query.expect(1);
    let error = query.json()["error"].as_str().unwrap().to_string();
    assert!(error.contains("cannot connect to"), "{error}");
    assert!(error.contains("password=***"), "{error}");

    // The flag too, not only the environment.
    let flag = RunnerRun::from(
        Command::new(BIN)
            .current_dir(dir.path())
            .args(["status", "--database-url"])
            .arg(format!("app:{PASSWORD}@db.internal/app"))
            .env_remove("DATABASE_URL")
            .env_remove("GITHUB_ACTIONS")
            .output()
            .unwrap(),
    );
    flag.expect(2);
    assert!(
        flag.stderr.contains("app:***@db.internal/app"),
        "{}",
        flag.stderr
    );
}

#[test]
fn format_json_on_a_runner_is_one_json_document() {
    let db = TestDb::postgres("json_runner");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    let run = on_runner(db.work.path(), &db.url, &["up", "--format", "json"]);
    run.expect(0);
    assert_eq!(run.json()["applied_count"], 1);
    assert!(
        run.stderr
            .lines()
            .any(|l| l == format!("::add-mask::{PASSWORD}")),
        "{}",
        run.stderr
    );
    assert!(run.json()["database"]
        .as_str()
        .unwrap()
        .contains("postgres:***@"));
}

#[test]
fn command_output_is_masked() {
    let db = TestDb::postgres("command_output");
    let cmd = r#"echo "out: $DATABASE_URL"; echo "err: $DATABASE_URL" >&2; printf 'partial line %s' "$DATABASE_URL""#;
    let run = on_runner(
        db.work.path(),
        &db.url,
        &["--command", cmd, "--format", "json"],
    );
    run.expect(0);
    assert_eq!(run.json()["success"], true);
    for prefix in ["out: ", "err: ", "partial line "] {
        assert!(
            run.stderr
                .contains(&format!("{prefix}postgres://postgres:***@127.0.0.1:")),
            "{prefix}:\n{}",
            run.stderr
        );
    }
}

/// `kill -SIG pid`.
fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{sig} {pid}");
}

/// Whether process `pid` is running: not gone, and not a zombie.
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let after = &stat[stat.rfind(')').unwrap() + 1..];
        !matches!(after.split_whitespace().next(), Some("Z" | "X"))
    })
}

fn read_pid(path: &std::path::Path) -> u32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// What a second runner's `--command` sees the moment it holds the lock: whether the first
/// command's grandchild still runs, and whether its heartbeat file still changes.
const SECOND_RUNNER: &str = r#"p=$(cat grandchild.pid); s=$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null || echo gone); echo "$s" > verdict; b1=$(cat beat); sleep 0.4; b2=$(cat beat); if [ "$b1" = "$b2" ]; then echo still > heartbeat; else echo beating > heartbeat; fi"#;

#[test]
fn sigterm_stops_the_whole_command_group_before_the_lock_is_released() {
    let db = TestDb::postgres("command_sigterm");
    let work = db.work.path();
    // `sh` ignores SIGTERM, and so does the grandchild it leaves beating in the background
    // (ignored signals are inherited): only SIGKILL stops them.
    let cmd = r#"trap '' TERM; (while :; do date +%s%N > beat; sleep 0.05; done) & echo $! > grandchild.pid; touch started; while :; do sleep 0.05; done"#;
    let first = db.spawn(&[
        "--command",
        cmd,
        "--command-grace",
        "1s",
        "--format",
        "json",
    ]);
    assert!(
        wait_until(Duration::from_secs(20), || work.join("started").exists()),
        "the command started"
    );
    let grandchild = read_pid(&work.join("grandchild.pid"));
    assert!(running(grandchild));
    let signalled = Instant::now();
    signal(first.id(), "TERM");
    // A second runner waiting for the lock: its command runs only once the first released it.
    let second = db.run(&["--command", SECOND_RUNNER, "--lock-timeout", "30s"]);
    second.expect(0);
    let first = common::Run::from(first.wait_with_output().unwrap());
    let stopped_after = signalled.elapsed();
    // A zombie (`Z`) is dead, only not yet reaped by whoever inherited it (init, or a
    // subreaper in a container): it runs no code.
    let verdict = std::fs::read_to_string(work.join("verdict")).unwrap();
    assert!(
        matches!(verdict.trim(), "gone" | "Z"),
        "the grandchild was still running ({verdict:?}) when the second runner got the lock"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("heartbeat"))
            .unwrap()
            .trim(),
        "still",
        "nothing of the first command ran alongside the second"
    );
    assert!(!running(grandchild));
    first.expect(143);
    assert!(
        stopped_after >= Duration::from_secs(1),
        "the group got its grace period first ({stopped_after:?})"
    );
    let j = first.json();
    assert_eq!(j["interrupted"], true, "{j}");
    assert_eq!(j["signal"], "SIGTERM", "{j}");
    assert_eq!(j["left_running"], 0, "{j}");
    assert_eq!(j["success"], false, "{j}");
    for part in [
        "interrupted by SIGTERM",
        "killed (SIGKILL)",
        "had not exited 1 s after SIGTERM",
        "no process of the command is left running",
        "the migration lock is released",
    ] {
        assert!(first.stderr.contains(part), "{part}:\n{}", first.stderr);
    }
}

#[test]
fn sigint_reaches_a_cooperative_command_which_exits_at_once() {
    let db = TestDb::postgres("command_sigint");
    let work = db.work.path();
    let cmd =
        r#"trap 'echo stopping cleanly; exit 7' INT; touch started; while :; do sleep 0.05; done"#;
    let first = db.spawn(&["--command", cmd]);
    assert!(wait_until(Duration::from_secs(20), || work
        .join("started")
        .exists()));
    let signalled = Instant::now();
    signal(first.id(), "INT");
    let first = common::Run::from(first.wait_with_output().unwrap());
    first.expect(130);
    assert!(
        signalled.elapsed() < Duration::from_secs(4),
        "no need to wait out the grace period"
    );
    for part in [
        "stopping cleanly",
        "interrupted by SIGINT",
        "exited",
        "after SIGINT",
        "no process of the command is left running",
    ] {
        assert!(first.stderr.contains(part), "{part}:\n{}", first.stderr);
    }
    assert!(!first.stderr.contains("SIGKILL"), "{}", first.stderr);
    // Released: the next run takes the lock at once.
    db.run(&["--command", "true", "--lock-timeout", "1s"])
        .expect(0);
}

#[test]
fn processes_left_in_the_background_are_stopped_before_the_lock_is_released() {
    let db = TestDb::postgres("command_background");
    let work = db.work.path();
    // `sh` waits for the loop to ignore SIGTERM before it exits: otherwise SIGTERM could reach
    // the loop before its `trap` ran, and the SIGKILL path would go untested.
    let cmd = r#"(trap '' TERM; touch ready; while :; do date +%s%N > beat; sleep 0.05; done) & echo $! > grandchild.pid; while [ ! -e ready ]; do sleep 0.01; done; echo done"#;
    let run = db.run(&["--command", cmd, "--command-grace", "500ms"]);
    run.expect(0);
    let grandchild = read_pid(&work.join("grandchild.pid"));
    assert!(!running(grandchild), "the background loop was stopped");
    assert!(
        run.stderr.contains("of its group running"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("killed (SIGKILL)"), "{}", run.stderr);
}

#[test]
fn sigterm_reaches_a_background_grandchild_and_exits_143() {
    let db = TestDb::postgres("command_grandchild");
    let work = db.work.path();
    // The shape of a real tool: a wrapper script whose work runs in a grandchild. Before the
    // command had its own process group, only `sh` got the signal and `sleep` outlived us.
    let cmd = "sleep 300 & echo $! > pidfile; wait";
    let first = db.spawn(&["--command", cmd]);
    assert!(
        wait_until(Duration::from_secs(20), || std::fs::read_to_string(
            work.join("pidfile")
        )
        .is_ok_and(|s| s.ends_with('\n'))),
        "the command started"
    );
    let grandchild = read_pid(&work.join("pidfile"));
    assert!(running(grandchild));
    signal(first.id(), "TERM");
    let first = common::Run::from(first.wait_with_output().unwrap());
    first.expect(143);
    assert!(
        !running(grandchild),
        "the grandchild `sleep 300` outlived ship-run-migrations"
    );
    assert!(
        first.stderr.contains("interrupted by SIGTERM"),
        "{}",
        first.stderr
    );
    // The lock was released: the next run takes it at once.
    db.run(&["--command", "true", "--lock-timeout", "1s"])
        .expect(0);
}
