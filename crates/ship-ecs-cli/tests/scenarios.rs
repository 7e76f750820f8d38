//! Rollout and rollback scenarios against the scripted ECS endpoint (crates/ship-ecs-scripted).
//!
//! Each scenario is its own test on its own endpoint; the helpers below start one
//! ([`world`]), run a binary the way most scenarios do ([`rollout`], [`rollback_with`],
//! [`rollback_to`], [`run_task_with`]) and check a run ([`expect_exit`], [`expect_stderr`],
//! [`expect_output`]), printing the whole run when a check fails.

use ship_ecs_scripted::*;

const ROLLOUT: &str = env!("CARGO_BIN_EXE_ship-ecs-rollout");
const ROLLBACK: &str = env!("CARGO_BIN_EXE_ship-rollback");

fn image() -> String {
    format!("{REPO}:v2.0.0")
}

/// An endpoint playing `scenario` with revisions 1..=`revisions` of `api`, the service on the
/// last.
fn world(scenario: Scenario, revisions: i64) -> Server {
    serve(World::new(scenario, revisions))
}

/// `args` with `--timeout 3s` added unless they set one: scenarios settle in a few polls.
fn with_timeout<'a>(mut args: Vec<&'a str>, extra: &[&'a str]) -> Vec<&'a str> {
    if !extra.contains(&"--timeout") {
        args.extend_from_slice(&["--timeout", "3s"]);
    }
    args.extend_from_slice(extra);
    args
}

/// ship-ecs-rollout on cluster prod with `args`.
fn rollout_args(s: &Server, args: &[&str]) -> Run {
    run(
        ROLLOUT,
        &s.url,
        &with_timeout(vec!["--cluster", "prod"], args),
    )
}

/// ship-ecs-rollout of `image` to `services` of cluster prod, with `extra` flags.
fn rollout_of(s: &Server, services: &str, image: &str, extra: &[&str]) -> Run {
    rollout_args(
        s,
        &[&["--service", services, "--image", image], extra].concat(),
    )
}

/// ship-ecs-rollout of [`image`] to prod/api, with `extra` flags.
fn rollout(s: &Server, extra: &[&str]) -> Run {
    rollout_of(s, "api", &image(), extra)
}

/// ship-rollback of prod/api to the default target, with `extra` flags.
fn rollback_with(s: &Server, extra: &[&str]) -> Run {
    let args = vec!["--cluster", "prod", "--service", "api"];
    run(ROLLBACK, &s.url, &with_timeout(args, extra))
}

/// ship-rollback of prod/api `--to-version version`, with `extra` flags.
fn rollback_to(s: &Server, version: &str, extra: &[&str]) -> Run {
    rollback_with(s, &[&["--to-version", version], extra].concat())
}

fn show(r: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}\noutputs:\n{}",
        r.code, r.stdout, r.stderr, r.outputs
    )
}

#[track_caller]
fn expect_exit(r: &Run, code: i32) {
    assert_eq!(r.code, code, "{}", show(r));
}

#[track_caller]
fn expect_stderr(r: &Run, texts: &[&str]) {
    for t in texts {
        assert!(r.stderr.contains(t), "stderr lacks {t:?}:\n{}", show(r));
    }
}

#[track_caller]
fn expect_stdout(r: &Run, texts: &[&str]) {
    for t in texts {
        assert!(r.stdout.contains(t), "stdout lacks {t:?}:\n{}", show(r));
    }
}

/// The step output `key` is `value`.
#[track_caller]
fn expect_output(r: &Run, key: &str, value: &str) {
    let line = format!("{key}={value}");
    assert!(
        r.outputs.lines().any(|l| l == line),
        "no output {line:?}:\n{}",
        show(r)
    );
}

/// The `--format json` report on stdout.
#[track_caller]
fn json_report(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("stdout is not a JSON report ({e}):\n{}", show(r)))
}

fn called(s: &Server, action: &str) -> bool {
    s.world.lock().unwrap().calls.iter().any(|c| c == action)
}

