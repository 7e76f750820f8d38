//! Applying tags: read the source manifest once, check every target tag (immutable tags may
//! not move), then put the same manifest under each tag that is missing or may move. The
//! reading and deciding is [`crate::plan`], shared with the dry run; this module writes.

use crate::digest::short_digest;
use crate::ecr::EcrClient;
use crate::error::RegistryError;
use crate::oci::{Manifest, PutOutcome, RegistryClient};
use crate::plan::{plan, Plan, PlanAction};
use crate::reference::SourceRef;
use crate::tags::{PlannedTag, TagKind};
use serde::Serialize;
use std::fmt;

/// Where tags are applied: a registry through the OCI distribution API, or ECR's API.
#[derive(Debug)]
pub enum Backend {
    /// Any OCI distribution registry.
    Oci(RegistryClient),
    /// Amazon ECR.
    Ecr(EcrClient),
}

impl Backend {
    /// The registry host, for messages.
    pub fn registry(&self) -> &str {
        match self {
            Backend::Oci(c) => c.registry(),
            Backend::Ecr(c) => c.registry(),
        }
    }

    /// Which API is used: `oci` or `ecr`.
    pub fn api(&self) -> &'static str {
        match self {
            Backend::Oci(_) => "oci",
            Backend::Ecr(_) => "ecr",
        }
    }

    /// Reads the manifest `reference` names.
    pub async fn get_manifest(&self, reference: &SourceRef) -> Result<Manifest, RegistryError> {
        match self {
            Backend::Oci(c) => c.get_manifest(reference).await,
            Backend::Ecr(c) => c.get_manifest(reference).await,
        }
    }

    /// The digest `tag` points at, if it exists.
    pub async fn tag_digest(&self, tag: &str) -> Result<Option<String>, RegistryError> {
        match self {
            Backend::Oci(c) => c.tag_digest(tag).await,
            Backend::Ecr(c) => c.tag_digest(tag).await,
        }
    }

    /// Every tag of the repository.
    pub async fn list_tags(&self) -> Result<Vec<String>, RegistryError> {
        match self {
            Backend::Oci(c) => c.list_tags().await,
            Backend::Ecr(c) => c.list_tags().await,
        }
    }

    /// Stores `manifest` under `tag`.
    pub async fn put_manifest(
        &self,
        tag: &str,
        manifest: &Manifest,
    ) -> Result<PutOutcome, RegistryError> {
        match self {
            Backend::Oci(c) => c.put_manifest(tag, manifest).await,
            Backend::Ecr(c) => c.put_manifest(tag, manifest).await,
        }
    }
}

/// What happened to one tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TagStatus {
    /// The tag did not exist and now names the source digest.
    Created,
    /// The tag named another digest and was moved (floating tags, or `--force`).
    Moved,
    /// The tag already named the source digest; nothing was written.
    Unchanged,
    /// A floating tag left where it is (or not created) because its line has a newer
    /// release than the version being tagged: floating tags only move forward.
    Kept,
    /// Writing the tag failed.
    Failed,
    /// Not attempted, because an earlier tag failed.
    NotApplied,
}

impl fmt::Display for TagStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TagStatus::Created => "created",
            TagStatus::Moved => "moved",
            TagStatus::Unchanged => "unchanged",
            TagStatus::Kept => "kept",
            TagStatus::Failed => "failed",
            TagStatus::NotApplied => "not applied",
        })
    }
}

/// One tag's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagResult {
    /// The tag.
    pub tag: String,
    /// Its kind.
    pub kind: TagKind,
    /// What happened.
    pub status: TagStatus,
    /// The digest it names now (the source digest unless it failed or was not applied).
    pub digest: Option<String>,
    /// The digest it named before, when it existed.
    pub previous_digest: Option<String>,
    /// For a kept floating tag, the newer release it stays with (`v1.3.0`).
    pub kept_on: Option<String>,
    /// For a kept floating tag, why: `v1 kept on v1.3.0, newer than v1.1.4`.
    pub reason: Option<String>,
}

impl TagResult {
    /// The reason without the tag's name (`kept on v1.3.0, newer than v1.1.4`), for lines
    /// and tables that name the tag already.
    pub fn note(&self) -> Option<&str> {
        note(&self.tag, self.reason.as_deref())
    }
}

/// `reason` without its leading `tag`: reasons name their tag so they read alone in JSON.
pub(crate) fn note<'a>(tag: &str, reason: Option<&'a str>) -> Option<&'a str> {
    let reason = reason?;
    Some(reason.strip_prefix(tag).map_or(reason, str::trim_start))
}

/// The outcome of a retag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetagReport {
    /// The source reference.
    pub source: String,
    /// The source's digest: every applied tag now names it.
    pub digest: String,
    /// The source manifest's media type.
    pub media_type: String,
    /// One entry per target tag, in order.
    pub results: Vec<TagResult>,
}

impl RetagReport {
    /// `tag (status)` for the tags in `statuses`, comma-separated, or `none`.
    pub fn list(&self, statuses: &[TagStatus]) -> String {
        let items: Vec<String> = self
            .results
            .iter()
            .filter(|r| statuses.contains(&r.status))
            .map(|r| format!("{} ({})", r.tag, r.status))
            .collect();
        if items.is_empty() {
            "none".into()
        } else {
            items.join(", ")
        }
    }
}

/// An immutable tag that already names another image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// The tag.
    pub tag: String,
    /// The digest it names.
    pub existing: String,
}

