//! Does an image tag exist? Asked before rollback renders a revision for a version that no
//! revision has run: registering a revision whose image cannot be pulled would only turn a
//! rollback into a second outage.

use aws_config::Region;
use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_ecr::types::ImageIdentifier;

use crate::ecs::Ecs;
use crate::image::ImageRef;
use crate::{Error, Result};

/// An ECR repository named by an image reference `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrRepository {
    pub registry_id: String,
    pub region: String,
    pub name: String,
}

/// The ECR repository of an image reference, or `None` for any other registry.
pub fn ecr_repository(image: &ImageRef) -> Option<EcrRepository> {
    let (host, name) = image.repository.split_once('/')?;
    let mut parts = host.split('.');
    let (account, dkr, ecr, region) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let rest: Vec<&str> = parts.collect();
    let aws_domain = matches!(
        rest.as_slice(),
        ["amazonaws", "com"] | ["amazonaws", "com", "cn"]
    );
    if dkr != "dkr"
        || !(ecr == "ecr" || ecr == "ecr-fips")
        || !aws_domain
        || account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some(EcrRepository {
        registry_id: account.into(),
        region: region.into(),
        name: name.into(),
    })
}

/// What is known about `image:tag` in its registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagCheck {
    /// The tag exists (ECR), with the digest it points at.
    Exists { digest: Option<String> },
    /// The registry is not ECR: ship cannot look.
    Unverifiable(String),
}

/// Look `repository:tag` up in ECR. A missing tag or repository is [`Error::NotFound`].
pub async fn check_tag(ecs: &Ecs, repository: &str, tag: &str) -> Result<TagCheck> {
    let image = ImageRef::parse(&format!("{repository}:{tag}"))?;
    let Some(repo) = ecr_repository(&image) else {
        return Ok(TagCheck::Unverifiable(format!(
            "{repository} is not an ECR repository, so ship cannot check that tag {tag} exists"
        )));
    };
    let conf = ecs.sdk_config("ECR DescribeImages")?;
    // The repository's region, which may differ from the cluster's; the endpoint (tests,
    // AWS_ENDPOINT_URL) and credentials stay those of the chain.
    let ecr_conf = aws_sdk_ecr::config::Builder::from(conf)
        .region(Region::new(repo.region.clone()))
        .build();
    let client = aws_sdk_ecr::Client::from_conf(ecr_conf);
    let resp = client
        .describe_images()
        .registry_id(&repo.registry_id)
        .repository_name(&repo.name)
        .image_ids(ImageIdentifier::builder().image_tag(tag).build())
        .send()
        .await;
    match resp {
        Ok(out) => {
            let found = out
                .image_details()
                .iter()
                .find(|d| d.image_tags().iter().any(|t| t == tag));
            match found {
                Some(d) => Ok(TagCheck::Exists {
                    digest: d.image_digest().map(str::to_owned),
                }),
                None => Err(not_found(repository, tag)),
            }
        }
        Err(e) => match e.as_service_error().and_then(|s| s.code()) {
            Some("ImageNotFoundException") => Err(not_found(repository, tag)),
            Some("RepositoryNotFoundException") => Err(Error::NotFound(format!(
                "ECR repository {:?} (registry {}, region {}) does not exist, so version {tag} \
                 cannot be rolled back to: check `to-version` and the image the service runs",
                repo.name, repo.registry_id, repo.region
            ))),
            _ => Err(Error::Aws(format!(
                "ECR DescribeImages for {repository}:{tag} failed: {}. The role needs \
                 ecr:DescribeImages on the repository",
                DisplayErrorContext(&e)
            ))),
        },
    }
}

fn not_found(repository: &str, tag: &str) -> Error {
    Error::NotFound(format!(
        "version {tag} exists nowhere: no revision of the family runs it and {repository} has no \
         tag {tag}. Check `to-version` (the image tag, e.g. v1.4.2), or build and push that \
         version first"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ecr_hosts_only() {
        let i =
            ImageRef::parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:v1").unwrap();
        assert_eq!(
            ecr_repository(&i),
            Some(EcrRepository {
                registry_id: "123456789012".into(),
                region: "eu-west-1".into(),
                name: "team/api".into()
            })
        );
        for other in [
            "ghcr.io/org/api:v1",
            "public.ecr.aws/org/api:v1",
            "api:v1",
            "1234.dkr.ecr.eu-west-1.amazonaws.com/api:v1",
            "123456789012.dkr.ecr.eu-west-1.example.com/api:v1",
        ] {
            assert_eq!(
                ecr_repository(&ImageRef::parse(other).unwrap()),
                None,
                "{other}"
            );
        }
    }
}
