//! Finding the files, running the rules on each (in parallel), then the repository rules.

use crate::context::{
    Diagnostic, FileKind, JobSummary, RepositoryContext, SettingsContext, WorkflowContext,
    WorkflowSummary,
};
use crate::model::repository::WorkflowBytes;
use crate::model::{job_stages, EnvironmentBinding, Repository, StepRole, WorkflowFacts};
use crate::repo_files::{Refusal, RepoRoot};
use crate::rules::{registry, unused_ignore::UnusedIgnore, workflow_syntax::WorkflowSyntax, Rule};
use crate::suppress::{find_suppressions, Suppression};
use rayon::prelude::*;
use ship_findings::{sort_findings, Finding, RuleInfo, Severity};
use ship_policy::CompiledPolicy;
use ship_workflow::yaml::{self, Limits};
use ship_workflow::{Source, Span, Workflow};
use std::path::{Path, PathBuf};

/// What to lint and against which policy.
pub struct LintOptions {
    /// The repository directory; workflows are `DIR/.github/workflows/*.yml|*.yaml`.
    pub dir: PathBuf,
    /// Lint only these files (no directory scan, no repository-wide rules).
    pub workflows: Vec<PathBuf>,
    pub policy: CompiledPolicy,
    /// The policy file as findings name it (relative to `dir` when inside it).
    pub policy_path: Option<String>,
    /// The policy file to read for positions of settings findings.
    pub policy_file: Option<PathBuf>,
    /// Repository settings to check (`--github` or `--settings`).
    pub settings: Option<ship_github_settings::EffectiveSettings>,
}

impl LintOptions {
    pub fn new(dir: PathBuf, policy: CompiledPolicy) -> Self {
        LintOptions {
            dir,
            workflows: Vec::new(),
            policy,
            policy_path: None,
            policy_file: None,
            settings: None,
        }
    }
}

/// Sorted findings and how many files were linted.
#[derive(Debug)]
pub struct LintReport {
    pub findings: Vec<Finding>,
    pub files: usize,
    /// What repository rules know about each workflow (for settings checks).
    pub summaries: Vec<WorkflowSummary>,
}

/// Problems that stop linting before any rule runs (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("cannot lint `{path}`: {reason}")]
    Unreadable { path: String, reason: String },
}

struct FileResult {
    findings: Vec<Finding>,
    /// Findings that stand only in a repository that deploys
    /// ([`Diagnostic::only_if_repository_deploys`]), kept until every file is read.
    held: Vec<Finding>,
    /// The file has a deploy job.
    deploys: bool,
    summary: WorkflowSummary,
    suppressions: Vec<Suppression>,
    kind: FileKind,
}

