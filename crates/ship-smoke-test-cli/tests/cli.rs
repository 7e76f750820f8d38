//! `ship-smoke-test` end to end: the real binary against real HTTP servers on 127.0.0.1.

mod support {
    pub mod server;
}

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::server::{Behaviour, TestServer};

const SEED_FLOW: &str = include_str!("fixtures/seed-flow.yml");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// The binary with a clean environment (no GITHUB_*/INPUT_* from wherever the tests run).
fn smoke() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ship-smoke-test"));
    cmd.env_clear();
    cmd
}

fn run(cmd: &mut Command) -> Run {
    let start = Instant::now();
    let out = cmd.output().expect("run ship-smoke-test");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: start.elapsed(),
    }
}

fn json_report(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

#[test]
fn waits_until_the_service_is_up() {
    let server = TestServer::start(Behaviour {
        down_for: Duration::from_millis(1500),
        ..Behaviour::default()
    });
    let r = run(smoke().args([
        "--url",
        &format!("{}/health", server.url),
        "--wait-timeout",
        "20s",
        "--format",
        "json",
    ]));
    assert_eq!(r.code, 0, "{}", r.all());
    let report = json_report(&r.stdout);
    assert!(report["attempts"].as_u64().unwrap() > 1, "{report}");
    assert!(r.stderr.contains("attempt 1 failed"), "{}", r.stderr);
    assert!(r.stderr.contains("connection refused"), "{}", r.stderr);
}

#[test]
fn retries_503_until_healthy() {
    let server = TestServer::start(Behaviour {
        unavailable_first: 2,
        ..Behaviour::default()
    });
    let r = run(smoke().args([
        "--url",
        &server.url,
        "--checks",
        "GET /health 200",
        "--wait-timeout",
        "20s",
        "--format",
        "json",
    ]));
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(json_report(&r.stdout)["attempts"], 3);
    assert!(
        r.stderr.contains("status 503, expected 200"),
        "{}",
        r.stderr
    );
}

#[test]
fn version_mismatch_fails_and_names_both_versions() {
    let server = TestServer::start(Behaviour {
        version: Some("v1.2.2".into()),
        ..Behaviour::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("output");
    let r = run(smoke()
        .args([
            "--url",
            &server.url,
            "--checks",
            "GET /health 200\nGET /version 200",
            "--expect-version",
            "v1.2.3",
            "--wait-timeout",
            "1s",
        ])
        .env("GITHUB_OUTPUT", &outputs));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("version mismatch: expected `v1.2.3`, but `v1.2.2` is serving"),
        "{}",
        r.stdout
    );
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    assert!(outputs.contains("passed=false\n"), "{outputs}");
    assert!(outputs.contains("rollback-recommended=true\n"), "{outputs}");
    assert!(outputs.contains("failed-checks=version\n"), "{outputs}");
    assert!(outputs.contains("served-version=v1.2.2\n"), "{outputs}");

    // The right version passes, read from a header or from a nested field.
    let server = TestServer::start(Behaviour::default());
    for flags in [
        ["--version-header", "X-App-Version"],
        ["--version-field", "/build/version"],
    ] {
        let r = run(smoke()
            .args(["--url", &format!("{}/version", server.url)])
            .args(flags)
            .args(["--expect-version", "1.2.3", "--wait-timeout", "0"]));
        assert_eq!(r.code, 0, "{flags:?}: {}", r.all());
        assert!(r.stdout.contains("`v1.2.3` is serving"), "{}", r.stdout);
    }
}

#[test]
fn seed_flow_with_captures_and_a_masked_token() {
    let token = "s3cret-token-4711";
    let server = TestServer::start(Behaviour {
        require_header: Some(("authorization".into(), format!("Bearer {token}"))),
        ..Behaviour::default()
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smoke.yml"), SEED_FLOW).unwrap();
    let files = ["output", "summary.md", "report.json", "junit.xml"].map(|f| dir.path().join(f));
    let r = run(smoke()
        .current_dir(dir.path())
        .args(["--spec", "smoke.yml", "--expect-version", "v1.2.3"])
        .args([
            "--wait-timeout",
            "5s",
            "--report-file",
            "report.json",
            "--junit",
            "junit.xml",
        ])
        .env("SMOKE_BASE_URL", &server.url)
        .env("SMOKE_API_TOKEN", token)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &files[0])
        .env("GITHUB_STEP_SUMMARY", &files[1]));
    assert_eq!(r.code, 0, "{}", r.all());

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[2]).unwrap()).unwrap();
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "health",
            "version",
            "create tenant",
            "create catalog item",
            "place order",
            "dashboard",
            "version"
        ]
    );
    assert!(report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["result"] == "passed"));
    // Captures reached the later paths.
    let dashboard = report["checks"][5]["request"].as_str().unwrap();
    assert!(
        dashboard.contains("/v1/tenants/t-1/dashboard"),
        "{dashboard}"
    );

    let outputs = std::fs::read_to_string(&files[0]).unwrap();
    assert!(outputs.contains("passed=true\n"), "{outputs}");
    assert!(
        outputs.contains("rollback-recommended=false\n"),
        "{outputs}"
    );
    assert!(outputs.contains("report=report.json\n"), "{outputs}");
    let summary = std::fs::read_to_string(&files[1]).unwrap();
    assert!(
        summary.contains("| Check | Request | Status | Latency | Result |"),
        "{summary}"
    );
    assert!(summary.contains("| place order |"), "{summary}");
    let junit = std::fs::read_to_string(&files[3]).unwrap();
    assert!(junit.contains("tests=\"7\" failures=\"0\""), "{junit}");

    // The runner is told to mask the token (on stderr, so stdout stays the report), and it
    // appears nowhere else.
    assert!(
        r.stderr.contains(&format!("::add-mask::{token}\n")),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("::add-mask::"), "{}", r.stdout);
    let unmasked: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect();
    let everywhere = format!(
        "{}{}{}{}{}",
        r.stdout,
        unmasked.join("\n"),
        std::fs::read_to_string(&files[2]).unwrap(),
        summary,
        junit
    );
    assert!(!everywhere.contains(token), "token leaked:\n{everywhere}");

    // Without the token the first check fails with the service's answer, token-free.
    let r = run(smoke()
        .current_dir(dir.path())
        .args(["--spec", "smoke.yml", "--wait-timeout", "0"])
        .env("SMOKE_BASE_URL", &server.url)
        .env("SMOKE_API_TOKEN", "wrong-token"));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains("status 401, expected 200"),
        "{}",
        r.stdout
    );
    assert!(!r.all().contains("wrong-token"), "{}", r.all());
}

