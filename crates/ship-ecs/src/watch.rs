//! Poll DescribeServices until every target deployment succeeded, failed or timed out; collect
//! the reasons when it did not succeed.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{Service, Task};

use crate::ecs::{short, Ecs};
use crate::journal::Journal;
use crate::verdict::{evaluate, Verdict};
use crate::Error;

#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub timeout: Duration,
    /// First pause between polls; grows by half each poll up to `max_poll_interval`.
    pub poll_interval: Duration,
    pub max_poll_interval: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            timeout: Duration::from_secs(15 * 60),
            poll_interval: Duration::from_secs(5),
            max_poll_interval: Duration::from_secs(15),
        }
    }
}

/// A progress line: `Status` lines describe the current state (a terminal may overwrite them),
/// `Event` lines are new facts (service events, verdicts) that stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Status(String),
    Event(String),
}

pub type Progress<'a> = &'a mut (dyn FnMut(Line) + Send);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed(String),
    TimedOut(String),
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Succeeded)
    }
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed(_) => "failed",
            Outcome::TimedOut(_) => "timed-out",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub service: String,
    pub task_definition: String,
}

#[derive(Debug, Clone)]
pub struct WatchResult {
    pub service: String,
    pub task_definition: String,
    pub outcome: Outcome,
    pub deployment_id: Option<String>,
    pub duration: Duration,
    /// Why it failed: stopped tasks of the new revision and the service events seen.
    pub diagnostics: Vec<String>,
}

/// How one service's deployment ended, as rollout and rollback report it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Settled {
    /// `succeeded`, `failed`, `timed-out`, or before the watch `started`, `dry-run`, ….
    pub result: String,
    pub reason: Option<String>,
    pub duration_secs: u64,
    /// Why it failed: stopped tasks and service events.
    pub diagnostics: Vec<String>,
}

impl Settled {
    /// Not watched (yet).
    pub fn pending(result: &str) -> Self {
        Settled {
            result: result.into(),
            reason: None,
            duration_secs: 0,
            diagnostics: Vec::new(),
        }
    }

    pub fn from_watch(w: &WatchResult) -> Self {
        Settled {
            result: w.outcome.label().into(),
            reason: match &w.outcome {
                Outcome::Succeeded => None,
                Outcome::Failed(s) | Outcome::TimedOut(s) => Some(s.clone()),
            },
            duration_secs: w.duration.as_secs(),
            diagnostics: w.diagnostics.clone(),
        }
    }

    /// `result`, or `result: reason`, for tables.
    pub fn describe(&self) -> String {
        match &self.reason {
            Some(r) => format!("{}: {r}", self.result),
            None => self.result.clone(),
        }
    }
}

/// Event ids already present, so that only new events are printed.
pub fn event_ids(services: &[Service]) -> HashSet<String> {
    services
        .iter()
        .flat_map(|s| s.events.as_deref().unwrap_or_default())
        .filter_map(|e| e.id.clone())
        .collect()
}

pub fn status_line(s: &Service) -> String {
    let mut parts = Vec::new();
    for d in s.deployments.as_deref().unwrap_or_default() {
        parts.push(format!(
            "{} {} running {}/{} pending {}{}{}",
            d.status.as_deref().unwrap_or("?"),
            short(d.task_definition.as_deref().unwrap_or("?")),
            d.running_count,
            d.desired_count,
            d.pending_count,
            d.rollout_state
                .as_ref()
                .map(|r| format!(" {}", r.as_str()))
                .unwrap_or_default(),
            if d.failed_tasks > 0 {
                format!(" failed-tasks {}", d.failed_tasks)
            } else {
                String::new()
            }
        ));
    }
    format!(
        "{}: {}",
        s.service_name.as_deref().unwrap_or("?"),
        parts.join(" | ")
    )
}

/// A verdict is only final once two consecutive polls agree on it: ECS's reads are eventually
/// consistent, so one poll right after UpdateService can still show the old PRIMARY (which
/// looks like a rollback), and one poll can show a COMPLETED state a later one takes back.
/// Success and failure need the same confirmation; `pending` is the verdict awaiting it.
/// Returns the verdict when this poll confirms it.
pub fn confirm(pending: &mut Option<Verdict>, now: Verdict) -> Option<Verdict> {
    let same_kind = |a: &Verdict, b: &Verdict| {
        matches!(
            (a, b),
            (Verdict::Succeeded, Verdict::Succeeded) | (Verdict::Failed(_), Verdict::Failed(_))
        )
    };
    match (pending.take(), now) {
        (_, Verdict::InProgress) => None,
        // The newest reason: a circuit breaker's "FAILED" becomes "our deployment disappeared".
        (Some(before), now) if same_kind(&before, &now) => Some(now),
        (_, now) => {
            *pending = Some(now);
            None
        }
    }
}

