//! A scripted ECS endpoint: AWS JSON 1.1 over plain HTTP on 127.0.0.1, answering only the
//! actions ship calls, and playing one rollout scenario. The real aws-sdk-ecs client (inside
//! the binaries) talks to it through AWS_ENDPOINT_URL.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

pub const ACCT: &str = "arn:aws:ecs:us-east-1:123456789012";
pub const REPO: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Healthy after N polls.
    Healthy(u32),
    /// New tasks start then exit 1; after 3 polls the rollout state is FAILED (no rollback).
    CrashLoop,
    /// Tasks fail; the circuit breaker returns PRIMARY to the old revision.
    CircuitBreaker,
    /// IN_PROGRESS forever.
    NeverStable,
    /// Two ThrottlingExceptions on DescribeServices, then healthy.
    Throttled,
    /// Another deployment is already in progress before we start.
    AlreadyInProgress,
    /// The first poll after UpdateService still shows the old revision as the only, COMPLETED
    /// PRIMARY deployment (ECS's eventually consistent read), then healthy in N more polls.
    StaleFirstPoll(u32),
}

/// How a one-off task started by RunTask behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunScript {
    /// PROVISIONING, RUNNING, then STOPPED with exit 0; writes three log lines.
    Succeeds,
    /// Runs, writes a log line, exits 1 with a reason.
    ExitsNonZero,
    /// Never starts: STOPPED with CannotPullContainerError, no exit code, no log stream.
    NeverStarts,
    /// RUNNING until StopTask.
    NeverStops,
}

pub const RUN_TASK_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:task/prod/0f1e2d3c";

pub struct World {
    pub scenario: Scenario,
    pub task_defs: Vec<Value>,
    pub tags: Vec<Vec<Value>>,
    pub service_td: String,
    pub old_td: String,
    pub target_td: Option<String>,
    pub updates: u32,
    pub polls: u32,
    pub throttles_left: u32,
    pub events: Vec<Value>,
    pub stopped: Vec<Value>,
    pub calls: Vec<String>,
    pub registered_bodies: Vec<Value>,
    /// Services besides `api` that exist in cluster `prod`: they mirror `api` (same revision,
    /// same deployments), so several services can be deployed together.
    pub also: Vec<String>,
    /// Tags of the ECR repository `api` (registry 123456789012) for DescribeImages.
    pub ecr_tags: Vec<String>,
    /// Whether ListServiceDeployments knows the deployment already in progress
    /// (AlreadyInProgress); false plays a service ECS keeps no service deployments for.
    pub service_deployments: bool,
    pub run_script: RunScript,
    /// RunTask request bodies.
    pub run_requests: Vec<Value>,
    pub run_polls: u32,
    pub run_stop_requested: bool,
    /// Targets of the service's target group `TARGET_GROUP` as (id, port, state, reason,
    /// description). Non-empty: the service has that load balancer and DescribeTargetHealth
    /// (AWS Query protocol, answered in XML) reports them.
    pub target_health: Vec<(String, u16, String, String, String)>,
}

pub const TARGET_GROUP: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-tg/6d0ecf831eec9f09";

pub fn td_arn(rev: i64) -> String {
    format!("{ACCT}:task-definition/api:{rev}")
}

impl World {
    /// Family `api` with revisions 1..=n (image v1.0.<rev-1>), service `api` on revision n.
    pub fn new(scenario: Scenario, n: i64) -> Self {
        let mut w = World {
            scenario,
            task_defs: Vec::new(),
            tags: Vec::new(),
            service_td: String::new(),
            old_td: String::new(),
            target_td: None,
            updates: 0,
            polls: 0,
            throttles_left: 2,
            events: vec![
                json!({"id": "old-1", "createdAt": 1.7e9, "message": "(service api) has reached a steady state."}),
            ],
            stopped: Vec::new(),
            calls: Vec::new(),
            registered_bodies: Vec::new(),
            also: Vec::new(),
            ecr_tags: vec!["v1.5.0".into()],
            service_deployments: true,
            run_script: RunScript::Succeeds,
            run_requests: Vec::new(),
            run_polls: 0,
            run_stop_requested: false,
            target_health: Vec::new(),
        };
        for rev in 1..=n {
            let mut tags = vec![
                json!({"key": "ship:rollout", "value": "COMPLETED"}),
                json!({"key": "ship:version", "value": format!("v1.0.{}", rev - 1)}),
            ];
            if rev > 1 {
                tags.push(json!({"key": "ship:previous", "value": td_arn(rev - 1)}));
            }
            w.ecr_tags.push(format!("v1.0.{}", rev - 1));
            w.add_td(json!({
                "family": "api",
                "containerDefinitions": [
                    {"name": "app", "image": format!("{REPO}:v1.0.{}", rev - 1), "essential": true,
                     "logConfiguration": {"logDriver": "awslogs", "options": {
                         "awslogs-group": "/ecs/api", "awslogs-region": "us-east-1",
                         "awslogs-stream-prefix": "ecs"}}},
                    {"name": "envoy", "image": "public.ecr.aws/envoy:v1.27.0"}
                ],
                "cpu": "256", "memory": "512", "networkMode": "awsvpc",
                "requiresCompatibilities": ["FARGATE"]
            }), tags);
        }
        w.service_td = td_arn(n);
        w
    }

