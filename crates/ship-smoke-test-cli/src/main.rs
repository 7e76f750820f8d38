//! `ship-smoke-test`: after a rollout, prove the new version is the one serving, its key flows
//! work, and it stays healthy; answer "roll back or not". Thin: flags, output channels and
//! exit codes; the work is in `ship-smoke`.
//!
//! Exit codes: 0 passed, 1 a check failed (rollback recommended), 2 bad flags or spec.

mod progress;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use ship_actions_runtime as actions;
use ship_smoke::watch::{default_window, parse_rate};
use ship_smoke::{Overrides, Report, Runner, WatchConfig};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "ship-smoke-test",
    version,
    about = "After a rollout: wait until the new version serves, check its key flows, watch its error rate, and say whether to roll back.",
    args_conflicts_with_subcommands = true,
    after_help = "Exit status: 0 passed, 1 a check failed (rollback recommended), 2 bad flags or spec.\nEvery flag can also be set through INPUT_<NAME> (e.g. INPUT_EXPECT_VERSION), as the GitHub Action does."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Print the JSON Schema of the spec file (`--spec`).
    Schema,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The service: the one URL to check, or the base URL that `--checks` and spec paths are
    /// appended to (overrides the spec's `base_url`).
    #[arg(long, env = "INPUT_URL", value_name = "URL")]
    url: Option<String>,
    /// A spec file: ordered checks with bodies, assertions and captures (see `schema`).
    #[arg(
        long,
        env = "INPUT_SPEC",
        value_name = "FILE",
        conflicts_with = "checks"
    )]
    spec: Option<PathBuf>,
    /// Quick checks against --url, one per line: `METHOD PATH [STATUS]`, e.g. `GET /health 200`.
    #[arg(long, env = "INPUT_CHECKS", value_name = "LINES")]
    checks: Option<String>,
    /// Acceptable status for quick checks without one: `200`, `2xx`, `200,204` [default: 2xx].
    #[arg(long, env = "INPUT_EXPECT_STATUS", value_name = "STATUS")]
    expect_status: Option<String>,
    /// The version that must be serving, e.g. `v1.2.3` (a leading `v` is ignored when comparing).
    #[arg(long, env = "INPUT_EXPECT_VERSION", value_name = "VERSION")]
    expect_version: Option<String>,
    /// JSON field that holds the served version: a JSON Pointer or dotted path [default: version].
    #[arg(long, env = "INPUT_VERSION_FIELD", value_name = "PATH")]
    version_field: Option<String>,
    /// Response header that holds the served version, instead of a JSON field.
    #[arg(
        long,
        env = "INPUT_VERSION_HEADER",
        value_name = "NAME",
        conflicts_with = "version_field"
    )]
    version_header: Option<String>,
    /// Request headers for quick checks, `Name: value`, one per line (repeatable). Values of
    /// credential headers (Authorization, Cookie, *-Token, *-Key) are masked.
    #[arg(long, env = "INPUT_HEADERS", value_name = "LINES")]
    headers: Vec<String>,
    /// Longest wait for one response [default: 10s, or the spec's `timeout`].
    #[arg(long, env = "INPUT_TIMEOUT", value_name = "DURATION", value_parser = duration)]
    timeout: Option<Duration>,
    /// How long to retry the whole sequence until it passes once (0: a single attempt).
    #[arg(long, env = "INPUT_WAIT_TIMEOUT", value_name = "DURATION", default_value = "300s", value_parser = duration)]
    wait_timeout: Duration,
    /// After the checks pass, keep probing the GET checks this long (e.g. `5m`).
    #[arg(long, env = "INPUT_WATCH", value_name = "DURATION", value_parser = duration)]
    watch: Option<Duration>,
    /// Rolling window a watch threshold must be broken over [default: the watch, at most 5m].
    #[arg(long, env = "INPUT_WINDOW", value_name = "DURATION", value_parser = duration)]
    window: Option<Duration>,
    /// Highest acceptable error rate over the window while watching.
    #[arg(long, env = "INPUT_MAX_ERROR_RATE", value_name = "PERCENT", default_value = "5%", value_parser = rate)]
    max_error_rate: f64,
    /// Highest acceptable p95 latency over the window while watching (e.g. `500ms`).
    #[arg(long, env = "INPUT_MAX_P95", value_name = "DURATION", value_parser = duration)]
    max_p95: Option<Duration>,
    /// Requests per second while watching.
    #[arg(long, env = "INPUT_RPS", value_name = "N", default_value = "5", value_parser = rps)]
    rps: f64,
    /// A PEM file of CA certificates to trust besides the system's (a service behind a private
    /// CA).
    #[arg(long, env = "INPUT_CA_CERT", value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Also write JUnit XML for test reporters to this file.
    #[arg(long, env = "INPUT_JUNIT", value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write the JSON report here [default on GitHub Actions: in $RUNNER_TEMP].
    #[arg(long, env = "INPUT_REPORT_FILE", value_name = "FILE")]
    report_file: Option<PathBuf>,
    /// Output on stdout: a human summary, or the JSON report.
    #[arg(long, env = "INPUT_FORMAT", value_enum, default_value_t = Format::Human)]
    format: Format,
}

