//! What a retag would do, decided before anything is written: the source is resolved, every
//! target tag is read, and each gets an action (create, already there, move, keep, refuse).
//!
//! The real run ([`crate::retag::retag`]) and the dry run both call [`plan`], and the real run
//! only carries the plan out ([`crate::retag::apply`]), so a dry run cannot predict something
//! the real run would not do.

use crate::backend::Backend;
use crate::digest::short_digest;
use crate::error::RegistryError;
use crate::floating::{newer_release, release_of_tag, Kept, Line};
use crate::oci::Manifest;
use crate::outcome::{Conflict, RetagError, RetagOptions};
use crate::reference::SourceRef;
use crate::tags::{PlannedTag, TagKind};
use serde::Serialize;
use std::fmt;

/// What the real run does with one tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanAction {
    /// The tag does not exist: it will be created on the source digest.
    Create,
    /// The tag already names the source digest: nothing to write.
    AlreadyThere,
    /// The tag names another digest and may move (floating tags, `latest`, or `--force`).
    Move,
    /// A floating tag whose line has a newer release: left where it is (or not created).
    Keep,
    /// An immutable tag (`vX.Y.Z`, `sha-…`) on another digest, without `--force`: the real
    /// run refuses and writes nothing.
    Refuse,
}

impl fmt::Display for PlanAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PlanAction::Create => "create",
            PlanAction::AlreadyThere => "already there",
            PlanAction::Move => "move",
            PlanAction::Keep => "keep",
            PlanAction::Refuse => "refuse",
        })
    }
}

/// The decision for one tag ([`crate::retag::TagResult`] is what became of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagPlan {
    /// The tag.
    pub tag: String,
    /// Its kind, which decides whether it may move.
    pub kind: TagKind,
    /// What the real run does with it.
    pub action: PlanAction,
    /// The digest the tag names before the run, `None` when it does not exist.
    pub current_digest: Option<String>,
    /// For [`PlanAction::Keep`], the newer release (`v1.3.0`).
    pub kept_on: Option<String>,
    /// For [`PlanAction::Keep`] and [`PlanAction::Refuse`], why, starting with the tag.
    pub reason: Option<String>,
}

impl TagPlan {
    /// The reason without the tag's name, for lines and tables that name the tag already.
    pub fn note(&self) -> Option<&str> {
        crate::outcome::note(&self.tag, self.reason.as_deref())
    }
}

/// Everything the real run needs, and everything a dry run shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The source reference, as given.
    pub source: SourceRef,
    /// The source manifest, exactly as the registry stores it.
    pub manifest: Manifest,
    /// One decision per target tag, in order.
    pub tags: Vec<TagPlan>,
}

impl Plan {
    /// The immutable tags on another digest (the [`PlanAction::Refuse`] ones).
    pub fn conflicts(&self) -> Vec<Conflict> {
        self.tags
            .iter()
            .filter(|t| t.action == PlanAction::Refuse)
            .filter_map(|t| {
                Some(Conflict {
                    tag: t.tag.clone(),
                    existing: t.current_digest.clone()?,
                })
            })
            .collect()
    }

    /// The error the real run stops with, when some tag is refused.
    pub fn refusal(&self) -> Option<RetagError> {
        let conflicts = self.conflicts();
        (!conflicts.is_empty()).then(|| RetagError::Immutable {
            source_ref: self.source.to_string(),
            source_digest: self.manifest.digest.clone(),
            conflicts,
        })
    }
}

/// Decides what retagging `source` with `tags` does, reading the registry only.
///
/// Reads the source manifest, then each target tag's digest, then (only when a floating tag
/// would change and there is a release version among `tags`) the repository's tag list, to
/// keep floating tags from moving backwards. Refusals are part of the plan, not an error, so
/// a dry run shows every tag's fate; the error is for what could not be read.
pub async fn plan(
    backend: &Backend,
    source: &SourceRef,
    tags: &[PlannedTag],
    options: RetagOptions,
) -> Result<Plan, RegistryError> {
    let manifest = backend.get_manifest(source).await?;
    let mut current = Vec::with_capacity(tags.len());
    for tag in tags {
        // The source tag itself needs no second request.
        let digest = if matches!(source, SourceRef::Tag(t) if *t == tag.name) {
            Some(manifest.digest.clone())
        } else {
            backend.tag_digest(&tag.name).await?
        };
        current.push(digest);
    }
    let kept = keep_floating(backend, tags, &current, &manifest.digest).await?;
    let decisions = tags
        .iter()
        .zip(current)
        .zip(kept)
        .map(|((tag, current), kept)| decide(tag, current, kept, &manifest.digest, options))
        .collect();
    Ok(Plan {
        source: source.clone(),
        manifest,
        tags: decisions,
    })
}

