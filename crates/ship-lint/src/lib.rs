//! ship's release-policy linter: rules over GitHub Actions workflows, and the engine that
//! finds the files, runs every rule on each in parallel, applies inline suppressions and the
//! policy's severity overrides, and returns sorted [`Finding`]s.
//!
//! ```no_run
//! use ship_lint::{lint, LintOptions};
//! use ship_policy::CompiledPolicy;
//! let report = lint(&LintOptions::new(".".into(), CompiledPolicy::builtin())).unwrap();
//! println!("{} findings in {} files", report.findings.len(), report.files);
//! ```

pub mod baseline;
mod context;
mod credentials;
pub mod deploys;
mod engine;
mod images;
pub mod model;
mod repo_files;
pub mod rules;
mod suppress;

pub use context::{Diagnostic, FileKind, RepositoryContext, WorkflowContext, WorkflowSummary};
pub use engine::{lint, LintError, LintOptions, LintReport};
pub use rules::{registry, rule_by_id, rule_ids, settings_rule_ids, Rule};
pub use ship_findings::{Finding, RuleInfo, Severity};

use ship_policy::{CompiledPolicy, PolicyError};
use std::path::{Path, PathBuf};

/// Where the policy comes from: `explicit` (`--policy FILE`), else
/// `DIR/.github/ship-policy.yml`, else the built-in default.
pub struct ResolvedPolicy {
    pub policy: CompiledPolicy,
    /// The file read, if any, as given or found.
    pub file: Option<PathBuf>,
}

/// A policy that could not be used: unreadable, or invalid (exit code 2 either way).
#[derive(Debug, thiserror::Error)]
pub enum PolicyLoadError {
    #[error("cannot read policy file `{path}`: {reason}; {fix}")]
    Unreadable {
        path: String,
        reason: String,
        fix: &'static str,
    },
    #[error(transparent)]
    Invalid(#[from] PolicyError),
}

/// A policy is a page of YAML; 1 MiB leaves room for thousands of patterns and bounds what
/// `--policy /dev/zero` or a hostile file can make ship read.
pub const MAX_POLICY_SIZE: u64 = 1 << 20;

/// Find and load the policy for linting `dir`.
pub fn resolve_policy(
    dir: &Path,
    explicit: Option<&Path>,
) -> Result<ResolvedPolicy, PolicyLoadError> {
    // The repository's own policy is the pull request's file: it must be a regular file
    // inside DIR. Anything at its path (a dangling symlink, a FIFO, a directory) is an
    // error, never a silent fall back to the built-in policy.
    let Some((path, files)) =
        repo_files::explicit_or_in_repository(dir, explicit, ".github/ship-policy.yml")
    else {
        return Ok(ResolvedPolicy {
            policy: CompiledPolicy::builtin(),
            file: None,
        });
    };
    let fix = if explicit.is_some() {
        "pass a policy file to --policy"
    } else {
        "make .github/ship-policy.yml the policy file itself, or remove it to use the built-in policy"
    };
    let shown = path.to_string_lossy().replace('\\', "/");
    let text = files
        .read_to_string(&path, MAX_POLICY_SIZE)
        .map_err(|refusal| PolicyLoadError::Unreadable {
            path: shown.clone(),
            reason: refusal.to_string(),
            fix,
        })?;
    let policy = CompiledPolicy::load(&shown, &text, &rule_ids())?;
    Ok(ResolvedPolicy {
        policy,
        file: Some(path),
    })
}
