//! `run-task`: run a command in the new image as a one-off ECS task in the service's network
//! (database migrations where the CI runner cannot reach the database), stream its CloudWatch
//! log lines, and fail with the container's exit code and reason.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_config::Region;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata as _;
use aws_sdk_ecs::types::{
    ContainerDefinition, ContainerOverride, Task, TaskDefinition, TaskOverride,
};
use serde::Serialize;

use crate::ecs::{short, Ecs};
use crate::image::ImageRef;
use crate::render::ship_tags;
use crate::rollout::render_for;
use crate::watch::{Line, Progress, WatchOptions};
use crate::{tags, Error, Result};

#[derive(Debug, Clone, Default)]
pub struct RunTaskPlan {
    pub cluster: String,
    /// The service whose task definition, network configuration and launch type are used.
    pub service: String,
    /// The image to run (rendered into the service's task definition like a rollout). Optional
    /// with `task_definition` or `task_definition_arn`.
    pub image: String,
    pub task_definition: Option<PathBuf>,
    /// An existing revision (`family:12` or ARN) to run as it is.
    pub task_definition_arn: Option<String>,
    /// The container that runs the command (default: the one that gets the image, else the only
    /// essential one).
    pub container: Option<String>,
    /// The command, as argv (see [`parse_command`]).
    pub command: Vec<String>,
    pub allow_mutable_tag: bool,
    pub version: Option<String>,
    pub git_sha: Option<String>,
    pub run_url: Option<String>,
    /// false: start the task and return `started` without waiting for it.
    pub wait: bool,
    pub watch: WatchOptions,
    /// Where the task is recorded once started, for a cancelled run to stop and report (keep a
    /// clone).
    pub journal: crate::journal::Journal,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunTaskReport {
    /// `succeeded`, `failed`, `timed-out`, or `started` without waiting.
    pub status: String,
    pub task_arn: String,
    pub task_definition_arn: String,
    pub container: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub duration_secs: u64,
}

/// The command as argv: a JSON array (`["bin/migrate", "up"]`) as it is, else split like a
/// shell would split words (quotes, no expansion). ECS runs argv without a shell, which distroless
/// images do not have; write `["sh", "-c", "..."]` for shell syntax.
pub fn parse_command(s: &str) -> Result<Vec<String>> {
    let s = s.trim();
    let argv = if s.starts_with('[') {
        serde_json::from_str::<Vec<String>>(s).map_err(|e| {
            Error::Input(format!(
                "`command` looks like a JSON array but is not a list of strings ({e}): write \
                 [\"bin/migrate\", \"up\"] or a plain command line"
            ))
        })?
    } else {
        shlex::split(s).ok_or_else(|| {
            Error::Input(format!(
                "`command` {s:?} has an unclosed quote or a trailing backslash"
            ))
        })?
    };
    if argv.is_empty() {
        return Err(Error::Input(
            "`command` is required: the command to run in the task, e.g. `bin/migrate up` or \
             [\"bin/migrate\", \"up\"]"
                .into(),
        ));
    }
    Ok(argv)
}

impl RunTaskPlan {
    pub fn validate(&self) -> Result<()> {
        if self.cluster.trim().is_empty() {
            return Err(Error::Input(
                "`cluster` is required: pass the ECS cluster name or ARN (--cluster)".into(),
            ));
        }
        if self.service.trim().is_empty() || self.service.contains(',') {
            return Err(Error::Input(
                "`service` is required and must name one service: run-task uses its task \
                 definition, network configuration and launch type (--service api)"
                    .into(),
            ));
        }
        if self.command.is_empty() {
            return Err(Error::Input("`command` is required".into()));
        }
        let given = self.task_definition.is_some() || self.task_definition_arn.is_some();
        if self.task_definition.is_some() && self.task_definition_arn.is_some() {
            return Err(Error::Input(
                "pass either `task-definition` (a file) or `task-definition-arn`, not both".into(),
            ));
        }
        if !given || !self.image.trim().is_empty() {
            let img = ImageRef::parse(&self.image)?;
            if !self.allow_mutable_tag {
                img.check_immutable(&self.image)?;
            }
        }
        if let Some(p) = &self.task_definition {
            crate::taskdef_file::load(p)?;
        }
        Ok(())
    }
}

/// Which container runs the command.
fn pick_container(
    td: &TaskDefinition,
    wanted: Option<&str>,
    changed: &[String],
) -> Result<ContainerDefinition> {
    let defs = td.container_definitions.as_deref().unwrap_or_default();
    let names: Vec<&str> = defs.iter().filter_map(|c| c.name.as_deref()).collect();
    let found = |n: &str| defs.iter().find(|c| c.name.as_deref() == Some(n)).cloned();
    if let Some(w) = wanted.filter(|w| !w.is_empty()) {
        return found(w).ok_or_else(|| {
            Error::Input(format!(
                "`container` {w:?} is not in the task definition (containers: {})",
                names.join(", ")
            ))
        });
    }
    if let [one] = changed {
        if let Some(c) = found(one) {
            return Ok(c);
        }
    }
    let essential: Vec<&ContainerDefinition> =
        defs.iter().filter(|c| c.essential != Some(false)).collect();
    match essential.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(Error::Input(format!(
            "cannot tell which container runs the command (containers: {}): pass `container`",
            names.join(", ")
        ))),
    }
}

