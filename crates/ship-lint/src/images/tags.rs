//! What a pushed or deployed tag is for the release policy: `vX.Y.Z`, `sha-<commit>`,
//! another immutable tag, or one that moves.

use super::value::{describe_template, Given, Origin, Part, Template, Value};

/// What one tag (one alternative of its value) is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagKind {
    /// `vX.Y.Z` or `X.Y.Z` (pre-release and build suffixes allowed): a literal version, the
    /// version input of a manual run, or the git tag of a run only version-like tags start.
    Semver,
    /// `sha-` followed by the commit (full or short): the policy's commit tag.
    Sha,
    /// Unique to a commit or a run but not one of the two policy forms: the bare SHA,
    /// `git-<sha>`, `production-<sha7>`, a run number, a prefixed version.
    Immutable(&'static str),
    /// A literal that names a version someone pinned (`5.72-r0-alpine-3.19.1`, `16`).
    Pinned,
    /// `latest` or another tag of the policy's `images.forbidden-tags`.
    Forbidden(String),
    /// Names whatever was pushed last: a branch, a pull request number, a fixed word
    /// (`edge`, `test`, `prod`), a major or minor version line.
    Moving(&'static str),
    /// `github.ref_name` in a workflow started by branches and by tags: the version on a
    /// tag push, the branch name otherwise.
    RefName,
    /// Built from values the file does not define; whether it may still be the version
    /// or the commit tag (a literal prefix or suffix can rule either out).
    Unknown { semver: bool, sha: bool },
}

impl TagKind {
    /// Could it be the `vX.Y.Z` tag?
    pub fn could_be_semver(&self) -> bool {
        matches!(
            self,
            TagKind::Semver | TagKind::RefName | TagKind::Unknown { semver: true, .. }
        )
    }

    /// Could it be the `sha-<commit>` tag?
    pub fn could_be_sha(&self) -> bool {
        matches!(self, TagKind::Sha | TagKind::Unknown { sha: true, .. })
    }

    /// Does it name whatever was pushed last?
    pub fn is_mutable(&self) -> bool {
        matches!(self, TagKind::Forbidden(_) | TagKind::Moving(_))
    }

    /// What it is, for a message (`a branch name`).
    pub fn what(&self) -> String {
        match self {
            TagKind::Semver => "a version".into(),
            TagKind::Sha => "the commit".into(),
            TagKind::Immutable(why) => (*why).into(),
            TagKind::Pinned => "a pinned version".into(),
            TagKind::Forbidden(t) => format!("`{t}`, which the policy forbids"),
            TagKind::Moving(why) => (*why).into(),
            TagKind::RefName => "the branch name (or the git tag on a tag push)".into(),
            TagKind::Unknown { .. } => "not known before the run".into(),
        }
    }
}

/// Environment and channel names used as tags: each deploy or release moves them.
const MOVING_WORDS: &[&str] = &[
    "edge",
    "nightly",
    "main",
    "master",
    "develop",
    "dev",
    "development",
    "test",
    "testing",
    "qa",
    "uat",
    "stage",
    "staging",
    "preprod",
    "prod",
    "production",
    "live",
    "stable",
    "current",
    "canary",
    "release",
    "good",
    "sandbox",
    "demo",
    "preview",
    "beta",
    "alpha",
    "unstable",
    "next",
    "snapshot",
];

/// A literal `vX.Y.Z[-pre][+build]` or `X.Y.Z…`.
pub fn is_semver_literal(tag: &str) -> bool {
    let t = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    let core_end = t.find(['-', '+']).unwrap_or(t.len());
    let core: Vec<&str> = t[..core_end].split('.').collect();
    core.len() == 3
        && core
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// Classify one literal tag.
pub fn literal_kind(tag: &str, forbidden: &[String]) -> TagKind {
    let t = tag.trim();
    if forbidden.iter().any(|f| f == t) {
        return TagKind::Forbidden(t.to_string());
    }
    if t.starts_with("sha-") && t.len() > 4 {
        return TagKind::Sha;
    }
    if is_semver_literal(t) {
        return TagKind::Semver;
    }
    let lower = t.to_ascii_lowercase();
    if (7..=40).contains(&t.len()) && t.chars().all(|c| c.is_ascii_hexdigit()) {
        return TagKind::Immutable("a commit SHA, not in the `sha-<commit>` form");
    }
    // `1`, `1.2`, `v2`: a version line that every release moves.
    let line = lower.strip_prefix('v').unwrap_or(&lower);
    if !line.is_empty()
        && line.split('.').count() <= 2
        && line
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return TagKind::Moving("a major or minor version line, moved by each release");
    }
    if MOVING_WORDS.contains(&lower.as_str())
        || lower.ends_with("-latest")
        || lower.starts_with("latest-") && !lower[7..].chars().any(|c| c.is_ascii_digit())
    {
        return TagKind::Moving(
            "an environment or channel name, moved by every push or promotion to it",
        );
    }
    if t.chars().any(|c| c.is_ascii_digit()) {
        return TagKind::Pinned;
    }
    TagKind::Moving("a fixed name that each push moves")
}

/// Classify one way a tag can come out.
pub fn template_kind(t: &Template, forbidden: &[String]) -> TagKind {
    let has = |o: Origin| t.contains(&Part::Known(o));
    let unknown = t
        .iter()
        .any(|p| matches!(p, Part::Unknown(_) | Part::Input(_)));
    let first_lit = match t.first() {
        Some(Part::Lit(l)) => Some(l.as_str()),
        _ => None,
    };
    match t.as_slice() {
        [] => {
            return TagKind::Unknown {
                semver: false,
                sha: false,
            }
        }
        [Part::Lit(l)] => return literal_kind(l, forbidden),
        _ => {}
    }
    if first_lit.is_some_and(|l| l.starts_with("sha-")) {
        return TagKind::Sha;
    }
    // `v` + the version, or the version alone.
    let version_only = {
        let rest: &[Part] = match t.first() {
            Some(Part::Lit(l)) if l == "v" || l == "V" => &t[1..],
            _ => t,
        };
        match rest {
            [Part::Known(Origin::Version)] | [Part::Known(Origin::GitTag { semver: true })] => {
                Some(true)
            }
            [Part::Known(Origin::GitTag { semver: false })] => Some(false),
            [Part::Known(Origin::RefName)] => None,
            _ => Some(false),
        }
    };
    if version_only == Some(true) {
        return TagKind::Semver;
    }
    if has(Origin::Commit) || has(Origin::ShortCommit) {
        return TagKind::Immutable("a commit SHA, not in the `sha-<commit>` form");
    }
    if has(Origin::RunNumber) || has(Origin::Date) {
        return TagKind::Immutable("unique to the run, not a version or a commit");
    }
    if unknown {
        // A literal prefix other than `v` rules out the version, one other than a start of
        // `sha-` the commit tag, and so does a literal suffix (`…-RELEASE`): the commit tag
        // ends with the commit.
        let semver = first_lit.is_none_or(|l| l == "v" || l == "V");
        let sha = first_lit.is_none_or(|l| "sha-".starts_with(l))
            && !matches!(t.last(), Some(Part::Lit(_)));
        return TagKind::Unknown { semver, sha };
    }
    if version_only.is_none() {
        return TagKind::RefName;
    }
    if has(Origin::PrNumber) {
        return TagKind::Moving("a pull request number, reused by every push to it");
    }
    if has(Origin::Branch) || has(Origin::RefName) || has(Origin::FullRef) {
        return TagKind::Moving("a branch name, moved by every push to it");
    }
    if has(Origin::Version) || has(Origin::GitTag { semver: true }) {
        return TagKind::Immutable("a version with a prefix, not `vX.Y.Z`");
    }
    if has(Origin::GitTag { semver: false }) {
        return TagKind::Immutable("the git tag, not known to be a version");
    }
    TagKind::Unknown {
        semver: false,
        sha: false,
    }
}

/// One tag a push applies (or a deploy names): what it is, as a message shows it.
#[derive(Debug, Clone)]
pub struct Tag {
    pub value: Value,
    /// One kind per alternative of the value.
    pub kinds: Vec<TagKind>,
    /// A list input not known here (`tags: ${{ inputs.tags }}`): it may stand for several
    /// tags.
    pub multi: bool,
}

impl Tag {
    /// Classify a value.
    pub fn of(value: Value, forbidden: &[String]) -> Tag {
        let kinds = value
            .alternatives
            .iter()
            .map(|t| template_kind(t, forbidden))
            .collect();
        Tag {
            value,
            kinds,
            multi: false,
        }
    }

    /// A tag whose kind is known by how it is made (a metadata-action rule).
    pub fn made(value: Value, kind: TagKind) -> Tag {
        let kinds = vec![kind; value.alternatives.len().max(1)];
        Tag {
            value,
            kinds,
            multi: false,
        }
    }

    /// The tag with the values a caller gives the inputs it is built from; a list input
    /// becomes the tags it lists.
    pub fn given(&self, given: &Given, forbidden: &[String]) -> Vec<Tag> {
        if self.value.inputs().is_empty() {
            return vec![self.clone()];
        }
        let v = self.value.substitute(&|n| given.get(n));
        if self.multi {
            return super::pushes::split_value_list(&v)
                .into_iter()
                .map(|v| Tag::of(v, forbidden))
                .collect();
        }
        vec![Tag::of(v, forbidden)]
    }

    pub fn could_be_semver(&self) -> bool {
        self.kinds.iter().any(TagKind::could_be_semver)
    }

    pub fn could_be_sha(&self) -> bool {
        self.kinds.iter().any(TagKind::could_be_sha)
    }

    /// The first kind that moves, if any alternative does.
    pub fn mutable(&self) -> Option<(&TagKind, String)> {
        self.kinds
            .iter()
            .zip(&self.value.alternatives)
            .find(|(k, _)| k.is_mutable())
            .map(|(k, t)| (k, describe_template(t)))
    }

    /// `` `production-<short commit>` ``.
    pub fn shown(&self) -> String {
        format!("`{}`", self.value.describe())
    }
}

/// What a set of tags for one image lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lack {
    /// Neither tag.
    Both,
    Sha,
    Semver,
    /// Only the tag at this index could be either, and one tag cannot be both.
    OneTag(usize),
}

