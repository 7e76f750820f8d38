//! Shared plumbing of the `ship-ecs-rollout` and `ship-rollback` binaries: AWS connection
//! arguments, progress printing, outputs and exit codes.

pub mod cancel;

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::{ArgAction, Args, ValueEnum};
use ship_ecs::ecs::short;
use ship_ecs::journal::ServiceState;
use ship_ecs::rollout::human_duration;
use ship_ecs::watch::{Line, Settled, WatchOptions};

#[cfg(test)]
mod tests {
    #[test]
    fn per_service_values() {
        assert_eq!(super::per_service_value(["a", "a"]), "a");
        assert_eq!(super::per_service_value(["a", "b"]), "a,b");
        assert_eq!(super::per_service_value([]), "");
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Lines for a person (`text`, its earlier name, is still accepted).
    #[value(alias = "text")]
    Human,
    Json,
}

/// Arguments both binaries share. Each flag that is also an input of the actions is read from
/// `INPUT_<NAME>` when not given (the `env:` entry of the action's step), as in every ship
/// binary.
#[derive(Debug, Args)]
pub struct Common {
    /// ECS cluster name or ARN.
    #[arg(long, env = "INPUT_CLUSTER", default_value = "")]
    pub cluster: String,
    /// Service name, or several separated by commas (`api,worker`; `run-task` takes one).
    #[arg(long, env = "INPUT_SERVICE", default_value = "")]
    pub service: String,
    /// How long to wait for the deployment to become stable, or for `run-task`'s task to stop
    /// (`15m`, `90s`).
    #[arg(long, env = "INPUT_TIMEOUT", default_value = "15m", value_parser = ship_actions_runtime::parse_duration)]
    pub timeout: Duration,
    /// Wait for the result; `--wait=false` registers and updates, then exits 0 without waiting.
    #[arg(long, env = "INPUT_WAIT", default_value = "true", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = ship_actions_runtime::BoolFlag)]
    pub wait: bool,
    /// Same as `--wait=false`.
    #[arg(long)]
    pub no_wait: bool,
    /// AWS region (default: the standard AWS chain, e.g. AWS_REGION).
    #[arg(long)]
    pub region: Option<String>,
    /// AWS endpoint URL (default: the standard AWS chain, e.g. AWS_ENDPOINT_URL).
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// First pause between DescribeServices polls (grows up to 15s). Also from the environment
    /// (SHIP_ECS_POLL_INTERVAL), so tests running the actions against a local endpoint poll fast.
    #[arg(long, env = "SHIP_ECS_POLL_INTERVAL", default_value = "5s",
          value_parser = ship_actions_runtime::parse_duration, hide = true)]
    pub poll_interval: Duration,
}

impl Common {
    /// An ECS client for the region and endpoint these flags name.
    pub async fn ecs(&self) -> Result<ship_ecs::ecs::Ecs, ship_ecs::Error> {
        ship_ecs::ecs::connect(self.region.clone(), self.endpoint_url.clone()).await
    }

    /// Whether to wait for the result (`--wait`, unless `--no-wait`).
    pub fn waits(&self) -> bool {
        self.wait && !self.no_wait
    }

    pub fn watch_options(&self) -> WatchOptions {
        WatchOptions {
            timeout: self.timeout,
            poll_interval: self.poll_interval,
            max_poll_interval: self
                .poll_interval
                .max(Duration::from_secs(15))
                .min(self.timeout),
        }
    }
}

/// Prints progress to stderr: every line on a runner or a pipe; on a terminal, status lines
/// overwrite each other.
pub fn progress_printer() -> impl FnMut(Line) + Send {
    let tty = std::io::stderr().is_terminal() && !ship_actions_runtime::is_github_actions();
    let mut dangling = false;
    move |line: Line| {
        // Through the secret registry: an API error quoting the request or the endpoint URL
        // shows `***` for the credentials (dropped, hence flushed, after each line).
        let mut err = ship_actions_runtime::stderr();
        match line {
            Line::Status(s) if tty => {
                let _ = write!(err, "\r\x1b[2K{s}");
                dangling = true;
            }
            Line::Status(s) | Line::Event(s) => {
                if dangling {
                    let _ = writeln!(err);
                    dangling = false;
                }
                let _ = writeln!(err, "{s}");
            }
        }
    }
}

/// Check the inputs (`check`, before any API call) and connect; on error, print it and return
/// the exit code.
pub async fn connect_checked(
    common: &Common,
    check: Result<(), ship_ecs::Error>,
) -> Result<ship_ecs::ecs::Ecs, i32> {
    check.map_err(|e| fail(&e))?;
    common.ecs().await.map_err(|e| fail(&e))
}

