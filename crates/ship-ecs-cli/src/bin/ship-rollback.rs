//! ship-rollback: return ECS services to the last known good task definition revision (or a
//! given version or revision) and wait until they really run it.

use std::process::ExitCode;

use clap::{ArgAction, Parser};
use ship_actions_runtime::MarkdownTable;
use ship_ecs::journal::Journal;
use ship_ecs::rollback::{rollback, RollbackPlan};
use ship_ecs::rollout::split_list;
use ship_ecs_cli::cancel::{run_cancellable, Signal};
use ship_ecs_cli::{
    connect_checked, from_to, or_fail, outputs, per_service_value, print_report, progress_printer,
    run_to_exit, service_output_row, service_row, services_output, summary, CancelledReport,
    Common, Exit, Format,
};

#[derive(Debug, Parser)]
#[command(name = "ship-rollback", version, about)]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// Roll back to the newest revision whose image tag is this version (vX.Y.Z); when none ran
    /// it, a new revision of the current one with that image tag (checked in ECR).
    #[arg(long, env = "INPUT_TO_VERSION")]
    to_version: Option<String>,
    /// With --to-version for a version no revision ran, whose image is not in ECR: register a
    /// revision with that tag without checking it exists.
    #[arg(long, env = "INPUT_ALLOW_UNVERIFIED_IMAGE", default_value = "false", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = ship_actions_runtime::BoolFlag)]
    allow_unverified_image: bool,
    /// Roll back to this revision number of the service's task definition family.
    #[arg(long, env = "INPUT_TO_REVISION")]
    to_revision: Option<i32>,
    /// Deregister the revision rolled back from once the rollback succeeded.
    #[arg(long, env = "INPUT_DEREGISTER_FAILED", default_value = "false", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = ship_actions_runtime::BoolFlag)]
    deregister_failed: bool,
    /// The database's current schema version (the run-migrations output).
    #[arg(long, env = "INPUT_DATABASE_SCHEMA_VERSION")]
    database_schema_version: Option<String>,
    /// Applied migration versions, comma-separated, to name the ones the target has not seen.
    #[arg(long, env = "INPUT_APPLIED_MIGRATIONS", default_value = "")]
    applied_migrations: String,
    /// Roll back even when the target predates the database schema.
    #[arg(long, env = "INPUT_ALLOW_SCHEMA_AHEAD", default_value = "false", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = ship_actions_runtime::BoolFlag)]
    allow_schema_ahead: bool,
}

fn main() -> ExitCode {
    run_to_exit(run(Cli::parse()))
}

async fn run(cli: Cli) -> Exit {
    let journal = Journal::default();
    run_cancellable(rollback_body(&cli, &journal), |signal| {
        cancelled(&cli, signal, &journal)
    })
    .await
}

/// A cancelled rollback: say where every service is left, write the outputs and the summary.
/// No tag is written: a rollback's targets are known-good revisions whose `ship:rollout` tag
/// records the rollout that deployed them, which a cancelled rollback does not change (a
/// rollback never tags, whatever its outcome).
async fn cancelled(cli: &Cli, signal: Signal, journal: &Journal) {
    let states = journal.services();
    let report = CancelledReport::new(signal, &states, |_| None, Vec::new());
    let fix = if report.changed_anything(&states) {
        "Check the services in the ECS console, then re-run the rollback."
    } else {
        "Nothing was changed; re-run the rollback."
    };
    let to = per_service_value(states.iter().map(|s| s.to.as_str()));
    outputs(&[
        ("task-definition-arn", to.clone()),
        (
            "rolled-back-from",
            per_service_value(states.iter().map(|s| s.from.as_str())),
        ),
        ("rolled-back-to", to),
        ("status", "cancelled".into()),
        (
            "services",
            report.services_output(|s| {
                vec![
                    ("rolled-back-from", s.from.clone()),
                    ("rolled-back-to", s.to.clone()),
                ]
            }),
        ),
    ]);
    report.print("rollback", cli.common.format, fix);
}

async fn rollback_body(cli: &Cli, journal: &Journal) -> Exit {
    let plan = RollbackPlan {
        cluster: cli.common.cluster.clone(),
        services: split_list(&cli.common.service),
        to_version: cli.to_version.clone(),
        to_revision: cli.to_revision,
        deregister_failed: cli.deregister_failed,
        database_schema_version: cli.database_schema_version.clone(),
        applied_migrations: split_list(&cli.applied_migrations),
        allow_schema_ahead: cli.allow_schema_ahead,
        schema_from: None,
        allow_unverified_image: cli.allow_unverified_image,
        wait: cli.common.waits(),
        watch: cli.common.watch_options(),
        history_limit: 100,
        journal: journal.clone(),
    };
    let ecs = connect_checked(&cli.common, plan.spec().map(|_| ())).await?;
    let report = or_fail(rollback(&ecs, &plan, &mut progress_printer()).await)?;
    let svc = &report.services;
    let rows = svc
        .iter()
        .map(|s| {
            service_output_row(
                &s.service,
                &s.rolled_back_to,
                &[
                    ("rolled-back-from", &s.rolled_back_from),
                    ("rolled-back-to", &s.rolled_back_to),
                ],
                &s.settled,
            )
        })
        .collect();
    let to = per_service_value(svc.iter().map(|s| s.rolled_back_to.as_str()));
    outputs(&[
        ("task-definition-arn", to.clone()),
        (
            "rolled-back-from",
            per_service_value(svc.iter().map(|s| s.rolled_back_from.as_str())),
        ),
        ("rolled-back-to", to),
        ("status", report.status.clone()),
        ("services", services_output(rows)),
    ]);
    let mut table = MarkdownTable::new(&["service", "from → to", "why", "duration", "result"]);
    for s in &report.services {
        table.push_row(service_row(
            &s.service,
            from_to(&s.rolled_back_from, &s.rolled_back_to),
            &s.why,
            &s.settled,
        ));
    }
    let mut md = format!("### ECS rollback: {}\n\n{}", report.status, table.render());
    for n in &report.notes {
        md.push_str(&format!("\n- {n}"));
    }
    summary(&md);
    for n in &report.notes {
        ship_actions_runtime::errln!("note: {n}");
    }
    if cli.common.format == Format::Human {
        for s in &report.services {
            for d in &s.settled.diagnostics {
                ship_actions_runtime::errln!("  {d}");
            }
        }
    }
    print_report(cli.common.format, &report, &table, &report.status);
    Ok(
        if matches!(report.status.as_str(), "succeeded" | "started") {
            0
        } else {
            1
        },
    )
}
