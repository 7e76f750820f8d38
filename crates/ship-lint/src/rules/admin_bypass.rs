use crate::context::{Diagnostic, SettingsContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// Someone can skip the production branch's protection: a ruleset lists bypass actors,
    /// or classic protection does not include administrators (`enforce_admins` off) and no
    /// ruleset without bypass actors covers the branch.
    ///
    /// ## Why
    /// The release policy has no admin exception: every change to `main` is reviewed and
    /// checked. A bypass is exactly the path an attacker with a stolen admin token, or a
    /// hurried admin at 2 a.m., takes.
    ///
    /// ## How to fix
    /// Remove the ruleset's bypass list; in classic protection turn on "Do not allow
    /// bypassing the above settings".
    pub struct AdminBypass {
        id: "admin-bypass",
        severity: Error,
        summary: "admins or bypass actors can skip branch protection",
    }
}
rule_impl!(AdminBypass, settings);

impl AdminBypass {
    fn check(&self, cx: &SettingsContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(p) = &cx.settings.protection else {
            return;
        };
        for r in &p.rulesets {
            if let Some(actors) = r.bypass_actors.as_ref().filter(|a| !a.is_empty()) {
                out.push(cx.diagnostic(
                    &["production-branch"],
                    format!(
                        "ruleset \"{}\" on `{}` lets {} bypass it",
                        r.name,
                        cx.settings.branch,
                        actors.join(", ")
                    ),
                    "remove the ruleset's bypass actors",
                ));
            }
        }
        let strict_ruleset = p.rulesets.iter().any(|r| {
            r.enforcement == "active" && r.bypass_actors.as_ref().is_some_and(|a| a.is_empty())
        });
        // With the rulesets unreadable (`partial`), one without bypass actors may exist.
        if p.enforce_admins == Some(false) && !strict_ruleset && !p.partial {
            out.push(cx.diagnostic(
                &["production-branch"],
                format!("classic protection of `{}` does not apply to administrators", cx.settings.branch),
                "turn on \"Do not allow bypassing the above settings\" (enforce_admins), or protect the branch with a ruleset without bypass actors",
            ));
        }
    }
}
