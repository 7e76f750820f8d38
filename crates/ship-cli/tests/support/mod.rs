//! Running the built `ship` binary in tests: a time limit (a hang fails the test instead of
//! stalling the suite), output read while it runs, and assertions on the result. Shared by
//! the test files of this crate (`mod support;`); each uses only part of it.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every run must finish within this long (debug build, slow CI machines included).
pub const TIME_LIMIT: Duration = Duration::from_secs(30);

/// What one run of `ship` produced.
#[derive(Debug)]
pub struct Run {
    /// `None` when the process was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Assert the exit code, showing the output when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// The process ended with a lint result or a usage error, never a panic (101) or signal.
    #[track_caller]
    pub fn expect_no_crash(&self) -> &Self {
        assert!(
            matches!(self.code, Some(1) | Some(2)),
            "expected exit 1 or 2, got {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "ship panicked:\n{}",
            self.stderr
        );
        self
    }
}

/// The built `ship`, without colour or a step summary.
pub fn ship() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ship"));
    cmd.env("NO_COLOR", "1").env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

/// Run `cmd` with [`TIME_LIMIT`] and standard input empty (`/dev/null`).
pub fn run(cmd: Command) -> Run {
    run_with_stdin(cmd, None)
}

/// Run `cmd` with [`TIME_LIMIT`], reading its output while it runs. `stdin`: bytes written
/// to a pipe that is then closed (never a terminal), or `None` for `/dev/null`.
pub fn run_with_stdin(mut cmd: Command, stdin: Option<&[u8]>) -> Run {
    let started = Instant::now();
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ship");
    // Written from a thread, so a ship that never reads cannot block the test; a ship that
    // exits without reading makes the write fail, which is fine.
    let writer = stdin.map(|bytes| {
        let mut input = child.stdin.take().expect("stdin");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = input.write_all(&bytes);
        })
    });
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).map(|_| s)
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        err.read_to_end(&mut s).map(|_| s)
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ship") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ship did not finish within {TIME_LIMIT:?} (waiting for input?): {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if let Some(writer) = writer {
        writer.join().unwrap();
    }
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("ship prints UTF-8");
    Run {
        code: status.code(),
        stdout: text(out_reader.join().unwrap().expect("read stdout")),
        stderr: text(err_reader.join().unwrap().expect("read stderr")),
    }
}
