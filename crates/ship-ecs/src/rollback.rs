//! Rollback: choose the revision to return to, point the services at it, watch like a rollout.

use aws_sdk_ecs::types::{Tag, TaskDefinition, TaskDefinitionStatus};
use serde::Serialize;

use crate::ecs::{revision_of, short, tag_value, Ecs};
use crate::image::ImageRef;
use crate::registry::{check_tag, TagCheck};
use crate::render::{ship_tags, strip_read_only};
use crate::verdict::deployment_in_progress;
use crate::watch::{event_ids, watch, Line, Outcome, Progress, Settled, Target, WatchOptions};
use crate::{tags, Error, Result};

/// What the caller asked to roll back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// The newest revision whose image tag (or `ship:version`) is this version.
    Version(String),
    /// A revision number of the service's family.
    Revision(i32),
    /// The last known good: `ship:previous`, else the newest older ACTIVE revision whose rollout
    /// reached COMPLETED (`ship:rollout=COMPLETED`).
    LastKnownGood,
}

/// One revision of a family, as target selection needs it.
#[derive(Debug, Clone)]
pub struct RevisionInfo {
    pub arn: String,
    pub revision: i32,
    pub active: bool,
    pub images: Vec<String>,
    pub tags: Vec<Tag>,
}

impl RevisionInfo {
    pub fn from_sdk(td: &TaskDefinition, tags: Vec<Tag>) -> Self {
        RevisionInfo {
            arn: td.task_definition_arn.clone().unwrap_or_default(),
            revision: td.revision,
            active: td.status != Some(TaskDefinitionStatus::Inactive),
            images: td
                .container_definitions
                .as_deref()
                .unwrap_or_default()
                .iter()
                .filter_map(|c| c.image.clone())
                .collect(),
            tags,
        }
    }

    fn tag(&self, key: &str) -> Option<&str> {
        tag_value(&self.tags, key)
    }

    fn has_version(&self, v: &semver::Version) -> bool {
        let tag_matches = |t: &str| parse_version(t).ok().as_ref() == Some(v);
        self.tag(tags::VERSION).is_some_and(tag_matches)
            || self.images.iter().any(|i| {
                ImageRef::parse(i)
                    .ok()
                    .and_then(|r| r.tag)
                    .is_some_and(|t| tag_matches(&t))
            })
    }
}

/// `v1.2.3` or `1.2.3` as semver.
pub fn parse_version(s: &str) -> Result<semver::Version> {
    semver::Version::parse(s.trim().trim_start_matches('v')).map_err(|e| {
        Error::Input(format!(
            "`to-version` {s:?} is not a semantic version ({e}): pass it as vMAJOR.MINOR.PATCH, \
             e.g. v1.4.2"
        ))
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub arn: String,
    pub why: String,
}

/// Choose the target. `history` holds the family's revisions, any order.
pub fn select_target(
    current: &RevisionInfo,
    history: &[RevisionInfo],
    spec: &TargetSpec,
) -> Result<Selected> {
    let mut newest_first: Vec<&RevisionInfo> = history.iter().collect();
    newest_first.sort_by_key(|r| std::cmp::Reverse(r.revision));
    let family = crate::ecs::family_of(&current.arn)
        .unwrap_or("?")
        .to_string();
    match spec {
        TargetSpec::Version(v) => {
            let want = parse_version(v)?;
            newest_first
                .iter()
                .find(|r| r.active && r.has_version(&want))
                .map(|r| Selected {
                    arn: r.arn.clone(),
                    why: format!("newest ACTIVE revision of {family} with version {v}"),
                })
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "no ACTIVE revision of task definition family {family:?} runs version {v}: \
                         check `to-version`, or deploy that image with ecs-rollout \
                         (--image REPOSITORY:{v})"
                    ))
                })
        }
        TargetSpec::Revision(n) => {
            let r = newest_first
                .iter()
                .find(|r| r.revision == *n)
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "revision {n} of task definition family {family:?} does not exist: check \
                         `to-revision`"
                    ))
                })?;
            if !r.active {
                return Err(Error::Input(format!(
                    "revision {family}:{n} is INACTIVE (deregistered); ECS cannot run it. Pick \
                     an ACTIVE revision with `to-revision`"
                )));
            }
            Ok(Selected {
                arn: r.arn.clone(),
                why: format!("requested revision {family}:{n}"),
            })
        }
        TargetSpec::LastKnownGood => {
            let mut note = String::new();
            if let Some(prev) = current.tag(tags::PREVIOUS) {
                match newest_first.iter().find(|r| r.arn == prev) {
                    Some(r) if r.active && r.arn != current.arn => {
                        return Ok(Selected {
                            arn: r.arn.clone(),
                            why: format!(
                                "{} is the revision {} replaced (its ship:previous tag)",
                                short(&r.arn),
                                short(&current.arn)
                            ),
                        })
                    }
                    Some(_) => note = format!(" ({} from ship:previous is INACTIVE)", short(prev)),
                    None => note = format!(" ({} from ship:previous was not found)", short(prev)),
                }
            }
            newest_first
                .iter()
                .find(|r| {
                    r.revision < current.revision
                        && r.active
                        && r.tag(tags::ROLLOUT) == Some("COMPLETED")
                })
                .map(|r| Selected {
                    arn: r.arn.clone(),
                    why: format!(
                        "{} is the newest older ACTIVE revision whose rollout COMPLETED{note}",
                        short(&r.arn)
                    ),
                })
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "no last known good revision for {}{note}: it has no usable \
                         ship:previous tag and no older ACTIVE revision is tagged \
                         ship:rollout=COMPLETED. Pass `to-revision` or `to-version`",
                        short(&current.arn)
                    ))
                })
        }
    }
}

