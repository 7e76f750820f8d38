//! Cancellation as GitHub Actions does it (SIGINT, then SIGTERM): the binaries run against the
//! scripted ECS endpoint (crates/ship-ecs-scripted), are signalled while they wait, and must say
//! what state they leave, write their outputs and step summary, tag an unsettled rollout's
//! revision `ship:rollout=CANCELLED`, and exit 130 (SIGINT) or 143 (SIGTERM).

use std::time::Duration;

use ship_ecs_scripted::*;

const ROLLOUT: &str = env!("CARGO_BIN_EXE_ship-ecs-rollout");
const ROLLBACK: &str = env!("CARGO_BIN_EXE_ship-rollback");

/// Long enough for a loaded 2-core machine to start the binary and reach the wait; the
/// binaries are signalled long before it runs out.
const START: Duration = Duration::from_secs(60);
/// How long a signalled binary may take to report and exit. GitHub leaves 2.5 s between
/// SIGTERM and SIGKILL; the report's AWS calls are bounded by 2 s, so this is generous.
const REPORT: Duration = Duration::from_secs(20);

fn show(r: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}\noutputs:\n{}\nsummary:\n{}",
        r.code, r.stdout, r.stderr, r.outputs, r.summary
    )
}

#[track_caller]
fn expect(r: &Run, what: &str, text: &str, wants: &[&str]) {
    for w in wants {
        assert!(text.contains(w), "{what} lacks {w:?}:\n{}", show(r));
    }
}

#[track_caller]
fn expect_output(r: &Run, key: &str, value: &str) {
    let line = format!("{key}={value}");
    assert!(
        r.outputs.lines().any(|l| l == line),
        "no output {line:?}:\n{}",
        show(r)
    );
}

/// The endpoint has seen `n` DescribeServices polls of the deployment it was asked for.
fn watching(s: &Server, n: u32) {
    wait_for(s, START, |w| w.target_td.is_some() && w.polls >= n);
}

