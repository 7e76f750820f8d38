//! What a rule sees: one workflow with its facts, or the whole repository's summaries.

use crate::model::{JobFacts, Repository, StepRole, WorkflowFacts};
use ship_policy::CompiledPolicy;
use ship_workflow::{Job, Node, Source, Span, Workflow};
use std::collections::BTreeSet;
use std::path::Path;

/// A problem a rule found, before the engine gives it a rule id, severity and file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// The file, relative to the linted directory; `None` means the file being checked.
    pub path: Option<String>,
    /// `None` for findings without a position (repository-level).
    pub span: Option<Span>,
    pub message: String,
    pub help: String,
    /// The finding is about a literal secret: renderers must not show the span's text.
    pub redact: bool,
    /// The finding stands only in a repository that deploys: the engine holds it until every
    /// file is linted and drops it when no file has a deploy job (a public image published
    /// for users is not a release of a deployed service). With `--workflow FILE` the files
    /// given are the repository.
    pub only_if_repository_deploys: bool,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>, help: impl Into<String>) -> Self {
        Diagnostic {
            path: None,
            span: Some(span),
            message: message.into(),
            help: help.into(),
            redact: false,
            only_if_repository_deploys: false,
        }
    }

    /// A finding in another file than the one being checked (repository rules).
    pub fn in_file(
        path: impl Into<String>,
        span: Option<Span>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Diagnostic {
            path: Some(path.into()),
            span,
            message: message.into(),
            help: help.into(),
            redact: false,
            only_if_repository_deploys: false,
        }
    }

    pub fn redacted(mut self) -> Self {
        self.redact = true;
        self
    }

    /// Hold the finding until the repository is known to deploy (see the field).
    pub fn only_if_repository_deploys(mut self) -> Self {
        self.only_if_repository_deploys = true;
        self
    }
}

/// What kind of file a rule is looking at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.github/workflows/*.yml`.
    Workflow,
    /// A composite action's `action.yml` (seen as one job whose steps are `runs.steps`).
    Action,
}

/// One parsed workflow (or composite action), its release facts, and the policy.
pub struct WorkflowContext<'a> {
    /// Path relative to the linted directory, `/`-separated.
    pub path: &'a str,
    pub source: &'a Source<'a>,
    pub root: &'a Node,
    pub workflow: &'a Workflow<'a>,
    pub facts: &'a WorkflowFacts,
    pub policy: &'a CompiledPolicy,
    /// The repository's composite actions and reusable workflows.
    pub repo: &'a Repository,
    pub kind: FileKind,
    /// The linted directory: rules that follow a local action or called workflow into its
    /// file read it from here (only files the deploy model found, see [`Repository`]).
    pub dir: &'a Path,
}

impl<'a> WorkflowContext<'a> {
    /// The file is a composite action, not a workflow.
    pub fn is_action(&self) -> bool {
        self.kind == FileKind::Action
    }

    /// The production branch (the policy's, or the one the workflows use; see
    /// [`Repository::production_branch`]).
    pub fn production_branch(&self) -> &'a str {
        self.repo.production_branch(self.policy)
    }

    /// Jobs with their facts.
    pub fn jobs(&self) -> impl Iterator<Item = (&'a Job<'a>, &'a JobFacts)> + '_ {
        self.workflow.jobs.iter().zip(self.facts.jobs.iter())
    }

    /// Deploy jobs with their facts.
    pub fn deploy_jobs(&self) -> impl Iterator<Item = (&'a Job<'a>, &'a JobFacts)> + '_ {
        self.jobs().filter(|(_, f)| f.is_deploy())
    }

    pub fn facts_of(&self, job_id: &str) -> Option<&'a JobFacts> {
        self.workflow
            .jobs
            .iter()
            .position(|j| j.id == job_id)
            .map(|i| &self.facts.jobs[i])
    }

    /// Where to point at the workflow as a whole: its `on:` key, else the top of the file.
    pub fn workflow_span(&self) -> Span {
        self.workflow
            .on
            .map(|e| e.key.span)
            .unwrap_or(self.root.span)
    }

    /// True when the workflow deploys to the production environment anywhere.
    pub fn deploys_to_production(&self) -> bool {
        self.deploy_jobs().any(|(_, f)| {
            f.target_environment()
                .is_some_and(|n| self.policy.is_production(n))
        })
    }

    pub fn has_role(&self, role: StepRole) -> bool {
        self.facts.jobs.iter().any(|f| f.has(role))
    }
}

