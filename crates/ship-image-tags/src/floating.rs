//! Floating tags move only forward: `vX.Y` and `vX` follow the newest release of their line,
//! not whichever release was tagged last. Before a floating tag moves, the repository's tags
//! are listed and the highest release of the tag's line is found; when it is newer than the
//! version being tagged (a hotfix of an older line, say `v1.1.4` after `v1.3.0`), the floating
//! tag is kept where it is.

use crate::error::{ErrorKind, RegistryError};
use semver::Version;

/// How far a tag listing may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLimits {
    /// Tags asked for per page (`n=` for the OCI API, `maxResults` for ECR). Registries may
    /// answer fewer, or all of them at once (distribution 2.8 ignores `n`).
    pub page_size: u32,
    /// Pages followed at most. A repository with more is refused rather than listed without
    /// end: a registry whose `next` links loop, or a repository that needs a retention policy.
    pub max_pages: usize,
}

impl ListLimits {
    /// 1,000 pages of 100 tags for the OCI API: 100 is what every registry accepts for `n`
    /// (distribution 3 caps it at 1,000, some hosted registries lower).
    pub const OCI: ListLimits = ListLimits {
        page_size: 100,
        max_pages: 1000,
    };
    /// 100 pages of 1,000 (ListImages' maximum `maxResults`): more than ECR's quota of images
    /// per repository.
    pub const ECR: ListLimits = ListLimits {
        page_size: 1000,
        max_pages: 100,
    };

    /// The error for a listing that still had a next page after [`ListLimits::max_pages`].
    pub(crate) fn exceeded(&self, registry: &str, repository: &str, read: usize) -> RegistryError {
        RegistryError::new(
            ErrorKind::Rejected,
            registry,
            format!(
                "registry {registry} still had more tags of {repository} after {} pages ({read} tags read), \
                 so the newest release of the floating tags' lines is unknown and no floating tag was moved",
                self.max_pages
            ),
            "the repository's tag count (expire old tags with a retention policy) or leave floating off for this release",
        )
    }
}

/// The line a floating tag follows: `v1.2` is major 1, minor 2; `v1` is major 1, any minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The major version.
    pub major: u64,
    /// The minor version, for `vX.Y`.
    pub minor: Option<u64>,
}

impl Line {
    /// The line of a floating tag name (`v1.2`, `v1`), or `None` for any other name.
    pub fn of_tag(tag: &str) -> Option<Line> {
        let bare = tag.strip_prefix('v')?;
        let number = |s: &str| {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u64>().ok())
                .flatten()
        };
        match bare.split_once('.') {
            None => Some(Line {
                major: number(bare)?,
                minor: None,
            }),
            Some((major, minor)) => Some(Line {
                major: number(major)?,
                minor: Some(number(minor)?),
            }),
        }
    }

    /// Whether `version` belongs to this line.
    pub fn contains(&self, version: &Version) -> bool {
        version.major == self.major && self.minor.is_none_or(|m| version.minor == m)
    }
}

/// The release a tag names: `vX.Y.Z` or `X.Y.Z`, no pre-release, no build metadata. Floating
/// tags, `latest`, `sha-…` and pre-releases (`v1.3.0-rc.1`) are not releases.
pub fn release_of_tag(tag: &str) -> Option<Version> {
    let bare = tag.strip_prefix('v').unwrap_or(tag);
    Version::parse(bare)
        .ok()
        .filter(|v| v.pre.is_empty() && v.build.is_empty())
}

/// Why a floating tag was kept where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// The newer release's tag, as the registry names it (`v1.3.0`).
    pub newer: String,
    /// The version being tagged (`v1.1.4`).
    pub ours: String,
}

impl Kept {
    /// `kept on v1.3.0, newer than v1.1.4`, or for a floating tag that does not exist yet
    /// (`existed` false) `not created: v1.3.0 is newer than v1.1.4`.
    pub fn phrase(&self, existed: bool) -> String {
        if existed {
            format!("kept on {}, newer than {}", self.newer, self.ours)
        } else {
            format!("not created: {} is newer than {}", self.newer, self.ours)
        }
    }
}