/// Lint a repository (or the given files) with every enabled rule.
pub fn lint(opts: &LintOptions) -> Result<LintReport, LintError> {
    let explicit = !opts.workflows.is_empty();
    let files: Vec<(PathBuf, String)> = if explicit {
        opts.workflows
            .iter()
            .map(|p| (p.clone(), display_path(p)))
            .collect()
    } else {
        discover(&opts.dir)?
    };
    let root = RepoRoot::new(&opts.dir);
    let unbounded = RepoRoot::unbounded(&opts.dir);
    for (path, shown) in &files {
        if !explicit {
            continue;
        }
        // A file named on the command line is read wherever it is, as long as it is a file
        // (`--workflow /dev/zero` would never end); a symlink is still held to DIR below.
        if let Err(
            refusal @ (Refusal::Missing { .. }
            | Refusal::NotRegular { .. }
            | Refusal::Unreadable { .. }),
        ) = unbounded.check(path)
        {
            return Err(LintError::Unreadable {
                path: shown.clone(),
                reason: format!("{refusal}; pass a workflow file to --workflow"),
            });
        }
    }

    let rules: Vec<&dyn Rule> = registry()
        .iter()
        .copied()
        .filter(|r| {
            !opts
                .policy
                .policy
                .rules
                .disable
                .iter()
                .any(|d| d == r.info().id)
        })
        .collect();

    // Composite actions and reusable workflows first: a job is judged by what it runs.
    // The repository's model reads every workflow once; the rules lint those same bytes.
    let (repo, read) = if explicit {
        (Repository::default(), Vec::new())
    } else {
        Repository::build(&opts.dir, &files, &opts.policy)
    };
    let mut read = read.into_iter();
    let units: Vec<(&PathBuf, &String, FileKind, Option<WorkflowBytes>)> = files
        .iter()
        .map(|(p, s)| (p, s, FileKind::Workflow, read.next()))
        .chain(
            repo.action_files
                .iter()
                .map(|(p, s)| (p, s, FileKind::Action, None)),
        )
        .collect();
    // Owned units: each file's bytes are freed as soon as it is linted.
    let results: Vec<FileResult> = units
        .into_par_iter()
        .map(|(path, shown, kind, bytes)| {
            // What the user named, unless it is a symlink (that a pull request can plant).
            let root = if explicit && !path.is_symlink() {
                &unbounded
            } else {
                &root
            };
            let bytes = bytes.unwrap_or_else(|| root.read(path, opts.policy.max_file_size));
            lint_file(shown, kind, bytes, root, &rules, &opts.policy, &repo)
        })
        .collect();

    let mut findings = Vec::new();
    let mut summaries = Vec::with_capacity(results.len());
    let mut suppressions = Vec::new();
    let repository_deploys = results.iter().any(|r| r.deploys);
    for r in results {
        findings.extend(r.findings);
        if repository_deploys {
            findings.extend(r.held);
        }
        if !r.suppressions.is_empty() {
            suppressions.push((r.summary.path.clone(), r.suppressions));
        }
        if r.kind == FileKind::Workflow {
            summaries.push(r.summary);
        }
    }
    // A finding about a shared file (a composite action used by two workflows) is reported
    // by each workflow that uses it: keep one.
    sort_findings(&mut findings);
    findings.dedup_by(|a, b| {
        a.rule == b.rule
            && a.path == b.path
            && a.line == b.line
            && a.column == b.column
            && a.message == b.message
    });

    if !explicit {
        let cx = RepositoryContext {
            dir: &opts.dir,
            workflows: &summaries,
            policy: &opts.policy,
            policy_path: opts.policy_path.as_deref(),
            production_branch: repo.production_branch(&opts.policy),
        };
        for rule in &rules {
            let mut out = Vec::new();
            rule.check_repository(&cx, &mut out);
            for d in out {
                let path = d.path.clone().unwrap_or_else(|| ".".into());
                let text = d
                    .span
                    .and_then(|_| root.read_relative(&path, opts.policy.max_file_size).ok());
                let source = text.as_deref().map(Source::new);
                findings.push(to_finding(
                    rule.info(),
                    &opts.policy,
                    &path,
                    source.as_ref(),
                    d,
                ));
            }
        }
    }

    if let Some(settings) = &opts.settings {
        findings.extend(settings_findings(opts, settings, &rules, &summaries));
    }
    apply_suppressions(&mut findings, &mut suppressions, &rules, &opts.policy);

    sort_findings(&mut findings);
    Ok(LintReport {
        findings,
        files: files.len() + repo.action_files.len(),
        summaries,
    })
}

/// Run the settings rules; findings point into the policy file when there is one.
fn settings_findings(
    opts: &LintOptions,
    settings: &ship_github_settings::EffectiveSettings,
    rules: &[&dyn Rule],
    summaries: &[WorkflowSummary],
) -> Vec<Finding> {
    let policy_text = opts
        .policy_file
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok());
    let policy_root = policy_text
        .as_deref()
        .and_then(|t| yaml::parse(t, Limits::default()).ok().flatten());
    let shown = opts
        .policy_path
        .clone()
        .or_else(|| opts.policy_file.as_ref().map(|p| display_path(p)));
    let cx = SettingsContext {
        settings,
        workflows: summaries,
        policy: &opts.policy,
        policy_file: match (&shown, &policy_root) {
            (Some(path), Some(root)) => Some((path.as_str(), root)),
            _ => None,
        },
    };
    let policy_source = policy_text.as_deref().map(Source::new);
    let files = RepoRoot::new(&opts.dir);
    let mut findings = Vec::new();
    for rule in rules {
        let mut out = Vec::new();
        rule.check_settings(&cx, &mut out);
        for d in out {
            let path = d
                .path
                .clone()
                .unwrap_or_else(|| format!("github:{}", settings.repository));
            // Settings findings point into the policy file or a workflow; read whichever.
            let source_text = if Some(&path) == shown.as_ref() {
                None
            } else if d.span.is_some() {
                files.read_relative(&path, opts.policy.max_file_size).ok()
            } else {
                None
            };
            let workflow_source = source_text.as_deref().map(Source::new);
            let source = if Some(&path) == shown.as_ref() {
                policy_source.as_ref()
            } else {
                workflow_source.as_ref()
            };
            findings.push(to_finding(rule.info(), &opts.policy, &path, source, d));
        }
    }
    findings
}