/// Where the awslogs driver writes a task's container log: (region, group, stream).
fn log_target(c: &ContainerDefinition, task_arn: &str) -> Option<(Option<String>, String, String)> {
    let lc = c.log_configuration.as_ref()?;
    if lc.log_driver.as_str() != "awslogs" {
        return None;
    }
    let opts = lc.options.as_ref()?;
    let group = opts.get("awslogs-group")?.clone();
    // Without a stream prefix the stream name is the container id, unknown in advance.
    let prefix = opts.get("awslogs-stream-prefix")?;
    let task_id = task_arn.rsplit('/').next().unwrap_or(task_arn);
    let stream = format!("{prefix}/{}/{task_id}", c.name.as_deref().unwrap_or(""));
    Some((opts.get("awslogs-region").cloned(), group, stream))
}

/// Follows one CloudWatch Logs stream with GetLogEvents.
struct LogTail {
    client: aws_sdk_cloudwatchlogs::Client,
    group: String,
    stream: String,
    token: Option<String>,
    warned: bool,
}

impl LogTail {
    /// Print the lines written since the last call.
    async fn drain(&mut self, progress: Progress<'_>) {
        // A page at a time until the forward token stops moving (the end of the stream).
        for _ in 0..50 {
            let resp = self
                .client
                .get_log_events()
                .log_group_name(&self.group)
                .log_stream_name(&self.stream)
                .start_from_head(true)
                .set_next_token(self.token.clone())
                .send()
                .await;
            let out = match resp {
                Ok(out) => out,
                // The stream appears only once the container started.
                Err(e) if e.code() == Some("ResourceNotFoundException") => return,
                Err(e) => {
                    if !self.warned {
                        self.warned = true;
                        progress(Line::Event(format!(
                            "warning: cannot read log stream {}/{}: {}",
                            self.group,
                            self.stream,
                            aws_sdk_cloudwatchlogs::error::DisplayErrorContext(&e)
                        )));
                    }
                    return;
                }
            };
            for ev in out.events() {
                progress(Line::Event(format!(
                    "| {}",
                    ev.message().unwrap_or("").trim_end()
                )));
            }
            let next = out.next_forward_token().map(str::to_owned);
            let moved = next.is_some() && next != self.token;
            self.token = next;
            if !moved || out.events().is_empty() {
                return;
            }
        }
    }
}

fn task_line(t: &Task) -> String {
    format!(
        "task {}: {}{}",
        t.task_arn
            .as_deref()
            .and_then(|a| a.rsplit('/').next())
            .unwrap_or("?"),
        t.last_status.as_deref().unwrap_or("?"),
        t.stopped_reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    )
}

