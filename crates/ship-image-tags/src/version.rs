//! Release versions: parsed with the `semver` crate, read from a Git ref, or bumped from the
//! highest version tag in a Git repository.

use semver::{BuildMetadata, Prerelease, Version};
use std::path::Path;
use std::process::Command;

/// Docker's limit on the length of a tag.
pub const MAX_TAG_LEN: usize = 128;

/// Why a version was refused. Each message is one line, naming the input and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Nothing (or only `v`) was given.
    #[error("version is empty: expected MAJOR.MINOR.PATCH, e.g. v1.2.3")]
    Empty,
    /// Valid semver, but with build metadata, which no image tag can carry.
    #[error(
        "version `{input}` has build metadata `+{build}`: Docker image tags cannot contain `+`, \
         so it cannot become a tag; drop the `+{build}` part (put build details in labels instead)"
    )]
    BuildMetadata {
        /// The version as given.
        input: String,
        /// The build metadata after `+`.
        build: String,
    },
    /// Not semantic versioning.
    #[error(
        "version `{input}` is not a semantic version MAJOR.MINOR.PATCH[-PRERELEASE] \
         (e.g. v1.2.3 or v1.2.3-rc.1): {reason}"
    )]
    Invalid {
        /// The version as given.
        input: String,
        /// What the `semver` parser objected to.
        reason: String,
    },
    /// Longer than a Docker tag may be.
    #[error("version `{input}` is too long for an image tag (`v{input}` would exceed {MAX_TAG_LEN} characters)")]
    TooLong {
        /// The version as given.
        input: String,
    },
}

/// Parses a release version: semantic versioning, with one optional leading `v`.
///
/// Build metadata (`1.2.3+build.5`) is refused: Docker tags allow `[A-Za-z0-9_.-]`, so the
/// `+` could never appear in the tag. Leading zeros (`01.2.3`) and missing parts (`1.2`) are
/// refused by the `semver` crate, as the specification requires.
pub fn parse_version(input: &str) -> Result<Version, VersionError> {
    let trimmed = input.trim();
    let bare = trimmed.strip_prefix('v').unwrap_or(trimmed);
    if bare.is_empty() {
        return Err(VersionError::Empty);
    }
    let version = Version::parse(bare).map_err(|e| VersionError::Invalid {
        input: trimmed.to_string(),
        reason: e.to_string(),
    })?;
    if !version.build.is_empty() {
        return Err(VersionError::BuildMetadata {
            input: trimmed.to_string(),
            build: version.build.to_string(),
        });
    }
    if version_tag(&version).len() > MAX_TAG_LEN {
        return Err(VersionError::TooLong {
            input: trimmed.to_string(),
        });
    }
    Ok(version)
}

/// The image tag for a version: `v` and the full version, e.g. `v1.2.3-rc.1`.
pub fn version_tag(version: &Version) -> String {
    format!("v{version}")
}

/// The version a Git ref names, if it is a version tag.
///
/// `refs/tags/v1.2.3` (or `refs/tags/1.2.3`) gives `1.2.3`. Any other tag, a branch
/// (`refs/heads/main`), a pull request ref or an empty ref gives `Ok(None)`: such builds get
/// only their `sha-` tag. A tag that looks like a version (`v` then a digit, or a digit) but
/// is not a valid one (`v0.29`, `v1.2.3+build`) is an error rather than silently untagged.
pub fn version_from_ref(git_ref: &str) -> Result<Option<Version>, VersionError> {
    let Some(tag) = git_ref.trim().strip_prefix("refs/tags/") else {
        return Ok(None);
    };
    if looks_like_version(tag) {
        parse_version(tag).map(Some)
    } else {
        Ok(None)
    }
}

/// Whether a tag name is meant as a version: `v` followed by a digit, or a digit.
fn looks_like_version(tag: &str) -> bool {
    let bare = tag.strip_prefix('v').unwrap_or(tag);
    bare.starts_with(|c: char| c.is_ascii_digit())
}

/// Which part of the version `--bump` increments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bump {
    /// `1.2.3` → `2.0.0`
    Major,
    /// `1.2.3` → `1.3.0`
    Minor,
    /// `1.2.3` → `1.2.4`
    Patch,
}

