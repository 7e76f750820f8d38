//! `ship-tag-image`: tag one image `vX.Y.Z` and `sha-<commit>` in its registry, by manifest,
//! without pulling. Thin: flags and action inputs are merged here; tag computation and the
//! registry work are in `ship-image-tags`.
//!
//! Exit codes: 0 success, 1 refused or failed (immutable tag on another digest, registry
//! errors), 2 usage or input error. With `--dry-run` (read the registry, write nothing): 0 the
//! real run would succeed, 1 it would be refused, 2 bad input or the registry could not be
//! read, so the question has no answer.

use clap::{Parser, ValueEnum};
use serde::Serialize;
use ship_actions_runtime as runtime;
use ship_image_tags::auth::{self, AuthError};
use ship_image_tags::digest::short_digest;
use ship_image_tags::labels::{oci_labels, rfc3339_utc};
use ship_image_tags::oci::ClientOptions;
use ship_image_tags::plan::{describe_plan, Plan, PlanAction, TagPlan};
use ship_image_tags::retag::{describe, RetagError, RetagOptions, RetagReport, TagResult};
use ship_image_tags::tags::{compute_tags, CommitSha, PlannedTag, TagRequest};
use ship_image_tags::version::{self, Bump};
use ship_image_tags::{ImageRepo, SourceRef, TagStatus};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "ship-tag-image",
    version,
    about = "Tag one image vX.Y.Z and sha-<commit> in its registry, by manifest, without pulling",
    long_about = "Tag one image vX.Y.Z and sha-<commit> in its registry, by manifest, without pulling.\n\n\
        The source manifest (default: the tag sha-<short GITHUB_SHA>) is read once and its exact bytes \
        are put under each new tag, so the digest never changes. Version and sha- tags are immutable: \
        moving one to another digest is refused unless --force. With --floating, vX.Y and vX only move \
        forward: the repository's tags are listed and a floating tag whose line has a newer release stays put.\n\n\
        --dry-run reads the registry the same way and prints, per tag, what the real run would do \
        (create, already there, move, keep, refuse) without writing anything.\n\n\
        Every flag can also be given as the action input of the same name (INPUT_<NAME>). \
        Credentials: REGISTRY_USERNAME/REGISTRY_PASSWORD, else ~/.docker/config.json; \
        ECR repositories use the AWS credential chain.\n\n\
        Exit codes: 0 success, 1 refused or failed, 2 usage or input error (with --dry-run also \
        a registry that could not be read)."
)]
struct Cli {
    /// Image repository, without tag: ghcr.io/org/api, 123456789012.dkr.ecr.us-east-1.amazonaws.com/api.
    #[arg(long, value_name = "REPOSITORY")]
    image: Option<String>,
    /// The existing tag or digest to retag [default: sha-<short sha>].
    #[arg(long, value_name = "TAG|DIGEST")]
    source: Option<String>,
    /// Release version (v1.2.3, 1.2.3-rc.1) [default: from --ref when it is a version tag].
    /// (`--version` prints the program's version, as on every ship binary.)
    #[arg(long, value_name = "VERSION")]
    release_version: Option<String>,
    /// Compute the version by bumping the highest version tag of the git repository.
    #[arg(long, value_name = "major|minor|patch")]
    bump: Option<String>,
    /// Git repository for --bump.
    #[arg(long, value_name = "DIR")]
    git_dir: Option<PathBuf>,
    /// Git ref the version is read from [default: GITHUB_REF].
    #[arg(long = "ref", value_name = "REF")]
    git_ref: Option<String>,
    /// Commit the image was built from [default: GITHUB_SHA]; gives the sha-<7 chars> tag.
    #[arg(long, value_name = "SHA")]
    sha: Option<String>,
    /// Also move vX.Y and vX forward (releases only; kept where they are when the repository has a newer release of their line) [default: false].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", value_parser = runtime::BoolFlag)]
    floating: Option<bool>,
    /// Also move latest (releases only; refused when --environment is production) [default: false].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", value_parser = runtime::BoolFlag)]
    allow_latest: Option<bool>,
    /// Deployment environment this tag is for; `production` refuses --allow-latest.
    #[arg(long, value_name = "NAME")]
    environment: Option<String>,
    /// Apply the tags in the registry; false computes and prints them only [default: true].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", value_parser = runtime::BoolFlag)]
    push: Option<bool>,
    /// Read the registry and print what the real run would do per tag, writing nothing; exit 1 when it would be refused, 2 when the registry cannot be read [default: false].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", value_parser = runtime::BoolFlag)]
    dry_run: Option<bool>,
    /// Move version and sha- tags even when they name another digest [default: false].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", value_parser = runtime::BoolFlag)]
    force: Option<bool>,
    /// Speak plain HTTP to a registry that is not on localhost [default: false].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", value_parser = runtime::BoolFlag)]
    insecure: Option<bool>,
    /// Output format on standard output.
    #[arg(long, value_enum)]
    format: Option<Format>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

/// How the run ends.
enum Failure {
    /// Bad input: exit 2.
    Usage(String),
    /// Refused or failed: exit 1.
    Failed(String),
    /// A dry run that could not read the registry: exit 2, since "would the real run be
    /// refused" has no answer (1 would claim it does).
    Undecided(String),
}

/// The merged settings: flag, else action input, else the GitHub variable, else default.
struct Settings {
    image: ImageRepo,
    source: SourceRef,
    version: Option<semver::Version>,
    sha: Option<CommitSha>,
    tags: Vec<PlannedTag>,
    push: bool,
    dry_run: bool,
    force: bool,
    insecure: bool,
    format: Format,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn text(flag: Option<String>, input: &str) -> Option<String> {
    flag.map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .or_else(|| runtime::input(input))
}

fn boolean(flag: Option<bool>, input: &str) -> Result<Option<bool>, Failure> {
    match flag {
        Some(b) => Ok(Some(b)),
        None => runtime::bool_input(input).map_err(|e| Failure::Usage(e.to_string())),
    }
}

fn settings(cli: Cli) -> Result<Settings, Failure> {
    let usage = Failure::Usage;
    let image = text(cli.image, "image").ok_or_else(|| {
        usage("missing image: pass --image (action input `image`), e.g. ghcr.io/org/api".into())
    })?;
    let image = ImageRepo::parse(&image).map_err(|e| usage(e.to_string()))?;

    let sha = cli
        .sha
        .filter(|s| !s.trim().is_empty())
        .or_else(|| runtime::input("sha"))
        .or_else(|| env("GITHUB_SHA"))
        .map(|s| CommitSha::parse(&s))
        .transpose()
        .map_err(|e| usage(e.to_string()))?;

    let explicit_version = text(cli.release_version, "release-version");
    let bump = text(cli.bump, "bump");
    let version = match (explicit_version, bump) {
        (Some(_), Some(_)) => {
            return Err(usage(
                "pass either release-version or bump, not both".into(),
            ));
        }
        (Some(v), None) => Some(version::parse_version(&v).map_err(|e| usage(e.to_string()))?),
        (None, Some(b)) => {
            let part: Bump = b.parse().map_err(usage)?;
            let dir = cli
                .git_dir
                .or_else(|| runtime::input("git-dir").map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("."));
            let tags = version::git_version_tags(&dir).map_err(|e| usage(e.to_string()))?;
            let latest = version::highest_release(&tags);
            let next = version::bump(latest, part);
            runtime::errln!(
                "ship-tag-image: --bump {b}: {} → {next}",
                latest.map_or_else(|| "no release yet".to_string(), |v| format!("v{v}"))
            );
            Some(next)
        }
        (None, None) => {
            let (origin, git_ref) = match cli.git_ref.filter(|r| !r.trim().is_empty()) {
                Some(r) => ("--ref", r),
                None => ("GITHUB_REF", env("GITHUB_REF").unwrap_or_default()),
            };
            version::version_from_ref(&git_ref)
                .map_err(|e| usage(format!("{origin} {git_ref}: {e}")))?
        }
    };

    let source = match text(cli.source, "source") {
        Some(s) => SourceRef::parse(&s).map_err(|e| usage(e.to_string()))?,
        None => match &sha {
            Some(sha) => SourceRef::Tag(sha.tag()),
            None => {
                return Err(usage(
                    "no source: pass --source (the tag or digest to retag) or --sha / GITHUB_SHA for the default sha-<short sha>".into(),
                ))
            }
        },
    };

    let floating = boolean(cli.floating, "floating")?.unwrap_or(false);
    let allow_latest = boolean(cli.allow_latest, "allow-latest")?.unwrap_or(false);
    let environment = text(cli.environment, "environment").unwrap_or_default();
    if allow_latest && environment.eq_ignore_ascii_case("production") {
        return Err(usage(
            "allow-latest is refused for the production environment: `latest` never reaches production; deploy by the vX.Y.Z or sha- tag".into(),
        ));
    }
    let push = boolean(cli.push, "push")?.unwrap_or(true);
    let dry_run = boolean(cli.dry_run, "dry-run")?.unwrap_or(false);
    let force = boolean(cli.force, "force")?.unwrap_or(false);
    let insecure = boolean(cli.insecure, "insecure")?.unwrap_or(false);
    let format = match cli.format {
        Some(f) => f,
        None => match runtime::input("format") {
            None => Format::Human,
            Some(f) => Format::from_str(&f, true)
                .map_err(|_| usage(format!("format must be human or json, got `{f}`")))?,
        },
    };

    let tags = compute_tags(&TagRequest {
        version: version.clone(),
        sha: sha.clone(),
        floating,
        allow_latest,
    });
    if tags.is_empty() {
        return Err(usage(
            "nothing to tag: no version (from --release-version, --bump or a version tag in GITHUB_REF) and no --sha / GITHUB_SHA".into(),
        ));
    }
    Ok(Settings {
        image,
        source,
        version,
        sha,
        tags,
        push,
        dry_run,
        force,
        insecure,
        format,
    })
}

/// Everything the step reports (the `json` output and `--format json`).
#[derive(Serialize)]
struct Report<'a> {
    image: &'a str,
    registry: &'a str,
    repository: &'a str,
    api: &'static str,
    source: String,
    version: Option<String>,
    version_tag: Option<String>,
    sha: Option<&'a str>,
    tags: Vec<&'a str>,
    image_refs: Vec<String>,
    digest: Option<String>,
    digest_ref: Option<String>,
    media_type: Option<String>,
    pushed: bool,
    dry_run: bool,
    results: Vec<TagResult>,
    /// With dry-run, what the real run would do per tag; otherwise `null`.
    plan: Option<&'a [TagPlan]>,
    labels: BTreeMap<String, String>,
}

/// How far a run went: tags computed only (push false), planned (dry run), or applied.
enum Outcome<'a> {
    Computed,
    Planned(&'a Plan),
    Applied(&'a RetagReport),
}

fn created_timestamp() -> String {
    let seconds = env("SOURCE_DATE_EPOCH")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    rfc3339_utc(seconds)
}

fn build_report<'a>(s: &'a Settings, api: &'static str, outcome: &Outcome<'a>) -> Report<'a> {
    let source_url = match (env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY")) {
        (Some(server), Some(repo)) => Some(format!("{}/{repo}", server.trim_end_matches('/'))),
        _ => None,
    };
    let label_version = s
        .version
        .as_ref()
        .map(|v| v.to_string())
        .or_else(|| s.sha.as_ref().map(|sha| sha.tag()));
    let labels = oci_labels(
        label_version.as_deref(),
        s.sha.as_ref().map(|sha| sha.full()),
        &created_timestamp(),
        source_url.as_deref(),
    );
    let (digest, media_type, results, plan) = match outcome {
        Outcome::Computed => (None, None, Vec::new(), None),
        Outcome::Planned(p) => (
            Some(p.manifest.digest.clone()),
            Some(p.manifest.media_type.clone()),
            Vec::new(),
            Some(p.tags.as_slice()),
        ),
        Outcome::Applied(r) => (
            Some(r.digest.clone()),
            Some(r.media_type.clone()),
            r.results.clone(),
            None,
        ),
    };
    // Floating tags kept on a newer release do not name this image: `tags` and `image-refs`
    // list only the tags that do (the kept ones, with why, are in `results` or `plan`).
    let kept = |name: &str| {
        results
            .iter()
            .any(|r| r.tag == name && r.status == TagStatus::Kept)
            || plan
                .into_iter()
                .flatten()
                .any(|p| p.tag == name && p.action == PlanAction::Keep)
    };
    let names: Vec<&str> = s
        .tags
        .iter()
        .map(|t| t.name.as_str())
        .filter(|name| !kept(name))
        .collect();
    Report {
        image: &s.image.name,
        registry: &s.image.registry,
        repository: &s.image.repository,
        api,
        source: s.source.to_string(),
        version: s.version.as_ref().map(|v| v.to_string()),
        version_tag: s.version.as_ref().map(version::version_tag),
        sha: s.sha.as_ref().map(|sha| sha.full()),
        image_refs: names.iter().map(|t| s.image.tag_ref(t)).collect(),
        tags: names,
        digest_ref: digest.as_ref().map(|d| s.image.digest_ref(d)),
        digest,
        media_type,
        // A dry run writes nothing whatever push says.
        pushed: s.push && !s.dry_run,
        dry_run: s.dry_run,
        results,
        plan,
        labels,
    }
}

