//! Every generated workflow set lints clean under ship's own linter with the policy the
//! generator writes; no overwrite without force; `check` detects drift.

use ship_init::{
    check, generate, write, Field, FileOutcome, InitConfig, PartialConfig, TEMPLATES,
    TEMPLATES_README,
};
use std::path::Path;

/// Every value given: nothing left to prompt for or fill with a placeholder.
const FULL: &str = include_str!("fixtures/ship.toml");

fn full() -> PartialConfig {
    PartialConfig::from_toml_str(FULL, "ship.toml").unwrap()
}

/// Generates `cfg` into a fresh directory and lints it with the policy it wrote.
fn lint_generated(cfg: &InitConfig) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = generate(cfg).unwrap();
    write(dir.path(), &files, false).unwrap();
    let resolved = ship_lint::resolve_policy(dir.path(), None).unwrap();
    assert!(
        resolved.file.is_some(),
        "the generated policy file is picked up"
    );
    let mut opts = ship_lint::LintOptions::new(dir.path().to_path_buf(), resolved.policy);
    opts.policy_file = resolved.file.clone();
    opts.policy_path = Some(ship_init::POLICY_PATH.into());
    let report = ship_lint::lint(&opts).unwrap();
    assert_eq!(report.files, TEMPLATES.len());
    let shown: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{}:{}: {} {}", f.path, f.line, f.rule, f.message))
        .collect();
    assert!(shown.is_empty(), "findings:\n{}", shown.join("\n"));
    dir
}

#[test]
fn defaults_with_placeholders_lint_clean() {
    let cfg = InitConfig::resolve(&PartialConfig::default()).unwrap();
    assert!(cfg.placeholders().contains(&Field::Service));
    let dir = lint_generated(&cfg);
    let staging =
        std::fs::read_to_string(dir.path().join(".github/workflows/deploy-staging.yml")).unwrap();
    assert!(staging.contains("CLUSTER: SHIP_CLUSTER_STAGING"));
    assert!(staging.contains("            GET /health 200\n"));
    assert!(staging.contains("uses: org/ship/ecs-rollout@v1"));
    assert!(staging.contains("dir: db/migrations"));
}

#[test]
fn full_config_lints_clean_and_has_no_placeholders() {
    let cfg = InitConfig::resolve(&full()).unwrap();
    assert!(cfg.placeholders().is_empty());
    let dir = lint_generated(&cfg);
    for t in TEMPLATES {
        let text =
            std::fs::read_to_string(dir.path().join(".github/workflows").join(t.name)).unwrap();
        assert!(!text.contains("SHIP_"), "{} keeps a placeholder", t.name);
        assert!(!text.contains("org/ship"), "{} keeps org/ship", t.name);
    }
    let prod = std::fs::read_to_string(dir.path().join(".github/workflows/deploy-production.yml"))
        .unwrap();
    assert!(prod.contains("uses: acme/ship/ecs-rollout@v1"));
    assert!(prod
        .contains("role-to-assume: arn:aws:iam::123456789012:role/orders-api-deploy-production"));
    assert!(prod.contains("            GET /v1/orders?limit=1 200\n"));
    let policy = std::fs::read_to_string(dir.path().join(ship_init::POLICY_PATH)).unwrap();
    assert!(policy.contains("allowed-owners: [actions, github, acme]"));
}

#[test]
fn ecs_task_runner_lints_clean() {
    let mut given = full();
    given.set(Field::MigrationsRunner, "ecs-task");
    let cfg = InitConfig::resolve(&given).unwrap();
    let dir = lint_generated(&cfg);
    for name in ["deploy-staging.yml", "deploy-production.yml"] {
        let text =
            std::fs::read_to_string(dir.path().join(".github/workflows").join(name)).unwrap();
        assert!(text.contains("aws ecs run-task"), "{name}");
        assert!(!text.contains("run-migrations@"), "{name}");
        assert!(text.contains("MIGRATIONS_DIR: db/migrations"), "{name}");
    }
}

#[test]
fn no_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let files = generate(&InitConfig::resolve(&full()).unwrap()).unwrap();
    let first = write(dir.path(), &files, false).unwrap();
    assert!(first.iter().all(|(_, o)| *o == FileOutcome::Created));
    let ci = dir.path().join(".github/workflows/ci.yml");
    std::fs::write(&ci, "# mine\n").unwrap();
    let second = write(dir.path(), &files, false).unwrap();
    let skipped: Vec<_> = second
        .iter()
        .filter(|(_, o)| *o == FileOutcome::Skipped)
        .map(|(p, _)| p.clone())
        .collect();
    assert_eq!(skipped, vec![Path::new(".github/workflows/ci.yml")]);
    assert_eq!(std::fs::read_to_string(&ci).unwrap(), "# mine\n");
    assert!(second
        .iter()
        .filter(|(p, _)| !p.ends_with("ci.yml"))
        .all(|(_, o)| *o == FileOutcome::Unchanged));
    let third = write(dir.path(), &files, true).unwrap();
    assert!(third.contains(&(
        Path::new(".github/workflows/ci.yml").to_path_buf(),
        FileOutcome::Overwritten
    )));
    assert_ne!(std::fs::read_to_string(&ci).unwrap(), "# mine\n");
}

