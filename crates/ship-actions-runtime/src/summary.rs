//! The job summary, appended to the file named by `$GITHUB_STEP_SUMMARY`.

use std::path::Path;

use crate::RuntimeError;

const SUMMARY_FILE: &str = "GITHUB_STEP_SUMMARY";

/// Appends `markdown` to the step summary.
///
/// A no-op returning `Ok` when `$GITHUB_STEP_SUMMARY` is unset (not on a runner).
/// See [`append_step_summary_to`].
pub fn append_step_summary(markdown: &str) -> Result<(), RuntimeError> {
    match crate::env_path(SUMMARY_FILE) {
        Some(path) => append_step_summary_to(&path, markdown),
        None => Ok(()),
    }
}

/// Appends `markdown` to the summary file at `path`.
///
/// A trailing newline is added when missing, so that two appended blocks (say, two
/// tables) do not run together into one Markdown element. Registered secrets are written as
/// `***` (see [`crate::secrets`]).
pub fn append_step_summary_to(path: &Path, markdown: &str) -> Result<(), RuntimeError> {
    if markdown.is_empty() {
        return Ok(());
    }
    let markdown = crate::secrets::redact(markdown);
    if markdown.ends_with('\n') {
        crate::append_file(SUMMARY_FILE, path, &markdown)
    } else {
        crate::append_file(SUMMARY_FILE, path, &format!("{markdown}\n"))
    }
}

/// A GitHub-flavoured Markdown table, for step summaries.
///
/// Cells are escaped on [`render`](Self::render) so that arbitrary text (messages,
/// paths, rule output) cannot break the table layout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkdownTable {
    /// Column headers; they fix the number of columns.
    pub headers: Vec<String>,
    /// Body rows; short rows are padded with empty cells when rendered.
    pub rows: Vec<Vec<String>>,
}

impl MarkdownTable {
    /// A table with the given column headers and no rows.
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a body row.
    pub fn push_row(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Renders the table, one line per row, ending in a newline.
    ///
    /// `|` in a cell becomes `\|` (which GFM honours even inside code spans) and line
    /// breaks become `<br>`, since a raw newline would end the table. Rows shorter than
    /// the header are padded; extra cells are kept, and GitHub ignores them. A table
    /// without headers renders as the empty string, as GFM cannot express it.
    pub fn render(&self) -> String {
        let columns = self.headers.len();
        if columns == 0 {
            return String::new();
        }
        let mut out = String::new();
        push_row(&mut out, self.headers.iter().map(String::as_str), columns);
        out.push('|');
        out.push_str(&" --- |".repeat(columns));
        out.push('\n');
        for row in &self.rows {
            push_row(&mut out, row.iter().map(String::as_str), columns);
        }
        out
    }
}

fn push_row<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>, columns: usize) {
    out.push('|');
    let mut count = 0;
    for cell in cells {
        out.push(' ');
        out.push_str(&escape_cell(cell));
        out.push_str(" |");
        count += 1;
    }
    for _ in count..columns {
        out.push_str("  |");
    }
    out.push('\n');
}

fn escape_cell(cell: &str) -> String {
    cell.replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\r', '\n'], "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_header_separator_and_rows() {
        let mut t = MarkdownTable::new(&["Rule", "Message"]);
        t.push_row(vec!["`a`".into(), "first".into()]);
        t.push_row(vec!["b".into()]);
        assert_eq!(
            t.render(),
            "| Rule | Message |\n| --- | --- |\n| `a` | first |\n| b |  |\n"
        );
    }

    #[test]
    fn escapes_pipes_and_newlines() {
        let mut t = MarkdownTable::new(&["a|b"]);
        t.push_row(vec!["x | y\nz\r\nw\rv".into()]);
        assert_eq!(
            t.render(),
            "| a\\|b |\n| --- |\n| x \\| y<br>z<br>w<br>v |\n"
        );
    }

    #[test]
    fn no_headers_renders_nothing() {
        assert_eq!(MarkdownTable::new(&[]).render(), "");
    }

    #[test]
    fn summary_appends_with_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        append_step_summary_to(&path, "### Title").unwrap();
        append_step_summary_to(&path, "").unwrap();
        append_step_summary_to(&path, "body\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "### Title\nbody\n");
    }
}
