//! ship-ecs-rollout: render, register and roll out a new task definition revision to one or
//! several ECS services, and report success only when the services really run it.

use std::process::ExitCode;
use std::sync::OnceLock;

use clap::{ArgAction, Args, Parser};
use ship_actions_runtime::MarkdownTable;
use ship_ecs::ecs::{short, Ecs};
use ship_ecs::journal::Journal;
use ship_ecs::rollback::{rollback, RollbackPlan};
use ship_ecs::rollout::{
    human_duration, rollout, split_list, tag_rollout, RolloutPlan, RolloutReport,
};
use ship_ecs::runtask::{parse_command, run_task, stop_task, RunTaskPlan};
use ship_ecs::tags;
use ship_ecs_cli::cancel::{run_cancellable, within_budget, Signal, CANCEL_BUDGET};
use ship_ecs_cli::{
    connect_checked, from_to, or_fail, outputs, per_service_value, print_report, progress_printer,
    run_to_exit, service_output_row, service_row, services_output, summary, CancelledReport,
    Common, Exit, Format,
};

#[derive(Debug, Parser)]
#[command(
    name = "ship-ecs-rollout",
    version,
    about,
    after_help = "Run a one-off task in the new image (migrations): ship-ecs-rollout run-task --help"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// Full image reference to deploy (REPOSITORY:TAG or REPOSITORY@DIGEST).
    #[arg(long, env = "INPUT_IMAGE", default_value = "")]
    image: String,
    /// A task definition JSON file (RegisterTaskDefinition shape or DescribeTaskDefinition
    /// output) to register instead of rendering from the service's current revision; `--image`,
    /// when given, still replaces the image in it.
    #[arg(long, env = "INPUT_TASK_DEFINITION")]
    task_definition: Option<std::path::PathBuf>,
    /// Container(s) that get the image, comma-separated (default: those whose image repository
    /// matches).
    #[arg(long, env = "INPUT_CONTAINER", default_value = "")]
    container: String,
    #[command(flatten)]
    release: Release,
    /// Workflow run URL recorded in the `ship:run-url` tag.
    #[arg(long)]
    run_url: Option<String>,
    /// Database schema version recorded in the `ship:schema-version` tag.
    #[arg(long, env = "INPUT_SCHEMA_VERSION")]
    schema_version: Option<String>,
    /// Deploy even while another deployment of the service is in progress.
    #[arg(long, env = "INPUT_FORCE", default_value = "false", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = ship_actions_runtime::BoolFlag)]
    force: bool,
    /// Start new tasks even if the task definition did not change.
    #[arg(long, env = "INPUT_FORCE_NEW_DEPLOYMENT", default_value = "false", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = ship_actions_runtime::BoolFlag)]
    force_new_deployment: bool,
    /// Set the service's desired count.
    #[arg(long, env = "INPUT_DESIRED_COUNT")]
    desired_count: Option<i32>,
    /// Print the diff between the current and the new task definition, change nothing.
    #[arg(long, env = "INPUT_DRY_RUN", default_value = "false", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = ship_actions_runtime::BoolFlag)]
    dry_run: bool,
    /// When the rollout fails or times out, roll the failed services back to the revision they
    /// ran before.
    #[arg(long, env = "INPUT_ROLLBACK_ON_FAILURE", default_value = "false", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = ship_actions_runtime::BoolFlag)]
    rollback_on_failure: bool,
}

/// The image checks and release tags of a registered revision, shared by the rollout and
/// `run-task` (which registers the revision the rollout then reuses).
#[derive(Debug, Args)]
struct Release {
    /// Accept `latest` or untagged images.
    #[arg(long, env = "INPUT_ALLOW_MUTABLE_TAG", default_value = "false", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = ship_actions_runtime::BoolFlag)]
    allow_mutable_tag: bool,
    /// Version recorded in the `ship:version` tag of a registered revision (default: the image
    /// tag).
    #[arg(long = "release-version")]
    release_version: Option<String>,
    /// Commit recorded in the `ship:git-sha` tag.
    #[arg(long, env = "GITHUB_SHA")]
    git_sha: Option<String>,
}

