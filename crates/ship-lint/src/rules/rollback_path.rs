use crate::context::{Diagnostic, RepositoryContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// The repository deploys to production but has no rollback that a person can start:
    /// no workflow with `workflow_dispatch` that rolls production back (ship's `rollback`
    /// action, `ship-rollback`, or a job named for a rollback that redeploys), and no manual
    /// production deploy that takes the version to deploy and builds nothing (dispatched
    /// with the last good version, it is the rollback). A deploy that rebuilds the chosen
    /// ref is not one: an older ref rebuilds, it does not redeploy the known-good artifact.
    ///
    /// The repository is judged as a whole; the finding points at its first production
    /// deploy.
    ///
    /// ## Why
    /// When a release fails after the automatic checks passed, the fastest safe action is
    /// to return to the last known good version. Without a prepared, manually triggerable
    /// rollback, people improvise one under pressure, with console clicks and no record.
    ///
    /// ## How to fix
    /// Add `.github/workflows/rollback.yml` (`ship init` writes one):
    ///
    /// ```yaml
    /// on:
    ///   workflow_dispatch:
    ///     inputs:
    ///       to-version: { description: "vX.Y.Z (default: last known good)", required: false }
    /// jobs:
    ///   rollback:
    ///     environment: production
    ///     steps:
    ///       - uses: org/ship/rollback@v1
    /// ```
    pub struct RollbackPath {
        id: "rollback-path",
        severity: Error,
        summary: "production deploys exist but no manually triggerable rollback",
    }
}
rule_impl!(RollbackPath, repository);

impl RollbackPath {
    fn check(&self, cx: &RepositoryContext<'_>, out: &mut Vec<Diagnostic>) {
        if cx.workflows.iter().any(|w| w.manual_rollback) {
            return;
        }
        let Some(deploy) = cx.workflows.iter().find(|w| w.production_deploy.is_some()) else {
            return;
        };
        out.push(Diagnostic::in_file(
            &deploy.path,
            deploy.production_deploy,
            "this workflow deploys to production, but no workflow can roll it back by hand",
            "add a `workflow_dispatch` workflow that runs `org/ship/rollback@v1` (or `ship init` to generate rollback.yml)",
        ));
    }
}
