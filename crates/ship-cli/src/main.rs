//! `ship`: the release-policy linter and policy tools. Thin: parsing flags, picking the
//! policy, and choosing the output; the work is in `ship-lint` and `ship-findings`.

use anyhow::Context;
use clap::{ArgAction, Parser, Subcommand, ValueEnum};
use ship_findings::{render, render_step_summary, Format, RenderOptions, Severity, Summary};
use ship_lint::rules::documentation;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

// Linting thousands of files allocates many small strings; mimalloc is markedly faster at
// that than glibc malloc (see bench/). Built without transparent huge pages (`no_thp`): with
// them every thread's sparse heap is backed by whole 2 MiB pages, 47 MB resident on the 20x
// bench tree instead of 33 MB, for no speed gain.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ship",
    version,
    about = "Release-policy linter for GitHub Actions deploys to AWS ECS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint a repository's workflows against the release policy.
    Lint(LintArgs),
    /// Show the deploy model: each job's role, target environment, triggers and evidence.
    Deploys(DeploysArgs),
    /// List every rule.
    Rules {
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Repository settings: export branch protection, rulesets and environments as JSON.
    Settings {
        #[command(subcommand)]
        command: SettingsCommand,
    },
    /// Write ship's workflows and policy file into a repository, or check they are in sync.
    Init(Box<InitArgs>),
    /// Policy tools: print the JSON Schema or the effective policy.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Print the shell completion script for `ship`
    /// (e.g. `ship completions bash > ~/.local/share/bash-completion/completions/ship`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages of `ship` and each subcommand (ship.1, ship-lint.1, ...) into DIR.
    Man {
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Print the policy file's JSON Schema.
    Schema,
    /// Print the effective policy (the built-in default merged with the policy file).
    Show {
        /// Repository whose `.github/ship-policy.yml` to read.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// A policy file to read instead.
        #[arg(long)]
        policy: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = ShowFormat::Yaml)]
        format: ShowFormat,
    },
}

#[derive(Subcommand)]
enum SettingsCommand {
    /// Read OWNER/REPO's settings from the GitHub API (GITHUB_TOKEN, GITHUB_API_URL) and
    /// print them as one JSON document for `ship lint --settings`.
    Export {
        /// The repository, `owner/name`.
        repository: String,
        /// The production branch (default: the policy's `production-branch`).
        #[arg(long)]
        branch: Option<String>,
        /// Repository whose `.github/ship-policy.yml` names the production branch.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ShowFormat {
    Yaml,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Note,
}

#[derive(clap::Args)]
struct LintArgs {
    /// Repository root; its `.github/workflows/*.yml|*.yaml` are linted (the root action's
    /// `path` input).
    #[arg(env = "INPUT_PATH", default_value = ".")]
    dir: PathBuf,
    /// Lint only this workflow file (repeatable); repository-wide rules are skipped.
    #[arg(long = "workflow", value_name = "FILE")]
    workflows: Vec<PathBuf>,
    /// Policy file (default: DIR/.github/ship-policy.yml, else the built-in policy).
    #[arg(long, env = "INPUT_POLICY")]
    policy: Option<PathBuf>,
    #[arg(long, env = "INPUT_FORMAT", value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, env = "INPUT_FAIL_ON", value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Also write SARIF to this file (whatever --format is).
    #[arg(long, env = "INPUT_SARIF_FILE", value_name = "FILE")]
    sarif_file: Option<PathBuf>,
    /// Also check OWNER/REPO's branch protection, rulesets and environments through the
    /// GitHub API (token from GITHUB_TOKEN, API from GITHUB_API_URL).
    #[arg(long, value_name = "OWNER/REPO", conflicts_with = "settings")]
    github: Option<String>,
    /// Also check this repository's settings through the GitHub API: `--github` with the
    /// repository the workflow runs in (GITHUB_REPOSITORY).
    #[arg(long, env = "INPUT_GITHUB_SETTINGS", default_value = "false", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = ship_actions_runtime::BoolFlag)]
    github_settings: bool,
    /// Also check repository settings saved by `ship settings export` (offline).
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Accept the findings recorded in this baseline file: they are not shown and do not
    /// fail the run, and entries that no longer match a finding become `baseline-stale`
    /// notes (default: DIR/.github/ship-baseline.json when it exists).
    #[arg(long, value_name = "FILE", conflicts_with = "no_baseline")]
    baseline: Option<PathBuf>,
    /// Ignore DIR/.github/ship-baseline.json: report every finding.
    #[arg(long)]
    no_baseline: bool,
    /// Record every current finding in FILE (usually .github/ship-baseline.json) and exit 0;
    /// commit it, and later runs fail only on findings not in it. Findings are matched by
    /// rule, file, job, step and a hash of the offending text, so moving lines does not
    /// break the match.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["baseline", "no_baseline", "workflows"]
    )]
    write_baseline: Option<PathBuf>,
    /// Print a rule's documentation and exit.
    #[arg(long, value_name = "RULE")]
    explain: Option<String>,
}

