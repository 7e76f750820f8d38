//! `ship lint --github OWNER/REPO` and `ship settings export` end to end: the built binary
//! against a GitHub REST API double on 127.0.0.1 (wiremock) that answers with GitHub's
//! documented response shapes.
//!
//! The settings documents of `crates/ship-lint/tests/settings-fixtures` (one per rule and
//! case, each a set of GitHub responses) are served endpoint by endpoint, and the workflows of
//! the shared repository there are linted. So every fixture is checked three ways: served
//! live (`--github`), exported (`ship settings export` must write the same document back),
//! and read offline (`--settings`, which must give the same findings).

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REPO: &str = "acme/orders-api";

fn settings_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ship-lint/tests/settings-fixtures")
}

/// The shared repository: compliant pull-request CI, production and staging deploys, rollback.
fn shared_repo() -> String {
    settings_fixtures()
        .join("repo")
        .to_string_lossy()
        .into_owned()
}

fn fixture_path(name: &str) -> String {
    settings_fixtures()
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture_path(name))
        .unwrap_or_else(|e| panic!("reading settings fixture {name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

// ----- running ship ---------------------------------------------------------------------

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The findings of `--format json`, as `(rule, severity, path, line, message)`.
    fn findings(&self) -> Vec<Value> {
        self.json()["findings"]
            .as_array()
            .expect("a findings array")
            .clone()
    }
}

/// The token the tests give ship.
const TOKEN: &str = "ghs_stub-token-for-the-tests";

/// Run the built `ship` with the API at `api` (`GITHUB_API_URL`) and a token.
async fn ship(api: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ship"));
    cmd.args(args)
        .env("GITHUB_API_URL", api)
        // Not `test`: the token is masked (`***`) in everything ship prints, and the fixtures
        // hold a status check named `test`.
        .env("GITHUB_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .env_remove("SHIP_GITHUB_TIMEOUT")
        .env_remove("SHIP_GITHUB_MAX_RATE_LIMIT_WAIT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_OUTPUT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run the ship binary");
    Run {
        code: out.status.code().expect("ship exited normally"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

async fn lint_github(server: &MockServer, extra: &[&str]) -> Run {
    let repo = shared_repo();
    let mut args = vec!["lint", repo.as_str(), "--github", REPO];
    args.extend_from_slice(extra);
    ship(&server.uri(), &args, &[]).await
}

// ----- the GitHub double ------------------------------------------------------------------

/// Headers GitHub sends with every REST answer.
fn github_headers(t: ResponseTemplate) -> ResponseTemplate {
    t.insert_header("content-type", "application/json; charset=utf-8")
        .insert_header("x-github-api-version-selected", "2022-11-28")
        .insert_header("x-ratelimit-limit", "5000")
        .insert_header("x-ratelimit-remaining", "4987")
        .insert_header("x-ratelimit-used", "13")
        .insert_header("x-ratelimit-resource", "core")
        .insert_header("x-ratelimit-reset", (now() + 3000).to_string())
}

/// One saved response (`{"status", "body"}`) as GitHub would send it.
fn reply(resp: &Value) -> ResponseTemplate {
    let status = resp["status"].as_u64().expect("status") as u16;
    let mut t = github_headers(ResponseTemplate::new(status)).set_body_json(&resp["body"]);
    if status == 403 {
        t = t.insert_header("x-accepted-github-permissions", "administration=read");
    }
    t
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `GET /repos/{owner}/{repo}` (trimmed to what identifies it).
fn repository_body(full_name: &str) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap();
    json!({
        "id": 1296269,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": name,
        "full_name": full_name,
        "private": true,
        "owner": {
            "login": owner,
            "id": 1,
            "node_id": "MDEyOk9yZ2FuaXphdGlvbjE=",
            "url": format!("https://api.github.com/users/{owner}"),
            "html_url": format!("https://github.com/{owner}"),
            "type": "Organization",
            "site_admin": false
        },
        "html_url": format!("https://github.com/{full_name}"),
        "url": format!("https://api.github.com/repos/{full_name}"),
        "default_branch": "main",
        "visibility": "private",
        "permissions": {"admin": false, "maintain": false, "push": true, "triage": true, "pull": true}
    })
}

async fn mount(server: &MockServer, at: &str, t: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(t)
        .mount(server)
        .await;
}

/// Serve a settings document: every endpoint `ship` reads answers with the saved response.
async fn serve(server: &MockServer, doc: &Value) {
    let base = format!("/repos/{REPO}");
    mount(
        server,
        &base,
        github_headers(ResponseTemplate::new(200)).set_body_json(repository_body(REPO)),
    )
    .await;
    mount(
        server,
        &format!("{base}/branches/main/protection"),
        reply(&doc["classic_protection"]),
    )
    .await;
    mount(
        server,
        &format!("{base}/rules/branches/main"),
        reply(&doc["branch_rules"]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/rulesets")))
        .and(query_param("targets", "tag"))
        .respond_with(reply(&doc["tag_rulesets"]))
        .mount(server)
        .await;
    for (id, resp) in doc["rulesets"].as_object().unwrap() {
        mount(server, &format!("{base}/rulesets/{id}"), reply(resp)).await;
    }
    mount(
        server,
        &format!("{base}/environments"),
        reply(&doc["environments"]),
    )
    .await;
    for (name, resp) in doc["deployment_branch_policies"].as_object().unwrap() {
        mount(
            server,
            &format!("{base}/environments/{name}/deployment-branch-policies"),
            reply(resp),
        )
        .await;
    }
}

async fn serving(name: &str) -> MockServer {
    let server = MockServer::start().await;
    serve(&server, &fixture(name)).await;
    server
}

/// Every settings document of the fixtures, with the rule it is about (`None` for the
/// scenarios and `compliant.json`).
fn all_documents() -> Vec<(Option<&'static str>, String)> {
    let mut docs = vec![(None, "compliant.json".to_string())];
    let list = |dir: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(settings_fixtures().join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .map(|n| format!("{dir}/{n}"))
            .collect();
        names.sort();
        names
    };
    docs.extend(list("scenarios").into_iter().map(|n| (None, n)));
    for rule in ship_lint::settings_rule_ids() {
        docs.extend(list(rule).into_iter().map(|n| (Some(rule), n)));
    }
    docs
}

fn rules_of(findings: &[Value]) -> Vec<&str> {
    findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

// ----- compliant repositories -----------------------------------------------------------

/// A fully compliant repository (rulesets only): no finding, exit 0, and the requests carry
/// the token and GitHub's media type and API version.
#[tokio::test(flavor = "multi_thread")]
async fn compliant_repository_passes() {
    let server = serving("compliant.json").await;
    let run = lint_github(&server, &[]).await;
    run.expect_code(0);
    assert!(
        run.stdout.contains("no findings in 4 files"),
        "{}",
        run.stdout
    );

    let requests = server.received_requests().await.unwrap();
    let paths: Vec<String> = requests.iter().map(|r| r.url.path().to_string()).collect();
    for p in [
        "/repos/acme/orders-api",
        "/repos/acme/orders-api/branches/main/protection",
        "/repos/acme/orders-api/rules/branches/main",
        "/repos/acme/orders-api/rulesets",
        "/repos/acme/orders-api/rulesets/42",
        "/repos/acme/orders-api/rulesets/43",
        "/repos/acme/orders-api/environments",
        "/repos/acme/orders-api/environments/production/deployment-branch-policies",
    ] {
        assert!(paths.iter().any(|q| q == p), "{p} not requested: {paths:?}");
    }
    for r in &requests {
        let header = |name: &str| {
            r.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(
            header("authorization"),
            format!("Bearer {TOKEN}"),
            "{}",
            r.url
        );
        assert_eq!(header("accept"), "application/vnd.github+json", "{}", r.url);
        assert_eq!(header("x-github-api-version"), "2022-11-28", "{}", r.url);
    }
}

/// Classic protection only, rulesets only, and both disagreeing (classic weak, ruleset
/// strict: the stricter wins): all compliant.
#[tokio::test(flavor = "multi_thread")]
async fn classic_only_rulesets_only_and_both() {
    for doc in [
        "scenarios/classic-only.json",
        "compliant.json",
        "scenarios/both-stricter-wins.json",
    ] {
        let server = serving(doc).await;
        let run = lint_github(&server, &["--format", "json"]).await;
        run.expect_code(0);
        assert_eq!(run.findings(), Vec::<Value>::new(), "{doc}");
    }
}

// ----- each rule, live, exported and offline --------------------------------------------

/// Every fixture document, served live: a `bad*` document of a rule fails with findings of
/// that rule only (exit 1 for errors, 0 for warnings), an `ok*` one has none; `ship settings
/// export` writes the document back exactly; and `ship lint --settings` on the export gives
/// the same findings as `--github`.
#[tokio::test(flavor = "multi_thread")]
async fn every_document_live_exported_and_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let mut failing: Vec<&str> = Vec::new();
    for (rule, doc) in all_documents() {
        let expected = fixture(&doc);
        let server = MockServer::start().await;
        serve(&server, &expected).await;

        let live = lint_github(&server, &["--format", "json"]).await;
        let findings = live.findings();
        let errors = findings.iter().any(|f| f["severity"] == "error");
        live.expect_code(if errors { 1 } else { 0 });
        let name = doc.rsplit('/').next().unwrap();
        if let Some(rule) = rule {
            if name.starts_with("bad") {
                if !failing.contains(&rule) {
                    failing.push(rule);
                }
                assert!(!findings.is_empty(), "{doc}: no finding");
                assert!(
                    rules_of(&findings).iter().all(|r| *r == rule),
                    "{doc}: {:?}",
                    rules_of(&findings)
                );
            } else {
                assert_eq!(findings, Vec::<Value>::new(), "{doc}");
            }
        }

        let exported = tmp.path().join(name);
        let exported_s = exported.to_string_lossy().into_owned();
        ship(
            &server.uri(),
            &[
                "settings",
                "export",
                REPO,
                "--branch",
                "main",
                "-o",
                &exported_s,
            ],
            &[],
        )
        .await
        .expect_code(0);
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
        assert_eq!(
            written, expected,
            "{doc}: the export differs from what was served"
        );

        let repo = shared_repo();
        let offline = ship(
            "http://127.0.0.1:9",
            &["lint", &repo, "--settings", &exported_s, "--format", "json"],
            &[],
        )
        .await;
        offline.expect_code(live.code);
        assert_eq!(
            offline.findings(),
            findings,
            "{doc}: --settings and --github differ"
        );
    }
    assert_eq!(
        failing,
        ship_lint::settings_rule_ids(),
        "every rule fails on some document"
    );
}

/// `ship settings export` without `-o` prints the document; without `--branch` it takes the
/// production branch from the policy of `--dir`.
#[tokio::test(flavor = "multi_thread")]
async fn export_to_stdout_with_the_policy_branch() {
    let server = serving("required-reviews/bad.json").await;
    let repo = shared_repo();
    let run = ship(
        &server.uri(),
        &["settings", "export", REPO, "--dir", &repo],
        &[],
    )
    .await;
    run.expect_code(0);
    assert_eq!(run.json(), fixture("required-reviews/bad.json"));
    assert!(run.stdout.ends_with("}\n"));
}

// ----- pagination ---------------------------------------------------------------------------

/// Link headers as GitHub writes them.
fn link(server: &MockServer, endpoint: &str, rels: &[(u32, &str)]) -> String {
    rels.iter()
        .map(|(page, rel)| {
            format!(
                "<{}{endpoint}?per_page=100&page={page}>; rel=\"{rel}\"",
                server.uri()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Environments and the branch's rules over two pages each (`Link: <…page=2>;
/// rel="next"`). The production environment and the force-push and status-check rules are
/// on page 2: without following the link, ship would report them missing.
#[tokio::test(flavor = "multi_thread")]
async fn follows_pagination_links() {
    let doc = fixture("compliant.json");
    let server = MockServer::start().await;
    serve(&server, &doc).await;
    let base = format!("/repos/{REPO}");

    let envs = doc["environments"]["body"]["environments"]
        .as_array()
        .unwrap();
    assert_eq!(envs[1]["name"], "production");
    let env_path = format!("{base}/environments");
    for (page, items, rels) in [
        (1, &envs[..1], vec![(2, "next"), (2, "last")]),
        (2, &envs[1..], vec![(1, "prev"), (1, "first")]),
    ] {
        let body = json!({"total_count": 2, "environments": items});
        let mut mock = Mock::given(method("GET")).and(path(&env_path));
        if page == 2 {
            mock = mock.and(query_param("page", "2"));
        }
        mock.respond_with(
            github_headers(ResponseTemplate::new(200))
                .set_body_json(body)
                .insert_header("link", link(&server, &env_path, &rels).as_str()),
        )
        .with_priority(if page == 2 { 1 } else { 2 })
        .mount(&server)
        .await;
    }

    let rules = doc["branch_rules"]["body"].as_array().unwrap();
    assert_eq!(rules[1]["type"], "non_fast_forward");
    let rules_path = format!("{base}/rules/branches/main");
    for (page, items, rels) in [
        (1, &rules[..1], vec![(2, "next"), (2, "last")]),
        (2, &rules[1..], vec![(1, "prev"), (1, "first")]),
    ] {
        let mut mock = Mock::given(method("GET")).and(path(&rules_path));
        if page == 2 {
            mock = mock.and(query_param("page", "2"));
        }
        mock.respond_with(
            github_headers(ResponseTemplate::new(200))
                .set_body_json(items)
                .insert_header("link", link(&server, &rules_path, &rels).as_str()),
        )
        .with_priority(if page == 2 { 1 } else { 2 })
        .mount(&server)
        .await;
    }

    let run = lint_github(&server, &["--format", "json"]).await;
    run.expect_code(0);
    assert_eq!(run.findings(), Vec::<Value>::new());

    // The export holds both pages, concatenated: the same document as unpaginated.
    let out = ship(
        &server.uri(),
        &["settings", "export", REPO, "--branch", "main"],
        &[],
    )
    .await;
    out.expect_code(0);
    assert_eq!(out.json(), doc);

    let requests = server.received_requests().await.unwrap();
    for p in [&env_path, &rules_path] {
        let pages: Vec<Option<String>> = requests
            .iter()
            .filter(|r| r.url.path() == p.as_str())
            .map(|r| {
                r.url
                    .query_pairs()
                    .find(|(k, _)| k == "page")
                    .map(|(_, v)| v.into_owned())
            })
            .collect();
        // Two runs (lint, export), each page 1 then page 2.
        assert_eq!(
            pages,
            [None, Some("2".into()), None, Some("2".into())],
            "{p}"
        );
    }
}

// ----- what the token cannot read, and what cannot be read at all ---------------------------

/// A bare 404 "Not Found" on branch protection is what a token that may not see it gets on a
/// private repository: an unreadable setting (settings-access), never "main is unprotected".
#[tokio::test(flavor = "multi_thread")]
async fn protection_404_not_found_is_unreadable_not_unprotected() {
    let server = serving("scenarios/protection-404-not-found.json").await;
    let run = lint_github(&server, &[]).await;
    assert!(
        run.stdout.contains(
            "warning[settings-access]: cannot read branch protection of `main` (GET /repos/acme/orders-api/branches/main/protection 404: \"Not Found\")"
        ),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("error[branch-protection]"),
        "{}",
        run.stdout
    );
}

/// A 403 "Resource not accessible by integration" on branch protection: a settings-access
/// warning naming `administration: read`, and the rest is still linted (the production
/// environment without reviewers is an error: exit 1).
#[tokio::test(flavor = "multi_thread")]
async fn protection_403_is_reported_and_the_rest_linted() {
    let server = serving("scenarios/protection-403.json").await;
    let run = lint_github(&server, &[]).await;
    run.expect_code(1);
    assert!(
        run.stdout.contains(
            "warning[settings-access]: cannot read branch protection of `main` (GET /repos/acme/orders-api/branches/main/protection 403: \"Resource not accessible by integration\")"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("`administration: read`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "error[environment-protection]: environment `production` has 0 required reviewer(s)"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 error, 1 warning"), "{}", run.stdout);
}

/// A repository that does not exist (or the token cannot see): exit 2, naming it.
#[tokio::test(flavor = "multi_thread")]
async fn missing_repository_exits_2() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/repos/acme/no-such-repo",
        github_headers(ResponseTemplate::new(404)).set_body_json(json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository",
            "status": "404"
        })),
    )
    .await;
    let repo = shared_repo();
    for args in [
        vec!["lint", repo.as_str(), "--github", "acme/no-such-repo"],
        vec![
            "settings",
            "export",
            "acme/no-such-repo",
            "--branch",
            "main",
        ],
    ] {
        let run = ship(&server.uri(), &args, &[]).await;
        run.expect_code(2);
        assert!(
            run.stderr
                .contains("repository `acme/no-such-repo` was not found"),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    // Only the repository was asked for: nothing after the 404.
    let requests = server.received_requests().await.unwrap();
    assert!(requests
        .iter()
        .all(|r| r.url.path() == "/repos/acme/no-such-repo"));
}

/// A server that does not answer: `SHIP_GITHUB_TIMEOUT=2s` ends the wait after 2 s, exit 2.
#[tokio::test(flavor = "multi_thread")]
async fn slow_server_times_out() {
    let server = MockServer::start().await;
    mount(
        &server,
        &format!("/repos/{REPO}"),
        github_headers(ResponseTemplate::new(200))
            .set_body_json(repository_body(REPO))
            .set_delay(Duration::from_secs(20)),
    )
    .await;
    let repo = shared_repo();
    let run = ship(
        &server.uri(),
        &["lint", &repo, "--github", REPO],
        &[("SHIP_GITHUB_TIMEOUT", "2s")],
    )
    .await;
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("did not answer within 2 s (GET /repos/acme/orders-api)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("SHIP_GITHUB_TIMEOUT"), "{}", run.stderr);
    assert!(
        run.elapsed >= Duration::from_millis(1900) && run.elapsed < Duration::from_secs(8),
        "took {:?}",
        run.elapsed
    );
}

/// An unreadable `SHIP_GITHUB_TIMEOUT` is reported and the default used.
#[tokio::test(flavor = "multi_thread")]
async fn bad_timeout_value_is_reported() {
    let server = serving("compliant.json").await;
    let repo = shared_repo();
    let run = ship(
        &server.uri(),
        &["lint", &repo, "--github", REPO],
        &[("SHIP_GITHUB_TIMEOUT", "soon")],
    )
    .await;
    run.expect_code(0);
    assert!(
        run.stderr.contains("ignoring SHIP_GITHUB_TIMEOUT=`soon`"),
        "{}",
        run.stderr
    );
}

/// The primary rate limit as GitHub reports it: 403, `x-ratelimit-remaining: 0` and the
/// reset time.
fn rate_limited(reset: u64) -> ResponseTemplate {
    ResponseTemplate::new(403)
        .insert_header("content-type", "application/json; charset=utf-8")
        .insert_header("x-ratelimit-limit", "5000")
        .insert_header("x-ratelimit-remaining", "0")
        .insert_header("x-ratelimit-used", "5000")
        .insert_header("x-ratelimit-resource", "core")
        .insert_header("x-ratelimit-reset", reset.to_string())
        .set_body_json(json!({
            "message": "API rate limit exceeded for installation ID 4021.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            "status": "403"
        }))
}

/// Rate limited with the reset a second away: ship waits, asks again, and succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_waits_for_a_near_reset() {
    let server = serving("compliant.json").await;
    let env_path = format!("/repos/{REPO}/environments");
    Mock::given(method("GET"))
        .and(path(&env_path))
        .respond_with(rate_limited(now() + 1))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let run = lint_github(&server, &[]).await;
    run.expect_code(0);
    assert!(run.stdout.contains("no findings"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("GitHub rate limit on GET /repos/acme/orders-api/environments"),
        "{}",
        run.stderr
    );
    assert!(run.elapsed >= Duration::from_secs(1), "{:?}", run.elapsed);
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
    let asked = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == env_path)
        .count();
    assert_eq!(asked, 2);
}

/// Rate limited for an hour: ship does not wait, exit 2 naming the rate limit; and
/// `SHIP_GITHUB_MAX_RATE_LIMIT_WAIT` bounds a `retry-after` wait the same way.
#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_far_away_exits_2() {
    let server = serving("compliant.json").await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/branches/main/protection")))
        .respond_with(rate_limited(now() + 3600))
        .with_priority(1)
        .mount(&server)
        .await;
    let run = lint_github(&server, &[]).await;
    run.expect_code(2);
    assert!(
        run.stderr.contains(
            "GitHub rate limit reached for GET /repos/acme/orders-api/branches/main/protection"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("longer than ship waits (60 s"),
        "{}",
        run.stderr
    );
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);

    // A secondary rate limit (`retry-after`) longer than the configured wait.
    let server = serving("compliant.json").await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/environments")))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("retry-after", "30")
                .set_body_json(json!({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                    "status": "403"
                })),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let repo = shared_repo();
    let run = ship(
        &server.uri(),
        &["lint", &repo, "--github", REPO],
        &[("SHIP_GITHUB_MAX_RATE_LIMIT_WAIT", "1s")],
    )
    .await;
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("resets in 30 s, longer than ship waits (1 s"),
        "{}",
        run.stderr
    );
}