struct State {
    target: Target,
    /// The verdict of the last poll, awaiting confirmation by the next ([`confirm`]).
    pending: Option<Verdict>,
    outcome: Option<Outcome>,
    deployment_id: Option<String>,
    last_status: String,
    events: Vec<String>,
    finished: Duration,
    /// Target groups of the service's load balancers, for target health on failure.
    target_groups: Vec<String>,
}

/// Watch `targets` until each is decided. A success or a failure must be observed on two
/// consecutive polls ([`confirm`]); each poll is written to `journal`.
pub async fn watch(
    ecs: &Ecs,
    cluster: &str,
    targets: &[Target],
    mut seen: HashSet<String>,
    opts: &WatchOptions,
    journal: &Journal,
    progress: Progress<'_>,
) -> Vec<WatchResult> {
    let start = Instant::now();
    let mut states: Vec<State> = targets
        .iter()
        .map(|t| State {
            target: t.clone(),
            pending: None,
            outcome: None,
            deployment_id: None,
            last_status: String::new(),
            events: Vec::new(),
            finished: Duration::ZERO,
            target_groups: Vec::new(),
        })
        .collect();
    let mut interval = opts.poll_interval;
    let mut errors = 0;
    loop {
        let names: Vec<String> = states
            .iter()
            .filter(|s| s.outcome.is_none())
            .map(|s| s.target.service.clone())
            .collect();
        if names.is_empty() {
            break;
        }
        match ecs.describe_services(cluster, &names).await {
            Err(e) => {
                errors += 1;
                progress(Line::Event(format!(
                    "DescribeServices failed ({errors}/3): {e}"
                )));
                if errors >= 3 || matches!(e, Error::NotFound(_)) {
                    for s in states.iter_mut().filter(|s| s.outcome.is_none()) {
                        s.outcome = Some(Outcome::Failed(format!(
                            "lost track of the deployment: {e}. The service was updated; check \
                             it before retrying"
                        )));
                        s.finished = start.elapsed();
                        journal.settled(&s.target.service, "failed");
                    }
                    break;
                }
            }
            Ok(services) => {
                errors = 0;
                for svc in &services {
                    let name = svc.service_name.clone().unwrap_or_default();
                    let Some(st) = states
                        .iter_mut()
                        .find(|s| s.outcome.is_none() && s.target.service == name)
                    else {
                        continue;
                    };
                    let mut new_events: Vec<_> = svc
                        .events
                        .as_deref()
                        .unwrap_or_default()
                        .iter()
                        .filter(|e| e.id.as_ref().is_some_and(|id| !seen.contains(id)))
                        .collect();
                    new_events.reverse(); // ECS lists newest first
                    for e in new_events {
                        seen.insert(e.id.clone().unwrap_or_default());
                        let line = format!("{name}: event: {}", e.message.as_deref().unwrap_or(""));
                        st.events.push(line.clone());
                        progress(Line::Event(line));
                    }
                    st.target_groups = svc
                        .load_balancers()
                        .iter()
                        .filter_map(|lb| lb.target_group_arn().map(str::to_owned))
                        .collect();
                    st.last_status = status_line(svc);
                    progress(Line::Status(st.last_status.clone()));
                    if let Some(d) =
                        svc.deployments
                            .as_deref()
                            .unwrap_or_default()
                            .iter()
                            .find(|d| {
                                d.task_definition.as_deref()
                                    == Some(st.target.task_definition.as_str())
                            })
                    {
                        st.deployment_id = d.id.clone().or(st.deployment_id.take());
                    }
                    journal.seen(&name, &st.last_status, st.deployment_id.as_deref());
                    match confirm(&mut st.pending, evaluate(svc, &st.target.task_definition)) {
                        Some(Verdict::Succeeded) => {
                            st.outcome = Some(Outcome::Succeeded);
                            st.finished = start.elapsed();
                            progress(Line::Event(format!(
                                "{name}: deployment of {} completed",
                                short(&st.target.task_definition)
                            )));
                        }
                        Some(Verdict::Failed(why)) => {
                            st.outcome = Some(Outcome::Failed(why.clone()));
                            st.finished = start.elapsed();
                            progress(Line::Event(format!("{name}: FAILED: {why}")));
                        }
                        Some(Verdict::InProgress) | None => {}
                    }
                    if let Some(o) = &st.outcome {
                        journal.settled(&name, o.label());
                    }
                }
            }
        }
        if states.iter().all(|s| s.outcome.is_some()) {
            break;
        }
        // The confirming poll comes quickly; otherwise back off.
        let pause = if states
            .iter()
            .any(|s| s.outcome.is_none() && s.pending.is_some())
        {
            opts.poll_interval
        } else {
            interval
        };
        if start.elapsed() + pause > opts.timeout {
            for s in states.iter_mut().filter(|s| s.outcome.is_none()) {
                // A failure seen once, with no time left to confirm it, is worth knowing.
                let unconfirmed = match &s.pending {
                    Some(Verdict::Failed(why)) => {
                        format!("; the last poll saw a failure not yet confirmed: {why}")
                    }
                    _ => String::new(),
                };
                s.outcome = Some(Outcome::TimedOut(format!(
                    "not stable after {}s; last state: {}{unconfirmed}",
                    opts.timeout.as_secs(),
                    s.last_status
                )));
                s.finished = start.elapsed();
                journal.settled(&s.target.service, "timed-out");
                progress(Line::Event(format!(
                    "{}: TIMED OUT after {}s",
                    s.target.service,
                    opts.timeout.as_secs()
                )));
            }
            break;
        }
        tokio::time::sleep(pause).await;
        interval = (interval * 3 / 2).min(opts.max_poll_interval);
    }

    let mut out = Vec::new();
    for st in states {
        let outcome = st.outcome.unwrap_or(Outcome::Failed("not observed".into()));
        let mut diagnostics = Vec::new();
        if !outcome.is_success() {
            match ecs
                .stopped_tasks(cluster, &st.target.service, &st.target.task_definition)
                .await
            {
                Ok(tasks) if tasks.is_empty() => diagnostics.push(format!(
                    "{}: no stopped tasks of {}",
                    st.target.service,
                    short(&st.target.task_definition)
                )),
                Ok(tasks) => {
                    for t in tasks.iter().take(10) {
                        diagnostics.push(describe_stopped(&st.target.service, t));
                    }
                }
                Err(e) => diagnostics.push(format!(
                    "{}: could not list stopped tasks: {e}",
                    st.target.service
                )),
            }
            for tg in &st.target_groups {
                diagnostics.extend(
                    crate::elb::target_health(ecs, tg)
                        .await
                        .into_iter()
                        .map(|l| format!("{}: {l}", st.target.service)),
                );
            }
            let n = st.events.len();
            diagnostics.extend(st.events.into_iter().skip(n.saturating_sub(20)));
        }
        out.push(WatchResult {
            service: st.target.service,
            task_definition: st.target.task_definition,
            outcome,
            deployment_id: st.deployment_id,
            duration: st.finished,
            diagnostics,
        });
    }
    out
}