#[derive(clap::Args)]
struct DeploysArgs {
    /// Repository root; its `.github/workflows/*.yml|*.yaml` are read.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Policy file (default: DIR/.github/ship-policy.yml, else the built-in policy).
    #[arg(long)]
    policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    format: ListFormat,
    /// Show every job (by default CI and other jobs are listed without their evidence).
    #[arg(long)]
    all: bool,
}

#[derive(clap::Args)]
struct InitArgs {
    /// Repository to write `.github/workflows/*.yml` and `.github/ship-policy.yml` into.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Never prompt: fill missing values with their defaults or documented placeholders.
    #[arg(long, short)]
    yes: bool,
    /// Overwrite files that differ from what would be generated.
    #[arg(long)]
    force: bool,
    /// Write nothing; exit 1 and print a diff when the files drifted from the templates and
    /// the configuration.
    #[arg(long, conflicts_with = "force")]
    check: bool,
    /// Configuration file (default: DIR/ship.toml when present; written there when absent).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Container that gets the new image (default: the service name).
    #[arg(long, value_name = "NAME")]
    container: Option<String>,
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// ECR repository URI without tag.
    #[arg(long, value_name = "URI")]
    image_repository: Option<String>,
    #[arg(long, value_name = "PATH")]
    dockerfile: Option<String>,
    #[arg(long, value_name = "ARN")]
    build_role_arn: Option<String>,
    #[arg(long, value_name = "NAME")]
    staging_cluster: Option<String>,
    #[arg(long, value_name = "ARN")]
    staging_role_arn: Option<String>,
    /// Staging base URL the smoke checks' paths are appended to.
    #[arg(long, value_name = "URL")]
    staging_health_url: Option<String>,
    #[arg(long, value_name = "NAME")]
    production_cluster: Option<String>,
    #[arg(long, value_name = "ARN")]
    production_role_arn: Option<String>,
    /// Production base URL the smoke checks' paths are appended to.
    #[arg(long, value_name = "URL")]
    production_health_url: Option<String>,
    #[arg(long, value_name = "DIR")]
    migrations_dir: Option<String>,
    /// Where migrations run: `ci` or `ecs-task`.
    #[arg(long, value_name = "RUNNER")]
    migrations_runner: Option<String>,
    /// An expected flow for the smoke test, `METHOD /path STATUS` (repeatable).
    #[arg(long = "flow", value_name = "FLOW")]
    flows: Vec<String>,
    /// Repository of ship's actions, OWNER/ship.
    #[arg(long, value_name = "OWNER/ship")]
    actions_repository: Option<String>,
    #[arg(long, value_name = "REF")]
    actions_ref: Option<String>,
}