pub async fn run_task(
    ecs: &Ecs,
    plan: &RunTaskPlan,
    progress: Progress<'_>,
) -> Result<RunTaskReport> {
    plan.validate()?;
    let started = Instant::now();
    let services = ecs
        .describe_services(&plan.cluster, std::slice::from_ref(&plan.service))
        .await?;
    let svc = services.into_iter().next().ok_or_else(|| {
        Error::NotFound(format!(
            "service {:?} was not found in cluster {:?}",
            plan.service, plan.cluster
        ))
    })?;
    let current = svc.task_definition.clone().unwrap_or_default();

    // The task definition: a given revision, else the one a rollout would register.
    let (td, changed) = match &plan.task_definition_arn {
        Some(arn) => (ecs.describe_task_definition(arn).await?.0, Vec::new()),
        None => {
            let file = match &plan.task_definition {
                Some(p) => Some(crate::taskdef_file::load(p)?),
                None => None,
            };
            let (cur_td, _) = ecs.describe_task_definition(&current).await?;
            let r = render_for(file.as_ref(), &cur_td, &plan.image, &[])?;
            let version = plan
                .version
                .clone()
                .filter(|v| !v.is_empty())
                .or_else(|| ImageRef::parse(&plan.image).ok().and_then(|i| i.tag));
            let mut tagset = ship_tags(&[
                (tags::VERSION, version.as_deref()),
                (tags::GIT_SHA, plan.git_sha.as_deref()),
                (tags::RUN_URL, plan.run_url.as_deref()),
            ]);
            if let Some(f) = &file {
                tagset.extend(
                    f.tags
                        .iter()
                        .filter(|t| !tagset.iter().any(|s| s.key == t.key))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
            }
            let changed: Vec<String> = r.changes.iter().map(|c| c.container.clone()).collect();
            let new = ecs.register(&r.task_definition, tagset).await?;
            progress(Line::Event(format!(
                "registered {} for the one-off task",
                short(new.task_definition_arn.as_deref().unwrap_or("?"))
            )));
            (new, changed)
        }
    };
    let td_arn = td.task_definition_arn.clone().unwrap_or_default();
    let container = pick_container(&td, plan.container.as_deref(), &changed)?;
    let cname = container.name.clone().unwrap_or_default();

    // The service's placement: capacity provider strategy, else its launch type.
    let strategy = svc.capacity_provider_strategy.clone().unwrap_or_default();
    let launch_type = if strategy.is_empty() {
        svc.launch_type.clone()
    } else {
        None
    };
    let resp = ecs
        .client
        .run_task()
        .cluster(&plan.cluster)
        .task_definition(&td_arn)
        .count(1)
        .started_by("ship-run-task")
        .set_capacity_provider_strategy((!strategy.is_empty()).then_some(strategy))
        .set_launch_type(launch_type)
        .set_network_configuration(svc.network_configuration.clone())
        .set_platform_version(svc.platform_version.clone())
        .overrides(
            TaskOverride::builder()
                .container_overrides(
                    ContainerOverride::builder()
                        .name(&cname)
                        .set_command(Some(plan.command.clone()))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .map_err(|e| {
            Error::Aws(format!(
                "RunTask failed: {}",
                aws_sdk_ecs::error::DisplayErrorContext(&e)
            ))
        })?;
    if let Some(f) = resp.failures().first() {
        return Err(Error::Failed(format!(
            "RunTask could not start the task: {} {} ({})",
            f.reason().unwrap_or("?"),
            f.detail().unwrap_or(""),
            f.arn().unwrap_or("")
        )));
    }
    let task_arn = resp
        .tasks()
        .first()
        .and_then(|t| t.task_arn.clone())
        .ok_or_else(|| Error::Aws("RunTask returned no task".into()))?;
    plan.journal.task_started(crate::journal::TaskState {
        task_arn: task_arn.clone(),
        task_definition: td_arn.clone(),
        container: cname.clone(),
        last_status: String::new(),
    });
    progress(Line::Event(format!(
        "started task {} ({}, container {cname}: {})",
        task_arn.rsplit('/').next().unwrap_or(&task_arn),
        short(&td_arn),
        plan.command.join(" ")
    )));

    if !plan.wait {
        return Ok(RunTaskReport {
            status: "started".into(),
            task_arn,
            task_definition_arn: td_arn,
            container: cname,
            exit_code: None,
            reason: None,
            duration_secs: started.elapsed().as_secs(),
        });
    }

    let mut logs = match log_target(&container, &task_arn) {
        Some((region, group, stream)) => {
            let conf = ecs.sdk_config("CloudWatch Logs GetLogEvents")?;
            let mut b = aws_sdk_cloudwatchlogs::config::Builder::from(conf);
            if let Some(r) = region {
                b = b.region(Region::new(r));
            }
            progress(Line::Event(format!("logs: {group} {stream}")));
            Some(LogTail {
                client: aws_sdk_cloudwatchlogs::Client::from_conf(b.build()),
                group,
                stream,
                token: None,
                warned: false,
            })
        }
        None => {
            progress(Line::Event(format!(
                "container {cname} has no awslogs log configuration with a stream prefix: its \
                 output is not shown here"
            )));
            None
        }
    };

    let mut pause = plan.watch.poll_interval;
    let mut last = String::new();
    let mut timed_out = false;
    let task = loop {
        let t = describe_task(ecs, &plan.cluster, &task_arn).await?;
        let line = task_line(&t);
        plan.journal.task_seen(&line);
        if line != last {
            progress(Line::Event(line.clone()));
            last = line;
        }
        if let Some(l) = logs.as_mut() {
            l.drain(progress).await;
        }
        if t.last_status.as_deref() == Some("STOPPED") {
            break t;
        }
        if started.elapsed() >= plan.watch.timeout && !timed_out {
            timed_out = true;
            progress(Line::Event(format!(
                "TIMED OUT after {}: stopping the task",
                humantime::format_duration(Duration::from_secs(plan.watch.timeout.as_secs()))
            )));
            let _ = ecs
                .client
                .stop_task()
                .cluster(&plan.cluster)
                .task(&task_arn)
                .reason("ship run-task: timeout")
                .send()
                .await;
        }
        if timed_out && started.elapsed() >= plan.watch.timeout + Duration::from_secs(120) {
            // It did not even stop: report what we know.
            break t;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 3 / 2).min(plan.watch.max_poll_interval);
    };
    if let Some(l) = logs.as_mut() {
        l.drain(progress).await;
    }

    let c = task
        .containers()
        .iter()
        .find(|c| c.name.as_deref() == Some(cname.as_str()));
    let exit_code = c.and_then(|c| c.exit_code);
    let creason = c.and_then(|c| c.reason.clone());
    let (status, reason) = if timed_out {
        (
            "timed-out",
            Some(format!(
                "the task did not finish within {}",
                humantime::format_duration(plan.watch.timeout)
            )),
        )
    } else if exit_code == Some(0) {
        ("succeeded", None)
    } else {
        let mut why = match exit_code {
            Some(code) => format!("container {cname} exited {code}"),
            None => format!("container {cname} never ran to completion"),
        };
        if let Some(r) = creason {
            why.push_str(&format!(" ({r})"));
        }
        if let Some(r) = task.stopped_reason.as_deref() {
            why.push_str(&format!("; task stopped: {r}"));
        }
        if let Some(code) = task.stop_code.as_ref() {
            why.push_str(&format!(" [{}]", code.as_str()));
        }
        ("failed", Some(why))
    };
    Ok(RunTaskReport {
        status: status.into(),
        task_arn,
        task_definition_arn: td_arn,
        container: cname,
        exit_code,
        reason,
        duration_secs: started.elapsed().as_secs(),
    })
}

/// Asks ECS to stop the one-off task (`reason` is recorded on it): ECS sends its containers
/// SIGTERM, then SIGKILL after their stop timeout.
pub async fn stop_task(ecs: &Ecs, cluster: &str, task_arn: &str, reason: &str) -> Result<()> {
    ecs.client
        .stop_task()
        .cluster(cluster)
        .task(task_arn)
        .reason(reason)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            Error::Aws(format!(
                "StopTask failed: {}",
                aws_sdk_ecs::error::DisplayErrorContext(&e)
            ))
        })
}

async fn describe_task(ecs: &Ecs, cluster: &str, arn: &str) -> Result<Task> {
    let resp = ecs
        .client
        .describe_tasks()
        .cluster(cluster)
        .tasks(arn)
        .send()
        .await
        .map_err(|e| {
            Error::Aws(format!(
                "DescribeTasks failed: {}",
                aws_sdk_ecs::error::DisplayErrorContext(&e)
            ))
        })?;
    resp.tasks()
        .first()
        .cloned()
        .ok_or_else(|| Error::Aws(format!("DescribeTasks: task {arn} not found")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(
            parse_command("bin/migrate up --to 'a b'").unwrap(),
            ["bin/migrate", "up", "--to", "a b"]
        );
        assert_eq!(
            parse_command(r#"["sh", "-c", "x && y"]"#).unwrap(),
            ["sh", "-c", "x && y"]
        );
        assert_eq!(parse_command("  ").unwrap_err().exit_code(), 2);
        assert_eq!(parse_command("a 'b").unwrap_err().exit_code(), 2);
        assert_eq!(parse_command("[1]").unwrap_err().exit_code(), 2);
    }
}
