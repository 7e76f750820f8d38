//! What a rule sees: one statement, its AST when it parsed, its tokens, and the file around it.

use super::Dialect;
use crate::source::SqlFile;
use crate::sql::{Statement, Token, TokenKind};
use ship_findings::RuleInfo;
use sqlparser::ast::{ObjectName, Statement as Ast};
use std::collections::HashSet;

/// A problem a rule found, as a byte range of the file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: &'static RuleInfo,
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub help: String,
}

/// One statement being linted.
pub struct StatementCx<'a> {
    pub file: &'a SqlFile,
    /// Index of the statement in the file.
    pub index: usize,
    pub statement: &'a Statement,
    /// The parsed statement; `None` when the parser could not read it (token-based rules
    /// still run).
    pub ast: Option<&'a Ast>,
    /// Tables created earlier in this file (lower-case, unqualified).
    pub created_tables: &'a HashSet<String>,
    pub dialect: Dialect,
}

/// One element of a token pattern for [`StatementCx::find`].
#[derive(Debug, Clone, Copy)]
pub enum Pat<'p> {
    /// This word (case-insensitive), or this identifier when quoted.
    Word(&'p str),
    /// This word, if present.
    Opt(&'p str),
}

impl<'a> StatementCx<'a> {
    pub fn tokens(&self) -> &'a [Token] {
        self.file.script.statement_tokens(self.statement)
    }

    pub fn token_text(&self, t: &Token) -> &'a str {
        &self.file.text[t.start..t.end]
    }

    fn token_is(&self, t: &Token, word: &str) -> bool {
        let text = self.token_text(t);
        match t.kind {
            TokenKind::Word => text.eq_ignore_ascii_case(word),
            TokenKind::QuotedIdent => {
                text.len() >= 2 && text[1..text.len() - 1].replace("\"\"", "\"") == word
            }
            _ => false,
        }
    }

    /// The `nth` (0-based) match of `pattern` among the statement's tokens, as a byte range.
    pub fn find(&self, pattern: &[Pat<'_>], nth: usize) -> Option<(usize, usize)> {
        let toks = self.tokens();
        let mut seen = 0;
        for start in 0..toks.len() {
            let mut i = start;
            let mut ok = true;
            for p in pattern {
                match *p {
                    Pat::Word(w) => {
                        if i < toks.len() && self.token_is(&toks[i], w) {
                            i += 1;
                        } else {
                            ok = false;
                            break;
                        }
                    }
                    Pat::Opt(w) => {
                        if i < toks.len() && self.token_is(&toks[i], w) {
                            i += 1;
                        }
                    }
                }
            }
            if ok && i > start {
                if seen == nth {
                    return Some((toks[start].start, toks[i - 1].end));
                }
                seen += 1;
            }
        }
        None
    }

    /// The whole statement's range (first line is what findings show).
    pub fn whole(&self) -> (usize, usize) {
        (self.statement.start, self.statement.end)
    }

    /// The `nth` match of `pattern`, or the whole statement.
    pub fn span(&self, pattern: &[Pat<'_>], nth: usize) -> (usize, usize) {
        self.find(pattern, nth).unwrap_or_else(|| self.whole())
    }

    /// A diagnostic for `rule` over `span`.
    pub fn diag(
        &self,
        rule: &'static RuleInfo,
        span: (usize, usize),
        message: String,
        help: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            rule,
            start: span.0,
            end: span.1,
            message,
            help: help.into(),
        }
    }

    /// Whether `name` is a table created earlier in this file (so unknown to the old code).
    pub fn is_new_table(&self, name: &ObjectName) -> bool {
        self.created_tables.contains(&table_key(name))
    }
}

/// The lower-cased last part of an object name (`public.Users` → `users`); quoted names keep
/// their case.
pub fn table_key(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| {
            if i.quote_style.is_some() {
                i.value.clone()
            } else {
                i.value.to_lowercase()
            }
        })
        .unwrap_or_default()
}

/// The table a statement creates, if it is a `CREATE TABLE`.
pub fn created_table(ast: &Ast) -> Option<String> {
    match ast {
        Ast::CreateTable(ct) => Some(table_key(&ct.name)),
        _ => None,
    }
}

/// `name` as written in messages.
pub fn show(name: &ObjectName) -> String {
    name.to_string()
}
