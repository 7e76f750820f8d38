use crate::context::{Diagnostic, SettingsContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// The production branch requires fewer approving reviews than the policy's
    /// `protection.required-approvals` (default 1), counting both classic protection and
    /// rulesets (the higher requirement wins).
    ///
    /// ## Why
    /// The release policy merges to `main` only through reviewed pull requests. With no
    /// required approval, one person can merge and deploy their own change.
    ///
    /// ## How to fix
    /// In the branch ruleset's "Require a pull request before merging", set "Required
    /// approvals" to at least the policy's number.
    pub struct RequiredReviews {
        id: "required-reviews",
        severity: Error,
        summary: "pull requests need fewer approvals than the policy",
    }
}
rule_impl!(RequiredReviews, settings);

impl RequiredReviews {
    fn check(&self, cx: &SettingsContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(p) = cx.fully_read_protection() else {
            return;
        };
        let wanted = cx.policy.policy.protection.required_approvals.unwrap_or(1);
        if p.required_approvals < wanted {
            out.push(cx.diagnostic(
                &["protection", "required-approvals"],
                format!(
                    "`{}` requires {} approving review(s); the policy requires {wanted}",
                    cx.settings.branch, p.required_approvals
                ),
                format!("set \"Required approvals\" to {wanted} in the branch ruleset (or classic protection) of `{}`", cx.settings.branch),
            ));
        }
    }
}