impl Lack {
    /// For a message about `tags`.
    pub fn text(self, tags: &[Tag]) -> String {
        match self {
            Lack::Both => "no `vX.Y.Z` and no `sha-<commit>` tag".into(),
            Lack::Sha => "no `sha-<commit>` tag".into(),
            Lack::Semver => "no `vX.Y.Z` tag".into(),
            Lack::OneTag(_) if tags.len() == 1 => {
                "one tag, which cannot be both `vX.Y.Z` and `sha-<commit>`".into()
            }
            Lack::OneTag(i) => format!(
                "no `vX.Y.Z` or `sha-<commit>` tag besides {}, which cannot be both",
                tags.get(i).map(Tag::shown).unwrap_or_default()
            ),
        }
    }
}

/// What a set of tags for one image lacks: `None` when some tag can be `vX.Y.Z` and another
/// the `sha-<commit>` tag.
pub fn missing(tags: &[Tag]) -> Option<Lack> {
    let both = tags.iter().enumerate().any(|(i, a)| {
        a.could_be_semver()
            && tags
                .iter()
                .enumerate()
                .any(|(j, b)| (i != j || b.multi) && b.could_be_sha())
    });
    if both {
        return None;
    }
    let semver = tags.iter().position(Tag::could_be_semver);
    let sha = tags.iter().position(Tag::could_be_sha);
    Some(match (semver, sha) {
        (None, None) => Lack::Both,
        (Some(_), None) => Lack::Sha,
        (None, Some(_)) => Lack::Semver,
        (Some(i), Some(_)) => Lack::OneTag(i),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(parts: Vec<Part>) -> TagKind {
        template_kind(&parts, &["latest".to_string()])
    }

    #[test]
    fn literals() {
        let f = ["latest".to_string()];
        assert_eq!(literal_kind("v1.2.3", &f), TagKind::Semver);
        assert_eq!(literal_kind("1.2.3-rc.1", &f), TagKind::Semver);
        assert_eq!(literal_kind("sha-abc1234", &f), TagKind::Sha);
        assert_eq!(
            literal_kind("latest", &f),
            TagKind::Forbidden("latest".into())
        );
        assert!(literal_kind("test", &f).is_mutable());
        assert!(literal_kind("production-latest", &f).is_mutable());
        assert!(literal_kind("v1.2", &f).is_mutable());
        assert_eq!(literal_kind("5.72-r0-alpine-3.19.1", &f), TagKind::Pinned);
        assert!(matches!(
            literal_kind("0123456789abcdef0123", &f),
            TagKind::Immutable(_)
        ));
    }

    #[test]
    fn templates() {
        use Origin::*;
        assert_eq!(
            kind(vec![Part::Lit("sha-".into()), Part::Known(ShortCommit)]),
            TagKind::Sha
        );
        assert_eq!(
            kind(vec![Part::Lit("v".into()), Part::Known(Version)]),
            TagKind::Semver
        );
        assert!(matches!(
            kind(vec![Part::Known(Commit)]),
            TagKind::Immutable(_)
        ));
        assert!(matches!(
            kind(vec![Part::Lit("git-".into()), Part::Known(ShortCommit)]),
            TagKind::Immutable(_)
        ));
        assert!(kind(vec![Part::Known(PrNumber)]).is_mutable());
        assert!(kind(vec![Part::Known(Branch)]).is_mutable());
        assert_eq!(kind(vec![Part::Known(RefName)]), TagKind::RefName);
        assert_eq!(
            kind(vec![Part::Unknown("$TAG".into())]),
            TagKind::Unknown {
                semver: true,
                sha: true
            }
        );
        assert_eq!(
            kind(vec![
                Part::Lit("izgw-hub-".into()),
                Part::Unknown("$V".into())
            ]),
            TagKind::Unknown {
                semver: false,
                sha: false
            }
        );
        assert_eq!(
            kind(vec![
                Part::Unknown("$V".into()),
                Part::Lit("-RELEASE".into())
            ]),
            TagKind::Unknown {
                semver: true,
                sha: false
            }
        );
    }

    #[test]
    fn what_is_missing() {
        let f = ["latest".to_string()];
        let t = |s: &str| Tag::of(Value::lit(s), &f);
        assert_eq!(missing(&[t("v1.2.3"), t("sha-abc")]), None);
        assert_eq!(missing(&[t("v1.2.3")]), Some(Lack::Sha));
        assert_eq!(missing(&[t("latest")]), Some(Lack::Both));
        let open = Tag::of(Value::unknown("$TAG"), &f);
        assert_eq!(missing(std::slice::from_ref(&open)), Some(Lack::OneTag(0)));
        assert_eq!(missing(&[t("latest"), open.clone()]), Some(Lack::OneTag(1)));
        assert_eq!(missing(&[open.clone(), open.clone()]), None);
        let mut list = open;
        list.multi = true;
        assert_eq!(missing(&[list]), None);
    }
}
