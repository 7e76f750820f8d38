use crate::context::{Diagnostic, SettingsContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// The production branch can be deleted: classic protection allows deletions, or the
    /// branch has only rulesets and none restricts deletion.
    ///
    /// ## Why
    /// Deleting `main` (by mistake or by a compromised token) stops every deploy and
    /// breaks every open pull request.
    ///
    /// ## How to fix
    /// Turn on "Restrict deletions" in the branch ruleset (classic: leave "Allow
    /// deletions" off).
    pub struct BranchDeletion {
        id: "branch-deletion",
        severity: Error,
        summary: "the production branch can be deleted",
    }
}
rule_impl!(BranchDeletion, settings);

impl BranchDeletion {
    fn check(&self, cx: &SettingsContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(p) = cx.fully_read_protection() else {
            return;
        };
        if p.deletion_allowed {
            out.push(cx.diagnostic(
                &["production-branch"],
                format!("`{}` can be deleted", cx.settings.branch),
                "turn on \"Restrict deletions\" in the branch ruleset",
            ));
        }
    }
}