/// The report on stdout: JSON with `--format json`, else the summary table and the status line.
pub fn print_report<T: serde::Serialize>(
    format: Format,
    report: &T,
    table: &ship_actions_runtime::MarkdownTable,
    status: &str,
) {
    match format {
        Format::Json => match serde_json::to_string_pretty(report) {
            Ok(j) => ship_actions_runtime::outln!("{j}"),
            Err(e) => ship_actions_runtime::errln!("error: cannot print the report: {e}"),
        },
        Format::Human => {
            ship_actions_runtime::out!("{}", table.render());
            ship_actions_runtime::outln!("status: {status}");
        }
    }
}

/// Print an error as one paragraph and return its exit code.
pub fn fail(e: &ship_ecs::Error) -> i32 {
    ship_actions_runtime::errln!("error: {e}");
    if ship_actions_runtime::is_github_actions() {
        ship_actions_runtime::outln!(
            "::error::{}",
            ship_actions_runtime::escape_data(&e.to_string())
        );
    }
    e.exit_code()
}

/// Set step outputs; a failure to write them is reported but not fatal to the deploy result.
pub fn outputs(pairs: &[(&str, String)]) {
    if let Err(e) = ship_actions_runtime::set_outputs(pairs.iter().map(|(k, v)| (*k, v.as_str()))) {
        ship_actions_runtime::errln!("warning: could not write step outputs: {e}");
    }
}

/// One step output for several services: the value when every service has the same one (the
/// usual case, e.g. `api,worker` on one task definition), else the values comma-separated in
/// the order of `service`. The `services` output has them per service.
pub fn per_service_value<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let values: Vec<&str> = values.into_iter().collect();
    match values.first() {
        Some(first) if values.iter().all(|v| v == first) => first.to_string(),
        _ => values.join(","),
    }
}

/// One object of the `services` output: `service`, `task-definition-arn`, the command's own
/// keys (`own`), `status` and `reason`.
pub fn service_output_row(
    service: &str,
    task_definition: &str,
    own: &[(&str, &str)],
    settled: &Settled,
) -> serde_json::Value {
    let mut row = serde_json::json!({
        "service": service,
        "task-definition-arn": task_definition,
        "status": settled.result,
        "reason": settled.reason.clone().unwrap_or_default(),
    });
    for (k, v) in own {
        row[*k] = serde_json::Value::from(*v);
    }
    row
}

/// The `services` output: a JSON array with one object per service, keys as the step outputs.
pub fn services_output(rows: Vec<serde_json::Value>) -> String {
    serde_json::Value::Array(rows).to_string()
}

pub fn summary(markdown: &str) {
    if let Err(e) = ship_actions_runtime::append_step_summary(markdown) {
        ship_actions_runtime::errln!("warning: could not write the step summary: {e}");
    }
}

/// A binary body's result: its exit code; `Err` is an early exit whose error was already
/// printed, so bodies can use `?` (see [`or_fail`], [`connect_checked`]).
pub type Exit = Result<i32, i32>;

/// A ship-ecs call's error as an early exit: printed (see [`fail`]), with its exit code.
pub fn or_fail<T>(r: Result<T, ship_ecs::Error>) -> Result<T, i32> {
    r.map_err(|e| fail(&e))
}

/// `api:7 → api:8` for the services table (`-` for no revision yet, as in a dry run).
pub fn from_to(from: &str, to: &str) -> String {
    let label = |arn: &str| {
        if arn.is_empty() {
            "-".to_string()
        } else {
            short(arn).to_string()
        }
    };
    format!("{} → {}", label(from), label(to))
}

/// One row of the services table of the step summary: service, [`from_to`], a detail (image or
/// why), duration, result.
pub fn service_row(service: &str, from_to: String, detail: &str, settled: &Settled) -> Vec<String> {
    vec![
        service.to_string(),
        from_to,
        detail.to_string(),
        human_duration(settled.duration_secs),
        settled.describe(),
    ]
}

/// Run a binary's async body and turn its exit code into the process's.
pub fn run_to_exit(body: impl std::future::Future<Output = Exit>) -> std::process::ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            ship_actions_runtime::errln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let code = rt.block_on(body).unwrap_or_else(|early| early);
    std::process::ExitCode::from(code as u8)
}

