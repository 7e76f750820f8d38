//! The ECS calls ship makes, with errors turned into clear [`Error`]s.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::{
    DesiredStatus, Service, ServiceDeploymentStatus, SortOrder, StopServiceDeploymentStopType, Tag,
    Task, TaskDefinition, TaskDefinitionField, TaskDefinitionStatus,
};
use aws_sdk_ecs::Client;

use crate::{Error, Result};

/// Build a client from the standard AWS chain (env, profile, web identity, IMDS), including
/// `AWS_ENDPOINT_URL`. `endpoint` and `region` override the chain.
pub async fn connect(region: Option<String>, endpoint: Option<String>) -> Result<Ecs> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(5)
                .with_initial_backoff(Duration::from_millis(200))
                .with_max_backoff(Duration::from_secs(5)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        );
    if let Some(r) = region.filter(|r| !r.is_empty()) {
        loader = loader.region(Region::new(r));
    }
    if let Some(e) = endpoint.filter(|e| !e.is_empty()) {
        loader = loader.endpoint_url(e);
    }
    let conf = loader.load().await;
    if conf.region().is_none() {
        return Err(Error::Input(
            "no AWS region configured: set AWS_REGION (aws-actions/configure-aws-credentials \
             does) or pass --region"
                .into(),
        ));
    }
    Ok(Ecs {
        client: Client::new(&conf),
        conf: Some(conf),
    })
}

fn code_of<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<String> {
    e.as_service_error()
        .and_then(|s| s.code())
        .map(str::to_owned)
}

fn aws<E, R>(what: &str, e: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if no_credentials(&e) {
        return Error::Input(format!(
            "no AWS credentials were found ({what} was not sent): on GitHub Actions run \
             aws-actions/configure-aws-credentials (role-to-assume, with `permissions: id-token: \
             write`) before this step; elsewhere set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
             or AWS_PROFILE, or run where an instance or container role is available"
        ));
    }
    Error::Aws(format!("{what} failed: {}", DisplayErrorContext(&e)))
}

/// Whether `e` comes from the credential chain finding no credentials at all (no environment
/// keys, profile, web identity or instance role): configuration, not an AWS failure. A
/// provider that failed (an STS error, a timeout) is not this; it stays an AWS error.
fn no_credentials(e: &(dyn std::error::Error + 'static)) -> bool {
    use aws_credential_types::provider::error::CredentialsError;
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(CredentialsError::CredentialsNotLoaded(_)) =
            c.downcast_ref::<CredentialsError>()
        {
            return true;
        }
        cause = c.source();
    }
    false
}

fn cluster_or<E, R>(cluster: &str, what: &str, e: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match code_of(&e).as_deref() {
        Some("ClusterNotFoundException") => cluster_not_found(cluster),
        _ => aws(what, e),
    }
}

fn cluster_not_found(cluster: &str) -> Error {
    Error::NotFound(format!(
        "cluster {cluster:?} was not found in this account and region: check the `cluster` input \
         (name or ARN) and that AWS_REGION is the cluster's region"
    ))
}

/// A thin wrapper around the SDK client.
#[derive(Clone, Debug)]
pub struct Ecs {
    pub client: Client,
    /// The AWS configuration the client was built from, for the other services ship calls
    /// (ECR, CloudWatch Logs) with the same credentials, region and endpoint.
    pub conf: Option<aws_config::SdkConfig>,
}

impl Ecs {
    pub fn new(client: Client) -> Self {
        Ecs { client, conf: None }
    }

    /// The shared AWS configuration, or an error naming what needs it.
    pub fn sdk_config(&self, what: &str) -> Result<&aws_config::SdkConfig> {
        self.conf
            .as_ref()
            .ok_or_else(|| Error::Aws(format!("{what}: no AWS configuration to call it with")))
    }

