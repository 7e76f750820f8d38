//! Rollout and rollback scenarios against the scripted ECS endpoint (crates/ship-ecs-scripted).

use ship_ecs_scripted::*;

const ROLLOUT: &str = env!("CARGO_BIN_EXE_ship-ecs-rollout");
const ROLLBACK: &str = env!("CARGO_BIN_EXE_ship-rollback");

fn image() -> String {
    format!("{REPO}:v2.0.0")
}

fn rollout(s: &Server, extra: &[&str]) -> Run {
    let img = image();
    let mut args = vec![
        "--cluster",
        "prod",
        "--service",
        "api",
        "--image",
        img.as_str(),
    ];
    if !extra.contains(&"--timeout") {
        args.extend_from_slice(&["--timeout", "3s"]);
    }
    args.extend_from_slice(extra);
    run(ROLLOUT, &s.url, &args)
}

fn show(r: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}\noutputs:\n{}",
        r.code, r.stdout, r.stderr, r.outputs
    )
}

#[test]
fn healthy_rollout_in_three_polls() {
    let s = serve(World::new(Scenario::Healthy(3), 3));
    let r = rollout(
        &s,
        &["--git-sha", "abc123", "--run-url", "https://ci/run/1"],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("status: succeeded"), "{}", show(&r));
    assert!(
        r.outputs
            .contains(&format!("task-definition-arn={}", td_arn(4))),
        "{}",
        show(&r)
    );
    assert!(r
        .outputs
        .contains(&format!("previous-task-definition-arn={}", td_arn(3))));
    assert!(r.outputs.contains("status=succeeded"));
    assert!(
        r.stderr.contains("running 1/2"),
        "progress lines: {}",
        show(&r)
    );
    let w = s.world.lock().unwrap();
    let body = &w.registered_bodies[0];
    assert_eq!(body["containerDefinitions"][0]["image"], image());
    assert_eq!(
        body["containerDefinitions"][1]["image"],
        "public.ecr.aws/envoy:v1.27.0"
    );
    assert_eq!(body["cpu"], "256");
    let new = td_arn(4);
    assert_eq!(w.tag_of(&new, "ship:version").as_deref(), Some("v2.0.0"));
    assert_eq!(w.tag_of(&new, "ship:git-sha").as_deref(), Some("abc123"));
    assert_eq!(w.tag_of(&new, "ship:previous"), Some(td_arn(3)));
    assert_eq!(
        w.tag_of(&new, "ship:run-url").as_deref(),
        Some("https://ci/run/1")
    );
    assert_eq!(w.tag_of(&new, "ship:rollout").as_deref(), Some("COMPLETED"));
}

#[test]
fn crash_loop_fails_with_stopped_reasons() {
    let s = serve(World::new(Scenario::CrashLoop, 3));
    let r = rollout(&s, &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stdout.contains("status: failed"), "{}", show(&r));
    assert!(
        r.stderr.contains("Essential container in task exited"),
        "{}",
        show(&r)
    );
    assert!(
        r.stderr
            .contains("container app exit 1 (panic: DATABASE_URL not set)"),
        "{}",
        show(&r)
    );
    assert!(
        r.stderr.contains("has started 1 tasks"),
        "service events: {}",
        show(&r)
    );
    assert!(r.outputs.contains("status=failed"));
    let w = s.world.lock().unwrap();
    assert_eq!(
        w.tag_of(&td_arn(4), "ship:rollout").as_deref(),
        Some("FAILED")
    );
}

