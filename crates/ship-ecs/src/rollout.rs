//! A rollout: render and register a revision per service, update the services together, watch
//! them together.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_ecs::types::{Tag, TaskDefinition};
use serde::Serialize;

use crate::ecs::{short, Ecs};
use crate::image::ImageRef;
use crate::journal::Journal;
use crate::render::{diff, render, ship_tags, Rendered};
use crate::taskdef_file::FileTaskDefinition;
use crate::verdict::deployment_in_progress;
use crate::watch::{event_ids, watch, Line, Outcome, Progress, Settled, Target, WatchOptions};
use crate::{tags, Error, Result};

#[derive(Debug, Clone, Default)]
pub struct RolloutPlan {
    pub cluster: String,
    pub services: Vec<String>,
    /// Empty with `task_definition`: the file's images are deployed as they are.
    pub image: String,
    /// A task definition file to register instead of rendering from the service's current one.
    pub task_definition: Option<PathBuf>,
    pub containers: Vec<String>,
    pub allow_mutable_tag: bool,
    /// Defaults to the image tag.
    pub version: Option<String>,
    pub git_sha: Option<String>,
    pub run_url: Option<String>,
    pub schema_version: Option<String>,
    pub force: bool,
    pub force_new_deployment: bool,
    pub desired_count: Option<i32>,
    pub wait: bool,
    pub dry_run: bool,
    pub watch: WatchOptions,
    /// Where the rollout writes down what it has done as it goes, for a cancelled run to
    /// report (keep a clone).
    pub journal: Journal,
}

