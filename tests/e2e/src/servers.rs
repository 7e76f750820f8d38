//! The real test servers the act tests run against, started through `tests/infra/*.sh` on
//! 127.0.0.1 and free ports, and stopped on drop.

use crate::{free_port, repo_root};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A background server started by a tests/infra script that prints its pid; killed on drop.
pub struct Pid(u32);
impl Drop for Pid {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.to_string()).status();
    }
}

pub fn start_registry(dir: &Path) -> (Pid, String) {
    let script = repo_root().join("tests/infra/registry.sh");
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port();
        let out = Command::new(&script)
            .args(["start", &port.to_string()])
            .arg(dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if out.status.success() {
            let pid = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
            return (Pid(pid), format!("127.0.0.1:{port}"));
        }
        last = String::from_utf8_lossy(&out.stderr).into();
    }
    panic!("cannot start the registry with tests/infra/registry.sh: {last}");
}

/// A PostgreSQL cluster (stopped on drop, and by the script's watchdog if this process dies).
pub struct Postgres(PathBuf);
impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("tests/infra/postgres.sh"))
            .arg("stop")
            .arg(&self.0)
            .status();
    }
}

pub fn start_postgres() -> (Postgres, String) {
    let script = repo_root().join("tests/infra/postgres.sh");
    let mut last = String::new();
    for attempt in 0..3 {
        let port = free_port();
        // Under /tmp: the postgres user must be able to reach it.
        let dir = PathBuf::from(format!("/tmp/ship-e2e-pg-{}-{attempt}", std::process::id()));
        let out = Command::new(&script)
            .arg("start")
            .arg(&dir)
            .arg(port.to_string())
            .env("OWNER_PID", std::process::id().to_string())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if out.status.success() {
            let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
            return (Postgres(dir), url);
        }
        last = String::from_utf8_lossy(&out.stderr).into();
    }
    panic!("cannot start PostgreSQL with tests/infra/postgres.sh: {last}");
}
