//! `--dry-run`: reads the registry like the real run, writes nothing, and prints per tag what
//! the real run would do. Against the real registry and moto as ECR; each plan is checked
//! against the real run that follows it, since both come from one planning function.

use crate::support::*;

/// The plan of `--sha --release-version v1.2.3 --floating` in a repository holding only the build's
/// `sha-` tag.
const FIRST_RELEASE: &[(&str, &str)] = &[
    (SHA_TAG, "already-there"),
    ("v1.2.3", "create"),
    ("v1.2", "create"),
    ("v1", "create"),
];

/// What the real run reports for each dry-run action.
fn status_of(action: &str) -> &'static str {
    match action {
        "create" => "created",
        "already-there" => "unchanged",
        "move" => "moved",
        "keep" => "kept",
        other => panic!("no real-run status for the action `{other}`"),
    }
}

/// Runs `args` for real (JSON) and checks each tag ended as `plan` (a dry run's
/// [`Run::plan`]) said.
#[track_caller]
fn assert_real_run_follows(args: TagArgs, plan: &[(String, String)]) {
    let real = args.json().run();
    real.assert_code(0);
    let want: Vec<(String, String)> = plan
        .iter()
        .map(|(tag, action)| (tag.clone(), status_of(action).to_string()))
        .collect();
    assert_eq!(real.statuses(), want, "{}", real.stdout);
}

/// A dry run of `--sha --release-version v1.2.3` on `base` that cannot read the registry: exit 2 with
/// one error line holding `wants`.
#[track_caller]
fn assert_undecided(base: TagArgs, wants: &[&str]) -> Run {
    let run = base.sha().version("v1.2.3").dry_run().run();
    assert_one_line_error(&run, 2, wants);
    run
}

#[test]
fn dry_run_plans_without_writing_and_the_real_run_follows() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let image = registry.image("api");
    let args = TagArgs::new(&image).sha().version("v1.2.3").floating();

    let dry = args.clone().dry_run().json().run();
    dry.assert_plan(0, FIRST_RELEASE);
    for tag in ["v1.2.3", "v1.2", "v1"] {
        assert_eq!(registry.fetch("api", tag).unwrap_err(), 404, "{tag}");
    }
    let json = dry.json();
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["pushed"], false);
    assert_eq!(json["results"], serde_json::json!([]));
    assert_eq!(json["digest"], images.single.digest.as_str());
    assert_eq!(
        json["plan"][0]["current_digest"],
        images.single.digest.as_str()
    );
    assert_eq!(json["plan"][1]["current_digest"], serde_json::Value::Null);
    assert_eq!(dry.outputs["tags"], "sha-abc1234\nv1.2.3\nv1.2\nv1");
    assert_eq!(
        dry.outputs["digest-ref"],
        format!("{image}@{}", images.single.digest)
    );
    dry.assert_summary_has(&[
        "Dry run, nothing written",
        "| Tag | Digest now | Plan |",
        "| `v1.2.3` | — | create |",
        &format!(
            "| `{SHA_TAG}` | `{}` | already there |",
            images.single.digest
        ),
    ]);

    assert_real_run_follows(args, &dry.plan());
}

