use crate::context::{Diagnostic, SettingsContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// Force pushes to the production branch are allowed: classic protection allows them,
    /// or the branch has only rulesets and none blocks force pushes (`non_fast_forward`).
    ///
    /// ## Why
    /// A force push rewrites what `main` was: reviewed commits disappear, released tags
    /// point at history that no longer exists on the branch, and rollbacks lose their base.
    ///
    /// ## How to fix
    /// Turn on "Block force pushes" in the branch ruleset (classic: leave "Allow force
    /// pushes" off).
    pub struct ForcePush {
        id: "force-push",
        severity: Error,
        summary: "force pushes to the production branch are allowed",
    }
}
rule_impl!(ForcePush, settings);

impl ForcePush {
    fn check(&self, cx: &SettingsContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(p) = cx.fully_read_protection() else {
            return;
        };
        if p.force_push_allowed {
            out.push(cx.diagnostic(
                &["production-branch"],
                format!("force pushes to `{}` are allowed", cx.settings.branch),
                "turn on \"Block force pushes\" in the branch ruleset",
            ));
        }
    }
}