/// Split `api, worker` into names; empty entries are dropped.
pub fn split_list(s: &str) -> Vec<String> {
    s.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl RolloutPlan {
    /// Check the inputs before any API call.
    pub fn validate(&self) -> Result<()> {
        if self.cluster.trim().is_empty() {
            return Err(Error::Input(
                "`cluster` is required: pass the ECS cluster name or ARN (--cluster)".into(),
            ));
        }
        if self.services.is_empty() {
            return Err(Error::Input(
                "`service` is required: pass one ECS service name, or several separated by commas \
                 (--service api,worker)"
                    .into(),
            ));
        }
        if self.task_definition.is_none() && self.image.trim().is_empty() {
            return Err(Error::Input(
                "`image` is required: pass the full image reference to deploy (--image \
                 REPOSITORY:TAG), or a task definition file with `task-definition`"
                    .into(),
            ));
        }
        if let Some(path) = &self.task_definition {
            crate::taskdef_file::load(path)?;
        }
        if self.task_definition.is_none() || !self.image.trim().is_empty() {
            let img = ImageRef::parse(&self.image)?;
            if !self.allow_mutable_tag {
                img.check_immutable(&self.image)?;
            }
        }
        if let Some(n) = self.desired_count {
            if n < 0 {
                return Err(Error::Input(format!(
                    "`desired-count` must be 0 or more, got {n}"
                )));
            }
        }
        Ok(())
    }

    fn version(&self) -> Option<String> {
        self.version
            .clone()
            .filter(|v| !v.is_empty())
            .or_else(|| ImageRef::parse(&self.image).ok().and_then(|i| i.tag))
    }

    /// The image to report: `image`, else (with a task definition file) the file's images.
    fn shown_image(&self, rendered: &TaskDefinition) -> String {
        if !self.image.trim().is_empty() {
            return self.image.clone();
        }
        rendered
            .container_definitions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c.image.clone())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceReport {
    pub service: String,
    pub from: String,
    pub to: String,
    pub image: String,
    pub deployment_id: Option<String>,
    /// `to` is an existing revision identical to what the rollout would have registered (e.g.
    /// the one `run-task` registered for the migrations), not a new one.
    pub reused: bool,
    #[serde(flatten)]
    pub settled: Settled,
}

#[derive(Debug, Clone, Serialize)]
pub struct RolloutReport {
    /// `succeeded`, `failed`, `timed-out`, `started` (no wait) or `dry-run`.
    pub status: String,
    pub services: Vec<ServiceReport>,
    /// Dry-run diffs, one per service.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<String>,
}

impl RolloutReport {
    pub fn success(&self) -> bool {
        matches!(self.status.as_str(), "succeeded" | "started" | "dry-run")
    }
}

/// Summarise several outcomes: any failure fails, else any timeout times out.
pub fn overall(outcomes: &[&Outcome]) -> &'static str {
    if outcomes.iter().any(|o| matches!(o, Outcome::Failed(_))) {
        "failed"
    } else if outcomes.iter().any(|o| matches!(o, Outcome::TimedOut(_))) {
        "timed-out"
    } else {
        "succeeded"
    }
}

/// The revision a rollout registers: the file's task definition when given, else the current
/// one; with the image put into the selected containers when `image` is given.
pub fn render_for(
    file: Option<&FileTaskDefinition>,
    current: &TaskDefinition,
    image: &str,
    containers: &[String],
) -> Result<Rendered> {
    match file {
        Some(f) if image.trim().is_empty() => Ok(Rendered {
            task_definition: f.task_definition.clone(),
            changes: Vec::new(),
        }),
        Some(f) => render(&f.task_definition, image, containers),
        None => render(current, image, containers),
    }
}

pub async fn rollout(
    ecs: &Ecs,
    plan: &RolloutPlan,
    progress: Progress<'_>,
) -> Result<RolloutReport> {
    plan.validate()?;
    let services = ecs.describe_services(&plan.cluster, &plan.services).await?;
    if !plan.force && !plan.dry_run {
        for s in &services {
            if let Some(why) = deployment_in_progress(s) {
                return Err(Error::Failed(format!(
                    "refusing to start: another deployment of service {:?} is in progress ({why}). \
                     Wait for it to finish, or pass --force to deploy over it",
                    s.service_name.as_deref().unwrap_or("?")
                )));
            }
        }
    }
    let seen = event_ids(&services);
    if !plan.dry_run {
        for s in &services {
            plan.journal.described(
                s.service_name.as_deref().unwrap_or_default(),
                s.task_definition.as_deref().unwrap_or_default(),
            );
        }
    }
    let file = match &plan.task_definition {
        Some(path) => Some(crate::taskdef_file::load(path)?),
        None => None,
    };

    // Render (once per distinct current revision) and register, or reuse.
    // Current revision -> (registered or reused revision, image(s) shown in the report, reused).
    let mut rendered_for: HashMap<String, (String, String, bool)> = HashMap::new();
    // Revisions a service of this rollout runs: reusing one would rewrite its ship:previous.
    let running: Vec<String> = services
        .iter()
        .filter_map(|s| s.task_definition.clone())
        .collect();
    let mut reports = Vec::new();
    let mut diffs = Vec::new();
    for s in &services {
        let name = s.service_name.clone().unwrap_or_default();
        let current = s
            .task_definition
            .clone()
            .ok_or_else(|| Error::Aws(format!("service {name:?} has no task definition")))?;
        if !rendered_for.contains_key(&current) || plan.dry_run {
            let (td, _) = ecs.describe_task_definition(&current).await?;
            let r = render_for(file.as_ref(), &td, &plan.image, &plan.containers)?;
            let version = plan.version();
            let mut tagset = ship_tags(&[
                (tags::VERSION, version.as_deref()),
                (tags::GIT_SHA, plan.git_sha.as_deref()),
                (tags::PREVIOUS, Some(current.as_str())),
                (tags::RUN_URL, plan.run_url.as_deref()),
                (tags::SCHEMA_VERSION, plan.schema_version.as_deref()),
            ]);
            // The file's own tags are kept unless ship writes the same key.
            if let Some(f) = &file {
                let own: Vec<Tag> = f
                    .tags
                    .iter()
                    .filter(|t| !tagset.iter().any(|s| s.key == t.key))
                    .cloned()
                    .collect();
                tagset.extend(own);
            }
            // Not a revision a service of this rollout runs, nor one it registered: their
            // ship:previous would be rewritten.
            let mut own: Vec<&str> = running.iter().map(String::as_str).collect();
            own.extend(rendered_for.values().map(|(arn, _, _)| arn.as_str()));
            let candidate = reusable(ecs, &name, &r.task_definition, &tagset, &own, progress).await;
            if plan.dry_run {
                let reuse_note = match &candidate {
                    Some((arn, _)) => format!(
                        "\n(would reuse {}: the newest ACTIVE revision is identical to this one)",
                        short(arn)
                    ),
                    None => String::new(),
                };
                diffs.push(format!(
                    "service {name}:\n{}{reuse_note}",
                    diff(&td, &r, &tagset)
                ));
                reports.push(ServiceReport {
                    service: name,
                    from: current.clone(),
                    to: String::new(),
                    image: plan.shown_image(&r.task_definition),
                    deployment_id: None,
                    reused: false,
                    settled: Settled::pending("dry-run"),
                });
                continue;
            }
            let what = match (&file, &plan.task_definition) {
                (Some(_), Some(p)) if r.changes.is_empty() => format!("from {}", p.display()),
                (Some(_), Some(p)) => format!("from {}, ", p.display()),
                _ => String::new(),
            };
            let what = format!(
                "{what}{}",
                r.changes
                    .iter()
                    .map(|c| format!("{}: {} -> {}", c.container, c.from, c.to))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let reused = match candidate {
                Some(candidate) => adopt(ecs, &name, candidate, progress).await,
                None => None,
            };
            let arn = match &reused {
                Some(arn) => {
                    progress(Line::Event(format!(
                        "{name}: reusing {}: the newest ACTIVE revision is what this rollout \
                         would register ({what})",
                        short(arn)
                    )));
                    arn.clone()
                }
                None => {
                    let new = ecs.register(&r.task_definition, tagset).await?;
                    let arn = new.task_definition_arn.clone().unwrap_or_default();
                    progress(Line::Event(format!(
                        "{name}: registered {} ({what})",
                        short(&arn)
                    )));
                    arn
                }
            };
            let image = plan.shown_image(&r.task_definition);
            rendered_for.insert(current.clone(), (arn, image, reused.is_some()));
        }
        if plan.dry_run {
            continue;
        }
        let (to, image, reused) = rendered_for[&current].clone();
        plan.journal.registered(&name, &to);
        reports.push(ServiceReport {
            service: name,
            from: current,
            to,
            image,
            deployment_id: None,
            reused,
            settled: Settled::pending(if reused { "reused" } else { "registered" }),
        });
    }
    if plan.dry_run {
        return Ok(RolloutReport {
            status: "dry-run".into(),
            services: reports,
            diffs,
        });
    }

    // Update every service; a failure part-way is reported with what was already applied.
    let mut updated: Vec<String> = Vec::new();
    for r in reports.iter_mut() {
        plan.journal.updating(&r.service);
        match ecs
            .update_service(
                &plan.cluster,
                &r.service,
                &r.to,
                plan.force_new_deployment,
                plan.desired_count,
            )
            .await
        {
            Ok(id) => {
                progress(Line::Event(format!(
                    "{}: UpdateService {} -> {} (deployment {})",
                    r.service,
                    short(&r.from),
                    short(&r.to),
                    id.as_deref().unwrap_or("?")
                )));
                plan.journal.deploying(&r.service, id.as_deref());
                r.deployment_id = id;
                r.settled.result = "started".into();
                updated.push(r.service.clone());
            }
            Err(e) if updated.is_empty() => {
                plan.journal.update_failed(&r.service);
                return Err(e);
            }
            Err(e) => {
                plan.journal.update_failed(&r.service);
                return Err(Error::Failed(format!(
                    "UpdateService failed for {:?} after {} had already been updated: {e}. \
                     The services now run different versions; roll back {} or re-run",
                    r.service,
                    updated.join(", "),
                    updated.join(", ")
                )));
            }
        }
    }
    if !plan.wait {
        return Ok(RolloutReport {
            status: "started".into(),
            services: reports,
            diffs,
        });
    }

    let targets: Vec<Target> = reports
        .iter()
        .map(|r| Target {
            service: r.service.clone(),
            task_definition: r.to.clone(),
        })
        .collect();
    let results = watch(
        ecs,
        &plan.cluster,
        &targets,
        seen,
        &plan.watch,
        &plan.journal,
        progress,
    )
    .await;
    for (r, w) in reports.iter_mut().zip(&results) {
        r.deployment_id = w.deployment_id.clone().or(r.deployment_id.take());
        r.settled = Settled::from_watch(w);
        // Record the result on the revision: rollback's fallback looks for COMPLETED ones.
        let value = if w.outcome.is_success() {
            "COMPLETED"
        } else {
            "FAILED"
        };
        if let Err(e) = tag_rollout(ecs, &r.to, value).await {
            progress(Line::Event(format!(
                "{}: warning: could not tag {} {}={value}: {e}",
                r.service,
                short(&r.to),
                tags::ROLLOUT
            )));
        }
    }
    let outcomes: Vec<&Outcome> = results.iter().map(|w| &w.outcome).collect();
    Ok(RolloutReport {
        status: overall(&outcomes).into(),
        services: reports,
        diffs,
    })
}

/// Records how a rollout of `revision` ended in its `ship:rollout` tag: `COMPLETED`,
/// `FAILED` or `CANCELLED`.
pub async fn tag_rollout(ecs: &Ecs, revision: &str, value: &str) -> Result<()> {
    let tag = Tag::builder().key(tags::ROLLOUT).value(value).build();
    ecs.tag(revision, vec![tag]).await
}

/// Give a [`reusable`] revision the tags the rollout writes that it lacks; `None` (register a
/// new revision instead) when tagging fails.
async fn adopt(
    ecs: &Ecs,
    service: &str,
    (arn, missing): (String, Vec<Tag>),
    progress: Progress<'_>,
) -> Option<String> {
    if !missing.is_empty() {
        if let Err(e) = ecs.tag(&arn, missing).await {
            progress(Line::Event(format!(
                "{service}: warning: {} is what this rollout would register, but tagging it \
                 failed ({e}); registering a new revision instead",
                short(&arn)
            )));
            return None;
        }
    }
    Some(arn)
}

/// The newest ACTIVE revision of the rendered family, when registering `rendered` would
/// register it again: `run-task` registers the revision a rollout of the same image then would,
/// and a second identical revision only clutters the family. Not one of `own`. Returned with the
/// tags of `tagset` it lacks, which [`adopt`] writes; nothing is written here, so a dry run
/// asks too. Any failure (no ACTIVE revision, a refused call) means registering a new revision.
async fn reusable(
    ecs: &Ecs,
    service: &str,
    rendered: &TaskDefinition,
    tagset: &[Tag],
    own: &[&str],
    progress: Progress<'_>,
) -> Option<(String, Vec<Tag>)> {
    let family = rendered.family.as_deref().filter(|f| !f.is_empty())?;
    // A family alone names its newest ACTIVE revision.
    let (newest, tags) = match ecs.describe_task_definition(family).await {
        Ok(found) => found,
        Err(Error::NotFound(_)) => return None,
        Err(e) => {
            progress(Line::Event(format!(
                "{service}: warning: cannot look at the newest revision of {family} to reuse it \
                 ({e}); registering a new one"
            )));
            return None;
        }
    };
    let arn = newest.task_definition_arn.clone()?;
    if own.contains(&arn.as_str()) || !ecs.same_registration(rendered, &newest) {
        return None;
    }
    let missing: Vec<Tag> = tagset
        .iter()
        .filter(|t| {
            crate::ecs::tag_value(&tags, t.key.as_deref().unwrap_or("")) != t.value.as_deref()
        })
        .cloned()
        .collect();
    Some((arn, missing))
}

/// Seconds as `1m 05s`.
pub fn human_duration(secs: u64) -> String {
    humanish(Duration::from_secs(secs))
}

fn humanish(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> RolloutPlan {
        RolloutPlan {
            cluster: "prod".into(),
            services: vec!["api".into()],
            image: "r/api:v1.2.3".into(),
            ..Default::default()
        }
    }

    #[test]
    fn validation() {
        assert!(plan().validate().is_ok());
        let mut p = plan();
        p.cluster = String::new();
        assert!(p.validate().unwrap_err().to_string().contains("`cluster`"));
        let mut p = plan();
        p.services = split_list(" , ");
        assert!(p.validate().unwrap_err().to_string().contains("`service`"));
        let mut p = plan();
        p.image = "r/api:latest".into();
        assert_eq!(p.validate().unwrap_err().exit_code(), 2);
        p.allow_mutable_tag = true;
        assert!(p.validate().is_ok());
        assert_eq!(split_list("api, worker"), vec!["api", "worker"]);
        assert_eq!(plan().version().as_deref(), Some("v1.2.3"));
    }
}
