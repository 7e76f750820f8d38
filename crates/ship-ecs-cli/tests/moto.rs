//! API-shape conformance against moto's ECS server (tests/infra/moto.sh). moto does not simulate
//! rollouts, so this checks requests and responses only: register/describe/list task definitions
//! with tags, UpdateService, and the errors for a missing cluster or service; and the ECR tag check
//! rollback --to-version makes before rendering a revision.

use std::path::PathBuf;
use std::process::Command;

use ship_ecs::aws_sdk_ecs::types::{ContainerDefinition, TaskDefinitionStatus};
use ship_ecs::ecs::{connect, tag_value};
use ship_ecs::render::{render, ship_tags};

struct Moto {
    pid: u32,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}

fn start_moto() -> Moto {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new("bash")
        .arg(root.join("tests/infra/moto.sh"))
        .args(["start", &port.to_string()])
        .output()
        .expect("cannot run tests/infra/moto.sh");
    assert!(
        out.status.success(),
        "moto server did not start (tests/infra/moto.sh start {port}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pid = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("moto.sh printed no pid");
    Moto {
        pid,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// A moto server and a client for it with test credentials (the binaries run by the tests
/// inherit them).
async fn moto_ecs() -> (Moto, ship_ecs::ecs::Ecs) {
    let moto = start_moto();
    // SAFETY-free in edition 2021; only this test binary reads them.
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let ecs = connect(Some("us-east-1".into()), Some(moto.url.clone()))
        .await
        .unwrap();
    (moto, ecs)
}

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api";

#[tokio::test]
async fn ecs_api_shapes_against_moto() {
    let (moto, ecs) = moto_ecs().await;
    let client = ecs.client.clone();

    client
        .create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .unwrap();
    let td = client
        .register_task_definition()
        .family("api")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image(format!("{IMAGE}:v1.0.0"))
                .memory(512)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .task_definition
        .unwrap();
    let v1 = td.task_definition_arn.clone().unwrap();
    client
        .create_service()
        .cluster("prod")
        .service_name("api")
        .task_definition(&v1)
        .desired_count(1)
        .send()
        .await
        .unwrap();

    // Describe services, and the errors for a missing service or cluster.
    let svcs = ecs
        .describe_services("prod", &["api".into()])
        .await
        .unwrap();
    assert_eq!(svcs[0].task_definition.as_deref(), Some(v1.as_str()));
    let e = ecs
        .describe_services("prod", &["ghost".into()])
        .await
        .unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
    assert!(e.to_string().contains("ghost"), "{e}");
    let e = ecs
        .describe_services("nope", &["api".into()])
        .await
        .unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");

    // Render from the current revision and register it with ship's tags.
    let (current, _) = ecs.describe_task_definition(&v1).await.unwrap();
    let r = render(&current, &format!("{IMAGE}:v1.1.0"), &[]).unwrap();
    let tags = ship_tags(&[
        ("ship:version", Some("v1.1.0")),
        ("ship:previous", Some(v1.as_str())),
    ]);
    let new = ecs.register(&r.task_definition, tags).await.unwrap();
    let v2 = new.task_definition_arn.clone().unwrap();
    assert_eq!(new.revision, 2);
    let (got, tags) = ecs.describe_task_definition(&v2).await.unwrap();
    assert_eq!(
        got.container_definitions.unwrap()[0].image.as_deref(),
        Some(format!("{IMAGE}:v1.1.0").as_str())
    );
    assert_eq!(tag_value(&tags, "ship:version"), Some("v1.1.0"));
    assert_eq!(tag_value(&tags, "ship:previous"), Some(v1.as_str()));

    // List: newest first whatever the server's order.
    let list = ecs
        .list_task_definitions("api", TaskDefinitionStatus::Active)
        .await
        .unwrap();
    assert_eq!(list, vec![v2.clone(), v1.clone()]);

    // UpdateService stores the new task definition; TagResource adds ship:rollout.
    ecs.update_service("prod", "api", &v2, false, None)
        .await
        .unwrap();
    let svcs = ecs
        .describe_services("prod", &["api".into()])
        .await
        .unwrap();
    assert_eq!(svcs[0].task_definition.as_deref(), Some(v2.as_str()));
    let e = ecs
        .update_service("prod", "ghost", &v2, false, None)
        .await
        .unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
    ecs.tag(&v2, ship_tags(&[("ship:rollout", Some("COMPLETED"))]))
        .await
        .unwrap();
    let (_, tags) = ecs.describe_task_definition(&v2).await.unwrap();
    assert_eq!(tag_value(&tags, "ship:rollout"), Some("COMPLETED"));

    // The binary end to end with --no-wait. moto's deployment stays IN_PROGRESS forever (no
    // MOTO_ECS_SERVICE_RUNNING), so the refusal to deploy over it is exercised first.
    let refused = Command::new(env!("CARGO_BIN_EXE_ship-ecs-rollout"))
        .args([
            "--cluster",
            "prod",
            "--service",
            "api",
            "--image",
            &format!("{IMAGE}:v1.2.0"),
            "--no-wait",
        ])
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_REGION", "us-east-1")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    let out = rollout_json(&moto.url, &format!("{IMAGE}:v1.2.0"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "started");
    assert!(
        report["services"][0]["to"]
            .as_str()
            .unwrap()
            .ends_with("api:3"),
        "{report}"
    );
    assert_eq!(report["services"][0]["reused"], false, "{report}");

    // run-task registers the revision of the next image (rendered from the service's current
    // one, as it does); the rollout of that image then reuses it, moto's describe output and
    // all, and adds its tags.
    let v3 = report["services"][0]["to"].as_str().unwrap().to_string();
    let (current, _) = ecs.describe_task_definition(&v3).await.unwrap();
    let r = render(&current, &format!("{IMAGE}:v1.3.0"), &[]).unwrap();
    let run_task_tags = ship_tags(&[("ship:version", Some("v1.3.0"))]);
    let v4 = ecs
        .register(&r.task_definition, run_task_tags)
        .await
        .unwrap()
        .task_definition_arn
        .unwrap();
    let out = rollout_json(&moto.url, &format!("{IMAGE}:v1.3.0"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["services"][0]["reused"], true, "{report}\n{stderr}");
    assert_eq!(report["services"][0]["to"], v4.as_str(), "{report}");
    let list = ecs
        .list_task_definitions("api", TaskDefinitionStatus::Active)
        .await
        .unwrap();
    assert_eq!(list.len(), 4, "no fifth revision: {list:?}");
    let (_, tags) = ecs.describe_task_definition(&v4).await.unwrap();
    assert_eq!(tag_value(&tags, "ship:previous"), Some(v3.as_str()));
    assert_eq!(tag_value(&tags, "ship:version"), Some("v1.3.0"));
}

/// `ship-ecs-rollout --no-wait --force --format json` of `image` to prod/api against moto.
fn rollout_json(url: &str, image: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ship-ecs-rollout"))
        .args([
            "--cluster",
            "prod",
            "--service",
            "api",
            "--image",
            image,
            "--no-wait",
            "--force",
            "--format",
            "json",
        ])
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_REGION", "us-east-1")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap()
}

/// rollback --to-version's ECR check (DescribeImages with registry id, repository and tag)
/// against moto's ECR: a pushed tag exists, a missing tag or repository is exit 2.
#[tokio::test]
async fn ecr_tag_check_against_moto() {
    // Bound (not `_`) so that the server lives until the end of the test.
    let (_moto, ecs) = moto_ecs().await;
    let ecr = ship_ecs::aws_sdk_ecr::Client::new(ecs.conf.as_ref().unwrap());
    ecr.create_repository()
        .repository_name("api")
        .send()
        .await
        .unwrap();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                   "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
        "layers": []
    });
    ecr.put_image()
        .repository_name("api")
        .image_manifest(manifest.to_string())
        .image_tag("v1.5.0")
        .send()
        .await
        .unwrap();
    let found = ship_ecs::registry::check_tag(&ecs, IMAGE, "v1.5.0")
        .await
        .unwrap();
    assert!(
        matches!(
            found,
            ship_ecs::registry::TagCheck::Exists { digest: Some(_) }
        ),
        "{found:?}"
    );
    let e = ship_ecs::registry::check_tag(&ecs, IMAGE, "v9.9.9")
        .await
        .unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
    assert!(e.to_string().contains("v9.9.9"), "{e}");
    let other = "123456789012.dkr.ecr.us-east-1.amazonaws.com/other";
    let e = ship_ecs::registry::check_tag(&ecs, other, "v1.5.0")
        .await
        .unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
    assert!(e.to_string().contains("does not exist"), "{e}");
}
