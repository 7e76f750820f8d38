//! Retagging through the ECR API (BatchGetImage + PutImage), against moto's server.
//!
//! moto's `imageDigest` is not the sha256 of the manifest (it hashes the layer digests, or
//! is random for an index), so these tests compare digests as ECR reports them, and compare
//! manifest strings for "the same bytes".

use crate::support::*;
use ship_image_tags::oci::{Manifest, PutOutcome, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use ship_image_tags::SourceRef;

/// `tag` exists in moto's `api` repository and holds exactly `manifest` (media type
/// `media_type`) under ECR's `digest`.
#[track_caller]
fn assert_ecr_tag(moto: &Moto, tag: &str, digest: &str, manifest: &[u8], media_type: &str) {
    let tagged = ecr_image(moto, tag).unwrap_or_else(|| panic!("{tag} missing"));
    assert_eq!(tagged.digest, digest, "{tag}");
    assert_eq!(tagged.manifest.as_bytes(), manifest, "{tag}");
    assert_eq!(tagged.media_type.as_deref(), Some(media_type), "{tag}");
}

#[test]
fn ecr_retag_by_tag_by_digest_and_index() {
    let moto = Moto::start();
    let seeded = seed_ecr(&moto);
    let m = manifests();

    // By tag, with floating tags: same manifest, same ECR digest.
    let r = TagArgs::ecr(&moto)
        .sha()
        .version("v1.2.3")
        .floating()
        .json()
        .run();
    r.assert_statuses(&[
        (SHA_TAG, "unchanged"),
        ("v1.2.3", "created"),
        ("v1.2", "created"),
        ("v1", "created"),
    ]);
    assert_eq!(r.json()["api"], "ecr");
    assert_eq!(r.json()["digest"], seeded.single.as_str());
    for tag in [SHA_TAG, "v1.2.3", "v1.2", "v1"] {
        assert_ecr_tag(&moto, tag, &seeded.single, &m.docker, DOCKER_MANIFEST);
    }

    // By (ECR's) digest, an OCI manifest: its media type is kept.
    let r = TagArgs::ecr(&moto)
        .source(&seeded.oci)
        .version("v2.0.0")
        .json()
        .run();
    r.assert_code(0);
    assert_eq!(r.json()["media_type"], OCI_MANIFEST);
    assert_ecr_tag(&moto, "v2.0.0", &seeded.oci, &m.children[1], OCI_MANIFEST);

    // A multi-platform index, whole.
    let r = TagArgs::ecr(&moto)
        .source("sha-1ndex00")
        .version("v3.0.0")
        .json()
        .run();
    r.assert_code(0);
    assert_eq!(r.json()["media_type"], OCI_INDEX);
    assert_ecr_tag(&moto, "v3.0.0", &seeded.index, &m.index, OCI_INDEX);
}

#[test]
fn ecr_immutability_rerun_and_force() {
    let moto = Moto::start();
    let seeded = seed_ecr(&moto);

    tag_other(TagArgs::ecr(&moto), "v1.2.3");
    let ours = TagArgs::ecr(&moto).sha().version("v1.2.3");
    ours.clone()
        .floating()
        .run()
        .assert_code(1)
        .assert_stderr_has(&[&seeded.other, &seeded.single, "nothing was tagged"]);
    assert_eq!(ecr_image(&moto, "v1.2.3").unwrap().digest, seeded.other);
    assert!(ecr_image(&moto, "v1").is_none());

    // Re-running a successful retag changes nothing.
    let args = TagArgs::ecr(&moto)
        .sha()
        .version("v1.3.0")
        .floating()
        .json();
    args.run().assert_code(0);
    args.run().assert_all_unchanged();

    // --force moves the immutable tag.
    let r = ours.force().json().run();
    r.assert_code(0);
    assert_eq!(r.statuses()[1], ("v1.2.3".into(), "moved".into()));
    assert_eq!(ecr_image(&moto, "v1.2.3").unwrap().digest, seeded.single);
}

#[test]
fn ecr_image_already_exists_is_success() {
    let moto = Moto::start();
    let seeded = seed_ecr(&moto);
    let client = ecr_client_at(&moto.endpoint());
    rt().block_on(async {
        let manifest: Manifest = client
            .get_manifest(&SourceRef::Tag(SHA_TAG.into()))
            .await
            .unwrap();
        assert_eq!(manifest.digest, seeded.single);
        // Re-putting the tag it already has: ECR says ImageAlreadyExistsException.
        assert_eq!(
            client.put_manifest(SHA_TAG, &manifest).await.unwrap(),
            PutOutcome::AlreadyTagged
        );
        assert_eq!(
            client.put_manifest("v9.9.9", &manifest).await.unwrap(),
            PutOutcome::Written(seeded.single.clone())
        );
        assert_eq!(
            client.tag_digest("v9.9.9").await.unwrap(),
            Some(seeded.single.clone())
        );
        assert_eq!(client.tag_digest("nope").await.unwrap(), None);
    });
}

#[test]
fn ecr_failures_name_the_registry_and_what_to_check() {
    let moto = Moto::start();
    seed_ecr(&moto);
    let ours = || TagArgs::ecr(&moto).sha().version("v1.2.3");

    // No such repository.
    TagArgs::new(&Moto::image("missing"))
        .aws_at(&moto.endpoint())
        .sha()
        .version("v1.2.3")
        .run()
        .assert_code(1)
        .assert_stderr_has(&[
            &format!("ECR registry {ECR_HOST}"),
            "has no repository missing",
            "create-repository",
        ]);

    // No such source image.
    ours()
        .source("sha-0000000")
        .run()
        .assert_code(1)
        .assert_stderr_has(&["has no image api:sha-0000000"]);

    // No credentials at all.
    let r = TagArgs::new(&Moto::image("api"))
        .sha()
        .version("v1.2.3")
        .env("AWS_ENDPOINT_URL", &moto.endpoint())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .run();
    assert_one_line_error(&r, 1, &["configure-aws-credentials"]);
    assert!(
        r.stderr.to_lowercase().contains("credentials"),
        "{}",
        r.stderr
    );

    // Nothing listening at the endpoint.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let r = TagArgs::ecr_at(&dead).sha().version("v1.2.3").run();
    assert_one_line_error(&r, 1, &["is unreachable", &dead, "AWS_ENDPOINT_URL"]);
}