fn write_outputs(report: &Report<'_>) -> Result<(), Failure> {
    let json = serde_json::to_string(report)
        .map_err(|e| Failure::Failed(format!("cannot encode the report: {e}")))?;
    let tags = report.tags.join("\n");
    let refs = report.image_refs.join("\n");
    let labels: Vec<String> = report
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let labels = labels.join("\n");
    let version = report.version.clone().unwrap_or_default();
    let digest = report.digest.clone().unwrap_or_default();
    let digest_ref = report.digest_ref.clone().unwrap_or_default();
    runtime::set_outputs([
        ("version", version.as_str()),
        ("tags", tags.as_str()),
        ("image-refs", refs.as_str()),
        ("digest", digest.as_str()),
        ("digest-ref", digest_ref.as_str()),
        ("labels", labels.as_str()),
        ("json", json.as_str()),
    ])
    .map_err(|e| Failure::Failed(e.to_string()))
}

fn digest_cell(digest: Option<&str>) -> String {
    digest.map_or_else(|| "—".into(), |d| format!("`{d}`"))
}

/// The step summary: a table tag → digest → status (or, for a dry run, tag → digest now →
/// what the real run would do).
fn summary(settings: &Settings, outcome: &Outcome<'_>) -> String {
    let mut md = format!("### ship-tag-image: `{}`\n\n", settings.image.name);
    let source = &settings.source;
    let mut table = match outcome {
        Outcome::Planned(_) => runtime::MarkdownTable::new(&["Tag", "Digest now", "Plan"]),
        _ => runtime::MarkdownTable::new(&["Tag", "Digest", "Status"]),
    };
    match outcome {
        Outcome::Computed => {
            for tag in &settings.tags {
                table.push_row(vec![
                    format!("`{}`", tag.name),
                    "—".into(),
                    "computed (push: false)".into(),
                ]);
            }
        }
        Outcome::Planned(plan) => {
            md.push_str(&format!(
                "Dry run, nothing written. Source `{source}` is `{}` ({}).\n\n",
                plan.manifest.digest, plan.manifest.media_type
            ));
            for t in &plan.tags {
                table.push_row(vec![
                    format!("`{}`", t.tag),
                    digest_cell(t.current_digest.as_deref()),
                    t.note()
                        .map_or_else(|| t.action.to_string(), |n| format!("{}: {n}", t.action)),
                ]);
            }
        }
        Outcome::Applied(r) => {
            md.push_str(&format!(
                "Source `{source}` is `{}` ({}).\n\n",
                r.digest, r.media_type
            ));
            for result in &r.results {
                table.push_row(vec![
                    format!("`{}`", result.tag),
                    digest_cell(result.digest.as_deref()),
                    match (&result.previous_digest, result.status) {
                        (Some(prev), TagStatus::Moved) => {
                            format!("moved (was `{}`)", short_digest(prev))
                        }
                        _ => result
                            .note()
                            .map_or_else(|| result.status.to_string(), str::to_string),
                    },
                ]);
            }
        }
    }
    md.push_str(&table.render());
    md
}

