use crate::context::{Diagnostic, WorkflowContext};
use crate::model::{job_needs, StepRole};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// In a workflow that runs database migrations, a rollout that does not come after them:
    /// neither a later step of the migrating job, nor a job that `needs:` the migrating job
    /// (directly or transitively).
    ///
    /// ## Why
    /// The new code expects the new schema. Rolled out first (or in parallel), it serves
    /// requests against the old schema and fails until the migrations catch up, or forever
    /// if they fail. The release policy runs migrations first, then the rolling update.
    ///
    /// ## How to fix
    /// ```yaml
    /// jobs:
    ///   migrate:
    ///     steps: [{ uses: org/ship/run-migrations@v1 }]
    ///   deploy:
    ///     needs: [migrate]
    ///     steps: [{ uses: org/ship/ecs-rollout@v1 }]
    /// ```
    pub struct MigrationsOrder {
        id: "migrations-order",
        severity: Error,
        summary: "a rollout does not wait for the migrations",
    }
}
rule_impl!(MigrationsOrder, workflow);

impl MigrationsOrder {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let migrating: Vec<_> = cx
            .jobs()
            .filter(|(_, f)| f.has(StepRole::Migrations))
            .collect();
        if migrating.is_empty() {
            return;
        }
        // A job calling a reusable workflow is checked in the callee, where the steps are.
        for (job, facts) in cx.jobs().filter(|(_, f)| f.called.is_none()) {
            for rollout in facts.steps_with(StepRole::Rollout) {
                // A later step of the same job that migrates is fine only if it is *before*.
                let same_job_before = facts
                    .steps_with(StepRole::Migrations)
                    .any(|m| m.step < rollout.step);
                if same_job_before {
                    continue;
                }
                let after_job = migrating
                    .iter()
                    .any(|(m, _)| m.id != job.id && job_needs(cx.workflow, job, m.id));
                if after_job {
                    continue;
                }
                let others: Vec<&str> = migrating
                    .iter()
                    .map(|(m, _)| m.id)
                    .filter(|id| *id != job.id)
                    .collect();
                let (message, help) = if others.is_empty() {
                    // The only migrations are later steps of this very job.
                    (
                        format!(
                            "rollout in job `{}` runs before the job's own migration step",
                            job.id
                        ),
                        "move the migration step before the rollout step".to_string(),
                    )
                } else {
                    (
                        format!(
                            "rollout in job `{}` does not wait for the migrations (job `{}`)",
                            job.id,
                            others.join("`, `")
                        ),
                        format!("add `needs: [{}]` to job `{}`", others.join(", "), job.id),
                    )
                };
                out.push(Diagnostic::new(rollout.span, message, help));
            }
        }
    }
}
