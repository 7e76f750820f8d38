//! What a rollout, rollback or one-off task has done so far, written down as it goes.
//!
//! A cancelled step (GitHub sends SIGINT, then SIGTERM, then SIGKILL) is stopped wherever it
//! stands, in the middle of an API call or a wait; the binary then reads the journal to say
//! which state it leaves each service in (which revision it ran, which one it was moved to,
//! the deployment ECS is carrying out), to write the step's outputs and summary, and to tag the
//! revisions whose rollout did not settle. The journal is shared: the binary keeps a clone of
//! the handle it puts in the plan.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::ecs::short;

/// How far one service got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Described; nothing was changed for it yet.
    Unchanged,
    /// The revision to move it to is registered (or chosen), the service not updated yet.
    Registered,
    /// UpdateService (or StopServiceDeployment) was sent without an answer yet: ECS may or may
    /// not have accepted it.
    Updating,
    /// ECS accepted the update and is deploying the new revision.
    Deploying,
    /// The watch decided: `succeeded`, `failed` or `timed-out`.
    Settled(String),
}

/// One service's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceState {
    pub service: String,
    /// The revision the service ran when the run started.
    pub from: String,
    /// The revision it is being moved to; empty until one is registered or chosen.
    pub to: String,
    pub stage: Stage,
    /// The ECS deployment carrying the update, once known.
    pub deployment_id: Option<String>,
    /// The last status line the watch printed (`api: PRIMARY api:8 running 1/2 …`).
    pub last_status: String,
}

impl ServiceState {
    /// What state the service is left in, one sentence for people:
    /// `ECS is deploying api:8 (deployment ecs-svc/1; last seen PRIMARY api:8 running 1/2); it ran api:7`.
    pub fn describe(&self) -> String {
        let to = short(&self.to);
        let from = short(&self.from);
        match &self.stage {
            Stage::Unchanged => format!("unchanged: still on {from}"),
            Stage::Registered => format!("unchanged: still on {from} (not moved to {to} yet)"),
            Stage::Updating => format!(
                "the update from {from} to {to} was sent without an answer: the service may be on \
                 either; check it in the ECS console"
            ),
            Stage::Deploying => {
                let mut s = format!("ECS is deploying {to}");
                let mut inner = Vec::new();
                if let Some(id) = &self.deployment_id {
                    inner.push(format!("deployment {id}"));
                }
                let seen = self
                    .last_status
                    .split_once(": ")
                    .map_or(self.last_status.as_str(), |(_, rest)| rest);
                if !seen.is_empty() {
                    inner.push(format!("last seen {seen}"));
                }
                if !inner.is_empty() {
                    s.push_str(&format!(" ({})", inner.join("; ")));
                }
                s.push_str(&format!(
                    "; it ran {from}, and ECS carries on with the deployment on its own"
                ));
                s
            }
            Stage::Settled(result) => format!("{result}: {from} -> {to} had already settled"),
        }
    }

    /// Whether the run had not finished with this service: it was being moved and its rollout
    /// had not settled, so it is left mid-way (tagged `ship:rollout=CANCELLED` by a rollout).
    pub fn interrupted(&self) -> bool {
        matches!(
            self.stage,
            Stage::Registered | Stage::Updating | Stage::Deploying
        ) && !self.to.is_empty()
    }
}

/// The one-off task of `run-task`, once started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskState {
    pub task_arn: String,
    pub task_definition: String,
    pub container: String,
    /// The last `task …: RUNNING` line.
    pub last_status: String,
}

#[derive(Debug, Default)]
struct Inner {
    services: Vec<ServiceState>,
    task: Option<TaskState>,
}

/// A shared, cheaply cloned record of what a run has done (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Inner>>);

