//! The backward-compatibility gate: rules that catch statements which break the old code still
//! running during a rolling deploy, or which lock a busy table.
//!
//! Each statement of each file is parsed on its own with `sqlparser` (PostgreSQL or SQLite
//! dialect), so one statement the parser cannot read is a warning and the rest are still
//! checked. Findings are [`ship_findings::Finding`]s, rendered by the same code as `ship lint`.
//!
//! A statement is exempt from a rule when it carries `-- ship:allow <rule> <reason>` (on the
//! lines just above it, inside it, or after its `;` on the same line). The finding then becomes
//! a note that prints the reason, so the review trail stays in the output.
//!
//! Statements on a table created earlier in the same file are exempt from every rule: that
//! table is new, empty and unknown to the old code.

pub mod context;
pub mod rules;

use crate::source::{comment_body, SqlFile};
pub use context::{Diagnostic, StatementCx};
use ship_findings::{sort_findings, Finding, Severity};
use sqlparser::dialect::{Dialect as SqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use std::collections::HashSet;

/// Which SQL the files are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl std::str::FromStr for Dialect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(Dialect::Postgres),
            "sqlite" => Ok(Dialect::Sqlite),
            other => Err(format!(
                "unknown dialect `{other}`: expected postgres or sqlite"
            )),
        }
    }
}

/// The findings for a set of files.
#[derive(Debug, Clone, Default)]
pub struct LintReport {
    pub findings: Vec<Finding>,
    pub files: usize,
}

/// Lint `files`; findings come back sorted.
pub fn lint_files(files: &[&SqlFile], dialect: Dialect) -> LintReport {
    let mut findings = Vec::new();
    for f in files {
        findings.extend(lint_file(f, dialect));
    }
    sort_findings(&mut findings);
    LintReport {
        findings,
        files: files.len(),
    }
}

/// One `-- ship:allow rule[,rule] reason` annotation.
#[derive(Debug, Clone)]
struct Allow {
    rules: Vec<String>,
    reason: String,
    start: usize,
    end: usize,
    used: Vec<bool>,
}

/// Lint one file.
pub fn lint_file(file: &SqlFile, dialect: Dialect) -> Vec<Finding> {
    let pg = PostgreSqlDialect {};
    let lite = SQLiteDialect {};
    let sql_dialect: &dyn SqlDialect = match dialect {
        Dialect::Postgres => &pg,
        Dialect::Sqlite => &lite,
    };
    let script = &file.script;
    let mut out = Vec::new();

    // Annotations, by owning statement; problems with them are findings of their own.
    let mut allows: Vec<Vec<Allow>> = vec![Vec::new(); script.statements.len()];
    for c in &script.comments {
        let body = comment_body(&file.text[c.start..c.end]);
        let Some(directive) = body.strip_prefix("ship:") else {
            continue;
        };
        let owner = script.owner_of_comment(&file.text, c);
        let bad = |message: String, help: &str| -> Finding {
            finding(
                file,
                &rules::invalid_annotation::InvalidAnnotation::INFO,
                Severity::Error,
                (c.start, c.end),
                message,
                help.to_string(),
            )
        };
        let (word, rest) = split_word(directive);
        match word {
            "allow" => {
                let (rule_list, reason) = split_word(rest);
                let names: Vec<String> = rule_list
                    .split(',')
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty())
                    .collect();
                if names.is_empty() {
                    out.push(bad(
                        "`ship:allow` names no rule".into(),
                        "write `-- ship:allow <rule> <reason>`, e.g. `-- ship:allow drop-column \
                         the code stopped reading it in release 41`",
                    ));
                    continue;
                }
                let unknown: Vec<&String> = names
                    .iter()
                    .filter(|n| rules::rule_by_id(n).is_none())
                    .collect();
                if !unknown.is_empty() {
                    out.push(bad(
                        format!(
                            "`ship:allow` names unknown rule{} `{}`",
                            if unknown.len() == 1 { "" } else { "s" },
                            unknown
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join("`, `")
                        ),
                        "use a rule id from `ship-run-migrations lint --list-rules`",
                    ));
                    continue;
                }
                if reason.trim().is_empty() {
                    out.push(bad(
                        format!("`ship:allow {}` gives no reason", names.join(",")),
                        "say why the statement is safe: `-- ship:allow <rule> <reason>`; the \
                         reason is printed with every run so reviewers see it",
                    ));
                    continue;
                }
                let allow = Allow {
                    used: vec![false; names.len()],
                    rules: names,
                    reason: reason.trim().to_string(),
                    start: c.start,
                    end: c.end,
                };
                match owner {
                    Some(i) => allows[i].push(allow),
                    None => out.push(finding(
                        file,
                        &rules::unused_allow::UnusedAllow::INFO,
                        Severity::Warning,
                        (c.start, c.end),
                        format!(
                            "`ship:allow {}` is not attached to any statement",
                            allow.rules.join(",")
                        ),
                        "put the annotation on the line just above the statement it allows".into(),
                    )),
                }
            }
            "no-transaction" => {
                let in_header = script.header_comments().any(|h| h == c);
                if !in_header {
                    out.push(bad(
                        "`ship:no-transaction` has no effect here: only the comments before the \
                         first statement are read"
                            .into(),
                        "move `-- ship:no-transaction` to the top of the file",
                    ));
                }
            }
            other => out.push(bad(
                format!("unknown annotation `ship:{other}`"),
                "ship reads `-- ship:allow <rule> <reason>` and `-- ship:no-transaction`",
            )),
        }
    }

    let mut created: HashSet<String> = HashSet::new();
    for (index, st) in script.statements.iter().enumerate() {
        let text = &file.text[st.start..st.end];
        let parsed = Parser::new(sql_dialect)
            .try_with_sql(text)
            .and_then(|mut p| p.parse_statements());
        let ast = match parsed {
            Ok(mut v) if v.len() == 1 => Some(v.remove(0)),
            Ok(_) => None,
            Err(e) => {
                let (message, pos) = parser_error_position(&e.to_string());
                let start = match pos {
                    Some((l, c)) => offset_in(text, l, c).map(|o| st.start + o),
                    None => None,
                }
                .unwrap_or(st.start);
                let d = Diagnostic {
                    rule: &rules::unparseable_statement::UnparseableStatement::INFO,
                    start,
                    end: if start == st.start { st.end } else { start },
                    message: format!("the lint cannot parse this statement: {message}"),
                    help: "check it by hand for the other rules, or annotate it with \
                           `-- ship:allow unparseable-statement <reason>`"
                        .into(),
                };
                emit(file, d, &mut allows[index], &mut out);
                None
            }
        };
        let cx = StatementCx {
            file,
            index,
            statement: st,
            ast: ast.as_ref(),
            created_tables: &created,
            dialect,
        };
        let mut diags = Vec::new();
        for rule in rules::registry() {
            if rule.applies_to(dialect) {
                rule.check(&cx, &mut diags);
            }
        }
        for d in diags {
            emit(file, d, &mut allows[index], &mut out);
        }
        if let Some(name) = ast.as_ref().and_then(context::created_table) {
            created.insert(name);
        }
    }

    for a in allows.iter().flatten() {
        for (rule, used) in a.rules.iter().zip(&a.used) {
            if !used {
                out.push(finding(
                    file,
                    &rules::unused_allow::UnusedAllow::INFO,
                    Severity::Warning,
                    (a.start, a.end),
                    format!("`ship:allow {rule}` allows nothing: the statement does not trigger `{rule}`"),
                    "remove the annotation, or move it above the statement it is meant for".into(),
                ));
            }
        }
    }
    out
}

