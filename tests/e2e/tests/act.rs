//! ship's actions end to end under act (no Docker: `-P ubuntu-latest=-self-hosted`), used by a
//! consumer workflow exactly as users write them (`uses: org/ship/<name>@v1`, resolved
//! with `--local-repository org/ship@v1=<a copy of this checkout>`), against real servers: the
//! OCI registry (tests/infra/registry.sh), PostgreSQL (tests/infra/postgres.sh), the scripted
//! ECS endpoint (ship-ecs-scripted), an HTTP service for the smoke test, and a release server
//! holding an archive of this workspace's freshly built binaries, so the install step takes the
//! download path (then the tool cache) as on GitHub.

use ship_e2e::act::{bin_dir, copy_checkout, git_commit_all, release_server, run, Act};
use ship_e2e::servers::{start_postgres, start_registry};
use ship_e2e::FileServer;
use ship_ecs_scripted::{serve, td_arn, Scenario, World};
use std::path::Path;
use std::process::Command;
use tempfile::TempDir;

const SHA: &str = "abc1234def567890abc1234def567890abc12345";
const WORKFLOWS: [&str; 2] = ["deploy.yml", "lint.yml"];

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
    git_commit_all(dir, "deploy");
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

    let releases = release_server(dir);
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
    let act = Act::new(&repo, &home, &action_repo);

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
            // The scripted endpoint changes state per poll: no need to wait 5 s between polls.
            ("SHIP_ECS_POLL_INTERVAL", "200ms".into()),
        ]
    };
    let secrets = [("DATABASE_URL", database_url)];

    // 1. A healthy deploy: every step passes, nothing rolls back.
    let ok = act.run(
        "deploy.yml",
        &env(format!("{}/health", app.url)),
        &secrets,
        &[],
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
        ok.step_outputs("rollback").is_none(),
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
    let broken = act.run(
        "deploy.yml",
        &env(format!("{}/missing", app.url)),
        &secrets,
        &[],
    );
    assert_ne!(
        broken.code, 0,
        "a failing smoke test must fail the job:\n{}",
        broken.log
    );
    assert_eq!(broken.output("rollout", "task-definition-arn"), td_arn(5));
    assert_eq!(
        broken.result("smoke"),
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
    let lint = act.run("lint.yml", &download, &[], &[]);
    assert_ne!(
        lint.code, 0,
        "ship lint passed a repository without CI:\n{}",
        lint.log
    );
    assert_eq!(lint.result("lint"), Some("failure"), "{}", lint.log);
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
    assert!(
        !lint.summary.contains("code scanning stub"),
        "uploaded without upload-sarif: {}",
        lint.summary
    );

    // 4. The same with `upload-sarif: true`: the lint still fails, and its SARIF (with the
    //    ci-trigger result) goes to code scanning, here the stub of the upload action.
    let upload = act.run(
        "lint.yml",
        &download,
        &[],
        &[("upload-sarif", "true".into())],
    );
    assert_eq!(upload.result("lint"), Some("failure"), "{}", upload.log);
    let uploaded = upload
        .summary
        .lines()
        .find(|l| l.contains("code scanning stub:"))
        .unwrap_or_else(|| panic!("no upload:\n{}\n{}", upload.summary, upload.log));
    assert!(
        uploaded.contains("(category ship-lint)") && !uploaded.contains(": 0 results"),
        "{uploaded}"
    );
    assert_eq!(releases.requests(), 2, "the warm tool cache was not used");
}