/// `ship-ecs-rollout run-task`: run a command in the new image as a one-off task.
#[derive(Debug, Parser)]
#[command(
    name = "ship-ecs-rollout run-task",
    bin_name = "ship-ecs-rollout run-task",
    version,
    about = "Run a command in the new image as a one-off ECS task in the service's network, stream its logs, and fail with the container's exit code."
)]
struct RunTaskCli {
    #[command(flatten)]
    common: Common,
    /// Full image reference to run (rendered into the service's task definition like a rollout).
    #[arg(long, env = "INPUT_IMAGE", default_value = "")]
    image: String,
    /// The command: a command line (split like a shell, no shell runs it) or a JSON array.
    #[arg(long, env = "INPUT_COMMAND", default_value = "")]
    command: String,
    /// The container that runs the command (default: the one that gets the image).
    #[arg(long, env = "INPUT_CONTAINER")]
    container: Option<String>,
    /// A task definition JSON file to register and run instead of rendering the service's.
    #[arg(long, env = "INPUT_TASK_DEFINITION")]
    task_definition: Option<std::path::PathBuf>,
    /// An existing task definition revision (family:N or ARN) to run as it is.
    #[arg(long)]
    task_definition_arn: Option<String>,
    #[command(flatten)]
    release: Release,
}

fn main() -> ExitCode {
    // `run-task` is a subcommand; the rollout keeps its flat flags (`ship-ecs-rollout --cluster ..`).
    if std::env::args_os().nth(1).is_some_and(|a| a == "run-task") {
        let args = std::env::args_os()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, a)| a);
        return run_to_exit(run_task_main(RunTaskCli::parse_from(args)));
    }
    run_to_exit(run(Cli::parse()))
}

async fn run_task_main(cli: RunTaskCli) -> Exit {
    let journal = Journal::default();
    let ecs = OnceLock::new();
    run_cancellable(run_task_body(&cli, &journal, &ecs), |signal| {
        run_task_cancelled(&cli, signal, &journal, ecs.get())
    })
    .await
}

/// A cancelled `run-task`: stop the one-off task (a cancelled step should not leave a
/// migration running unwatched), and report it.
async fn run_task_cancelled(
    cli: &RunTaskCli,
    signal: Signal,
    journal: &Journal,
    ecs: Option<&Ecs>,
) {
    let started = tokio::time::Instant::now();
    let task = journal.task();
    let state = match &task {
        None => "no task was started".to_string(),
        Some(t) => format!(
            "task {} ({}, container {}) was running{}; asking ECS to stop it (StopTask: \
             SIGTERM to its containers, then SIGKILL after their stop timeout)",
            t.task_arn.rsplit('/').next().unwrap_or(&t.task_arn),
            short(&t.task_definition),
            t.container,
            if t.last_status.is_empty() {
                String::new()
            } else {
                format!(" (last seen {})", t.last_status)
            }
        ),
    };
    let text = format!(
        "error: the one-off ECS task run was cancelled ({}) and stopped waiting: {state}",
        signal.name()
    );
    ship_actions_runtime::errln!("{text}");
    if ship_actions_runtime::is_github_actions() {
        ship_actions_runtime::errln!("::error::{}", ship_actions_runtime::escape_data(&text));
    }
    let task = task.unwrap_or_default();
    outputs(&[
        ("status", "cancelled".into()),
        ("task-arn", task.task_arn.clone()),
        ("task-definition-arn", task.task_definition.clone()),
        ("exit-code", String::new()),
    ]);
    summary(&format!(
        "### ECS one-off task: cancelled\n\nCancelled by {}: {state}.\n",
        signal.name()
    ));
    if cli.common.format == Format::Json {
        let report = serde_json::json!({
            "status": "cancelled",
            "signal": signal.name(),
            "task_arn": task.task_arn,
            "task_definition_arn": task.task_definition,
            "container": task.container,
            "state": state,
        });
        ship_actions_runtime::outln!("{report:#}");
    } else {
        ship_actions_runtime::outln!("status: cancelled");
    }
    if let (Some(ecs), false) = (ecs, task.task_arn.is_empty()) {
        let reason = format!("ship run-task: cancelled ({})", signal.name());
        let stop = stop_task(ecs, &cli.common.cluster, &task.task_arn, &reason);
        match within_budget(started, stop).await {
            Some(Ok(())) => ship_actions_runtime::errln!("StopTask sent for {}", task.task_arn),
            Some(Err(e)) => ship_actions_runtime::errln!(
                "warning: could not stop task {}: {e}; stop it with `aws ecs stop-task --cluster {} --task {}`",
                task.task_arn, cli.common.cluster, task.task_arn
            ),
            None => ship_actions_runtime::errln!(
                "warning: StopTask for {} got no answer within {}s; check the task with `aws ecs describe-tasks --cluster {} --tasks {}`",
                task.task_arn,
                CANCEL_BUDGET.as_secs(),
                cli.common.cluster,
                task.task_arn
            ),
        }
    }
}