fn print_report(
    settings: &Settings,
    report: &Report<'_>,
    outcome: &Outcome<'_>,
) -> Result<(), Failure> {
    if settings.format == Format::Json {
        let json = serde_json::to_string_pretty(report)
            .map_err(|e| Failure::Failed(format!("cannot encode the report: {e}")))?;
        ship_actions_runtime::outln!("{json}");
        return Ok(());
    }
    let (image, source) = (&settings.image, &settings.source);
    let lines = match outcome {
        Outcome::Computed => {
            let version = report.version.as_deref().unwrap_or("none");
            ship_actions_runtime::outln!(
                "{image}: version {version}; tags (not pushed, push is false):"
            );
            report.tags.iter().map(|t| image.tag_ref(t)).collect()
        }
        Outcome::Planned(p) => {
            let m = &p.manifest;
            ship_actions_runtime::outln!(
                "{image}: dry run, nothing written: {source} is {} ({})",
                m.digest,
                m.media_type
            );
            describe_plan(p)
        }
        Outcome::Applied(r) => {
            ship_actions_runtime::outln!("{image}: {source} is {} ({})", r.digest, r.media_type);
            describe(r)
        }
    };
    for line in lines {
        ship_actions_runtime::outln!("  {line}");
    }
    Ok(())
}