#[test]
fn circuit_breaker_rollback_is_never_a_success() {
    let s = serve(World::new(Scenario::CircuitBreaker, 3));
    let r = rollout(&s, &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(
        r.stdout.contains("rolled back by the circuit breaker"),
        "{}",
        show(&r)
    );
    assert!(
        r.stderr.contains("Essential container in task exited"),
        "{}",
        show(&r)
    );
}

#[test]
fn never_stable_times_out() {
    let s = serve(World::new(Scenario::NeverStable, 3));
    let r = rollout(&s, &["--timeout", "1s"]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stdout.contains("status: timed-out"), "{}", show(&r));
    assert!(r.stderr.contains("TIMED OUT"), "{}", show(&r));
}

#[test]
fn throttling_is_retried() {
    let s = serve(World::new(Scenario::Throttled, 3));
    let r = rollout(&s, &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let w = s.world.lock().unwrap();
    assert!(w.throttles_left == 0);
}

#[test]
fn refuses_while_another_deployment_is_in_progress() {
    let s = serve(World::new(Scenario::AlreadyInProgress, 3));
    let r = rollout(&s, &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("--force"), "{}", show(&r));
    assert!(!called(&s, "UpdateService") && !called(&s, "RegisterTaskDefinition"));
    let r = rollout(&s, &["--force"]);
    assert_eq!(r.code, 0, "{}", show(&r));
}

#[test]
fn dry_run_prints_diff_and_changes_nothing() {
    let s = serve(World::new(Scenario::Healthy(1), 3));
    let r = rollout(&s, &["--dry-run"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stdout.contains("v1.0.2") && r.stdout.contains("v2.0.0"),
        "{}",
        show(&r)
    );
    assert!(r.stdout.contains("+ ship:previous"), "{}", show(&r));
    let w = s.world.lock().unwrap();
    assert!(!w
        .calls
        .iter()
        .any(|c| c == "UpdateService" || c == "RegisterTaskDefinition"));
}

#[test]
fn no_wait_exits_after_update() {
    let s = serve(World::new(Scenario::NeverStable, 3));
    let r = rollout(&s, &["--no-wait"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.outputs.contains("status=started"));
}

#[test]
fn input_errors_exit_2() {
    let s = serve(World::new(Scenario::Healthy(1), 3));
    let latest = format!("{REPO}:latest");
    let r = run(
        ROLLOUT,
        &s.url,
        &["--cluster", "prod", "--service", "api", "--image", &latest],
    );
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("--allow-mutable-tag"));
    let img = image();
    let r = run(
        ROLLOUT,
        &s.url,
        &["--cluster", "nope", "--service", "api", "--image", &img],
    );
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("cluster \"nope\""), "{}", show(&r));
    let r = run(
        ROLLOUT,
        &s.url,
        &[
            "--cluster",
            "prod",
            "--service",
            "api,ghost",
            "--image",
            &img,
        ],
    );
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("ghost"), "{}", show(&r));
    let r = run(ROLLOUT, &s.url, &["--service", "api", "--image", &img]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("`cluster` is required"));
    assert!(!called(&s, "UpdateService"));
}

#[test]
fn rollback_on_failure_returns_to_previous() {
    let s = serve(World::new(Scenario::CrashLoop, 3));
    let r = rollout(&s, &["--rollback-on-failure"]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(
        r.stderr.contains("rollback of api: succeeded"),
        "{}",
        show(&r)
    );
    assert_eq!(s.world.lock().unwrap().service_td, td_arn(3));
}

#[test]
fn rollback_default_uses_ship_previous() {
    let s = serve(World::new(Scenario::Healthy(2), 4));
    let r = run(
        ROLLBACK,
        &s.url,
        &["--cluster", "prod", "--service", "api", "--timeout", "3s"],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.outputs.contains(&format!("rolled-back-to={}", td_arn(3))),
        "{}",
        show(&r)
    );
    assert!(r
        .outputs
        .contains(&format!("rolled-back-from={}", td_arn(4))));
    assert_eq!(s.world.lock().unwrap().service_td, td_arn(3));
}

#[test]
fn rollback_skips_failed_revision_without_previous_tag() {
    let mut w = World::new(Scenario::Healthy(1), 4);
    // Revision 3 failed; revision 4 has no ship:previous tag.
    w.set_tag(&td_arn(3), "ship:rollout", "FAILED");
    w.tags[3].retain(|t| t["key"] != "ship:previous");
    let s = serve(w);
    let r = run(
        ROLLBACK,
        &s.url,
        &[
            "--cluster",
            "prod",
            "--service",
            "api",
            "--deregister-failed",
        ],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.outputs.contains(&format!("rolled-back-to={}", td_arn(2))),
        "{}",
        show(&r)
    );
    let w = s.world.lock().unwrap();
    assert_eq!(
        w.task_defs[3]["status"], "INACTIVE",
        "deregister-failed deregisters the rolled-back-from revision"
    );
    assert_eq!(w.task_defs[1]["status"], "ACTIVE");
}

#[test]
fn rollback_to_version_and_revision() {
    let s = serve(World::new(Scenario::Healthy(1), 4));
    let r = run(
        ROLLBACK,
        &s.url,
        &[
            "--cluster",
            "prod",
            "--service",
            "api",
            "--to-version",
            "v1.0.1",
        ],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.outputs.contains(&format!("rolled-back-to={}", td_arn(2))),
        "{}",
        show(&r)
    );
    let s = serve(World::new(Scenario::Healthy(1), 4));
    let r = run(
        ROLLBACK,
        &s.url,
        &[
            "--cluster",
            "prod",
            "--service",
            "api",
            "--to-revision",
            "1",
        ],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.outputs.contains(&format!("rolled-back-to={}", td_arn(1))),
        "{}",
        show(&r)
    );
}

#[test]
fn rollback_to_unknown_version_exits_2() {
    let s = serve(World::new(Scenario::Healthy(1), 4));
    let r = run(
        ROLLBACK,
        &s.url,
        &[
            "--cluster",
            "prod",
            "--service",
            "api",
            "--to-version",
            "v9.9.9",
        ],
    );
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("v9.9.9"));
    let r = run(
        ROLLBACK,
        &s.url,
        &[
            "--cluster",
            "prod",
            "--service",
            "api",
            "--to-version",
            "banana",
        ],
    );
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(!called(&s, "UpdateService"));
}

#[test]
fn rollback_that_fails_reports_failure() {
    let s = serve(World::new(Scenario::CrashLoop, 4));
    let r = run(
        ROLLBACK,
        &s.url,
        &["--cluster", "prod", "--service", "api", "--timeout", "3s"],
    );
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stdout.contains("status: failed"), "{}", show(&r));
    assert!(
        r.stderr.contains("Essential container in task exited"),
        "{}",
        show(&r)
    );
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

const FILE_TD: &str = r#"{
  "family": "api",
  "cpu": "512",
  "memory": "1024",
  "networkMode": "awsvpc",
  "containerDefinitions": [
    {"name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v1.0.0",
     "essential": true, "environment": [{"name": "MODE", "value": "file"}]}
  ],
  "tags": [{"key": "team", "value": "core"}, {"key": "ship:version", "value": "stale"}]
}"#;