async fn run_task_body(cli: &RunTaskCli, journal: &Journal, slot: &OnceLock<Ecs>) -> Exit {
    let command = or_fail(parse_command(&cli.command))?;
    let plan = RunTaskPlan {
        cluster: cli.common.cluster.clone(),
        service: cli.common.service.trim().to_string(),
        image: cli.image.clone(),
        task_definition: cli.task_definition.clone(),
        task_definition_arn: cli.task_definition_arn.clone(),
        container: cli.container.clone(),
        command,
        allow_mutable_tag: cli.release.allow_mutable_tag,
        version: cli.release.release_version.clone(),
        git_sha: cli.release.git_sha.clone(),
        run_url: run_url_from_env(),
        wait: cli.common.waits(),
        watch: cli.common.watch_options(),
        journal: journal.clone(),
    };
    let ecs = connect_checked(&cli.common, plan.validate()).await?;
    // The cancellation report needs the client to stop the task.
    let ecs = slot.get_or_init(|| ecs);
    let report = or_fail(run_task(ecs, &plan, &mut progress_printer()).await)?;
    let exit_code = report.exit_code.map(|c| c.to_string()).unwrap_or_default();
    outputs(&[
        ("status", report.status.clone()),
        ("task-arn", report.task_arn.clone()),
        ("task-definition-arn", report.task_definition_arn.clone()),
        ("exit-code", exit_code.clone()),
    ]);
    let mut table = MarkdownTable::new(&[
        "task",
        "task definition",
        "container",
        "exit code",
        "duration",
        "result",
    ]);
    table.push_row(vec![
        report.task_arn.rsplit('/').next().unwrap_or("").to_string(),
        short(&report.task_definition_arn).to_string(),
        report.container.clone(),
        exit_code,
        human_duration(report.duration_secs),
        match &report.reason {
            Some(r) => format!("{}: {r}", report.status),
            None => report.status.clone(),
        },
    ]);
    summary(&format!(
        "### ECS one-off task: {}\n\n{}",
        report.status,
        table.render()
    ));
    if cli.common.format == Format::Human {
        if let Some(r) = &report.reason {
            ship_actions_runtime::errln!("error: {r}");
        }
    }
    print_report(cli.common.format, &report, &table, &report.status);
    if matches!(report.status.as_str(), "succeeded" | "started") {
        return Ok(0);
    }
    if ship_actions_runtime::is_github_actions() {
        if let Some(r) = &report.reason {
            ship_actions_runtime::outln!("::error::{}", ship_actions_runtime::escape_data(r));
        }
    }
    Ok(1)
}

async fn run(cli: Cli) -> Exit {
    let journal = Journal::default();
    let rollback_journal = Journal::default();
    let ecs = OnceLock::new();
    run_cancellable(deploy(&cli, &journal, &rollback_journal, &ecs), |signal| {
        cancelled(&cli, signal, &journal, &rollback_journal, ecs.get())
    })
    .await
}