/// Compare schema versions: numerically when both are integers, else as strings.
fn schema_lower(a: &str, b: &str) -> bool {
    match (a.parse::<u128>(), b.parse::<u128>()) {
        (Ok(x), Ok(y)) => x < y,
        _ => a < b,
    }
}

/// [`schema_check`] for `service`'s target: a refusal is the error, a note goes to `notes`.
fn schema_note(
    plan: &RollbackPlan,
    service: &str,
    target: &str,
    target_tags: &[Tag],
    unknown_why: &str,
    notes: &mut Vec<String>,
) -> Result<()> {
    let note = schema_check(plan, target, target_tags, unknown_why)?;
    notes.extend(note.map(|n| format!("{service}: {n}")));
    Ok(())
}

/// Why an existing revision may carry no `ship:schema-version`.
const SCHEMA_UNRECORDED: &str =
    "it was deployed before ship recorded schema versions, or without `schema-version`";

/// Refuse a target older than the database's schema unless `allow_ahead`. The policy wants a
/// rollback to say whether the schema still fits, so a target without `ship:schema-version`
/// gets a note saying it cannot tell: `target` names it and `unknown_why` says why it has none.
pub fn schema_check(
    plan: &RollbackPlan,
    target: &str,
    target_tags: &[Tag],
    unknown_why: &str,
) -> Result<Option<String>> {
    let Some(db) = plan
        .database_schema_version
        .as_deref()
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    let Some(target) = tag_value(target_tags, tags::SCHEMA_VERSION) else {
        return Ok(Some(format!(
            "cannot tell whether the database schema (at {db}) still fits {target}: it has no \
             ship:schema-version tag ({unknown_why})"
        )));
    };
    if !schema_lower(target, db) {
        return Ok(None);
    }
    let unseen: Vec<&str> = plan
        .applied_migrations
        .iter()
        .map(String::as_str)
        .filter(|m| schema_lower(target, m))
        .collect();
    let msg = format!(
        "the rollback target was deployed with database schema {target}, but the database is at \
         {db}{}",
        if unseen.is_empty() {
            String::new()
        } else {
            format!("; migrations it has not seen: {}", unseen.join(", "))
        }
    );
    if let Some(from) = &plan.schema_from {
        // Inferred, not measured: a note, never a refusal.
        Ok(Some(format!(
            "{msg} (the database's schema as {from} recorded it in ship:schema-version; pass \
             database-schema-version to check against the database itself)"
        )))
    } else if plan.allow_schema_ahead {
        Ok(Some(format!("{msg} (allowed by allow-schema-ahead)")))
    } else {
        Err(Error::Failed(format!(
            "{msg}. Check those migrations are backward compatible, then re-run with \
             allow-schema-ahead: true"
        )))
    }
}

/// The plan the schema check reads for one service when no database schema was given: the
/// one the current revision was deployed with (its `ship:schema-version`). Migrations run
/// before a rollout, so the database is at least there; the rollback can then say whether
/// the schema fits the target even in a workflow that does not know it.
fn schema_plan(plan: &RollbackPlan, current: &RevisionInfo) -> Option<RollbackPlan> {
    if plan
        .database_schema_version
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty())
    {
        return None;
    }
    let recorded = current.tag(tags::SCHEMA_VERSION)?;
    Some(RollbackPlan {
        database_schema_version: Some(recorded.to_string()),
        schema_from: Some(short(&current.arn).to_string()),
        ..plan.clone()
    })
}

