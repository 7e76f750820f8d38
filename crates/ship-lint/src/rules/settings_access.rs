use crate::context::{Diagnostic, SettingsContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// A repository setting ship could not read with the given token (a 403 such as
    /// "Resource not accessible by integration"). The finding names the endpoint and the
    /// permission that reads it; the rules that need that setting are skipped, the rest of
    /// the lint runs.
    ///
    /// ## Why
    /// A check that silently passes because it could not look is worse than no check.
    ///
    /// ## How to fix
    /// Give the token the named permission. The workflow `GITHUB_TOKEN` cannot get
    /// `administration: read`; use a fine-grained token or a GitHub App installation token
    /// with "Administration: read-only", "Metadata: read-only" and "Environments:
    /// read-only" (or export the settings once with `ship settings export` and lint with
    /// `--settings`).
    pub struct SettingsAccess {
        id: "settings-access",
        severity: Warning,
        summary: "a repository setting could not be read",
    }
}
rule_impl!(SettingsAccess, settings);

impl SettingsAccess {
    fn check(&self, cx: &SettingsContext<'_>, out: &mut Vec<Diagnostic>) {
        for p in &cx.settings.access_problems {
            let said = if p.message.is_empty() {
                String::new()
            } else {
                format!(": \"{}\"", p.message)
            };
            // Only administration is out of the workflow GITHUB_TOKEN's reach.
            let help = if p.permission.starts_with("administration") {
                format!(
                    "give the token `{}`: the workflow GITHUB_TOKEN cannot have it, use a fine-grained token or a GitHub App token (or lint a file from `ship settings export` with --settings)",
                    p.permission
                )
            } else {
                format!("give the token `{}`", p.permission)
            };
            out.push(Diagnostic::in_file(
                format!("github:{}", cx.settings.repository),
                None,
                format!(
                    "cannot read {} ({} {}{said}); rules that need it were skipped",
                    p.what, p.endpoint, p.status
                ),
                help,
            ));
        }
    }
}
