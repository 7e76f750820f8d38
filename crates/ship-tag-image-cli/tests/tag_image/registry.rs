//! Retagging in a real OCI registry (distribution 2.8) over plain HTTP.

use crate::support::*;
use base64::Engine as _;
use ship_image_tags::oci::{DOCKER_MANIFEST, OCI_INDEX};

#[test]
fn retag_by_tag_keeps_the_digest_and_moves_floating_tags() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let image = registry.image("api");

    let run = tag_image(
        &[
            "--image",
            &image,
            "--sha",
            SHA,
            "--version",
            "v1.2.3",
            "--floating",
            "--format",
            "json",
        ],
        &[],
    );
    run.assert_code(0);
    assert_eq!(
        run.statuses(),
        [
            (SHA_TAG.into(), "unchanged".into()),
            ("v1.2.3".into(), "created".into()),
            ("v1.2".into(), "created".into()),
            ("v1".into(), "created".into()),
        ]
    );
    // Every tag serves the very bytes that were pushed: same digest, nothing re-encoded.
    for tag in [SHA_TAG, "v1.2.3", "v1.2", "v1"] {
        let fetched = registry.fetch("api", tag).unwrap();
        assert_eq!(fetched.bytes, images.single.bytes, "{tag}");
        assert_eq!(fetched.digest, images.single.digest, "{tag}");
        assert_eq!(sha256(&fetched.bytes), images.single.digest, "{tag}");
    }

    let json = run.json();
    assert_eq!(json["digest"], images.single.digest.as_str());
    assert_eq!(json["version"], "1.2.3");
    assert_eq!(json["api"], "oci");
    assert_eq!(json["labels"]["org.opencontainers.image.revision"], SHA);

    // Outputs: multi-line lists, the digest, labels and the whole report.
    assert_eq!(run.outputs["version"], "1.2.3");
    assert_eq!(run.outputs["tags"], "sha-abc1234\nv1.2.3\nv1.2\nv1");
    assert_eq!(
        run.outputs["image-refs"],
        format!("{image}:sha-abc1234\n{image}:v1.2.3\n{image}:v1.2\n{image}:v1")
    );
    assert_eq!(run.outputs["digest"], images.single.digest);
    assert_eq!(
        run.outputs["digest-ref"],
        format!("{image}@{}", images.single.digest)
    );
    assert!(run.outputs["labels"].contains("org.opencontainers.image.version=1.2.3"));
    let from_output: serde_json::Value = serde_json::from_str(&run.outputs["json"]).unwrap();
    assert_eq!(from_output["tags"], json["tags"]);

    // Step summary: a table of tag → digest.
    assert!(
        run.summary.contains("| Tag | Digest | Status |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains(&format!(
            "| `v1.2.3` | `{}` | created |",
            images.single.digest
        )),
        "{}",
        run.summary
    );
}

#[test]
fn retag_by_digest() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let run = tag_image(
        &[
            "--image",
            &registry.image("api"),
            "--source",
            &images.docker.digest,
            "--version",
            "2.0.0",
            "--format",
            "json",
        ],
        &[],
    );
    run.assert_code(0);
    // No sha given: only the version tag.
    assert_eq!(run.statuses(), [("v2.0.0".into(), "created".into())]);
    let fetched = registry.fetch("api", "v2.0.0").unwrap();
    assert_eq!(fetched.digest, images.docker.digest);
    assert_eq!(fetched.bytes, images.docker.bytes);
    assert_eq!(fetched.content_type, DOCKER_MANIFEST);
    assert_eq!(run.json()["media_type"], DOCKER_MANIFEST);
}

#[test]
fn manifest_list_is_retagged_whole() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let run = tag_image(
        &[
            "--image",
            &registry.image("api"),
            "--source",
            "sha-1ndex00",
            "--version",
            "v3.1.0",
            "--floating",
            "--format",
            "json",
        ],
        &[],
    );
    run.assert_code(0);
    for tag in ["v3.1.0", "v3.1", "v3"] {
        let fetched = registry.fetch("api", tag).unwrap();
        assert_eq!(fetched.content_type, OCI_INDEX, "{tag}");
        assert_eq!(fetched.digest, images.index.digest, "{tag}");
        assert_eq!(fetched.bytes, images.index.bytes, "{tag}");
    }
    // The platforms are still there, by digest, untouched.
    for child in &images.children {
        assert_eq!(
            registry.fetch("api", &child.digest).unwrap().bytes,
            child.bytes
        );
    }
    assert_eq!(run.json()["media_type"], OCI_INDEX);
}

