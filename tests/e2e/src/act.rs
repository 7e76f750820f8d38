//! Running workflows under act (no Docker: `-P ubuntu-latest=-self-hosted`) in a consumer
//! repository, with ship's actions resolved to a copy of this checkout, and reading what a run
//! reported (`act --json`): step outputs and results, job results, the step summary.

use crate::{host_target, repo_root, workspace_version, write_release, FileServer, BINARIES};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// target/debug (or wherever cargo put this test), holding the workspace's binaries.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    for name in BINARIES {
        assert!(
            dir.join(name).exists(),
            "{} is missing: run `cargo build --workspace --bins --locked` first (tests/run.sh does)",
            dir.join(name).display()
        );
    }
    dir
}

/// Runs `cmd` and panics with its output unless it succeeds.
pub fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `git -C dir init -b main`, `add -A` and one commit.
pub fn git_commit_all(dir: &Path, message: &str) {
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=e2e",
            "-c",
            "user.email=e2e@example.com",
            "commit",
            "-qm",
            message,
        ],
    ] {
        run(Command::new("git").arg("-C").arg(dir).args(args));
    }
}

/// The action repository as a consumer's runner gets it: the checkout's files (tracked and
/// new, without target/ and other ignored files, which act would otherwise copy per action).
pub fn copy_checkout(to: &Path) {
    let root = repo_root();
    let out = run(Command::new("git").arg("-C").arg(&root).args([
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
    ]));
    for rel in out.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = std::str::from_utf8(rel).unwrap();
        let from = root.join(rel);
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&from, &dest).unwrap();
    }
}

/// The release server's archive: the workspace's binaries without debug info (the release
/// profile's size, not the dev profile's ~1.4 GB).
pub fn release_server(dir: &Path) -> FileServer {
    let (target, _) = host_target();
    let stripped = dir.join("stripped");
    std::fs::create_dir_all(&stripped).unwrap();
    let bins = bin_dir();
    for name in BINARIES {
        run(Command::new("strip")
            .arg("--strip-debug")
            .arg("-o")
            .arg(stripped.join(name))
            .arg(bins.join(name)));
    }
    let root = dir.join("releases");
    write_release(&root, &workspace_version(), target, |name| {
        stripped.join(name)
    });
    FileServer::start(&root)
}

