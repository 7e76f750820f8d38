//! No secret in any output (issue 16): every binary's error paths, run as on a GitHub runner
//! (`GITHUB_ACTIONS=true`, `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY` files, report files),
//! with distinctive secrets in every credential it takes (URLs with and without a scheme,
//! query parameters, `--url` userinfo, registry passwords, tokens, AWS keys), against servers
//! that echo the request back, Authorization header included, in their error bodies. The
//! secrets, in every form they travel in (as written, percent-encoded and decoded, base64 in a
//! Basic header, JSON-escaped), must appear nowhere but in `::add-mask::` lines.

use base64::Engine as _;
use ship_e2e::act::bin_dir;
use ship_e2e::free_port;
use ship_e2e::servers::start_postgres;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// The password or token in every credential.
const SECRET: &str = "zq7-Sup3rSecret-NEVER-PRINT";
/// A password with characters a URL must percent-encode.
const SPECIAL: &str = "p@ss/w0rd:zq9#NEVER";
/// What the stub registry's token service hands out: a credential the binary learns.
const ISSUED_TOKEN: &str = "zq7-issued-bearer-token-NEVER";
/// An AWS session token: the SDK sends it in a header, so an echoing endpoint returns it.
const SESSION_TOKEN: &str = "zq7-aws-session-token-NEVER";

/// Everything a secret can look like in output.
fn forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_string()];
    let encoded: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    forms.push(encoded);
    let json = serde_json::to_string(secret).unwrap();
    forms.push(json[1..json.len() - 1].to_string());
    // Base64 at the three alignments, as inside `Basic base64(user:secret)`: the characters
    // that depend on the secret alone.
    for shift in 0..3usize {
        let mut bytes = vec![0u8; shift];
        bytes.extend_from_slice(secret.as_bytes());
        let text = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes);
        let first = (8 * shift).div_ceil(6);
        let end = (8 * (shift + secret.len())) / 6;
        forms.push(text[first..end].to_string());
    }
    forms.sort();
    forms.dedup();
    forms
}

/// One request as the stub saw it.
#[derive(Clone, Debug)]
struct Request {
    path: String,
    /// The request line and headers, as received.
    head: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    /// The whole request on one line, as an echoing server puts it in an error message.
    fn echo(&self) -> String {
        self.head.trim().replace("\r\n", " | ")
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn respond(status: u16, content_type: &str, body: String) -> Response {
    Response {
        status,
        headers: vec![("content-type".into(), content_type.into())],
        body,
    }
}

type Handler = dyn Fn(&Request, &str) -> Response + Send + Sync;

/// An HTTP/1.1 server on 127.0.0.1 answering through `handler(request, base_url)`.
struct Stub {
    url: String,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Stub {
    fn start(handler: impl Fn(&Request, &str) -> Response + Send + Sync + 'static) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (s, base) = (seen.clone(), url.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (s, h, base) = (s.clone(), handler.clone(), base.clone());
                std::thread::spawn(move || serve(conn, &*h, &base, &s));
            }
        });
        Stub { url, seen }
    }

    fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }

    fn host(&self) -> &str {
        self.url.trim_start_matches("http://")
    }
}

fn serve(conn: TcpStream, handler: &Handler, base: &str, seen: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.trim().is_empty() {
                break;
            }
            head.push_str(&line);
        }
        // `GET /path HTTP/1.1`: the second word.
        let request = Request {
            path: head.split_whitespace().nth(1).unwrap_or("").to_string(),
            head: head.clone(),
        };
        let length = request
            .header("content-length")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        seen.lock().unwrap().push(request.clone());
        let response = handler(&request, base);
        let mut text = format!("HTTP/1.1 {} Stub\r\n", response.status);
        for (k, v) in &response.headers {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        text.push_str(&format!(
            "content-length: {}\r\n\r\n{}",
            response.body.len(),
            response.body
        ));
        if out.write_all(text.as_bytes()).is_err() {
            return;
        }
    }
}

