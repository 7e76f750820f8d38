//! Annotations (`::error`, `::warning`, `::notice`) and workflow-command escaping.

use std::fmt;

/// Escapes the data (message) part of a workflow command.
///
/// The runner reads one command per line and percent-decodes these sequences, so a
/// message with a newline or a literal `%0A` must be escaped to survive intact. Same
/// mapping as `@actions/core`'s `escapeData`.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`, ...) of a workflow command.
///
/// Like [`escape_data`], plus `:` and `,`, which would otherwise end the property
/// list or the value. Same mapping as `@actions/core`'s `escapeProperty`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Severity of an [`Annotation`]; names the workflow command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnnotationLevel {
    /// `::error`, shown in red; does not by itself fail the step.
    Error,
    /// `::warning`.
    Warning,
    /// `::notice`.
    Notice,
}

impl AnnotationLevel {
    /// The workflow command name: `error`, `warning` or `notice`.
    pub fn command(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Notice => "notice",
        }
    }
}

impl fmt::Display for AnnotationLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.command())
    }
}

/// A file annotation, rendered by [`Display`](fmt::Display) as the workflow command
/// the runner turns into an inline comment on the diff.
///
/// ```
/// use ship_actions_runtime::{Annotation, AnnotationLevel};
/// let a = Annotation {
///     level: AnnotationLevel::Error,
///     message: "bad".into(),
///     title: Some("T".into()),
///     file: Some("a.yml".into()),
///     line: Some(3),
///     end_line: Some(3),
///     col: Some(5),
///     end_col: Some(9),
/// };
/// assert_eq!(
///     a.to_string(),
///     "::error file=a.yml,line=3,endLine=3,col=5,endColumn=9,title=T::bad"
/// );
/// ```
///
/// `None` properties are omitted, as are empty `file`/`title` strings (the toolkit
/// skips empty values too). The output has no trailing newline.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Annotation {
    /// Which command: error, warning or notice.
    pub level: AnnotationLevel,
    /// The message body; may span lines (it is escaped).
    pub message: String,
    /// Heading shown above the message.
    pub title: Option<String>,
    /// Path relative to the repository root; without it the annotation is job-level.
    pub file: Option<String>,
    /// 1-based start line.
    pub line: Option<u32>,
    /// 1-based end line.
    pub end_line: Option<u32>,
    /// 1-based start column; GitHub only honours columns on single-line spans.
    pub col: Option<u32>,
    /// 1-based end column.
    pub end_col: Option<u32>,
}

impl Annotation {
    /// An annotation with just a level and message, to fill in with struct update syntax.
    pub fn new(level: AnnotationLevel, message: impl Into<String>) -> Self {
        Self {
            level,
            message: message.into(),
            title: None,
            file: None,
            line: None,
            end_line: None,
            col: None,
            end_col: None,
        }
    }

    /// Prints the annotation to stdout when running on GitHub Actions; elsewhere the
    /// command syntax is noise and nothing is printed.
    pub fn emit(&self) {
        if crate::is_github_actions() {
            crate::write_stdout_command(|out| writeln!(out, "{self}"));
        }
    }
}

impl fmt::Display for Annotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let numbers = |n: Option<u32>| n.map(|n| n.to_string());
        let non_empty = |s: &Option<String>| s.as_ref().filter(|s| !s.is_empty()).cloned();
        let properties = [
            ("file", non_empty(&self.file)),
            ("line", numbers(self.line)),
            ("endLine", numbers(self.end_line)),
            ("col", numbers(self.col)),
            ("endColumn", numbers(self.end_col)),
            ("title", non_empty(&self.title)),
        ];
        write!(f, "::{}", self.level.command())?;
        let mut separator = " ";
        for (key, value) in &properties {
            if let Some(value) = value {
                write!(f, "{separator}{key}={}", escape_property(value))?;
                separator = ",";
            }
        }
        write!(f, "::{}", escape_data(&self.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_the_toolkit() {
        assert_eq!(escape_data("100%\r\nnext: a,b"), "100%25%0D%0Anext: a,b");
        assert_eq!(
            escape_property("100%\r\nnext: a,b"),
            "100%25%0D%0Anext%3A a%2Cb"
        );
        // `%` first, so an already-escaped-looking sequence is preserved literally.
        assert_eq!(escape_data("%0A"), "%250A");
        assert_eq!(escape_property("%3A"), "%253A");
    }

    #[test]
    fn full_annotation() {
        let a = Annotation {
            level: AnnotationLevel::Error,
            message: "message".into(),
            title: Some("T".into()),
            file: Some("a.yml".into()),
            line: Some(3),
            end_line: Some(3),
            col: Some(5),
            end_col: Some(9),
        };
        assert_eq!(
            a.to_string(),
            "::error file=a.yml,line=3,endLine=3,col=5,endColumn=9,title=T::message"
        );
    }

    #[test]
    fn no_properties() {
        assert_eq!(
            Annotation::new(AnnotationLevel::Warning, "plain").to_string(),
            "::warning::plain"
        );
        let a = Annotation {
            title: Some(String::new()),
            file: Some(String::new()),
            ..Annotation::new(AnnotationLevel::Notice, "")
        };
        assert_eq!(a.to_string(), "::notice::");
    }

    #[test]
    fn partial_properties_and_escaping() {
        let a = Annotation {
            title: Some("ship: rule, x".into()),
            file: Some("dir,1/a:b.yml".into()),
            line: Some(7),
            ..Annotation::new(AnnotationLevel::Notice, "a, b: 100%\nnext")
        };
        assert_eq!(
            a.to_string(),
            "::notice file=dir%2C1/a%3Ab.yml,line=7,title=ship%3A rule%2C x::a, b: 100%25%0Anext"
        );
    }
}