/// Why a retag did not (fully) happen.
#[derive(Debug, thiserror::Error)]
pub enum RetagError {
    /// Reading the source or checking tags failed; nothing was written.
    #[error("{0}; nothing was tagged")]
    Registry(RegistryError),
    /// Immutable tags already name other images; nothing was written.
    #[error("{}", immutable_message(.source_ref, .source_digest, .conflicts))]
    Immutable {
        /// The source reference.
        source_ref: String,
        /// The source digest.
        source_digest: String,
        /// Every immutable tag on another digest.
        conflicts: Vec<Conflict>,
    },
    /// Writing a tag failed after earlier tags were written.
    #[error(
        "{error}; applied before the failure: {}; not applied: {}",
        report.list(&[TagStatus::Created, TagStatus::Moved, TagStatus::Unchanged, TagStatus::Kept]),
        report.list(&[TagStatus::Failed, TagStatus::NotApplied])
    )]
    Partial {
        /// The failure.
        error: RegistryError,
        /// Per-tag results: applied, failed, not applied.
        report: RetagReport,
    },
}

fn immutable_message(source_ref: &str, source_digest: &str, conflicts: &[Conflict]) -> String {
    let each: Vec<String> = conflicts
        .iter()
        .map(|c| format!("{} already points at {}", c.tag, c.existing))
        .collect();
    format!(
        "refused: {}, not at {source_digest} (the source {source_ref}); version and sha- tags are immutable: \
         release a new version instead, or pass --force to move them; nothing was tagged",
        each.join(" and ")
    )
}

/// Options for [`retag`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RetagOptions {
    /// Move immutable tags that name another digest.
    pub force: bool,
}

/// Applies `tags` to the image `source` names, by manifest: [`plan`], then [`apply`].
///
/// Every tag is checked before anything is written: if an immutable tag (`sha-…`, `vX.Y.Z`)
/// names another digest, nothing is written ([`RetagError::Immutable`]) unless `force`.
/// Tags already on the source digest are left alone, so a re-run is a no-op. Floating tags
/// only move forward: when the repository has a release of a floating tag's line newer than
/// the version tag in `tags`, that floating tag is [`TagStatus::Kept`] (the tags are listed
/// once, before anything is written, and only when a floating tag would change). If writing a
/// tag fails, [`RetagError::Partial`] lists what was applied before.
pub async fn retag(
    backend: &Backend,
    source: &SourceRef,
    tags: &[PlannedTag],
    options: RetagOptions,
) -> Result<RetagReport, RetagError> {
    let plan = plan(backend, source, tags, options)
        .await
        .map_err(RetagError::Registry)?;
    apply(backend, &plan).await
}

/// Carries out `plan`: refuses it whole when it refuses any tag, else puts the source
/// manifest under each tag to create or move, in order. Decides nothing itself, so what a dry
/// run showed is what happens (unless the registry changed in between).
pub async fn apply(backend: &Backend, plan: &Plan) -> Result<RetagReport, RetagError> {
    if let Some(refused) = plan.refusal() {
        return Err(refused);
    }
    let manifest = &plan.manifest;
    let mut report = RetagReport {
        source: plan.source.to_string(),
        digest: manifest.digest.clone(),
        media_type: manifest.media_type.clone(),
        results: plan
            .tags
            .iter()
            .map(|t| {
                let (status, digest) = match t.action {
                    PlanAction::Keep => (TagStatus::Kept, t.current_digest.clone()),
                    PlanAction::AlreadyThere => {
                        (TagStatus::Unchanged, Some(manifest.digest.clone()))
                    }
                    _ => (TagStatus::NotApplied, None),
                };
                TagResult {
                    tag: t.tag.clone(),
                    kind: t.kind,
                    status,
                    digest,
                    previous_digest: t.current_digest.clone(),
                    kept_on: t.kept_on.clone(),
                    reason: t.reason.clone(),
                }
            })
            .collect(),
    };

    for (i, t) in plan.tags.iter().enumerate() {
        if !matches!(t.action, PlanAction::Create | PlanAction::Move) {
            continue;
        }
        match backend.put_manifest(&t.tag, manifest).await {
            Ok(outcome) => {
                let result = &mut report.results[i];
                result.status = match (&outcome, t.action) {
                    // Someone tagged this very image between the check and the put.
                    (PutOutcome::AlreadyTagged, _) => TagStatus::Unchanged,
                    (PutOutcome::Written(_), PlanAction::Create) => TagStatus::Created,
                    (PutOutcome::Written(_), _) => TagStatus::Moved,
                };
                result.digest = Some(match outcome {
                    PutOutcome::Written(d) => d,
                    PutOutcome::AlreadyTagged => manifest.digest.clone(),
                });
            }
            Err(error) => {
                report.results[i].status = TagStatus::Failed;
                return Err(RetagError::Partial { error, report });
            }
        }
    }
    Ok(report)
}

/// `v1.2.3 → sha256:0123456789ab (created)` lines, for human output.
pub fn describe(report: &RetagReport) -> Vec<String> {
    report
        .results
        .iter()
        .map(|r| {
            let digest = r.digest.as_deref().map(short_digest).unwrap_or("-");
            match (&r.previous_digest, r.status) {
                (Some(prev), TagStatus::Moved) => {
                    format!(
                        "{} → {digest} ({}, was {})",
                        r.tag,
                        r.status,
                        short_digest(prev)
                    )
                }
                _ => format!(
                    "{} → {digest} ({})",
                    r.tag,
                    r.note()
                        .map_or_else(|| r.status.to_string(), str::to_string)
                ),
            }
        })
        .collect()
}