/// Writes the outputs and the step summary, and prints the report.
fn finish(settings: &Settings, api: &'static str, outcome: &Outcome<'_>) -> Result<(), Failure> {
    let report = build_report(settings, api, outcome);
    write_outputs(&report)?;
    runtime::append_step_summary(&summary(settings, outcome))
        .map_err(|e| Failure::Failed(e.to_string()))?;
    print_report(settings, &report, outcome)
}

fn credentials_options(settings: &Settings) -> Result<ClientOptions, Failure> {
    let mut options = ClientOptions {
        insecure: settings.insecure,
        ..ClientOptions::default()
    };
    if settings.image.ecr.is_some() {
        return Ok(options);
    }
    let found = auth::resolve(env, &settings.image.registry).map_err(|e| match e {
        AuthError::HalfSet { .. } | AuthError::Config { .. } => Failure::Usage(e.to_string()),
        AuthError::Helper { .. } => Failure::Failed(e.to_string()),
    })?;
    if let Some(found) = found {
        // The password, and the `Basic base64(user:password)` the registry gets (and may echo
        // back in an error body).
        runtime::secrets::register_basic_auth(
            &found.credentials.username,
            &found.credentials.password,
        );
        runtime::errln!(
            "ship-tag-image: credentials for {} from {}",
            settings.image.registry,
            found.source
        );
        options.credentials = Some(found.credentials);
        options.credential_source = Some(found.source);
    }
    Ok(options)
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let settings = settings(cli)?;
    let api = if settings.image.ecr.is_some() {
        "ecr"
    } else {
        "oci"
    };
    if settings.dry_run {
        return dry_run(&settings, api).await;
    }
    if !settings.push {
        return finish(&settings, api, &Outcome::Computed);
    }

    let options = credentials_options(&settings)?;
    let backend = ship_image_tags::connect(&settings.image, options)
        .await
        .map_err(|e| Failure::Failed(format!("{e}; nothing was tagged")))?;
    let result = ship_image_tags::retag(
        &backend,
        &settings.source,
        &settings.tags,
        RetagOptions {
            force: settings.force,
        },
    )
    .await;
    match result {
        Ok(retag) => finish(&settings, api, &Outcome::Applied(&retag)),
        Err(e) => {
            if let RetagError::Partial { report, .. } = &e {
                // The error below is what matters; a summary that cannot be written is not.
                let _ =
                    runtime::append_step_summary(&summary(&settings, &Outcome::Applied(report)));
            }
            Err(Failure::Failed(e.to_string()))
        }
    }
}

