//! A small SQL lexer that splits a migration file into statements the way `psql` does.
//!
//! The runner executes a migration one statement at a time, so that a failure names the
//! statement and its line, and so that `CREATE INDEX CONCURRENTLY` (which PostgreSQL refuses
//! inside a multi-statement query string) can run at all. Splitting is done on `;` outside of:
//!
//! - `'…'` strings (with `''`), `E'…'` strings (with backslash escapes), `"…"` identifiers;
//! - `$tag$ … $tag$` dollar-quoted bodies (`$1` is a parameter, not a quote);
//! - `-- …` line comments and `/* … */` block comments (nested, as PostgreSQL nests them);
//! - `BEGIN … END` bodies of `CREATE FUNCTION/PROCEDURE … BEGIN ATOMIC` (PostgreSQL 14+) and
//!   `CREATE TRIGGER … BEGIN … END` (SQLite), counting `CASE … END` inside them.
//!
//! The lexer never fails: an unterminated quote or comment runs to the end of the file and the
//! database reports the syntax error when the statement runs.

/// What a token is; only as much as splitting and the lint's keyword search need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A keyword or unquoted identifier.
    Word,
    /// A `"double-quoted"` identifier.
    QuotedIdent,
    /// A string or dollar-quoted literal.
    Literal,
    /// A number.
    Number,
    /// Any other single character (operators, parentheses, commas).
    Punct,
    /// The `;` that ends a statement.
    Semicolon,
}

/// One token: a byte range of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

/// One comment: a byte range of the file (including `--` or `/* */`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comment {
    pub start: usize,
    pub end: usize,
    /// `--` comment (as opposed to `/* */`).
    pub line_comment: bool,
}

/// One statement: tokens `tokens.0..tokens.1` of the script, without the final `;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Byte offset of the first token.
    pub start: usize,
    /// Byte offset just past the last token (the `;` is not included).
    pub end: usize,
    /// Byte offset just past the terminating `;`, or `end` when the file ends without one.
    pub terminator_end: usize,
    /// Index range into [`Script::tokens`].
    pub first_token: usize,
    pub last_token: usize,
}