    /// Describe services (at most 10 per call are batched). A missing service is an error.
    pub async fn describe_services(&self, cluster: &str, names: &[String]) -> Result<Vec<Service>> {
        let mut out = Vec::new();
        for chunk in names.chunks(10) {
            let resp = self
                .client
                .describe_services()
                .cluster(cluster)
                .set_services(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| cluster_or(cluster, "DescribeServices", e))?;
            if let Some(f) = resp.failures().first() {
                let name = f.arn().unwrap_or("?");
                if f.reason() == Some("MISSING") {
                    return Err(Error::NotFound(format!(
                        "service {name:?} was not found in cluster {cluster:?}: check the `service` \
                         input (comma-separated names) and the `cluster` input"
                    )));
                }
                return Err(Error::Aws(format!(
                    "DescribeServices: {name}: {} {}",
                    f.reason().unwrap_or(""),
                    f.detail().unwrap_or("")
                )));
            }
            for s in resp.services.unwrap_or_default() {
                if s.status.as_deref() == Some("INACTIVE") {
                    return Err(Error::NotFound(format!(
                        "service {:?} in cluster {cluster:?} is INACTIVE (deleted): check the \
                         `service` input",
                        s.service_name.as_deref().unwrap_or("?")
                    )));
                }
                out.push(s);
            }
        }
        // Keep the caller's order.
        out.sort_by_key(|s| {
            names
                .iter()
                .position(|n| {
                    Some(n.as_str()) == s.service_name.as_deref()
                        || Some(n.as_str()) == s.service_arn.as_deref()
                })
                .unwrap_or(usize::MAX)
        });
        Ok(out)
    }

    /// A task definition revision with its tags.
    pub async fn describe_task_definition(&self, id: &str) -> Result<(TaskDefinition, Vec<Tag>)> {
        let resp = self
            .client
            .describe_task_definition()
            .task_definition(id)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
            .map_err(|e| match code_of(&e).as_deref() {
                Some("ClientException") | Some("InvalidParameterException") => {
                    Error::NotFound(format!(
                        "task definition {id:?} was not found: {}",
                        DisplayErrorContext(&e)
                    ))
                }
                _ => aws("DescribeTaskDefinition", e),
            })?;
        let td = resp
            .task_definition
            .ok_or_else(|| Error::Aws(format!("DescribeTaskDefinition {id}: empty response")))?;
        Ok((td, resp.tags.unwrap_or_default()))
    }

    /// The RegisterTaskDefinition request for a rendered task definition (read-only fields
    /// already dropped).
    fn register_request(
        &self,
        td: &TaskDefinition,
        tags: Vec<Tag>,
    ) -> aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder
    {
        let td = td.clone();
        self.client
            .register_task_definition()
            .set_family(td.family)
            .set_task_role_arn(td.task_role_arn)
            .set_execution_role_arn(td.execution_role_arn)
            .set_network_mode(td.network_mode)
            .set_container_definitions(td.container_definitions)
            .set_volumes(td.volumes)
            .set_placement_constraints(td.placement_constraints)
            .set_requires_compatibilities(td.requires_compatibilities)
            .set_cpu(td.cpu)
            .set_memory(td.memory)
            .set_pid_mode(td.pid_mode)
            .set_ipc_mode(td.ipc_mode)
            .set_proxy_configuration(td.proxy_configuration)
            .set_ephemeral_storage(td.ephemeral_storage)
            .set_runtime_platform(td.runtime_platform)
            .set_enable_fault_injection(td.enable_fault_injection)
            .set_tags((!tags.is_empty()).then_some(tags))
    }

    /// Register a rendered task definition (read-only fields already dropped) with tags.
    pub async fn register(&self, td: &TaskDefinition, tags: Vec<Tag>) -> Result<TaskDefinition> {
        let resp = self
            .register_request(td, tags)
            .send()
            .await
            .map_err(|e| aws("RegisterTaskDefinition", e))?;
        resp.task_definition
            .ok_or_else(|| Error::Aws("RegisterTaskDefinition: empty response".into()))
    }

    /// Whether registering `rendered` would register `existing` (a described revision) again:
    /// the same RegisterTaskDefinition input, tags aside, with its read-only fields dropped and
    /// the defaults ECS fills in when it describes a revision filled in on both sides.
    pub fn same_registration(&self, rendered: &TaskDefinition, existing: &TaskDefinition) -> bool {
        let input = |td: &TaskDefinition| {
            let mut td = td.clone();
            crate::render::strip_read_only(&mut td);
            fill_described_defaults(&mut td);
            self.register_request(&td, Vec::new()).as_input().clone()
        };
        input(rendered) == input(existing)
    }

