//! Which tags one image gets: `sha-<short commit>`, `vX.Y.Z`, optionally the floating
//! `vX.Y` and `vX`, and (only when asked, never for production) `latest`.

use crate::version::version_tag;
use semver::Version;
use serde::Serialize;

/// Length of the commit id in `sha-` tags, as docker/metadata-action uses.
pub const SHORT_SHA_LEN: usize = 7;

/// What kind of tag, which decides whether it may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TagKind {
    /// `sha-<commit>`: names one build forever.
    Sha,
    /// `vX.Y.Z` (or `vX.Y.Z-pre`): names one release forever.
    Version,
    /// `vX.Y` or `vX`: follows the newest release of its line.
    Floating,
    /// `latest`.
    Latest,
}

impl TagKind {
    /// Whether moving this tag to another digest must be refused (without `--force`).
    pub fn is_immutable(self) -> bool {
        matches!(self, TagKind::Sha | TagKind::Version)
    }
}

/// One tag to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedTag {
    /// The tag, e.g. `v1.2.3`.
    pub name: String,
    /// Its kind.
    pub kind: TagKind,
}

impl PlannedTag {
    fn new(name: String, kind: TagKind) -> Self {
        Self { name, kind }
    }
}

/// A commit id refused as `--sha`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "sha `{0}` is not a git commit id: expected 7 to 64 hexadecimal characters (e.g. GITHUB_SHA)"
)]
pub struct ShaError(pub String);

/// A validated commit id (lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitSha(String);

impl CommitSha {
    /// Validates a commit id: 7 to 64 hex digits (abbreviated, SHA-1 or SHA-256 object ids).
    pub fn parse(input: &str) -> Result<Self, ShaError> {
        let s = input.trim();
        if (SHORT_SHA_LEN..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(ShaError(s.to_string()))
        }
    }

    /// The commit id as given (lower-cased).
    pub fn full(&self) -> &str {
        &self.0
    }

    /// The first seven characters.
    pub fn short(&self) -> &str {
        &self.0[..SHORT_SHA_LEN]
    }

    /// `sha-<short>`, the image's build tag.
    pub fn tag(&self) -> String {
        format!("sha-{}", self.short())
    }
}

/// What to compute tags from.
#[derive(Debug, Clone, Default)]
pub struct TagRequest {
    /// The release version, if this build is a release.
    pub version: Option<Version>,
    /// The commit the image was built from.
    pub sha: Option<CommitSha>,
    /// Also tag `vX.Y` and `vX` (releases only, never pre-releases).
    pub floating: bool,
    /// Also tag `latest` (releases only).
    pub allow_latest: bool,
}

/// The tags for one image, in the order they are applied: the immutable ones first
/// (`sha-…`, `vX.Y.Z`), then the floating ones, then `latest`.
///
/// Pre-releases get only their full version tag: `v2.0.0-rc.1` must not move `v2` or
/// `latest` away from the current release.
pub fn compute_tags(request: &TagRequest) -> Vec<PlannedTag> {
    let mut tags = Vec::new();
    if let Some(sha) = &request.sha {
        tags.push(PlannedTag::new(sha.tag(), TagKind::Sha));
    }
    if let Some(version) = &request.version {
        tags.push(PlannedTag::new(version_tag(version), TagKind::Version));
        let release = version.pre.is_empty();
        if release && request.floating {
            tags.push(PlannedTag::new(
                format!("v{}.{}", version.major, version.minor),
                TagKind::Floating,
            ));
            tags.push(PlannedTag::new(
                format!("v{}", version.major),
                TagKind::Floating,
            ));
        }
        if release && request.allow_latest {
            tags.push(PlannedTag::new("latest".to_string(), TagKind::Latest));
        }
    }
    tags
}

/// Whether `tag` is a valid Docker/OCI tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= crate::version::MAX_TAG_LEN
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tags: &[PlannedTag]) -> Vec<&str> {
        tags.iter().map(|t| t.name.as_str()).collect()
    }

    fn request(version: Option<&str>, floating: bool, latest: bool) -> TagRequest {
        TagRequest {
            version: version.map(|v| crate::version::parse_version(v).unwrap()),
            sha: Some(CommitSha::parse("ABC1234def5678").unwrap()),
            floating,
            allow_latest: latest,
        }
    }

    #[test]
    fn tag_table() {
        let cases: &[(Option<&str>, bool, bool, &[&str])] = &[
            (None, false, false, &["sha-abc1234"]),
            (None, true, true, &["sha-abc1234"]),
            (Some("v1.2.3"), false, false, &["sha-abc1234", "v1.2.3"]),
            (
                Some("v1.2.3"),
                true,
                false,
                &["sha-abc1234", "v1.2.3", "v1.2", "v1"],
            ),
            (
                Some("v1.2.3"),
                true,
                true,
                &["sha-abc1234", "v1.2.3", "v1.2", "v1", "latest"],
            ),
            (
                Some("v1.2.3"),
                false,
                true,
                &["sha-abc1234", "v1.2.3", "latest"],
            ),
            (
                Some("v2.0.0-rc.1"),
                true,
                true,
                &["sha-abc1234", "v2.0.0-rc.1"],
            ),
            (
                Some("0.3.0"),
                true,
                false,
                &["sha-abc1234", "v0.3.0", "v0.3", "v0"],
            ),
        ];
        for (version, floating, latest, want) in cases {
            let tags = compute_tags(&request(*version, *floating, *latest));
            assert_eq!(
                names(&tags),
                *want,
                "{version:?} floating={floating} latest={latest}"
            );
            assert!(tags.iter().all(|t| is_valid_tag(&t.name)));
        }
    }

    #[test]
    fn kinds_and_immutability() {
        let tags = compute_tags(&request(Some("1.2.3"), true, true));
        let kinds: Vec<_> = tags
            .iter()
            .map(|t| (t.kind, t.kind.is_immutable()))
            .collect();
        assert_eq!(
            kinds,
            [
                (TagKind::Sha, true),
                (TagKind::Version, true),
                (TagKind::Floating, false),
                (TagKind::Floating, false),
                (TagKind::Latest, false)
            ]
        );
    }

    #[test]
    fn without_sha_only_version_tags() {
        let mut req = request(Some("1.2.3"), false, false);
        req.sha = None;
        assert_eq!(names(&compute_tags(&req)), ["v1.2.3"]);
    }

    #[test]
    fn sha_table() {
        let sha = CommitSha::parse("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert_eq!(sha.short(), "0123456");
        assert_eq!(sha.tag(), "sha-0123456");
        assert_eq!(CommitSha::parse(" abc1234 ").unwrap().tag(), "sha-abc1234");
        for bad in ["", "abc123", "xyz1234", "abc1234!", &"a".repeat(65)] {
            assert!(CommitSha::parse(bad).is_err(), "{bad}");
        }
        assert!(ShaError("nope".into()).to_string().contains("`nope`"));
    }

    #[test]
    fn tag_syntax() {
        for ok in ["v1.2.3", "sha-abc1234", "latest", "_x", "A.b-c_d"] {
            assert!(is_valid_tag(ok), "{ok}");
        }
        for bad in ["", "-x", ".x", "a+b", "a/b", "a:b", &"a".repeat(129)] {
            assert!(!is_valid_tag(bad), "{bad}");
        }
    }
}