impl std::str::FromStr for Bump {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "major" => Ok(Bump::Major),
            "minor" => Ok(Bump::Minor),
            "patch" => Ok(Bump::Patch),
            other => Err(format!(
                "bump must be one of major, minor, patch, got `{other}`"
            )),
        }
    }
}

/// The next release after `latest` (`None`: no release yet, counted from `0.0.0`).
///
/// Always a release version (no pre-release, no build metadata).
pub fn bump(latest: Option<&Version>, part: Bump) -> Version {
    let base = latest.cloned().unwrap_or_else(|| Version::new(0, 0, 0));
    let mut next = match part {
        Bump::Major => Version::new(base.major + 1, 0, 0),
        Bump::Minor => Version::new(base.major, base.minor + 1, 0),
        Bump::Patch => Version::new(base.major, base.minor, base.patch + 1),
    };
    next.pre = Prerelease::EMPTY;
    next.build = BuildMetadata::EMPTY;
    next
}

/// The highest release (non-pre-release) version among `versions`.
///
/// Pre-releases are skipped so that `v1.3.0-rc.1` followed by `--bump minor` from `v1.2.3`
/// releases `1.3.0`, not `1.4.0`.
pub fn highest_release<'a>(versions: impl IntoIterator<Item = &'a Version>) -> Option<&'a Version> {
    versions.into_iter().filter(|v| v.pre.is_empty()).max()
}

/// Failure to read version tags from Git.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// `git` could not be run at all.
    #[error("cannot run git in `{dir}`: {source}; --bump needs git on PATH")]
    Spawn {
        /// The repository directory.
        dir: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// `git tag` failed (not a repository, usually).
    #[error(
        "cannot list git tags in `{dir}`: {stderr}; --bump needs a git checkout with its tags"
    )]
    Failed {
        /// The repository directory.
        dir: String,
        /// git's own message, first line.
        stderr: String,
    },
    /// No version tags, and the clone is shallow: the tags were probably not fetched.
    #[error(
        "no version tags found in `{dir}`, which is a shallow clone: fetch the tags \
         (actions/checkout with `fetch-depth: 0`) or pass --version"
    )]
    ShallowWithoutTags {
        /// The repository directory.
        dir: String,
    },
}

/// The version tags of the Git repository at `dir`, parsed; tags that are not versions (or
/// not valid ones) are skipped.
///
/// An empty list from a shallow clone is an error, since bumping from "no release" there
/// would most likely re-release `0.1.0` over tags that simply were not fetched.
pub fn git_version_tags(dir: &Path) -> Result<Vec<Version>, GitError> {
    let out = git(dir, &["tag", "--list"])?;
    let versions: Vec<Version> = out
        .lines()
        .map(str::trim)
        .filter(|t| looks_like_version(t))
        .filter_map(|t| parse_version(t).ok())
        .collect();
    if versions.is_empty() && git(dir, &["rev-parse", "--is-shallow-repository"])?.trim() == "true"
    {
        return Err(GitError::ShallowWithoutTags {
            dir: dir.display().to_string(),
        });
    }
    Ok(versions)
}

fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|source| GitError::Spawn {
            dir: dir.display().to_string(),
            source,
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(GitError::Failed {
            dir: dir.display().to_string(),
            stderr: stderr
                .lines()
                .next()
                .unwrap_or("git failed")
                .trim()
                .to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn parse_table() {
        let ok = [
            ("v1.2.3", "1.2.3"),
            ("1.2.3", "1.2.3"),
            (" v1.2.3 ", "1.2.3"),
            ("v0.0.1", "0.0.1"),
            ("v1.2.3-rc.1", "1.2.3-rc.1"),
            ("v2.0.0-alpha-1", "2.0.0-alpha-1"),
            ("v10.20.30", "10.20.30"),
        ];
        for (input, want) in ok {
            assert_eq!(parse_version(input).unwrap(), v(want), "{input}");
        }
        let invalid = [
            "v0.29", "1.2", "01.2.3", "v1.02.3", "vv1.2.3", "V1.2.3", "1.2.3.4", "latest",
            "v1.2.3-",
        ];
        for input in invalid {
            match parse_version(input) {
                Err(VersionError::Invalid { input: got, reason }) => {
                    assert_eq!(got, input.trim());
                    assert!(!reason.is_empty());
                }
                other => panic!("{input}: {other:?}"),
            }
        }
        assert_eq!(parse_version(""), Err(VersionError::Empty));
        assert_eq!(parse_version("v"), Err(VersionError::Empty));
    }

    #[test]
    fn build_metadata_is_refused_with_the_docker_reason() {
        let err = parse_version("v1.2.3+build").unwrap_err();
        assert_eq!(
            err,
            VersionError::BuildMetadata {
                input: "v1.2.3+build".into(),
                build: "build".into()
            }
        );
        let message = err.to_string();
        assert!(message.contains("cannot contain `+`"), "{message}");
        assert!(!message.contains('\n'));
        assert!(matches!(
            parse_version("1.2.3-rc.1+sha.abc"),
            Err(VersionError::BuildMetadata { .. })
        ));
    }

    #[test]
    fn leading_zero_reason_is_specific() {
        let message = parse_version("01.2.3").unwrap_err().to_string();
        assert!(message.contains("leading zero"), "{message}");
        let message = parse_version("v0.29").unwrap_err().to_string();
        assert!(message.contains("`v0.29`"), "{message}");
    }

    #[test]
    fn too_long_for_a_tag() {
        let long = format!("1.2.3-{}", "a".repeat(130));
        assert!(matches!(
            parse_version(&long),
            Err(VersionError::TooLong { .. })
        ));
        let fits = format!("1.2.3-{}", "a".repeat(MAX_TAG_LEN - 7));
        assert_eq!(
            version_tag(&parse_version(&fits).unwrap()).len(),
            MAX_TAG_LEN
        );
    }

    #[test]
    fn version_from_ref_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("refs/tags/v1.2.3", Some("1.2.3")),
            ("refs/tags/1.2.3", Some("1.2.3")),
            ("refs/tags/v1.2.3-rc.1", Some("1.2.3-rc.1")),
            ("refs/heads/main", None),
            ("refs/heads/v1.2.3", None),
            ("refs/pull/12/merge", None),
            ("refs/tags/release-candidate", None),
            ("refs/tags/vnext", None),
            ("", None),
        ];
        for (git_ref, want) in cases {
            assert_eq!(version_from_ref(git_ref).unwrap(), want.map(v), "{git_ref}");
        }
        for bad in [
            "refs/tags/v0.29",
            "refs/tags/1.2",
            "refs/tags/01.2.3",
            "refs/tags/v1.2.3+build",
        ] {
            assert!(version_from_ref(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bump_table() {
        let cases = [
            (None, Bump::Patch, "0.0.1"),
            (None, Bump::Minor, "0.1.0"),
            (None, Bump::Major, "1.0.0"),
            (Some("1.2.3"), Bump::Patch, "1.2.4"),
            (Some("1.2.3"), Bump::Minor, "1.3.0"),
            (Some("1.2.3"), Bump::Major, "2.0.0"),
            (Some("0.9.9"), Bump::Minor, "0.10.0"),
        ];
        for (latest, part, want) in cases {
            let latest = latest.map(v);
            assert_eq!(bump(latest.as_ref(), part), v(want), "{latest:?} {part:?}");
        }
        assert_eq!("MINOR".parse::<Bump>(), Ok(Bump::Minor));
        assert!("feature"
            .parse::<Bump>()
            .unwrap_err()
            .contains("major, minor, patch"));
    }

    #[test]
    fn highest_release_skips_prereleases() {
        let versions = [
            v("1.2.3"),
            v("1.3.0-rc.1"),
            v("1.10.0"),
            v("1.9.9"),
            v("2.0.0-beta"),
        ];
        assert_eq!(highest_release(&versions), Some(&v("1.10.0")));
        assert_eq!(highest_release(&[v("1.0.0-rc.1")]), None);
    }
}
