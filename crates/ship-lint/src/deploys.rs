//! `ship deploys`: the deploy model as a table, one line per job, so a user can see why ship
//! thinks a job deploys (and where to), and tests can compare it with ground truth.

use crate::engine::{discover, LintError};
use crate::model::{triggers, EnvironmentBinding, Repository, WorkflowFacts};
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

/// Every job of every workflow in `dir`, in file and job order.
pub fn deploys(dir: &Path, policy: &CompiledPolicy) -> Result<Vec<JobModel>, LintError> {
    let files = discover(dir)?;
    let repo = Repository::build(dir, &files, policy);
    let per_file: Vec<Vec<JobModel>> = files
        .par_iter()
        .map(|(path, shown)| {
            let Ok(text) = std::fs::read_to_string(path) else {
                return Vec::new();
            };
            if text.len() as u64 > policy.max_file_size {
                return Vec::new();
            }
            let Ok(Some(root)) = yaml::parse(&text, Limits::default()) else {
                return Vec::new();
            };
            let source = Source::new(&text);
            let wf = Workflow::from_root(&root);
            let facts = WorkflowFacts::new(shown, &source, &wf, policy, &repo);
            let own_triggers = triggers::describe(&wf);
            let callers = repo.callers_of(shown);
            wf.jobs
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
                .collect()
        })
        .collect();
    Ok(per_file.into_iter().flatten().collect())
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

/// The model as JSON: `{"jobs": [...]}`.
pub fn render_json(jobs: &[JobModel]) -> serde_json::Value {
    serde_json::json!({
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
