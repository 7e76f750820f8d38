//! Retagging in Amazon ECR through its API: `BatchGetImage` reads the manifest, `PutImage`
//! stores the same manifest under another tag. Credentials come from the standard AWS chain
//! (environment, web identity, profile, instance/container roles); `AWS_ENDPOINT_URL` (or
//! `AWS_ENDPOINT_URL_ECR`) points the client elsewhere, e.g. at a local moto server.

use crate::digest::sha256_digest;
use crate::error::{error_chain, target, ErrorKind, RegistryError};
use crate::floating::ListLimits;
use crate::oci::{Manifest, PutOutcome, MANIFEST_MEDIA_TYPES};
use crate::reference::{EcrRegistry, ImageRepo, SourceRef};
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::types::{ImageFailureCode, ImageIdentifier, ListImagesFilter, TagStatus};

/// A client for one ECR repository.
#[derive(Debug, Clone)]
pub struct EcrClient {
    client: aws_sdk_ecr::Client,
    registry: String,
    registry_id: String,
    region: String,
    repository: String,
    list_limits: ListLimits,
}

/// What the caller needs to know about a failed call to classify it.
struct Failure {
    code: Option<String>,
    message: String,
    status: Option<u16>,
    transport: Option<bool>, // Some(true) = timeout, Some(false) = I/O
}