#[test]
fn latency_over_the_limit_fails() {
    let server = TestServer::start(Behaviour {
        slow: Duration::from_millis(300),
        ..Behaviour::default()
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("smoke.yml"),
        format!(
            "base_url: {}\nchecks:\n  - path: /slow\n    expect:\n      max_latency: 100ms\n",
            server.url
        ),
    )
    .unwrap();
    let r =
        run(smoke()
            .current_dir(dir.path())
            .args(["--spec", "smoke.yml", "--wait-timeout", "0"]));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains("more than the 100ms allowed"),
        "{}",
        r.stdout
    );
}

fn watch(fail_every: u64) -> (Run, serde_json::Value) {
    let server = TestServer::start(Behaviour {
        fail_every,
        ..Behaviour::default()
    });
    let r = run(smoke().args([
        "--url",
        &server.url,
        "--checks",
        "GET /flaky 200",
        "--wait-timeout",
        "5s",
        "--watch",
        "3s",
        "--window",
        "2s",
        "--rps",
        "200",
        "--format",
        "json",
    ]));
    let report = json_report(&r.stdout);
    (r, report)
}

#[test]
fn watch_with_2_percent_errors_passes() {
    let (r, report) = watch(50);
    assert_eq!(r.code, 0, "{}", r.all());
    let w = &report["watch"];
    assert_eq!(w["passed"], true, "{w}");
    assert!(w["requests"].as_u64().unwrap() > 300, "{w}");
    let rate = w["error_rate"].as_f64().unwrap();
    assert!(rate > 0.01 && rate < 0.03, "{w}");
    assert_eq!(w["minutes"].as_array().unwrap().len(), 1, "{w}");
    assert!(r.stderr.contains("watching"), "{}", r.stderr);
}

