//! `ship-run-migrations`: run, plan, verify and lint database migrations. Thin: flags, output
//! and exit codes; the work is in `ship-migrations`.
//!
//! Exit status: 0 success; 1 a migration, the lint, `verify` or the `--command` failed;
//! 2 usage, configuration or input error (nothing was changed); 130/143 a `--command` run
//! interrupted by SIGINT/SIGTERM (the command stopped, then the lock released).

use anyhow::Context as _;
use clap::{ArgAction, Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};
use ship_actions_runtime::{
    append_step_summary, errln, is_github_actions, set_outputs, MarkdownTable,
};
use ship_findings::{render, render_step_summary, Format, RenderOptions, Severity, Summary};
use ship_migrations::db::{DatabaseUrl, TableName};
use ship_migrations::lint::{self, rules, Dialect, LintReport};
use ship_migrations::runner::{self, Failure, Options, State};
use ship_migrations::source::{self, SqlFile};
use ship_migrations::Error;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "ship-run-migrations",
    version,
    about = "Ordered, locked, checksummed database migrations with a backward-compatibility gate",
    long_about = "Applies NNNN_name.sql migrations in order, exactly once, each in its own \
                  transaction, under a lock so that two deploys never migrate at once; lints \
                  pending migrations for changes that break the old code still running during a \
                  rolling deploy. Without a command, runs `up`.\n\nExit status: 0 success; 1 a \
                  migration, the lint, verify or the --command failed; 2 usage or input error; 130/143 \
                  --command interrupted by SIGINT/SIGTERM."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    global: Global,
}

#[derive(clap::Args, Clone)]
struct Global {
    /// Database URL: postgres://user:password@host:5432/db or sqlite://path/to/file.db. The
    /// password is masked in all output.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<String>,
    /// Directory of NNNN_name.sql (and NNNN_name.down.sql) files.
    #[arg(
        long,
        env = "INPUT_DIR",
        default_value = "db/migrations",
        global = true
    )]
    dir: PathBuf,
    /// History table (`name` or `schema.name`).
    #[arg(
        long,
        env = "INPUT_TABLE",
        default_value = "schema_migrations",
        global = true
    )]
    table: String,
    /// How long to wait for another runner's lock before failing (e.g. 60s, 5m).
    #[arg(long, env = "INPUT_LOCK_TIMEOUT", default_value = "60s", value_parser = ship_actions_runtime::parse_duration, global = true)]
    lock_timeout: Duration,
    /// PostgreSQL: how long one statement of a migration may wait for a lock another session
    /// holds on its table (`lock_timeout`), so an ALTER TABLE queued behind a long
    /// transaction fails fast instead of stalling the queries behind it; 0 waits without limit.
    // The default is `runner::DEFAULT_TABLE_LOCK_TIMEOUT`, written out because clap wants text;
    // a test keeps the two equal.
    #[arg(long, env = "INPUT_TABLE_LOCK_TIMEOUT", default_value = "5s", value_parser = ship_actions_runtime::parse_duration, global = true)]
    table_lock_timeout: Duration,
    /// Output: human or json (lint also: sarif, github).
    #[arg(long, env = "INPUT_FORMAT", value_enum, default_value_t = OutFormat::Human, global = true)]
    format: OutFormat,
    /// Do not lint pending migrations before applying them.
    #[arg(long, env = "INPUT_NO_LINT", default_value = "false", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = ship_actions_runtime::BoolFlag, global = true)]
    no_lint: bool,
    /// Accept applied migrations whose file changed (up records the new checksum).
    #[arg(long, env = "INPUT_ALLOW_CHANGED", default_value = "false", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = ship_actions_runtime::BoolFlag, global = true)]
    allow_changed: bool,
    /// Apply migrations up to and including this version (up, plan).
    #[arg(long, env = "INPUT_TARGET", value_name = "VERSION", global = true)]
    target: Option<i64>,
    /// Run this shell command (e.g. `alembic upgrade head`) under the migration lock instead
    /// of applying SQL files; DATABASE_URL is passed to it.
    #[arg(
        long = "command",
        env = "INPUT_COMMAND",
        id = "run_command",
        value_name = "CMD",
        global = true
    )]
    run_command: Option<String>,
    /// With --command, when the runner is interrupted: how long the command's processes get
    /// to exit after the signal before they are killed (and only then is the lock released).
    // The default is `runner::DEFAULT_COMMAND_GRACE`, written out because clap wants text; a
    // test keeps the two equal. (Not a doc comment: that would be part of --help.)
    #[arg(long, default_value = "5s", value_parser = ship_actions_runtime::parse_duration, global = true)]
    command_grace: Duration,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations (the default).
    Up,
    /// Show every migration: applied, pending, changed, or missing its file.
    Status,
    /// Show what `up` would apply, and lint it, without changing anything.
    Plan,
    /// Revert applied migrations above a version with their .down.sql files.
    Down {
        /// Revert every applied migration newer than this version (0: all).
        #[arg(long, value_name = "VERSION")]
        to: i64,
    },
    /// Check that applied migrations' files are unchanged (checksums).
    Verify,
    /// Lint migrations for changes that break old code or lock tables.
    Lint(LintArgs),
}