    pub fn add_td(&mut self, mut body: Value, tags: Vec<Value>) -> Value {
        let rev = self.task_defs.len() as i64 + 1;
        let o = body.as_object_mut().unwrap();
        o.insert("taskDefinitionArn".into(), json!(td_arn(rev)));
        o.insert("revision".into(), json!(rev));
        o.insert("status".into(), json!("ACTIVE"));
        o.insert("compatibilities".into(), json!(["EC2", "FARGATE"]));
        o.insert("registeredAt".into(), json!(1.7e9));
        o.insert(
            "requiresAttributes".into(),
            json!([{"name": "ecs.capability.task-eni"}]),
        );
        self.task_defs.push(body.clone());
        self.tags.push(tags);
        body
    }

    pub fn set_tag(&mut self, arn: &str, key: &str, value: &str) {
        if let Some(i) = self.index(arn) {
            self.tags[i].retain(|t| t["key"] != key);
            self.tags[i].push(json!({"key": key, "value": value}));
        }
    }

    pub fn tag_of(&self, arn: &str, key: &str) -> Option<String> {
        let i = self.index(arn)?;
        self.tags[i]
            .iter()
            .find(|t| t["key"] == key)
            .map(|t| t["value"].as_str().unwrap().to_string())
    }

    fn index(&self, id: &str) -> Option<usize> {
        let tail = id.rsplit('/').next().unwrap();
        match tail.split_once(':') {
            Some((_, rev)) => rev
                .parse::<usize>()
                .ok()
                .map(|r| r - 1)
                .filter(|i| *i < self.task_defs.len()),
            None => self.task_defs.iter().rposition(|t| t["status"] == "ACTIVE"),
        }
    }

    fn dep(id: &str, status: &str, td: &str, running: i64, state: &str, failed: i64) -> Value {
        json!({"id": id, "status": status, "taskDefinition": td, "desiredCount": 2,
               "runningCount": running, "pendingCount": 2 - running, "failedTasks": failed,
               "rolloutState": state, "rolloutStateReason": if state == "FAILED" {
                   "ECS deployment circuit breaker: tasks failed to start."} else {"ECS deployment in progress."}})
    }