fn decide(
    tag: &PlannedTag,
    current: Option<String>,
    kept: Option<Kept>,
    digest: &str,
    options: RetagOptions,
) -> TagPlan {
    let mut plan = TagPlan {
        tag: tag.name.clone(),
        kind: tag.kind,
        action: PlanAction::Create,
        current_digest: None,
        kept_on: None,
        reason: None,
    };
    if let Some(k) = kept {
        plan.action = PlanAction::Keep;
        plan.reason = Some(format!("{} {}", tag.name, k.phrase(current.is_some())));
        plan.kept_on = Some(k.newer);
    } else if let Some(existing) = current.as_deref() {
        plan.action = if existing == digest {
            PlanAction::AlreadyThere
        } else if tag.kind.is_immutable() && !options.force {
            plan.reason = Some(format!(
                "{} already points at {existing}; version and sha- tags are immutable: \
                 release a new version instead, or pass --force to move it",
                tag.name
            ));
            PlanAction::Refuse
        } else {
            PlanAction::Move
        };
    }
    plan.current_digest = current;
    plan
}

/// For each of `tags`, whether it is a floating tag to keep where it is because its line has
/// a newer release than the version tag among `tags`. Lists the repository's tags only when
/// some floating tag would change (`current` is not `digest`).
async fn keep_floating(
    backend: &Backend,
    tags: &[PlannedTag],
    current: &[Option<String>],
    digest: &str,
) -> Result<Vec<Option<Kept>>, RegistryError> {
    let ours = tags
        .iter()
        .filter(|t| t.kind == TagKind::Version)
        .find_map(|t| release_of_tag(&t.name).map(|v| (v, t.name.as_str())));
    let candidates: Vec<Option<Line>> = tags
        .iter()
        .zip(current)
        .map(|(tag, current)| {
            (tag.kind == TagKind::Floating && current.as_deref() != Some(digest))
                .then(|| Line::of_tag(&tag.name))
                .flatten()
        })
        .collect();
    let (Some((ours, ours_tag)), true) = (ours, candidates.iter().any(Option::is_some)) else {
        return Ok(vec![None; tags.len()]);
    };
    let existing = backend.list_tags().await?;
    Ok(candidates
        .into_iter()
        .map(|line| {
            line.and_then(|line| {
                newer_release(line, &ours, ours_tag, existing.iter().map(String::as_str))
            })
        })
        .collect())
}

/// `v1.2 → move (was sha256:5e884898da28)` lines, for human output of a dry run.
pub fn describe_plan(plan: &Plan) -> Vec<String> {
    plan.tags
        .iter()
        .map(|t| match (t.action, t.current_digest.as_deref()) {
            (PlanAction::AlreadyThere, Some(d)) => {
                format!("{} → {} ({})", t.tag, t.action, short_digest(d))
            }
            (PlanAction::Move, Some(d)) => {
                format!("{} → {} (was {})", t.tag, t.action, short_digest(d))
            }
            _ => match t.note() {
                Some(note) => format!("{} → {} ({note})", t.tag, t.action),
                None => format!("{} → {}", t.tag, t.action),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "sha256:aaaa";
    const OTHER: &str = "sha256:bbbb";

    fn tag(name: &str, kind: TagKind) -> PlannedTag {
        PlannedTag {
            name: name.into(),
            kind,
        }
    }

    fn action(kind: TagKind, current: Option<&str>, force: bool) -> PlanAction {
        decide(
            &tag("t", kind),
            current.map(str::to_string),
            None,
            SOURCE,
            RetagOptions { force },
        )
        .action
    }

    #[test]
    fn actions() {
        use PlanAction::*;
        for kind in [TagKind::Sha, TagKind::Version] {
            assert_eq!(action(kind, None, false), Create);
            assert_eq!(action(kind, Some(SOURCE), false), AlreadyThere);
            assert_eq!(action(kind, Some(OTHER), false), Refuse);
            assert_eq!(action(kind, Some(OTHER), true), Move);
        }
        for kind in [TagKind::Floating, TagKind::Latest] {
            assert_eq!(action(kind, None, false), Create);
            assert_eq!(action(kind, Some(SOURCE), false), AlreadyThere);
            assert_eq!(action(kind, Some(OTHER), false), Move);
        }
    }

    #[test]
    fn kept_floating_tags_say_why() {
        let kept = Kept {
            newer: "v1.3.0".into(),
            ours: "v1.1.4".into(),
        };
        let decided = |current: Option<&str>| {
            decide(
                &tag("v1", TagKind::Floating),
                current.map(str::to_string),
                Some(kept.clone()),
                SOURCE,
                RetagOptions::default(),
            )
        };
        let existing = decided(Some(OTHER));
        assert_eq!(existing.action, PlanAction::Keep);
        assert_eq!(existing.kept_on.as_deref(), Some("v1.3.0"));
        assert_eq!(existing.note(), Some("kept on v1.3.0, newer than v1.1.4"));
        assert_eq!(existing.current_digest.as_deref(), Some(OTHER));
        assert_eq!(
            decided(None).note(),
            Some("not created: v1.3.0 is newer than v1.1.4")
        );
    }
}
