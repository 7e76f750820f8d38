//! ship's actions end to end under act (no Docker: `-P ubuntu-latest=-self-hosted`), used by a
//! consumer workflow exactly as users write them (`uses: org/ship/actions/<name>@v1`, resolved
//! with `--local-repository org/ship@v1=<a copy of this checkout>`), against real servers: the
//! OCI registry (tests/infra/registry.sh), PostgreSQL (tests/infra/postgres.sh), the scripted
//! ECS endpoint (ship-ecs-scripted), an HTTP service for the smoke test, and a release server
//! holding an archive of this workspace's freshly built binaries, so the install step takes the
//! download path (then the tool cache) as on GitHub.

use serde_json::Value;
use ship_e2e::{host_target, repo_root, workspace_version, write_release, FileServer};
use ship_ecs_scripted::{serve, td_arn, Scenario, World};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

const SHA: &str = "abc1234def567890abc1234def567890abc12345";
const WORKFLOWS: [&str; 2] = ["deploy.yml", "lint.yml"];

/// target/debug (or wherever cargo put this test), holding the workspace's binaries.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    for name in ship_e2e::BINARIES {
        assert!(
            dir.join(name).exists(),
            "{} is missing: run `cargo build --workspace --bins --locked` first (tests/run.sh does)",
            dir.join(name).display()
        );
    }
    dir
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A background server started by a tests/infra script that prints its pid; killed on drop.
struct Pid(u32);
impl Drop for Pid {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.to_string()).status();
    }
}

fn start_registry(dir: &Path) -> (Pid, String) {
    let script = repo_root().join("tests/infra/registry.sh");
    let mut last = String::new();
    for _ in 0..3 {
        let port = ship_e2e::free_port();
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
struct Postgres(PathBuf);
impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("tests/infra/postgres.sh"))
            .arg("stop")
            .arg(&self.0)
            .status();
    }
}

