//! Image repositories (`ghcr.io/org/api`, `123456789012.dkr.ecr.us-east-1.amazonaws.com/api`)
//! and the source reference (a tag or a digest) to retag.

use crate::digest::is_sha256_digest;
use crate::tags::is_valid_tag;
use std::fmt;

/// Docker Hub's canonical registry name and the host its API lives on.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// An input that is not an image repository or source reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReferenceError(pub String);

/// An ECR registry, recognised from its host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrRegistry {
    /// The 12-digit AWS account id (ECR's registry id).
    pub account: String,
    /// The AWS region, e.g. `us-east-1`.
    pub region: String,
}

/// An image repository: registry host and repository path, without tag or digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRepo {
    /// The repository as the user wrote it (trimmed), used for image references in outputs.
    pub name: String,
    /// The registry host (and port), e.g. `ghcr.io`, `localhost:5000`, `docker.io`.
    pub registry: String,
    /// The repository path inside the registry, e.g. `org/api` (`library/nginx` on Docker Hub).
    pub repository: String,
    /// Set when the registry is Amazon ECR.
    pub ecr: Option<EcrRegistry>,
}

impl ImageRepo {
    /// Parses an image repository the way Docker does: the first path component is a registry
    /// when it contains `.` or `:` or is `localhost`; otherwise the repository is on Docker
    /// Hub (`nginx` is `docker.io/library/nginx`).
    ///
    /// A tag (`:v1`) or digest (`@sha256:…`) is refused: the thing to retag is the separate
    /// `source` input.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(ReferenceError(
                "image is empty: expected a repository such as ghcr.io/org/api".into(),
            ));
        }
        if let Some(scheme) = ["https://", "http://", "oci://", "docker://"]
            .iter()
            .find(|s| name.starts_with(*s))
        {
            return Err(ReferenceError(format!(
                "image `{name}` must be a repository reference without a scheme (drop `{scheme}`)"
            )));
        }
        if let Some((_, digest)) = name.split_once('@') {
            return Err(ReferenceError(format!(
                "image `{name}` must be a repository without a digest: pass `{digest}` as the source instead"
            )));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), rest.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        if let Some((_, tag)) = path.rsplit_once(':') {
            return Err(ReferenceError(format!(
                "image `{name}` must be a repository without a tag: pass `{tag}` as the source instead"
            )));
        }
        validate_registry(name, &registry)?;
        let registry = if registry.eq_ignore_ascii_case("index.docker.io") {
            DOCKER_HUB.to_string()
        } else {
            registry
        };
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        validate_repository(name, &repository)?;
        let ecr = ecr_registry(&registry);
        Ok(Self {
            name: name.to_string(),
            registry,
            repository,
            ecr,
        })
    }

    /// The host (and port) the distribution API is served on.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// Whether the registry is on the loopback interface, where Docker speaks plain HTTP.
    pub fn is_loopback(&self) -> bool {
        let host = host_without_port(&self.registry);
        host.eq_ignore_ascii_case("localhost")
            || host == "::1"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// `name:tag`, the full reference of a tag in this repository.
    pub fn tag_ref(&self, tag: &str) -> String {
        format!("{}:{tag}", self.name)
    }

    /// `name@digest`.
    pub fn digest_ref(&self, digest: &str) -> String {
        format!("{}@{digest}", self.name)
    }
}

impl fmt::Display for ImageRepo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The host part of `host[:port]` (brackets of an IPv6 literal removed).
fn host_without_port(registry: &str) -> &str {
    if let Some(rest) = registry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    registry.split(':').next().unwrap_or(registry)
}

fn validate_registry(input: &str, registry: &str) -> Result<(), ReferenceError> {
    let err = |why: &str| {
        Err(ReferenceError(format!(
            "image `{input}` has an invalid registry host `{registry}`: {why}"
        )))
    };
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return err("unterminated IPv6 address");
        };
        (host, after.strip_prefix(':'))
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        }
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
    {
        return err("expected a host name with an optional :port");
    }
    if let Some(port) = port {
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return err("the port must be a number from 1 to 65535");
        }
    }
    Ok(())
}

/// Validates the repository path against the distribution spec's grammar: components of
/// lowercase alphanumerics separated by `.`, `_`, `__` or dashes, joined by `/`.
fn validate_repository(input: &str, repository: &str) -> Result<(), ReferenceError> {
    let err = |why: String| {
        Err(ReferenceError(format!(
            "image `{input}` has an invalid repository `{repository}`: {why}"
        )))
    };
    if repository.len() > 255 {
        return err("longer than 255 characters".into());
    }
    for component in repository.split('/') {
        if component.is_empty() {
            return err("empty path component".into());
        }
        if component.bytes().any(|b| b.is_ascii_uppercase()) {
            return err("repository names must be lowercase".into());
        }
        if !component_is_valid(component) {
            return err(format!(
                "`{component}` must be lowercase letters and digits, separated by `.`, `_`, `__` or `-`"
            ));
        }
    }
    Ok(())
}

fn component_is_valid(component: &str) -> bool {
    let b = component.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: `.`, `_`, `__`, or any number of `-`.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-')) {
            return false;
        }
    }
    true
}

/// Recognises ECR registry hosts:
/// `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]` and the dual-stack
/// `<account>.dkr-ecr[-fips].<region>.on.aws`.
pub fn ecr_registry(registry: &str) -> Option<EcrRegistry> {
    let host = host_without_port(registry).to_ascii_lowercase();
    let parts: Vec<&str> = host.split('.').collect();
    let account = *parts.first()?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let region = match parts.as_slice() {
        [_, "dkr", "ecr" | "ecr-fips", region, "amazonaws", "com"]
        | [_, "dkr", "ecr" | "ecr-fips", region, "amazonaws", "com", "cn"]
        | [_, "dkr-ecr" | "dkr-ecr-fips", region, "on", "aws"] => *region,
        _ => return None,
    };
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    region_ok.then(|| EcrRegistry {
        account: account.to_string(),
        region: region.to_string(),
    })
}