impl EcrClient {
    /// A client for `repo` in the account and region its host names. The region comes from
    /// the registry host, not from `AWS_REGION`: the repository lives where its host says.
    pub async fn new(repo: &ImageRepo, ecr: &EcrRegistry) -> Self {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_ecr::config::Region::new(ecr.region.clone()))
            .load()
            .await;
        Self::from_config(repo, ecr, &config)
    }

    /// A client from an already loaded AWS configuration (its region is replaced by the
    /// registry's).
    pub fn from_config(
        repo: &ImageRepo,
        ecr: &EcrRegistry,
        config: &aws_config::SdkConfig,
    ) -> Self {
        let conf = aws_sdk_ecr::config::Builder::from(config)
            .region(aws_sdk_ecr::config::Region::new(ecr.region.clone()))
            .build();
        Self {
            client: aws_sdk_ecr::Client::from_conf(conf),
            registry: repo.registry.clone(),
            registry_id: ecr.account.clone(),
            region: ecr.region.clone(),
            repository: repo.repository.clone(),
            list_limits: ListLimits::ECR,
        }
    }

    /// The same client with other paging limits for [`EcrClient::list_tags`].
    pub fn with_list_limits(mut self, limits: ListLimits) -> Self {
        self.list_limits = limits;
        self
    }

    /// The registry host, for messages.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    fn identifier(reference: &SourceRef) -> ImageIdentifier {
        match reference {
            SourceRef::Tag(t) => ImageIdentifier::builder().image_tag(t).build(),
            SourceRef::Digest(d) => ImageIdentifier::builder().image_digest(d).build(),
        }
    }

    /// Reads the image `reference` names: its manifest string, media type and ECR's digest.
    /// `Ok(None)` when the repository has no such image.
    async fn batch_get(
        &self,
        reference: &SourceRef,
        doing: &str,
    ) -> Result<Option<Manifest>, RegistryError> {
        let output = self
            .client
            .batch_get_image()
            .registry_id(&self.registry_id)
            .repository_name(&self.repository)
            .image_ids(Self::identifier(reference))
            .set_accepted_media_types(Some(
                MANIFEST_MEDIA_TYPES.iter().map(|m| m.to_string()).collect(),
            ))
            .send()
            .await
            .map_err(|e| self.sdk_error(e, doing, reference.as_str()))?;
        if let Some(image) = output.images().first() {
            let manifest = image.image_manifest().unwrap_or_default();
            let protocol = |what: &str| {
                RegistryError::new(
                    ErrorKind::Protocol,
                    &self.registry,
                    format!(
                        "ECR registry {} returned an unusable image for {}:{}: {what}",
                        self.registry,
                        self.repository,
                        reference.as_str()
                    ),
                    "that the source is an image built by a current builder",
                )
            };
            if manifest.is_empty() {
                return Err(protocol("no manifest"));
            }
            let mut parsed = Manifest::from_bytes(
                manifest.as_bytes().to_vec(),
                image.image_manifest_media_type(),
            )
            .map_err(|e| protocol(&e))?;
            // ECR names images by its own digest (the sha256 of the manifest on AWS; not on
            // every emulator), so compare and report that one.
            parsed.digest = image
                .image_id()
                .and_then(|id| id.image_digest())
                .map(str::to_string)
                .unwrap_or_else(|| sha256_digest(manifest.as_bytes()));
            return Ok(Some(parsed));
        }
        match output.failures().first() {
            None => Ok(None),
            Some(f) if f.failure_code() == Some(&ImageFailureCode::ImageNotFound) => Ok(None),
            Some(f) => Err(RegistryError::new(
                ErrorKind::Rejected,
                &self.registry,
                format!(
                    "ECR registry {} refused {doing} {}:{}: {} ({})",
                    self.registry,
                    self.repository,
                    reference.as_str(),
                    f.failure_reason().unwrap_or("no reason given"),
                    f.failure_code()
                        .map(|c| c.as_str())
                        .unwrap_or("unknown failure"),
                ),
                "the source reference and the repository's settings",
            )),
        }
    }

    /// Reads the manifest of the image `reference` names.
    pub async fn get_manifest(&self, reference: &SourceRef) -> Result<Manifest, RegistryError> {
        self.batch_get(reference, "reading image").await?.ok_or_else(|| {
            RegistryError::new(
                ErrorKind::NotFound,
                &self.registry,
                format!(
                    "ECR registry {} has no image {}:{} (ImageNotFound)",
                    self.registry,
                    self.repository,
                    reference.as_str()
                ),
                "the image name and that the source tag or digest was pushed there \
                 (the default source is sha-<first 7 characters of the commit>, pushed by the build)",
            )
        })
    }

    /// The digest `tag` points at in ECR, or `None` when the tag does not exist.
    pub async fn tag_digest(&self, tag: &str) -> Result<Option<String>, RegistryError> {
        Ok(self
            .batch_get(&SourceRef::Tag(tag.to_string()), "checking tag")
            .await?
            .map(|m| m.digest))
    }

    /// Every tag of the repository: `ListImages` with `tagStatus` TAGGED (untagged images
    /// have nothing to compare), following `nextToken` for at most
    /// [`ListLimits::max_pages`] pages.
    pub async fn list_tags(&self) -> Result<Vec<String>, RegistryError> {
        let limits = self.list_limits;
        let mut tags = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..limits.max_pages {
            let output = self
                .client
                .list_images()
                .registry_id(&self.registry_id)
                .repository_name(&self.repository)
                .filter(
                    ListImagesFilter::builder()
                        .tag_status(TagStatus::Tagged)
                        .build(),
                )
                .max_results(i32::try_from(limits.page_size).unwrap_or(i32::MAX))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.sdk_error(e, "listing the tags of", ""))?;
            tags.extend(
                output
                    .image_ids()
                    .iter()
                    .filter_map(|id| id.image_tag())
                    .map(str::to_string),
            );
            match output.next_token().filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next.to_string()),
                None => return Ok(tags),
            }
        }
        Err(limits.exceeded(&self.registry, &self.repository, tags.len()))
    }

    /// Stores `manifest` under `tag` with `PutImage`. ECR's `ImageAlreadyExistsException`
    /// (this tag on this very manifest already) is [`PutOutcome::AlreadyTagged`].
    pub async fn put_manifest(
        &self,
        tag: &str,
        manifest: &Manifest,
    ) -> Result<PutOutcome, RegistryError> {
        let text = std::str::from_utf8(&manifest.bytes).map_err(|_| {
            RegistryError::new(
                ErrorKind::Protocol,
                &self.registry,
                format!(
                    "the manifest of {} is not UTF-8 text, which ECR's PutImage requires",
                    manifest.digest
                ),
                "the source image",
            )
        })?;
        let result = self
            .client
            .put_image()
            .registry_id(&self.registry_id)
            .repository_name(&self.repository)
            .image_manifest(text)
            .image_manifest_media_type(&manifest.media_type)
            .image_tag(tag)
            .send()
            .await;
        match result {
            Ok(output) => Ok(PutOutcome::Written(
                output
                    .image()
                    .and_then(|i| i.image_id())
                    .and_then(|id| id.image_digest())
                    .unwrap_or(&manifest.digest)
                    .to_string(),
            )),
            Err(SdkError::ServiceError(e))
                if e.err().code() == Some("ImageAlreadyExistsException") =>
            {
                Ok(PutOutcome::AlreadyTagged)
            }
            Err(e) => Err(self.sdk_error(e, "tagging", tag)),
        }
    }

    fn sdk_error<E>(
        &self,
        err: SdkError<E, aws_sdk_ecr::config::http::HttpResponse>,
        doing: &str,
        reference: &str,
    ) -> RegistryError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let failure = match &err {
            SdkError::ServiceError(s) => Failure {
                code: s.err().code().map(str::to_string),
                message: s.err().message().unwrap_or_default().to_string(),
                status: Some(s.raw().status().as_u16()),
                transport: None,
            },
            SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => Failure {
                code: None,
                message: error_chain(&err),
                status: None,
                transport: Some(d.is_timeout()),
            },
            SdkError::TimeoutError(_) => Failure {
                code: None,
                message: error_chain(&err),
                status: None,
                transport: Some(true),
            },
            _ => Failure {
                code: None,
                message: error_chain(&err),
                status: None,
                transport: None,
            },
        };
        self.classify(failure, doing, reference)
    }

    fn classify(&self, f: Failure, doing: &str, reference: &str) -> RegistryError {
        let target = target(&self.repository, reference);
        let api = format!(
            "ECR registry {} (account {}, region {}{})",
            self.registry,
            self.registry_id,
            self.region,
            endpoint_note()
        );
        let message = f.message.replace('\n', " ");
        let credentials_check = format!(
            "the AWS credentials (aws-actions/configure-aws-credentials or AWS_* variables) and that they \
             allow ecr:BatchGetImage and ecr:PutImage (and ecr:ListImages for floating tags) on {} in account {}",
            self.repository, self.registry_id
        );
        if let Some(timeout) = f.transport {
            return RegistryError::new(
                ErrorKind::Unreachable,
                &self.registry,
                format!(
                    "{api} {} when {doing} {target}: {message}",
                    if timeout { "did not answer in time" } else { "is unreachable" }
                ),
                "network access from this runner to the ECR API (proxy, firewall, VPC endpoint) and AWS_ENDPOINT_URL if set",
            );
        }
        let code = f.code.as_deref().unwrap_or("");
        let detail = if code.is_empty() {
            message.clone()
        } else {
            format!("{code}: {message}")
        };
        match code {
            "RepositoryNotFoundException" => RegistryError::new(
                ErrorKind::NotFound,
                &self.registry,
                format!("{api} has no repository {} ({detail})", self.repository),
                "the image name, or create the repository (aws ecr create-repository)",
            ),
            "ImageNotFoundException" => RegistryError::new(
                ErrorKind::NotFound,
                &self.registry,
                format!("{api} has no image {target} ({detail})"),
                "the image name and that the source was pushed there",
            ),
            "AccessDeniedException" | "AccessDenied" => RegistryError::new(
                ErrorKind::Forbidden,
                &self.registry,
                format!("{api} denied {doing} {target} ({detail})"),
                credentials_check,
            ),
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "MissingAuthenticationToken"
            | "SignatureDoesNotMatch" => RegistryError::new(
                ErrorKind::Unauthorized,
                &self.registry,
                format!("{api} refused the AWS credentials when {doing} {target} ({detail})"),
                credentials_check,
            ),
            "ImageTagAlreadyExistsException" => RegistryError::new(
                ErrorKind::Rejected,
                &self.registry,
                format!("{api} refused {doing} {target}: the repository has immutable tags and the tag is on another image ({detail})"),
                "which image the tag already names (aws ecr describe-images); release a new version instead",
            ),
            _ if f.status.is_some_and(|s| s >= 500) || code == "ServerException" => RegistryError::new(
                ErrorKind::Server,
                &self.registry,
                format!(
                    "{api} failed with HTTP {} when {doing} {target} ({detail})",
                    f.status.unwrap_or(500)
                ),
                "the AWS Health Dashboard for ECR in this region, then re-run",
            ),
            _ if f.status.is_none() && message.contains("no credentials found in chain") => RegistryError::new(
                ErrorKind::Unauthorized,
                &self.registry,
                format!(
                    "no AWS credentials for {api} when {doing} {target} (tried the environment, \
                     profiles, web identity, ECS container and EC2 instance credentials)"
                ),
                credentials_check,
            ),
            _ if f.status.is_none() && message.to_ascii_lowercase().contains("credential") => RegistryError::new(
                ErrorKind::Unauthorized,
                &self.registry,
                format!("no usable AWS credentials for {api} when {doing} {target}: {message}"),
                credentials_check,
            ),
            _ if f.status.is_some() => RegistryError::new(
                ErrorKind::Rejected,
                &self.registry,
                format!(
                    "{api} rejected {doing} {target} with HTTP {} ({detail})",
                    f.status.unwrap_or_default()
                ),
                "the repository's settings and the request",
            ),
            _ => RegistryError::new(
                ErrorKind::Protocol,
                &self.registry,
                format!("calling {api} failed when {doing} {target}: {message}"),
                "the AWS configuration (region, AWS_ENDPOINT_URL, credentials)",
            ),
        }
    }
}

/// `, endpoint <url>` when `AWS_ENDPOINT_URL(_ECR)` redirects the client, so messages say
/// where requests really went.
fn endpoint_note() -> String {
    ["AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map(|url| format!(", endpoint {url}"))
        .unwrap_or_default()
}
