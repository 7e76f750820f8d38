//! The "Done when" of ship's user path: `ship init --yes` in an empty git repository (with a
//! `ship.toml` naming the local servers), one commit, `ship lint` clean, then the GENERATED
//! workflows run under act (no Docker) against real servers: deploy-staging.yml (migrations on
//! PostgreSQL, rolling update on the scripted ECS endpoint, smoke test against a local HTTP
//! service) and rollback.yml (workflow_dispatch). ship's actions resolve to a copy of this
//! checkout and install from a local release server; the third-party actions the templates pin
//! resolve, at exactly the refs the generated files pin, to the stubs in tests/e2e/stubs
//! (README there), because nothing can be fetched.
//!
//! The image repository is the ECR repository the scripted endpoint knows, not the local OCI
//! registry: the generated deploy never touches the registry itself (ECS pulls the image), only
//! ECR's API, through the real `aws ecr describe-images` in its wait-for-the-image step, and the
//! scripted endpoint answers that. build.yml (docker build and push) is not run: no Docker.

use ship_e2e::act::{bin_dir, copy_checkout, git_commit_all, release_server, run, Act};
use ship_e2e::servers::start_postgres;
use ship_e2e::FileServer;
use ship_ecs_scripted::{serve, td_arn, Scenario, World, REPO};
use std::path::Path;
use std::process::Command;
use tempfile::TempDir;

/// The workflows this test runs.
const RUN: [&str; 2] = ["deploy-staging.yml", "rollback.yml"];
const STAGING_ROLE: &str = "arn:aws:iam::123456789012:role/api-deploy-staging";
const PRODUCTION_ROLE: &str = "arn:aws:iam::123456789012:role/api-deploy-production";

/// The configuration a user would write: the service, cluster and ECR repository as the
/// scripted ECS endpoint knows them (cluster `prod`, service `api`, container `app`), and both
/// environments' health URL on the local HTTP service.
fn ship_toml(health_url: &str) -> String {
    format!(
        r#"service = "api"
container = "app"
region = "us-east-1"
image-repository = "{REPO}"
build-role-arn = "arn:aws:iam::123456789012:role/api-build"
flows = ["GET /health 200", "GET /orders 200"]

[staging]
cluster = "prod"
role-arn = "{STAGING_ROLE}"
health-url = "{health_url}"

[production]
cluster = "prod"
role-arn = "{PRODUCTION_ROLE}"
health-url = "{health_url}"

[migrations]
dir = "db/migrations"
runner = "ci"
"#
    )
}

/// `ship init --yes` into an empty repository holding only ship.toml and a migration; commits.
fn init_repo(dir: &Path, health_url: &str) {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(dir.join("db/migrations")).unwrap();
    std::fs::copy(
        e2e.join("fixtures/db/migrations/0001_create_orders.sql"),
        dir.join("db/migrations/0001_create_orders.sql"),
    )
    .unwrap();
    std::fs::write(dir.join("ship.toml"), ship_toml(health_url)).unwrap();
    run(Command::new(bin_dir().join("ship"))
        .args(["init", "--yes"])
        .arg(dir));
    for workflow in RUN {
        let text = std::fs::read_to_string(dir.join(".github/workflows").join(workflow)).unwrap();
        assert!(
            !text.contains("SHIP_"),
            "{workflow} kept a placeholder:\n{text}"
        );
    }
    git_commit_all(dir, "ship init");
}

/// `OWNER/REPO@REF` of every third-party action the workflow uses, as pinned in the file.
/// actions/checkout is left out (act copies the repository instead), and so is ship itself.
fn third_party_actions(workflow: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(workflow).unwrap();
    let mut actions: Vec<String> = text
        .lines()
        .filter_map(|l| {
            l.trim_start()
                .trim_start_matches("- ")
                .strip_prefix("uses:")
        })
        .map(|u| u.split('#').next().unwrap().trim().to_string())
        .filter(|u| !u.starts_with("org/ship") && !u.starts_with("actions/checkout@"))
        .collect();
    actions.sort();
    actions.dedup();
    actions
}

