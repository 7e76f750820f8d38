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
    #[error("cannot read policy file `{path}`: {reason}; pass an existing file to --policy")]
    Unreadable { path: String, reason: String },
    #[error(transparent)]
    Invalid(#[from] PolicyError),
}

/// Find and load the policy for linting `dir`.
pub fn resolve_policy(
    dir: &Path,
    explicit: Option<&Path>,
) -> Result<ResolvedPolicy, PolicyLoadError> {
    let candidate = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => Some(dir.join(".github").join("ship-policy.yml")).filter(|p| p.is_file()),
    };
    let Some(path) = candidate else {
        return Ok(ResolvedPolicy {
            policy: CompiledPolicy::builtin(),
            file: None,
        });
    };
    let shown = path.to_string_lossy().replace('\\', "/");
    let text = std::fs::read_to_string(&path).map_err(|e| PolicyLoadError::Unreadable {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let policy = CompiledPolicy::load(&shown, &text, &rule_ids())?;
    Ok(ResolvedPolicy {
        policy,
        file: Some(path),
    })
}