    fn service(&mut self) -> Value {
        let old = self.old_td.clone();
        let cur = self.service_td.clone();
        let k = self.polls;
        let first_update = self.updates == 1;
        let scenario = if self.updates > 1 {
            Scenario::Healthy(1)
        } else {
            self.scenario
        };
        let target = self.target_td.clone();
        let deployments = match (&target, scenario) {
            (None, Scenario::AlreadyInProgress) => vec![
                Self::dep("ecs-svc/2", "PRIMARY", &cur, 1, "IN_PROGRESS", 0),
                Self::dep("ecs-svc/1", "ACTIVE", &td_arn(1), 1, "COMPLETED", 0),
            ],
            (None, _) => vec![Self::dep("ecs-svc/1", "PRIMARY", &cur, 2, "COMPLETED", 0)],
            (Some(new), Scenario::Healthy(n)) if k < n.max(1) => {
                let _ = first_update;
                vec![
                    Self::dep("ecs-svc/new", "PRIMARY", new, 1, "IN_PROGRESS", 0),
                    Self::dep("ecs-svc/old", "ACTIVE", &old, 2, "COMPLETED", 0),
                ]
            }
            (Some(_), Scenario::StaleFirstPoll(_)) if k < 1 => {
                vec![Self::dep("ecs-svc/old", "PRIMARY", &old, 2, "COMPLETED", 0)]
            }
            (Some(new), Scenario::StaleFirstPoll(n)) if k < 1 + n => {
                vec![
                    Self::dep("ecs-svc/new", "PRIMARY", new, 1, "IN_PROGRESS", 0),
                    Self::dep("ecs-svc/old", "ACTIVE", &old, 2, "COMPLETED", 0),
                ]
            }
            (Some(new), Scenario::Throttled) if k < 1 => {
                vec![
                    Self::dep("ecs-svc/new", "PRIMARY", new, 1, "IN_PROGRESS", 0),
                    Self::dep("ecs-svc/old", "ACTIVE", &old, 2, "COMPLETED", 0),
                ]
            }
            (Some(new), Scenario::Healthy(_))
            | (Some(new), Scenario::StaleFirstPoll(_))
            | (Some(new), Scenario::Throttled)
            | (Some(new), Scenario::AlreadyInProgress) => {
                vec![Self::dep("ecs-svc/new", "PRIMARY", new, 2, "COMPLETED", 0)]
            }
            (Some(new), Scenario::CrashLoop) => {
                self.crash(new, k);
                let state = if k >= 3 { "FAILED" } else { "IN_PROGRESS" };
                vec![
                    Self::dep("ecs-svc/new", "PRIMARY", new, 0, state, k as i64),
                    Self::dep("ecs-svc/old", "ACTIVE", &old, 2, "COMPLETED", 0),
                ]
            }
            (Some(new), Scenario::CircuitBreaker) => {
                self.crash(new, k);
                if k < 2 {
                    vec![
                        Self::dep("ecs-svc/new", "PRIMARY", new, 0, "IN_PROGRESS", k as i64),
                        Self::dep("ecs-svc/old", "ACTIVE", &old, 2, "COMPLETED", 0),
                    ]
                } else if k < 4 {
                    self.service_td = old.clone();
                    vec![
                        Self::dep("ecs-svc/rb", "PRIMARY", &old, 2, "IN_PROGRESS", 0),
                        Self::dep("ecs-svc/new", "ACTIVE", new, 0, "FAILED", 2),
                    ]
                } else {
                    vec![Self::dep("ecs-svc/rb", "PRIMARY", &old, 2, "COMPLETED", 0)]
                }
            }
            (Some(new), Scenario::NeverStable) => {
                vec![
                    Self::dep("ecs-svc/new", "PRIMARY", new, 1, "IN_PROGRESS", 0),
                    Self::dep("ecs-svc/old", "ACTIVE", &old, 2, "COMPLETED", 0),
                ]
            }
        };
        let mut events = self.events.clone();
        events.reverse();
        let load_balancers = if self.target_health.is_empty() {
            json!([])
        } else {
            json!([{"targetGroupArn": TARGET_GROUP, "containerName": "app", "containerPort": 8080}])
        };
        json!({"serviceName": "api", "serviceArn": format!("{ACCT}:service/prod/api"),
               "clusterArn": format!("{ACCT}:cluster/prod"), "status": "ACTIVE",
               "launchType": "FARGATE", "platformVersion": "LATEST", "loadBalancers": load_balancers,
               "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-private-1"],
                   "securityGroups": ["sg-db-clients"], "assignPublicIp": "DISABLED"}},
               "taskDefinition": self.service_td, "desiredCount": 2, "runningCount": 2, "pendingCount": 0,
               "deployments": deployments, "events": events})
    }

    /// The one-off task's state after `run_polls` DescribeTasks calls.
    fn run_task(&self) -> Value {
        let k = self.run_polls;
        let td = self
            .run_requests
            .last()
            .map(|r| r["taskDefinition"].clone())
            .unwrap_or_default();
        let base = |status: &str| {
            json!({"taskArn": RUN_TASK_ARN, "taskDefinitionArn": td,
            "lastStatus": status, "desiredStatus": "RUNNING",
            "containers": [{"name": "app", "lastStatus": status}]})
        };
        let mut t = match (self.run_script, k) {
            (_, 0) => base("PROVISIONING"),
            (RunScript::NeverStarts, _) => {
                let mut t = base("STOPPED");
                t["stopCode"] = json!("TaskFailedToStart");
                t["stoppedReason"] = json!("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v2.0.0: not found");
                t
            }
            (RunScript::NeverStops, _) if self.run_stop_requested => {
                let mut t = base("STOPPED");
                t["stopCode"] = json!("UserInitiated");
                t["stoppedReason"] = json!("ship run-task: timeout");
                t["containers"][0]["exitCode"] = json!(137);
                t
            }
            (RunScript::NeverStops, _) | (_, 1..=2) => base("RUNNING"),
            (RunScript::Succeeds, _) => {
                let mut t = base("STOPPED");
                t["stopCode"] = json!("EssentialContainerExited");
                t["stoppedReason"] = json!("Essential container in task exited");
                t["containers"][0]["exitCode"] = json!(0);
                t
            }
            (RunScript::ExitsNonZero, _) => {
                let mut t = base("STOPPED");
                t["stopCode"] = json!("EssentialContainerExited");
                t["stoppedReason"] = json!("Essential container in task exited");
                t["containers"][0]["exitCode"] = json!(1);
                t["containers"][0]["reason"] = json!("migration 0003_orders failed");
                t
            }
        };
        if t["lastStatus"] == "STOPPED" {
            t["desiredStatus"] = json!("STOPPED");
            t["containers"][0]["lastStatus"] = json!("STOPPED");
        }
        t
    }

    fn crash(&mut self, td: &str, k: u32) {
        let id = format!("task{k}");
        if self
            .stopped
            .iter()
            .any(|t| t["taskArn"].as_str().unwrap().ends_with(&id))
        {
            return;
        }
        self.stopped.push(json!({
            "taskArn": format!("{ACCT}:task/prod/{id}"), "taskDefinitionArn": td,
            "lastStatus": "STOPPED", "desiredStatus": "STOPPED", "stopCode": "EssentialContainerExited",
            "stoppedReason": "Essential container in task exited",
            "containers": [{"name": "app", "exitCode": 1, "reason": "panic: DATABASE_URL not set", "lastStatus": "STOPPED"}]
        }));
        self.events
            .push(json!({"id": format!("ev-{k}"), "createdAt": 1.8e9,
            "message": format!("(service api) has started 1 tasks: (task {id}).")}));
    }

    pub fn handle(&mut self, action: &str, req: &Value) -> Result<Value, (&'static str, String)> {
        self.calls.push(action.to_string());
        match action {
            "DescribeServices" => {
                if req["cluster"] != "prod" {
                    return Err(("ClusterNotFoundException", "Cluster not found.".into()));
                }
                if self.target_td.is_some()
                    && self.scenario == Scenario::Throttled
                    && self.throttles_left > 0
                {
                    self.throttles_left -= 1;
                    return Err(("ThrottlingException", "Rate exceeded".into()));
                }
                let mut services = Vec::new();
                let mut failures = Vec::new();
                for s in req["services"].as_array().unwrap() {
                    let name = s.as_str().unwrap_or("");
                    if name == "api" {
                        services.push(self.service());
                    } else if self.also.iter().any(|a| a == name) {
                        let mut mirror = self.service();
                        mirror["serviceName"] = json!(name);
                        mirror["serviceArn"] = json!(format!("{ACCT}:service/prod/{name}"));
                        services.push(mirror);
                    } else {
                        failures.push(json!({"arn": format!("{ACCT}:service/prod/{}", s.as_str().unwrap()), "reason": "MISSING"}));
                    }
                }
                if self.target_td.is_some() {
                    self.polls += 1;
                }
                Ok(json!({"services": services, "failures": failures}))
            }
            "DescribeTaskDefinition" => {
                let id = req["taskDefinition"].as_str().unwrap();
                let i = self.index(id).ok_or((
                    "ClientException",
                    "Unable to describe task definition.".to_string(),
                ))?;
                Ok(json!({"taskDefinition": self.task_defs[i], "tags": self.tags[i]}))
            }
            "RegisterTaskDefinition" => {
                for f in [
                    "taskDefinitionArn",
                    "revision",
                    "status",
                    "requiresAttributes",
                    "compatibilities",
                    "registeredAt",
                    "registeredBy",
                    "deregisteredAt",
                ] {
                    if req.get(f).is_some() {
                        return Err(("ClientException", format!("unexpected read-only field {f}")));
                    }
                }
                self.registered_bodies.push(req.clone());
                let mut body = req.clone();
                let tags = body
                    .as_object_mut()
                    .unwrap()
                    .remove("tags")
                    .and_then(|t| t.as_array().cloned())
                    .unwrap_or_default();
                let td = self.add_td(body, tags.clone());
                Ok(json!({"taskDefinition": td, "tags": tags}))
            }
            "UpdateService" => {
                let td = req["taskDefinition"].as_str().unwrap();
                let i = self
                    .index(td)
                    .ok_or(("ClientException", "TaskDefinition not found.".to_string()))?;
                let arn = self.task_defs[i]["taskDefinitionArn"]
                    .as_str()
                    .unwrap()
                    .to_string();
                // A mirrored service follows `api`: updating it to where `api` goes changes nothing.
                if req["service"] != "api" && self.target_td.as_deref() == Some(arn.as_str()) {
                    let mut mirror = self.service();
                    mirror["serviceName"] = req["service"].clone();
                    return Ok(json!({"service": mirror}));
                }
                self.updates += 1;
                self.polls = 0;
                self.old_td = self.service_td.clone();
                self.service_td = arn.clone();
                self.target_td = Some(arn);
                Ok(json!({"service": self.service()}))
            }
            "ListTaskDefinitions" => {
                let status = req["status"].as_str().unwrap_or("ACTIVE");
                let arns: Vec<Value> = self
                    .task_defs
                    .iter()
                    .filter(|t| t["status"] == status)
                    .map(|t| t["taskDefinitionArn"].clone())
                    .collect();
                Ok(json!({"taskDefinitionArns": arns}))
            }
            "ListTasks" => Ok(
                json!({"taskArns": self.stopped.iter().map(|t| t["taskArn"].clone()).collect::<Vec<_>>()}),
            ),
            "DescribeTasks" if req["tasks"][0] == RUN_TASK_ARN => {
                self.run_polls += 1;
                Ok(json!({"tasks": [self.run_task()], "failures": []}))
            }
            "DescribeTasks" => Ok(json!({"tasks": self.stopped, "failures": []})),
            "RunTask" => {
                self.run_requests.push(req.clone());
                self.run_polls = 0;
                Ok(json!({"tasks": [self.run_task()], "failures": []}))
            }
            "StopTask" => {
                self.run_stop_requested = true;
                Ok(json!({"task": self.run_task()}))
            }
            // CloudWatch Logs (target prefix Logs_20140328).
            "GetLogEvents" => {
                let stream = format!("ecs/app/{}", RUN_TASK_ARN.rsplit('/').next().unwrap());
                let started = self.run_polls >= 2 && self.run_script != RunScript::NeverStarts;
                if req["logGroupName"] != "/ecs/api" || req["logStreamName"] != stream || !started {
                    return Err((
                        "ResourceNotFoundException",
                        "The specified log stream does not exist.".into(),
                    ));
                }
                let lines: &[&str] = match self.run_script {
                    RunScript::Succeeds => &[
                        "migrating 0001_init",
                        "migrating 0002_users",
                        "migrations done",
                    ],
                    RunScript::ExitsNonZero => &[
                        "migrating 0003_orders",
                        "ERROR: relation \"orders\" already exists",
                    ],
                    _ => &["still working"],
                };
                // One page per call: a first page of one line, then the rest, then nothing new.
                let from: usize = req["nextToken"]
                    .as_str()
                    .and_then(|t| t.strip_prefix("f/"))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let to = if from == 0 { 1 } else { lines.len() };
                let events: Vec<Value> = lines[from.min(to)..to].iter().enumerate()
                    .map(|(i, l)| json!({"timestamp": 1.8e12 as i64 + i as i64, "message": l, "ingestionTime": 1.8e12 as i64}))
                    .collect();
                Ok(
                    json!({"events": events, "nextForwardToken": format!("f/{to}"), "nextBackwardToken": "b/0"}),
                )
            }
            "TagResource" => {
                let arn = req["resourceArn"].as_str().unwrap().to_string();
                for t in req["tags"].as_array().unwrap() {
                    self.set_tag(
                        &arn,
                        t["key"].as_str().unwrap(),
                        t["value"].as_str().unwrap(),
                    );
                }
                Ok(json!({}))
            }
            "DeregisterTaskDefinition" => {
                let i = self
                    .index(req["taskDefinition"].as_str().unwrap())
                    .ok_or(("ClientException", "not found".to_string()))?;
                self.task_defs[i]["status"] = json!("INACTIVE");
                Ok(json!({"taskDefinition": self.task_defs[i]}))
            }
            "ListServiceDeployments" => {
                let listed = self.scenario == Scenario::AlreadyInProgress
                    && self.target_td.is_none()
                    && self.service_deployments;
                let deps: Vec<Value> = if listed {
                    vec![
                        json!({"serviceDeploymentArn": format!("{ACCT}:service-deployment/prod/api/dep2"),
                        "status": "IN_PROGRESS", "targetServiceRevisionArn": format!("{ACCT}:service-revision/prod/api/2")}),
                    ]
                } else {
                    Vec::new()
                };
                Ok(json!({"serviceDeployments": deps}))
            }
            "StopServiceDeployment" => {
                let arn = req["serviceDeploymentArn"].as_str().unwrap_or("");
                if self.scenario != Scenario::AlreadyInProgress
                    || self.target_td.is_some()
                    || !arn.ends_with("/dep2")
                    || req["stopType"] != "ROLLBACK"
                {
                    return Err((
                        "InvalidParameterException",
                        "no such deployment in progress".into(),
                    ));
                }
                // ECS returns the service to the revision the stopped deployment replaced.
                let back = td_arn(1);
                self.updates += 1;
                self.polls = 0;
                self.old_td = self.service_td.clone();
                self.service_td = back.clone();
                self.target_td = Some(back);
                Ok(json!({"serviceDeploymentArn": arn}))
            }
            // Elastic Load Balancing v2 (AWS Query protocol: a form body, an XML answer).
            "DescribeTargetHealth" => {
                if req["TargetGroupArn"] != TARGET_GROUP {
                    return Err((
                        "TargetGroupNotFound",
                        "One or more target groups not found".into(),
                    ));
                }
                let members: String = self
                    .target_health
                    .iter()
                    .map(|(id, port, state, reason, desc)| {
                        let mut h = format!("<State>{state}</State>");
                        if !reason.is_empty() {
                            h.push_str(&format!("<Reason>{reason}</Reason><Description>{desc}</Description>"));
                        }
                        format!("<member><Target><Id>{id}</Id><Port>{port}</Port></Target><HealthCheckPort>{port}</HealthCheckPort><TargetHealth>{h}</TargetHealth></member>")
                    })
                    .collect();
                Ok(json!({"__xml": format!(
                    "<DescribeTargetHealthResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><DescribeTargetHealthResult><TargetHealthDescriptions>{members}</TargetHealthDescriptions></DescribeTargetHealthResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></DescribeTargetHealthResponse>"
                )}))
            }
            // ECR (target prefix AmazonEC2ContainerRegistry_V20150921).
            "DescribeImages" => {
                if req["repositoryName"] != "api" || req["registryId"] != "123456789012" {
                    return Err((
                        "RepositoryNotFoundException",
                        "The repository does not exist.".into(),
                    ));
                }
                let tag = req["imageIds"][0]["imageTag"].as_str().unwrap_or("");
                if !self.ecr_tags.iter().any(|t| t == tag) {
                    return Err((
                        "ImageNotFoundException",
                        format!("The image with imageId {{imageTag:'{tag}'}} does not exist"),
                    ));
                }
                Ok(
                    json!({"imageDetails": [{"registryId": "123456789012", "repositoryName": "api",
                    "imageDigest": "sha256:0123", "imageTags": [tag]}]}),
                )
            }
            other => Err((
                "UnknownOperationException",
                format!("scripted server does not do {other}"),
            )),
        }
    }
}