/// None of `actions` was called.
#[track_caller]
fn expect_not_called(s: &Server, actions: &[&str]) {
    let w = s.world.lock().unwrap();
    for a in actions {
        assert!(
            !w.calls.iter().any(|c| c == a),
            "{a} was called: {:?}",
            w.calls
        );
    }
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn healthy_rollout_in_three_polls() {
    let s = world(Scenario::Healthy(3), 3);
    let r = rollout(
        &s,
        &["--git-sha", "abc123", "--run-url", "https://ci/run/1"],
    );
    expect_exit(&r, 0);
    expect_stdout(&r, &["status: succeeded"]);
    expect_output(&r, "task-definition-arn", &td_arn(4));
    expect_output(&r, "previous-task-definition-arn", &td_arn(3));
    expect_output(&r, "status", "succeeded");
    // Progress lines.
    expect_stderr(&r, &["running 1/2"]);
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
    let s = world(Scenario::CrashLoop, 3);
    let r = rollout(&s, &[]);
    expect_exit(&r, 1);
    expect_stdout(&r, &["status: failed"]);
    expect_stderr(
        &r,
        &[
            "Essential container in task exited",
            "container app exit 1 (panic: DATABASE_URL not set)",
            // A service event.
            "has started 1 tasks",
        ],
    );
    expect_output(&r, "status", "failed");
    let w = s.world.lock().unwrap();
    assert_eq!(
        w.tag_of(&td_arn(4), "ship:rollout").as_deref(),
        Some("FAILED")
    );
}

#[test]
fn circuit_breaker_rollback_is_never_a_success() {
    let s = world(Scenario::CircuitBreaker, 3);
    let r = rollout(&s, &[]);
    expect_exit(&r, 1);
    expect_stdout(&r, &["rolled back by the circuit breaker"]);
    expect_stderr(&r, &["Essential container in task exited"]);
}

#[test]
fn never_stable_times_out() {
    let s = world(Scenario::NeverStable, 3);
    let r = rollout(&s, &["--timeout", "1s"]);
    expect_exit(&r, 1);
    expect_stdout(&r, &["status: timed-out"]);
    expect_stderr(&r, &["TIMED OUT"]);
}

#[test]
fn throttling_is_retried() {
    let s = world(Scenario::Throttled, 3);
    let r = rollout(&s, &[]);
    expect_exit(&r, 0);
    assert_eq!(s.world.lock().unwrap().throttles_left, 0);
}

#[test]
fn refuses_while_another_deployment_is_in_progress() {
    let s = world(Scenario::AlreadyInProgress, 3);
    let r = rollout(&s, &[]);
    expect_exit(&r, 1);
    expect_stderr(&r, &["--force"]);
    expect_not_called(&s, &["UpdateService", "RegisterTaskDefinition"]);
    let r = rollout(&s, &["--force"]);
    expect_exit(&r, 0);
}

#[test]
fn dry_run_prints_diff_and_changes_nothing() {
    let s = world(Scenario::Healthy(1), 3);
    let r = rollout(&s, &["--dry-run"]);
    expect_exit(&r, 0);
    expect_stdout(&r, &["v1.0.2", "v2.0.0", "+ ship:previous"]);
    expect_not_called(&s, &["UpdateService", "RegisterTaskDefinition"]);
}

#[test]
fn no_wait_exits_after_update() {
    let s = world(Scenario::NeverStable, 3);
    let r = rollout(&s, &["--no-wait"]);
    expect_exit(&r, 0);
    expect_output(&r, "status", "started");
}

#[test]
fn input_errors_exit_2() {
    let s = world(Scenario::Healthy(1), 3);
    let r = rollout_of(&s, "api", &format!("{REPO}:latest"), &[]);
    expect_exit(&r, 2);
    expect_stderr(&r, &["--allow-mutable-tag"]);
    let img = image();
    let r = run(
        ROLLOUT,
        &s.url,
        &["--cluster", "nope", "--service", "api", "--image", &img],
    );
    expect_exit(&r, 2);
    expect_stderr(&r, &["cluster \"nope\""]);
    let r = rollout_of(&s, "api,ghost", &img, &[]);
    expect_exit(&r, 2);
    expect_stderr(&r, &["ghost"]);
    let r = run(ROLLOUT, &s.url, &["--service", "api", "--image", &img]);
    expect_exit(&r, 2);
    expect_stderr(&r, &["`cluster` is required"]);
    expect_not_called(&s, &["UpdateService"]);
}

#[test]
fn rollback_on_failure_returns_to_previous() {
    let s = world(Scenario::CrashLoop, 3);
    let r = rollout(&s, &["--rollback-on-failure"]);
    expect_exit(&r, 1);
    expect_stderr(&r, &["rollback of api: succeeded"]);
    assert_eq!(s.world.lock().unwrap().service_td, td_arn(3));
}

/// The rollback succeeded from `from` to `to` (revisions), in its outputs and on the service.
#[track_caller]
fn expect_rolled_back(s: &Server, r: &Run, from: i64, to: i64) {
    expect_exit(r, 0);
    expect_output(r, "rolled-back-from", &td_arn(from));
    expect_output(r, "rolled-back-to", &td_arn(to));
    assert_eq!(
        s.world.lock().unwrap().service_td,
        td_arn(to),
        "{}",
        show(r)
    );
}

#[test]
fn rollback_default_uses_ship_previous() {
    let s = world(Scenario::Healthy(2), 4);
    let r = rollback_with(&s, &[]);
    expect_rolled_back(&s, &r, 4, 3);
}

#[test]
fn rollback_skips_failed_revision_without_previous_tag() {
    let mut w = World::new(Scenario::Healthy(1), 4);
    // Revision 3 failed; revision 4 has no ship:previous tag.
    w.set_tag(&td_arn(3), "ship:rollout", "FAILED");
    w.tags[3].retain(|t| t["key"] != "ship:previous");
    let s = serve(w);
    let r = rollback_with(&s, &["--deregister-failed"]);
    expect_rolled_back(&s, &r, 4, 2);
    let w = s.world.lock().unwrap();
    assert_eq!(
        w.task_defs[3]["status"], "INACTIVE",
        "deregister-failed deregisters the rolled-back-from revision"
    );
    assert_eq!(w.task_defs[1]["status"], "ACTIVE");
}

#[test]
fn rollback_to_version_and_revision() {
    // (target flags, the revision they name) on revisions 1..=4 running v1.0.0..=v1.0.3.
    let cases: [(&[&str], i64); 2] = [
        (&["--to-version", "v1.0.1"], 2),
        (&["--to-revision", "1"], 1),
    ];
    for (target, revision) in cases {
        let s = world(Scenario::Healthy(1), 4);
        let r = rollback_with(&s, target);
        expect_rolled_back(&s, &r, 4, revision);
    }
}

#[test]
fn rollback_to_unknown_version_exits_2() {
    let s = world(Scenario::Healthy(1), 4);
    let r = rollback_to(&s, "v9.9.9", &[]);
    expect_exit(&r, 2);
    expect_stderr(&r, &["v9.9.9"]);
    let r = rollback_to(&s, "banana", &[]);
    expect_exit(&r, 2);
    expect_not_called(&s, &["UpdateService"]);
}

#[test]
fn rollback_that_fails_reports_failure() {
    let s = world(Scenario::CrashLoop, 4);
    let r = rollback_with(&s, &[]);
    expect_exit(&r, 1);
    expect_stdout(&r, &["status: failed"]);
    expect_stderr(&r, &["Essential container in task exited"]);
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
    let s = world(Scenario::Healthy(1), 3);
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "td.json", FILE_TD);
    let r = rollout(&s, &["--task-definition", &f]);
    expect_exit(&r, 0);
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
    let s = world(Scenario::Healthy(1), 3);
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
    let r = rollout_args(&s, &["--service", "api", "--task-definition", &f]);
    expect_exit(&r, 0);
    expect_stdout(&r, &[&format!("{REPO}:v1.9.0")]);
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
    let s = world(Scenario::Healthy(1), 3);
    let dir = tempfile::tempdir().unwrap();
    // (file name, its text, what the error says besides the file name)
    let typo = FILE_TD.replace("\"essential\"", "\"esential\"");
    let cases = [
        (
            "typo.json",
            typo.as_str(),
            "unknown field `containerDefinitions[0].esential` (line 8)",
        ),
        (
            "broken.json",
            "{\n  \"family\": \"api\",\n}",
            "broken.json: invalid JSON at line 3",
        ),
    ];
    for (name, text, says) in cases {
        let f = write(&dir, name, text);
        let r = rollout(&s, &["--task-definition", &f]);
        expect_exit(&r, 2);
        expect_stderr(&r, &[name, says]);
    }
    let r = rollout(&s, &["--task-definition", "/nonexistent/td.json"]);
    expect_exit(&r, 2);
    expect_stderr(&r, &["/nonexistent/td.json"]);
    assert!(s.world.lock().unwrap().calls.is_empty());
}