#[derive(clap::Args)]
struct LintArgs {
    /// Files to lint (default: every migration in --dir).
    files: Vec<PathBuf>,
    /// Lint only the migrations the database has not applied (needs --database-url).
    #[arg(long, conflicts_with_all = ["files", "since"])]
    pending: bool,
    /// Lint only migrations with a version above this one.
    #[arg(long, value_name = "VERSION", conflicts_with = "files")]
    since: Option<i64>,
    /// SQL dialect (default: from --database-url, else postgres).
    #[arg(long, value_parser = clap::value_parser!(DialectArg))]
    dialect: Option<DialectArg>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Print a rule's documentation and exit.
    #[arg(long, value_name = "RULE")]
    explain: Option<String>,
    /// List the rules and exit.
    #[arg(long)]
    list_rules: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Note,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DialectArg {
    Postgres,
    Sqlite,
}

/// What ends the program: an exit status, with the message already printed.
struct Exit(u8);

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Registers the URL's credentials in the process's secret registry: from here on they are
    // `***` in every output.
    let url = DatabaseUrl::new(cli.global.database_url.clone().unwrap_or_default());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let json = cli.global.format == OutFormat::Json;
    let result = runtime.block_on(run(cli, &url));
    match result {
        Ok(Exit(code)) => ExitCode::from(code),
        Err(e) => {
            let (code, message) = match e.downcast_ref::<Error>() {
                Some(err) => (err.exit_code(), err.to_string()),
                None => (2, format!("{e:#}")),
            };
            let message = url.redact(&message);
            errln!("error: {message}");
            if json {
                // Machine readers get a document on stdout whatever happened.
                let _ = print_json(&json!({ "error": message, "exit_code": code }));
            }
            ExitCode::from(code)
        }
    }
}

async fn run(cli: Cli, url: &DatabaseUrl) -> anyhow::Result<Exit> {
    let g = cli.global.clone();
    let command = cli.command.unwrap_or(Command::Up);
    if let Command::Lint(args) = &command {
        return lint_command(&g, url, args).await;
    }
    if matches!(g.format, OutFormat::Sarif | OutFormat::Github) {
        return Err(Error::config(
            "--format sarif and --format github are for `lint`; the other commands print human or json",
        )
        .into());
    }
    if g.run_command.is_some() && !matches!(command, Command::Up) {
        return Err(Error::config(
            "--command runs another tool's migrations in place of `up`; use it without a subcommand (or with `up`)",
        )
        .into());
    }
    let opts = options(&g, url)?;
    let progress = |line: &str| {
        errln!("{}", url.redact(line));
    };
    match command {
        Command::Up => match &g.run_command {
            Some(cmd) => command_mode(&g, &opts, cmd, &progress).await,
            None => up(&g, &opts, &progress).await,
        },
        Command::Plan => plan(&g, &opts).await,
        Command::Status => status(&g, &opts).await,
        Command::Verify => verify(&g, &opts).await,
        Command::Down { to } => down(&g, &opts, to, &progress).await,
        Command::Lint(_) => unreachable!("handled above"),
    }
}

fn options(g: &Global, url: &DatabaseUrl) -> Result<Options, Error> {
    url.backend()?;
    Ok(Options {
        url: url.clone(),
        dir: g.dir.clone(),
        table: TableName::parse(&g.table)?,
        lock_timeout: g.lock_timeout,
        table_lock_timeout: g.table_lock_timeout,
        allow_changed: g.allow_changed,
        lint: !g.no_lint,
        target: g.target,
        command_grace: g.command_grace,
    })
}