/// A lexed file: its tokens, comments and statements, and a line index.
#[derive(Debug, Clone)]
pub struct Script {
    pub tokens: Vec<Token>,
    pub comments: Vec<Comment>,
    pub statements: Vec<Statement>,
    line_starts: Vec<usize>,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_ident_continue(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

impl Script {
    /// Lex `text`.
    pub fn parse(text: &str) -> Script {
        let b = text.as_bytes();
        let mut tokens = Vec::new();
        let mut comments = Vec::new();
        let mut i = 0;
        // Leading UTF-8 byte order mark.
        if b.starts_with(&[0xEF, 0xBB, 0xBF]) {
            i = 3;
        }
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let start = i;
            // Line comment.
            if c == b'-' && b.get(i + 1) == Some(&b'-') {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                comments.push(Comment {
                    start,
                    end: i,
                    line_comment: true,
                });
                continue;
            }
            // Block comment (nested).
            if c == b'/' && b.get(i + 1) == Some(&b'*') {
                let mut depth = 0usize;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                comments.push(Comment {
                    start,
                    end: i.min(b.len()),
                    line_comment: false,
                });
                continue;
            }
            let kind = match c {
                b'\'' => {
                    i = skip_quoted(b, i, b'\'', false);
                    TokenKind::Literal
                }
                b'"' => {
                    i = skip_quoted(b, i, b'"', false);
                    TokenKind::QuotedIdent
                }
                b'$' => {
                    if let Some(end) = dollar_quote(b, i) {
                        i = end;
                        TokenKind::Literal
                    } else {
                        // `$1` parameter or a lone `$`.
                        i += 1;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                        TokenKind::Punct
                    }
                }
                b';' => {
                    i += 1;
                    TokenKind::Semicolon
                }
                c if c.is_ascii_digit() => {
                    while i < b.len()
                        && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_')
                    {
                        i += 1;
                    }
                    TokenKind::Number
                }
                c if is_ident_start(c) => {
                    while i < b.len() && is_ident_continue(b[i]) {
                        i += 1;
                    }
                    // E'…' escape string: the prefix and the literal are one token.
                    if i - start == 1 && (c == b'E' || c == b'e') && b.get(i) == Some(&b'\'') {
                        i = skip_quoted(b, i, b'\'', true);
                        TokenKind::Literal
                    } else {
                        TokenKind::Word
                    }
                }
                _ => {
                    // One character (a whole UTF-8 sequence if it is not ASCII).
                    i += 1;
                    while i < b.len() && (b[i] & 0xC0) == 0x80 {
                        i += 1;
                    }
                    TokenKind::Punct
                }
            };
            tokens.push(Token {
                kind,
                start,
                end: i.min(b.len()),
            });
        }
        let statements = split(text, &tokens);
        let mut line_starts = vec![0];
        line_starts.extend(
            b.iter()
                .enumerate()
                .filter(|(_, &c)| c == b'\n')
                .map(|(i, _)| i + 1),
        );
        Script {
            tokens,
            comments,
            statements,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of byte offset `pos` in `text`.
    pub fn line_col(&self, text: &str, pos: usize) -> (u32, u32) {
        let pos = pos.min(text.len());
        let line = match self.line_starts.binary_search(&pos) {
            Ok(l) => l,
            Err(l) => l - 1,
        };
        let start = self.line_starts[line];
        let col = text
            .get(start..pos)
            .map(|s| s.chars().count())
            .unwrap_or(pos - start);
        (line as u32 + 1, col as u32 + 1)
    }

    /// The text of 1-based line `line`, without its line ending.
    pub fn line_text<'t>(&self, text: &'t str, line: u32) -> &'t str {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1) as usize) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line as usize)
            .map(|e| e - 1)
            .unwrap_or(text.len());
        text.get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\r', '\n'])
    }

    /// The tokens of statement `s`.
    pub fn statement_tokens(&self, s: &Statement) -> &[Token] {
        &self.tokens[s.first_token..s.last_token]
    }

    /// The comments that belong to statement `index`: those inside it, those on the lines
    /// before it (after the previous statement), and one on the same line after its `;`.
    pub fn statement_comments(&self, text: &str, index: usize) -> Vec<Comment> {
        let mut out = Vec::new();
        for c in &self.comments {
            if self.owner_of_comment(text, c) == Some(index) {
                out.push(*c);
            }
        }
        out
    }

    /// Which statement a comment belongs to (see [`Script::statement_comments`]).
    pub fn owner_of_comment(&self, text: &str, c: &Comment) -> Option<usize> {
        let stmts = &self.statements;
        if stmts.is_empty() {
            return None;
        }
        // The first statement that ends (with its `;`) after the comment starts.
        let next = stmts.partition_point(|s| s.terminator_end <= c.start);
        if next < stmts.len() && stmts[next].start <= c.start {
            return Some(next); // inside the statement
        }
        if next > 0 {
            let prev = &stmts[next - 1];
            let (prev_line, _) = self.line_col(text, prev.terminator_end.saturating_sub(1));
            let (line, _) = self.line_col(text, c.start);
            if line == prev_line {
                return Some(next - 1);
            }
        }
        if next < stmts.len() {
            Some(next)
        } else {
            None
        }
    }

    /// The comments before the first statement (the file's header).
    pub fn header_comments(&self) -> impl Iterator<Item = &Comment> {
        let first = self
            .statements
            .first()
            .map(|s| s.start)
            .unwrap_or(usize::MAX);
        self.comments.iter().filter(move |c| c.end <= first)
    }
}

/// Skip a quoted run starting at `b[i] == quote`; return the offset just past it.
fn skip_quoted(b: &[u8], mut i: usize, quote: u8, backslash: bool) -> usize {
    i += 1;
    while i < b.len() {
        let c = b[i];
        if backslash && c == b'\\' {
            i += 2;
            continue;
        }
        if c == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// If a dollar quote starts at `b[i] == '$'`, the offset just past its closing tag.
fn dollar_quote(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if j < b.len() && b[j] != b'$' {
        if !is_ident_start(b[j]) {
            return None;
        }
        while j < b.len() && is_ident_continue(b[j]) && b[j] != b'$' {
            j += 1;
        }
    }
    if b.get(j) != Some(&b'$') {
        return None;
    }
    let tag = &b[i..=j];
    let body = j + 1;
    let close = b[body..]
        .windows(tag.len())
        .position(|w| w == tag)
        .map(|p| body + p + tag.len());
    Some(close.unwrap_or(b.len()))
}

fn word_is(text: &str, t: &Token, w: &str) -> bool {
    t.kind == TokenKind::Word && text[t.start..t.end].eq_ignore_ascii_case(w)
}

/// Split tokens into statements on top-level `;`.
fn split(text: &str, tokens: &[Token]) -> Vec<Statement> {
    #[derive(PartialEq)]
    enum Body {
        /// Not (yet) known to be a routine or trigger.
        None,
        /// `CREATE … FUNCTION|PROCEDURE`: `BEGIN ATOMIC … END`.
        Atomic,
        /// `CREATE … TRIGGER`: `BEGIN … END` (SQLite).
        Trigger,
    }
    let mut out = Vec::new();
    let mut first = 0;
    let mut is_create = false;
    let mut body = Body::None;
    let mut depth = 0usize;
    let mut words_seen = 0usize;
    for (idx, t) in tokens.iter().enumerate() {
        if t.kind == TokenKind::Semicolon && depth == 0 {
            if idx > first {
                out.push(Statement {
                    start: tokens[first].start,
                    end: tokens[idx - 1].end,
                    terminator_end: t.end,
                    first_token: first,
                    last_token: idx,
                });
            }
            first = idx + 1;
            is_create = false;
            body = Body::None;
            words_seen = 0;
            continue;
        }
        if t.kind != TokenKind::Word {
            continue;
        }
        words_seen += 1;
        if words_seen == 1 {
            is_create = word_is(text, t, "CREATE");
            continue;
        }
        if is_create && body == Body::None {
            // CREATE [OR REPLACE] [TEMP|TEMPORARY] [CONSTRAINT] FUNCTION|PROCEDURE|TRIGGER
            if word_is(text, t, "FUNCTION") || word_is(text, t, "PROCEDURE") {
                body = Body::Atomic;
            } else if word_is(text, t, "TRIGGER") {
                body = Body::Trigger;
            } else if !["OR", "REPLACE", "TEMP", "TEMPORARY", "CONSTRAINT"]
                .iter()
                .any(|w| word_is(text, t, w))
            {
                is_create = false;
            }
            continue;
        }
        if body == Body::None {
            continue;
        }
        if word_is(text, t, "BEGIN") {
            let atomic_next = tokens
                .get(idx + 1)
                .is_some_and(|n| word_is(text, n, "ATOMIC"));
            if depth > 0 || body == Body::Trigger || atomic_next {
                depth += 1;
            }
        } else if depth > 0 && word_is(text, t, "CASE") {
            depth += 1;
        } else if depth > 0 && word_is(text, t, "END") {
            depth -= 1;
        }
    }
    if first < tokens.len() {
        out.push(Statement {
            start: tokens[first].start,
            end: tokens[tokens.len() - 1].end,
            terminator_end: tokens[tokens.len() - 1].end,
            first_token: first,
            last_token: tokens.len(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmts(sql: &str) -> Vec<&str> {
        let s = Script::parse(sql);
        s.statements
            .iter()
            .map(|st| &sql[st.start..st.end])
            .collect()
    }

    #[test]
    fn splits_simple_statements() {
        assert_eq!(
            stmts("CREATE TABLE a (x int);\n\n-- c\nINSERT INTO a VALUES (1);"),
            vec!["CREATE TABLE a (x int)", "INSERT INTO a VALUES (1)"]
        );
        assert_eq!(stmts("SELECT 1"), vec!["SELECT 1"]);
        assert_eq!(stmts(";;  ; -- nothing\n"), Vec::<&str>::new());
    }

    #[test]
    fn quotes_hide_semicolons() {
        assert_eq!(
            stmts("INSERT INTO t VALUES ('a;b', 'it''s;'); SELECT \"we;ird\"\"x\" FROM t;"),
            vec![
                "INSERT INTO t VALUES ('a;b', 'it''s;')",
                "SELECT \"we;ird\"\"x\" FROM t"
            ]
        );
        assert_eq!(
            stmts(r"SELECT E'a\';b'; SELECT 2"),
            vec![r"SELECT E'a\';b'", "SELECT 2"]
        );
    }

    #[test]
    fn dollar_quotes_hide_semicolons() {
        let sql = "CREATE FUNCTION f() RETURNS trigger AS $body$\nBEGIN\n  NEW.x := 1; RETURN NEW;\nEND;\n$body$ LANGUAGE plpgsql;\nDO $$ BEGIN PERFORM 1; END $$;\nSELECT $1, a$b$ FROM t;";
        let got = stmts(sql);
        assert_eq!(got.len(), 3, "{got:#?}");
        assert!(got[0].ends_with("LANGUAGE plpgsql"));
        assert_eq!(got[1], "DO $$ BEGIN PERFORM 1; END $$");
        assert_eq!(got[2], "SELECT $1, a$b$ FROM t");
    }

    #[test]
    fn comments_hide_semicolons() {
        assert_eq!(
            stmts("SELECT 1 /* a; /* nested; */ b; */ + 1; -- x;y\nSELECT 2;"),
            vec!["SELECT 1 /* a; /* nested; */ b; */ + 1", "SELECT 2"]
        );
    }

    #[test]
    fn begin_atomic_and_trigger_bodies() {
        let sql = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;\n  SELECT 2;\nEND;\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = 1; DELETE FROM u; END;\nBEGIN;\nCOMMIT;";
        let got = stmts(sql);
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(got[0].ends_with("SELECT 2;\nEND"));
        assert!(got[1].ends_with("DELETE FROM u; END"));
        assert_eq!(got[2], "BEGIN");
        assert_eq!(got[3], "COMMIT");
    }

    #[test]
    fn create_table_named_begin_is_not_a_body() {
        assert_eq!(
            stmts("CREATE TABLE begin_log (x int); SELECT 1;"),
            vec!["CREATE TABLE begin_log (x int)", "SELECT 1"]
        );
    }

    #[test]
    fn comment_ownership() {
        let sql = "-- header\n-- ship:allow drop-table why\nDROP TABLE a; -- trailing\n\n-- lead\nDROP TABLE b;\n-- end";
        let s = Script::parse(sql);
        let owners: Vec<Option<usize>> = s
            .comments
            .iter()
            .map(|c| s.owner_of_comment(sql, c))
            .collect();
        assert_eq!(owners, vec![Some(0), Some(0), Some(0), Some(1), None]);
    }

    #[test]
    fn line_col_counts_characters() {
        let sql = "SELECT 'é';\r\nDROP TABLE x;";
        let s = Script::parse(sql);
        let st = &s.statements[1];
        assert_eq!(s.line_col(sql, st.start), (2, 1));
        assert_eq!(s.line_text(sql, 1), "SELECT 'é';");
        let t = s
            .tokens
            .iter()
            .find(|t| t.kind == TokenKind::Literal)
            .unwrap();
        assert_eq!(s.line_col(sql, t.end), (1, 11));
    }
}
