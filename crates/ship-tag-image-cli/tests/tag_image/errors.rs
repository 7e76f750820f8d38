//! Failures: each exits non-zero with one line naming the registry and what to check, and
//! nothing half-tagged goes unreported. Usage errors exit 2 before anything is contacted.

use crate::support::*;
use ship_image_tags::oci::OCI_MANIFEST;
use std::sync::{Arc, OnceLock};

#[test]
fn unreachable_registry() {
    let port = free_port();
    let image = format!("127.0.0.1:{port}/api");
    let run = tag_image(
        &["--image", &image, "--sha", SHA, "--version", "v1.2.3"],
        &[],
    );
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
    let run = tag_image(
        &[
            "--image",
            &registry.image("api"),
            "--source",
            "sha-0000000",
            "--version",
            "v1.2.3",
        ],
        &[],
    );
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
    let run = tag_image(
        &[
            "--image",
            &registry.image("nope"),
            "--sha",
            SHA,
            "--version",
            "v1.2.3",
        ],
        &[],
    );
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
    let run = tag_image(
        &[
            "--image",
            &format!("{}/api", stub.host()),
            "--sha",
            SHA,
            "--version",
            "v1.2.3",
        ],
        &[],
    );
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
    let run = tag_image(
        &[
            "--image",
            &format!("{}/api", stub.host()),
            "--sha",
            SHA,
            "--version",
            "v1.2.3",
            "--floating",
        ],
        &[],
    );
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
    let image = format!("{}/api", stub.host());
    let run = tag_image(
        &["--image", &image, "--sha", SHA, "--version", "v1.2.3"],
        &[
            ("REGISTRY_USERNAME", "ship"),
            ("REGISTRY_PASSWORD", "tok-pw"),
        ],
    );
    run.assert_code(0);
    let requests = stub.requests();
    let token_request = requests
        .iter()
        .find(|r| r.path.starts_with("/token"))
        .expect("a token request");
    assert!(
        token_request.path.contains("service=stub-registry"),
        "{}",
        token_request.path
    );
    assert!(
        token_request.path.contains("scope=repository%3Aapi%3Apull"),
        "{}",
        token_request.path
    );
    let put = requests
        .iter()
        .find(|r| r.method == "PUT" && r.headers.contains_key("authorization"))
        .expect("an authorised PUT");
    assert_eq!(put.headers["authorization"], "Bearer good-token");

    // Refused by the token service: exit 1, naming the registry and the credentials' source.
    let run = tag_image(
        &["--image", &image, "--sha", SHA, "--version", "v1.2.3"],
        &[
            ("REGISTRY_USERNAME", "ship"),
            ("REGISTRY_PASSWORD", "bad-pw"),
        ],
    );
    assert_one_line_error(
        &run,
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
            vec!["--image", image, "--sha", SHA, "--version", "v0.29"],
            vec![],
            "`v0.29` is not a semantic version",
        ),
        (
            vec!["--image", image, "--sha", SHA, "--version", "1.2"],
            vec![],
            "`1.2` is not a semantic version",
        ),
        (
            vec!["--image", image, "--sha", SHA, "--version", "01.2.3"],
            vec![],
            "leading zero",
        ),
        (
            vec!["--image", image, "--sha", SHA, "--version", "v1.2.3+build"],
            vec![],
            "cannot contain `+`",
        ),
        (
            vec![
                "--image",
                image,
                "--sha",
                SHA,
                "--version",
                "v1.2.3",
                "--bump",
                "patch",
            ],
            vec![],
            "either version or bump",
        ),
        (
            vec!["--image", image, "--sha", SHA, "--bump", "sideways"],
            vec![],
            "major, minor, patch",
        ),
        (
            vec!["--image", image, "--sha", "xyz"],
            vec![],
            "not a git commit id",
        ),
        (
            vec!["--image", image, "--sha", SHA, "--source", "api:v1"],
            vec![],
            "neither a tag nor a digest",
        ),
        (
            vec!["--image", image, "--version", "v1.2.3"],
            vec![],
            "no source",
        ),
        (
            vec![
                "--image",
                image,
                "--sha",
                SHA,
                "--version",
                "v1.2.3",
                "--allow-latest",
                "--environment",
                "production",
            ],
            vec![],
            "refused for the production environment",
        ),
        (
            vec!["--image", image, "--sha", SHA],
            vec![("INPUT_PUSH", "maybe")],
            "input `push` must be one of",
        ),
        (
            vec!["--image", image, "--sha", SHA],
            vec![("INPUT_FORMAT", "xml")],
            "format must be human or json",
        ),
        (
            vec!["--image", image, "--sha", SHA],
            vec![("GITHUB_REF", "refs/tags/v0.29")],
            "GITHUB_REF refs/tags/v0.29",
        ),
        (
            vec!["--image", image, "--sha", SHA],
            vec![("REGISTRY_USERNAME", "ship")],
            "REGISTRY_PASSWORD is empty",
        ),
        (
            vec!["--image", image, "--sha", SHA],
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
    let run = tag_image(&["--image", image, "--push", "maybe"], &[]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("expected true or false"),
        "{}",
        run.stderr
    );
}

#[test]
fn unreadable_docker_config_is_an_input_error() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".docker")).unwrap();
    std::fs::write(home.path().join(".docker/config.json"), "{ not json").unwrap();
    let image = format!("127.0.0.1:{}/api", free_port());
    let run = tag_image_in(
        home.path(),
        &["--image", &image, "--sha", SHA, "--version", "v1.2.3"],
        &[],
    );
    assert_one_line_error(&run, 2, &["cannot read Docker config", "config.json"]);
}
