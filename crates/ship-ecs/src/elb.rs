//! Load balancer target health for failure diagnostics: a deployment that never stabilises
//! behind a load balancer is most often failing its health check, and ECS's own events only say
//! "unhealthy"; DescribeTargetHealth says why (status codes, timeouts).

use aws_sdk_elasticloadbalancingv2::error::DisplayErrorContext;

use crate::ecs::Ecs;

/// One line per target of the target group that is not healthy (or a line saying they all are,
/// or why they could not be read). Never an error: diagnostics must not hide the failure.
pub async fn target_health(ecs: &Ecs, target_group: &str) -> Vec<String> {
    let name = target_group
        .split(":targetgroup/")
        .nth(1)
        .unwrap_or(target_group);
    let Ok(conf) = ecs.sdk_config("DescribeTargetHealth") else {
        return Vec::new();
    };
    let client = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    let resp = match client
        .describe_target_health()
        .target_group_arn(target_group)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => {
            return vec![format!(
                "target group {name}: could not read target health: {}",
                DisplayErrorContext(&e)
            )]
        }
    };
    let mut lines = Vec::new();
    let mut healthy = 0;
    for d in resp.target_health_descriptions() {
        let target = d
            .target()
            .map(|t| match t.port() {
                Some(p) => format!("{}:{p}", t.id().unwrap_or("?")),
                None => t.id().unwrap_or("?").to_string(),
            })
            .unwrap_or_else(|| "?".into());
        let Some(h) = d.target_health() else { continue };
        let state = h.state().map(|s| s.as_str()).unwrap_or("?");
        if state == "healthy" {
            healthy += 1;
            continue;
        }
        let why = match (h.reason().map(|r| r.as_str()), h.description()) {
            (Some(r), Some(d)) => format!(" ({r}: {d})"),
            (Some(r), None) => format!(" ({r})"),
            (None, Some(d)) => format!(" ({d})"),
            (None, None) => String::new(),
        };
        lines.push(format!("target group {name}: target {target} {state}{why}"));
    }
    if lines.is_empty() {
        lines.push(format!(
            "target group {name}: {healthy} target(s), all healthy"
        ));
    }
    lines
}
