use crate::context::{Diagnostic, SettingsContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// Pull requests to the production branch need not be up to date with it before
    /// merging (classic `strict` and ruleset `strict_required_status_checks_policy` off),
    /// while the policy's `protection.require-up-to-date` is true.
    ///
    /// ## Why
    /// Two pull requests that pass alone can break `main` together. Requiring the branch to
    /// be up to date runs the checks on what will actually be merged.
    ///
    /// ## How to fix
    /// Turn on "Require branches to be up to date before merging" (or use a merge queue).
    pub struct StrictChecks {
        id: "strict-checks",
        severity: Warning,
        summary: "branches need not be up to date before merging",
    }
}
rule_impl!(StrictChecks, settings);

impl StrictChecks {
    fn check(&self, cx: &SettingsContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(p) = cx.fully_read_protection() else {
            return;
        };
        if cx
            .policy
            .policy
            .protection
            .require_up_to_date
            .unwrap_or(true)
            && !p.strict_checks
        {
            out.push(cx.diagnostic(
                &["protection", "require-up-to-date"],
                format!(
                    "pull requests to `{}` may merge without being up to date",
                    cx.settings.branch
                ),
                "turn on \"Require branches to be up to date before merging\"",
            ));
        }
    }
}