#[test]
fn dry_run_shows_move_keep_and_refuse() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let image = registry.image("api");
    let (other, ours) = (&images.other.digest, &images.single.digest);
    tag_other(TagArgs::new(&image).floating(), "v1.2.0");

    // A hotfix of an older line: v1.1 is created, v1 stays on the newer v1.2.0.
    let hotfix = TagArgs::new(&image).sha().version("v1.1.4").floating();
    hotfix
        .clone()
        .dry_run()
        .run()
        .assert_code(0)
        .assert_stdout_has(&[
            &format!("dry run, nothing written: {SHA_TAG} is {ours}"),
            "v1.1 → create",
            "v1 → keep (kept on v1.2.0, newer than v1.1.4)",
        ]);
    let dry = hotfix.clone().dry_run().json().run();
    assert_eq!(dry.json()["plan"][3]["kept_on"], "v1.2.0");
    assert_eq!(dry.outputs["tags"], "sha-abc1234\nv1.1.4\nv1.1");
    assert_real_run_follows(hotfix, &dry.plan());

    // v1.2.0 already names another build: refused (exit 1), the floating tags would move.
    let clash = TagArgs::new(&image).sha().version("v1.2.0").floating();
    let dry = clash.clone().dry_run().json().run();
    dry.assert_plan(
        1,
        &[
            (SHA_TAG, "already-there"),
            ("v1.2.0", "refuse"),
            ("v1.2", "move"),
            ("v1", "move"),
        ],
    );
    assert_one_line_error(
        &dry,
        1,
        &[
            "dry run, nothing written: the real run would be refused",
            &format!("v1.2.0 already points at {other}, not at {ours}"),
            "--force",
        ],
    );
    assert_eq!(
        dry.json()["plan"][1]["reason"],
        format!(
            "v1.2.0 already points at {other}; version and sha- tags are immutable: \
             release a new version instead, or pass --force to move it"
        )
    );
    dry.assert_summary_has(&[
        &format!("| `v1.2` | `{other}` | move |"),
        &format!("| `v1.2.0` | `{other}` | refuse: already points at {other};"),
    ]);
    assert_eq!(registry.digest_of("api", "v1.2"), Some(other.clone()));
    // The real run agrees: refused, nothing written.
    clash.clone().run().assert_code(1);
    assert_eq!(registry.digest_of("api", "v1"), Some(other.clone()));

    // With --force the version tag would move too, and does.
    let forced = clash.force();
    let dry = forced.clone().dry_run().json().run();
    dry.assert_plan(
        0,
        &[
            (SHA_TAG, "already-there"),
            ("v1.2.0", "move"),
            ("v1.2", "move"),
            ("v1", "move"),
        ],
    );
    assert_eq!(registry.digest_of("api", "v1.2.0"), Some(other.clone()));
    assert_real_run_follows(forced, &dry.plan());
}

#[test]
fn dry_run_input_reads_the_registry_even_with_push_false() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let run = TagArgs::new(&registry.image("api"))
        .sha()
        .version("v1.2.3")
        .env("INPUT_DRY_RUN", "true")
        .env("INPUT_PUSH", "false")
        .json()
        .run();
    run.assert_plan(0, &[(SHA_TAG, "already-there"), ("v1.2.3", "create")]);
    assert_eq!(run.outputs["digest"], images.single.digest);
    assert_eq!(registry.fetch("api", "v1.2.3").unwrap_err(), 404);
}

#[test]
fn dry_run_without_a_registry_answer_exits_2() {
    let port = free_port();
    let run = assert_undecided(
        TagArgs::new(&format!("127.0.0.1:{port}/api")),
        &[
            &format!("dry run: registry 127.0.0.1:{port} is unreachable"),
            "check the image name",
            "nothing was written",
        ],
    );
    assert!(run.outputs.is_empty(), "{:?}", run.outputs);

    let registry = Registry::start();
    push_test_images(&registry, "api");
    let run = TagArgs::new(&registry.image("api"))
        .source("sha-0000000")
        .version("v1.2.3")
        .dry_run()
        .run();
    assert_one_line_error(
        &run,
        2,
        &[
            &format!("registry {} has no api:sha-0000000", registry.host()),
            "was pushed",
        ],
    );
}

#[test]
fn ecr_dry_run_plans_refuses_and_writes_nothing() {
    let moto = Moto::start();
    let seeded = seed_ecr(&moto);
    let args = TagArgs::ecr(&moto).sha().version("v1.2.3").floating();

    let dry = args.clone().dry_run().json().run();
    dry.assert_plan(0, FIRST_RELEASE);
    assert_eq!(dry.json()["api"], "ecr");
    assert_eq!(dry.json()["digest"], seeded.single.as_str());
    assert!(ecr_image(&moto, "v1.2.3").is_none());
    assert_real_run_follows(args, &dry.plan());

    // v1.2.4 already on another image: refused; the floating tags are already there.
    tag_other(TagArgs::ecr(&moto), "v1.2.4");
    let clash = TagArgs::ecr(&moto).sha().version("v1.2.4").floating();
    let dry = clash.dry_run().json().run();
    dry.assert_plan(
        1,
        &[
            (SHA_TAG, "already-there"),
            ("v1.2.4", "refuse"),
            ("v1.2", "already-there"),
            ("v1", "already-there"),
        ],
    );
    dry.assert_stderr_has(&[&format!(
        "v1.2.4 already points at {}, not at {}",
        seeded.other, seeded.single
    )]);
    assert_eq!(ecr_image(&moto, "v1.2.4").unwrap().digest, seeded.other);
}

#[test]
fn ecr_dry_run_unreachable_endpoint_exits_2() {
    let dead = format!("http://127.0.0.1:{}", free_port());
    assert_undecided(
        TagArgs::ecr_at(&dead),
        &[
            &format!("dry run: ECR registry {ECR_HOST}"),
            "is unreachable",
            &dead,
            "AWS_ENDPOINT_URL",
        ],
    );
}
