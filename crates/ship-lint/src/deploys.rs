//! `ship deploys`: the deploy model as a table, one line per job, so a user can see why ship
//! thinks a job deploys (and where to), and tests can compare it with ground truth.

use crate::engine::{discover, LintError};
use crate::model::{triggers, EnvironmentBinding, Repository, WorkflowFacts};
use crate::repo_files::into_text;
use rayon::prelude::*;
use ship_policy::CompiledPolicy;
use ship_workflow::yaml::{self, Limits};
use ship_workflow::{Source, Workflow};
use std::path::Path;

/// One job as the deploy model sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobModel {
    /// The workflow file, relative to the repository.
    pub workflow: String,
    pub job: String,
    /// The job key's line.
    pub line: u32,
    /// `deploy`, `migrations`, `image-push`, `smoke-test`, `rollback`, `ci` or `other`.
    pub role: String,
    /// Further roles.
    pub also: Vec<String>,
    /// The environment it targets: a policy environment, `unknown` or `none`.
    pub environment: String,
    /// How the environment is known (`environment `Production``, `job `deploy-prod``).
    pub environment_how: String,
    /// The job's `environment:` as written (or passed to the workflow it calls).
    pub environment_key: Option<String>,
    /// What starts it (for a reusable workflow: its callers and what starts them).
    pub triggers: Vec<String>,
    /// Why it has its roles: `step "Deploy" line 58: aws ecs update-service …`.
    pub evidence: Vec<String>,
}

/// A workflow file whose jobs are missing from the model, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadWorkflow {
    /// The workflow file, relative to the repository.
    pub workflow: String,
    /// Where the YAML broke, when that is the reason.
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub reason: String,
}

/// The deploy model of a repository: every job it could read, and the files it could not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeployModel {
    pub jobs: Vec<JobModel>,
    /// Files left out, so a missing deploy is never silent (`ship lint` reports them as
    /// `workflow-syntax` findings).
    pub unread: Vec<UnreadWorkflow>,
}

/// Every job of every workflow in `dir`, in file and job order.
pub fn deploys(dir: &Path, policy: &CompiledPolicy) -> Result<DeployModel, LintError> {
    let files = discover(dir)?;
    let (repo, read) = Repository::build(dir, &files, policy);
    let per_file: Vec<Result<Vec<JobModel>, UnreadWorkflow>> = files
        .par_iter()
        .zip(read)
        .map(|((_, shown), bytes)| {
            let unread = |line: Option<u32>, column: Option<u32>, reason: String| UnreadWorkflow {
                workflow: shown.clone(),
                line,
                column,
                reason,
            };
            crate::model::shell::forget_read_scripts();
            let text = bytes
                .and_then(into_text)
                .map_err(|refusal| unread(None, None, refusal.to_string()))?;
            let root = match yaml::parse(&text, Limits::default()) {
                Ok(Some(root)) => root,
                Ok(None) => return Err(unread(None, None, "the file is empty".to_string())),
                Err(e) => {
                    return Err(unread(
                        Some(e.pos.line),
                        Some(e.pos.column),
                        format!("invalid YAML: {}", e.message),
                    ))
                }
            };
            let source = Source::new(&text);
            let wf = Workflow::from_root(&root);
            let facts = WorkflowFacts::new(shown, &source, &wf, policy, &repo);
            let own_triggers = triggers::describe(&wf);
            let callers = repo.callers_of(shown);
            Ok(wf
                .jobs
                .iter()
                .zip(&facts.jobs)
                .map(|(job, f)| {
                    let mut trig: Vec<String> = own_triggers
                        .iter()
                        .filter(|t| !t.starts_with("workflow_call"))
                        .cloned()
                        .collect();
                    for c in callers {
                        let started: Vec<&str> = c.triggers.iter().map(String::as_str).collect();
                        trig.push(format!(
                            "called by {} job {} ({})",
                            c.path,
                            c.job,
                            started.join("; ")
                        ));
                    }
                    if trig.is_empty() && wf.trigger("workflow_call").is_some() {
                        trig.push("workflow_call (no caller in this repository)".to_string());
                    }
                    let mut evidence: Vec<String> = Vec::new();
                    for r in &f.roles {
                        let line = format!("{}: {}", role_name(r.role), r.evidence.describe(shown));
                        if !evidence.contains(&line) {
                            evidence.push(line);
                        }
                    }
                    JobModel {
                        workflow: shown.clone(),
                        job: job.id.to_string(),
                        line: job.key.span.start.line,
                        role: f.role.as_str().to_string(),
                        also: f.also.iter().map(|r| r.as_str().to_string()).collect(),
                        environment: f.target.label().to_string(),
                        environment_how: f.target.how(),
                        environment_key: match &f.environment {
                            EnvironmentBinding::Explicit { name, .. } => Some(name.clone()),
                            EnvironmentBinding::Dynamic { expression, .. } => {
                                Some(expression.clone())
                            }
                            EnvironmentBinding::Absent => None,
                        },
                        triggers: trig,
                        evidence,
                    }
                })
                .collect())
        })
        .collect();
    let mut model = DeployModel::default();
    for file in per_file {
        match file {
            Ok(jobs) => model.jobs.extend(jobs),
            Err(unread) => model.unread.push(unread),
        }
    }
    Ok(model)
}

