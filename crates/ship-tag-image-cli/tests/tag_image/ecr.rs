//! Retagging through the ECR API (BatchGetImage + PutImage), against moto's server.
//!
//! moto's `imageDigest` is not the sha256 of the manifest (it hashes the layer digests, or
//! is random for an index), so these tests compare digests as ECR reports them, and compare
//! manifest strings for "the same bytes".

use crate::support::*;
use ship_image_tags::oci::{Manifest, PutOutcome, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use ship_image_tags::{ecr::EcrClient, ImageRepo, SourceRef};

fn env_of(moto: &Moto) -> Vec<(String, String)> {
    moto.env()
}

fn run(moto: &Moto, args: &[&str]) -> Run {
    let env = env_of(moto);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    tag_image(args, &env)
}

#[test]
fn ecr_retag_by_tag_by_digest_and_index() {
    let moto = Moto::start();
    let seeded = seed_ecr(&moto);
    let image = Moto::image("api");
    let m = manifests();

    // By tag, with floating tags: same manifest, same ECR digest.
    let r = run(
        &moto,
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
    );
    r.assert_code(0);
    assert_eq!(r.json()["api"], "ecr");
    assert_eq!(r.json()["digest"], seeded.single.as_str());
    assert_eq!(
        r.statuses(),
        [
            (SHA_TAG.into(), "unchanged".into()),
            ("v1.2.3".into(), "created".into()),
            ("v1.2".into(), "created".into()),
            ("v1".into(), "created".into()),
        ]
    );
    let source = ecr_image(&moto, SHA_TAG).unwrap();
    for tag in ["v1.2.3", "v1.2", "v1"] {
        let tagged = ecr_image(&moto, tag).unwrap_or_else(|| panic!("{tag} missing"));
        assert_eq!(tagged.digest, seeded.single, "{tag}");
        assert_eq!(tagged.manifest, source.manifest, "{tag}");
        assert_eq!(tagged.manifest.as_bytes(), m.docker.as_slice(), "{tag}");
        assert_eq!(tagged.media_type.as_deref(), Some(DOCKER_MANIFEST), "{tag}");
    }

    // By (ECR's) digest, an OCI manifest: its media type is kept.
    let r = run(
        &moto,
        &[
            "--image",
            &image,
            "--source",
            &seeded.oci,
            "--version",
            "v2.0.0",
            "--format",
            "json",
        ],
    );
    r.assert_code(0);
    assert_eq!(r.json()["media_type"], OCI_MANIFEST);
    let tagged = ecr_image(&moto, "v2.0.0").unwrap();
    assert_eq!(tagged.digest, seeded.oci);
    assert_eq!(tagged.manifest.as_bytes(), m.children[1].as_slice());
    assert_eq!(tagged.media_type.as_deref(), Some(OCI_MANIFEST));

    // A multi-platform index, whole.
    let r = run(
        &moto,
        &[
            "--image",
            &image,
            "--source",
            "sha-1ndex00",
            "--version",
            "v3.0.0",
            "--format",
            "json",
        ],
    );
    r.assert_code(0);
    assert_eq!(r.json()["media_type"], OCI_INDEX);
    let tagged = ecr_image(&moto, "v3.0.0").unwrap();
    assert_eq!(tagged.digest, seeded.index);
    assert_eq!(tagged.manifest.as_bytes(), m.index.as_slice());
    assert_eq!(tagged.media_type.as_deref(), Some(OCI_INDEX));
}

#[test]
fn ecr_immutability_rerun_and_force() {
    let moto = Moto::start();
    let seeded = seed_ecr(&moto);
    let image = Moto::image("api");

    run(
        &moto,
        &[
            "--image",
            &image,
            "--source",
            "other",
            "--version",
            "v1.2.3",
        ],
    )
    .assert_code(0);
    let r = run(
        &moto,
        &[
            "--image",
            &image,
            "--sha",
            SHA,
            "--version",
            "v1.2.3",
            "--floating",
        ],
    );
    r.assert_code(1);
    assert!(r.stderr.contains(&seeded.other), "{}", r.stderr);
    assert!(r.stderr.contains(&seeded.single), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was tagged"), "{}", r.stderr);
    assert_eq!(ecr_image(&moto, "v1.2.3").unwrap().digest, seeded.other);
    assert!(ecr_image(&moto, "v1").is_none());

    // Re-running a successful retag changes nothing.
    let args = [
        "--image",
        image.as_str(),
        "--sha",
        SHA,
        "--version",
        "v1.3.0",
        "--floating",
        "--format",
        "json",
    ];
    run(&moto, &args).assert_code(0);
    let r = run(&moto, &args);
    r.assert_code(0);
    assert!(
        r.statuses().iter().all(|(_, s)| s == "unchanged"),
        "{:?}",
        r.statuses()
    );

    // --force moves the immutable tag.
    let r = run(
        &moto,
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
    );
    r.assert_code(0);
    assert_eq!(r.statuses()[1], ("v1.2.3".into(), "moved".into()));
    assert_eq!(ecr_image(&moto, "v1.2.3").unwrap().digest, seeded.single);
}

#[test]
fn ecr_image_already_exists_is_success() {
    let moto = Moto::start();
    let seeded = seed_ecr(&moto);
    let repo = ImageRepo::parse(&Moto::image("api")).unwrap();
    let ecr = repo.ecr.clone().unwrap();
    let config = rt().block_on(async {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(moto.endpoint())
            .credentials_provider(aws_sdk_ecr::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .load()
            .await
    });
    let client = EcrClient::from_config(&repo, &ecr, &config);
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

    // No such repository.
    let r = run(
        &moto,
        &[
            "--image",
            &Moto::image("missing"),
            "--sha",
            SHA,
            "--version",
            "v1.2.3",
        ],
    );
    r.assert_code(1);
    assert!(
        r.stderr.contains(&format!("ECR registry {ECR_HOST}")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("has no repository missing"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("create-repository"), "{}", r.stderr);

    // No such source image.
    let r = run(
        &moto,
        &[
            "--image",
            &Moto::image("api"),
            "--source",
            "sha-0000000",
            "--version",
            "v1.2.3",
        ],
    );
    r.assert_code(1);
    assert!(
        r.stderr.contains("has no image api:sha-0000000"),
        "{}",
        r.stderr
    );

    // No credentials at all.
    let r = tag_image(
        &[
            "--image",
            &Moto::image("api"),
            "--sha",
            SHA,
            "--version",
            "v1.2.3",
        ],
        &[
            ("AWS_ENDPOINT_URL", &moto.endpoint()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    r.assert_code(1);
    assert!(
        r.stderr.to_lowercase().contains("credentials"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("configure-aws-credentials"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);

    // Nothing listening at the endpoint.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let r = tag_image(
        &[
            "--image",
            &Moto::image("api"),
            "--sha",
            SHA,
            "--version",
            "v1.2.3",
        ],
        &[
            ("AWS_ENDPOINT_URL", &dead),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_MAX_ATTEMPTS", "1"),
        ],
    );
    r.assert_code(1);
    assert!(r.stderr.contains("is unreachable"), "{}", r.stderr);
    assert!(r.stderr.contains(&dead), "{}", r.stderr);
    assert!(r.stderr.contains("AWS_ENDPOINT_URL"), "{}", r.stderr);
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
}