impl Journal {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves the data as it was: still the best
        // account of the run.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with(&self, service: &str, f: impl FnOnce(&mut ServiceState)) {
        if let Some(s) = self
            .lock()
            .services
            .iter_mut()
            .find(|s| s.service == service)
        {
            f(s);
        }
    }

    /// `service` runs `from`; nothing changed yet.
    pub fn described(&self, service: &str, from: &str) {
        let mut inner = self.lock();
        inner.services.retain(|s| s.service != service);
        inner.services.push(ServiceState {
            service: service.into(),
            from: from.into(),
            to: String::new(),
            stage: Stage::Unchanged,
            deployment_id: None,
            last_status: String::new(),
        });
    }

    /// `to` is registered or chosen for `service`.
    pub fn registered(&self, service: &str, to: &str) {
        self.with(service, |s| {
            s.to = to.into();
            s.stage = Stage::Registered;
        });
    }

    /// The update of `service` to its `to` was sent.
    pub fn updating(&self, service: &str) {
        self.with(service, |s| s.stage = Stage::Updating);
    }

    /// The update was refused: the service did not move.
    pub fn update_failed(&self, service: &str) {
        self.with(service, |s| s.stage = Stage::Registered);
    }

    /// ECS accepted the update of `service` (deployment `id`, when it said).
    pub fn deploying(&self, service: &str, id: Option<&str>) {
        self.with(service, |s| {
            s.stage = Stage::Deploying;
            if let Some(id) = id {
                s.deployment_id = Some(id.into());
            }
        });
    }

    /// A poll saw `service` as `status` (deployment `id`).
    pub fn seen(&self, service: &str, status: &str, id: Option<&str>) {
        self.with(service, |s| {
            s.last_status = status.into();
            if let Some(id) = id {
                s.deployment_id = Some(id.into());
            }
        });
    }

    /// The watch decided `service`: `succeeded`, `failed` or `timed-out`.
    pub fn settled(&self, service: &str, result: &str) {
        self.with(service, |s| s.stage = Stage::Settled(result.into()));
    }

    /// The one-off task started.
    pub fn task_started(&self, task: TaskState) {
        self.lock().task = Some(task);
    }

    /// The one-off task's latest status line.
    pub fn task_seen(&self, line: &str) {
        if let Some(t) = self.lock().task.as_mut() {
            t.last_status = line.into();
        }
    }

    /// Every service, in the order they were described.
    pub fn services(&self) -> Vec<ServiceState> {
        self.lock().services.clone()
    }

    /// The one-off task, once started.
    pub fn task(&self) -> Option<TaskState> {
        self.lock().task.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: &str = "arn:aws:ecs:us-east-1:1:task-definition/api:7";
    const TO: &str = "arn:aws:ecs:us-east-1:1:task-definition/api:8";

    #[test]
    fn stages_and_descriptions() {
        let j = Journal::default();
        j.described("api", FROM);
        let api = |j: &Journal| j.services()[0].clone();
        assert_eq!(api(&j).describe(), "unchanged: still on api:7");
        assert!(!api(&j).interrupted());
        j.registered("api", TO);
        assert!(api(&j).interrupted());
        assert_eq!(
            api(&j).describe(),
            "unchanged: still on api:7 (not moved to api:8 yet)"
        );
        j.updating("api");
        assert!(api(&j).describe().contains("may be on either"));
        j.update_failed("api");
        assert_eq!(api(&j).stage, Stage::Registered);
        j.deploying("api", Some("ecs-svc/1"));
        j.seen("api", "api: PRIMARY api:8 running 1/2 pending 1", None);
        assert_eq!(
            api(&j).describe(),
            "ECS is deploying api:8 (deployment ecs-svc/1; last seen PRIMARY api:8 running 1/2 \
             pending 1); it ran api:7, and ECS carries on with the deployment on its own"
        );
        j.settled("api", "failed");
        assert!(!api(&j).interrupted());
        // Unknown services are ignored, not invented.
        j.deploying("worker", None);
        assert_eq!(j.services().len(), 1);
    }
}