/// One line per unread file, for stderr: `path:line:column: reason; its jobs are not listed`.
pub fn render_unread(unread: &[UnreadWorkflow]) -> String {
    let mut out = String::new();
    for u in unread {
        let at = match (u.line, u.column) {
            (Some(l), Some(c)) => format!(":{l}:{c}"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "error: {}{at}: {}; its jobs are not listed (`ship lint` shows the problem in context)\n",
            u.workflow, u.reason
        ));
    }
    out
}

fn role_name(role: crate::model::StepRole) -> &'static str {
    use crate::model::StepRole::*;
    match role {
        Rollout => "deploy",
        Migrations => "migrations",
        Rollback => "rollback",
        SmokeTest => "smoke-test",
        ImagePush => "image-push",
    }
}

/// The table for people: one line per job, then its evidence indented.
pub fn render_human(jobs: &[JobModel]) -> String {
    let mut out = String::new();
    let mut last_workflow = "";
    for j in jobs {
        if j.workflow != last_workflow {
            if !last_workflow.is_empty() {
                out.push('\n');
            }
            out.push_str(&j.workflow);
            out.push('\n');
            last_workflow = &j.workflow;
        }
        let role = if j.also.is_empty() {
            j.role.clone()
        } else {
            format!("{} (+{})", j.role, j.also.join(", "))
        };
        let env = if j.environment_how.is_empty() {
            j.environment.clone()
        } else {
            format!("{} [{}]", j.environment, j.environment_how)
        };
        out.push_str(&format!("  {:<28} {:<28} {env}\n", j.job, role));
        for e in &j.evidence {
            out.push_str(&format!("      {e}\n"));
        }
        if !j.triggers.is_empty() && !matches!(j.role.as_str(), "ci" | "other") {
            out.push_str(&format!("      started by: {}\n", j.triggers.join(" | ")));
        }
    }
    out
}

/// The model as JSON: `{"jobs": [...], "unread": [...]}`.
pub fn render_json(model: &DeployModel) -> serde_json::Value {
    let jobs = &model.jobs;
    serde_json::json!({
        "unread": model.unread.iter().map(|u| serde_json::json!({
            "workflow": u.workflow,
            "line": u.line,
            "column": u.column,
            "reason": u.reason,
        })).collect::<Vec<_>>(),
        "jobs": jobs.iter().map(|j| serde_json::json!({
            "workflow": j.workflow,
            "job": j.job,
            "line": j.line,
            "role": j.role,
            "also": j.also,
            "environment": j.environment,
            "environment_how": j.environment_how,
            "environment_key": j.environment_key,
            "triggers": j.triggers,
            "evidence": j.evidence,
        })).collect::<Vec<_>>(),
    })
}