/// What repository rules need to know about each workflow, kept after its tree is dropped
/// (so linting thousands of files holds summaries, not syntax trees, in memory).
#[derive(Debug, Clone, Default)]
pub struct WorkflowSummary {
    pub path: String,
    /// The file parsed as a workflow (has `on` and `jobs`).
    pub is_workflow: bool,
    pub on_span: Option<Span>,
    pub jobs_span: Option<Span>,
    /// The span of a `pull_request` trigger that runs for PRs to the production branch.
    pub pull_request_to_production: Option<Span>,
    /// Policy CI stages the workflow runs.
    pub stages: BTreeSet<String>,
    /// A production deploy job's span, if any.
    pub production_deploy: Option<Span>,
    /// Some job deploys (rolls out, migrates or rolls back).
    pub deploys: bool,
    /// How many of its jobs are CI jobs.
    pub ci_jobs: usize,
    /// It runs on `push`.
    pub runs_on_push: bool,
    /// Manually triggerable and rolls back.
    pub manual_rollback: bool,
    /// The jobs, as status checks: what each reports and which CI stages it runs.
    pub jobs: Vec<JobSummary>,
    /// The workflow runs on `pull_request` (its jobs report checks on pull requests).
    pub runs_on_pull_request: bool,
    /// Environments deploy jobs name explicitly, with where.
    pub deploy_environments: Vec<(String, Span)>,
    /// A production deploy started by pushing a release tag: the tag filter's span.
    pub production_on_release_tag: Option<Span>,
}

/// One job as a status check.
#[derive(Debug, Clone, Default)]
pub struct JobSummary {
    /// The check name GitHub shows: the job's `name:`, else its id.
    pub check_name: String,
    /// The name has an expression or a matrix: checks are `name (…)` or computed.
    pub dynamic: bool,
    pub stages: BTreeSet<String>,
}

/// Where a settings finding points: the policy file's line for the setting, else the
/// repository itself (`github:OWNER/REPO`, line 0).
pub struct SettingsContext<'a> {
    pub settings: &'a ship_github_settings::EffectiveSettings,
    pub workflows: &'a [WorkflowSummary],
    pub policy: &'a CompiledPolicy,
    /// The policy file (path as shown, parsed tree), when there is one.
    pub policy_file: Option<(&'a str, &'a Node)>,
}

impl SettingsContext<'_> {
    /// The branch's protection, for the rules about one protection setting: `None` when the
    /// branch is unprotected (branch-protection reports the whole gap) or was only partly read
    /// (the unreadable source may set what is missing; settings-access reports it).
    pub fn fully_read_protection(&self) -> Option<&ship_github_settings::BranchProtection> {
        self.settings
            .protection
            .as_ref()
            .filter(|p| p.is_protected() && !p.partial)
    }

    /// A finding about a setting that the policy key `key_path` governs.
    pub fn diagnostic(
        &self,
        key_path: &[&str],
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Diagnostic {
        match self.policy_file {
            Some((path, root)) => {
                let segs: Vec<String> = key_path.iter().map(|s| s.to_string()).collect();
                let span = (0..=segs.len()).rev().find_map(|n| {
                    let node = root.at_path(&segs[..n])?;
                    // Point at the key of the deepest entry found, not its value.
                    if n == 0 {
                        return Some(Span::point(ship_workflow::Pos { line: 1, column: 1 }));
                    }
                    let parent = root.at_path(&segs[..n - 1])?;
                    Some(
                        parent
                            .entry(&segs[n - 1])
                            .map(|e| e.key.span)
                            .unwrap_or(node.span),
                    )
                });
                Diagnostic::in_file(path, span, message, help)
            }
            None => Diagnostic::in_file(
                format!("github:{}", self.settings.repository),
                None,
                message,
                help,
            ),
        }
    }
}

/// Every workflow's summary, the directory, and the policy.
pub struct RepositoryContext<'a> {
    pub dir: &'a Path,
    pub workflows: &'a [WorkflowSummary],
    pub policy: &'a CompiledPolicy,
    /// The policy file in use, relative to the directory, if it is inside it.
    pub policy_path: Option<&'a str>,
    /// The production branch (the policy's, or the one the workflows use).
    pub production_branch: &'a str,
}