#[test]
fn immutable_tags_refuse_another_digest_unless_forced() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let image = registry.image("api");

    // v1.2.3 already names another build.
    tag_image(
        &[
            "--image",
            &image,
            "--source",
            "other",
            "--version",
            "v1.2.3",
        ],
        &[],
    )
    .assert_code(0);

    let run = tag_image(
        &[
            "--image",
            &image,
            "--sha",
            SHA,
            "--version",
            "v1.2.3",
            "--floating",
        ],
        &[],
    );
    run.assert_code(1);
    // Both digests are printed, and nothing was written.
    assert!(run.stderr.contains(&images.other.digest), "{}", run.stderr);
    assert!(run.stderr.contains(&images.single.digest), "{}", run.stderr);
    assert!(
        run.stderr.contains("v1.2.3 already points at"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was tagged"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert_eq!(
        registry.digest_of("api", "v1.2.3"),
        Some(images.other.digest.clone())
    );
    assert_eq!(registry.fetch("api", "v1.2").unwrap_err(), 404);
    assert!(run.outputs.is_empty(), "{:?}", run.outputs);

    // The same digest again is fine; --force moves it.
    let run = tag_image(
        &[
            "--image",
            &image,
            "--sha",
            SHA,
            "--version",
            "v1.2.3",
            "--force",
            "--format",
            "json",
        ],
        &[],
    );
    run.assert_code(0);
    assert_eq!(
        run.statuses(),
        [
            (SHA_TAG.into(), "unchanged".into()),
            ("v1.2.3".into(), "moved".into())
        ]
    );
    assert_eq!(
        run.json()["results"][1]["previous_digest"],
        images.other.digest.as_str()
    );
    assert_eq!(
        registry.digest_of("api", "v1.2.3"),
        Some(images.single.digest.clone())
    );
}

#[test]
fn floating_tags_move_without_force() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let image = registry.image("api");
    tag_image(
        &[
            "--image",
            &image,
            "--source",
            "other",
            "--version",
            "v1.2.3",
            "--floating",
        ],
        &[],
    )
    .assert_code(0);
    let run = tag_image(
        &[
            "--image",
            &image,
            "--sha",
            SHA,
            "--version",
            "v1.2.4",
            "--floating",
            "--format",
            "json",
        ],
        &[],
    );
    run.assert_code(0);
    assert_eq!(
        run.statuses(),
        [
            (SHA_TAG.into(), "unchanged".into()),
            ("v1.2.4".into(), "created".into()),
            ("v1.2".into(), "moved".into()),
            ("v1".into(), "moved".into()),
        ]
    );
    assert_eq!(
        registry.digest_of("api", "v1"),
        Some(images.single.digest.clone())
    );
    assert_eq!(
        registry.digest_of("api", "v1.2.3"),
        Some(images.other.digest.clone())
    );
}

#[test]
fn rerun_is_a_no_op() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let args = [
        "--image",
        &registry.image("api"),
        "--sha",
        SHA,
        "--version",
        "v1.2.3",
        "--floating",
        "--format",
        "json",
    ];
    tag_image(&args, &[]).assert_code(0);
    let run = tag_image(&args, &[]);
    run.assert_code(0);
    assert!(
        run.statuses().iter().all(|(_, s)| s == "unchanged"),
        "{:?}",
        run.statuses()
    );
    assert_eq!(
        registry.digest_of("api", "v1"),
        Some(images.single.digest.clone())
    );
}

#[test]
fn human_output_lists_each_tag() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let run = tag_image(
        &[
            "--image",
            &registry.image("api"),
            "--sha",
            SHA,
            "--version",
            "v1.2.3",
        ],
        &[],
    );
    run.assert_code(0);
    assert!(run.stdout.contains(&images.single.digest), "{}", run.stdout);
    assert!(run.stdout.contains("v1.2.3 → sha256:"), "{}", run.stdout);
    assert!(run.stdout.contains("(created)"), "{}", run.stdout);
}