/// A cancelled rollout: say where every service is left, write the outputs and the summary,
/// and tag the revisions whose rollout had not settled `ship:rollout=CANCELLED` (rollback's
/// fallback then never takes them for known good).
async fn cancelled(
    cli: &Cli,
    signal: Signal,
    journal: &Journal,
    rollback_journal: &Journal,
    ecs: Option<&Ecs>,
) {
    let started = tokio::time::Instant::now();
    let states = journal.services();
    let rolling_back = rollback_journal.services();
    let mut to_tag: Vec<String> = Vec::new();
    for s in states.iter().filter(|s| s.interrupted()) {
        if !to_tag.contains(&s.to) {
            to_tag.push(s.to.clone());
        }
    }
    let mut notes = Vec::new();
    if !to_tag.is_empty() {
        // Said before the tags are written (the outputs and summary come first, in case
        // SIGKILL follows); each tag's outcome is added once known.
        notes.push(format!(
            "Tagging {} {}=CANCELLED.",
            to_tag
                .iter()
                .map(|t| short(t))
                .collect::<Vec<_>>()
                .join(", "),
            tags::ROLLOUT
        ));
    }
    let report = CancelledReport::new(
        signal,
        &states,
        |s| {
            rolling_back
                .iter()
                .find(|r| r.service == s.service)
                .map(|r| format!("its rollback: {}", r.describe()))
        },
        notes,
    );
    let fix = if report.changed_anything(&states) {
        "Check the services in the ECS console; re-run the rollout, or return them to the revision they ran with ship-rollback."
    } else {
        "Nothing was changed; re-run the rollout."
    };
    outputs(&[
        (
            "task-definition-arn",
            per_service_value(states.iter().map(|s| s.to.as_str())),
        ),
        (
            "previous-task-definition-arn",
            per_service_value(states.iter().map(|s| s.from.as_str())),
        ),
        (
            "deployment-id",
            per_service_value(
                states
                    .iter()
                    .map(|s| s.deployment_id.as_deref().unwrap_or("")),
            ),
        ),
        ("status", "cancelled".into()),
        (
            "services",
            report.services_output(|s| {
                vec![
                    ("previous-task-definition-arn", s.from.clone()),
                    ("deployment-id", s.deployment_id.clone().unwrap_or_default()),
                ]
            }),
        ),
    ]);
    report.print("rollout", cli.common.format, fix);
    let Some(ecs) = ecs else { return };
    for arn in &to_tag {
        let failure = match within_budget(started, tag_rollout(ecs, arn, "CANCELLED")).await {
            Some(Ok(())) => {
                let done = format!("{} tagged {}=CANCELLED.", short(arn), tags::ROLLOUT);
                ship_actions_runtime::errln!("{done}");
                summary(&format!("- {done}\n"));
                continue;
            }
            Some(Err(e)) => e.to_string(),
            None => format!("no answer within {}s", CANCEL_BUDGET.as_secs()),
        };
        let warning = format!(
            "could not tag {} {}=CANCELLED: {failure}",
            short(arn),
            tags::ROLLOUT
        );
        ship_actions_runtime::errln!("warning: {warning}");
        summary(&format!("- warning: {warning}\n"));
    }
}

