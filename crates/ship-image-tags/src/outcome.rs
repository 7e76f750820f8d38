//! What a retag did, or why it did not: per-tag results, the report, and the error. Its own
//! module so that the plan (which refuses with [`RetagError`]) and the retag (which reports)
//! both depend on it and not on each other.

use crate::error::RegistryError;
use crate::tags::TagKind;
use serde::Serialize;
use std::fmt;

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