    /// Point the service at a task definition. Returns the new PRIMARY deployment id.
    pub async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
        force_new_deployment: bool,
        desired_count: Option<i32>,
    ) -> Result<Option<String>> {
        let resp = self
            .client
            .update_service()
            .cluster(cluster)
            .service(service)
            .task_definition(task_definition)
            .force_new_deployment(force_new_deployment)
            .set_desired_count(desired_count)
            .send()
            .await
            .map_err(|e| match code_of(&e).as_deref() {
                Some("ServiceNotFoundException") | Some("ServiceNotActiveException") => {
                    Error::NotFound(format!(
                        "service {service:?} was not found (or is not active) in cluster \
                         {cluster:?}: check the `service` and `cluster` inputs"
                    ))
                }
                Some("ClusterNotFoundException") => cluster_not_found(cluster),
                _ => aws("UpdateService", e),
            })?;
        Ok(resp.service.and_then(|s| {
            s.deployments
                .unwrap_or_default()
                .into_iter()
                .find(|d| d.status.as_deref() == Some("PRIMARY"))
                .and_then(|d| d.id)
        }))
    }

    /// All revisions of a family with the given status, newest first.
    pub async fn list_task_definitions(
        &self,
        family: &str,
        status: TaskDefinitionStatus,
    ) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let resp = self
                .client
                .list_task_definitions()
                .family_prefix(family)
                .status(status.clone())
                .sort(SortOrder::Desc)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| aws("ListTaskDefinitions", e))?;
            out.extend(resp.task_definition_arns.unwrap_or_default());
            token = resp.next_token;
            if token.is_none() {
                break;
            }
        }
        // Some implementations ignore `sort`: sort by revision number ourselves, newest first.
        out.retain(|a| family_of(a) == Some(family));
        out.sort_by_key(|a| std::cmp::Reverse(revision_of(a).unwrap_or(0)));
        Ok(out)
    }

    /// Stopped tasks of a service that ran the given task definition.
    pub async fn stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
    ) -> Result<Vec<Task>> {
        let resp = self
            .client
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(DesiredStatus::Stopped)
            .send()
            .await
            .map_err(|e| aws("ListTasks", e))?;
        let arns = resp.task_arns.unwrap_or_default();
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        let mut tasks = Vec::new();
        for chunk in arns.chunks(100) {
            let resp = self
                .client
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| aws("DescribeTasks", e))?;
            tasks.extend(resp.tasks.unwrap_or_default());
        }
        tasks.retain(|t| t.task_definition_arn.as_deref() == Some(task_definition));
        Ok(tasks)
    }

    /// The ECS service deployment in progress for a service (PENDING or IN_PROGRESS), if ECS
    /// tracks one: services deployed by the ECS deployment controller have them.
    pub async fn in_progress_service_deployment(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Option<String>> {
        let resp = self
            .client
            .list_service_deployments()
            .cluster(cluster)
            .service(service)
            .status(ServiceDeploymentStatus::InProgress)
            .status(ServiceDeploymentStatus::Pending)
            .send()
            .await
            .map_err(|e| aws("ListServiceDeployments", e))?;
        Ok(resp
            .service_deployments()
            .iter()
            .find_map(|d| d.service_deployment_arn().map(str::to_owned)))
    }

    /// Stop a service deployment with ROLLBACK: ECS returns the service to the revision it ran
    /// before that deployment, with its own bookkeeping of the deployment.
    pub async fn stop_service_deployment_rollback(&self, arn: &str) -> Result<()> {
        self.client
            .stop_service_deployment()
            .service_deployment_arn(arn)
            .stop_type(StopServiceDeploymentStopType::Rollback)
            .send()
            .await
            .map_err(|e| aws("StopServiceDeployment", e))?;
        Ok(())
    }

    pub async fn tag(&self, arn: &str, tags: Vec<Tag>) -> Result<()> {
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| aws("TagResource", e))?;
        Ok(())
    }

    pub async fn deregister(&self, arn: &str) -> Result<()> {
        self.client
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|e| aws("DeregisterTaskDefinition", e))?;
        Ok(())
    }
}