fn duration(text: &str) -> Result<Duration, String> {
    ship_actions_runtime::parse_duration(text)
}

fn rate(text: &str) -> Result<f64, String> {
    parse_rate(text)
}

fn rps(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n <= 10_000.0 => Ok(n),
        _ => Err(format!(
            "`{text}` is not a request rate; write a number of requests per second from 0.1 to 10000"
        )),
    }
}

/// A usage or spec error: its message is complete as it is (exit 2).
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Schema) = cli.command {
        let schema = ship_smoke::schema();
        let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        let _ = writeln!(ship_actions_runtime::stdout(), "{text}");
        return ExitCode::SUCCESS;
    }
    match run(cli.run) {
        Ok(passed) => {
            if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            let message = match e.downcast_ref::<UsageError>() {
                Some(u) => u.0.clone(),
                None => format!("error: {e:#}"),
            };
            ship_actions_runtime::errln!("{message}");
            // The workflow still gets an answer: not passed, and no grounds for a rollback.
            let _ = actions::set_outputs([
                ("passed", "false"),
                ("rollback-recommended", "false"),
                ("failed-checks", ""),
            ]);
            ExitCode::from(2)
        }
    }
}

fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// Runs the smoke test; `Ok(passed)`, or an error that means exit 2.
fn run(args: RunArgs) -> anyhow::Result<bool> {
    // `http://user:password@host` or `?token=`: masked from here on, errors about the URL
    // included.
    if let Some(url) = &args.url {
        actions::secrets::register_url(url);
    }
    let env = |name: &str| std::env::var(name).ok();
    let overrides = Overrides {
        base_url: None,
        expected_version: args.expect_version.clone().filter(|v| !v.trim().is_empty()),
        version_field: args.version_field.clone(),
        version_header: args.version_header.clone(),
        timeout: args.timeout.filter(|t| !t.is_zero()),
    };
    let headers = (!args.headers.is_empty()).then(|| args.headers.join("\n"));
    let plan = match (&args.spec, &args.url) {
        (Some(path), url) => {
            if headers.is_some() || args.expect_status.is_some() {
                return Err(usage(
                    "error: --headers and --expect-status are for quick checks; with --spec, put `headers:` and `expect: { status: ... }` in the spec",
                ));
            }
            let text = std::fs::read_to_string(path).map_err(|e| {
                usage(format!(
                    "error: cannot read the spec `{}`: {e}; check the path (relative to {})",
                    path.display(),
                    std::env::current_dir()
                        .map(|d| d.display().to_string())
                        .unwrap_or_else(|_| "the working directory".into())
                ))
            })?;
            let overrides = Overrides {
                base_url: url.clone(),
                ..overrides
            };
            ship_smoke::load_file(&path.display().to_string(), &text, &env, &overrides)
        }
        (None, Some(url)) => ship_smoke::quick(
            url,
            args.checks.as_deref(),
            args.expect_status.as_deref(),
            headers.as_deref(),
            &env,
            &overrides,
        ),
        (None, None) => {
            return Err(usage(
                "error: nothing to check; pass --url https://your-service (with --checks 'GET /health 200' lines if you like) or --spec smoke.yml",
            ))
        }
    }
    .map_err(|e| usage(format!("error: invalid smoke test:\n{e}")))?;
    let mut plan = plan;
    if let Some(path) = args.ca_cert.as_ref().filter(|p| !p.as_os_str().is_empty()) {
        let label = path.display().to_string();
        let pem = std::fs::read(path).map_err(|e| {
            usage(format!(
                "error: cannot read --ca-cert `{label}`: {e}; pass the path of the CA's PEM certificate"
            ))
        })?;
        plan.ca_certs = ship_smoke::probe::load_ca_bundle(&label, &pem)
            .map_err(|e| usage(format!("error: --ca-cert: {e}")))?;
    }

    let watch = match args.watch.filter(|w| !w.is_zero()) {
        None => None,
        Some(duration) => {
            let window = args.window.unwrap_or_else(|| default_window(duration));
            if window > duration {
                return Err(usage(format!(
                    "error: --window {} is longer than --watch {}, so it could never fill; shorten the window or watch longer",
                    ship_smoke::format_duration(window),
                    ship_smoke::format_duration(duration)
                )));
            }
            if window.is_zero() {
                return Err(usage("error: --window must be at least 1s"));
            }
            if !plan.checks.iter().any(|c| c.watch) {
                return Err(usage(
                    "error: --watch repeats only GET, HEAD and OPTIONS checks (repeating a POST would create data), and there are none; add a GET check or mark one `watch: true` in the spec",
                ));
            }
            Some(WatchConfig {
                duration,
                window,
                rps: args.rps,
                max_error_rate: args.max_error_rate,
                max_p95: args.max_p95,
                max_in_flight: 256,
            })
        }
    };

    actions::secrets::register_url(&plan.base_url);
    for secret in plan.secrets.values() {
        actions::secrets::register(secret);
    }
    let report_path = args.report_file.clone().or_else(default_report_path);
    for path in [&report_path, &args.junit].into_iter().flatten() {
        prepare_parent(path)?;
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let runner = Arc::new(Runner::new(plan).map_err(|e| anyhow::anyhow!(e))?);
    let mut progress = progress::Progress::new(args.wait_timeout);
    let report = runtime.block_on(async {
        let wait = runner
            .wait_until_passing(args.wait_timeout, &mut progress)
            .await;
        let watch_report = match &watch {
            Some(config) if wait.last.passed() => Some(
                ship_smoke::watch(
                    Arc::clone(&runner),
                    wait.last.vars.clone(),
                    config,
                    &mut progress,
                )
                .await,
            ),
            _ => None,
        };
        Report::new(runner.plan(), &wait, watch_report)
    });
    progress.finish();

    let mut out = ship_actions_runtime::stdout();
    match args.format {
        Format::Human => write!(out, "{}", report.human())?,
        Format::Json => writeln!(out, "{}", report.to_json())?,
    }
    drop(out);

    if let Some(path) = &report_path {
        std::fs::write(path, actions::redact(&(report.to_json() + "\n")).as_bytes())
            .with_context(|| format!("cannot write the report to `{}`", path.display()))?;
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, actions::redact(&report.junit()).as_bytes())
            .with_context(|| format!("cannot write JUnit XML to `{}`", path.display()))?;
    }
    actions::append_step_summary(&report.markdown())?;
    let passed = report.passed.to_string();
    let rollback = report.rollback_recommended.to_string();
    let failed = report.failed_checks.join(", ");
    let report_out = report_path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let served = report.served_version.clone().unwrap_or_default();
    actions::set_outputs([
        ("passed", passed.as_str()),
        ("rollback-recommended", rollback.as_str()),
        ("failed-checks", failed.as_str()),
        ("report", report_out.as_str()),
        ("served-version", served.as_str()),
    ])?;
    if !report.passed {
        actions::Annotation::new(
            actions::AnnotationLevel::Error,
            format!("smoke test {}", report.summary),
        )
        .emit();
    }
    Ok(report.passed)
}

/// On Actions the report always lands in a file, so the `report` output can name it.
fn default_report_path() -> Option<PathBuf> {
    if !actions::is_github_actions() {
        return None;
    }
    let dir = std::env::var_os("RUNNER_TEMP")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    Some(dir.join(format!(
        "ship-smoke-test-report-{}.json",
        std::process::id()
    )))
}

/// Creates a file's directory now, so a bad path fails before minutes of checks, not after.
fn prepare_parent(path: &Path) -> anyhow::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| {
            usage(format!(
                "error: cannot create the directory `{}` for `{}`: {e}; choose a writable path",
                dir.display(),
                path.display()
            ))
        }),
        None => Ok(()),
    }
}