/// `api: stopped task 1234abcd (api:8): Essential container in task exited; container app exit 1 (reason)`
pub fn describe_stopped(service: &str, t: &Task) -> String {
    let id = t
        .task_arn
        .as_deref()
        .and_then(|a| a.rsplit('/').next())
        .unwrap_or("?");
    let containers: Vec<String> = t
        .containers
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            format!(
                "container {} exit {}{}",
                c.name.as_deref().unwrap_or("?"),
                c.exit_code.map_or("-".to_string(), |x| x.to_string()),
                c.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    format!(
        "{service}: stopped task {id} ({}): {}{}; {}",
        short(t.task_definition_arn.as_deref().unwrap_or("?")),
        t.stopped_reason.as_deref().unwrap_or("no stoppedReason"),
        t.stop_code
            .as_ref()
            .map(|c| format!(" [{}]", c.as_str()))
            .unwrap_or_default(),
        containers.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(why: &str) -> Verdict {
        Verdict::Failed(why.into())
    }

    #[test]
    fn success_and_failure_both_need_two_polls() {
        let mut pending = None;
        assert_eq!(confirm(&mut pending, Verdict::Succeeded), None);
        assert_eq!(
            confirm(&mut pending, Verdict::Succeeded),
            Some(Verdict::Succeeded)
        );

        // One stale poll that looks like a rollback, then the deployment shows: not a failure.
        let mut pending = None;
        assert_eq!(confirm(&mut pending, failed("PRIMARY runs api:7")), None);
        assert_eq!(confirm(&mut pending, Verdict::InProgress), None);
        assert_eq!(pending, None);
        assert_eq!(confirm(&mut pending, Verdict::Succeeded), None);
        assert_eq!(
            confirm(&mut pending, Verdict::Succeeded),
            Some(Verdict::Succeeded)
        );

        // A failure on two polls in a row is final, with the newer reason.
        let mut pending = None;
        assert_eq!(confirm(&mut pending, failed("FAILED")), None);
        assert_eq!(
            confirm(&mut pending, failed("disappeared")),
            Some(failed("disappeared"))
        );

        // Success then failure (or the reverse) confirms neither: the next poll decides.
        let mut pending = None;
        assert_eq!(confirm(&mut pending, Verdict::Succeeded), None);
        assert_eq!(confirm(&mut pending, failed("x")), None);
        assert_eq!(confirm(&mut pending, Verdict::Succeeded), None);
        assert_eq!(
            confirm(&mut pending, Verdict::Succeeded),
            Some(Verdict::Succeeded)
        );
    }
}