fn display_path(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// `DIR/.github/workflows/*.yml|*.yaml`, sorted. A missing workflows folder is no error:
/// the repository rules then report what is missing.
pub(crate) fn discover(dir: &Path) -> Result<Vec<(PathBuf, String)>, LintError> {
    let meta = std::fs::metadata(dir).map_err(|e| LintError::Unreadable {
        path: display_path(dir),
        reason: format!("{e}; pass the repository's root directory"),
    })?;
    if !meta.is_dir() {
        return Err(LintError::Unreadable {
            path: display_path(dir),
            reason: "not a directory; pass the repository root, or a file with --workflow".into(),
        });
    }
    let wf_dir = dir.join(".github").join("workflows");
    let entries = match std::fs::read_dir(&wf_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(LintError::Unreadable {
                path: display_path(&wf_dir),
                reason: e.to_string(),
            })
        }
    };
    let mut files: Vec<(PathBuf, String)> = entries
        .filter_map(|e| e.ok())
        // The entry's type comes with the directory listing: no stat per file. Symlinks and
        // special files are kept: linting reports them (`RepoRoot`) instead of skipping
        // a workflow in silence.
        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
        .map(|e| e.path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yml") | Some("yaml")
            )
        })
        .map(|p| {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            (p, format!(".github/workflows/{name}"))
        })
        .collect();
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(files)
}

fn severity_for(info: &RuleInfo, policy: &CompiledPolicy) -> Severity {
    policy
        .policy
        .rules
        .severity
        .get(info.id)
        .map(|s| (*s).into())
        .unwrap_or(info.default_severity)
}

fn to_finding(
    info: &RuleInfo,
    policy: &CompiledPolicy,
    path: &str,
    source: Option<&Source<'_>>,
    d: Diagnostic,
) -> Finding {
    let span = d.span.unwrap_or_default();
    let source_line = d.span.and_then(|s| source?.line(s.start.line)).map(|line| {
        let line = if d.redact {
            redact(line, span)
        } else {
            line.to_string()
        };
        truncate(line)
    });
    Finding {
        rule: info.id.to_string(),
        severity: severity_for(info, policy),
        path: path.to_string(),
        line: span.start.line,
        column: span.start.column,
        end_line: span.end.line,
        end_column: span.end.column,
        message: d.message,
        help: d.help,
        source_line,
    }
}

/// Replace the span's characters with `*` so a finding about a secret never prints it.
fn redact(line: &str, span: Span) -> String {
    let start = span.start.column.saturating_sub(1) as usize;
    let end = if span.end.line == span.start.line {
        span.end.column.saturating_sub(1) as usize
    } else {
        usize::MAX
    };
    line.chars()
        .enumerate()
        .map(|(i, c)| if i >= start && i < end { '*' } else { c })
        .collect()
}

