use crate::context::{Diagnostic, SettingsContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// Production deploys run when a release tag is pushed, but no active tag ruleset
    /// restricts creating or moving tags that match the release pattern (`release-tags`).
    ///
    /// ## Why
    /// Then a release tag is a deploy button for everyone with write access: `git tag
    /// v9.9.9 <any commit> && git push --tags` ships unreviewed code to production.
    ///
    /// ## How to fix
    /// Settings → Rules → Rulesets → New tag ruleset targeting `refs/tags/v*` with
    /// "Restrict creations", "Restrict updates" and "Restrict deletions", bypassable only by
    /// the release automation.
    pub struct TagProtection {
        id: "tag-protection",
        severity: Error,
        summary: "release tags deploy to production but anyone can create them",
    }
}
rule_impl!(TagProtection, settings);

/// Does a ruleset ref pattern (`refs/tags/v*`, `~ALL`) cover the release tag glob?
fn covers(include: &str, release: &str) -> bool {
    if include == "~ALL" {
        return true;
    }
    let pattern = include.strip_prefix("refs/tags/").unwrap_or(include);
    let lit = ship_policy::literal_prefix(pattern);
    let rel = ship_policy::literal_prefix(release);
    rel.starts_with(lit) && (pattern.contains('*') || pattern == release)
}

/// Does a ruleset's `exclude` pattern take some release tags out of it? (Compared by literal
/// prefix, like `covers`: `refs/tags/v0*` excludes part of `v*`, `refs/tags/release-*` none.)
fn excludes_some(exclude: &str, release: &str) -> bool {
    if exclude == "~ALL" {
        return true;
    }
    let pattern = exclude.strip_prefix("refs/tags/").unwrap_or(exclude);
    let lit = ship_policy::literal_prefix(pattern);
    let rel = ship_policy::literal_prefix(release);
    lit.starts_with(rel) || rel.starts_with(lit)
}

impl TagProtection {
    fn check(&self, cx: &SettingsContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(deploy) = cx
            .workflows
            .iter()
            .find(|w| w.production_on_release_tag.is_some())
        else {
            return;
        };
        let Some(rulesets) = &cx.settings.tag_rulesets else {
            return;
        };
        let release = &cx.policy.policy.release_tags;
        let protected = rulesets.iter().any(|r| {
            r.enforcement == "active"
                && r.include.iter().any(|i| covers(i, release))
                && !r.exclude.iter().any(|e| excludes_some(e, release))
                && r.rule_types
                    .iter()
                    .any(|t| t == "creation" || t == "update")
        });
        if !protected {
            out.push(cx.diagnostic(
                &["release-tags"],
                format!(
                    "pushing a `{release}` tag deploys to production ({}), but no tag ruleset restricts who creates or moves those tags",
                    deploy.path
                ),
                format!("add an active tag ruleset for `refs/tags/{release}` with \"Restrict creations\" and \"Restrict updates\""),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{covers, excludes_some};

    #[test]
    fn ref_patterns() {
        assert!(covers("refs/tags/v*", "v*"));
        assert!(covers("~ALL", "v*"));
        assert!(covers("refs/tags/*", "v*"));
        assert!(!covers("refs/tags/release-*", "v*"));
        assert!(excludes_some("refs/tags/v0*", "v*"));
        assert!(excludes_some("refs/tags/*", "v*"));
        assert!(!excludes_some("refs/tags/release-*", "v*"));
    }
}
