//! Applying tags: read the source manifest once, check every target tag (immutable tags may
//! not move), then put the same manifest under each tag that is missing or may move. The
//! reading and deciding is [`crate::plan`], shared with the dry run; this module writes.

pub use crate::backend::Backend;
use crate::digest::short_digest;
use crate::oci::PutOutcome;
pub use crate::outcome::{Conflict, RetagError, RetagOptions, RetagReport, TagResult, TagStatus};
use crate::plan::{plan, Plan, PlanAction};
use crate::reference::SourceRef;
use crate::tags::PlannedTag;

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