fn print_json(v: &Value) -> anyhow::Result<()> {
    let mut out = ship_actions_runtime::stdout();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

fn version_str(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn summary_output(markdown: &str) {
    if let Err(e) = append_step_summary(markdown) {
        errln!("warning: {e}");
    }
}

fn outputs(pairs: &[(&str, String)]) {
    if let Err(e) = set_outputs(pairs.iter().map(|(k, v)| (*k, v.as_str()))) {
        errln!("warning: {e}");
    }
}

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Print lint findings from `up`/`plan`: human (to stdout, or stderr under --format json),
/// plus annotations on GitHub.
fn print_lint(g: &Global, report: &LintReport) -> anyhow::Result<()> {
    if report.findings.is_empty() {
        return Ok(());
    }
    let infos = rules::rule_infos();
    let summary = Summary::new(report.files, &report.findings);
    let opts = |format, color| RenderOptions {
        format,
        color,
        tool_name: "ship-run-migrations",
        tool_version: env!("CARGO_PKG_VERSION"),
        information_uri: "https://github.com/org/ship/blob/main/docs/migrations.md",
        rules: &infos,
    };
    if g.format == OutFormat::Json {
        render(
            &mut ship_actions_runtime::stderr(),
            &report.findings,
            &summary,
            &opts(Format::Human, false),
        )?;
    } else {
        let mut out = ship_actions_runtime::stdout();
        render(
            &mut out,
            &report.findings,
            &summary,
            &opts(Format::Human, color()),
        )?;
        if is_github_actions() {
            render(
                &mut out,
                &report.findings,
                &summary,
                &opts(Format::Github, false),
            )?;
        }
        out.flush()?;
    }
    if !report.findings.is_empty() {
        summary_output(&render_step_summary(
            "ship-run-migrations lint",
            &report.findings,
            &summary,
        ));
    }
    Ok(())
}

fn lint_json(report: &LintReport) -> Value {
    json!({
        "findings": report.findings,
        "summary": Summary::new(report.files, &report.findings),
    })
}

async fn up(g: &Global, opts: &Options, progress: runner::Progress<'_>) -> anyhow::Result<Exit> {
    let report = runner::up(opts, progress).await?;
    print_lint(g, &report.lint)?;
    let applied = report.applied.len();
    outputs(&[
        ("applied", applied.to_string()),
        ("version", version_str(report.version)),
        ("pending", report.pending.to_string()),
    ]);
    for w in &report.warnings {
        errln!("warning: {w}");
    }

    let mut md = String::from("### ship-run-migrations up\n\n");
    md.push_str(&format!(
        "Database `{}`, table `{}`: applied **{applied}** migration{} in {:.1}s; schema version **{}**; {} pending.\n\n",
        report.database,
        report.table,
        if applied == 1 { "" } else { "s" },
        report.duration_ms as f64 / 1000.0,
        report.version.map(|v| v.to_string()).unwrap_or_else(|| "none".into()),
        report.pending
    ));
    if !report.applied.is_empty() {
        let mut t = MarkdownTable::new(&["Version", "Migration", "Transaction", "Time"]);
        for m in &report.applied {
            t.push_row(vec![
                m.version.to_string(),
                format!("`{}`", m.file),
                if m.transaction { "yes" } else { "no" }.into(),
                format!("{} ms", m.duration_ms),
            ]);
        }
        md.push_str(&t.render());
        md.push('\n');
    }
    for c in &report.accepted_changes {
        md.push_str(&format!(
            "> [!WARNING]\n> Accepted the edit of applied migration `{c}` (--allow-changed).\n\n"
        ));
    }
    let mut code = 0;
    let mut failure_text = None;
    match &report.failure {
        Some(Failure::Lint { errors }) => {
            code = 1;
            let msg = format!(
                "the backward-compatibility lint found {errors} error{} in pending migrations; \
                 nothing was applied. Fix them, or annotate a statement that is safe with \
                 `-- ship:allow <rule> <reason>` (see `ship-run-migrations lint --explain <rule>`).",
                if *errors == 1 { "" } else { "s" }
            );
            md.push_str(&format!("**Blocked**: {msg}\n"));
            failure_text = Some(msg);
        }
        Some(Failure::Migration(f)) => {
            code = 1;
            md.push_str(&format!(
                "**Failed**: `{}:{}`: {}{}\n",
                f.file,
                f.line,
                f.error,
                if f.transaction {
                    " (rolled back; the history table lists only the migrations before it)"
                } else {
                    " (no transaction: not rolled back, not recorded)"
                }
            ));
            failure_text = Some(f.render());
        }
        None => {}
    }
    summary_output(&opts.url.redact(&md));

    if g.format == OutFormat::Json {
        let mut v = serde_json::to_value(&report)?;
        v["command"] = json!("up");
        v["applied_count"] = json!(applied);
        v["lint"] = lint_json(&report.lint);
        print_json(&v)?;
    } else {
        ship_actions_runtime::outln!(
            "applied {applied} migration{} in {:.1}s; schema version {}; {} pending",
            if applied == 1 { "" } else { "s" },
            report.duration_ms as f64 / 1000.0,
            report
                .version
                .map(|v| v.to_string())
                .unwrap_or_else(|| "none".into()),
            report.pending
        );
    }
    if let Some(text) = failure_text {
        errln!("error: {}", opts.url.redact(&text));
    }
    Ok(Exit(code))
}

async fn plan(g: &Global, opts: &Options) -> anyhow::Result<Exit> {
    let report = runner::plan(opts).await?;
    print_lint(g, &report.lint)?;
    for w in &report.warnings {
        errln!("warning: {}", opts.url.redact(w));
    }
    outputs(&[
        ("applied", "0".into()),
        ("version", version_str(report.version)),
        ("pending", report.pending.len().to_string()),
    ]);
    let mut md = String::from("### ship-run-migrations plan\n\n");
    if report.pending.is_empty() {
        md.push_str("Nothing to apply.\n");
    } else {
        let mut t = MarkdownTable::new(&["Version", "Migration", "Transaction", "Statements"]);
        for p in &report.pending {
            t.push_row(vec![
                p.version.to_string(),
                format!("`{}`", p.file),
                if p.transaction { "yes" } else { "no" }.into(),
                p.statements.to_string(),
            ]);
        }
        md.push_str(&t.render());
    }
    summary_output(&md);
    if g.format == OutFormat::Json {
        let mut v = serde_json::to_value(&report)?;
        v["command"] = json!("plan");
        v["lint"] = lint_json(&report.lint);
        print_json(&v)?;
    } else {
        ship_actions_runtime::outln!(
            "database at version {}; up would apply {} migration{}:",
            report
                .version
                .map(|v| v.to_string())
                .unwrap_or_else(|| "none".into()),
            report.pending.len(),
            if report.pending.len() == 1 { "" } else { "s" }
        );
        for p in &report.pending {
            ship_actions_runtime::outln!(
                "  {}  {} ({} statement{}{})",
                p.version,
                p.file,
                p.statements,
                if p.statements == 1 { "" } else { "s" },
                if p.transaction {
                    ""
                } else {
                    ", no transaction"
                }
            );
        }
        if report.blocked {
            ship_actions_runtime::outln!("up would refuse to run: the lint found errors (above)");
        }
    }
    Ok(Exit(if report.blocked { 1 } else { 0 }))
}

async fn status(g: &Global, opts: &Options) -> anyhow::Result<Exit> {
    let report = runner::status(opts).await?;
    outputs(&[
        ("applied", "0".into()),
        ("version", version_str(report.version)),
        ("pending", report.pending.to_string()),
    ]);
    let mut t = MarkdownTable::new(&["Version", "Migration", "State", "Applied at", "By"]);
    for e in &report.migrations {
        t.push_row(vec![
            e.version.to_string(),
            e.file
                .clone()
                .map(|f| format!("`{f}`"))
                .unwrap_or_else(|| e.name.clone()),
            state_str(e.state).into(),
            e.applied_at.clone().unwrap_or_default(),
            by(
                e.applied_by.as_deref(),
                e.git_sha.as_deref(),
                e.run_id.as_deref(),
            ),
        ]);
    }
    summary_output(&format!("### ship-run-migrations status\n\n{}", t.render()));
    if g.format == OutFormat::Json {
        let mut v = serde_json::to_value(&report)?;
        v["command"] = json!("status");
        print_json(&v)?;
        return Ok(Exit(0));
    }
    let rows: Vec<[String; 5]> = report
        .migrations
        .iter()
        .map(|e| {
            [
                e.version.to_string(),
                e.name.clone(),
                state_str(e.state).to_string(),
                e.applied_at.clone().unwrap_or_else(|| "-".into()),
                by(
                    e.applied_by.as_deref(),
                    e.git_sha.as_deref(),
                    e.run_id.as_deref(),
                ),
            ]
        })
        .collect();
    let header = ["VERSION", "NAME", "STATE", "APPLIED AT", "APPLIED BY"].map(String::from);
    let mut widths = [0usize; 5];
    for r in std::iter::once(&header).chain(rows.iter()) {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    for r in std::iter::once(&header).chain(rows.iter()) {
        let line: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        ship_actions_runtime::outln!("{}", line.join("  ").trim_end());
    }
    ship_actions_runtime::outln!(
        "\nschema version {}: {} applied, {} pending, {} changed, {} missing their file",
        report
            .version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "none".into()),
        report.applied,
        report.pending,
        report.changed,
        report.missing
    );
    Ok(Exit(0))
}

fn state_str(s: State) -> &'static str {
    match s {
        State::Applied => "applied",
        State::Pending => "pending",
        State::Changed => "changed",
        State::Missing => "missing file",
    }
}

fn by(actor: Option<&str>, sha: Option<&str>, run: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(a) = actor {
        parts.push(a.to_string());
    }
    if let Some(s) = sha {
        parts.push(format!("sha {}", s.get(..12).unwrap_or(s)));
    }
    if let Some(r) = run {
        parts.push(format!("run {r}"));
    }
    parts.join(", ")
}

async fn verify(g: &Global, opts: &Options) -> anyhow::Result<Exit> {
    let report = runner::verify(opts).await?;
    for w in &report.warnings {
        errln!("warning: {w}");
    }
    let mut md = String::from("### ship-run-migrations verify\n\n");
    if report.changed.is_empty() {
        md.push_str(&format!(
            "All {} applied migrations match their files.\n",
            report.checked
        ));
    } else {
        md.push_str("Applied migrations whose file changed:\n\n");
        for c in &report.changed {
            md.push_str(&format!("- `{}`\n", c.file.clone().unwrap_or_default()));
        }
    }
    summary_output(&md);
    if g.format == OutFormat::Json {
        let mut v = serde_json::to_value(&report)?;
        v["command"] = json!("verify");
        print_json(&v)?;
    } else if report.changed.is_empty() {
        ship_actions_runtime::outln!(
            "verified {} applied migration{}: checksums match",
            report.checked,
            if report.checked == 1 { "" } else { "s" }
        );
    } else {
        for c in &report.changed {
            ship_actions_runtime::outln!(
                "changed: {} (recorded {}, file {})",
                c.file.clone().unwrap_or_default(),
                c.recorded_checksum.as_deref().unwrap_or(""),
                c.file_checksum.as_deref().unwrap_or("")
            );
        }
    }
    if let Some(err) = runner::verify_error(&report) {
        errln!("error: {err}");
        return Ok(Exit(1));
    }
    if !report.changed.is_empty() {
        errln!("warning: accepted changed applied migrations (--allow-changed)");
    }
    Ok(Exit(0))
}

async fn down(
    g: &Global,
    opts: &Options,
    to: i64,
    progress: runner::Progress<'_>,
) -> anyhow::Result<Exit> {
    let report = runner::down(opts, to, progress).await?;
    outputs(&[
        ("applied", "0".into()),
        ("version", version_str(report.version)),
    ]);
    let mut md = format!(
        "### ship-run-migrations down --to {to}\n\nReverted **{}** migration{}; schema version **{}**.\n\n",
        report.reverted.len(),
        if report.reverted.len() == 1 { "" } else { "s" },
        report.version.map(|v| v.to_string()).unwrap_or_else(|| "none".into()),
    );
    if !report.reverted.is_empty() {
        let mut t = MarkdownTable::new(&["Version", "Down file", "Time"]);
        for m in &report.reverted {
            t.push_row(vec![
                m.version.to_string(),
                format!("`{}`", m.file),
                format!("{} ms", m.duration_ms),
            ]);
        }
        md.push_str(&t.render());
    }
    let failure = match &report.failure {
        Some(Failure::Migration(f)) => Some(f.render()),
        _ => None,
    };
    if let Some(f) = &failure {
        md.push_str(&format!(
            "\n**Failed**: {}\n",
            f.lines().next().unwrap_or("")
        ));
    }
    summary_output(&opts.url.redact(&md));
    if g.format == OutFormat::Json {
        let mut v = serde_json::to_value(&report)?;
        v["command"] = json!("down");
        print_json(&v)?;
    } else {
        ship_actions_runtime::outln!(
            "reverted {} migration{}; schema version {}",
            report.reverted.len(),
            if report.reverted.len() == 1 { "" } else { "s" },
            report
                .version
                .map(|v| v.to_string())
                .unwrap_or_else(|| "none".into())
        );
    }
    if let Some(f) = failure {
        errln!("error: {}", opts.url.redact(&f));
        return Ok(Exit(1));
    }
    Ok(Exit(0))
}

async fn command_mode(
    g: &Global,
    opts: &Options,
    cmd: &str,
    progress: runner::Progress<'_>,
) -> anyhow::Result<Exit> {
    let report = runner::run_command(opts, cmd, progress).await?;
    let status = match (report.exit_code, &report.signal) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(_)) => "stopped".into(),
        (None, None) => "killed by a signal".into(),
    };
    outputs(&[(
        "exit-code",
        report.exit_code.map(|c| c.to_string()).unwrap_or_default(),
    )]);
    // What an interruption leaves behind, for the log, the summary and the JSON alike.
    let aftermath = report.signal.as_ref().map(|signal| {
        let stopped = report.stopped.as_deref().unwrap_or("");
        let left = if report.left_running == 0 {
            "no process of the command is left running".to_string()
        } else {
            format!(
                "{} process{} of the command could not be stopped: stop them by hand before running again",
                report.left_running,
                if report.left_running == 1 { "" } else { "es" }
            )
        };
        format!(
            "interrupted by {signal} while `{}` ran under the migration lock on {}: {stopped}; {left}; \
             the migration lock is released. The command may have stopped part-way through its \
             migrations: check its own state (e.g. `alembic current`) before running it again.",
            report.command, report.database
        )
    });
    let mut md = format!(
        "### ship-run-migrations --command\n\n`{}` ran under the migration lock on `{}`: **{}** ({status}) in {:.1}s.\n",
        report.command,
        report.database,
        match (&report.signal, report.success) {
            (Some(_), _) => "interrupted",
            (None, true) => "succeeded",
            (None, false) => "failed",
        },
        report.duration_ms as f64 / 1000.0
    );
    if let Some(text) = &aftermath {
        md.push_str(&format!("\n> [!WARNING]\n> {text}\n"));
    } else if let Some(stopped) = &report.stopped {
        md.push_str(&format!("\n> [!WARNING]\n> Processes {stopped}.\n"));
    }
    summary_output(&md);
    if g.format == OutFormat::Json {
        let mut v = serde_json::to_value(&report)?;
        v["command_mode"] = json!(true);
        print_json(&v)?;
    } else {
        ship_actions_runtime::outln!(
            "command `{}` {} ({status}) in {:.1}s under the migration lock",
            report.command,
            match (&report.signal, report.success) {
                (Some(_), _) => "was interrupted",
                (None, true) => "succeeded",
                (None, false) => "failed",
            },
            report.duration_ms as f64 / 1000.0
        );
    }
    if let Some(text) = aftermath {
        errln!("error: {text}");
        // 128 + the signal's number, as a shell reports a command a signal ended.
        return Ok(Exit(match report.signal.as_deref() {
            Some("SIGINT") => 130,
            _ => 143,
        }));
    }
    if let Some(stopped) = &report.stopped {
        errln!(
            "warning: processes {stopped}{}",
            if report.left_running > 0 {
                format!("; {} could not be stopped", report.left_running)
            } else {
                String::new()
            }
        );
    }
    if !report.success {
        errln!(
            "error: the migration command `{}` failed ({status})",
            report.command,
        );
        return Ok(Exit(1));
    }
    Ok(Exit(0))
}