/// Whether moving the floating tag of `line` to `ours` (tagged `ours_tag`) would move it
/// back: `Some` when `existing` holds a release of the line newer than `ours`. Equal or older
/// releases let it move.
pub fn newer_release<'a>(
    line: Line,
    ours: &Version,
    ours_tag: &str,
    existing: impl IntoIterator<Item = &'a str>,
) -> Option<Kept> {
    existing
        .into_iter()
        .filter_map(|tag| release_of_tag(tag).map(|v| (v, tag)))
        .filter(|(v, _)| line.contains(v))
        .max_by(|a, b| a.0.cmp(&b.0))
        .filter(|(v, _)| v > ours)
        .map(|(_, tag)| Kept {
            newer: tag.to_string(),
            ours: ours_tag.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn lines() {
        assert_eq!(
            Line::of_tag("v1"),
            Some(Line {
                major: 1,
                minor: None
            })
        );
        assert_eq!(
            Line::of_tag("v1.2"),
            Some(Line {
                major: 1,
                minor: Some(2)
            })
        );
        for not in [
            "1",
            "v",
            "v1.",
            "v.1",
            "v1.2.3",
            "latest",
            "v1x",
            "sha-abc1234",
        ] {
            assert_eq!(Line::of_tag(not), None, "{not}");
        }
        let minor = Line::of_tag("v1.2").unwrap();
        assert!(minor.contains(&v("1.2.9")));
        assert!(!minor.contains(&v("1.3.0")));
        let major = Line::of_tag("v1").unwrap();
        assert!(major.contains(&v("1.9.0")));
        assert!(!major.contains(&v("2.0.0")));
    }

    #[test]
    fn releases() {
        assert_eq!(release_of_tag("v1.3.0"), Some(v("1.3.0")));
        assert_eq!(release_of_tag("1.3.0"), Some(v("1.3.0")));
        for not in [
            "v1.3.0-rc.1",
            "v1.3",
            "v1",
            "latest",
            "sha-abc1234",
            "V1.3.0",
            "vv1.3.0",
            "01.3.0",
            "1.3.0+b",
        ] {
            assert_eq!(release_of_tag(not), None, "{not}");
        }
    }

    #[test]
    fn only_forward() {
        let tags = [
            "sha-abc1234",
            "v1.1.3",
            "v1.1.4",
            "v1.2.0",
            "1.3.0",
            "v1.4.0-rc.1",
            "v2.0.0",
            "v1",
            "v1.1",
            "latest",
        ];
        let kept = |line: &str, ours: &str| {
            newer_release(
                Line::of_tag(line).unwrap(),
                &v(ours),
                &format!("v{ours}"),
                tags,
            )
        };
        // A hotfix of an older line keeps v1 on the newest 1.x release (not the pre-release,
        // not 2.0.0), and moves its own v1.1.
        assert_eq!(
            kept("v1", "1.1.5"),
            Some(Kept {
                newer: "1.3.0".into(),
                ours: "v1.1.5".into()
            })
        );
        assert_eq!(kept("v1.1", "1.1.5"), None);
        // Retagging an older patch of a line keeps that line's tag.
        assert_eq!(kept("v1.1", "1.1.3").unwrap().newer, "v1.1.4");
        // Equal or newer moves.
        assert_eq!(kept("v1", "1.3.0"), None);
        assert_eq!(kept("v1", "1.3.1"), None);
        assert_eq!(kept("v2", "2.0.0"), None);
        // A line with no release yet moves.
        assert_eq!(kept("v3", "3.0.0"), None);
        let k = kept("v1", "1.2.0").unwrap();
        assert_eq!(k.phrase(true), "kept on 1.3.0, newer than v1.2.0");
        assert_eq!(k.phrase(false), "not created: 1.3.0 is newer than v1.2.0");
    }
}