/// Reads what the real run reads, through the same planning function, and reports the plan
/// instead of carrying it out.
async fn dry_run(settings: &Settings, api: &'static str) -> Result<(), Failure> {
    let undecided = |e: String| Failure::Undecided(format!("dry run: {e}; nothing was written"));
    let options = credentials_options(settings).map_err(|f| match f {
        Failure::Failed(m) => undecided(m),
        other => other,
    })?;
    let backend = ship_image_tags::connect(&settings.image, options)
        .await
        .map_err(|e| undecided(e.to_string()))?;
    let plan = ship_image_tags::plan(
        &backend,
        &settings.source,
        &settings.tags,
        RetagOptions {
            force: settings.force,
        },
    )
    .await
    .map_err(|e| undecided(e.to_string()))?;
    finish(settings, api, &Outcome::Planned(&plan))?;
    match plan.refusal() {
        Some(refused) => Err(Failure::Failed(format!(
            "dry run, nothing written: the real run would be {refused}"
        ))),
        None => Ok(()),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            runtime::errln!("ship-tag-image: error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let (code, message) = match rt.block_on(run(cli)) {
        Ok(()) => return ExitCode::SUCCESS,
        Err(Failure::Usage(m) | Failure::Undecided(m)) => (2, m),
        Err(Failure::Failed(m)) => (1, m),
    };
    runtime::errln!("ship-tag-image: error: {message}");
    runtime::Annotation::new(runtime::AnnotationLevel::Error, message).emit();
    ExitCode::from(code)
}