/// What ECS's DescribeTaskDefinition answers for fields registered without a value: empty
/// lists, and `essential` true. Lists are set to None and `essential` to true, so that a
/// revision registered from a file compares equal to its described self.
fn fill_described_defaults(td: &mut TaskDefinition) {
    fn none_if_empty<T>(v: &mut Option<Vec<T>>) {
        if v.as_ref().is_some_and(Vec::is_empty) {
            *v = None;
        }
    }
    none_if_empty(&mut td.volumes);
    none_if_empty(&mut td.placement_constraints);
    for c in td.container_definitions.iter_mut().flatten() {
        none_if_empty(&mut c.port_mappings);
        none_if_empty(&mut c.environment);
        none_if_empty(&mut c.environment_files);
        none_if_empty(&mut c.mount_points);
        none_if_empty(&mut c.volumes_from);
        none_if_empty(&mut c.secrets);
        none_if_empty(&mut c.system_controls);
        none_if_empty(&mut c.ulimits);
        c.essential.get_or_insert(true);
    }
}

/// `family` of `arn:aws:ecs:region:acct:task-definition/family:12` (or of `family:12`).
pub fn family_of(arn: &str) -> Option<&str> {
    let tail = arn.rsplit('/').next()?;
    tail.rsplit_once(':').map(|(f, _)| f)
}

/// `12` of `arn:...:task-definition/family:12`.
pub fn revision_of(arn: &str) -> Option<i32> {
    arn.rsplit_once(':')?.1.parse().ok()
}

/// `family:12` for display.
pub fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Tag value by key.
pub fn tag_value<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key.as_deref() == Some(key))
        .and_then(|t| t.value.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline() -> Ecs {
        let conf = aws_sdk_ecs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        Ecs::new(Client::from_conf(conf))
    }

    fn described() -> TaskDefinition {
        use aws_sdk_ecs::types::{ContainerDefinition, KeyValuePair};
        TaskDefinition::builder()
            .family("api")
            .revision(4)
            .task_definition_arn("arn:aws:ecs:us-east-1:1:task-definition/api:4")
            .status(TaskDefinitionStatus::Active)
            .registered_by("arn:aws:iam::1:role/deploy")
            .cpu("256")
            .memory("512")
            .execution_role_arn("arn:aws:iam::1:role/exec")
            .set_volumes(Some(Vec::new()))
            .container_definitions(
                ContainerDefinition::builder()
                    .name("app")
                    .image("r/api:v2.0.0")
                    .essential(true)
                    .set_port_mappings(Some(Vec::new()))
                    .set_mount_points(Some(Vec::new()))
                    .environment(KeyValuePair::builder().name("MODE").value("web").build())
                    .build(),
            )
            .build()
    }

    #[test]
    fn same_registration_ignores_read_only_fields_and_described_defaults() {
        use aws_sdk_ecs::types::{ContainerDefinition, KeyValuePair};
        let ecs = offline();
        let existing = described();
        // What a rollout renders from a file: no read-only fields, no empty lists, no
        // `essential`.
        let rendered = TaskDefinition::builder()
            .family("api")
            .cpu("256")
            .memory("512")
            .execution_role_arn("arn:aws:iam::1:role/exec")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("app")
                    .image("r/api:v2.0.0")
                    .environment(KeyValuePair::builder().name("MODE").value("web").build())
                    .build(),
            )
            .build();
        assert!(ecs.same_registration(&rendered, &existing));
        assert!(ecs.same_registration(&existing, &existing));

        let changed = |f: &dyn Fn(&mut TaskDefinition)| {
            let mut td = rendered.clone();
            f(&mut td);
            ecs.same_registration(&td, &existing)
        };
        fn app(td: &mut TaskDefinition) -> &mut ContainerDefinition {
            &mut td.container_definitions.as_mut().unwrap()[0]
        }
        assert!(!changed(&|td| app(td).image = Some("r/api:v2.0.1".into())));
        assert!(!changed(&|td| app(td).environment = None));
        assert!(!changed(&|td| app(td).essential = Some(false)));
        assert!(!changed(&|td| td.memory = Some("1024".into())));
        assert!(!changed(
            &|td| td.task_role_arn = Some("arn:aws:iam::1:role/app".into())
        ));
        assert!(!changed(&|td| td.family = Some("worker".into())));
    }

    #[test]
    fn arn_parts() {
        let a = "arn:aws:ecs:us-east-1:1:task-definition/api:12";
        assert_eq!(family_of(a), Some("api"));
        assert_eq!(revision_of(a), Some(12));
        assert_eq!(short(a), "api:12");
        assert_eq!(family_of("api:3"), Some("api"));
    }
}
