//! Reusable workflows in the repository, as their callers see them.
//!
//! A common production deploy is a caller job `uses: ./.github/workflows/deploy.yml` with
//! `with: {environment: production}`, and a callee whose deploy job says
//! `environment: ${{ inputs.environment }}`. Linted alone, neither file is a production deploy:
//! the callee's environment is decided at run time and the caller has no steps. So before the
//! rules run, every workflow that can be called (`on: workflow_call`) is summarised here, and a
//! caller job takes the release roles of what it calls and the environment its `with:` picks.
//! The callee's own step order (migrations before rollout, smoke test after) is checked in the
//! callee; the caller is checked for what only it decides: triggers, inputs, concurrency,
//! environment, secrets.

use crate::analysis::{StepRole, WorkflowFacts};
use ship_policy::CompiledPolicy;
use ship_workflow::yaml::{self, Limits};
use ship_workflow::Workflow;
use std::collections::HashMap;
use std::path::PathBuf;

/// How a called workflow's deploy job picks its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalleeEnvironment {
    /// `environment: production`, or inferred from the callee's names.
    Named(String),
    /// `environment: ${{ inputs.NAME }}` (or `environment: {name: ${{ inputs.NAME }}}`).
    Input(String),
    /// Any other expression, or nothing to go on.
    Unknown,
}

/// What a reusable workflow does for a release, when called.
#[derive(Debug, Clone)]
pub struct CalledWorkflow {
    /// The release roles of its jobs, each once, in the order they first appear.
    pub roles: Vec<StepRole>,
    /// Its first deploy job's environment.
    pub environment: CalleeEnvironment,
    /// Default values of its `workflow_call` inputs that have one.
    pub input_defaults: HashMap<String, String>,
    /// Its deploy jobs all have a `concurrency:` group (their own or the workflow's), which
    /// holds whoever calls them.
    pub has_concurrency: bool,
}

/// The repository's reusable workflows by path (`.github/workflows/deploy.yml`).
#[derive(Debug, Default)]
pub struct CalledWorkflows {
    by_path: HashMap<String, CalledWorkflow>,
}

impl CalledWorkflows {
    /// Summarise the files (paths as shown in findings) that declare `on: workflow_call`.
    /// Files that cannot be read or parsed are skipped: the main pass reports them.
    pub fn collect(files: &[(PathBuf, String)], policy: &CompiledPolicy) -> Self {
        use rayon::prelude::*;
        let by_path = files
            .par_iter()
            .filter_map(|(path, shown)| {
                let size = std::fs::metadata(path).ok()?.len();
                if size > policy.max_file_size {
                    return None;
                }
                let text = std::fs::read_to_string(path).ok()?;
                // Cheap pre-filter: most workflows cannot be called, and parsing twice costs.
                if !text.contains("workflow_call") {
                    return None;
                }
                let root = yaml::parse(&text, Limits::default()).ok()??;
                let wf = Workflow::from_root(&root);
                wf.trigger("workflow_call")?;
                Some((shown.clone(), summarise(shown, &wf, policy)))
            })
            .collect();
        CalledWorkflows { by_path }
    }

    /// The workflow a job's `uses:` names, when it is one of this repository's
    /// (`./.github/workflows/x.yml`); remote reusable workflows are not resolved.
    pub fn get(&self, uses: &str) -> Option<&CalledWorkflow> {
        let local = uses.trim().strip_prefix("./")?;
        self.by_path.get(local)
    }
}

fn summarise(path: &str, wf: &Workflow<'_>, policy: &CompiledPolicy) -> CalledWorkflow {
    // Nested calls are not followed (a callee's own caller jobs have no roles here).
    let facts = WorkflowFacts::new(path, wf, policy, &CalledWorkflows::default());
    let mut roles = Vec::new();
    for role in facts
        .jobs
        .iter()
        .flat_map(|f| f.roles.iter().map(|r| r.role))
    {
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    let environment = wf
        .jobs
        .iter()
        .zip(&facts.jobs)
        .find(|(_, f)| f.is_deploy())
        .map(|(job, f)| match &job.environment {
            Some(env) => match input_reference(env.name) {
                Some(input) => CalleeEnvironment::Input(input.to_string()),
                None if env.name.contains("${{") => CalleeEnvironment::Unknown,
                None => CalleeEnvironment::Named(env.name.to_string()),
            },
            None => match f.environment.name() {
                Some(n) => CalleeEnvironment::Named(n.to_string()),
                None => CalleeEnvironment::Unknown,
            },
        })
        .unwrap_or(CalleeEnvironment::Unknown);
    let mut deploy_jobs = wf
        .jobs
        .iter()
        .zip(&facts.jobs)
        .filter(|(_, f)| f.is_deploy());
    let has_concurrency =
        deploy_jobs.all(|(job, _)| job.concurrency.is_some() || wf.concurrency.is_some());
    let mut input_defaults = HashMap::new();
    if let Some(inputs) = wf
        .trigger("workflow_call")
        .and_then(|t| t.config)
        .and_then(|c| c.get("inputs"))
    {
        for entry in inputs.as_map().unwrap_or_default() {
            let default = entry.value.get("default").and_then(|d| d.as_str());
            if let (Some(name), Some(default)) = (entry.key.as_str(), default) {
                input_defaults.insert(name.to_string(), default.to_string());
            }
        }
    }
    CalledWorkflow {
        roles,
        environment,
        input_defaults,
        has_concurrency,
    }
}

/// `${{ inputs.NAME }}` (spaces optional) → `NAME`.
fn input_reference(value: &str) -> Option<&str> {
    let inner = value.trim().strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let name = inner.strip_prefix("inputs.")?;
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        .then_some(name)
}

#[cfg(test)]
mod tests {
    use super::input_reference;

    #[test]
    fn input_references() {
        assert_eq!(
            input_reference("${{ inputs.environment }}"),
            Some("environment")
        );
        assert_eq!(input_reference("${{inputs.env}}"), Some("env"));
        assert_eq!(input_reference("${{ inputs.env || 'staging' }}"), None);
        assert_eq!(input_reference("${{ github.event.inputs.env }}"), None);
        assert_eq!(input_reference("production"), None);
    }
}