/// The image to retag: one of its tags, or its manifest digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRef {
    /// A tag, e.g. `sha-abc1234`.
    Tag(String),
    /// A manifest digest, `sha256:…`.
    Digest(String),
}

impl SourceRef {
    /// Parses a source: `sha256:<64 hex>` (optionally `@`-prefixed) is a digest, anything else
    /// must be a valid tag (optionally `:`-prefixed).
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let s = input.trim();
        let digest = s.strip_prefix('@').unwrap_or(s);
        if digest.contains(':') && !digest.starts_with(':') {
            return if is_sha256_digest(digest) {
                Ok(SourceRef::Digest(digest.to_string()))
            } else {
                Err(ReferenceError(format!(
                    "source `{s}` is neither a tag nor a digest: a digest is sha256: and 64 lowercase hex digits, \
                     and a tag cannot contain `:` (pass the repository as the image and only the tag as the source)"
                )))
            };
        }
        let tag = s.strip_prefix(':').unwrap_or(s);
        if is_valid_tag(tag) {
            Ok(SourceRef::Tag(tag.to_string()))
        } else {
            Err(ReferenceError(format!(
                "source `{s}` is not a valid tag: up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -"
            )))
        }
    }

    /// The tag or digest, as it goes in a `/manifests/<reference>` URL.
    pub fn as_str(&self) -> &str {
        match self {
            SourceRef::Tag(t) | SourceRef::Digest(t) => t,
        }
    }
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories() {
        let cases = [
            ("ghcr.io/org/api", "ghcr.io", "org/api", false),
            ("localhost:5000/api", "localhost:5000", "api", true),
            ("localhost/api", "localhost", "api", true),
            (
                "127.0.0.1:5000/team/api",
                "127.0.0.1:5000",
                "team/api",
                true,
            ),
            ("[::1]:5000/api", "[::1]:5000", "api", true),
            ("nginx", "docker.io", "library/nginx", false),
            ("org/api", "docker.io", "org/api", false),
            ("docker.io/org/api", "docker.io", "org/api", false),
            ("index.docker.io/nginx", "docker.io", "library/nginx", false),
            (
                "registry.example.com:8443/a/b/c",
                "registry.example.com:8443",
                "a/b/c",
                false,
            ),
            (
                "quay.io/org/my_app.v2--x",
                "quay.io",
                "org/my_app.v2--x",
                false,
            ),
        ];
        for (input, registry, repository, loopback) in cases {
            let repo = ImageRepo::parse(input).unwrap();
            assert_eq!(repo.registry, registry, "{input}");
            assert_eq!(repo.repository, repository, "{input}");
            assert_eq!(repo.is_loopback(), loopback, "{input}");
            assert_eq!(repo.tag_ref("v1"), format!("{input}:v1"));
            assert_eq!(repo.ecr, None);
        }
        assert_eq!(
            ImageRepo::parse("nginx").unwrap().api_host(),
            "registry-1.docker.io"
        );
    }

    #[test]
    fn bad_repositories() {
        let cases = [
            ("", "empty"),
            ("ghcr.io/org/api:v1", "without a tag"),
            ("localhost:5000/api:v1", "without a tag"),
            ("ghcr.io/org/api@sha256:abc", "without a digest"),
            ("https://ghcr.io/org/api", "without a scheme"),
            ("ghcr.io/Org/api", "lowercase"),
            ("ghcr.io/org//api", "empty path component"),
            ("ghcr.io/org/-api", "must be lowercase letters"),
            ("ghcr.io/org/a___b", "must be lowercase letters"),
            ("localhost:99999/api", "port"),
            ("local_host.x/api", "host name"),
        ];
        for (input, want) in cases {
            let message = ImageRepo::parse(input).unwrap_err().to_string();
            assert!(message.contains(want), "{input}: {message}");
            assert!(!message.contains('\n'));
        }
    }

    #[test]
    fn ecr_hosts() {
        let repo =
            ImageRepo::parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api").unwrap();
        assert_eq!(
            repo.ecr,
            Some(EcrRegistry {
                account: "123456789012".into(),
                region: "us-east-1".into()
            })
        );
        assert_eq!(repo.repository, "team/api");
        for host in [
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "123456789012.dkr-ecr.eu-west-1.on.aws",
        ] {
            assert!(ecr_registry(host).is_some(), "{host}");
        }
        for host in [
            "12345678901.dkr.ecr.us-east-1.amazonaws.com",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com",
            "public.ecr.aws",
            "ghcr.io",
        ] {
            assert!(ecr_registry(host).is_none(), "{host}");
        }
    }

    #[test]
    fn sources() {
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            SourceRef::parse(&digest),
            Ok(SourceRef::Digest(digest.clone()))
        );
        assert_eq!(
            SourceRef::parse(&format!("@{digest}")),
            Ok(SourceRef::Digest(digest.clone()))
        );
        assert_eq!(
            SourceRef::parse("sha-abc1234"),
            Ok(SourceRef::Tag("sha-abc1234".into()))
        );
        assert_eq!(SourceRef::parse(":v1"), Ok(SourceRef::Tag("v1".into())));
        for bad in ["sha256:abc", "api:v1", "-x", "", "a/b", &"a".repeat(129)] {
            assert!(SourceRef::parse(bad).is_err(), "{bad}");
        }
    }
}