fn start_postgres() -> (Postgres, String) {
    let script = repo_root().join("tests/infra/postgres.sh");
    let mut last = String::new();
    for attempt in 0..3 {
        let port = ship_e2e::free_port();
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

/// Pushes a one-layer OCI image to `registry/api` as `sha-abc1234`, with curl over plain HTTP
/// (not ship's own client, which is under test).
fn push_image(registry: &str, dir: &Path) {
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;
    let layer = b"e2e layer";
    for blob in [&config[..], &layer[..]] {
        let digest = format!("sha256:{}", ship_e2e::sha256_hex(blob));
        let file = dir.join("blob");
        std::fs::write(&file, blob).unwrap();
        // POST opens an upload session; PUT to its Location with the digest completes it.
        let headers = run(Command::new("curl")
            .args(["-sSf", "-o", "/dev/null", "-D", "-", "-X", "POST"])
            .arg(format!("http://{registry}/v2/api/blobs/uploads/")));
        let headers = String::from_utf8_lossy(&headers.stdout).to_string();
        let location = headers
            .lines()
            .find_map(|l| {
                l.strip_prefix("Location: ")
                    .or_else(|| l.strip_prefix("location: "))
            })
            .expect("upload Location")
            .trim()
            .to_string();
        let location = if location.starts_with('/') {
            format!("http://{registry}{location}")
        } else {
            location
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        run(Command::new("curl")
            .args(["-sSf", "-X", "PUT", "--data-binary"])
            .arg(format!("@{}", file.display()))
            .args(["-H", "Content-Type: application/octet-stream"])
            .arg(format!("{location}{sep}digest={digest}")));
    }
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{}","size":{}}}]}}"#,
        ship_e2e::sha256_hex(config),
        config.len(),
        ship_e2e::sha256_hex(layer),
        layer.len()
    );
    let file = dir.join("manifest.json");
    std::fs::write(&file, manifest).unwrap();
    run(Command::new("curl")
        .args(["-sSf", "-X", "PUT", "--data-binary"])
        .arg(format!("@{}", file.display()))
        .args([
            "-H",
            "Content-Type: application/vnd.oci.image.manifest.v1+json",
        ])
        .arg(format!("http://{registry}/v2/api/manifests/sha-abc1234")));
}

/// The action repository as a consumer's runner gets it: the checkout's files (tracked and
/// new, without target/ and other ignored files, which act would otherwise copy per action).
fn copy_checkout(to: &Path) {
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
fn release(dir: &Path) -> FileServer {
    let (target, _) = host_target();
    let stripped = dir.join("stripped");
    std::fs::create_dir_all(&stripped).unwrap();
    let bins = bin_dir();
    for name in ship_e2e::BINARIES {
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

/// The consumer repository: the workflows, their policy and migrations, one commit.
fn consumer_repo(dir: &Path) {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(dir.join(".github/workflows")).unwrap();
    std::fs::create_dir_all(dir.join("db/migrations")).unwrap();
    for workflow in WORKFLOWS {
        std::fs::copy(
            e2e.join("workflows").join(workflow),
            dir.join(".github/workflows").join(workflow),
        )
        .unwrap();
    }
    std::fs::copy(
        e2e.join("fixtures/.github/ship-policy.yml"),
        dir.join(".github/ship-policy.yml"),
    )
    .unwrap();
    std::fs::copy(
        e2e.join("fixtures/db/migrations/0001_create_orders.sql"),
        dir.join("db/migrations/0001_create_orders.sql"),
    )
    .unwrap();
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
            "deploy",
        ],
    ] {
        run(Command::new("git").arg("-C").arg(dir).args(args));
    }
}

/// What one act run reported: exit code, step outputs by step id, step results, summaries.
struct ActRun {
    code: i32,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    results: BTreeMap<String, String>,
    summary: String,
    log: String,
}

impl ActRun {
    fn output(&self, step: &str, name: &str) -> &str {
        self.outputs
            .get(step)
            .and_then(|o| o.get(name))
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no output {step}.{name}\n{}", self.log))
    }
}

fn act(
    workflow: &str,
    repo: &Path,
    home: &Path,
    action_repo: &Path,
    env: &[(&str, String)],
    secrets: &[(&str, String)],
) -> ActRun {
    let act = String::from_utf8(
        run(Command::new(repo_root().join("tests/infra/act.sh")).arg("bin")).stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let mut cmd = Command::new(act);
    cmd.current_dir(repo)
        .args([
            "workflow_dispatch",
            "-P",
            "ubuntu-latest=-self-hosted",
            "--json",
            "--no-cache-server",
        ])
        .args(["-W", &format!(".github/workflows/{workflow}")])
        .arg("--local-repository")
        .arg(format!("org/ship@v1={}", action_repo.display()))
        // Only what a runner has: act's own config and caches stay in the temp HOME.
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    for (k, v) in secrets {
        cmd.arg("-s").arg(format!("{k}={v}"));
    }
    let out = cmd.output().expect("run act");
    let mut run = ActRun {
        code: out.status.code().unwrap_or(-1),
        outputs: BTreeMap::new(),
        results: BTreeMap::new(),
        summary: String::new(),
        log: String::new(),
    };
    let mut text = String::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        text.push_str(v["msg"].as_str().unwrap_or_default());
        if !text.ends_with('\n') {
            text.push('\n');
        }
        // Events of the workflow's own steps have a one-element stepID (composite steps inside
        // an action repeat them with their own ids appended).
        let ids = v["stepID"].as_array().cloned().unwrap_or_default();
        let [id] = ids.as_slice() else { continue };
        let id = id.as_str().unwrap_or_default().to_string();
        match v["command"].as_str() {
            Some("set-output") => {
                run.outputs.entry(id).or_default().insert(
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
                    run.results.insert(id, result.into());
                }
            }
        }
    }
    run.log = text + &String::from_utf8_lossy(&out.stderr);
    run
}

#[test]
fn deploy_then_failed_smoke_test_rolls_back() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();

    // The consumer workflows must pass ship lint with the policy ship init writes.
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR"));
    for workflow in WORKFLOWS {
        let lint = Command::new(bin_dir().join("ship"))
            .args(["lint", "--workflow"])
            .arg(e2e.join("workflows").join(workflow))
            .arg("--policy")
            .arg(e2e.join("fixtures/.github/ship-policy.yml"))
            .output()
            .unwrap();
        assert!(
            lint.status.success(),
            "{workflow}: {}",
            String::from_utf8_lossy(&lint.stdout)
        );
    }

    let releases = release(dir);
    let action_repo = dir.join("ship");
    copy_checkout(&action_repo);
    let repo = dir.join("consumer");
    consumer_repo(&repo);
    let (_registry, registry) = start_registry(&dir.join("registry"));
    push_image(&registry, dir);
    let (_pg, database_url) = start_postgres();
    let ecs = serve(World::new(Scenario::Healthy(1), 3));
    let app_dir = dir.join("app");
    std::fs::create_dir_all(&app_dir).unwrap();
    std::fs::write(
        app_dir.join("health"),
        r#"{"status":"ok","version":"v1.2.3"}"#,
    )
    .unwrap();
    let app = FileServer::start(&app_dir);
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();

    let env = |app_url: String| {
        vec![
            ("SHIP_DOWNLOAD_BASE", releases.url.clone()),
            ("E2E_IMAGE", format!("{registry}/api")),
            ("E2E_SHA", SHA.to_string()),
            ("E2E_APP_URL", app_url),
            ("AWS_ENDPOINT_URL", ecs.url.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    };
    let secrets = [("DATABASE_URL", database_url)];

    // 1. A healthy deploy: every step passes, nothing rolls back.
    let ok = act(
        "deploy.yml",
        &repo,
        &home,
        &action_repo,
        &env(format!("{}/health", app.url)),
        &secrets,
    );
    assert_eq!(ok.code, 0, "the deploy failed:\n{}", ok.log);
    let tags = ok.output("tag", "tags");
    assert!(
        tags.lines().any(|t| t == "v1.2.3") && tags.lines().any(|t| t == "sha-abc1234"),
        "{tags}"
    );
    let digest_ref = ok.output("tag", "digest-ref");
    assert!(
        digest_ref.starts_with(&format!("{registry}/api@sha256:")),
        "{digest_ref}"
    );
    assert_eq!(ok.output("migrate", "version"), "1", "{}", ok.log);
    assert_eq!(ok.output("rollout", "task-definition-arn"), td_arn(4));
    assert_eq!(
        ok.output("rollout", "previous-task-definition-arn"),
        td_arn(3)
    );
    assert_eq!(ok.output("smoke", "passed"), "true");
    assert_eq!(ok.output("smoke", "served-version"), "v1.2.3");
    assert!(
        !ok.outputs.contains_key("rollback"),
        "rolled back after a healthy deploy"
    );
    // Each action wrote its part of the step summary.
    for part in [
        "### ship-tag-image: `",
        "### ship-run-migrations up",
        "### ECS rollout: ",
        "Smoke test passed",
    ] {
        assert!(
            ok.summary.contains(part),
            "no {part:?} in the summary:\n{}",
            ok.summary
        );
    }
    assert!(!ok.summary.contains("ECS rollback"), "{}", ok.summary);
    {
        let world = ecs.world.lock().unwrap();
        assert_eq!(world.service_td, td_arn(4));
        let image = &world.task_defs[3]["containerDefinitions"][0]["image"];
        assert_eq!(image.as_str(), Some(digest_ref));
    }
    // The release was downloaded once (SHA256SUMS + archive); every later action used the cache.
    assert_eq!(releases.requests(), 2, "{:?}", releases.paths());

    // 2. The same deploy with the service broken: the smoke test fails and the rollback step
    //    returns the service to the revision that was serving before.
    let broken = act(
        "deploy.yml",
        &repo,
        &home,
        &action_repo,
        &env(format!("{}/missing", app.url)),
        &secrets,
    );
    assert_ne!(
        broken.code, 0,
        "a failing smoke test must fail the job:\n{}",
        broken.log
    );
    assert_eq!(broken.output("rollout", "task-definition-arn"), td_arn(5));
    assert_eq!(
        broken.results.get("smoke").map(String::as_str),
        Some("failure"),
        "{:?}",
        broken.results
    );
    assert_eq!(
        broken.output("rollback", "rolled-back-to"),
        td_arn(4),
        "{}",
        broken.log
    );
    assert_eq!(broken.output("rollback", "rolled-back-from"), td_arn(5));
    assert!(
        broken.summary.contains("### ECS rollback: "),
        "{}",
        broken.summary
    );
    assert_eq!(ecs.world.lock().unwrap().service_td, td_arn(4));
    assert_eq!(releases.requests(), 2, "the warm tool cache was not used");

    // 3. The root action, ship lint, on the same repository: it has no pull-request CI, so
    //    the lint fails with an annotation and the findings table in the summary.
    let download = [("SHIP_DOWNLOAD_BASE", releases.url.clone())];
    let lint = act("lint.yml", &repo, &home, &action_repo, &download, &[]);
    assert_ne!(
        lint.code, 0,
        "ship lint passed a repository without CI:\n{}",
        lint.log
    );
    assert_eq!(
        lint.results.get("lint").map(String::as_str),
        Some("failure"),
        "{}",
        lint.log
    );
    assert!(
        lint.log.contains("::error title=ship%3A ci-trigger::") || lint.log.contains("ci-trigger"),
        "{}",
        lint.log
    );
    assert!(
        lint.summary.contains("ci-trigger"),
        "summary: {}",
        lint.summary
    );
    assert_eq!(releases.requests(), 2, "the warm tool cache was not used");
}
