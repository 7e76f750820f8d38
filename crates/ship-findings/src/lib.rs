//! The one shape every ship linter reports a problem in, and the one set of renderers for it.
//!
//! `ship lint` (workflows and repository settings) and `ship-run-migrations lint` (SQL) both
//! produce [`Finding`]s and hand them to [`render`], so a platform team gets the same JSON,
//! SARIF and GitHub annotations whichever part of ship found the problem.

mod render;

pub use render::{render, render_step_summary, Format, RenderOptions};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How bad a finding is. Ordered: `Note < Warning < Error`, so `--fail-on` is a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "note" | "info" | "notice" => Ok(Severity::Note),
            "warning" | "warn" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity `{other}`: expected one of `error`, `warning`, `note`"
            )),
        }
    }
}

/// One problem, located at the most specific node that causes it.
///
/// `line` and `column` are 1-based. A finding about something that has no place in a file
/// (a repository setting, a missing workflow) has `line == 0` and `column == 0`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub message: String,
    pub help: String,
    /// The source line the finding points into, already redacted when the finding is about a
    /// secret. Kept with the finding so renderers never reopen files (and never print a secret).
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Finding {
    /// A finding with no position (repository-level).
    pub fn at_path(
        rule: impl Into<String>,
        severity: Severity,
        path: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Finding {
            rule: rule.into(),
            severity,
            path: path.into(),
            line: 0,
            column: 0,
            end_line: 0,
            end_column: 0,
            message: message.into(),
            help: help.into(),
            source_line: None,
        }
    }

    /// Ordering used by every output: path, then line, then column, then rule.
    pub fn sort_key(&self) -> (&str, u32, u32, &str) {
        (&self.path, self.line, self.column, &self.rule)
    }
}

/// Sort findings the way every format prints them.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// What SARIF and `--explain` need to know about a rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo {
    /// Kebab-case id, e.g. `unpinned-action`.
    pub id: &'static str,
    /// One line: what the rule reports.
    pub summary: &'static str,
    /// Markdown documentation: what, why, how to fix, example.
    pub docs: &'static str,
    pub default_severity: Severity,
}

impl RuleInfo {
    /// The documentation with the one-space indent of doc comments removed (for `--explain`).
    pub fn documentation(&self) -> String {
        self.docs
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Declare a lint rule: a unit struct whose doc comment is the rule's documentation, with an
/// associated `INFO: RuleInfo`. Shared by every ship linter so rules look the same everywhere:
///
/// ```
/// ship_findings::declare_rule! {
///     /// ## What it reports
///     /// Something bad.
///     pub struct SomethingBad {
///         id: "something-bad",
///         severity: Error,
///         summary: "something bad happens",
///     }
/// }
/// assert_eq!(SomethingBad::INFO.id, "something-bad");
/// assert!(SomethingBad::INFO.docs.contains("What it reports"));
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident {
            id: $id:literal,
            severity: $sev:ident,
            summary: $summary:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        $vis struct $name;

        impl $name {
            /// The rule's id, summary, documentation and default severity.
            pub const INFO: $crate::RuleInfo = $crate::RuleInfo {
                id: $id,
                summary: $summary,
                docs: concat!($($doc, "\n"),*),
                default_severity: $crate::Severity::$sev,
            };
        }
    };
}

/// Counts printed at the end of every format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    /// Findings a baseline accepted (not in `findings`, not counted above); `None` when no
    /// baseline was applied, so the field is absent rather than a misleading `0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baselined: Option<usize>,
}

impl Summary {
    pub fn new(files: usize, findings: &[Finding]) -> Self {
        let mut s = Summary {
            files,
            ..Summary::default()
        };
        for f in findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Note => s.notes += 1,
            }
        }
        s
    }

    /// True when some finding is at or above `threshold`.
    pub fn fails(&self, threshold: Severity) -> bool {
        match threshold {
            Severity::Error => self.errors > 0,
            Severity::Warning => self.errors + self.warnings > 0,
            Severity::Note => self.errors + self.warnings + self.notes > 0,
        }
    }
}