#[test]
fn task_definition_file_is_registered_with_the_image() {
    let s = serve(World::new(Scenario::Healthy(1), 3));
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "td.json", FILE_TD);
    let r = rollout(&s, &["--task-definition", &f]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let w = s.world.lock().unwrap();
    let body = &w.registered_bodies[0];
    assert_eq!(body["cpu"], "512", "the file, not the current revision");
    assert_eq!(body["containerDefinitions"][0]["image"], image());
    assert_eq!(
        body["containerDefinitions"][0]["environment"][0]["value"],
        "file"
    );
    assert_eq!(body["containerDefinitions"].as_array().unwrap().len(), 1);
    let new = td_arn(4);
    assert_eq!(w.tag_of(&new, "team").as_deref(), Some("core"));
    assert_eq!(w.tag_of(&new, "ship:version").as_deref(), Some("v2.0.0"));
    assert_eq!(w.tag_of(&new, "ship:previous"), Some(td_arn(3)));
}

#[test]
fn task_definition_file_from_describe_output_without_image() {
    let s = serve(World::new(Scenario::Healthy(1), 3));
    let dir = tempfile::tempdir().unwrap();
    let described = format!(
        r#"{{"taskDefinition": {{"taskDefinitionArn": "{}", "revision": 3, "status": "ACTIVE",
            "compatibilities": ["FARGATE"], "registeredAt": 1700000000.1,
            "requiresAttributes": [{{"name": "ecs.capability.task-eni"}}],
            "family": "api", "containerDefinitions": [{{"name": "app", "image": "{REPO}:v1.9.0"}}]}},
            "tags": []}}"#,
        td_arn(3)
    );
    let f = write(&dir, "described.json", &described);
    let r = run(
        ROLLOUT,
        &s.url,
        &[
            "--cluster",
            "prod",
            "--service",
            "api",
            "--task-definition",
            &f,
        ],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains(&format!("{REPO}:v1.9.0")), "{}", show(&r));
    let w = s.world.lock().unwrap();
    // The scripted RegisterTaskDefinition refuses read-only fields, so reaching here means
    // they were dropped.
    assert_eq!(
        w.registered_bodies[0]["containerDefinitions"][0]["image"],
        format!("{REPO}:v1.9.0")
    );
}