/// Turn a diagnostic into a finding, or into a note carrying the reason when allowed.
fn emit(file: &SqlFile, d: Diagnostic, allows: &mut [Allow], out: &mut Vec<Finding>) {
    for a in allows.iter_mut() {
        if let Some(i) = a.rules.iter().position(|r| r == d.rule.id) {
            a.used[i] = true;
            out.push(finding(
                file,
                d.rule,
                Severity::Note,
                (d.start, d.end),
                format!("allowed: {} (reason: {})", d.message, a.reason),
                String::new(),
            ));
            return;
        }
    }
    out.push(finding(
        file,
        d.rule,
        d.rule.default_severity,
        (d.start, d.end),
        d.message,
        d.help,
    ));
}

fn finding(
    file: &SqlFile,
    rule: &ship_findings::RuleInfo,
    severity: Severity,
    (start, end): (usize, usize),
    message: String,
    help: String,
) -> Finding {
    let (line, column) = file.script.line_col(&file.text, start);
    let (mut end_line, mut end_column) = file.script.line_col(&file.text, end);
    if end_line != line {
        // Point at the first line only; the renderer underlines to its end.
        end_line = line;
        end_column = file.script.line_text(&file.text, line).chars().count() as u32 + 1;
    }
    Finding {
        rule: rule.id.to_string(),
        severity,
        path: file.display.clone(),
        line,
        column,
        end_line,
        end_column: end_column.max(column),
        message,
        help,
        source_line: Some(file.script.line_text(&file.text, line).to_string()),
    }
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

/// `sql parser error: X at Line: 2, Column: 5` → (`X`, Some((2, 5))).
fn parser_error_position(msg: &str) -> (String, Option<(usize, usize)>) {
    let msg = msg.strip_prefix("sql parser error: ").unwrap_or(msg);
    if let Some(i) = msg.rfind(" at Line: ") {
        let tail = &msg[i + " at Line: ".len()..];
        if let Some((l, c)) = tail.split_once(", Column: ") {
            if let (Ok(l), Ok(c)) = (l.trim().parse(), c.trim().parse()) {
                return (msg[..i].to_string(), Some((l, c)));
            }
        }
    }
    (msg.to_string(), None)
}

/// Byte offset of 1-based (line, column in characters) in `text`.
fn offset_in(text: &str, line: usize, col: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let line_text = &text[start..];
    let off = line_text
        .char_indices()
        .nth(col.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(line_text.len());
    Some(start + off)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_positions() {
        assert_eq!(
            parser_error_position("sql parser error: Expected: x, found: y at Line: 2, Column: 5"),
            ("Expected: x, found: y".to_string(), Some((2, 5)))
        );
        assert_eq!(offset_in("ab\ncdé f", 2, 5), Some(8));
    }
}