#[test]
fn basic_auth_required_and_given() {
    let password = "s3cret-pw-for-tests";
    let registry = Registry::start_with_auth(Some(("ship", password)));
    let images = push_test_images(&registry, "api");
    let image = registry.image("api");
    let args = [
        "--image",
        image.as_str(),
        "--sha",
        SHA,
        "--version",
        "v1.2.3",
    ];

    // No credentials: refused, with what to set.
    let run = tag_image(&args, &[]);
    run.assert_code(1);
    assert!(run.stderr.contains(&registry.host()), "{}", run.stderr);
    assert!(
        run.stderr.contains("requires authentication"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("REGISTRY_USERNAME"), "{}", run.stderr);

    // Wrong password: refused, naming where the credentials came from.
    let run = tag_image(
        &args,
        &[
            ("REGISTRY_USERNAME", "ship"),
            ("REGISTRY_PASSWORD", "wr0ng-pass"),
        ],
    );
    run.assert_code(1);
    assert!(
        run.stderr.contains("refused the credentials"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("REGISTRY_USERNAME/REGISTRY_PASSWORD"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("wr0ng-pass"), "{}", run.stderr);

    // From the environment, on a runner: masked, never printed otherwise.
    let run = tag_image(
        &args,
        &[
            ("REGISTRY_USERNAME", "ship"),
            ("REGISTRY_PASSWORD", password),
            ("GITHUB_ACTIONS", "true"),
        ],
    );
    run.assert_code(0);
    assert!(
        run.stdout.contains(&format!("::add-mask::{password}")),
        "{}",
        run.stdout
    );
    let leaks = run
        .stdout
        .lines()
        .chain(run.stderr.lines())
        .filter(|l| l.contains(password) && !l.starts_with("::add-mask::"))
        .count();
    assert_eq!(leaks, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        registry.digest_of("api", "v1.2.3"),
        Some(images.single.digest.clone())
    );

    // From ~/.docker/config.json, as `docker login` leaves it.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".docker")).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("ship:{password}"));
    std::fs::write(
        home.path().join(".docker/config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let run = tag_image_in(
        home.path(),
        &["--image", &image, "--sha", SHA, "--version", "v1.2.4"],
        &[],
    );
    run.assert_code(0);
    assert!(run.stderr.contains("config.json"), "{}", run.stderr);
    assert_eq!(
        registry.digest_of("api", "v1.2.4"),
        Some(images.single.digest.clone())
    );

    // Through a credential helper named in config.json (`credHelpers`), speaking Docker's
    // helper protocol: `get`, the server on stdin, JSON on stdout.
    let helpers = tempfile::tempdir().unwrap();
    let helper = helpers.path().join("docker-credential-shiptest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread -r server\n\
             if [ \"$server\" != \"{host}\" ]; then echo 'credentials not found in native keychain'; exit 1; fi\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"ship\",\"Secret\":\"{password}\"}}' \"$server\"\n",
            host = registry.host()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        home.path().join(".docker/config.json"),
        format!(
            r#"{{"credHelpers": {{"{}": "shiptest"}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        helpers.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = tag_image_in(
        home.path(),
        &["--image", &image, "--sha", SHA, "--version", "v1.2.5"],
        &[("PATH", &path)],
    );
    run.assert_code(0);
    assert!(
        run.stderr.contains("docker-credential-shiptest"),
        "{}",
        run.stderr
    );
    assert_eq!(
        registry.digest_of("api", "v1.2.5"),
        Some(images.single.digest.clone())
    );
}

#[test]
fn push_false_computes_without_a_registry() {
    // Nothing listens there: with push false, nothing is contacted.
    let image = format!("127.0.0.1:{}/api", free_port());
    let run = tag_image(
        &[
            "--image",
            &image,
            "--sha",
            SHA,
            "--version",
            "v1.2.3",
            "--floating",
            "--push",
            "false",
            "--format",
            "json",
        ],
        &[],
    );
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["pushed"], false);
    assert_eq!(json["digest"], serde_json::Value::Null);
    assert_eq!(run.outputs["tags"], "sha-abc1234\nv1.2.3\nv1.2\nv1");
    assert_eq!(run.outputs["digest"], "");
    assert!(
        run.summary.contains("computed (push: false)"),
        "{}",
        run.summary
    );
}