#[test]
fn bad_task_definition_file_exits_2_before_any_call() {
    let s = serve(World::new(Scenario::Healthy(1), 3));
    let dir = tempfile::tempdir().unwrap();
    let typo = FILE_TD.replace("\"essential\"", "\"esential\"");
    let f = write(&dir, "typo.json", &typo);
    let r = rollout(&s, &["--task-definition", &f]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("typo.json"), "{}", show(&r));
    assert!(
        r.stderr
            .contains("unknown field `containerDefinitions[0].esential` (line 8)"),
        "{}",
        show(&r)
    );
    let f = write(&dir, "broken.json", "{\n  \"family\": \"api\",\n}");
    let r = rollout(&s, &["--task-definition", &f]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(
        r.stderr.contains("broken.json: invalid JSON at line 3"),
        "{}",
        show(&r)
    );
    let r = rollout(&s, &["--task-definition", "/nonexistent/td.json"]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("/nonexistent/td.json"), "{}", show(&r));
    assert!(s.world.lock().unwrap().calls.is_empty());
}

#[test]
fn several_services_get_per_service_outputs() {
    let mut w = World::new(Scenario::Healthy(2), 3);
    w.also = vec!["worker".into()];
    let s = serve(w);
    let img = image();
    let r = run(
        ROLLOUT,
        &s.url,
        &[
            "--cluster",
            "prod",
            "--service",
            "api,worker",
            "--image",
            &img,
            "--timeout",
            "3s",
        ],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    // One revision registered for both (same current revision), so the single output is it.
    assert!(
        r.outputs
            .contains(&format!("task-definition-arn={}\n", td_arn(4))),
        "{}",
        show(&r)
    );
    let line = r
        .outputs
        .lines()
        .find_map(|l| l.strip_prefix("services="))
        .unwrap_or_else(|| panic!("no services output: {}", show(&r)));
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "worker"]);
    for s in v.as_array().unwrap() {
        assert_eq!(s["status"], "succeeded");
        assert_eq!(s["task-definition-arn"], td_arn(4));
        assert_eq!(s["previous-task-definition-arn"], td_arn(3));
        assert_eq!(s["deployment-id"], "ecs-svc/new");
    }
    assert!(
        r.stdout.lines().any(|l| l.starts_with("| api"))
            && r.stdout.lines().any(|l| l.starts_with("| worker")),
        "summary table lists each service: {}",
        show(&r)
    );
    assert_eq!(s.world.lock().unwrap().registered_bodies.len(), 1);
}

fn rollback_to(s: &Server, version: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "--cluster",
        "prod",
        "--service",
        "api",
        "--to-version",
        version,
    ];
    args.extend_from_slice(&["--timeout", "3s"]);
    args.extend_from_slice(extra);
    run(ROLLBACK, &s.url, &args)
}

#[test]
fn rollback_to_never_deployed_version_renders_after_ecr_check() {
    let s = serve(World::new(Scenario::Healthy(1), 4));
    let r = rollback_to(&s, "v1.5.0", &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stderr.contains("tag checked in ECR"), "{}", show(&r));
    assert!(
        r.outputs.contains(&format!("rolled-back-to={}", td_arn(5))),
        "{}",
        show(&r)
    );
    let w = s.world.lock().unwrap();
    assert!(w.calls.iter().any(|c| c == "DescribeImages"));
    let body = &w.registered_bodies[0];
    assert_eq!(
        body["containerDefinitions"][0]["image"],
        format!("{REPO}:v1.5.0")
    );
    assert_eq!(
        body["containerDefinitions"][1]["image"], "public.ecr.aws/envoy:v1.27.0",
        "the sidecar keeps its own version"
    );
    assert_eq!(
        w.tag_of(&td_arn(5), "ship:version").as_deref(),
        Some("v1.5.0")
    );
    assert_eq!(w.tag_of(&td_arn(5), "ship:previous"), None);
    assert_eq!(w.service_td, td_arn(5));
}