pub struct Server {
    pub url: String,
    pub world: Arc<Mutex<World>>,
}

pub fn serve(world: World) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let world = Arc::new(Mutex::new(world));
    let w = world.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let w = w.clone();
            std::thread::spawn(move || connection(conn, w));
        }
    });
    Server { url, world }
}

fn connection(conn: TcpStream, world: Arc<Mutex<World>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut len = 0;
        let mut target = String::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap_or((h, ""));
            match k.to_ascii_lowercase().as_str() {
                "content-length" => len = v.trim().parse().unwrap_or(0),
                "x-amz-target" => target = v.trim().to_string(),
                _ => {}
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        // AWS JSON 1.1 names the action in X-Amz-Target; AWS Query (ELBv2) in a form body.
        let (action, req) = if target.is_empty() && body.starts_with(b"Action=") {
            let form = query_form(&String::from_utf8_lossy(&body));
            (form["Action"].as_str().unwrap_or("").to_string(), form)
        } else {
            let req: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
            (target.rsplit('.').next().unwrap_or("").to_string(), req)
        };
        let result = world.lock().unwrap().handle(&action, &req);
        let (status, ctype, body) = match result {
            Ok(v) => match v["__xml"].as_str() {
                Some(xml) => ("200 OK", "text/xml", xml.to_string()),
                None => ("200 OK", "application/x-amz-json-1.1", v.to_string()),
            },
            Err((code, msg)) if target.is_empty() => (
                "400 Bad Request",
                "text/xml",
                format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>0</RequestId></ErrorResponse>"),
            ),
            Err((code, msg)) => (
                "400 Bad Request",
                "application/x-amz-json-1.1",
                json!({"__type": code, "message": msg}).to_string(),
            ),
        };
        let resp = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nx-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\n\r\n{body}",
            body.len()
        );
        if out.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// `a=1&b=x%2Fy` as a JSON object of strings.
fn query_form(body: &str) -> Value {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let mut map = serde_json::Map::new();
    for pair in body.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.insert(decode(k), Value::String(decode(v)));
    }
    Value::Object(map)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub outputs: String,
    /// What the run appended to `$GITHUB_STEP_SUMMARY`.
    pub summary: String,
}