#[test]
fn watch_with_10_percent_errors_fails_within_the_window() {
    let (r, report) = watch(10);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(report["rollback_recommended"], true);
    assert_eq!(report["failed_checks"], serde_json::json!(["watch"]));
    let w = &report["watch"];
    let breach = w["breach"].as_str().unwrap();
    assert!(breach.starts_with("error rate 10"), "{breach}");
    assert!(breach.contains("over the last 2s"), "{breach}");
    assert!(breach.contains("above the 5% limit"), "{breach}");
    // Stopped when the first full window breached, before the 3 s watch ended.
    assert!(w["watched"].as_f64().unwrap() < 2900.0, "{w}");
}

#[test]
fn watch_p95_over_the_limit_fails() {
    let server = TestServer::start(Behaviour {
        slow: Duration::from_millis(60),
        ..Behaviour::default()
    });
    let r = run(smoke().args([
        "--url",
        &format!("{}/slow", server.url),
        "--wait-timeout",
        "0",
        "--watch",
        "2s",
        "--window",
        "1s",
        "--rps",
        "20",
        "--max-p95",
        "20ms",
    ]));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("p95 latency"), "{}", r.stdout);
    assert!(r.stdout.contains("above the 20ms limit"), "{}", r.stdout);
    assert!(r.stdout.contains("Minute  Requests"), "{}", r.stdout);
}

#[test]
fn tls_to_a_plain_http_port_says_so() {
    let server = TestServer::start(Behaviour::default());
    let r = run(smoke().args([
        "--url",
        &format!("https://{}/health", server.addr),
        "--wait-timeout",
        "0",
    ]));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains(&format!(
            "TLS handshake with {} failed: the server did not answer with TLS (it probably speaks plain HTTP on this port)",
            server.addr
        )),
        "{}",
        r.stdout
    );
}

#[test]
fn unresolvable_host_says_dns() {
    let r = run(smoke().args([
        "--url",
        "https://smoke-test.example.invalid/health",
        "--wait-timeout",
        "0",
    ]));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("DNS lookup of `smoke-test.example.invalid` failed"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("check the host name in the URL"),
        "{}",
        r.stdout
    );
}

/// Runs a spec that must be rejected, in a directory of its own, and returns stderr.
fn rejected(spec: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smoke.yml"), spec).unwrap();
    let r = run(smoke()
        .current_dir(dir.path())
        .args(["--spec", "smoke.yml", "--wait-timeout", "0"])
        .env("SET_BUT_EMPTY", ""));
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.took < Duration::from_secs(5));
    r.stderr
}

#[test]
fn malformed_specs_name_the_line() {
    insta::assert_snapshot!(
        "unknown_keys_and_wrong_types",
        rejected(
            "base_url: http://127.0.0.1:1\nheaders:\n  Accept: application/json\nchecks:\n  - name: health\n    path: /health\n    expect:\n      staus: 200\n  - path: /orders\n    method: FETCH\n    expect:\n      json:\n        total: { greater: 1 }\n      max_latency: 5\n"
        )
    );
    insta::assert_snapshot!(
        "semantic_errors",
        rejected(
            "base_url: ${SMOKE_URL}\nheaders:\n  Authorization: Bearer ${SET_BUT_EMPTY}\nchecks:\n  - path: /tenants/{{tenant_id}}/dashboard\n    expect:\n      status: 20x\n      max_latency: fast\n      json:\n        id: { matches: \"(\" }\n  - path: /health\n    method: POST\n    json: {}\n    body: text\n    capture:\n      tenant id: id\n"
        )
    );
    insta::assert_snapshot!(
        "yaml_syntax",
        rejected("base_url: http://x\nchecks:\n  - path: [/health\n")
    );
    insta::assert_snapshot!("missing_checks", rejected("base_url: http://x\n"));
}

