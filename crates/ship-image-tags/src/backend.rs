//! Where tags are applied: the OCI distribution API or ECR's, behind one type that the plan
//! (reading) and the retag (writing) share.

use crate::ecr::EcrClient;
use crate::error::RegistryError;
use crate::oci::{Manifest, PutOutcome, RegistryClient};
use crate::reference::SourceRef;

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
