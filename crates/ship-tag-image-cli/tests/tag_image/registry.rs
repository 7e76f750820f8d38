//! Retagging in a real OCI registry (distribution 2.8) over plain HTTP.

use crate::support::*;
use base64::Engine as _;
use ship_image_tags::oci::{DOCKER_MANIFEST, OCI_INDEX};

#[test]
fn retag_by_tag_keeps_the_digest_and_moves_floating_tags() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let image = registry.image("api");

    let run = TagArgs::new(&image)
        .sha()
        .version("v1.2.3")
        .floating()
        .json()
        .run();
    run.assert_statuses(&[
        (SHA_TAG, "unchanged"),
        ("v1.2.3", "created"),
        ("v1.2", "created"),
        ("v1", "created"),
    ]);
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
    run.assert_summary_has(&[
        "| Tag | Digest | Status |",
        &format!("| `v1.2.3` | `{}` | created |", images.single.digest),
    ]);
}

#[test]
fn retag_by_digest() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let run = TagArgs::new(&registry.image("api"))
        .source(&images.docker.digest)
        .version("2.0.0")
        .json()
        .run();
    // No sha given: only the version tag.
    run.assert_statuses(&[("v2.0.0", "created")]);
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
    let run = TagArgs::new(&registry.image("api"))
        .source("sha-1ndex00")
        .version("v3.1.0")
        .floating()
        .json()
        .run();
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
    tag_other(TagArgs::new(&image), "v1.2.3");

    let ours = TagArgs::new(&image).sha().version("v1.2.3");
    let run = ours.clone().floating().run();
    // Both digests are printed, and nothing was written.
    assert_one_line_error(
        &run,
        1,
        &[
            &images.other.digest,
            &images.single.digest,
            "v1.2.3 already points at",
            "--force",
            "nothing was tagged",
        ],
    );
    registry.assert_tag("api", "v1.2.3", &images.other.digest);
    assert_eq!(registry.fetch("api", "v1.2").unwrap_err(), 404);
    assert!(run.outputs.is_empty(), "{:?}", run.outputs);

    // The same digest again is fine; --force moves it.
    let run = ours.force().json().run();
    run.assert_statuses(&[(SHA_TAG, "unchanged"), ("v1.2.3", "moved")]);
    assert_eq!(
        run.json()["results"][1]["previous_digest"],
        images.other.digest.as_str()
    );
    registry.assert_tag("api", "v1.2.3", &images.single.digest);
}

#[test]
fn floating_tags_move_without_force() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let image = registry.image("api");
    tag_other(TagArgs::new(&image).floating(), "v1.2.3");
    let run = TagArgs::new(&image)
        .sha()
        .version("v1.2.4")
        .floating()
        .json()
        .run();
    run.assert_statuses(&[
        (SHA_TAG, "unchanged"),
        ("v1.2.4", "created"),
        ("v1.2", "moved"),
        ("v1", "moved"),
    ]);
    registry.assert_tag("api", "v1", &images.single.digest);
    registry.assert_tag("api", "v1.2.3", &images.other.digest);
}

#[test]
fn rerun_is_a_no_op() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let args = TagArgs::new(&registry.image("api"))
        .sha()
        .version("v1.2.3")
        .floating()
        .json();
    args.run().assert_code(0);
    args.run().assert_all_unchanged();
    registry.assert_tag("api", "v1", &images.single.digest);
}

#[test]
fn human_output_lists_each_tag() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    TagArgs::new(&registry.image("api"))
        .sha()
        .version("v1.2.3")
        .run()
        .assert_code(0)
        .assert_stdout_has(&[&images.single.digest, "v1.2.3 → sha256:", "(created)"]);
}

#[test]
fn basic_auth_required_and_given() {
    let password = "s3cret-pw-for-tests";
    let registry = Registry::start_with_auth(Some(("ship", password)));
    let images = push_test_images(&registry, "api");
    let image = registry.image("api");
    let tag = |version: &str| TagArgs::new(&image).sha().version(version);

    // No credentials: refused, with what to set.
    tag("v1.2.3").run().assert_code(1).assert_stderr_has(&[
        &registry.host(),
        "requires authentication",
        "REGISTRY_USERNAME",
    ]);

    // Wrong password: refused, naming where the credentials came from.
    let run = tag("v1.2.3")
        .env("REGISTRY_USERNAME", "ship")
        .env("REGISTRY_PASSWORD", "wr0ng-pass")
        .run();
    run.assert_code(1).assert_stderr_has(&[
        "refused the credentials",
        "REGISTRY_USERNAME/REGISTRY_PASSWORD",
    ]);
    assert!(!run.stderr.contains("wr0ng-pass"), "{}", run.stderr);

    // From the environment, on a runner: masked, never printed otherwise.
    let run = tag("v1.2.3")
        .env("REGISTRY_USERNAME", "ship")
        .env("REGISTRY_PASSWORD", password)
        .env("GITHUB_ACTIONS", "true")
        .run();
    // On stderr: stdout stays the report (`--format json` one JSON document).
    run.assert_code(0)
        .assert_stderr_has(&[&format!("::add-mask::{password}")]);
    let leaks = run
        .stdout
        .lines()
        .chain(run.stderr.lines())
        .filter(|l| l.contains(password) && !l.starts_with("::add-mask::"))
        .count();
    assert_eq!(leaks, 0, "{}\n{}", run.stdout, run.stderr);
    registry.assert_tag("api", "v1.2.3", &images.single.digest);

    // From ~/.docker/config.json, as `docker login` leaves it.
    let home = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("ship:{password}"));
    write_docker_config(
        home.path(),
        &format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.host()
        ),
    );
    tag("v1.2.4")
        .run_in(home.path())
        .assert_code(0)
        .assert_stderr_has(&["config.json"]);
    registry.assert_tag("api", "v1.2.4", &images.single.digest);

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
    write_docker_config(
        home.path(),
        &format!(
            r#"{{"credHelpers": {{"{}": "shiptest"}}}}"#,
            registry.host()
        ),
    );
    let path = format!(
        "{}:{}",
        helpers.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    tag("v1.2.5")
        .env("PATH", &path)
        .run_in(home.path())
        .assert_code(0)
        .assert_stderr_has(&["docker-credential-shiptest"]);
    registry.assert_tag("api", "v1.2.5", &images.single.digest);
}

#[test]
fn push_false_computes_without_a_registry() {
    // Nothing listens there: with push false, nothing is contacted.
    let image = format!("127.0.0.1:{}/api", free_port());
    let run = TagArgs::new(&image)
        .sha()
        .version("v1.2.3")
        .floating()
        .arg("--push", "false")
        .json()
        .run();
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["pushed"], false);
    assert_eq!(json["digest"], serde_json::Value::Null);
    assert_eq!(run.outputs["tags"], "sha-abc1234\nv1.2.3\nv1.2\nv1");
    assert_eq!(run.outputs["digest"], "");
    run.assert_summary_has(&["computed (push: false)"]);
}