#[test]
fn check_detects_drift_and_passes_in_sync() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = InitConfig::resolve(&full()).unwrap();
    let files = generate(&cfg).unwrap();
    assert_eq!(check(dir.path(), &files).unwrap().len(), files.len());
    write(dir.path(), &files, false).unwrap();
    assert!(check(dir.path(), &files).unwrap().is_empty());

    // A hand edit drifts.
    let path = dir.path().join(".github/workflows/deploy-production.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("watch: 10m", "watch: 1m")).unwrap();
    let drift = check(dir.path(), &files).unwrap();
    assert_eq!(drift.len(), 1);
    assert!(drift[0]
        .diff
        .contains("--- a/.github/workflows/deploy-production.yml"));
    assert!(drift[0].diff.contains("-          watch: 1m"));
    assert!(drift[0].diff.contains("+          watch: 10m"));

    // So does a changed ship.toml.
    std::fs::write(&path, text).unwrap();
    let mut changed = full();
    changed.set(Field::ProductionCluster, "orders-prod-2");
    let other = generate(&InitConfig::resolve(&changed).unwrap()).unwrap();
    let drift = check(dir.path(), &other).unwrap();
    let paths: Vec<_> = drift.iter().map(|d| d.path.clone()).collect();
    assert_eq!(
        paths,
        vec![
            Path::new(".github/workflows/deploy-production.yml"),
            Path::new(".github/workflows/rollback.yml")
        ]
    );
}

#[test]
fn every_placeholder_is_documented_and_used() {
    for &field in Field::ALL {
        assert!(
            TEMPLATES_README.contains(&format!("`{}`", field.key())),
            "README lacks key {}",
            field.key()
        );
        if let Some(token) = field.token() {
            assert!(
                TEMPLATES_README.contains(&format!("`{token}`")),
                "README lacks {token}"
            );
            assert!(
                TEMPLATES.iter().any(|t| t.workflow.contains(token))
                    || token == "SHIP_MIGRATIONS_DIR",
                "no template uses {token}"
            );
        }
    }
    // No template carries a token rendering does not know.
    let cfg = InitConfig::resolve(&PartialConfig::default()).unwrap();
    for t in TEMPLATES {
        ship_init::render_template(t, &cfg).unwrap();
        let props: serde_json_like::Props = serde_json_like::parse(t.properties);
        assert!(props.ok, "{} properties", t.name);
    }
}

/// The properties files carry the keys GitHub's workflow templates read.
mod serde_json_like {
    pub struct Props {
        pub ok: bool,
    }
    pub fn parse(text: &str) -> Props {
        Props {
            ok: [
                "\"name\"",
                "\"description\"",
                "\"iconName\"",
                "\"categories\"",
                "\"filePatterns\"",
            ]
            .iter()
            .all(|k| text.contains(k)),
        }
    }
}

#[test]
fn bad_toml_names_line_and_key() {
    let err = PartialConfig::from_toml_str(
        "service = \"a\"\n\n[staging]\nclustr = \"x\"\n",
        "ship.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("ship.toml:4:"), "{err}");
    assert!(err.contains("staging.clustr"), "{err}");

    let err = PartialConfig::from_toml_str("service = 3\n", "ship.toml")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("ship.toml:1:"), "{err}");
    assert!(err.contains("`service`"), "{err}");

    let err = PartialConfig::from_toml_str("[migrations]\nrunner = \"lambda\"\n", "ship.toml")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("ship.toml:2"), "{err}");
    assert!(err.contains("migrations.runner"), "{err}");
}

#[test]
fn config_round_trips_through_toml() {
    let cfg = InitConfig::resolve(&full()).unwrap();
    let text = cfg.to_toml();
    let again = InitConfig::resolve(&PartialConfig::from_toml_str(&text, "x").unwrap()).unwrap();
    assert_eq!(cfg, again);
    let defaults = InitConfig::resolve(&PartialConfig::default()).unwrap();
    let again =
        InitConfig::resolve(&PartialConfig::from_toml_str(&defaults.to_toml(), "x").unwrap())
            .unwrap();
    assert_eq!(defaults, again);
}

#[test]
fn prompts_for_missing_values_with_defaults() {
    let mut given = PartialConfig::default();
    given.set(Field::Region, "eu-west-1");
    let answers = "orders-api\n\nnot a region?\n";
    let mut out = Vec::new();
    let got = ship_init::prompt_missing(&given, &mut answers.as_bytes(), &mut out).unwrap();
    let shown = String::from_utf8(out).unwrap();
    assert!(shown.contains("(service) [SHIP_SERVICE_NAME]: "), "{shown}");
    // The container defaults to the service just given.
    assert!(shown.contains("(container) [orders-api]: "), "{shown}");
    assert!(!shown.contains("(region)"), "{shown}");
    assert!(shown.contains("`image-repository` must be"), "{shown}");
    assert_eq!(got.get(Field::Container), Some("orders-api"));
    // End of input takes the defaults.
    assert_eq!(
        got.get(Field::ImageRepository),
        Some("SHIP_IMAGE_REPOSITORY")
    );
    assert_eq!(got.get(Field::Flows), Some("GET /health 200"));
    assert!(got.missing().is_empty());
}
