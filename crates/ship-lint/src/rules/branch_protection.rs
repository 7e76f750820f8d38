use crate::context::{Diagnostic, SettingsContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// The production branch has neither classic branch protection nor an active ruleset.
    /// (Checked with `ship lint --github OWNER/REPO` or `--settings settings.json`.)
    ///
    /// ## Why
    /// Everything else in the release policy (reviews, required checks, no force-push)
    /// lives in branch protection. Unprotected, `main` takes direct pushes from anyone with
    /// write access, and the next deploy ships them.
    ///
    /// ## How to fix
    /// Settings → Rules → Rulesets → New branch ruleset targeting `main` with "Require a
    /// pull request before merging", "Require status checks to pass", "Block force pushes"
    /// and "Restrict deletions" (or classic Settings → Branches → Add rule).
    pub struct BranchProtection {
        id: "branch-protection",
        severity: Error,
        summary: "the production branch is not protected",
    }
}
rule_impl!(BranchProtection, settings);

impl BranchProtection {
    fn check(&self, cx: &SettingsContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(p) = &cx.settings.protection else {
            return;
        };
        // `partial`: one source was unreadable (settings-access says which) and may protect it.
        if !p.is_protected() && !p.partial {
            out.push(cx.diagnostic(
                &["production-branch"],
                format!("branch `{}` of {} has no branch protection and no ruleset", cx.settings.branch, cx.settings.repository),
                format!("protect `{}` with a branch ruleset: pull request with ≥1 approval, required status checks, block force pushes, restrict deletions", cx.settings.branch),
            ));
        }
    }
}