/// One binary run and every file it wrote.
struct Run {
    label: String,
    code: Option<i32>,
    /// (where, text): stdout, stderr, the runner files and report files.
    outputs: Vec<(String, String)>,
}

/// Runs `bin args` as on a runner, in a fresh directory with the runner files, with `env`.
fn run(label: &str, bin: &str, args: &[&str], env: &[(&str, &str)], stdin_dir: &Path) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("github_output");
    let summary = dir.path().join("step_summary");
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let mut cmd = Command::new(bin_dir().join(bin));
    cmd.args(
        args.iter()
            .map(|a| a.replace("{reports}", &reports.display().to_string())),
    )
    .current_dir(stdin_dir)
    .env_clear()
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .env("HOME", dir.path())
    .env("GITHUB_ACTIONS", "true")
    .env("GITHUB_OUTPUT", &output)
    .env("GITHUB_STEP_SUMMARY", &summary)
    .env("RUNNER_TEMP", &reports)
    .env("NO_COLOR", "1")
    .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let mut outputs = vec![
        (
            "stdout".to_string(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ),
        (
            "stderr".to_string(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
    ];
    let mut files: Vec<PathBuf> = vec![output, summary];
    files.extend(
        std::fs::read_dir(&reports)
            .unwrap()
            .flatten()
            .map(|e| e.path()),
    );
    for file in files {
        if let Ok(bytes) = std::fs::read(&file) {
            outputs.push((
                file.file_name().unwrap().to_string_lossy().into_owned(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    Run {
        label: label.to_string(),
        code: out.status.code(),
        outputs,
    }
}

/// The lines of `text` that are not `::add-mask::` commands and show a form of a secret.
fn leaks(text: &str, secrets: &[&str]) -> Vec<String> {
    let forms: Vec<String> = secrets.iter().flat_map(|s| forms(s)).collect();
    text.lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .filter(|l| forms.iter().any(|f| l.contains(f.as_str())))
        .map(str::to_string)
        .collect()
}

/// Checks one run: it failed as an error path should (not a panic, not success), and no
/// output shows a secret.
fn check(run: &Run, codes: &[i32], problems: &mut Vec<String>) {
    let secrets = [SECRET, SPECIAL, ISSUED_TOKEN, SESSION_TOKEN];
    let all: String = run
        .outputs
        .iter()
        .map(|(w, t)| format!("--- {w}\n{t}\n"))
        .collect();
    if !run.code.is_some_and(|c| codes.contains(&c)) {
        problems.push(format!(
            "{}: exit {:?}, expected one of {codes:?}\n{all}",
            run.label, run.code
        ));
    }
    if all.contains("panicked") {
        problems.push(format!("{}: panicked\n{all}", run.label));
    }
    for (where_, text) in &run.outputs {
        let found = leaks(text, &secrets);
        if !found.is_empty() {
            problems.push(format!(
                "{}: a secret in {where_}:\n  {}",
                run.label,
                found.join("\n  ")
            ));
        }
    }
}

/// The registry stub: Basic challenge; authenticated requests get a 500 whose body echoes
/// the request.
fn basic_registry() -> Stub {
    Stub::start(|r, _| match r.header("authorization") {
        None => Response {
            status: 401,
            headers: vec![("www-authenticate".into(), "Basic realm=\"stub\"".into())],
            body: String::new(),
        },
        Some(_) => respond(
            500,
            "text/plain",
            format!("upstream said no to: {}\n", r.echo()),
        ),
    })
}

/// A registry stub with a bearer token service: the service hands out [`ISSUED_TOKEN`] and
/// the registry refuses it with an OCI error body quoting the request.
fn bearer_registry() -> Stub {
    Stub::start(|r, base| {
        if r.path.starts_with("/token") {
            return respond(
                200,
                "application/json",
                format!("{{\"token\":\"{ISSUED_TOKEN}\"}}"),
            );
        }
        match r.header("authorization") {
            Some(auth) if auth.starts_with("Bearer") => respond(
                403,
                "application/json",
                serde_json::json!({"errors": [{"code": "DENIED", "message": format!("denied: {}", r.echo())}]})
                    .to_string(),
            ),
            _ => Response {
                status: 401,
                headers: vec![(
                    "www-authenticate".into(),
                    format!("Bearer realm=\"{base}/token\",service=\"stub\""),
                )],
                body: String::new(),
            },
        }
    })
}

/// A token service that refuses the Basic credentials and echoes them.
fn refusing_token_service() -> Stub {
    Stub::start(|r, base| {
        if r.path.starts_with("/token") {
            return respond(
                401,
                "text/plain",
                format!("bad credentials in {}\n", r.echo()),
            );
        }
        Response {
            status: 401,
            headers: vec![(
                "www-authenticate".into(),
                format!("Bearer realm=\"{base}/token\",service=\"stub\""),
            )],
            body: String::new(),
        }
    })
}

/// The GitHub API: the repository is readable, every other endpoint fails with a message
/// quoting the request (token included); with `deny_all`, the repository too (401).
fn github_api(deny_all: bool) -> Stub {
    Stub::start(move |r, _| {
        let message =
            serde_json::json!({ "message": format!("Bad credentials: {}", r.echo()) }).to_string();
        if !deny_all && r.path.split('?').next() == Some("/repos/org/app") {
            return respond(
                200,
                "application/json",
                r#"{"full_name":"org/app","default_branch":"main"}"#.into(),
            );
        }
        respond(
            if deny_all { 401 } else { 403 },
            "application/json",
            message,
        )
    })
}

/// An ECS endpoint that refuses every call with an error message quoting the request.
fn ecs_endpoint() -> Stub {
    Stub::start(|r, _| {
        respond(
            400,
            "application/x-amz-json-1.1",
            serde_json::json!({
                "__type": "ClientException",
                "message": format!("refused: {}", r.echo()),
            })
            .to_string(),
        )
    })
}

/// A service for the smoke test that fails every check and echoes the request.
fn smoke_service() -> Stub {
    Stub::start(|r, _| {
        respond(
            500,
            "application/json",
            serde_json::json!({ "error": format!("you sent {}", r.echo()), "version": r.header("authorization") })
                .to_string(),
        )
    })
}

#[test]
fn no_binary_prints_a_secret_on_its_error_paths() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path();
    std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
    std::fs::write(
        repo.join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
    )
    .unwrap();
    std::fs::create_dir_all(repo.join("db/migrations")).unwrap();
    std::fs::write(
        repo.join("db/migrations/0001_a.sql"),
        "CREATE TABLE a (id int);\n",
    )
    .unwrap();
    // Fails with PostgreSQL's error, which the runner prints with the URL it was applied to.
    std::fs::create_dir_all(repo.join("bad")).unwrap();
    std::fs::write(
        repo.join("bad/0001_bad.sql"),
        "SELECT no_such_column FROM no_such_table;\n",
    )
    .unwrap();
    let special_encoded: String = forms(SPECIAL)
        .into_iter()
        .find(|f| f.contains("%40"))
        .unwrap();
    let (_pg, pg_url) = start_postgres();
    let pg_with_secret = pg_url.replace("postgres@", &format!("postgres:{SECRET}@"));
    let dead = format!("127.0.0.1:{}", free_port());

    let mut problems = Vec::new();
    let mut sent = Vec::new();

    // ship: the GitHub API refusing the token, and settings whose error bodies quote it.
    let token_env = [("GITHUB_TOKEN", SECRET)];
    for (label, deny_all, args, codes) in [
        (
            "ship lint --github (401 echoing the token)",
            true,
            vec!["lint", ".", "--github", "org/app", "--format", "github"],
            &[2][..],
        ),
        (
            "ship lint --github (403 bodies in the settings)",
            false,
            vec![
                "lint",
                ".",
                "--github",
                "org/app",
                "--format",
                "github",
                "--sarif-file",
                "{reports}/ship.sarif",
                "--fail-on",
                "note",
            ],
            &[0, 1, 2][..],
        ),
        (
            "ship settings export (403 bodies)",
            false,
            vec!["settings", "export", "org/app", "--branch", "main"],
            &[0, 2][..],
        ),
        (
            "ship settings export -o (403 bodies)",
            false,
            vec![
                "settings",
                "export",
                "org/app",
                "--branch",
                "main",
                "-o",
                "{reports}/settings.json",
            ],
            &[0, 2][..],
        ),
    ] {
        let api = github_api(deny_all);
        let env = [token_env[0], ("GITHUB_API_URL", api.url.as_str())];
        let r = run(label, "ship", &args, &env, repo);
        check(&r, codes, &mut problems);
        sent.push((label, api.requests()));
    }

    // ship-tag-image: Basic credentials echoed in a 500, a bearer token echoed in an OCI error
    // body, a token service refusing the credentials, an unreachable registry.
    let registry_env = [
        ("REGISTRY_USERNAME", "robot"),
        ("REGISTRY_PASSWORD", SECRET),
        ("GITHUB_SHA", "abc1234def567890abc1234def567890abc12345"),
    ];
    for (label, stub, dry_run) in [
        ("ship-tag-image (basic, 500 echo)", basic_registry(), false),
        (
            "ship-tag-image --dry-run (basic, 500 echo)",
            basic_registry(),
            true,
        ),
        (
            "ship-tag-image (bearer, 403 echo)",
            bearer_registry(),
            false,
        ),
        (
            "ship-tag-image (token service refuses)",
            refusing_token_service(),
            false,
        ),
    ] {
        let image = format!("{}/org/api", stub.host());
        let mut args = vec![
            "--image",
            &image,
            "--release-version",
            "1.2.3",
            "--format",
            "json",
        ];
        if dry_run {
            args.push("--dry-run");
        }
        let r = run(label, "ship-tag-image", &args, &registry_env, repo);
        check(&r, &[1, 2], &mut problems);
        sent.push((label, stub.requests()));
    }
    let image = format!("{dead}/org/api");
    let r = run(
        "ship-tag-image (unreachable)",
        "ship-tag-image",
        &["--image", &image, "--release-version", "1.2.3"],
        &registry_env,
        repo,
    );
    check(&r, &[1], &mut problems);

    // ship-run-migrations: a URL without a scheme, a password in the query, a percent-encoded
    // password, `--format json`, and `--command` printing DATABASE_URL (plain and base64).
    let no_scheme = format!("robot:{SECRET}@{dead}/app");
    let in_query = format!("postgres://robot@{dead}/app?password={SECRET}");
    let encoded = format!("postgres://robot:{special_encoded}@{dead}/app");
    for (label, url, args, codes) in [
        ("ship-run-migrations (no scheme)", no_scheme.as_str(), vec!["up", "--format", "json"], &[2][..]),
        ("ship-run-migrations (no scheme, human)", no_scheme.as_str(), vec!["status"], &[2][..]),
        ("ship-run-migrations (?password=)", in_query.as_str(), vec!["up", "--format", "json"], &[1][..]),
        ("ship-run-migrations (percent-encoded)", encoded.as_str(), vec!["up"], &[1][..]),
        (
            "ship-run-migrations --command (prints DATABASE_URL)",
            pg_with_secret.as_str(),
            vec![
                "--format",
                "json",
                "--command",
                "echo \"$DATABASE_URL\"; echo \"url: $DATABASE_URL\" >&2; printf %s \"$DATABASE_URL\" | base64 -w0; echo; exit 3",
            ],
            &[1][..],
        ),
        (
            "ship-run-migrations (failing migration)",
            pg_with_secret.as_str(),
            vec!["up", "--dir", "bad", "--format", "json"],
            &[1, 2][..],
        ),
    ] {
        let r = run(label, "ship-run-migrations", &args, &[("DATABASE_URL", url)], repo);
        check(&r, codes, &mut problems);
        if args.contains(&"json") {
            let stdout = &r.outputs[0].1;
            if serde_json::from_str::<serde_json::Value>(stdout).is_err() {
                problems.push(format!("{label}: --format json stdout is not JSON:\n{stdout}"));
            }
        }
    }
    let r = run(
        "ship-run-migrations --database-url (no scheme, flag)",
        "ship-run-migrations",
        &["up", "--database-url", &no_scheme],
        &[],
        repo,
    );
    check(&r, &[2], &mut problems);

    // ship-smoke-test: userinfo in --url (sent as Basic, echoed by the service), a token in
    // the query and in a header, an unreachable service, a bad check line.
    let service = smoke_service();
    let with_userinfo = service
        .url
        .replace("http://", &format!("http://robot:{SECRET}@"));
    let with_query = format!("{}/?token={SECRET}", service.url);
    let bearer = format!("Authorization: Bearer {SECRET}");
    let unreachable = format!("http://robot:{SECRET}@{dead}");
    for (label, args, codes) in [
        (
            "ship-smoke-test --url userinfo (500 echo)",
            vec![
                "--url",
                &with_userinfo,
                "--checks",
                "GET /health 200",
                "--wait-timeout",
                "0",
                "--report-file",
                "{reports}/smoke.json",
                "--junit",
                "{reports}/smoke.xml",
            ],
            &[1][..],
        ),
        (
            "ship-smoke-test --format json, token in query and header",
            vec![
                "--url",
                &with_query,
                "--headers",
                &bearer,
                "--expect-version",
                "v1",
                "--wait-timeout",
                "0",
                "--format",
                "json",
            ],
            &[1][..],
        ),
        (
            "ship-smoke-test (unreachable)",
            vec!["--url", &unreachable, "--wait-timeout", "0"],
            &[1][..],
        ),
        (
            "ship-smoke-test (bad check line)",
            vec!["--url", &with_userinfo, "--checks", "FETCH /health"],
            &[2][..],
        ),
    ] {
        let r = run(label, "ship-smoke-test", &args, &[], repo);
        check(&r, codes, &mut problems);
    }
    sent.push(("ship-smoke-test", service.requests()));

    // ship-ecs-rollout and ship-rollback: an endpoint with credentials in its URL refusing
    // every call with the request quoted (the session token travels in a header).
    let ecs = ecs_endpoint();
    let endpoint = ecs
        .url
        .replace("http://", &format!("http://robot:{SECRET}@"));
    let aws_env = [
        ("AWS_ACCESS_KEY_ID", "AKIDSHIPTEST"),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v1.2.3";
    for (label, bin, args) in [
        (
            "ship-ecs-rollout (refused)",
            "ship-ecs-rollout",
            vec![
                "--cluster",
                "prod",
                "--service",
                "api",
                "--image",
                image,
                "--endpoint-url",
                &endpoint,
            ],
        ),
        (
            "ship-ecs-rollout --format json (refused)",
            "ship-ecs-rollout",
            vec![
                "--cluster",
                "prod",
                "--service",
                "api",
                "--image",
                image,
                "--endpoint-url",
                &endpoint,
                "--format",
                "json",
            ],
        ),
        (
            "ship-ecs-rollout run-task (refused)",
            "ship-ecs-rollout",
            vec![
                "run-task",
                "--cluster",
                "prod",
                "--service",
                "api",
                "--image",
                image,
                "--command",
                "migrate",
                "--endpoint-url",
                &endpoint,
            ],
        ),
        (
            "ship-rollback (refused)",
            "ship-rollback",
            vec![
                "--cluster",
                "prod",
                "--service",
                "api",
                "--endpoint-url",
                &endpoint,
            ],
        ),
    ] {
        let r = run(label, bin, &args, &aws_env, repo);
        check(&r, &[1, 2], &mut problems);
    }
    sent.push(("ECS endpoint", ecs.requests()));

    // The servers really got the credentials, so an echo would have shown them.
    for (label, requests) in &sent {
        let heads: String = requests.iter().map(|r| r.head.clone()).collect();
        if !heads.to_ascii_lowercase().contains("authorization") {
            problems.push(format!(
                "{label}: the server never got a credential, so the test proves nothing:\n{heads}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
