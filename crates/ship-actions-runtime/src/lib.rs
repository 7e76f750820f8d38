//! GitHub Actions runtime I/O shared by every ship binary.
//!
//! The runner talks to a step through a handful of channels: `INPUT_*` environment
//! variables, files named by `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY`, and
//! `::command::` lines on stdout. Each of them has an encoding that is easy to get
//! subtly wrong (heredoc delimiters, percent-escaping, per-line masking), so it is
//! implemented once here.
//!
//! Every function that reads the process environment is a thin wrapper over a `*_to` /
//! `*_from` variant that takes the path, writer or environment explicitly. Those are
//! what the tests exercise, and what callers should use when they need determinism.
//!
//! Every channel here redacts the secrets of the process-wide [`secrets`] registry: a
//! credential registered once (or found in the environment) is `***` on stdout, stderr, in
//! outputs, the step summary and workflow commands.
//!
//! Nothing in this crate panics; failures to write a runner file are reported as
//! [`RuntimeError`], and failures to write a workflow command to stdout are ignored
//! (if stdout is gone the runner cannot read the command anyway).

#![warn(missing_docs)]

mod annotation;
mod duration;
mod group;
mod input;
mod mask;
mod output;
pub mod secrets;
mod stdout;
mod summary;

use std::io::IsTerminal;
use std::path::PathBuf;

pub use annotation::{escape_data, escape_property, Annotation, AnnotationLevel};
pub use duration::parse_duration;
pub use group::{group, group_to, stderr_group, GroupGuard};
pub use input::{bool_input, bool_input_from, input, input_from, parse_bool_input, BoolFlag};
pub use mask::{add_mask, add_mask_to, mask_url_password};
pub use output::{set_output, set_output_to, set_outputs, set_outputs_to};
pub use secrets::{redact, stderr, Redacting, Stderr};
pub use stdout::{stdout, write_out, Stdout};
pub use summary::{append_step_summary, append_step_summary_to, MarkdownTable};

/// Errors from reading inputs or writing runner files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// A boolean input had a value we refuse to guess about.
    #[error(
        "input `{name}` must be one of true, false, yes, no, 1, 0 (case-insensitive), got `{value}`"
    )]
    InvalidBoolInput {
        /// The input name as the action declares it, e.g. `fail-on-warning`.
        name: String,
        /// The offending (trimmed) value.
        value: String,
    },
    /// An output name that the runner's file-command parser would misread.
    #[error("invalid output name `{name}`: {reason}")]
    InvalidOutputName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// Appending to a runner file (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`) failed.
    #[error("cannot append to {what} file `{}`", path.display())]
    Write {
        /// Which runner file, e.g. `GITHUB_OUTPUT`.
        what: &'static str,
        /// The path we tried to append to.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Whether we are running inside a GitHub Actions job.
///
/// Workflow commands (`::group::`, `::add-mask::`) are noise anywhere else, so the
/// stdout-writing helpers only emit them when this is true.
pub fn is_github_actions() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true")
}

/// Whether stdout is an interactive terminal.
///
/// Binaries use it to decide on colours and on human versus machine output.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Reads an environment variable as a path, treating unset and empty the same.
///
/// The runner always sets these to a real file; an empty value means "not on a runner"
/// just as much as an unset one does.
fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Appends `data` to `path` with a single write, creating the file if needed.
///
/// One `write_all` on an `O_APPEND` handle keeps a record from interleaving with
/// another process appending to the same runner file.
fn append_file(what: &'static str, path: &std::path::Path, data: &str) -> Result<(), RuntimeError> {
    use std::io::Write;
    let wrap = |source| RuntimeError::Write {
        what,
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(wrap)?;
    file.write_all(data.as_bytes()).map_err(wrap)
}

/// Writes one workflow-command line to stdout, redacted, ignoring failures.
///
/// `println!` would panic on a closed stdout; a lost command is harmless by comparison.
fn write_stdout_command(f: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) {
    let mut line = Vec::new();
    if f(&mut line).is_err() {
        return;
    }
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    let _ = std::io::Write::write_all(&mut lock, &secrets::redact_bytes(&line));
    let _ = std::io::Write::flush(&mut lock);
}
