//! Image tags for a release, applied in the registry without pulling.
//!
//! The release policy builds one image per merge and gives it two tags: an immutable
//! `sha-<commit>` and a human `vMAJOR.MINOR.PATCH`. This crate computes those tags
//! ([`version`], [`tags`]) and applies them by manifest ([`retag`]): the source manifest is
//! read once and its exact bytes are put under each new tag, so the digest never changes and
//! no layer is pulled or pushed. Two backends: any OCI distribution registry ([`oci`], with
//! basic and bearer-token auth from [`auth`]) and Amazon ECR through its API ([`ecr`]).
//! Floating tags (`vX.Y`, `vX`) only move forward ([`floating`]). What a retag would do is
//! decided first, by reading only ([`mod@plan`]); the dry run shows that plan and the real run
//! carries it out.

#![warn(missing_docs)]

pub mod auth;
pub mod backend;
mod body;
pub mod digest;
pub mod ecr;
pub mod error;
pub mod floating;
pub mod labels;
pub mod oci;
pub mod outcome;
pub mod plan;
pub mod reference;
pub mod retag;
pub mod tags;
pub mod version;

pub use error::{ErrorKind, RegistryError};
pub use plan::{plan, Plan, PlanAction, TagPlan};
pub use reference::{ImageRepo, SourceRef};
pub use retag::{
    apply, retag, Backend, RetagError, RetagOptions, RetagReport, TagResult, TagStatus,
};
pub use tags::{compute_tags, CommitSha, PlannedTag, TagKind, TagRequest};
pub use version::{parse_version, version_from_ref, Bump, VersionError};

/// Connects to the registry `repo` lives in: ECR's API for ECR hosts, the OCI distribution
/// API otherwise.
pub async fn connect(
    repo: &ImageRepo,
    options: oci::ClientOptions,
) -> Result<Backend, RegistryError> {
    match &repo.ecr {
        Some(ecr) => Ok(Backend::Ecr(ecr::EcrClient::new(repo, ecr).await)),
        None => oci::RegistryClient::new(repo, options).map(Backend::Oci),
    }
}