#[test]
fn rollback_to_version_missing_from_ecr_exits_2() {
    let s = serve(World::new(Scenario::Healthy(1), 4));
    let r = rollback_to(&s, "v9.9.9", &[]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(
        r.stderr.contains("version v9.9.9 exists nowhere"),
        "{}",
        show(&r)
    );
    let w = s.world.lock().unwrap();
    assert!(w.calls.iter().any(|c| c == "DescribeImages"));
    assert!(!w
        .calls
        .iter()
        .any(|c| c == "RegisterTaskDefinition" || c == "UpdateService"));
}

#[test]
fn rollback_to_version_outside_ecr_needs_allow_unverified_image() {
    let mut w = World::new(Scenario::Healthy(1), 4);
    for td in w.task_defs.iter_mut() {
        let tag = td["containerDefinitions"][0]["image"]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .to_string();
        td["containerDefinitions"][0]["image"] = format!("ghcr.io/org/api:{tag}").into();
    }
    let s = serve(w);
    let r = rollback_to(&s, "v1.5.0", &[]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(
        r.stderr.contains("not an ECR repository") && r.stderr.contains("--allow-unverified-image"),
        "{}",
        show(&r)
    );
    assert!(!called(&s, "UpdateService"));
    let r = rollback_to(&s, "v1.5.0", &["--allow-unverified-image"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stderr.contains("allowed by allow-unverified-image"),
        "{}",
        show(&r)
    );
    let w = s.world.lock().unwrap();
    assert_eq!(
        w.registered_bodies[0]["containerDefinitions"][0]["image"],
        "ghcr.io/org/api:v1.5.0"
    );
    assert!(!w.calls.iter().any(|c| c == "DescribeImages"));
}

fn called(s: &Server, action: &str) -> bool {
    s.world.lock().unwrap().calls.iter().any(|c| c == action)
}

fn rollback_default(s: &Server) -> Run {
    rollback_with(s, &[])
}

/// ship-rollback on `api` with the default target and `extra` flags.
fn rollback_with(s: &Server, extra: &[&str]) -> Run {
    let mut args = vec!["--cluster", "prod", "--service", "api", "--timeout", "3s"];
    args.extend_from_slice(extra);
    run(ROLLBACK, &s.url, &args)
}

#[test]
fn rollback_to_a_revision_without_schema_version_says_it_cannot_tell() {
    let s = serve(World::new(Scenario::Healthy(1), 4));
    let r = rollback_with(&s, &["--database-schema-version", "20240301"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stderr.contains(
            "note: api: cannot tell whether the database schema (at 20240301) still fits api:3: \
             it has no ship:schema-version tag (it was deployed before ship recorded schema \
             versions"
        ),
        "{}",
        show(&r)
    );
    // Without a database version there is nothing to compare and nothing to say.
    let s = serve(World::new(Scenario::Healthy(1), 4));
    let r = rollback_default(&s);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(!r.stderr.contains("cannot tell"), "{}", show(&r));
}

#[test]
fn rollback_to_never_deployed_version_without_schema_history_says_it_cannot_tell() {
    let s = serve(World::new(Scenario::Healthy(1), 4));
    let r = rollback_to(
        &s,
        "v1.5.0",
        &["--database-schema-version", "20240301", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let notes = report["notes"].to_string();
    assert!(
        notes.contains(
            "cannot tell whether the database schema (at 20240301) still fits the \
             revision rendered for v1.5.0"
        ) && notes.contains(&format!("no revision of the family that ran {REPO}:v1.5.0")),
        "{}",
        show(&r)
    );
    assert!(called(&s, "ListTaskDefinitions"));
    assert_eq!(
        s.world
            .lock()
            .unwrap()
            .tag_of(&td_arn(5), "ship:schema-version"),
        None
    );
}

#[test]
fn rollback_to_version_copies_the_schema_version_of_a_deregistered_revision() {
    let mut w = World::new(Scenario::Healthy(1), 4);
    // Revision 2 ran v1.5.0 with database schema 20240101 and was deregistered since.
    w.task_defs[1]["containerDefinitions"][0]["image"] = format!("{REPO}:v1.5.0").into();
    w.task_defs[1]["status"] = "INACTIVE".into();
    w.set_tag(&td_arn(2), "ship:schema-version", "20240101");
    let s = serve(w);
    let schema = [
        "--database-schema-version",
        "20240301",
        "--applied-migrations",
        "20240101,20240301",
    ];
    let r = rollback_to(&s, "v1.5.0", &schema);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(
        r.stderr.contains(
            "deployed with database schema 20240101, but the database is at \
             20240301; migrations it has not seen: 20240301"
        ) && r.stderr.contains("allow-schema-ahead"),
        "{}",
        show(&r)
    );
    assert!(
        !called(&s, "RegisterTaskDefinition") && !called(&s, "UpdateService"),
        "a refused rollback registers nothing"
    );
    let r = rollback_to(
        &s,
        "v1.5.0",
        &[&schema[..], &["--allow-schema-ahead"]].concat(),
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stderr.contains("ship:schema-version 20240101 from api:2"),
        "{}",
        show(&r)
    );
    assert!(
        r.stderr.contains("allowed by allow-schema-ahead"),
        "{}",
        show(&r)
    );
    let w = s.world.lock().unwrap();
    assert_eq!(
        w.tag_of(&td_arn(5), "ship:schema-version").as_deref(),
        Some("20240101")
    );
    assert_eq!(w.service_td, td_arn(5));
}

#[test]
fn rollback_during_a_deployment_stops_it_with_rollback() {
    // Revision 2 is being deployed over revision 1; the last known good is revision 1.
    let s = serve(World::new(Scenario::AlreadyInProgress, 2));
    let r = rollback_default(&s);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stderr.contains("stopped service deployment") && r.stderr.contains("ROLLBACK"),
        "{}",
        show(&r)
    );
    assert!(called(&s, "StopServiceDeployment"));
    assert!(!called(&s, "UpdateService"));
    assert_eq!(s.world.lock().unwrap().service_td, td_arn(1));
    assert!(r.outputs.contains(&format!("rolled-back-to={}", td_arn(1))));
}

#[test]
fn rollback_during_a_deployment_falls_back_to_update_service() {
    // ECS keeps no service deployment for it: UpdateService replaces the deployment.
    let mut w = World::new(Scenario::AlreadyInProgress, 2);
    w.service_deployments = false;
    let s = serve(w);
    let r = rollback_default(&s);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stderr.contains("ECS lists no service deployment"),
        "{}",
        show(&r)
    );
    assert!(called(&s, "UpdateService") && !called(&s, "StopServiceDeployment"));
    assert_eq!(s.world.lock().unwrap().service_td, td_arn(1));

    // The target (revision 2, ship:previous of 3) is not what the deployment replaces
    // (revision 1): stopping it would go to the wrong place.
    let s = serve(World::new(Scenario::AlreadyInProgress, 3));
    let r = rollback_default(&s);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stderr.contains("not the target"), "{}", show(&r));
    assert!(!called(&s, "ListServiceDeployments") && called(&s, "UpdateService"));
    assert_eq!(s.world.lock().unwrap().service_td, td_arn(2));
}

fn run_task_with(script: RunScript, extra: &[&str]) -> (Server, Run) {
    let mut w = World::new(Scenario::Healthy(1), 3);
    w.run_script = script;
    let s = serve(w);
    let img = image();
    let mut args = vec![
        "run-task",
        "--cluster",
        "prod",
        "--service",
        "api",
        "--image",
        img.as_str(),
    ];
    if !extra.contains(&"--command") {
        args.extend_from_slice(&["--command", "bin/migrate up --verbose"]);
    }
    if !extra.contains(&"--timeout") {
        args.extend_from_slice(&["--timeout", "5s"]);
    }
    args.extend_from_slice(extra);
    let r = run(ROLLOUT, &s.url, &args);
    (s, r)
}

#[test]
fn run_task_succeeds_and_streams_logs() {
    let (s, r) = run_task_with(RunScript::Succeeds, &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    for line in [
        "migrating 0001_init",
        "migrating 0002_users",
        "migrations done",
    ] {
        assert_eq!(
            r.stderr.matches(line).count(),
            1,
            "each log line once: {line}\n{}",
            show(&r)
        );
    }
    assert!(r.stderr.contains("task 0f1e2d3c: RUNNING"), "{}", show(&r));
    assert!(r.outputs.contains("status=succeeded"), "{}", show(&r));
    assert!(r.outputs.contains("exit-code=0"), "{}", show(&r));
    assert!(r.outputs.contains(&format!("task-arn={RUN_TASK_ARN}")));
    let w = s.world.lock().unwrap();
    let req = &w.run_requests[0];
    // The task definition rollout would register: the image rendered into the current one.
    assert_eq!(req["taskDefinition"], td_arn(4));
    assert_eq!(
        w.registered_bodies[0]["containerDefinitions"][0]["image"],
        image()
    );
    assert_eq!(req["launchType"], "FARGATE");
    assert_eq!(
        req["networkConfiguration"]["awsvpcConfiguration"]["subnets"][0],
        "subnet-private-1"
    );
    let o = &req["overrides"]["containerOverrides"][0];
    assert_eq!(o["name"], "app");
    assert_eq!(
        o["command"],
        serde_json::json!(["bin/migrate", "up", "--verbose"])
    );
    assert!(
        !w.calls.iter().any(|c| c == "UpdateService"),
        "run-task never touches the service"
    );
}

#[test]
fn rollout_after_run_task_reuses_its_revision() {
    // Migrations ran in the new image: run-task registered revision 4.
    let (s, r) = run_task_with(RunScript::Succeeds, &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let r = rollout(
        &s,
        &[
            "--git-sha",
            "abc123",
            "--schema-version",
            "20240301",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stderr.contains(
            "api: reusing api:4: the newest ACTIVE revision is what this rollout would register"
        ),
        "{}",
        show(&r)
    );
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["services"][0]["reused"], true, "{}", show(&r));
    assert_eq!(report["services"][0]["to"], td_arn(4));
    assert!(r
        .outputs
        .contains(&format!("task-definition-arn={}", td_arn(4))));
    let w = s.world.lock().unwrap();
    assert_eq!(w.registered_bodies.len(), 1, "one new revision, not two");
    assert_eq!(w.task_defs.len(), 4);
    assert_eq!(w.service_td, td_arn(4));
    // The tags the rollout writes, on the reused revision.
    let new = td_arn(4);
    assert_eq!(w.tag_of(&new, "ship:previous"), Some(td_arn(3)));
    assert_eq!(
        w.tag_of(&new, "ship:schema-version").as_deref(),
        Some("20240301")
    );
    assert_eq!(w.tag_of(&new, "ship:git-sha").as_deref(), Some("abc123"));
    assert_eq!(w.tag_of(&new, "ship:version").as_deref(), Some("v2.0.0"));
    assert_eq!(w.tag_of(&new, "ship:rollout").as_deref(), Some("COMPLETED"));
}

#[test]
fn rollout_of_another_image_after_run_task_registers_its_own_revision() {
    let (s, r) = run_task_with(RunScript::Succeeds, &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let other = format!("{REPO}:v2.0.1");
    let r = run(
        ROLLOUT,
        &s.url,
        &[
            "--cluster",
            "prod",
            "--service",
            "api",
            "--image",
            &other,
            "--timeout",
            "3s",
        ],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(!r.stderr.contains("reusing"), "{}", show(&r));
    let w = s.world.lock().unwrap();
    assert_eq!(w.registered_bodies.len(), 2);
    assert_eq!(w.service_td, td_arn(5));
    assert_eq!(w.tag_of(&td_arn(5), "ship:previous"), Some(td_arn(3)));
}

#[test]
fn run_task_exit_1_fails_with_code_and_reason() {
    let (_s, r) = run_task_with(RunScript::ExitsNonZero, &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(
        r.stderr
            .contains("container app exited 1 (migration 0003_orders failed)"),
        "{}",
        show(&r)
    );
    assert!(
        r.stderr.contains("relation \"orders\" already exists"),
        "{}",
        show(&r)
    );
    assert!(r.outputs.contains("exit-code=1"), "{}", show(&r));
    assert!(r.outputs.contains("status=failed"), "{}", show(&r));
}

#[test]
fn run_task_that_never_starts_reports_stopped_reason() {
    let (_s, r) = run_task_with(RunScript::NeverStarts, &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("never ran to completion"), "{}", show(&r));
    assert!(
        r.stderr.contains("CannotPullContainerError"),
        "{}",
        show(&r)
    );
    assert!(r.stderr.contains("TaskFailedToStart"), "{}", show(&r));
    assert!(r.outputs.contains("exit-code=\n"), "{}", show(&r));
}

#[test]
fn run_task_timeout_stops_the_task() {
    let (s, r) = run_task_with(RunScript::NeverStops, &["--timeout", "1s"]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("TIMED OUT"), "{}", show(&r));
    assert!(r.outputs.contains("status=timed-out"), "{}", show(&r));
    assert!(s.world.lock().unwrap().run_stop_requested);
}

#[test]
fn run_task_input_errors_exit_2() {
    let (s, r) = run_task_with(RunScript::Succeeds, &["--command", "bin/x 'unclosed"]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("unclosed quote"), "{}", show(&r));
    let img = image();
    let r = run(
        ROLLOUT,
        &s.url,
        &[
            "run-task",
            "--cluster",
            "prod",
            "--service",
            "api,worker",
            "--image",
            &img,
            "--command",
            "x",
        ],
    );
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("one service"), "{}", show(&r));
    assert!(!called(&s, "RunTask"));
}

#[test]
fn failure_behind_a_load_balancer_shows_target_health() {
    let mut w = World::new(Scenario::NeverStable, 3);
    w.target_health = vec![
        (
            "10.0.1.5".into(),
            8080,
            "unhealthy".into(),
            "Target.ResponseCodeMismatch".into(),
            "Health checks failed with these codes: [500]".into(),
        ),
        (
            "10.0.1.6".into(),
            8080,
            "healthy".into(),
            String::new(),
            String::new(),
        ),
    ];
    let s = serve(w);
    let r = rollout(&s, &["--timeout", "1s"]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(
        r.stderr.contains(
            "api: target group api-tg/6d0ecf831eec9f09: target 10.0.1.5:8080 unhealthy \
             (Target.ResponseCodeMismatch: Health checks failed with these codes: [500])"
        ),
        "{}",
        show(&r)
    );
    assert!(
        !r.stderr.contains("10.0.1.6"),
        "healthy targets are not listed: {}",
        show(&r)
    );
    assert!(called(&s, "DescribeTargetHealth"));
}

#[test]
fn run_task_no_wait_returns_after_starting() {
    let (s, r) = run_task_with(RunScript::NeverStops, &["--no-wait"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.outputs.contains("status=started"), "{}", show(&r));
    assert!(
        r.outputs.contains(&format!("task-arn={RUN_TASK_ARN}")),
        "{}",
        show(&r)
    );
    let w = s.world.lock().unwrap();
    assert!(!w
        .calls
        .iter()
        .any(|c| c == "DescribeTasks" || c == "StopTask"));
}

#[test]
fn run_task_with_an_existing_revision_registers_nothing() {
    let s = serve(World::new(Scenario::Healthy(1), 3));
    let mut args = vec![
        "run-task",
        "--cluster",
        "prod",
        "--service",
        "api",
        "--task-definition-arn",
        "api:2",
        "--command",
        r#"["bin/migrate", "status"]"#,
        "--timeout",
        "5s",
    ];
    // No image to say which container: app and envoy are both essential.
    let r = run(ROLLOUT, &s.url, &args);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(
        r.stderr.contains("cannot tell which container") && r.stderr.contains("`container`"),
        "{}",
        show(&r)
    );
    assert!(!called(&s, "RunTask"));
    args.extend_from_slice(&["--container", "app"]);
    let r = run(ROLLOUT, &s.url, &args);
    assert_eq!(r.code, 0, "{}", show(&r));
    let w = s.world.lock().unwrap();
    assert!(!w.calls.iter().any(|c| c == "RegisterTaskDefinition"));
    assert_eq!(w.run_requests[0]["taskDefinition"], td_arn(2));
    assert_eq!(
        w.run_requests[0]["overrides"]["containerOverrides"][0]["command"],
        serde_json::json!(["bin/migrate", "status"])
    );
}
