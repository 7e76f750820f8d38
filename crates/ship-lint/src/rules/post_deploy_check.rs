use crate::context::{Diagnostic, WorkflowContext};
use crate::model::{job_needs, JobFacts, RoleStep, StepRole};
use crate::rules::rule_impl;
use ship_workflow::Job;

declare_rule! {
    /// ## What it reports
    /// A rollout with no smoke test or health check after it: no later step of the same job
    /// and no job that `needs:` it runs one.
    ///
    /// Recognised checks: ship's `smoke-test` action, `ship-smoke-test`, URL health-check
    /// actions, `curl`/`wget` of health, readiness or version endpoints, Hurl, k6, Postman
    /// collections (newman), Playwright or e2e/smoke scripts against the deployed URL, and
    /// steps named "smoke", "health check" or "verify deploy" that request a URL.
    /// `aws ecs wait services-stable` is not a check: ECS calls a service stable when its
    /// tasks pass their container health checks, not when the release works.
    ///
    /// Where it is reported:
    /// - a rollout inside a composite action (`uses: ./.github/actions/deploy`) at its line
    ///   in the action, once however many workflows use it;
    /// - a reusable workflow of this repository whose rollout no caller follows with a
    ///   check: in the reusable workflow; when some callers check and others do not, at
    ///   each caller job that does not;
    /// - reusable workflows of other repositories are not judged (what they run is not
    ///   visible here).
    ///
    /// ## Why
    /// Without a check of health, version and key flows, a broken release stays live and
    /// nothing triggers the rollback.
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

/// Does a smoke test follow this job: a later step, or a job that `needs:` it?
fn checked_after(
    cx: &WorkflowContext<'_>,
    job: &Job<'_>,
    facts: &JobFacts,
    after_step: usize,
) -> bool {
    facts
        .steps_with(StepRole::SmokeTest)
        .any(|s| s.step > after_step)
        || cx.jobs().any(|(other, of)| {
            other.id != job.id
                && of.has(StepRole::SmokeTest)
                && job_needs(cx.workflow, other, job.id)
        })
}

impl PostDeployCheck {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        if cx.is_action() {
            return;
        }
        let callers = cx.repo.callers_of(cx.path);
        // Some caller checks after calling this workflow: the callers that do not are
        // reported, not this workflow. A workflow called only from other reusable
        // workflows is judged through them.
        let callers_decide = callers.iter().any(|c| c.checked_after)
            || (!callers.is_empty() && callers.iter().all(|c| c.in_reusable));
        for (job, facts) in cx.jobs() {
            if let Some(called) = facts.called.as_deref() {
                self.check_call(cx, job, facts, called, out);
                continue;
            }
            if callers_decide {
                continue;
            }
            // Another repository's reusable workflow: its steps are not visible.
            if job.uses.is_some() {
                continue;
            }
            // The last unchecked rollout of the job in this file (a check must come after
            // it), and each one inside a composite action, at the action.
            let mut last_here: Option<&RoleStep> = None;
            for rollout in facts.steps_with(StepRole::Rollout) {
                if checked_after(cx, job, facts, rollout.step) {
                    continue;
                }
                let d = diagnostic(cx, job, rollout);
                if d.path.is_none() {
                    last_here = Some(rollout);
                } else {
                    out.push(d);
                }
            }
            if let Some(rollout) = last_here {
                out.push(diagnostic(cx, job, rollout));
            }
        }
    }

    /// A job that calls one of this repository's reusable workflows.
    fn check_call(
        &self,
        cx: &WorkflowContext<'_>,
        job: &Job<'_>,
        facts: &JobFacts,
        called: &str,
        out: &mut Vec<Diagnostic>,
    ) {
        let Some(callee) = cx.repo.callee(called) else {
            return;
        };
        if !facts.has(StepRole::Rollout) || callee.checks_after_rollout {
            return;
        }
        if checked_after(cx, job, facts, 0) {
            return;
        }
        // When no caller checks, the called workflow is reported once, in its own file.
        if !cx
            .repo
            .callers_of(&callee.path)
            .iter()
            .any(|c| c.checked_after)
        {
            return;
        }
        out.push(Diagnostic::new(
            job.key.span,
            format!(
                "job `{}` deploys through {} and nothing checks the result: no smoke test or health check follows it",
                job.id, callee.path
            ),
            format!("add a job with `needs: [{}]` that runs a smoke test against what it deployed (e.g. `uses: org/ship/smoke-test@v1`)", job.id),
        ));
    }
}

/// The finding for one unchecked rollout: at the rollout, in the composite action when
/// that is where it runs.
fn diagnostic(cx: &WorkflowContext<'_>, job: &Job<'_>, rollout: &RoleStep) -> Diagnostic {
    let help = format!(
        "add a smoke-test step after it (e.g. `uses: org/ship/smoke-test@v1`), or a job with `needs: [{}]` that runs one",
        job.id
    );
    let e = &rollout.evidence;
    if !e.path.is_empty() && e.path != cx.path {
        return Diagnostic::in_file(
            e.path.clone(),
            Some(e.span),
            format!(
                "rollout `{}` in this composite action is not followed by a smoke test or health check, here or in the job that uses it",
                e.what
            ),
            help,
        );
    }
    // The span is the step; name the command when the step runs several.
    let what = if e.span == rollout.span {
        String::new()
    } else {
        format!(" (`{}`)", e.what)
    };
    Diagnostic::new(
        rollout.span,
        format!(
            "rollout in job `{}`{what} is not followed by a smoke test or health check",
            job.id
        ),
        help,
    )
}