impl InitArgs {
    /// The values given as flags, each checked here so that an error names the flag.
    fn given(&self) -> anyhow::Result<ship_init::PartialConfig> {
        use ship_init::Field;
        let mut given = ship_init::PartialConfig::default();
        for (field, value) in [
            (Field::Service, &self.service),
            (Field::Container, &self.container),
            (Field::Region, &self.region),
            (Field::ImageRepository, &self.image_repository),
            (Field::Dockerfile, &self.dockerfile),
            (Field::BuildRoleArn, &self.build_role_arn),
            (Field::StagingCluster, &self.staging_cluster),
            (Field::StagingRoleArn, &self.staging_role_arn),
            (Field::StagingHealthUrl, &self.staging_health_url),
            (Field::ProductionCluster, &self.production_cluster),
            (Field::ProductionRoleArn, &self.production_role_arn),
            (Field::ProductionHealthUrl, &self.production_health_url),
            (Field::MigrationsDir, &self.migrations_dir),
            (Field::MigrationsRunner, &self.migrations_runner),
            (Field::ActionsRepository, &self.actions_repository),
            (Field::ActionsRef, &self.actions_ref),
        ] {
            if let Some(v) = value {
                given.set(field, v.clone());
            }
        }
        if !self.flows.is_empty() {
            given.set(Field::Flows, self.flows.join("\n"));
        }
        for &field in Field::ALL {
            if let Some(value) = given.get(field) {
                if let Err(message) = field.validate(value) {
                    let flag = match field {
                        Field::Flows => "--flow".to_owned(),
                        _ => format!("--{}", field.key().replace('.', "-")),
                    };
                    anyhow::bail!("ship init {flag}: {message}");
                }
            }
        }
        Ok(given)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Lint(args) => lint(args),
        Command::Deploys(args) => deploys(args),
        Command::Rules { format } => rules(format),
        Command::Policy { command } => policy(command),
        Command::Settings { command } => settings(command),
        Command::Init(args) => init(*args),
        Command::Completions { shell } => completions(shell),
        Command::Man { dir } => man_pages(&dir),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            ship_actions_runtime::errln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut out = ship_actions_runtime::stdout();
    clap_complete::generate(shell, &mut command, "ship", &mut out);
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn man_pages(dir: &Path) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the man page directory `{}`", dir.display()))?;
    let command = <Cli as clap::CommandFactory>::command();
    clap_mangen::generate_to(command, dir)
        .with_context(|| format!("cannot write man pages into `{}`", dir.display()))?;
    ship_actions_runtime::outln!("man pages written to {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

fn deploys(args: DeploysArgs) -> anyhow::Result<ExitCode> {
    let resolved = ship_lint::resolve_policy(&args.dir, args.policy.as_deref())?;
    let model = ship_lint::deploys::deploys(&args.dir, &resolved.policy)?;
    let mut out = ship_actions_runtime::stdout();
    match args.format {
        ListFormat::Human => {
            let shown: Vec<_> = model
                .jobs
                .iter()
                .filter(|j| args.all || !matches!(j.role.as_str(), "ci" | "other"))
                .cloned()
                .collect();
            if shown.is_empty() {
                writeln!(out, "no job deploys, migrates, pushes images, checks or rolls back (`--all` lists every job)")?;
            } else {
                write!(out, "{}", ship_lint::deploys::render_human(&shown))?;
            }
        }
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &ship_lint::deploys::render_json(&model))?;
            writeln!(out)?;
        }
    }
    // A workflow ship cannot read may hold a deploy: the listing is incomplete, which is an
    // input error (2), not a clean result.
    if model.unread.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        ship_actions_runtime::err!("{}", ship_lint::deploys::render_unread(&model.unread));
        Ok(ExitCode::from(2))
    }
}

