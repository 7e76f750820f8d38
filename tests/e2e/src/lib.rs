//! Support for the end-to-end tests: a static HTTP server standing in for GitHub's release
//! downloads, release archives in the layout `actions/install-ship.sh` expects
//! (docs/install.md), and the real test servers started through `tests/infra/*.sh`.

use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub mod act;
pub mod servers;

/// The six binaries every release archive holds.
pub const BINARIES: [&str; 6] = [
    "ship",
    "ship-tag-image",
    "ship-run-migrations",
    "ship-ecs-rollout",
    "ship-smoke-test",
    "ship-rollback",
];

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// `workspace.package.version` of the real Cargo.toml (what the install script reads).
pub fn workspace_version() -> String {
    let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let table = manifest
        .split("[workspace.package]")
        .nth(1)
        .expect("[workspace.package]");
    let line = table
        .lines()
        .find(|l| l.trim_start().starts_with("version"))
        .expect("workspace.package.version");
    line.split('"').nth(1).unwrap().to_string()
}

/// The release target and tool-cache arch of this machine, as the install script maps them.
pub fn host_target() -> (&'static str, &'static str) {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => ("x86_64-unknown-linux-gnu", "x64"),
        ("linux", "aarch64") => ("aarch64-unknown-linux-gnu", "arm64"),
        ("macos", "aarch64") => ("aarch64-apple-darwin", "arm64"),
        other => panic!("no release target for {other:?}"),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `<root>/v<version>/ship-v<version>-<target>.tar.gz` (the binaries at its top level)
/// and `<root>/v<version>/ship-v<version>-SHA256SUMS`, as the release workflow publishes them.
/// `binary(name)` gives each binary's path. Returns the archive's path.
pub fn write_release(
    root: &Path,
    version: &str,
    target: &str,
    binary: impl Fn(&str) -> PathBuf,
) -> PathBuf {
    let dir = root.join(format!("v{version}"));
    let stage = root.join(format!("stage-{target}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&stage).unwrap();
    for name in BINARIES {
        let from = binary(name);
        std::fs::copy(&from, stage.join(name))
            .unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
    let archive_name = format!("ship-v{version}-{target}.tar.gz");
    let archive = dir.join(&archive_name);
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&stage)
        .args(BINARIES)
        .status()
        .expect("tar");
    assert!(status.success(), "tar failed");
    std::fs::remove_dir_all(&stage).unwrap();
    let sum = sha256_hex(&std::fs::read(&archive).unwrap());
    std::fs::write(
        dir.join(format!("ship-v{version}-SHA256SUMS")),
        format!("{sum}  {archive_name}\n"),
    )
    .unwrap();
    archive
}

/// A static file server on 127.0.0.1 (GET and HEAD; 404 for anything missing), counting the
/// requests it gets so tests can prove a run used no network. Runs until the process ends.
pub struct FileServer {
    pub url: String,
    requests: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl FileServer {
    pub fn start(root: &Path) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let (r, p, root) = (requests.clone(), paths.clone(), root.to_path_buf());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (r, p, root) = (r.clone(), p.clone(), root.clone());
                std::thread::spawn(move || serve_file(conn, &root, &r, &p));
            }
        });
        Self {
            url,
            requests,
            paths,
        }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

fn serve_file(conn: TcpStream, root: &Path, count: &AtomicUsize, paths: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
    }
    count.fetch_add(1, Ordering::SeqCst);
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("/").to_string();
    paths.lock().unwrap().push(path.clone());
    let rel = path.trim_start_matches('/');
    let file = root.join(rel);
    let body = if rel.split('/').any(|c| c == ".." || c.is_empty()) {
        None
    } else {
        std::fs::read(&file).ok()
    };
    let _ = match body {
        Some(body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: application/octet-stream\r\nconnection: close\r\n\r\n",
                body.len()
            );
            out.write_all(head.as_bytes()).and_then(|_| {
                if method == "HEAD" {
                    Ok(())
                } else {
                    out.write_all(&body)
                }
            })
        }
        None => out.write_all(
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot found",
        ),
    };
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