async fn deploy(
    cli: &Cli,
    journal: &Journal,
    rollback_journal: &Journal,
    slot: &OnceLock<Ecs>,
) -> Exit {
    let plan = RolloutPlan {
        cluster: cli.common.cluster.clone(),
        services: split_list(&cli.common.service),
        image: cli.image.clone(),
        task_definition: cli.task_definition.clone(),
        containers: split_list(&cli.container),
        allow_mutable_tag: cli.release.allow_mutable_tag,
        version: cli.release.release_version.clone(),
        git_sha: cli.release.git_sha.clone(),
        run_url: cli.run_url.clone().or_else(run_url_from_env),
        schema_version: cli.schema_version.clone(),
        force: cli.force,
        force_new_deployment: cli.force_new_deployment,
        desired_count: cli.desired_count,
        wait: cli.common.waits(),
        dry_run: cli.dry_run,
        watch: cli.common.watch_options(),
        journal: journal.clone(),
    };
    let ecs = connect_checked(&cli.common, plan.validate()).await?;
    // The cancellation report needs the client to tag.
    let ecs = slot.get_or_init(|| ecs);
    let mut progress = progress_printer();
    let report = or_fail(rollout(ecs, &plan, &mut progress).await)?;
    report_out(cli, &report);
    if report.success() {
        return Ok(0);
    }
    if cli.rollback_on_failure {
        let failed: Vec<_> = report
            .services
            .iter()
            .filter(|s| s.settled.result != "succeeded")
            .collect();
        ship_actions_runtime::errln!(
            "rolling back {} to the revision(s) they ran before",
            failed
                .iter()
                .map(|s| s.service.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        for s in failed {
            let plan = RollbackPlan {
                cluster: plan.cluster.clone(),
                services: vec![s.service.clone()],
                to_revision: ship_ecs::ecs::revision_of(&s.from),
                wait: true,
                watch: plan.watch.clone(),
                history_limit: 50,
                journal: rollback_journal.clone(),
                ..Default::default()
            };
            match rollback(ecs, &plan, &mut progress).await {
                Ok(r) => ship_actions_runtime::errln!(
                    "rollback of {}: {} ({} -> {})",
                    s.service,
                    r.status,
                    short(&s.to),
                    short(&s.from)
                ),
                Err(e) => ship_actions_runtime::errln!("rollback of {} failed: {e}", s.service),
            }
        }
    }
    Ok(1)
}

fn run_url_from_env() -> Option<String> {
    let server = std::env::var("GITHUB_SERVER_URL").ok()?;
    let repo = std::env::var("GITHUB_REPOSITORY").ok()?;
    let id = std::env::var("GITHUB_RUN_ID").ok()?;
    Some(format!("{server}/{repo}/actions/runs/{id}"))
}

fn report_out(cli: &Cli, report: &RolloutReport) {
    for d in &report.diffs {
        if cli.common.format == Format::Human {
            ship_actions_runtime::outln!("{d}");
        }
    }
    let svc = &report.services;
    let rows = svc
        .iter()
        .map(|s| {
            service_output_row(
                &s.service,
                &s.to,
                &[
                    ("previous-task-definition-arn", &s.from),
                    ("deployment-id", s.deployment_id.as_deref().unwrap_or("")),
                    ("reused", if s.reused { "true" } else { "false" }),
                ],
                &s.settled,
            )
        })
        .collect();
    outputs(&[
        (
            "task-definition-arn",
            per_service_value(svc.iter().map(|s| s.to.as_str())),
        ),
        (
            "previous-task-definition-arn",
            per_service_value(svc.iter().map(|s| s.from.as_str())),
        ),
        (
            "deployment-id",
            per_service_value(svc.iter().map(|s| s.deployment_id.as_deref().unwrap_or(""))),
        ),
        ("status", report.status.clone()),
        ("services", services_output(rows)),
    ]);
    let mut table = MarkdownTable::new(&["service", "from → to", "image", "duration", "result"]);
    for s in &report.services {
        let mut revisions = from_to(&s.from, &s.to);
        if s.reused {
            revisions.push_str(" (reused)");
        }
        table.push_row(service_row(&s.service, revisions, &s.image, &s.settled));
    }
    let mut md = format!("### ECS rollout: {}\n\n{}", report.status, table.render());
    for s in &report.services {
        if !s.settled.diagnostics.is_empty() {
            md.push_str(&format!(
                "\n**{}**: why\n\n```\n{}\n```\n",
                s.service,
                s.settled.diagnostics.join("\n")
            ));
        }
    }
    summary(&md);
    if cli.common.format == Format::Human {
        for s in &report.services {
            if !s.settled.diagnostics.is_empty() {
                ship_actions_runtime::errln!("why {} did not succeed:", s.service);
                for d in &s.settled.diagnostics {
                    ship_actions_runtime::errln!("  {d}");
                }
            }
        }
    }
    print_report(cli.common.format, report, &table, &report.status);
}