async fn lint_command(g: &Global, url: &DatabaseUrl, args: &LintArgs) -> anyhow::Result<Exit> {
    let infos = rules::rule_infos();
    if args.list_rules {
        if g.format == OutFormat::Json {
            let v: Vec<Value> = infos
                .iter()
                .map(|i| json!({"id": i.id, "severity": i.default_severity, "summary": i.summary, "docs": i.documentation()}))
                .collect();
            print_json(&Value::Array(v))?;
        } else {
            let w = infos.iter().map(|i| i.id.len()).max().unwrap_or(0);
            for i in &infos {
                ship_actions_runtime::outln!(
                    "{:<w$}  {:<7}  {}",
                    i.id,
                    i.default_severity.as_str(),
                    i.summary
                );
            }
        }
        return Ok(Exit(0));
    }
    if let Some(id) = &args.explain {
        let Some(rule) = rules::rule_by_id(id) else {
            return Err(Error::config(format!(
                "unknown rule `{id}`; `ship-run-migrations lint --list-rules` lists the {} rules",
                infos.len()
            ))
            .into());
        };
        let info = rule.info();
        ship_actions_runtime::outln!(
            "# {} ({})\n\n{}\n",
            info.id,
            info.default_severity,
            info.summary
        );
        ship_actions_runtime::outln!("{}", info.documentation());
        return Ok(Exit(0));
    }
    let dialect = match args.dialect {
        Some(DialectArg::Postgres) => Dialect::Postgres,
        Some(DialectArg::Sqlite) => Dialect::Sqlite,
        None => match url.backend() {
            Ok(ship_migrations::db::Backend::Sqlite) => Dialect::Sqlite,
            _ => Dialect::Postgres,
        },
    };
    let files: Vec<SqlFile> = if !args.files.is_empty() {
        args.files
            .iter()
            .map(|p| SqlFile::read(p, p.to_string_lossy().replace('\\', "/")))
            .collect::<Result<_, _>>()?
    } else {
        let migrations = source::load_dir(&g.dir)?;
        let selected: Vec<_> = if args.pending {
            let opts = options(g, url)?;
            let status = runner::status(&opts).await?;
            let pending: std::collections::HashSet<i64> = status
                .migrations
                .iter()
                .filter(|e| e.state == State::Pending)
                .map(|e| e.version)
                .collect();
            migrations
                .into_iter()
                .filter(|m| pending.contains(&m.version))
                .collect()
        } else {
            migrations
                .into_iter()
                .filter(|m| args.since.is_none_or(|s| m.version > s))
                .collect()
        };
        selected.into_iter().map(|m| m.up).collect()
    };
    let refs: Vec<&SqlFile> = files.iter().collect();
    let report = lint::lint_files(&refs, dialect);
    let summary = Summary::new(report.files, &report.findings);
    let format = match g.format {
        OutFormat::Human => Format::Human,
        OutFormat::Json => Format::Json,
        OutFormat::Sarif => Format::Sarif,
        OutFormat::Github => Format::Github,
    };
    let render_opts = RenderOptions {
        format,
        color: format == Format::Human && color(),
        tool_name: "ship-run-migrations",
        tool_version: env!("CARGO_PKG_VERSION"),
        information_uri: "https://github.com/org/ship/blob/main/docs/migrations.md",
        rules: &infos,
    };
    {
        let mut out = std::io::BufWriter::new(ship_actions_runtime::stdout());
        render(&mut out, &report.findings, &summary, &render_opts)
            .context("cannot write the findings")?;
        out.flush()?;
    }
    if format == Format::Github {
        summary_output(&render_step_summary(
            "ship-run-migrations lint",
            &report.findings,
            &summary,
        ));
    }
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Note => Severity::Note,
    };
    Ok(Exit(if summary.fails(threshold) { 1 } else { 0 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_grace_default_is_the_runners() {
        let cli = Cli::try_parse_from(["ship-run-migrations", "status"]).unwrap();
        assert_eq!(cli.global.command_grace, runner::DEFAULT_COMMAND_GRACE);
    }

    #[test]
    fn table_lock_timeout_default_is_the_runners() {
        // Not from the environment of whoever runs the tests.
        if std::env::var_os("INPUT_TABLE_LOCK_TIMEOUT").is_some() {
            return;
        }
        let cli = Cli::try_parse_from(["ship-run-migrations", "status"]).unwrap();
        assert_eq!(
            cli.global.table_lock_timeout,
            runner::DEFAULT_TABLE_LOCK_TIMEOUT
        );
    }
}