/// A service of a cancelled run, as the JSON report lists it.
#[derive(Debug, serde::Serialize)]
pub struct CancelledService {
    pub service: String,
    /// The revision it ran when the run started.
    pub from: String,
    /// The revision it was being moved to (empty: none chosen yet).
    pub to: String,
    pub deployment_id: Option<String>,
    /// What state it is left in, one sentence.
    pub state: String,
}

/// The report of a cancelled run (`--format json`).
#[derive(Debug, serde::Serialize)]
pub struct CancelledReport {
    /// Always `cancelled`.
    pub status: &'static str,
    /// `SIGINT` or `SIGTERM`.
    pub signal: &'static str,
    pub services: Vec<CancelledService>,
    pub notes: Vec<String>,
}

impl CancelledReport {
    /// The report for `states`, each service's state as [`ServiceState::describe`] says it,
    /// followed by `more(state)` when that has something to add (a rollback under way).
    pub fn new(
        signal: cancel::Signal,
        states: &[ServiceState],
        more: impl Fn(&ServiceState) -> Option<String>,
        notes: Vec<String>,
    ) -> Self {
        CancelledReport {
            status: "cancelled",
            signal: signal.name(),
            services: states
                .iter()
                .map(|s| CancelledService {
                    service: s.service.clone(),
                    from: s.from.clone(),
                    to: s.to.clone(),
                    deployment_id: s.deployment_id.clone(),
                    state: match more(s) {
                        Some(m) => format!("{}; {m}", s.describe()),
                        None => s.describe(),
                    },
                })
                .collect(),
            notes,
        }
    }

    /// Whether anything was changed before the signal.
    pub fn changed_anything(&self, states: &[ServiceState]) -> bool {
        states
            .iter()
            .any(|s| s.stage != ship_ecs::journal::Stage::Unchanged)
    }

    /// The services table of the step summary and the text report.
    pub fn table(&self) -> ship_actions_runtime::MarkdownTable {
        let mut table = ship_actions_runtime::MarkdownTable::new(&[
            "service",
            "from → to",
            "deployment",
            "state",
        ]);
        for s in &self.services {
            table.push_row(vec![
                s.service.clone(),
                from_to(&s.from, &s.to),
                s.deployment_id.clone().unwrap_or_default(),
                s.state.clone(),
            ]);
        }
        table
    }

    /// The `services` output: one object per service, with `status` `cancelled` and the state
    /// as `reason`; `own` adds the command's keys (from the service's state).
    pub fn services_output(
        &self,
        own: impl Fn(&CancelledService) -> Vec<(&'static str, String)>,
    ) -> String {
        let rows = self
            .services
            .iter()
            .map(|s| {
                let mut row = serde_json::json!({
                    "service": s.service,
                    "task-definition-arn": s.to,
                    "status": "cancelled",
                    "reason": s.state,
                });
                for (k, v) in own(s) {
                    row[k] = serde_json::Value::from(v);
                }
                row
            })
            .collect();
        services_output(rows)
    }

    /// Prints the report: the paragraph on stderr (and as an `::error::` annotation on a
    /// runner), the step summary, and stdout (`--format`). `what`: `rollout`, `rollback`.
    pub fn print(&self, what: &str, format: Format, fix: &str) {
        let mut text = format!(
            "error: the ECS {what} was cancelled ({}) and stopped waiting",
            self.signal
        );
        if self.services.is_empty() {
            text.push_str(" before it described any service: nothing was changed");
        } else {
            text.push_str(". State left:");
            for s in &self.services {
                text.push_str(&format!("\n  {}: {}", s.service, s.state));
            }
        }
        for n in &self.notes {
            text.push_str(&format!("\n{n}"));
        }
        if !fix.is_empty() {
            text.push_str(&format!("\n{fix}"));
        }
        ship_actions_runtime::errln!("{text}");
        if ship_actions_runtime::is_github_actions() {
            // The runner reads workflow commands on either stream; stdout stays pure JSON.
            let annotation = format!("::error::{}", ship_actions_runtime::escape_data(&text));
            match format {
                Format::Json => ship_actions_runtime::errln!("{annotation}"),
                Format::Human => ship_actions_runtime::outln!("{annotation}"),
            }
        }
        let table = self.table();
        let mut md = format!(
            "### ECS {what}: cancelled\n\nCancelled by {} before it finished.\n\n{}",
            self.signal,
            table.render()
        );
        for n in &self.notes {
            md.push_str(&format!("\n- {n}"));
        }
        if !fix.is_empty() {
            md.push_str(&format!("\n\n{fix}\n"));
        }
        summary(&md);
        print_report(format, self, &table, "cancelled");
    }
}