#[test]
fn usage_errors_exit_2() {
    let r = run(&mut smoke());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nothing to check"), "{}", r.stderr);
    let r = run(smoke().args(["--url", "http://x", "--checks", "FETCH /health"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--checks line 1: `FETCH` is not an HTTP method"),
        "{}",
        r.stderr
    );
    let r = run(smoke().args(["--url", "http://x", "--watch", "1m", "--window", "5m"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--window 5m is longer than --watch 1m"),
        "{}",
        r.stderr
    );
    let r = run(smoke().args(["--url", "http://x", "--wait-timeout", "soon"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a duration"), "{}", r.stderr);
    let r = run(smoke().args([
        "--url",
        "http://x",
        "--checks",
        "POST /orders",
        "--watch",
        "1m",
    ]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("repeats only GET"), "{}", r.stderr);
    let r = run(smoke().args(["--spec", "does-not-exist.yml"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("cannot read the spec `does-not-exist.yml`"),
        "{}",
        r.stderr
    );
}

#[test]
fn schema_is_a_valid_json_schema_that_accepts_the_seed_flow() {
    let r = run(smoke().arg("schema"));
    assert_eq!(r.code, 0, "{}", r.all());
    let schema: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(jsonschema::meta::is_valid(&schema));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let seed = ship_workflow::yaml::parse(SEED_FLOW, Default::default())
        .unwrap()
        .unwrap()
        .to_json();
    assert!(validator.is_valid(&seed));
    assert!(!validator.is_valid(&serde_json::json!({"checks": [{"path": "/", "typo": 1}]})));
}

#[test]
fn docs_show_the_tested_seed_flow() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/smoke-test.md");
    let docs = std::fs::read_to_string(&docs).unwrap();
    assert!(
        docs.contains(SEED_FLOW),
        "docs/smoke-test.md must contain tests/fixtures/seed-flow.yml verbatim"
    );
}

/// A body that never ends: read up to 1 MiB and no further (the server is left writing into
/// a closed connection), and each kind of check says what that means for it.
#[test]
fn endless_bodies_stop_at_the_limit_with_their_own_messages() {
    let (url, sent) = support::server::endless_json();
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("output");

    // Reading the version from it: the version check says the body was too large, not that
    // no response carried a version.
    let r = run(smoke()
        .args(["--url", &format!("{url}/info")])
        .args(["--expect-version", "v1.2.3", "--wait-timeout", "0"])
        .env("GITHUB_OUTPUT", &outputs));
    assert_eq!(r.code, 1, "{}", r.all());
    let want = format!(
        "the JSON field `version` could not be read: `{url}/info`: the body of GET {url}/info is over the 1 MiB limit; reading stopped there"
    );
    assert!(r.stdout.contains(&want), "missing {want:?}:\n{}", r.all());
    assert!(
        !r.all().contains("no response carried a version"),
        "{}",
        r.all()
    );
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    assert!(outputs.contains("failed-checks=version\n"), "{outputs}");

    // A check of its JSON content fails naming the limit; one of the status alone passes.
    std::fs::write(
        dir.path().join("smoke.yml"),
        format!(
            "base_url: {url}\nchecks:\n  - name: info\n    path: /info\n    expect:\n      status: 200\n      json:\n        version: {{ equals: v1.2.3 }}\n"
        ),
    )
    .unwrap();
    let r =
        run(smoke()
            .current_dir(dir.path())
            .args(["--spec", "smoke.yml", "--wait-timeout", "0"]));
    assert_eq!(r.code, 1, "{}", r.all());
    let want = format!(
        "the body of GET {url}/info is over the 1 MiB limit; reading stopped there, so its content was not checked"
    );
    assert!(r.stdout.contains(&want), "missing {want:?}:\n{}", r.all());
    let r = run(smoke().args(["--url", &format!("{url}/info"), "--wait-timeout", "0"]));
    assert_eq!(r.code, 0, "{}", r.all());

    // Four requests of at most 1 MiB each, plus what socket buffers held when they hung up;
    // reading any of them whole would never end.
    let sent = sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(sent < 64 << 20, "{sent} body bytes were sent");
}

/// JSON cut off half-way: the version check says the body is not valid JSON, with the parse
/// error and an excerpt, not that no response carried a version.
#[test]
fn invalid_json_is_named_as_such_by_the_version_check() {
    let server = TestServer::start(Behaviour::default());
    let r = run(smoke().args([
        "--url",
        &format!("{}/broken-json", server.url),
        "--expect-version",
        "v1.2.3",
        "--wait-timeout",
        "0",
    ]));
    assert_eq!(r.code, 1, "{}", r.all());
    for want in [
        format!(
            "the JSON field `version` could not be read: `{0}/broken-json`: the body of GET {0}/broken-json is not valid JSON (EOF while parsing",
            server.url
        ),
        r#"(body: {"version": "v1.2.3", "build": {)"#.to_string(),
    ] {
        assert!(r.stdout.contains(&want), "missing {want:?}:\n{}", r.all());
    }
    assert!(
        !r.all().contains("no response carried a version"),
        "{}",
        r.all()
    );
}
