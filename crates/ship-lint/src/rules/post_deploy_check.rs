use crate::context::{Diagnostic, WorkflowContext};
use crate::model::{job_needs, StepRole};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// A rollout with no smoke test or health check after it: no later step of the same job
    /// and no job that `needs:` it runs one.
    ///
    /// Recognised checks: ship's `smoke-test` action, `ship-smoke-test`, URL health-check
    /// actions, `curl`/`wget` against health or version endpoints (or with `--fail`), Hurl,
    /// k6, e2e/smoke scripts, and steps named "smoke" or "health".
    ///
    /// ## Why
    /// ECS reports a deployment stable when tasks pass their container health checks, not
    /// when the release works. Without a check of health, version and key flows, a broken
    /// release stays live and nothing triggers the rollback.
    ///
    /// ## How to fix
    /// ```yaml
    ///   smoke:
    ///     needs: [deploy]
    ///     steps:
    ///       - uses: org/ship/smoke-test@v1
    ///         with: { url: "https://api.example.com/health", expect-version: "${{ inputs.version }}" }
    /// ```
    pub struct PostDeployCheck {
        id: "post-deploy-check",
        severity: Error,
        summary: "a rollout is not followed by a smoke test or health check",
    }
}
rule_impl!(PostDeployCheck, workflow);

impl PostDeployCheck {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        // A job calling a reusable workflow is checked in the callee, where the steps are.
        for (job, facts) in cx.jobs().filter(|(_, f)| f.called.is_none()) {
            for rollout in facts.steps_with(StepRole::Rollout) {
                let later_step = facts
                    .steps_with(StepRole::SmokeTest)
                    .any(|s| s.step > rollout.step);
                let later_job = cx.jobs().any(|(other, of)| {
                    other.id != job.id
                        && of.has(StepRole::SmokeTest)
                        && job_needs(cx.workflow, other, job.id)
                });
                if later_step || later_job {
                    continue;
                }
                out.push(Diagnostic::new(
                    rollout.span,
                    format!("rollout in job `{}` is not followed by a smoke test or health check", job.id),
                    "add a smoke-test step after it (e.g. `uses: org/ship/smoke-test@v1`), or a job with `needs: [".to_string() + job.id + "]` that runs one",
                ));
            }
        }
    }
}
