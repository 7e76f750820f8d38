//! Failures: each exits non-zero with one line naming the registry and what to check, and
//! nothing half-tagged goes unreported. Usage errors exit 2 before anything is contacted.

use crate::support::*;
use ship_image_tags::oci::OCI_MANIFEST;
use std::sync::{Arc, OnceLock};

#[test]
fn unreachable_registry() {
    let port = free_port();
    let run = TagArgs::new(&format!("127.0.0.1:{port}/api"))
        .sha()
        .version("v1.2.3")
        .run();
    assert_one_line_error(
        &run,
        1,
        &[
            &format!("registry 127.0.0.1:{port} is unreachable"),
            "Connection refused",
            "check the image name",
            "nothing was tagged",
        ],
    );
}

#[test]
fn missing_image_and_missing_repository() {
    let registry = Registry::start();
    push_test_images(&registry, "api");
    let run = TagArgs::new(&registry.image("api"))
        .source("sha-0000000")
        .version("v1.2.3")
        .run();
    assert_one_line_error(
        &run,
        1,
        &[
            &format!("registry {} has no api:sha-0000000", registry.host()),
            "HTTP 404",
            "MANIFEST_UNKNOWN",
            "was pushed",
        ],
    );
    let run = TagArgs::new(&registry.image("nope"))
        .sha()
        .version("v1.2.3")
        .run();
    assert_one_line_error(
        &run,
        1,
        &[
            "has no nope:sha-abc1234",
            "HTTP 404",
            "check the image name",
        ],
    );
}