#[test]
fn several_services_get_per_service_outputs() {
    let mut w = World::new(Scenario::Healthy(2), 3);
    w.also = vec!["worker".into()];
    let s = serve(w);
    let r = rollout_of(&s, "api,worker", &image(), &[]);
    expect_exit(&r, 0);
    // One revision registered for both (same current revision), so the single output is it.
    expect_output(&r, "task-definition-arn", &td_arn(4));
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

/// Revisions 1..=4 of `api` with the application image in `ghcr.io/org/api` (not ECR).
fn outside_ecr() -> World {
    let mut w = World::new(Scenario::Healthy(1), 4);
    for td in w.task_defs.iter_mut() {
        let image = td["containerDefinitions"][0]["image"].as_str().unwrap();
        let tag = image.rsplit(':').next().unwrap().to_string();
        td["containerDefinitions"][0]["image"] = format!("ghcr.io/org/api:{tag}").into();
    }
    w
}

#[test]
fn rollback_to_never_deployed_version_renders_after_ecr_check() {
    let s = world(Scenario::Healthy(1), 4);
    let r = rollback_to(&s, "v1.5.0", &[]);
    expect_rolled_back(&s, &r, 4, 5);
    expect_stderr(&r, &["tag checked in ECR"]);
    assert!(called(&s, "DescribeImages"));
    let w = s.world.lock().unwrap();
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
}

#[test]
fn rollback_to_version_missing_from_ecr_exits_2() {
    let s = world(Scenario::Healthy(1), 4);
    let r = rollback_to(&s, "v9.9.9", &[]);
    expect_exit(&r, 2);
    expect_stderr(&r, &["version v9.9.9 exists nowhere"]);
    assert!(called(&s, "DescribeImages"));
    expect_not_called(&s, &["RegisterTaskDefinition", "UpdateService"]);
}

#[test]
fn rollback_to_version_outside_ecr_needs_allow_unverified_image() {
    let s = serve(outside_ecr());
    let r = rollback_to(&s, "v1.5.0", &[]);
    expect_exit(&r, 2);
    expect_stderr(&r, &["not an ECR repository", "--allow-unverified-image"]);
    expect_not_called(&s, &["UpdateService"]);
    let r = rollback_to(&s, "v1.5.0", &["--allow-unverified-image"]);
    expect_exit(&r, 0);
    expect_stderr(&r, &["allowed by allow-unverified-image"]);
    expect_not_called(&s, &["DescribeImages"]);
    assert_eq!(
        s.world.lock().unwrap().registered_bodies[0]["containerDefinitions"][0]["image"],
        "ghcr.io/org/api:v1.5.0"
    );
}

#[test]
fn rollback_to_a_revision_without_schema_version_says_it_cannot_tell() {
    let s = world(Scenario::Healthy(1), 4);
    let r = rollback_with(&s, &["--database-schema-version", "20240301"]);
    expect_rolled_back(&s, &r, 4, 3);
    expect_stderr(
        &r,
        &[
            "note: api: cannot tell whether the database schema (at 20240301) still fits api:3: \
           it has no ship:schema-version tag (it was deployed before ship recorded schema \
           versions",
        ],
    );
    // Without a database version there is nothing to compare and nothing to say.
    let s = world(Scenario::Healthy(1), 4);
    let r = rollback_with(&s, &[]);
    expect_exit(&r, 0);
    assert!(!r.stderr.contains("cannot tell"), "{}", show(&r));
}

#[test]
fn rollback_to_never_deployed_version_without_schema_history_says_it_cannot_tell() {
    let s = world(Scenario::Healthy(1), 4);
    let r = rollback_to(
        &s,
        "v1.5.0",
        &["--database-schema-version", "20240301", "--format", "json"],
    );
    expect_exit(&r, 0);
    let notes = json_report(&r)["notes"].to_string();
    for says in [
        "cannot tell whether the database schema (at 20240301) still fits the revision rendered \
         for v1.5.0",
        &format!("no revision of the family that ran {REPO}:v1.5.0"),
    ] {
        assert!(notes.contains(says), "notes lack {says:?}:\n{}", show(&r));
    }
    // The INACTIVE revisions were looked at for one that ran v1.5.0.
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
    expect_exit(&r, 1);
    expect_stderr(
        &r,
        &[
            "deployed with database schema 20240101, but the database is at 20240301; \
             migrations it has not seen: 20240301",
            "allow-schema-ahead",
        ],
    );
    // Refused before registering: no revision is left behind.
    expect_not_called(&s, &["RegisterTaskDefinition", "UpdateService"]);
    let r = rollback_to(
        &s,
        "v1.5.0",
        &[&schema[..], &["--allow-schema-ahead"]].concat(),
    );
    expect_rolled_back(&s, &r, 4, 5);
    expect_stderr(
        &r,
        &[
            "ship:schema-version 20240101 from api:2",
            "allowed by allow-schema-ahead",
        ],
    );
    assert_eq!(
        s.world
            .lock()
            .unwrap()
            .tag_of(&td_arn(5), "ship:schema-version")
            .as_deref(),
        Some("20240101")
    );
}

#[test]
fn rollback_during_a_deployment_stops_it_with_rollback() {
    // Revision 2 is being deployed over revision 1; the last known good is revision 1.
    let s = world(Scenario::AlreadyInProgress, 2);
    let r = rollback_with(&s, &[]);
    expect_rolled_back(&s, &r, 2, 1);
    expect_stderr(&r, &["stopped service deployment", "ROLLBACK"]);
    assert!(called(&s, "StopServiceDeployment"));
    expect_not_called(&s, &["UpdateService"]);
}

#[test]
fn rollback_during_a_deployment_falls_back_to_update_service() {
    // ECS keeps no service deployment for it: UpdateService replaces the deployment.
    let mut w = World::new(Scenario::AlreadyInProgress, 2);
    w.service_deployments = false;
    let s = serve(w);
    let r = rollback_with(&s, &[]);
    expect_rolled_back(&s, &r, 2, 1);
    expect_stderr(&r, &["ECS lists no service deployment"]);
    assert!(called(&s, "UpdateService"));
    expect_not_called(&s, &["StopServiceDeployment"]);

    // The target (revision 2, ship:previous of 3) is not what the deployment replaces
    // (revision 1): stopping it would go to the wrong place.
    let s = world(Scenario::AlreadyInProgress, 3);
    let r = rollback_with(&s, &[]);
    expect_rolled_back(&s, &r, 3, 2);
    expect_stderr(&r, &["not the target"]);
    assert!(called(&s, "UpdateService"));
    expect_not_called(&s, &["ListServiceDeployments"]);
}

#[test]
fn failure_behind_a_load_balancer_shows_target_health() {
    let mut w = World::new(Scenario::NeverStable, 3);
    let target = |ip: &str, state: &str, reason: &str, description: &str| {
        (
            ip.to_string(),
            8080,
            state.to_string(),
            reason.to_string(),
            description.to_string(),
        )
    };
    w.target_health = vec![
        target(
            "10.0.1.5",
            "unhealthy",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [500]",
        ),
        target("10.0.1.6", "healthy", "", ""),
    ];
    let s = serve(w);
    let r = rollout(&s, &["--timeout", "1s"]);
    expect_exit(&r, 1);
    expect_stderr(
        &r,
        &[
            "api: target group api-tg/6d0ecf831eec9f09: target 10.0.1.5:8080 unhealthy \
           (Target.ResponseCodeMismatch: Health checks failed with these codes: [500])",
        ],
    );
    assert!(
        !r.stderr.contains("10.0.1.6"),
        "healthy targets are not listed: {}",
        show(&r)
    );
    assert!(called(&s, "DescribeTargetHealth"));
}

/// `ship-ecs-rollout run-task` on cluster prod with `args` (a 5 s timeout unless they set one).
fn run_task_args(s: &Server, args: &[&str]) -> Run {
    let mut all = vec!["run-task", "--cluster", "prod"];
    all.extend_from_slice(args);
    if !args.contains(&"--timeout") {
        all.extend_from_slice(&["--timeout", "5s"]);
    }
    run(ROLLOUT, &s.url, &all)
}

/// `run-task` of [`image`] for prod/api on an endpoint whose one-off task plays `script`;
/// `bin/migrate up --verbose` unless `extra` sets a command.
fn run_task_with(script: RunScript, extra: &[&str]) -> (Server, Run) {
    let mut w = World::new(Scenario::Healthy(1), 3);
    w.run_script = script;
    let s = serve(w);
    let img = image();
    let mut args = vec!["--service", "api", "--image", img.as_str()];
    if !extra.contains(&"--command") {
        args.extend_from_slice(&["--command", "bin/migrate up --verbose"]);
    }
    args.extend_from_slice(extra);
    let r = run_task_args(&s, &args);
    (s, r)
}

#[test]
fn run_task_succeeds_and_streams_logs() {
    let (s, r) = run_task_with(RunScript::Succeeds, &[]);
    expect_exit(&r, 0);
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
    expect_stderr(&r, &["task 0f1e2d3c: RUNNING"]);
    expect_output(&r, "status", "succeeded");
    expect_output(&r, "exit-code", "0");
    expect_output(&r, "task-arn", RUN_TASK_ARN);
    expect_not_called(&s, &["UpdateService"]);
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
}

#[test]
fn rollout_after_run_task_reuses_its_revision() {
    // Migrations ran in the new image: run-task registered revision 4.
    let (s, r) = run_task_with(RunScript::Succeeds, &[]);
    expect_exit(&r, 0);
    // A dry run says so and writes nothing.
    let dry = rollout(&s, &["--dry-run"]);
    expect_exit(&dry, 0);
    assert!(
        dry.stdout
            .contains("(would reuse api:4: the newest ACTIVE revision is identical"),
        "{}",
        show(&dry)
    );
    assert_eq!(s.world.lock().unwrap().service_td, td_arn(3));
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
    expect_exit(&r, 0);
    expect_stderr(
        &r,
        &["api: reusing api:4: the newest ACTIVE revision is what this rollout would register"],
    );
    let report = json_report(&r);
    assert_eq!(report["services"][0]["reused"], true, "{}", show(&r));
    assert_eq!(report["services"][0]["to"], td_arn(4));
    expect_output(&r, "task-definition-arn", &td_arn(4));
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
    expect_exit(&r, 0);
    let r = rollout_of(&s, "api", &format!("{REPO}:v2.0.1"), &[]);
    expect_exit(&r, 0);
    assert!(!r.stderr.contains("reusing"), "{}", show(&r));
    let w = s.world.lock().unwrap();
    assert_eq!(w.registered_bodies.len(), 2);
    assert_eq!(w.service_td, td_arn(5));
    assert_eq!(w.tag_of(&td_arn(5), "ship:previous"), Some(td_arn(3)));
}

#[test]
fn run_task_exit_1_fails_with_code_and_reason() {
    let (_s, r) = run_task_with(RunScript::ExitsNonZero, &[]);
    expect_exit(&r, 1);
    expect_stderr(
        &r,
        &[
            "container app exited 1 (migration 0003_orders failed)",
            "relation \"orders\" already exists",
        ],
    );
    expect_output(&r, "exit-code", "1");
    expect_output(&r, "status", "failed");
}

#[test]
fn run_task_that_never_starts_reports_stopped_reason() {
    let (_s, r) = run_task_with(RunScript::NeverStarts, &[]);
    expect_exit(&r, 1);
    expect_stderr(
        &r,
        &[
            "never ran to completion",
            "CannotPullContainerError",
            "TaskFailedToStart",
        ],
    );
    expect_output(&r, "exit-code", "");
}

#[test]
fn run_task_timeout_stops_the_task() {
    let (s, r) = run_task_with(RunScript::NeverStops, &["--timeout", "1s"]);
    expect_exit(&r, 1);
    expect_stderr(&r, &["TIMED OUT"]);
    expect_output(&r, "status", "timed-out");
    assert!(s.world.lock().unwrap().run_stop_requested);
}

#[test]
fn run_task_input_errors_exit_2() {
    let (s, r) = run_task_with(RunScript::Succeeds, &["--command", "bin/x 'unclosed"]);
    expect_exit(&r, 2);
    expect_stderr(&r, &["unclosed quote"]);
    let img = image();
    let r = run_task_args(
        &s,
        &["--service", "api,worker", "--image", &img, "--command", "x"],
    );
    expect_exit(&r, 2);
    expect_stderr(&r, &["one service"]);
    expect_not_called(&s, &["RunTask"]);
}

#[test]
fn run_task_no_wait_returns_after_starting() {
    let (s, r) = run_task_with(RunScript::NeverStops, &["--no-wait"]);
    expect_exit(&r, 0);
    expect_output(&r, "status", "started");
    expect_output(&r, "task-arn", RUN_TASK_ARN);
    expect_not_called(&s, &["DescribeTasks", "StopTask"]);
}

#[test]
fn run_task_with_an_existing_revision_registers_nothing() {
    let s = world(Scenario::Healthy(1), 3);
    let mut args = vec![
        "--service",
        "api",
        "--task-definition-arn",
        "api:2",
        "--command",
        r#"["bin/migrate", "status"]"#,
    ];
    // No image to say which container: app and envoy are both essential.
    let r = run_task_args(&s, &args);
    expect_exit(&r, 2);
    expect_stderr(&r, &["cannot tell which container", "`container`"]);
    expect_not_called(&s, &["RunTask"]);
    args.extend_from_slice(&["--container", "app"]);
    let r = run_task_args(&s, &args);
    expect_exit(&r, 0);
    expect_not_called(&s, &["RegisterTaskDefinition"]);
    let w = s.world.lock().unwrap();
    assert_eq!(w.run_requests[0]["taskDefinition"], td_arn(2));
    assert_eq!(
        w.run_requests[0]["overrides"]["containerOverrides"][0]["command"],
        serde_json::json!(["bin/migrate", "status"])
    );
}

/// ECS's reads are eventually consistent: one poll right after UpdateService can still show
/// the old revision as the only PRIMARY, which looks like a circuit-breaker rollback. A failure
/// needs a second poll to agree, as a success does, so this rollout goes on and succeeds.
#[test]
fn one_stale_poll_is_not_a_failure() {
    let s = world(Scenario::StaleFirstPoll(2), 3);
    let r = rollout(&s, &[]);
    expect_exit(&r, 0);
    expect_output(&r, "status", "succeeded");
    assert!(!r.stderr.contains("FAILED"), "{}", show(&r));
    let w = s.world.lock().unwrap();
    assert_eq!(
        w.tag_of(&td_arn(4), "ship:rollout").as_deref(),
        Some("COMPLETED")
    );
}

/// No AWS credentials anywhere in the chain is a configuration error: exit 2 with what to set,
/// before anything is changed.
#[test]
fn missing_credentials_exit_2() {
    let s = world(Scenario::Healthy(1), 3);
    let unset = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
    for (bin, args) in [
        (
            ROLLOUT,
            vec!["--cluster", "prod", "--service", "api", "--image"],
        ),
        (ROLLBACK, vec!["--cluster", "prod", "--service", "api"]),
    ] {
        let img = image();
        let mut args = args;
        if bin == ROLLOUT {
            args.push(&img);
        }
        let r = run_without(bin, &s.url, &args, &unset);
        expect_exit(&r, 2);
        expect_stderr(
            &r,
            &[
                "no AWS credentials were found",
                "aws-actions/configure-aws-credentials",
            ],
        );
        assert_eq!(r.stderr.matches("error:").count(), 1, "{}", show(&r));
    }
    expect_not_called(&s, &["RegisterTaskDefinition", "UpdateService"]);
}