fn truncate(line: String) -> String {
    const MAX: usize = 400;
    if line.chars().count() <= MAX {
        line
    } else {
        let mut s: String = line.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

fn lint_file(
    shown: &str,
    kind: FileKind,
    bytes: WorkflowBytes,
    files: &RepoRoot,
    rules: &[&dyn Rule],
    policy: &CompiledPolicy,
    repo: &Repository,
) -> FileResult {
    let mut summary = WorkflowSummary {
        path: shown.to_string(),
        ..WorkflowSummary::default()
    };
    let syntax_enabled = rules.iter().any(|r| r.info().id == WorkflowSyntax::INFO.id);
    let syntax_error =
        |message: String, help: &str, span: Option<Span>, source: Option<&Source<'_>>| {
            let d = Diagnostic {
                path: None,
                span: Some(
                    span.unwrap_or_else(|| Span::point(ship_workflow::Pos { line: 1, column: 1 })),
                ),
                message,
                help: help.to_string(),
                redact: false,
                only_if_repository_deploys: false,
            };
            let mut f = to_finding(&WorkflowSyntax::INFO, policy, shown, source, d);
            if source.is_none() {
                f.source_line = None;
            }
            f
        };
    let fail = |f: Finding, summary: WorkflowSummary| FileResult {
        findings: if syntax_enabled { vec![f] } else { Vec::new() },
        held: Vec::new(),
        deploys: false,
        summary,
        suppressions: Vec::new(),
        kind,
    };

    crate::model::shell::forget_read_scripts();
    let bytes = match bytes {
        Ok(b) => b,
        Err(refusal) => {
            return fail(
                syntax_error(refusal.to_string(), refusal.fix(), None, None),
                summary,
            )
        }
    };
    if bytes.contains(&0) {
        return fail(
            syntax_error(
                "binary file, not a YAML workflow".into(),
                "remove it from .github/workflows or replace it with the workflow's YAML text",
                None,
                None,
            ),
            summary,
        );
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return fail(
                syntax_error(
                    format!(
                        "not UTF-8 text (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                    "save the workflow as UTF-8",
                    None,
                    None,
                ),
                summary,
            )
        }
    };
    let source = Source::new(&text);
    let root = match yaml::parse(&text, Limits::default()) {
        Ok(Some(root)) => root,
        Ok(None) => {
            return fail(
                syntax_error(
                    "empty file: a workflow needs `on:` and `jobs:`".into(),
                    "add the workflow's triggers and jobs, or delete the file",
                    None,
                    None,
                ),
                summary,
            )
        }
        Err(e) => {
            return fail(
                syntax_error(
                    format!("invalid YAML: {}", e.message),
                    "fix the YAML syntax at this position (indentation, quotes, brackets)",
                    Some(Span::point(e.pos)),
                    Some(&source),
                ),
                summary,
            )
        }
    };

    let workflow = match kind {
        FileKind::Workflow => Workflow::from_root(&root),
        FileKind::Action => match ship_workflow::action::workflow_of_action(&root) {
            Some(wf) => wf,
            // A Docker or JavaScript action: no steps to read.
            None => {
                return FileResult {
                    findings: Vec::new(),
                    held: Vec::new(),
                    deploys: false,
                    summary,
                    suppressions: Vec::new(),
                    kind,
                }
            }
        },
    };
    let facts = WorkflowFacts::new(shown, &source, &workflow, policy, repo);
    let cx = WorkflowContext {
        path: shown,
        source: &source,
        root: &root,
        workflow: &workflow,
        facts: &facts,
        policy,
        repo,
        kind,
        dir: files.dir(),
    };

    let mut findings = Vec::new();
    let mut other_sources: std::collections::HashMap<String, Option<String>> =
        std::collections::HashMap::new();
    let mut held = Vec::new();
    for rule in rules {
        if kind == FileKind::Action && !rule.reads_actions() {
            continue;
        }
        let mut out = Vec::new();
        rule.check_workflow(&cx, &mut out);
        for d in out {
            let into = if d.only_if_repository_deploys {
                &mut held
            } else {
                &mut findings
            };
            let path = d.path.clone().unwrap_or_else(|| shown.to_string());
            if path == shown {
                into.push(to_finding(rule.info(), policy, &path, Some(&source), d));
            } else {
                // About another file (the composite action a step uses): show its line.
                let other = other_sources
                    .entry(path.clone())
                    .or_insert_with(|| files.read_relative(&path, policy.max_file_size).ok());
                let other_source = other.as_deref().map(Source::new);
                into.push(to_finding(
                    rule.info(),
                    policy,
                    &path,
                    other_source.as_ref(),
                    d,
                ));
            }
        }
    }

    // Inline suppressions; the notes for unused ones come after the repository rules,
    // whose findings the same comments may suppress.
    let mut suppressions = find_suppressions(&text);
    if !suppressions.is_empty() {
        findings.retain(|f| !suppressions.iter_mut().any(|s| s.covers(&f.rule, f.line)));
        held.retain(|f| !suppressions.iter_mut().any(|s| s.covers(&f.rule, f.line)));
    }
    let deploys = cx.deploy_jobs().next().is_some();

    summary.is_workflow = workflow.on.is_some() && workflow.jobs_entry.is_some();
    summary.on_span = workflow.on.map(|e| e.key.span);
    summary.jobs_span = workflow.jobs_entry.map(|e| e.key.span);
    let branch = repo.production_branch(policy);
    summary.pull_request_to_production = workflow
        .triggers
        .iter()
        .find(|t| {
            // `pull_request_target` runs the checks on pull requests too (against the base).
            matches!(t.event, "pull_request" | "pull_request_target")
                && crate::model::branch_filter_covers(t.config, branch)
        })
        .map(|t| t.key.span);
    let per_job = job_stages(&workflow, policy, repo);
    summary.stages = per_job.iter().flatten().cloned().collect();
    summary.jobs = workflow
        .jobs
        .iter()
        .zip(per_job)
        .map(|(j, stages)| JobSummary {
            check_name: j.display_name().to_string(),
            dynamic: j.display_name().contains("${{") || j.node.get("strategy").is_some(),
            stages,
        })
        .collect();
    summary.runs_on_pull_request = workflow
        .triggers
        .iter()
        .any(|t| t.event == "pull_request" || t.event == "pull_request_target");
    summary.deploy_environments = cx
        .deploy_jobs()
        .filter_map(|(_, f)| match &f.environment {
            EnvironmentBinding::Explicit { name, span } => Some((name.clone(), *span)),
            _ => None,
        })
        .collect();

    summary.deploys = cx.deploy_jobs().next().is_some();
    summary.runs_on_push = workflow.trigger("push").is_some();
    summary.ci_jobs = cx
        .jobs()
        .filter(|(_, f)| f.role == crate::model::JobRole::Ci)
        .count();
    // A production rollout: to production, or to a run-time choice production is one of.
    let production_rollout = |f: &crate::model::JobFacts| {
        f.has(StepRole::Rollout)
            && (f
                .target_environment()
                .is_some_and(|n| policy.is_production(n))
                || f.target_environment().is_none()
                    && f.may_target.iter().any(|n| policy.is_production(n)))
    };
    summary.production_deploy = cx
        .deploy_jobs()
        .find(|(_, f)| production_rollout(f))
        .or_else(|| {
            cx.deploy_jobs().find(|(_, f)| {
                f.has(StepRole::Migrations)
                    && f.target_environment()
                        .is_some_and(|n| policy.is_production(n))
            })
        })
        .map(|(j, _)| j.key.span);
    if summary.production_deploy.is_some() {
        summary.production_on_release_tag = workflow
            .trigger("push")
            .and_then(|t| t.filter("tags"))
            .filter(|tags| {
                tags.str_items().iter().any(|p| {
                    p.as_str()
                        .is_some_and(|p| policy.pattern_within_release_tags(p))
                })
            })
            .map(|n| n.span);
    }
    // A rollback a person can start for production: a dispatchable workflow with a rollback
    // job bound to production (or to an environment chosen at run time).
    let dispatch = workflow.trigger("workflow_dispatch");
    summary.manual_rollback = dispatch.is_some()
        && cx.jobs().any(|(_, f)| {
            f.has(StepRole::Rollback)
                && (matches!(f.environment, EnvironmentBinding::Dynamic { .. })
                    || !matches!(f.target, crate::model::Target::Known { .. })
                    || f.target_environment()
                        .is_some_and(|n| policy.is_production(n)))
        });
    // Or a manual production deploy of a version someone names, that builds nothing: run
    // with an earlier version, it redeploys that artifact.
    let names_a_version = dispatch.is_some_and(|d| {
        d.inputs()
            .iter()
            .any(|i| crate::rules::deploy_version_input::is_version_input(i))
    });
    let builds = || {
        cx.jobs().any(|(job, _)| {
            job.steps.iter().any(|s| {
                s.uses_str()
                    .is_some_and(|u| u.starts_with("docker/build-push-action"))
                    || s.run_str().is_some_and(|r| {
                        let r = crate::model::commands_run(r);
                        r.contains("docker build") || r.contains("docker buildx build")
                    })
            })
        })
    };
    summary.manual_rollback |=
        names_a_version && !builds() && cx.deploy_jobs().any(|(_, f)| production_rollout(f));

    // Sorted here, in parallel: the files come back in path order, so the final sort of
    // every finding only merges runs that are already sorted.
    sort_findings(&mut findings);
    sort_findings(&mut held);
    FileResult {
        findings,
        held,
        deploys,
        summary,
        suppressions,
        kind,
    }
}

/// Drop repository findings that a file's comments suppress, then note every comment that
/// suppressed nothing.
fn apply_suppressions(
    findings: &mut Vec<Finding>,
    suppressions: &mut [(String, Vec<Suppression>)],
    rules: &[&dyn Rule],
    policy: &CompiledPolicy,
) {
    findings.retain(|f| {
        !suppressions
            .iter_mut()
            .filter(|(path, _)| *path == f.path)
            .any(|(_, list)| list.iter_mut().any(|s| s.covers(&f.rule, f.line)))
    });
    if !rules.iter().any(|r| r.info().id == UnusedIgnore::INFO.id) {
        return;
    }
    for (path, list) in suppressions.iter() {
        for s in list {
            for (rule, used) in s.rules.iter().zip(&s.used) {
                if *used {
                    continue;
                }
                let message = if crate::rules::rule_by_id(rule).is_some() {
                    format!("`ship: ignore[{rule}]` suppresses nothing: no `{rule}` finding on this line or the next")
                } else {
                    let ids = crate::rules::rule_ids();
                    let hint = crate::rules::workflow_syntax::closest(rule, &ids)
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                    format!("`ship: ignore[{rule}]` names no rule: `{rule}` is not a ship rule id{hint}")
                };
                let d = Diagnostic::new(
                    s.span,
                    message,
                    "remove the comment (or the stale rule id from it); `ship rules` lists rule ids",
                );
                let mut f = to_finding(&UnusedIgnore::INFO, policy, path, None, d);
                f.source_line = Some(truncate(s.line_text.clone()));
                findings.push(f);
            }
        }
    }
}