#[test]
fn sigterm_during_a_rollout_reports_tags_and_exits_143() {
    let s = serve(World::new(Scenario::NeverStable, 3));
    let image = format!("{REPO}:v2.0.0");
    let running = spawn(
        ROLLOUT,
        &s.url,
        &[
            "--cluster",
            "prod",
            "--service",
            "api",
            "--image",
            &image,
            "--timeout",
            "10m",
        ],
    );
    watching(&s, 3);
    running.signal("TERM");
    let r = running.finish(REPORT);

    assert_eq!(r.code, 143, "{}", show(&r));
    let (new, old) = (td_arn(4), td_arn(3));
    expect(
        &r,
        "stderr",
        &r.stderr,
        &[
            "the ECS rollout was cancelled (SIGTERM) and stopped waiting. State left:",
            "api: ECS is deploying api:4 (deployment ecs-svc/new; last seen PRIMARY api:4 running 1/2",
            "it ran api:3, and ECS carries on with the deployment on its own",
            "api:4 tagged ship:rollout=CANCELLED.",
            "ship-rollback",
        ],
    );
    expect(
        &r,
        "stdout",
        &r.stdout,
        &["status: cancelled", "ECS is deploying api:4"],
    );
    expect_output(&r, "status", "cancelled");
    expect_output(&r, "task-definition-arn", &new);
    expect_output(&r, "previous-task-definition-arn", &old);
    expect_output(&r, "deployment-id", "ecs-svc/new");
    assert!(
        r.outputs.contains(r#""status":"cancelled""#)
            && r.outputs.contains(r#""deployment-id":"ecs-svc/new""#),
        "services output:\n{}",
        show(&r)
    );
    expect(
        &r,
        "the step summary",
        &r.summary,
        &[
            "### ECS rollout: cancelled",
            "Cancelled by SIGTERM",
            "| api | api:3 → api:4 | ecs-svc/new | ECS is deploying api:4",
            "api:4 tagged ship:rollout=CANCELLED.",
        ],
    );
    let w = s.world.lock().unwrap();
    assert_eq!(
        w.tag_of(&new, "ship:rollout").as_deref(),
        Some("CANCELLED"),
        "{}",
        show(&r)
    );
    // The revision the service ran keeps its record.
    assert_eq!(w.tag_of(&old, "ship:rollout").as_deref(), Some("COMPLETED"));
}

#[test]
fn sigint_during_a_rollout_exits_130_with_a_json_report() {
    let s = serve(World::new(Scenario::NeverStable, 3));
    let image = format!("{REPO}:v2.0.0");
    let running = spawn(
        ROLLOUT,
        &s.url,
        &[
            "--cluster",
            "prod",
            "--service",
            "api",
            "--image",
            &image,
            "--timeout",
            "10m",
            "--format",
            "json",
        ],
    );
    watching(&s, 2);
    running.signal("INT");
    let r = running.finish(REPORT);

    assert_eq!(r.code, 130, "{}", show(&r));
    let report: serde_json::Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON report ({e}):\n{}", show(&r)));
    assert_eq!(report["status"], "cancelled");
    assert_eq!(report["signal"], "SIGINT");
    assert_eq!(report["services"][0]["service"], "api");
    assert_eq!(report["services"][0]["from"], td_arn(3));
    assert_eq!(report["services"][0]["to"], td_arn(4));
    assert_eq!(report["services"][0]["deployment_id"], "ecs-svc/new");
    expect_output(&r, "status", "cancelled");
    assert_eq!(
        s.world
            .lock()
            .unwrap()
            .tag_of(&td_arn(4), "ship:rollout")
            .as_deref(),
        Some("CANCELLED")
    );
}

#[test]
fn sigterm_during_a_rollback_reports_and_leaves_tags_alone() {
    // The rollback to api:2 (ship:previous of api:3) never becomes stable.
    let s = serve(World::new(Scenario::NeverStable, 3));
    let running = spawn(
        ROLLBACK,
        &s.url,
        &["--cluster", "prod", "--service", "api", "--timeout", "10m"],
    );
    watching(&s, 2);
    running.signal("TERM");
    let r = running.finish(REPORT);

    assert_eq!(r.code, 143, "{}", show(&r));
    expect(
        &r,
        "stderr",
        &r.stderr,
        &[
            "the ECS rollback was cancelled (SIGTERM) and stopped waiting. State left:",
            "api: ECS is deploying api:2",
            "it ran api:3",
        ],
    );
    expect_output(&r, "status", "cancelled");
    expect_output(&r, "rolled-back-from", &td_arn(3));
    expect_output(&r, "rolled-back-to", &td_arn(2));
    expect(
        &r,
        "the step summary",
        &r.summary,
        &["### ECS rollback: cancelled", "| api | api:3 → api:2 |"],
    );
    // Known-good revisions keep their record: a cancelled rollback says nothing about them.
    let w = s.world.lock().unwrap();
    assert_eq!(
        w.tag_of(&td_arn(2), "ship:rollout").as_deref(),
        Some("COMPLETED")
    );
    assert!(!w.calls.iter().any(|c| c == "TagResource"), "{:?}", w.calls);
}

#[test]
fn sigterm_during_run_task_stops_the_task() {
    let mut w = World::new(Scenario::Healthy(1), 3);
    w.run_script = RunScript::NeverStops;
    let s = serve(w);
    let image = format!("{REPO}:v2.0.0");
    let running = spawn(
        ROLLOUT,
        &s.url,
        &[
            "run-task",
            "--cluster",
            "prod",
            "--service",
            "api",
            "--image",
            &image,
            "--command",
            "bin/migrate up",
            "--timeout",
            "10m",
        ],
    );
    wait_for(&s, START, |w| w.run_polls >= 3);
    running.signal("TERM");
    let r = running.finish(REPORT);

    assert_eq!(r.code, 143, "{}", show(&r));
    expect(
        &r,
        "stderr",
        &r.stderr,
        &[
            "the one-off ECS task run was cancelled (SIGTERM)",
            "task 0f1e2d3c (api:4, container app) was running (last seen task 0f1e2d3c: RUNNING)",
            "asking ECS to stop it",
            "StopTask sent",
        ],
    );
    expect_output(&r, "status", "cancelled");
    expect_output(&r, "task-arn", RUN_TASK_ARN);
    expect(
        &r,
        "the step summary",
        &r.summary,
        &["### ECS one-off task: cancelled"],
    );
    assert!(s.world.lock().unwrap().run_stop_requested);
}