/// `bin args --poll-interval 20ms` against the endpoint at `url` with test credentials, its
/// `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY` in `dir`, and nothing else from the caller's
/// environment.
fn command(bin: &str, url: &str, args: &[&str], dir: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args)
        .args(["--poll-interval", "20ms"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("GITHUB_OUTPUT", dir.join("out"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary"));
    cmd
}

fn read(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}

pub fn run(bin: &str, url: &str, args: &[&str]) -> Run {
    run_without(bin, url, args, &[])
}

/// [`run`] without the environment variables `unset` (e.g. the test credentials).
pub fn run_without(bin: &str, url: &str, args: &[&str], unset: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(bin, url, args, dir.path());
    for name in unset {
        cmd.env_remove(name);
    }
    let o = cmd.output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into(),
        stderr: String::from_utf8_lossy(&o.stderr).into(),
        outputs: read(dir.path(), "out"),
        summary: read(dir.path(), "summary"),
    }
}

/// A binary started with [`spawn`], still running.
pub struct Running {
    child: std::process::Child,
    dir: tempfile::TempDir,
}

/// Starts `bin` like [`run`] without waiting for it.
pub fn spawn(bin: &str, url: &str, args: &[&str]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let child = command(bin, url, args, dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    Running { child, dir }
}

impl Running {
    /// Sends `signal` (`TERM`, `INT`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for it to exit, at most `limit` (then kills it and panics: a run that ignores a
    /// signal is the bug these tests look for).
    pub fn finish(mut self, limit: std::time::Duration) -> Run {
        let start = std::time::Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if start.elapsed() > limit {
                let _ = self.child.kill();
                let o = self.child.wait_with_output().unwrap();
                panic!(
                    "still running after {limit:?}; stderr:\n{}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let o = self.child.wait_with_output().unwrap();
        Run {
            // A process the signal itself ended has no code: -1, never 130/143.
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into(),
            stderr: String::from_utf8_lossy(&o.stderr).into(),
            outputs: read(self.dir.path(), "out"),
            summary: read(self.dir.path(), "summary"),
        }
    }
}

/// Waits until `pred` holds for the endpoint's world, at most `limit`.
pub fn wait_for(server: &Server, limit: std::time::Duration, pred: impl Fn(&World) -> bool) {
    let start = std::time::Instant::now();
    while !pred(&server.world.lock().unwrap()) {
        assert!(
            start.elapsed() < limit,
            "the endpoint did not reach the expected state within {limit:?}; calls: {:?}",
            server.world.lock().unwrap().calls
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
