//! The success rule: when is a rollout done, and did it work?

use aws_sdk_ecs::types::{Deployment, DeploymentRolloutState, Service};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    InProgress,
    Succeeded,
    Failed(String),
}

fn is_primary(d: &Deployment) -> bool {
    d.status.as_deref() == Some("PRIMARY")
}

/// Judge one observation of a service against the task definition we deployed.
///
/// Success only when the PRIMARY deployment runs `ours` and its rollout state is `COMPLETED` (or,
/// without a rollout state, it is the only deployment and running == desired with nothing
/// pending). A PRIMARY running something else, or our deployment `FAILED`, is a failure.
pub fn evaluate(service: &Service, ours: &str) -> Verdict {
    let deployments = service.deployments.as_deref().unwrap_or_default();
    let mine = deployments
        .iter()
        .find(|d| d.task_definition.as_deref() == Some(ours));
    let Some(primary) = deployments.iter().find(|d| is_primary(d)) else {
        return Verdict::Failed("the service has no PRIMARY deployment".into());
    };
    if primary.task_definition.as_deref() != Some(ours) {
        let now = primary.task_definition.as_deref().unwrap_or("?");
        return Verdict::Failed(match mine {
            Some(d) if d.rollout_state == Some(DeploymentRolloutState::Failed) => format!(
                "rolled back by the circuit breaker: our deployment is FAILED ({}) and the service \
                 is back on {now}",
                d.rollout_state_reason.as_deref().unwrap_or("no reason given")
            ),
            Some(_) => {
                format!("another deployment replaced ours: the PRIMARY deployment runs {now}")
            }
            None => format!(
                "rolled back by the circuit breaker: our deployment disappeared and the PRIMARY \
                 deployment runs {now}"
            ),
        });
    }
    match &primary.rollout_state {
        Some(DeploymentRolloutState::Completed) => Verdict::Succeeded,
        Some(DeploymentRolloutState::Failed) => Verdict::Failed(format!(
            "the deployment's rollout state is FAILED: {}",
            primary
                .rollout_state_reason
                .as_deref()
                .unwrap_or("no reason given")
        )),
        Some(DeploymentRolloutState::InProgress) => Verdict::InProgress,
        _ => {
            if deployments.len() == 1
                && primary.running_count == primary.desired_count
                && primary.pending_count == 0
            {
                Verdict::Succeeded
            } else {
                Verdict::InProgress
            }
        }
    }
}

/// Another deployment is still in progress (more than one deployment, or a PRIMARY whose
/// rollout state is IN_PROGRESS).
pub fn deployment_in_progress(service: &Service) -> Option<String> {
    let deployments = service.deployments.as_deref().unwrap_or_default();
    if deployments.len() > 1 {
        return Some(format!(
            "{} deployments are active ({})",
            deployments.len(),
            deployments
                .iter()
                .map(|d| format!(
                    "{} {}",
                    d.status.as_deref().unwrap_or("?"),
                    d.task_definition.as_deref().unwrap_or("?")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let p = deployments.iter().find(|d| is_primary(d))?;
    (p.rollout_state == Some(DeploymentRolloutState::InProgress)).then(|| {
        format!(
            "the PRIMARY deployment {} is still IN_PROGRESS",
            p.id.as_deref().unwrap_or("?")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "arn:td/api:8";
    const OLD: &str = "arn:td/api:7";

    fn dep(status: &str, td: &str, run: i32, desired: i32, state: Option<&str>) -> Deployment {
        Deployment::builder()
            .id(format!("ecs-svc/{td}"))
            .status(status)
            .task_definition(td)
            .running_count(run)
            .desired_count(desired)
            .set_rollout_state(state.map(DeploymentRolloutState::from))
            .build()
    }

    fn svc(deps: Vec<Deployment>) -> Service {
        Service::builder().set_deployments(Some(deps)).build()
    }

    #[test]
    fn completed_primary_of_ours_succeeds() {
        let s = svc(vec![dep("PRIMARY", OURS, 2, 2, Some("COMPLETED"))]);
        assert_eq!(evaluate(&s, OURS), Verdict::Succeeded);
    }

    #[test]
    fn in_progress_even_when_counts_match() {
        let s = svc(vec![
            dep("PRIMARY", OURS, 2, 2, Some("IN_PROGRESS")),
            dep("ACTIVE", OLD, 2, 2, Some("COMPLETED")),
        ]);
        assert_eq!(evaluate(&s, OURS), Verdict::InProgress);
    }

    #[test]
    fn circuit_breaker_rollback_is_failure() {
        let s = svc(vec![
            dep("PRIMARY", OLD, 1, 2, Some("IN_PROGRESS")),
            dep("ACTIVE", OURS, 0, 2, Some("FAILED")),
        ]);
        let Verdict::Failed(why) = evaluate(&s, OURS) else {
            panic!()
        };
        assert!(why.contains("rolled back by the circuit breaker"), "{why}");
        // Later our deployment is gone and the old one is COMPLETED: still a failure.
        let s = svc(vec![dep("PRIMARY", OLD, 2, 2, Some("COMPLETED"))]);
        let Verdict::Failed(why) = evaluate(&s, OURS) else {
            panic!()
        };
        assert!(why.contains("disappeared"), "{why}");
    }

    #[test]
    fn without_rollout_state_counts_decide() {
        let two = svc(vec![
            dep("PRIMARY", OURS, 2, 2, None),
            dep("ACTIVE", OLD, 1, 2, None),
        ]);
        assert_eq!(evaluate(&two, OURS), Verdict::InProgress);
        let one = svc(vec![dep("PRIMARY", OURS, 2, 2, None)]);
        assert_eq!(evaluate(&one, OURS), Verdict::Succeeded);
        let short = svc(vec![dep("PRIMARY", OURS, 1, 2, None)]);
        assert_eq!(evaluate(&short, OURS), Verdict::InProgress);
    }

    #[test]
    fn in_progress_detection() {
        assert!(
            deployment_in_progress(&svc(vec![dep("PRIMARY", OLD, 2, 2, Some("COMPLETED"))]))
                .is_none()
        );
        assert!(
            deployment_in_progress(&svc(vec![dep("PRIMARY", OLD, 1, 2, Some("IN_PROGRESS"))]))
                .is_some()
        );
        assert!(deployment_in_progress(&svc(vec![
            dep("PRIMARY", OURS, 2, 2, None),
            dep("ACTIVE", OLD, 1, 2, None)
        ]))
        .is_some());
    }
}
