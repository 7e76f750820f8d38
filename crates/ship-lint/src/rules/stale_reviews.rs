use crate::context::{Diagnostic, SettingsContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// Approvals on the production branch are not dismissed when new commits are pushed
    /// (classic `dismiss_stale_reviews` and ruleset `dismiss_stale_reviews_on_push` both off),
    /// while the policy's `protection.dismiss-stale-reviews` is true.
    ///
    /// ## Why
    /// Without it, a pull request approved once can take any later commit, unreviewed, and
    /// still merge: the approval no longer describes what ships.
    ///
    /// ## How to fix
    /// Turn on "Dismiss stale pull request approvals when new commits are pushed".
    pub struct StaleReviews {
        id: "stale-reviews",
        severity: Warning,
        summary: "stale approvals are not dismissed on new pushes",
    }
}
rule_impl!(StaleReviews, settings);

impl StaleReviews {
    fn check(&self, cx: &SettingsContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(p) = cx.fully_read_protection() else {
            return;
        };
        if cx
            .policy
            .policy
            .protection
            .dismiss_stale_reviews
            .unwrap_or(true)
            && !p.dismiss_stale_reviews
        {
            out.push(cx.diagnostic(
                &["protection", "dismiss-stale-reviews"],
                format!("approvals on `{}` survive new pushes", cx.settings.branch),
                "turn on \"Dismiss stale pull request approvals when new commits are pushed\"",
            ));
        }
    }
}