#[test]
fn server_error() {
    let stub = Stub::start(|_| {
        StubResponse::new(500)
            .header("Content-Type", "application/json")
            .body(r#"{"errors":[{"code":"UNKNOWN","message":"storage backend exploded"}]}"#)
    });
    let run = TagArgs::new(&format!("{}/api", stub.host()))
        .sha()
        .version("v1.2.3")
        .run();
    assert_one_line_error(
        &run,
        1,
        &[
            &format!("registry {} failed with HTTP 500", stub.host()),
            "reading manifest api:sha-abc1234",
            "storage backend exploded",
            "check the registry's status and logs",
            "nothing was tagged",
        ],
    );
}

/// A registry stub holding one manifest under `sha-abc1234`, where putting `v1.2` fails.
fn half_broken_registry() -> (Stub, Vec<u8>) {
    let manifest = manifests().single;
    let digest = sha256(&manifest);
    let body = manifest.clone();
    let stub = Stub::start(move |req| match (req.method.as_str(), req.path.as_str()) {
        ("GET" | "HEAD", "/v2/api/manifests/sha-abc1234") => StubResponse::new(200)
            .header("Content-Type", OCI_MANIFEST)
            .header("Docker-Content-Digest", &digest)
            .body(body.clone()),
        ("HEAD", _) => StubResponse::new(404),
        ("PUT", "/v2/api/manifests/v1.2") => StubResponse::new(500)
            .header("Content-Type", "application/json")
            .body(r#"{"errors":[{"code":"UNKNOWN","message":"disk full"}]}"#),
        ("PUT", _) => StubResponse::new(201).header("Docker-Content-Digest", &digest),
        // --floating lists the tags first: no release yet, so the floating tags move.
        ("GET", "/v2/api/tags/list?n=100") => StubResponse::new(200)
            .header("Content-Type", "application/json")
            .body(r#"{"name":"api","tags":["sha-abc1234"]}"#),
        _ => StubResponse::new(404),
    });
    (stub, manifest)
}

#[test]
fn failure_half_way_reports_what_was_applied() {
    let (stub, manifest) = half_broken_registry();
    let run = TagArgs::new(&format!("{}/api", stub.host()))
        .sha()
        .version("v1.2.3")
        .floating()
        .run();
    assert_one_line_error(
        &run,
        1,
        &[
            "failed with HTTP 500 Internal Server Error when tagging api:v1.2",
            "disk full",
            "applied before the failure: sha-abc1234 (unchanged), v1.2.3 (created)",
            "not applied: v1.2 (failed), v1 (not applied)",
        ],
    );
    // The summary shows the same, tag by tag.
    assert!(run.summary.contains("| `v1.2.3` |"), "{}", run.summary);
    assert!(run.summary.contains("| failed |"), "{}", run.summary);
    assert!(run.summary.contains("| not applied |"), "{}", run.summary);
    // v1 was never attempted, and v1.2.3 got the exact bytes.
    let puts: Vec<_> = stub
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    assert_eq!(
        puts.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/v2/api/manifests/v1.2.3", "/v2/api/manifests/v1.2"]
    );
    assert_eq!(puts[0].body, manifest);
    assert_eq!(puts[0].headers["content-type"], OCI_MANIFEST);
}

/// A registry behind a bearer-token service, as ghcr.io and Docker Hub are.
fn token_registry() -> Stub {
    let port = Arc::new(OnceLock::<u16>::new());
    let manifest = manifests().single;
    let digest = sha256(&manifest);
    let realm_port = port.clone();
    let stub = Stub::start(move |req| {
        let realm = format!(
            "http://127.0.0.1:{}/token",
            realm_port.get().copied().unwrap_or(0)
        );
        if req.path.starts_with("/token") {
            // ship:tok-pw
            return if req.headers.get("authorization").map(String::as_str)
                == Some("Basic c2hpcDp0b2stcHc=")
            {
                StubResponse::new(200).body(r#"{"token":"good-token","expires_in":300}"#)
            } else {
                StubResponse::new(401).body(r#"{"details":"incorrect username or password"}"#)
            };
        }
        if req.headers.get("authorization").map(String::as_str) != Some("Bearer good-token") {
            let scope = if req.method == "PUT" {
                "pull,push"
            } else {
                "pull"
            };
            return StubResponse::new(401).header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="{realm}",service="stub-registry",scope="repository:api:{scope}""#),
            );
        }
        match (req.method.as_str(), req.path.as_str()) {
            ("GET" | "HEAD", "/v2/api/manifests/sha-abc1234") => StubResponse::new(200)
                .header("Content-Type", OCI_MANIFEST)
                .header("Docker-Content-Digest", &digest)
                .body(manifest.clone()),
            ("PUT", _) => StubResponse::new(201).header("Docker-Content-Digest", &digest),
            _ => StubResponse::new(404),
        }
    });
    port.set(stub.port).unwrap();
    stub
}

#[test]
fn bearer_token_flow() {
    let stub = token_registry();
    let as_ship = |password: &str| {
        TagArgs::new(&format!("{}/api", stub.host()))
            .sha()
            .version("v1.2.3")
            .env("REGISTRY_USERNAME", "ship")
            .env("REGISTRY_PASSWORD", password)
            .run()
    };
    as_ship("tok-pw").assert_code(0);
    let requests = stub.requests();
    let token_request = requests
        .iter()
        .find(|r| r.path.starts_with("/token"))
        .expect("a token request");
    assert_has(
        "the token request",
        &token_request.path,
        &["service=stub-registry", "scope=repository%3Aapi%3Apull"],
    );
    let put = requests
        .iter()
        .find(|r| r.method == "PUT" && r.headers.contains_key("authorization"))
        .expect("an authorised PUT");
    assert_eq!(put.headers["authorization"], "Bearer good-token");

    // Refused by the token service: exit 1, naming the registry and the credentials' source.
    assert_one_line_error(
        &as_ship("bad-pw"),
        1,
        &[
            &format!("registry {}'s token service", stub.host()),
            "refused the credentials",
            "HTTP 401",
            "REGISTRY_USERNAME/REGISTRY_PASSWORD",
        ],
    );
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let image = format!("127.0.0.1:{}/api", free_port());
    let image = image.as_str();
    // `--image <nothing listens there> --sha SHA` and `extra`: usage errors contact nothing.
    let ours = |extra: &[&'static str]| [&["--image", image, "--sha", SHA][..], extra].concat();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec![], vec![], "missing image"),
        (
            vec!["--image", "ghcr.io/org/api:v1", "--sha", SHA],
            vec![],
            "without a tag",
        ),
        (
            vec!["--image", "ghcr.io/Org/api", "--sha", SHA],
            vec![],
            "lowercase",
        ),
        (
            ours(&["--release-version", "v0.29"]),
            vec![],
            "`v0.29` is not a semantic version",
        ),
        (
            ours(&["--release-version", "1.2"]),
            vec![],
            "`1.2` is not a semantic version",
        ),
        (
            ours(&["--release-version", "01.2.3"]),
            vec![],
            "leading zero",
        ),
        (
            ours(&["--release-version", "v1.2.3+build"]),
            vec![],
            "cannot contain `+`",
        ),
        (
            ours(&["--release-version", "v1.2.3", "--bump", "patch"]),
            vec![],
            "either release-version or bump",
        ),
        (ours(&["--bump", "sideways"]), vec![], "major, minor, patch"),
        (
            vec!["--image", image, "--sha", "xyz"],
            vec![],
            "not a git commit id",
        ),
        (
            ours(&["--source", "api:v1"]),
            vec![],
            "neither a tag nor a digest",
        ),
        (
            vec!["--image", image, "--release-version", "v1.2.3"],
            vec![],
            "no source",
        ),
        (
            ours(&[
                "--release-version",
                "v1.2.3",
                "--allow-latest",
                "--environment",
                "production",
            ]),
            vec![],
            "refused for the production environment",
        ),
        (
            ours(&[]),
            vec![("INPUT_PUSH", "maybe")],
            "input `push` must be one of",
        ),
        (
            ours(&[]),
            vec![("INPUT_DRY_RUN", "perhaps")],
            "input `dry-run` must be one of",
        ),
        (
            ours(&[]),
            vec![("INPUT_FORMAT", "xml")],
            "format must be human or json",
        ),
        (
            ours(&[]),
            vec![("GITHUB_REF", "refs/tags/v0.29")],
            "GITHUB_REF refs/tags/v0.29",
        ),
        (
            ours(&[]),
            vec![("REGISTRY_USERNAME", "ship")],
            "REGISTRY_PASSWORD is empty",
        ),
        (
            ours(&[]),
            vec![
                ("DOCKER_CONFIG", "/nonexistent"),
                ("REGISTRY_PASSWORD", "x"),
            ],
            "REGISTRY_USERNAME is empty",
        ),
    ];
    for (args, env, want) in cases {
        let run = tag_image(&args, &env);
        assert_one_line_error(&run, 2, &[want]);
        assert!(run.outputs.is_empty(), "{args:?}: {:?}", run.outputs);
    }
    // clap's own errors are usage errors too.
    for flag in ["--push", "--dry-run"] {
        tag_image(&["--image", image, flag, "maybe"], &[])
            .assert_code(2)
            .assert_stderr_has(&["expected true or false"]);
    }
}

#[test]
fn unreadable_docker_config_is_an_input_error() {
    let home = tempfile::tempdir().unwrap();
    write_docker_config(home.path(), "{ not json");
    let run = TagArgs::new(&format!("127.0.0.1:{}/api", free_port()))
        .sha()
        .version("v1.2.3")
        .run_in(home.path());
    assert_one_line_error(&run, 2, &["cannot read Docker config", "config.json"]);
}

/// Body bytes a stub may have written before the client hung up: what the client read (at
/// most the limit plus a chunk) and what the kernel's socket buffers held. A client that read
/// a 2 GB or endless body whole would push this into the gigabytes.
const SENT_BOUND: u64 = 64 << 20;

#[track_caller]
fn assert_bounded(stub: &Stub, what: &str) {
    let sent = stub.sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        sent < SENT_BOUND,
        "{what}: the stub wrote {sent} body bytes before ship-tag-image hung up; it should stop near the limit"
    );
}

/// A manifest body without end (chunked, so only reading tells), or one declaring 2 GB: both
/// are refused at the 4 MiB limit with the URL, having read at most a few MiB, and nothing is
/// tagged.
#[test]
fn manifest_bodies_over_the_limit_are_refused() {
    for declared in [None, Some(2u64 << 30)] {
        let stub = Stub::start(move |_| {
            StubResponse::new(200)
                .header("Content-Type", OCI_MANIFEST)
                .endless(declared)
        });
        let run = TagArgs::new(&format!("{}/api", stub.host()))
            .sha()
            .version("v1.2.3")
            .run();
        let limit = match declared {
            Some(n) => format!("over the 4 MiB limit (Content-Length {n}); not read"),
            None => "over the 4 MiB limit; reading stopped there".to_string(),
        };
        assert_one_line_error(
            &run,
            1,
            &[
                &format!(
                    "registry {} answered reading manifest api:sha-abc1234",
                    stub.host()
                ),
                &format!("(http://{}/v2/api/manifests/sha-abc1234)", stub.host()),
                &limit,
                "nothing was tagged",
            ],
        );
        assert_bounded(&stub, &format!("declared {declared:?}"));
        assert!(stub.requests().iter().all(|r| r.method != "PUT"));
    }
}

/// An error body without end: the error is still reported promptly, with the start of the
/// body as its detail; the rest is never read.
#[test]
fn endless_error_bodies_are_cut() {
    let stub = Stub::start(|_| StubResponse::new(500).endless(None));
    let run = TagArgs::new(&format!("{}/api", stub.host()))
        .sha()
        .version("v1.2.3")
        .run();
    assert_one_line_error(
        &run,
        1,
        &[
            &format!("registry {} failed with HTTP 500", stub.host()),
            r#"{"x":"xxxx"#,
            "nothing was tagged",
        ],
    );
    assert_bounded(&stub, "error body");
}

/// A token service whose reply never ends: refused at its 1 MiB limit, naming the token URL.
#[test]
fn endless_token_replies_are_refused() {
    let port = Arc::new(OnceLock::<u16>::new());
    let realm_port = port.clone();
    let stub = Stub::start(move |req| {
        if req.path.starts_with("/token") {
            return StubResponse::new(200).endless(None);
        }
        let realm = format!(
            "http://127.0.0.1:{}/token",
            realm_port.get().copied().unwrap_or(0)
        );
        StubResponse::new(401).header(
            "WWW-Authenticate",
            &format!(r#"Bearer realm="{realm}",service="stub",scope="repository:api:pull""#),
        )
    });
    port.set(stub.port).unwrap();
    let run = TagArgs::new(&format!("{}/api", stub.host()))
        .sha()
        .version("v1.2.3")
        .run();
    assert_one_line_error(
        &run,
        1,
        &[
            "answered requesting a token from",
            &format!("(http://{}/token)", stub.host()),
            "over the 1 MiB limit; reading stopped there",
        ],
    );
    assert_bounded(&stub, "token reply");
}