fn rules(format: ListFormat) -> anyhow::Result<ExitCode> {
    let rules = ship_lint::registry();
    let mut out = ship_actions_runtime::stdout();
    match format {
        ListFormat::Human => {
            for r in rules {
                let info = r.info();
                let needs = if r.reads_settings() {
                    " (needs --github or --settings)"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "{:<22} {:<8} {}{needs}",
                    info.id, info.default_severity, info.summary
                )?;
            }
        }
        ListFormat::Json => {
            let list: Vec<_> = rules
                .iter()
                .map(|r| {
                    let i = r.info();
                    serde_json::json!({
                        "id": i.id,
                        "severity": i.default_severity,
                        "summary": i.summary,
                        // Settings rules run only with --github/--settings.
                        "reads": if r.reads_settings() { "settings" } else { "files" },
                        "docs": documentation(i),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn settings(command: SettingsCommand) -> anyhow::Result<ExitCode> {
    match command {
        SettingsCommand::Export {
            repository,
            branch,
            dir,
            output,
        } => {
            let branch = match branch {
                Some(b) => b,
                None => {
                    ship_lint::resolve_policy(&dir, None)?
                        .policy
                        .policy
                        .production_branch
                }
            };
            let opts = github_fetch_options();
            let snapshot =
                ship_github_settings::fetch::fetch_snapshot_blocking(&opts, &repository, &branch)?;
            // The snapshot keeps the API's error bodies, which may echo the token back.
            let text = serde_json::to_string_pretty(&snapshot)? + "\n";
            let text = ship_actions_runtime::redact(&text);
            match output {
                Some(path) => std::fs::write(&path, text.as_bytes())
                    .with_context(|| format!("cannot write `{}`", path.display()))?,
                None => ship_actions_runtime::out!("{text}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How to reach the GitHub API, from the environment; the token is registered as a secret, so
/// an error body that echoes it back is masked wherever it is printed.
fn github_fetch_options() -> ship_github_settings::fetch::FetchOptions {
    let opts = ship_github_settings::fetch::FetchOptions::from_env();
    if let Some(token) = &opts.token {
        ship_actions_runtime::secrets::register(token);
    }
    opts
}

/// The settings to lint against, from the API or a file.
fn load_settings(
    args: &LintArgs,
    branch: &str,
) -> anyhow::Result<Option<ship_github_settings::EffectiveSettings>> {
    let snapshot = if let Some(repo) = &args.github {
        let opts = github_fetch_options();
        ship_github_settings::fetch::fetch_snapshot_blocking(&opts, repo, branch)?
    } else if let Some(path) = &args.settings {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read settings file `{}`; write one with `ship settings export OWNER/REPO`",
                path.display()
            )
        })?;
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}:{}:{}: not a ship settings document: {e}; write one with `ship settings export OWNER/REPO`",
                path.display(),
                e.line(),
                e.column()
            )
        })?
    } else {
        return Ok(None);
    };
    Ok(Some(
        ship_github_settings::EffectiveSettings::from_snapshot(&snapshot),
    ))
}

fn policy(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Schema => {
            ship_actions_runtime::outln!(
                "{}",
                serde_json::to_string_pretty(&ship_policy::schema())?
            );
        }
        PolicyCommand::Show {
            dir,
            policy,
            format,
        } => {
            let resolved = ship_lint::resolve_policy(&dir, policy.as_deref())?;
            match format {
                ShowFormat::Yaml => {
                    if let Some(f) = &resolved.file {
                        ship_actions_runtime::outln!(
                            "# effective policy: built-in default merged with {}",
                            f.display()
                        );
                    } else {
                        ship_actions_runtime::outln!("# effective policy: the built-in default");
                    }
                    ship_actions_runtime::out!("{}", resolved.policy.to_yaml());
                }
                ShowFormat::Json => {
                    ship_actions_runtime::outln!(
                        "{}",
                        serde_json::to_string_pretty(&resolved.policy.policy)?
                    )
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn lint(mut args: LintArgs) -> anyhow::Result<ExitCode> {
    if args.github_settings && args.github.is_none() && args.settings.is_none() {
        let repository = std::env::var("GITHUB_REPOSITORY")
            .ok()
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--github-settings (the action's github-settings input) checks the repository \
                     the workflow runs in, named by GITHUB_REPOSITORY, which is not set here; \
                     name it with --github OWNER/REPO instead"
                )
            })?;
        args.github = Some(repository);
    }
    if let Some(id) = &args.explain {
        let Some(rule) = ship_lint::rule_by_id(id) else {
            anyhow::bail!(
                "unknown rule `{id}`; `ship rules` lists the {} rule ids",
                ship_lint::registry().len()
            );
        };
        let info = rule.info();
        ship_actions_runtime::outln!(
            "# {} ({})\n\n{}\n",
            info.id,
            info.default_severity,
            info.summary
        );
        ship_actions_runtime::outln!("{}", documentation(info));
        return Ok(ExitCode::SUCCESS);
    }
    let resolved = ship_lint::resolve_policy(&args.dir, args.policy.as_deref())?;
    let policy_path = resolved.file.as_ref().and_then(|f| {
        f.strip_prefix(&args.dir)
            .ok()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
    });
    // Read before the settings and the linting: a bad baseline file is a usage error, not
    // something to find out after the work (or after the GitHub API calls).
    let baseline = if args.no_baseline || args.write_baseline.is_some() {
        None
    } else {
        ship_lint::baseline::resolve(&args.dir, args.baseline.as_deref())?
    };
    let settings = load_settings(&args, &resolved.policy.policy.production_branch)?;
    let mut opts = ship_lint::LintOptions::new(args.dir.clone(), resolved.policy);
    opts.workflows = args.workflows.clone();
    opts.policy_path = policy_path;
    opts.policy_file = resolved.file.clone();
    opts.settings = settings;
    let report = ship_lint::lint(&opts)?;
    let scope = ship_lint::baseline::Scope {
        dir: &opts.dir,
        policy: &opts.policy,
        workflows_only: !opts.workflows.is_empty(),
        settings_checked: opts.settings.is_some(),
    };
    if let Some(path) = &args.write_baseline {
        return write_baseline(path, &report.findings, &scope);
    }
    let (findings, baselined) = match &baseline {
        Some(baseline) => {
            let applied = baseline.apply(report.findings, &scope);
            (applied.findings, Some(applied.baselined))
        }
        None => (report.findings, None),
    };
    let mut summary = Summary::new(report.files, &findings);
    summary.baselined = baselined;

    let rule_infos: Vec<_> = ship_lint::registry().iter().map(|r| *r.info()).collect();
    let format = match args.format {
        OutputFormat::Human => Format::Human,
        OutputFormat::Json => Format::Json,
        OutputFormat::Sarif => Format::Sarif,
        OutputFormat::Github => Format::Github,
    };
    let render_opts = |format| RenderOptions {
        format,
        color: format == Format::Human
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none(),
        tool_name: "ship",
        tool_version: env!("CARGO_PKG_VERSION"),
        information_uri: "https://github.com/org/ship",
        rules: &rule_infos,
    };
    {
        let mut out = std::io::BufWriter::new(ship_actions_runtime::stdout());
        render(&mut out, &findings, &summary, &render_opts(format))?;
        out.flush()?;
    }
    if let Some(path) = &args.sarif_file {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write SARIF to `{}`", path.display()))?;
        let mut file = ship_actions_runtime::Redacting::new(std::io::BufWriter::new(file));
        render(&mut file, &findings, &summary, &render_opts(Format::Sarif))?;
        file.flush()
            .with_context(|| format!("cannot write SARIF to `{}`", path.display()))?;
    }
    if format == Format::Github {
        ship_actions_runtime::append_step_summary(&render_step_summary(
            "ship lint",
            &findings,
            &summary,
        ))?;
    }
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Note => Severity::Note,
    };
    let code = if summary.fails(threshold) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // The process ends next: freeing every finding, workflow summary and the compiled policy
    // one allocation at a time is work nobody waits for (milliseconds on one core, after the
    // parallel part, on a 3,500-workflow repository).
    std::mem::forget((findings, report.summaries, opts));
    Ok(code)
}

/// `ship lint --write-baseline FILE`: record the findings, keeping the entries of a previous
/// FILE that this run could not check (settings rules without --github/--settings).
fn write_baseline(
    path: &std::path::Path,
    findings: &[ship_findings::Finding],
    scope: &ship_lint::baseline::Scope<'_>,
) -> anyhow::Result<ExitCode> {
    use ship_lint::baseline::{self, Baseline};
    let shown = path.to_string_lossy().replace('\\', "/");
    let mut written = Baseline::from_findings(findings, scope, &shown);
    // A previous file that cannot be read is being replaced anyway.
    let previous = path
        .is_file()
        .then(|| baseline::resolve(scope.dir, Some(path)).ok().flatten())
        .flatten();
    let kept = previous.map_or(0, |p| written.keep_unjudged(&p, scope));
    written.write(path)?;
    let n = written.findings_accepted();
    let mut note =
        format!(
        "ship lint: wrote {shown} with {n} finding{} ({} entr{}); `ship lint` now fails only on \
         findings not in it",
        if n == 1 { "" } else { "s" },
        written.entries.len(),
        if written.entries.len() == 1 { "y" } else { "ies" },
    );
    if kept > 0 {
        note.push_str(&format!(
            "; kept {kept} finding(s) of settings rules from the previous file, which this run \
             did not check (pass --github or --settings to check them)"
        ));
    }
    ship_actions_runtime::errln!("{note}");
    Ok(ExitCode::SUCCESS)
}

fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    let (from_file, config_path) = ship_init::load_config(&args.dir, args.config.as_deref())?;
    let flags = args.given()?;
    let mut given = from_file.clone().overridden_by(&flags);
    if config_path.is_some() && given != from_file {
        ship_actions_runtime::errln!(
            "note: flags override {} for this run; put them there so `ship init --check` agrees",
            config_path
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string())
        );
    }
    let missing = given.missing();
    if !args.yes && !args.check && !missing.is_empty() {
        if !std::io::stdin().is_terminal() {
            // No one to ask: say so instead of silently writing placeholders a script did
            // not ask for (`--yes` is how a script asks for them).
            let keys: Vec<_> = missing.iter().map(|f| f.key()).collect();
            anyhow::bail!(
                "ship init: {} value(s) are not set ({}) and standard input is not a terminal, \
                 so ship init cannot ask for them; pass --yes to fill them with their defaults \
                 and SHIP_* placeholders, or set them with flags or in {}",
                keys.len(),
                keys.join(", "),
                config_path.as_ref().map_or_else(
                    || args.dir.join(ship_init::CONFIG_FILE).display().to_string(),
                    |p| p.display().to_string()
                )
            );
        }
        let stdin = std::io::stdin();
        given = ship_init::prompt_missing(&given, &mut stdin.lock(), &mut std::io::stderr())?;
    }
    let cfg = ship_init::InitConfig::resolve(&given)?;
    let mut files = ship_init::generate(&cfg)?;
    if args.check {
        let drift = ship_init::check(&args.dir, &files)?;
        for d in &drift {
            ship_actions_runtime::out!("{}", d.diff);
        }
        if drift.is_empty() {
            ship_actions_runtime::errln!("ship init --check: {} files in sync", files.len());
            return Ok(ExitCode::SUCCESS);
        }
        ship_actions_runtime::errln!(
            "ship init --check: {} of {} files drifted from the templates and the configuration; run `ship init --force` or update the configuration",
            drift.len(),
            files.len()
        );
        return Ok(ExitCode::from(1));
    }
    if config_path.is_none() {
        files.push(ship_init::config_file(&cfg));
    }
    let outcomes = ship_init::write(&args.dir, &files, args.force)?;
    let mut skipped = 0;
    for (path, outcome) in &outcomes {
        let what = match outcome {
            ship_init::FileOutcome::Created => "created",
            ship_init::FileOutcome::Unchanged => "unchanged",
            ship_init::FileOutcome::Overwritten => "overwritten",
            ship_init::FileOutcome::Skipped => {
                skipped += 1;
                "skipped (differs; --force to overwrite)"
            }
        };
        ship_actions_runtime::outln!("{what:>9} {}", path.display());
    }
    let placeholders = cfg.placeholders();
    if !placeholders.is_empty() {
        let names: Vec<_> = placeholders
            .iter()
            .filter_map(|f| f.token().map(|t| format!("{t} ({})", f.key())))
            .collect();
        ship_actions_runtime::errln!(
            "placeholders left to fill in (set them in ship.toml and run `ship init --force`): {}",
            names.join(", ")
        );
    }
    if skipped > 0 {
        ship_actions_runtime::errln!(
            "{skipped} file(s) left as they were: they differ from what ship init generates"
        );
    }
    Ok(ExitCode::SUCCESS)
}