/// `OWNER/REPO@SHA` of every third-party action that the actions in `action_repo` (its root
/// `action.yml` and `<name>/action.yml`) use.
pub fn pinned_actions(action_repo: &Path) -> Vec<String> {
    let mut files = vec![action_repo.join("action.yml")];
    for entry in std::fs::read_dir(action_repo).expect("the action repository") {
        let path = entry.expect("a directory entry").path().join("action.yml");
        if path.is_file() {
            files.push(path);
        }
    }
    let mut pinned: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.lines()
                .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("uses:"))
                .map(|u| u.split('#').next().unwrap_or("").trim().to_string())
                .filter(|u| !u.starts_with("./") && u.contains('@'))
                .filter_map(|u| {
                    let (path, git_ref) = u.split_once('@')?;
                    let mut parts = path.splitn(3, '/');
                    Some(format!("{}/{}@{git_ref}", parts.next()?, parts.next()?))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    pinned.sort();
    pinned.dedup();
    pinned
}

/// act in a consumer repository: `org/ship@v1` resolves to a copy of this checkout, other
/// actions to the directories given with [`Act::local_repository`] (there is no network).
pub struct Act {
    bin: PathBuf,
    repo: PathBuf,
    home: PathBuf,
    local_repositories: Vec<String>,
}

impl Act {
    /// `home` keeps act's config and caches (and the tool cache) out of the real HOME.
    pub fn new(repo: &Path, home: &Path, action_repo: &Path) -> Self {
        let bin = String::from_utf8(
            run(Command::new(repo_root().join("tests/infra/act.sh")).arg("bin")).stdout,
        )
        .unwrap();
        let mut act = Self {
            bin: PathBuf::from(bin.trim()),
            repo: repo.to_path_buf(),
            home: home.to_path_buf(),
            local_repositories: Vec::new(),
        };
        // act fetches every action a composite action names, even for a step it skips: the
        // actions ship's own actions pin resolve to their stubs (tests/e2e/stubs/README.md).
        let stubs = Path::new(env!("CARGO_MANIFEST_DIR")).join("stubs");
        for pinned in pinned_actions(action_repo) {
            let (name, _) = pinned.split_once('@').expect("a pinned ref");
            let stub = stubs.join(name);
            assert!(
                stub.is_dir(),
                "ship's actions pin {pinned}: add a stub in tests/e2e/stubs/{name}"
            );
            act = act.local_repository(&pinned, &stub);
        }
        act.local_repository("org/ship@v1", action_repo)
    }

    /// Resolves `uses: OWNER/REPO[/PATH]@REF` (`action` is `OWNER/REPO@REF`) to `dir`.
    pub fn local_repository(mut self, action: &str, dir: &Path) -> Self {
        self.local_repositories
            .push(format!("{action}={}", dir.display()));
        self
    }

    /// Runs `.github/workflows/<workflow>` for a `workflow_dispatch` event, with `env` as
    /// `--env`, `secrets` as `-s` and `inputs` as the dispatch's `--input`s.
    pub fn run(
        &self,
        workflow: &str,
        env: &[(&str, String)],
        secrets: &[(&str, String)],
        inputs: &[(&str, String)],
    ) -> ActRun {
        let mut cmd = Command::new(&self.bin);
        cmd.current_dir(&self.repo)
            .args([
                "workflow_dispatch",
                "-P",
                "ubuntu-latest=-self-hosted",
                "--json",
                "--no-cache-server",
            ])
            .args(["-W", &format!(".github/workflows/{workflow}")])
            // Only what a runner has: act's own config and caches stay in the temp HOME.
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .stdin(Stdio::null());
        for spec in &self.local_repositories {
            cmd.arg("--local-repository").arg(spec);
        }
        for (flag, pairs) in [("--env", env), ("-s", secrets), ("--input", inputs)] {
            for (k, v) in pairs {
                cmd.arg(flag).arg(format!("{k}={v}"));
            }
        }
        let out = cmd.output().expect("run act");
        ActRun::parse(
            out.status.code().unwrap_or(-1),
            &String::from_utf8_lossy(&out.stdout),
            &String::from_utf8_lossy(&out.stderr),
        )
    }
}

/// What one act run reported. Steps are keyed by (job id, step id): a step without `id:` has
/// act's number for it.
pub struct ActRun {
    pub code: i32,
    pub outputs: BTreeMap<(String, String), BTreeMap<String, String>>,
    pub results: BTreeMap<(String, String), String>,
    /// Each job's result (success, failure); a job skipped by its `if:` has none.
    pub jobs: BTreeMap<String, String>,
    pub summary: String,
    pub log: String,
}

impl ActRun {
    fn parse(code: i32, stdout: &str, stderr: &str) -> Self {
        let mut run = ActRun {
            code,
            outputs: BTreeMap::new(),
            results: BTreeMap::new(),
            jobs: BTreeMap::new(),
            summary: String::new(),
            log: String::new(),
        };
        let mut text = String::new();
        for line in stdout.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            text.push_str(v["msg"].as_str().unwrap_or_default());
            if !text.ends_with('\n') {
                text.push('\n');
            }
            let job = v["jobID"].as_str().unwrap_or_default().to_string();
            if let Some(result) = v["jobResult"].as_str() {
                run.jobs.insert(job.clone(), result.into());
            }
            // Events of the workflow's own steps have a one-element stepID (composite steps
            // inside an action repeat them with their own ids appended).
            let ids = v["stepID"].as_array().cloned().unwrap_or_default();
            let [id] = ids.as_slice() else { continue };
            let key = (job, id.as_str().unwrap_or_default().to_string());
            match v["command"].as_str() {
                Some("set-output") => {
                    run.outputs.entry(key).or_default().insert(
                        v["name"].as_str().unwrap_or_default().into(),
                        v["arg"].as_str().unwrap_or_default().into(),
                    );
                }
                Some("summary") => run
                    .summary
                    .push_str(v["content"].as_str().unwrap_or_default()),
                _ => {
                    // The Post stage reports its own result; the step's is the Main stage's.
                    let main = v["stage"].as_str() == Some("Main");
                    if let (true, Some(result)) = (main, v["stepResult"].as_str()) {
                        run.results.insert(key, result.into());
                    }
                }
            }
        }
        run.log = text + stderr;
        run
    }

    /// The outputs of the step with this id (in any job), if it set any.
    pub fn step_outputs(&self, step: &str) -> Option<&BTreeMap<String, String>> {
        self.outputs
            .iter()
            .find(|((_, id), _)| id == step)
            .map(|(_, outputs)| outputs)
    }

    /// Output `name` of the step with this id (in any job); panics with the log when missing.
    pub fn output(&self, step: &str, name: &str) -> &str {
        self.step_outputs(step)
            .and_then(|o| o.get(name))
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no output {step}.{name}\n{}", self.log))
    }

    /// Output `name` of whichever step of `job` set it (for steps without `id:`).
    pub fn job_output(&self, job: &str, name: &str) -> &str {
        self.outputs
            .iter()
            .filter(|((j, _), _)| j == job)
            .find_map(|(_, outputs)| outputs.get(name))
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no output {name} in job {job}\n{}", self.log))
    }

    /// The result of the step with this id (in any job).
    pub fn result(&self, step: &str) -> Option<&str> {
        self.results
            .iter()
            .find(|((_, id), _)| id == step)
            .map(|(_, r)| r.as_str())
    }

    pub fn job_result(&self, job: &str) -> Option<&str> {
        self.jobs.get(job).map(String::as_str)
    }
}
