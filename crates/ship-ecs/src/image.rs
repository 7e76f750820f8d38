//! Container image references: `registry/repo:tag`, `repo@sha256:...`.

use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Everything before the tag or digest, registry included.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() || s.chars().any(char::is_whitespace) {
            return Err(Error::Input(format!(
                "`image` {s:?} is not an image reference: pass a full reference such as \
                 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v1.2.3"
            )));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (s, None),
        };
        // A ':' after the last '/' separates the tag; one before it is a registry port.
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match rest[slash..].rfind(':') {
            Some(i) => (
                rest[..slash + i].to_string(),
                Some(rest[slash + i + 1..].to_string()),
            ),
            None => (rest.to_string(), None),
        };
        if repository.is_empty() || tag.as_deref() == Some("") || digest.as_deref() == Some("") {
            return Err(Error::Input(format!(
                "`image` {s:?} is not an image reference: expected REPOSITORY:TAG or REPOSITORY@DIGEST"
            )));
        }
        Ok(ImageRef {
            repository,
            tag,
            digest,
        })
    }

    /// Refuse references that do not pin a version: no tag and no digest, or the tag `latest`.
    pub fn check_immutable(&self, original: &str) -> Result<()> {
        if self.digest.is_some() {
            return Ok(());
        }
        match self.tag.as_deref() {
            None => Err(Error::Input(format!(
                "`image` {original:?} has no tag: a rollout must deploy an immutable version. \
                 Pass the versioned tag the release built (e.g. {}:v1.2.3) or a digest, or \
                 --allow-mutable-tag if you really mean it.",
                self.repository
            ))),
            Some("latest") => Err(Error::Input(format!(
                "`image` {original:?} uses the mutable tag `latest`: the deployed code could change \
                 under the service and a rollback could not return to it. Pass the versioned tag \
                 (e.g. {}:v1.2.3) or a digest, or --allow-mutable-tag if you really mean it.",
                self.repository
            ))),
            Some(_) => Ok(()),
        }
    }

    /// The repository without registry host, e.g. `team/api`, for matching containers.
    pub fn repository_name(&self) -> &str {
        let first = self.repository.split('/').next().unwrap_or("");
        if self.repository.contains('/')
            && (first.contains('.') || first.contains(':') || first == "localhost")
        {
            &self.repository[first.len() + 1..]
        } else {
            &self.repository
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ecr_with_tag() {
        let i = ImageRef::parse("1234.dkr.ecr.eu-west-1.amazonaws.com/team/api:v1.2.3").unwrap();
        assert_eq!(
            i.repository,
            "1234.dkr.ecr.eu-west-1.amazonaws.com/team/api"
        );
        assert_eq!(i.tag.as_deref(), Some("v1.2.3"));
        assert_eq!(i.repository_name(), "team/api");
        assert!(i.check_immutable("x").is_ok());
    }

    #[test]
    fn registry_port_is_not_a_tag() {
        let i = ImageRef::parse("localhost:5000/api").unwrap();
        assert_eq!(i.repository, "localhost:5000/api");
        assert_eq!(i.tag, None);
        assert_eq!(i.check_immutable("x").unwrap_err().exit_code(), 2);
    }

    #[test]
    fn latest_refused_digest_allowed() {
        let e = ImageRef::parse("api:latest")
            .unwrap()
            .check_immutable("api:latest");
        assert!(e.unwrap_err().to_string().contains("--allow-mutable-tag"));
        let d = ImageRef::parse("api@sha256:abc").unwrap();
        assert_eq!(d.digest.as_deref(), Some("sha256:abc"));
        assert!(d.check_immutable("x").is_ok());
    }

    #[test]
    fn rejects_garbage() {
        assert!(ImageRef::parse("").is_err());
        assert!(ImageRef::parse("api:").is_err());
        assert!(ImageRef::parse("a b").is_err());
    }
}