/// The commit `HEAD` names in `repo`.
fn head(repo: &Path) -> String {
    let out = run(Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "HEAD"]));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn init_commit_lint_then_generated_deploy_and_rollback_run() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let releases = release_server(dir);
    let action_repo = dir.join("ship");
    copy_checkout(&action_repo);
    let (_pg, database_url) = start_postgres();
    let ecs = serve(World::new(Scenario::Healthy(1), 3));
    let app_dir = dir.join("app");
    std::fs::create_dir_all(&app_dir).unwrap();
    // The key flow the generated smoke test checks besides health (step 6 breaks it).
    std::fs::write(app_dir.join("orders"), "[]").unwrap();
    let app = FileServer::start(&app_dir);

    // 1. A new user: ship init, commit, and the result lints clean and is in sync.
    let repo = dir.join("consumer");
    init_repo(&repo, &app.url);
    let ship = bin_dir().join("ship");
    let lint = Command::new(&ship).arg("lint").arg(&repo).output().unwrap();
    assert!(
        lint.status.success(),
        "ship lint of the generated repository:\n{}",
        String::from_utf8_lossy(&lint.stdout)
    );
    run(Command::new(&ship).args(["init", "--check"]).arg(&repo));
    let sha = head(&repo);
    // What build.yml would have done for this commit: the image sha-<commit> is in ECR (the
    // scripted endpoint answers DescribeImages), and the app serves that version.
    ecs.world
        .lock()
        .unwrap()
        .ecr_tags
        .push(format!("sha-{sha}"));
    std::fs::write(
        app_dir.join("health"),
        format!(r#"{{"status":"ok","version":"sha-{sha}"}}"#),
    )
    .unwrap();

    // Third-party actions at exactly the refs the generated workflows pin, each to its stub.
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let stubs = Path::new(env!("CARGO_MANIFEST_DIR")).join("stubs");
    let mut act = Act::new(&repo, &home, &action_repo);
    let mut pinned: Vec<String> = RUN
        .iter()
        .flat_map(|w| third_party_actions(&repo.join(".github/workflows").join(w)))
        .collect();
    pinned.sort();
    pinned.dedup();
    assert!(!pinned.is_empty());
    for action in &pinned {
        let (name, _) = action.split_once('@').expect("a pinned ref");
        let stub = stubs.join(name);
        assert!(
            stub.join("action.yml").is_file(),
            "no stub for {action} in tests/e2e/stubs/{name}"
        );
        act = act.local_repository(action, &stub);
    }
    let env = [
        ("SHIP_DOWNLOAD_BASE", releases.url.clone()),
        ("AWS_ENDPOINT_URL", ecs.url.clone()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        // The scripted endpoint changes state per poll: no need to wait 5 s between polls.
        ("SHIP_ECS_POLL_INTERVAL", "200ms".into()),
    ];
    let secrets = [("DATABASE_URL", database_url)];

    // 2. deploy-staging.yml: migrations → rolling update → smoke test; no rollback.
    let deploy = act.run("deploy-staging.yml", &env, &secrets, &[]);
    assert_eq!(deploy.code, 0, "deploy-staging failed:\n{}", deploy.log);
    for job in ["migrate", "deploy", "smoke"] {
        assert_eq!(
            deploy.job_result(job),
            Some("success"),
            "{job}: {:?}",
            deploy.jobs
        );
    }
    assert_eq!(deploy.job_result("rollback"), None, "{:?}", deploy.jobs);
    assert_eq!(deploy.output("migrations", "version"), "1");
    assert_eq!(
        deploy.job_output("deploy", "task-definition-arn"),
        td_arn(4)
    );
    assert_eq!(
        deploy.job_output("deploy", "previous-task-definition-arn"),
        td_arn(3)
    );
    assert_eq!(deploy.job_output("smoke", "passed"), "true");
    assert_eq!(
        deploy.job_output("smoke", "served-version"),
        format!("sha-{sha}")
    );
    for part in [
        &format!("assumed `{STAGING_ROLE}` in `us-east-1`")[..],
        "### ship-run-migrations up",
        "### ECS rollout: ",
        "Smoke test passed",
    ] {
        assert!(
            deploy.summary.contains(part),
            "no {part:?} in the summary:\n{}",
            deploy.summary
        );
    }
    {
        let world = ecs.world.lock().unwrap();
        // The wait for the image (`aws ecr describe-images`) found it before the rollout.
        let call = |name: &str| world.calls.iter().position(|c| c == name);
        assert!(
            call("DescribeImages") < call("UpdateService") && call("DescribeImages").is_some(),
            "{:?}",
            world.calls
        );
        assert_eq!(world.service_td, td_arn(4));
        let image = &world.task_defs[3]["containerDefinitions"][0]["image"];
        assert_eq!(image.as_str(), Some(&format!("{REPO}:sha-{sha}")[..]));
        // The migrate job's output reached the rollout in the next job.
        let schema = world.tags[3]
            .iter()
            .find(|t| t["key"] == "ship:schema-version")
            .map(|t| t["value"].clone());
        assert_eq!(schema, Some("1".into()), "{:?}", world.tags[3]);
    }
    // Downloaded once (SHA256SUMS + archive); every later job used the tool cache.
    assert_eq!(releases.requests(), 2, "{:?}", releases.paths());

    // 3. Another deployment of the service is in progress: ecs-rollout refuses to start, and
    //    the generated rollback job must not run (it would undo api:4 or the other deployment).
    ecs.world.lock().unwrap().scenario = Scenario::AlreadyInProgress;
    ecs.world.lock().unwrap().target_td = None;
    let refused = act.run("deploy-staging.yml", &env, &secrets, &[]);
    assert_ne!(
        refused.code, 0,
        "a refused rollout passed:\n{}",
        refused.log
    );
    assert_eq!(
        refused.job_result("deploy"),
        Some("failure"),
        "{:?}",
        refused.jobs
    );
    assert_eq!(
        refused.job_result("rollback"),
        None,
        "rolled back after a refused rollout:\n{}",
        refused.log
    );
    assert_eq!(ecs.world.lock().unwrap().service_td, td_arn(4));

    // 4. The next deploy's tasks crash: the rollout fails, the smoke test does not run, and the
    //    generated rollback job returns staging to api:4. (A failing smoke test: step 6.)
    {
        let mut world = ecs.world.lock().unwrap();
        // Scripted: the first update of a world plays the scenario, later ones are healthy.
        world.scenario = Scenario::CrashLoop;
        world.updates = 0;
        world.target_td = None;
    }
    let broken = act.run("deploy-staging.yml", &env, &secrets, &[]);
    assert_ne!(broken.code, 0, "a failed rollout passed:\n{}", broken.log);
    assert_eq!(
        broken.job_result("deploy"),
        Some("failure"),
        "{:?}",
        broken.jobs
    );
    assert_eq!(broken.job_result("smoke"), None, "{:?}", broken.jobs);
    assert_eq!(
        broken.job_result("rollback"),
        Some("success"),
        "{}",
        broken.log
    );
    assert_eq!(broken.job_output("rollback", "rolled-back-from"), td_arn(5));
    assert_eq!(broken.job_output("rollback", "rolled-back-to"), td_arn(4));
    assert!(
        broken.summary.contains("### ECS rollback: "),
        "{}",
        broken.summary
    );
    assert_eq!(ecs.world.lock().unwrap().service_td, td_arn(4));

    // 5. rollback.yml by hand, no version: back to the last known good revision, smoke-tested.
    let rollback = act.run("rollback.yml", &env, &[], &[]);
    assert_eq!(rollback.code, 0, "rollback failed:\n{}", rollback.log);
    assert_eq!(rollback.job_result("smoke"), Some("success"));
    assert_eq!(
        rollback.job_output("rollback", "rolled-back-from"),
        td_arn(4)
    );
    assert_eq!(rollback.job_output("rollback", "rolled-back-to"), td_arn(3));
    assert!(
        rollback
            .summary
            .contains(&format!("assumed `{PRODUCTION_ROLE}` in `us-east-1`")),
        "{}",
        rollback.summary
    );
    assert_eq!(ecs.world.lock().unwrap().service_td, td_arn(3));

    // 6. The rollout succeeds but a key flow of the new version is broken: the smoke test fails
    //    and the generated rollback job returns staging to where it was (api:3). The user has
    //    shortened the smoke test's wait (a one-line edit of the generated workflow) so the
    //    failure comes in seconds instead of after the 300 s default.
    let staging = repo.join(".github/workflows/deploy-staging.yml");
    let generated = std::fs::read_to_string(&staging).unwrap();
    let expect = "          expect-version: sha-${{ github.sha }}\n";
    assert!(generated.contains(expect), "{generated}");
    std::fs::write(
        &staging,
        generated.replace(expect, &format!("{expect}          wait-timeout: 2s\n")),
    )
    .unwrap();
    git_commit_all(&repo, "smoke test: wait 2s");
    let sha = head(&repo);
    {
        let mut world = ecs.world.lock().unwrap();
        world.scenario = Scenario::Healthy(1);
        world.updates = 0;
        world.target_td = None;
        world.ecr_tags.push(format!("sha-{sha}"));
    }
    std::fs::write(
        app_dir.join("health"),
        format!(r#"{{"status":"ok","version":"sha-{sha}"}}"#),
    )
    .unwrap();
    std::fs::remove_file(app_dir.join("orders")).unwrap();
    let failing = act.run("deploy-staging.yml", &env, &secrets, &[]);
    assert_ne!(
        failing.code, 0,
        "a failed smoke test passed:\n{}",
        failing.log
    );
    assert_eq!(
        failing.job_result("deploy"),
        Some("success"),
        "{:?}",
        failing.jobs
    );
    assert_eq!(
        failing.job_result("smoke"),
        Some("failure"),
        "{:?}",
        failing.jobs
    );
    assert_eq!(
        failing.job_result("rollback"),
        Some("success"),
        "{}",
        failing.log
    );
    let deployed = failing
        .job_output("deploy", "task-definition-arn")
        .to_string();
    assert_ne!(deployed, td_arn(3));
    assert_eq!(failing.job_output("rollback", "rolled-back-from"), deployed);
    assert_eq!(failing.job_output("rollback", "rolled-back-to"), td_arn(3));
    assert!(
        failing.log.contains("/orders"),
        "the smoke test did not name the failing flow:\n{}",
        failing.log
    );
    assert_eq!(ecs.world.lock().unwrap().service_td, td_arn(3));
    assert_eq!(releases.requests(), 2, "the warm tool cache was not used");
}