#[derive(Debug, Clone, Default)]
pub struct RollbackPlan {
    pub cluster: String,
    pub services: Vec<String>,
    pub to_version: Option<String>,
    pub to_revision: Option<i32>,
    pub deregister_failed: bool,
    pub database_schema_version: Option<String>,
    pub applied_migrations: Vec<String>,
    pub allow_schema_ahead: bool,
    /// Set by the rollback itself: `database_schema_version` was not given and is the one the
    /// current revision (named here) was deployed with, so the check only ever adds a note.
    pub schema_from: Option<String>,
    /// With `to_version` for a version no revision runs: render a revision even when the image's
    /// registry is not ECR and the tag cannot be checked.
    pub allow_unverified_image: bool,
    pub wait: bool,
    pub watch: WatchOptions,
    /// Scan at most this many revisions of the family.
    pub history_limit: usize,
    /// Where the rollback writes down what it has done as it goes, for a cancelled run to
    /// report (keep a clone).
    pub journal: crate::journal::Journal,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollbackService {
    pub service: String,
    pub rolled_back_from: String,
    pub rolled_back_to: String,
    pub why: String,
    #[serde(flatten)]
    pub settled: Settled,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    pub status: String,
    pub services: Vec<RollbackService>,
    pub notes: Vec<String>,
}

impl RollbackPlan {
    pub fn spec(&self) -> Result<TargetSpec> {
        match (&self.to_version, self.to_revision) {
            (Some(v), _) if !v.is_empty() => {
                parse_version(v)?;
                Ok(TargetSpec::Version(v.clone()))
            }
            (_, Some(n)) if n < 1 => Err(Error::Input(format!(
                "`to-revision` must be a revision number of 1 or more, got {n}"
            ))),
            (_, Some(n)) => Ok(TargetSpec::Revision(n)),
            _ => Ok(TargetSpec::LastKnownGood),
        }
    }
}

async fn history(ecs: &Ecs, family: &str, limit: usize) -> Result<Vec<RevisionInfo>> {
    let mut arns = ecs
        .list_task_definitions(family, TaskDefinitionStatus::Active)
        .await?;
    arns.truncate(limit.max(1));
    let mut out = Vec::new();
    for arn in arns {
        let (td, tags) = ecs.describe_task_definition(&arn).await?;
        out.push(RevisionInfo::from_sdk(&td, tags));
    }
    Ok(out)
}

/// A revision for `to_version`, rendered from the current one and not registered yet: the
/// schema check runs first, so a refused rollback leaves no revision behind.
struct VersionRender {
    task_definition: TaskDefinition,
    tags: Vec<Tag>,
    /// The revision it is rendered from.
    from: String,
    app_repos: Vec<String>,
    /// Why the image tag could not be checked in the registry, when it could not.
    unverified: Option<String>,
    /// The revision whose `ship:schema-version` it copies.
    schema_from: Option<String>,
}

impl VersionRender {
    /// For the schema note when no revision that ran the version recorded a schema version.
    fn unknown_schema_why(&self, version: &str) -> String {
        format!(
            "a revision rendered for `to-version` copies it from one that ran the same image, and \
             no revision of the family that ran {} records one",
            self.app_repos
                .iter()
                .map(|r| format!("{r}:{version}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Render a revision of `current` with the application containers' image tag set to `version`,
/// after checking the registry has that tag. Application containers are those whose images
/// carry the application version (see [`app_repositories`]). It gets the `ship:schema-version`
/// of the newest revision that ran the same image tag (see [`schema_of_version`]).
async fn prepare_version(
    ecs: &Ecs,
    plan: &RollbackPlan,
    current: &TaskDefinition,
    info: &RevisionInfo,
    hist: &[RevisionInfo],
    version: &str,
) -> Result<VersionRender> {
    let family = current.family.clone().unwrap_or_default();
    let from = current.task_definition_arn.clone().unwrap_or_default();
    let app_repos = app_repositories(info);
    if app_repos.is_empty() {
        return Err(Error::NotFound(format!(
            "no ACTIVE revision of task definition family {family:?} runs version {version}, and \
             ship cannot tell which container of {} carries the application version (none has \
             the image tag of its ship:version, and several have version tags). Pass \
             `to-revision`, or deploy the version with ecs-rollout",
            short(&from)
        )));
    }
    let mut unverified = Vec::new();
    for repo in &app_repos {
        match check_tag(ecs, repo, version).await? {
            TagCheck::Exists { .. } => {}
            TagCheck::Unverifiable(why) if plan.allow_unverified_image => unverified.push(why),
            TagCheck::Unverifiable(why) => {
                return Err(Error::Input(format!(
                    "no ACTIVE revision of task definition family {family:?} runs version \
                     {version}, and {why}. Pass allow-unverified-image: true \
                     (--allow-unverified-image) to register a revision with {repo}:{version} \
                     anyway, or roll back with `to-revision`"
                )))
            }
        }
    }
    let mut td = current.clone();
    strip_read_only(&mut td);
    for c in td.container_definitions.iter_mut().flatten() {
        if let Some(img) = c.image.as_deref().and_then(|i| ImageRef::parse(i).ok()) {
            if app_repos.contains(&img.repository) {
                c.image = Some(format!("{}:{version}", img.repository));
            }
        }
    }
    let schema = schema_of_version(
        ecs,
        &family,
        hist,
        &app_repos,
        version,
        plan.history_limit.max(10),
    )
    .await?;
    // No ship:previous: a later default rollback from this revision must not return to the
    // revision this one replaced in an incident.
    let tags = ship_tags(&[
        (tags::VERSION, Some(version)),
        (
            tags::SCHEMA_VERSION,
            schema.as_ref().map(|(_, s)| s.as_str()),
        ),
    ]);
    Ok(VersionRender {
        task_definition: td,
        tags,
        from,
        app_repos,
        unverified: (!unverified.is_empty()).then(|| unverified.join("; ")),
        schema_from: schema.map(|(arn, _)| arn),
    })
}

/// Register a [`VersionRender`] and return it as the target.
async fn register_version(
    ecs: &Ecs,
    r: &VersionRender,
    version: &str,
    progress: Progress<'_>,
) -> Result<Selected> {
    let new = ecs.register(&r.task_definition, r.tags.clone()).await?;
    let arn = new.task_definition_arn.unwrap_or_default();
    let schema = match (&r.schema_from, tag_value(&r.tags, tags::SCHEMA_VERSION)) {
        (Some(src), Some(v)) => format!(", ship:schema-version {v} from {}", short(src)),
        _ => String::new(),
    };
    progress(Line::Event(format!(
        "registered {} from {} with {} at {version}{}{schema}",
        short(&arn),
        short(&r.from),
        r.app_repos.join(", "),
        if r.unverified.is_none() {
            " (tag checked in ECR)"
        } else {
            " (tag NOT checked)"
        }
    )));
    Ok(Selected {
        arn,
        why: format!(
            "no revision ran {version}: rendered from {} with that image tag",
            short(&r.from)
        ),
    })
}

/// Whether a revision ran `version` as the image tag of one of `repos`.
fn ran_image_tag(r: &RevisionInfo, repos: &[String], version: &str) -> bool {
    r.images.iter().any(|i| {
        ImageRef::parse(i)
            .is_ok_and(|i| repos.contains(&i.repository) && i.tag.as_deref() == Some(version))
    })
}

/// The newest of `revs` that ran `version` in one of `repos` and carries
/// `ship:schema-version`: (its ARN, the schema version).
fn schema_source(
    revs: &[RevisionInfo],
    repos: &[String],
    version: &str,
) -> Option<(String, String)> {
    let mut newest_first: Vec<&RevisionInfo> = revs.iter().collect();
    newest_first.sort_by_key(|r| std::cmp::Reverse(r.revision));
    newest_first
        .into_iter()
        .filter(|r| ran_image_tag(r, repos, version))
        .find_map(|r| {
            r.tag(tags::SCHEMA_VERSION)
                .map(|s| (r.arn.clone(), s.to_string()))
        })
}

/// The schema version a revision rendered for `version` should record: that of the newest
/// revision that ran the same image tag, from `hist` (ACTIVE) else from the family's INACTIVE
/// revisions, newest first, at most `limit` of them. A version nothing ACTIVE runs is usually
/// one whose revisions were deregistered since, so the INACTIVE ones are where it is found.
async fn schema_of_version(
    ecs: &Ecs,
    family: &str,
    hist: &[RevisionInfo],
    repos: &[String],
    version: &str,
    limit: usize,
) -> Result<Option<(String, String)>> {
    if let Some(found) = schema_source(hist, repos, version) {
        return Ok(Some(found));
    }
    let inactive = ecs
        .list_task_definitions(family, TaskDefinitionStatus::Inactive)
        .await?;
    for arn in inactive.into_iter().take(limit) {
        // A revision being deleted cannot be described any more; it has nothing to give.
        let Ok((td, tags)) = ecs.describe_task_definition(&arn).await else {
            continue;
        };
        let rev = RevisionInfo::from_sdk(&td, tags);
        if let Some(found) = schema_source(std::slice::from_ref(&rev), repos, version) {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The repositories of the containers that carry the application version: those whose image
/// tag is the current revision's `ship:version`, else, when only one repository has a
/// semantic-version tag, that one. Sidecars (`envoy:v1.27.0`) have version tags too, so a
/// guess among several is refused rather than made.
fn app_repositories(current: &RevisionInfo) -> Vec<String> {
    let images: Vec<ImageRef> = current
        .images
        .iter()
        .filter_map(|i| ImageRef::parse(i).ok())
        .collect();
    let semver_of = |i: &ImageRef| i.tag.as_deref().and_then(|t| parse_version(t).ok());
    let mut repos: Vec<String> = match current.tag(tags::VERSION).map(parse_version) {
        Some(Ok(v)) => images
            .iter()
            .filter(|i| semver_of(i).as_ref() == Some(&v))
            .map(|i| i.repository.clone())
            .collect(),
        _ => Vec::new(),
    };
    if repos.is_empty() {
        repos = images
            .iter()
            .filter(|i| semver_of(i).is_some())
            .map(|i| i.repository.clone())
            .collect();
        repos.sort();
        repos.dedup();
        if repos.len() > 1 {
            repos.clear();
        }
    }
    repos.sort();
    repos.dedup();
    repos
}

/// The revision an in-progress deployment is replacing: the one other (ACTIVE) deployment's.
fn previous_deployment(s: &aws_sdk_ecs::types::Service) -> Option<String> {
    let others: Vec<&str> = s
        .deployments()
        .iter()
        .filter(|d| d.status() != Some("PRIMARY"))
        .filter_map(|d| d.task_definition())
        .collect();
    match others.as_slice() {
        [one] => Some(one.to_string()),
        _ => None,
    }
}

/// A deployment is in progress. When the rollback target is the revision that deployment is
/// replacing, stop it with `StopServiceDeployment` ROLLBACK, so that ECS records the deployment
/// as rolled back rather than superseded; otherwise (another target, no ECS service deployment,
/// or the call refused) the caller's UpdateService to the target replaces it. Returns whether
/// the deployment was stopped.
async fn stop_in_progress(
    ecs: &Ecs,
    cluster: &str,
    service: &str,
    why: &str,
    replacing: &Option<String>,
    target: &str,
    notes: &mut Vec<String>,
) -> bool {
    let fallback = |reason: String| {
        format!(
            "{service}: a deployment was in progress ({why}); {reason}, so UpdateService to {} \
             replaces it",
            short(target)
        )
    };
    if replacing.as_deref() != Some(target) {
        notes.push(fallback(format!(
            "it was replacing {}, not the target",
            replacing.as_deref().map_or("several revisions", short)
        )));
        return false;
    }
    let arn = match ecs.in_progress_service_deployment(cluster, service).await {
        Ok(Some(arn)) => arn,
        Ok(None) => {
            notes.push(fallback("ECS lists no service deployment for it".into()));
            return false;
        }
        Err(e) => {
            notes.push(fallback(format!("ListServiceDeployments failed ({e})")));
            return false;
        }
    };
    match ecs.stop_service_deployment_rollback(&arn).await {
        Ok(()) => {
            notes.push(format!(
                "{service}: a deployment was in progress ({why}); stopped service deployment \
                 {arn} with ROLLBACK, ECS returns the service to {}",
                short(target)
            ));
            true
        }
        Err(e) => {
            notes.push(fallback(format!("StopServiceDeployment failed ({e})")));
            false
        }
    }
}

pub async fn rollback(
    ecs: &Ecs,
    plan: &RollbackPlan,
    progress: Progress<'_>,
) -> Result<RollbackReport> {
    if plan.cluster.trim().is_empty() {
        return Err(Error::Input(
            "`cluster` is required: pass the ECS cluster name or ARN".into(),
        ));
    }
    if plan.services.is_empty() {
        return Err(Error::Input(
            "`service` is required: pass one ECS service name or several separated by commas"
                .into(),
        ));
    }
    let spec = plan.spec()?;
    let services = ecs.describe_services(&plan.cluster, &plan.services).await?;
    let seen = event_ids(&services);
    let mut notes = Vec::new();
    let mut chosen: Vec<(String, String, Selected)> = Vec::new();
    // Services with a deployment in progress: (service, why, the revision it is replacing).
    let mut in_progress: Vec<(String, String, Option<String>)> = Vec::new();
    // Revisions rendered for `to_version`: (the revision rendered from, the registered target,
    // what was registered).
    let mut rendered: Vec<(String, Selected, VersionRender)> = Vec::new();
    for s in &services {
        let name = s.service_name.clone().unwrap_or_default();
        let current_arn = s.task_definition.clone().unwrap_or_default();
        plan.journal.described(&name, &current_arn);
        let (cur_td, cur_tags) = ecs.describe_task_definition(&current_arn).await?;
        let current = RevisionInfo::from_sdk(&cur_td, cur_tags);
        let inferred = schema_plan(plan, &current);
        let plan = inferred.as_ref().unwrap_or(plan);
        let family = cur_td.family.clone().unwrap_or_default();
        let mut hist = history(ecs, &family, plan.history_limit.max(10)).await?;
        if let TargetSpec::Revision(n) = spec {
            if !hist.iter().any(|r| r.revision == n) {
                // Older than the scanned window, or INACTIVE: ask for it directly.
                if let Ok((td, tags)) = ecs.describe_task_definition(&format!("{family}:{n}")).await
                {
                    hist.push(RevisionInfo::from_sdk(&td, tags));
                }
            }
        }
        let sel = match (&spec, select_target(&current, &hist, &spec)) {
            // No revision ever ran that version: render one from the current revision (once
            // for the services that run the same one).
            (TargetSpec::Version(v), Err(Error::NotFound(_))) => {
                if let Some((_, sel, r)) = rendered.iter().find(|(k, _, _)| *k == current_arn) {
                    let why = r.unknown_schema_why(v);
                    schema_note(plan, &name, short(&sel.arn), &r.tags, &why, &mut notes)?;
                    sel.clone()
                } else {
                    let r = prepare_version(ecs, plan, &cur_td, &current, &hist, v).await?;
                    if let Some(why) = &r.unverified {
                        notes.push(format!("{name}: {why} (allowed by allow-unverified-image)"));
                    }
                    // Checked before registering: a refused rollback leaves no revision behind.
                    let target = format!("the revision rendered for {v}");
                    let why = r.unknown_schema_why(v);
                    schema_note(plan, &name, &target, &r.tags, &why, &mut notes)?;
                    let sel = register_version(ecs, &r, v, progress).await?;
                    rendered.push((current_arn.clone(), sel.clone(), r));
                    sel
                }
            }
            (_, other) => {
                let sel = other?;
                // Selection only picks from `hist`.
                let target_tags = hist
                    .iter()
                    .find(|r| r.arn == sel.arn)
                    .map(|r| r.tags.as_slice())
                    .unwrap_or_default();
                let why = SCHEMA_UNRECORDED;
                schema_note(plan, &name, short(&sel.arn), target_tags, why, &mut notes)?;
                sel
            }
        };
        progress(Line::Event(format!(
            "{name}: rolling back {} -> {}: {}",
            short(&current_arn),
            short(&sel.arn),
            sel.why
        )));
        if let Some(why) = deployment_in_progress(s) {
            in_progress.push((name.clone(), why, previous_deployment(s)));
        }
        plan.journal.registered(&name, &sel.arn);
        chosen.push((name, current_arn, sel));
    }

    let mut reports = Vec::new();
    for (name, from, sel) in &chosen {
        if from == &sel.arn {
            notes.push(format!(
                "{name}: the service already runs {}",
                short(&sel.arn)
            ));
        }
        plan.journal.updating(name);
        let stopped = match in_progress.iter().find(|(n, _, _)| n == name) {
            Some((_, why, replacing)) => {
                stop_in_progress(
                    ecs,
                    &plan.cluster,
                    name,
                    why,
                    replacing,
                    &sel.arn,
                    &mut notes,
                )
                .await
            }
            None => false,
        };
        if !stopped {
            if let Err(e) = ecs
                .update_service(&plan.cluster, name, &sel.arn, false, None)
                .await
            {
                plan.journal.update_failed(name);
                return Err(e);
            }
        }
        plan.journal.deploying(name, None);
        reports.push(RollbackService {
            service: name.clone(),
            rolled_back_from: from.clone(),
            rolled_back_to: sel.arn.clone(),
            why: sel.why.clone(),
            settled: Settled::pending("started"),
        });
    }
    if !plan.wait {
        return Ok(RollbackReport {
            status: "started".into(),
            services: reports,
            notes,
        });
    }
    let targets: Vec<Target> = reports
        .iter()
        .map(|r| Target {
            service: r.service.clone(),
            task_definition: r.rolled_back_to.clone(),
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
        r.settled = Settled::from_watch(w);
        if plan.deregister_failed
            && w.outcome.is_success()
            && r.rolled_back_from != r.rolled_back_to
        {
            let still_used = reports_uses(&chosen, &r.rolled_back_from);
            if still_used {
                notes.push(format!(
                    "{}: kept {} (another service rolls back to it)",
                    r.service,
                    short(&r.rolled_back_from)
                ));
            } else {
                match ecs.deregister(&r.rolled_back_from).await {
                    Ok(()) => notes.push(format!(
                        "{}: deregistered {}",
                        r.service,
                        short(&r.rolled_back_from)
                    )),
                    Err(e) => notes.push(format!(
                        "{}: could not deregister {}: {e}",
                        r.service,
                        short(&r.rolled_back_from)
                    )),
                }
            }
        }
    }
    let outcomes: Vec<&Outcome> = results.iter().map(|w| &w.outcome).collect();
    Ok(RollbackReport {
        status: crate::rollout::overall(&outcomes).into(),
        services: reports,
        notes,
    })
}

fn reports_uses(chosen: &[(String, String, Selected)], arn: &str) -> bool {
    chosen.iter().any(|(_, _, s)| s.arn == arn)
}

/// The revision number for display.
pub fn revision_label(arn: &str) -> String {
    revision_of(arn).map_or_else(|| arn.to_string(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(n: i32, image_tag: &str, tags_: &[(&str, &str)], active: bool) -> RevisionInfo {
        RevisionInfo {
            arn: format!("arn:aws:ecs:us-east-1:1:task-definition/api:{n}"),
            revision: n,
            active,
            images: vec![format!("r/api:{image_tag}"), "envoy:v1.27.0".into()],
            tags: tags_
                .iter()
                .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                .collect(),
        }
    }

    fn arn(n: i32) -> String {
        format!("arn:aws:ecs:us-east-1:1:task-definition/api:{n}")
    }

    #[test]
    fn ship_previous_wins() {
        let hist = vec![
            rev(3, "v1.0.0", &[("ship:rollout", "COMPLETED")], true),
            rev(4, "v1.1.0", &[("ship:rollout", "COMPLETED")], true),
            rev(5, "v1.2.0", &[("ship:previous", &arn(3))], true),
        ];
        let s = select_target(&hist[2], &hist, &TargetSpec::LastKnownGood).unwrap();
        assert_eq!(s.arn, arn(3));
        assert!(s.why.contains("ship:previous"));
    }

    #[test]
    fn failed_revision_in_the_middle_is_skipped() {
        let hist = vec![
            rev(3, "v1.0.0", &[("ship:rollout", "COMPLETED")], true),
            rev(4, "v1.1.0", &[("ship:rollout", "FAILED")], true),
            rev(5, "v1.2.0", &[], true),
        ];
        let s = select_target(&hist[2], &hist, &TargetSpec::LastKnownGood).unwrap();
        assert_eq!(s.arn, arn(3));
        // ship:previous pointing at an INACTIVE revision falls back too.
        let mut hist2 = hist.clone();
        hist2.push(rev(2, "v0.9.0", &[], false));
        let mut cur = hist[2].clone();
        cur.tags = vec![Tag::builder().key("ship:previous").value(arn(2)).build()];
        let s = select_target(&cur, &hist2, &TargetSpec::LastKnownGood).unwrap();
        assert_eq!(s.arn, arn(3));
        assert!(s.why.contains("INACTIVE"), "{}", s.why);
    }

    #[test]
    fn no_known_good_is_not_found() {
        let hist = vec![rev(1, "v1.0.0", &[], true), rev(2, "v1.1.0", &[], true)];
        let e = select_target(&hist[1], &hist, &TargetSpec::LastKnownGood).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn to_version_picks_newest_match() {
        let hist = vec![
            rev(3, "v1.0.0", &[], true),
            rev(6, "v1.0.0", &[], true),
            rev(7, "v1.1.0", &[], true),
            rev(8, "v1.0.0", &[], false),
        ];
        let s = select_target(&hist[2], &hist, &TargetSpec::Version("1.0.0".into())).unwrap();
        assert_eq!(s.arn, arn(6));
        let e = select_target(&hist[2], &hist, &TargetSpec::Version("v9.9.9".into())).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("v9.9.9"));
        let e = select_target(&hist[2], &hist, &TargetSpec::Version("nine".into())).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn to_revision() {
        let hist = vec![
            rev(3, "v1.0.0", &[], true),
            rev(4, "v1.1.0", &[], false),
            rev(5, "v1.2.0", &[], true),
        ];
        assert_eq!(
            select_target(&hist[2], &hist, &TargetSpec::Revision(3))
                .unwrap()
                .arn,
            arn(3)
        );
        assert_eq!(
            select_target(&hist[2], &hist, &TargetSpec::Revision(4))
                .unwrap_err()
                .exit_code(),
            2
        );
        assert_eq!(
            select_target(&hist[2], &hist, &TargetSpec::Revision(40))
                .unwrap_err()
                .exit_code(),
            2
        );
    }

    #[test]
    fn schema() {
        let t = vec![Tag::builder()
            .key("ship:schema-version")
            .value("20240101")
            .build()];
        let plan = |db: &str, applied: &[&str], ahead: bool| RollbackPlan {
            database_schema_version: Some(db.to_string()),
            applied_migrations: applied.iter().map(|m| m.to_string()).collect(),
            allow_schema_ahead: ahead,
            ..Default::default()
        };
        let check = |p: &RollbackPlan, tags: &[Tag]| schema_check(p, "api:3", tags, "why");
        assert_eq!(check(&plan("20240101", &[], false), &t).unwrap(), None);
        let applied = ["20231201", "20240301"];
        let e = check(&plan("20240301", &applied, false), &t).unwrap_err();
        assert!(e.to_string().contains("20240301") && !e.to_string().contains("20231201"));
        assert!(check(&plan("20240301", &applied, true), &t)
            .unwrap()
            .is_some());
        // No database version given: nothing to compare, nothing to say.
        assert_eq!(check(&RollbackPlan::default(), &[]).unwrap(), None);
    }

    #[test]
    fn schema_unknown_is_a_note_naming_the_database_version() {
        let p = RollbackPlan {
            database_schema_version: Some("20240301".into()),
            ..Default::default()
        };
        let note = schema_check(&p, "api:3", &[], SCHEMA_UNRECORDED)
            .unwrap()
            .expect("a note");
        assert!(note.contains("cannot tell"), "{note}");
        assert!(
            note.contains("20240301") && note.contains("api:3"),
            "{note}"
        );
        assert!(note.contains("no ship:schema-version tag"), "{note}");
        assert!(note.contains("deployed before ship recorded"), "{note}");
        // Even with allow-schema-ahead it is a note, never a refusal.
        let p = RollbackPlan {
            allow_schema_ahead: true,
            ..p
        };
        assert!(schema_check(&p, "api:3", &[], "x").unwrap().is_some());
    }

    #[test]
    fn without_a_database_schema_the_current_revisions_is_used_for_a_note_only() {
        let current = rev(5, "v1.6.0", &[("ship:schema-version", "20240301")], true);
        let old = vec![Tag::builder()
            .key("ship:schema-version")
            .value("20240101")
            .build()];
        let inferred = schema_plan(&RollbackPlan::default(), &current).expect("inferred");
        let note = schema_check(&inferred, "api:3", &old, "why")
            .expect("never a refusal")
            .expect("a note");
        assert!(
            note.contains("database is at 20240301") && note.contains("ship:schema-version"),
            "{note}"
        );
        // Given: the check is against it, and may refuse.
        let given = RollbackPlan {
            database_schema_version: Some("20240301".into()),
            ..Default::default()
        };
        assert!(schema_plan(&given, &current).is_none());
        assert!(schema_check(&given, "api:3", &old, "why").is_err());
        // A current revision that recorded none: nothing to infer.
        assert!(schema_plan(&RollbackPlan::default(), &rev(4, "v1.5.0", &[], true)).is_none());
    }

    #[test]
    fn schema_source_is_the_newest_revision_that_ran_the_image_tag() {
        let repos = vec!["r/api".to_string()];
        let hist = vec![
            rev(2, "v1.5.0", &[("ship:schema-version", "20240101")], false),
            rev(3, "v1.5.0", &[("ship:schema-version", "20240201")], false),
            // Ran it but recorded no schema version: an older one that did is used.
            rev(4, "v1.5.0", &[], false),
            // Another version, or the same version in a sidecar only.
            rev(5, "v1.6.0", &[("ship:schema-version", "20240301")], true),
        ];
        assert_eq!(
            schema_source(&hist, &repos, "v1.5.0"),
            Some((arn(3), "20240201".to_string()))
        );
        assert_eq!(schema_source(&hist, &repos, "v1.4.0"), None);
        assert_eq!(
            schema_source(&hist, &repos, "v1.27.0"),
            None,
            "envoy:v1.27.0 is not an application repository"
        );
        // The same tag, not the same semantic version: the image that ran is what counts.
        assert_eq!(schema_source(&hist, &repos, "1.5.0"), None);
    }
}
