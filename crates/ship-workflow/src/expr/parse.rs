//! A parser for the GitHub Actions expression language (what is between `${{` and `}}`, or
//! a whole `if:` condition).
//!
//! Grammar, from loosest to tightest binding:
//!
//! ```text
//! or       := and ('||' and)*
//! and      := equality ('&&' equality)*
//! equality := relation (('==' | '!=') relation)*
//! relation := unary (('<' | '<=' | '>' | '>=') unary)*
//! unary    := '!' unary | postfix
//! postfix  := primary ('.' name | '.' '*' | '[' '*' ']' | '[' or ']')*
//! primary  := null | true | false | number | 'string' | name '(' args ')' | name | '(' or ')'
//! ```
//!
//! Hostile input cannot hurt: the lexer and parser make one pass over the text, every
//! recursion (parentheses, `!`, call arguments, indexes) counts against [`MAX_DEPTH`], and so
//! does the depth of the tree built (`a.b.c…` and `a == b == c…` chains), so evaluating or
//! dropping a tree never recurses deeper than that. Errors are values, never panics.

use std::borrow::Cow;

/// The deepest tree (and the deepest nesting) accepted. GitHub itself refuses expressions
/// nested deeper than 50.
pub const MAX_DEPTH: usize = 64;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr<'a> {
    Null,
    Bool(bool),
    Number(f64),
    /// A string literal, with `''` unescaped.
    String(Cow<'a, str>),
    /// A bare name: a context (`github`, `inputs`, `env`…).
    Context(&'a str),
    /// `x.name`.
    Member(Box<Expr<'a>>, &'a str),
    /// `x[index]`.
    Index(Box<Expr<'a>>, Box<Expr<'a>>),
    /// `x.*` or `x[*]`: the values of every element (an array).
    Star(Box<Expr<'a>>),
    /// `name(args…)`; the name as written (GitHub compares it case-insensitively).
    Call(&'a str, Vec<Expr<'a>>),
    Not(Box<Expr<'a>>),
    Compare(CompareOp, Box<Expr<'a>>, Box<Expr<'a>>),
    /// `a && b && …` (two or more operands).
    And(Vec<Expr<'a>>),
    /// `a || b || …` (two or more operands).
    Or(Vec<Expr<'a>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Why an expression could not be parsed, and where (a byte offset into the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: &'static str,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at offset {}", self.message, self.offset)
    }
}

impl std::error::Error for ParseError {}

/// Parse one expression (without the `${{ }}`).
pub fn parse(text: &str) -> Result<Expr<'_>, ParseError> {
    let mut p = Parser {
        lexer: Lexer { text, pos: 0 },
        peeked: None,
        nesting: 0,
    };
    let (expr, _) = p.or()?;
    match p.next()? {
        (Token::End, _) => Ok(expr),
        (_, at) => Err(ParseError {
            offset: at,
            message: "unexpected text after the expression",
        }),
    }
}

/// Parse a condition as `if:` takes it: a bare expression, or one wrapped in `${{ }}`.
pub fn parse_condition(text: &str) -> Result<Expr<'_>, ParseError> {
    let t = text.trim();
    match t.strip_prefix("${{").and_then(|r| r.strip_suffix("}}")) {
        // `${{ a }} && ${{ b }}` is not one wrapped expression: its inner text has `}}`.
        Some(inner) if !inner.contains("${{") => parse(inner),
        _ => parse(t),
    }
}

impl<'a> Expr<'a> {
    /// The context path this expression reads, as written (contexts and their properties
    /// are case-insensitive: compare with that in mind), with `[...]` written as `.x` for
    /// string literals and `.*` for every other index: `github.event.commits[0].message` is
    /// `github.event.commits.*.message`. `None` when the expression is not a path (a
    /// call, an operator, `fromJSON(x).y`).
    pub fn path(&self) -> Option<String> {
        // Collect segments from the leaf back to the root without recursing.
        let mut segments: Vec<Cow<'_, str>> = Vec::new();
        let mut node = self;
        loop {
            match node {
                Expr::Context(name) => {
                    segments.push(Cow::Borrowed(name));
                    break;
                }
                Expr::Member(base, name) => {
                    segments.push(Cow::Borrowed(name));
                    node = base;
                }
                Expr::Index(base, index) => {
                    match index.as_ref() {
                        Expr::String(s) => segments.push(Cow::Borrowed(s.as_ref())),
                        _ => segments.push(Cow::Borrowed("*")),
                    }
                    node = base;
                }
                Expr::Star(base) => {
                    segments.push(Cow::Borrowed("*"));
                    node = base;
                }
                _ => return None,
            }
        }
        let mut out = String::new();
        for (i, s) in segments.iter().rev().enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push_str(s);
        }
        Some(out)
    }

    /// The operands of a top-level `&&` (the expression itself when it is not one): every
    /// one of them holds when the whole condition does.
    pub fn conjuncts(&self) -> Vec<&Expr<'a>> {
        match self {
            Expr::And(items) => items.iter().collect(),
            other => vec![other],
        }
    }

    /// `path == 'literal'` (either way round): the path and the literal.
    pub fn equality(&self) -> Option<(String, &str)> {
        let Expr::Compare(CompareOp::Eq, a, b) = self else {
            return None;
        };
        match (a.as_ref(), b.as_ref()) {
            (Expr::String(s), other) | (other, Expr::String(s)) => Some((other.path()?, s)),
            _ => None,
        }
    }

    /// The string literal, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::String(s) => Some(s),
            _ => None,
        }
    }

    /// A call of `name` (case-insensitive): its arguments.
    pub fn call(&self, name: &str) -> Option<&[Expr<'a>]> {
        match self {
            Expr::Call(n, args) if n.eq_ignore_ascii_case(name) => Some(args),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    Comma,
    Star,
    Not,
    Compare(CompareOp),
    And,
    Or,
    Name(&'a str),
    Number(f64, &'a str),
    String(Cow<'a, str>),
    End,
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn err<T>(&self, offset: usize, message: &'static str) -> Result<T, ParseError> {
        Err(ParseError { offset, message })
    }

    /// The next token and its offset.
    fn next(&mut self) -> Result<(Token<'a>, usize), ParseError> {
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() && bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&c) = bytes.get(start) else {
            return Ok((Token::End, start));
        };
        let next = bytes.get(start + 1).copied();
        let (token, len) = match c {
            b'(' => (Token::LParen, 1),
            b')' => (Token::RParen, 1),
            b'[' => (Token::LBracket, 1),
            b']' => (Token::RBracket, 1),
            b'.' => (Token::Dot, 1),
            b',' => (Token::Comma, 1),
            b'*' => (Token::Star, 1),
            b'!' if next == Some(b'=') => (Token::Compare(CompareOp::Ne), 2),
            b'!' => (Token::Not, 1),
            b'=' if next == Some(b'=') => (Token::Compare(CompareOp::Eq), 2),
            b'<' if next == Some(b'=') => (Token::Compare(CompareOp::Le), 2),
            b'<' => (Token::Compare(CompareOp::Lt), 1),
            b'>' if next == Some(b'=') => (Token::Compare(CompareOp::Ge), 2),
            b'>' => (Token::Compare(CompareOp::Gt), 1),
            b'&' if next == Some(b'&') => (Token::And, 2),
            b'|' if next == Some(b'|') => (Token::Or, 2),
            b'\'' => return self.string(start),
            b'0'..=b'9' | b'-' => return self.number(start),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut end = start + 1;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric()
                        || bytes[end] == b'_'
                        || bytes[end] == b'-')
                {
                    end += 1;
                }
                self.pos = end;
                return Ok((Token::Name(&self.text[start..end]), start));
            }
            _ => return self.err(start, "unexpected character"),
        };
        self.pos = start + len;
        Ok((token, start))
    }

    /// `'…'`, where `''` is a quote.
    fn string(&mut self, start: usize) -> Result<(Token<'a>, usize), ParseError> {
        let bytes = self.text.as_bytes();
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            match bytes.get(i) {
                None => return self.err(start, "unterminated string"),
                Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => {
                    escaped = true;
                    i += 2;
                }
                Some(b'\'') => break,
                Some(_) => i += 1,
            }
        }
        // Quotes are ASCII, so both ends are character boundaries.
        let body = &self.text[start + 1..i];
        self.pos = i + 1;
        let value = if escaped {
            Cow::Owned(body.replace("''", "'"))
        } else {
            Cow::Borrowed(body)
        };
        Ok((Token::String(value), start))
    }

    /// Decimal (`-1`, `2.5`, `1e3`) or hexadecimal (`0xff`) numbers.
    fn number(&mut self, start: usize) -> Result<(Token<'a>, usize), ParseError> {
        let bytes = self.text.as_bytes();
        let mut end = start;
        if bytes.get(end) == Some(&b'-') {
            end += 1;
        }
        let hex = bytes.get(end) == Some(&b'0') && matches!(bytes.get(end + 1), Some(b'x' | b'X'));
        if hex {
            end += 2;
            while end < bytes.len() && bytes[end].is_ascii_hexdigit() {
                end += 1;
            }
        } else {
            while end < bytes.len()
                && (bytes[end].is_ascii_digit()
                    || bytes[end] == b'.'
                    || matches!(bytes[end], b'e' | b'E')
                    || end > start
                        && matches!(bytes[end], b'-' | b'+')
                        && matches!(bytes[end - 1], b'e' | b'E'))
            {
                end += 1;
            }
        }
        let text = &self.text[start..end];
        let value = if hex {
            let digits = &text[text.find(['x', 'X']).map_or(0, |i| i + 1)..];
            i64::from_str_radix(digits, 16).ok().map(|v| {
                if text.starts_with('-') {
                    -(v as f64)
                } else {
                    v as f64
                }
            })
        } else {
            text.parse::<f64>().ok()
        };
        let Some(value) = value else {
            return self.err(start, "invalid number");
        };
        self.pos = end;
        Ok((Token::Number(value, text), start))
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<(Token<'a>, usize)>,
    /// Current recursion depth of the parser itself.
    nesting: usize,
}

/// A subtree and its depth.
type Parsed<'a> = (Expr<'a>, usize);

impl<'a> Parser<'a> {
    fn peek(&mut self) -> Result<&Token<'a>, ParseError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next()?);
        }
        match &self.peeked {
            Some((t, _)) => Ok(t),
            None => Ok(&Token::End),
        }
    }

    fn next(&mut self) -> Result<(Token<'a>, usize), ParseError> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lexer.next(),
        }
    }

    fn offset(&self) -> usize {
        self.peeked.as_ref().map_or(self.lexer.pos, |(_, at)| *at)
    }

    fn expect(&mut self, want: Token<'a>, message: &'static str) -> Result<(), ParseError> {
        let (t, at) = self.next()?;
        if t == want {
            Ok(())
        } else {
            Err(ParseError {
                offset: at,
                message,
            })
        }
    }

    fn deeper(&self, depth: usize) -> Result<usize, ParseError> {
        if depth > MAX_DEPTH {
            Err(ParseError {
                offset: self.offset(),
                message: "expression nested too deeply",
            })
        } else {
            Ok(depth)
        }
    }

    /// Enter a recursive rule; [`Parser::leave`] on the way out.
    fn enter(&mut self) -> Result<(), ParseError> {
        self.nesting += 1;
        self.deeper(self.nesting).map(|_| ())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    fn or(&mut self) -> Result<Parsed<'a>, ParseError> {
        self.enter()?;
        let result = self.list(Token::Or, Self::and, Expr::Or);
        self.leave();
        result
    }

    fn and(&mut self) -> Result<Parsed<'a>, ParseError> {
        self.list(Token::And, Self::equality, Expr::And)
    }

    /// `item (op item)*` as one n-ary node.
    fn list(
        &mut self,
        op: Token<'a>,
        item: fn(&mut Self) -> Result<Parsed<'a>, ParseError>,
        build: fn(Vec<Expr<'a>>) -> Expr<'a>,
    ) -> Result<Parsed<'a>, ParseError> {
        let (first, mut depth) = item(self)?;
        if *self.peek()? != op {
            return Ok((first, depth));
        }
        let mut items = vec![first];
        while *self.peek()? == op {
            self.next()?;
            let (e, d) = item(self)?;
            depth = depth.max(d);
            items.push(e);
        }
        Ok((build(items), self.deeper(depth + 1)?))
    }

    fn equality(&mut self) -> Result<Parsed<'a>, ParseError> {
        self.comparison(Self::relation, &[CompareOp::Eq, CompareOp::Ne])
    }

    fn relation(&mut self) -> Result<Parsed<'a>, ParseError> {
        self.comparison(
            Self::unary,
            &[CompareOp::Lt, CompareOp::Le, CompareOp::Gt, CompareOp::Ge],
        )
    }

    fn comparison(
        &mut self,
        operand: fn(&mut Self) -> Result<Parsed<'a>, ParseError>,
        ops: &[CompareOp],
    ) -> Result<Parsed<'a>, ParseError> {
        let (mut left, mut depth) = operand(self)?;
        loop {
            let op = match self.peek()? {
                Token::Compare(op) if ops.contains(op) => *op,
                _ => return Ok((left, depth)),
            };
            self.next()?;
            let (right, d) = operand(self)?;
            depth = self.deeper(depth.max(d) + 1)?;
            left = Expr::Compare(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Parsed<'a>, ParseError> {
        if *self.peek()? == Token::Not {
            self.next()?;
            self.enter()?;
            let inner = self.unary();
            self.leave();
            let (e, d) = inner?;
            return Ok((Expr::Not(Box::new(e)), self.deeper(d + 1)?));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Parsed<'a>, ParseError> {
        let (mut e, mut depth) = self.primary()?;
        loop {
            match self.peek()? {
                Token::Dot => {
                    self.next()?;
                    let (t, at) = self.next()?;
                    e = match t {
                        Token::Star => Expr::Star(Box::new(e)),
                        Token::Name(name) => Expr::Member(Box::new(e), name),
                        // `steps.1st.outputs`: lenient, a name that starts with a digit.
                        Token::Number(_, text) if text.bytes().all(|b| b.is_ascii_digit()) => {
                            Expr::Member(Box::new(e), text)
                        }
                        _ => {
                            return Err(ParseError {
                                offset: at,
                                message: "expected a property name after `.`",
                            })
                        }
                    };
                    depth = self.deeper(depth + 1)?;
                }
                Token::LBracket => {
                    self.next()?;
                    if *self.peek()? == Token::Star {
                        self.next()?;
                        self.expect(Token::RBracket, "expected `]` after `[*`")?;
                        e = Expr::Star(Box::new(e));
                        depth = self.deeper(depth + 1)?;
                    } else {
                        let (index, d) = self.or()?;
                        self.expect(Token::RBracket, "expected `]`")?;
                        e = Expr::Index(Box::new(e), Box::new(index));
                        depth = self.deeper(depth.max(d) + 1)?;
                    }
                }
                _ => return Ok((e, depth)),
            }
        }
    }

    fn primary(&mut self) -> Result<Parsed<'a>, ParseError> {
        let (t, at) = self.next()?;
        match t {
            Token::Number(n, _) => Ok((Expr::Number(n), 1)),
            Token::String(s) => Ok((Expr::String(s), 1)),
            Token::Name("null") => Ok((Expr::Null, 1)),
            Token::Name("true") => Ok((Expr::Bool(true), 1)),
            Token::Name("false") => Ok((Expr::Bool(false), 1)),
            Token::Name(name) => {
                if *self.peek()? != Token::LParen {
                    return Ok((Expr::Context(name), 1));
                }
                self.next()?;
                let mut args = Vec::new();
                let mut depth = 1;
                if *self.peek()? == Token::RParen {
                    self.next()?;
                    return Ok((Expr::Call(name, args), depth));
                }
                loop {
                    let (arg, d) = self.or()?;
                    depth = depth.max(d + 1);
                    args.push(arg);
                    match self.next()? {
                        (Token::Comma, _) => {}
                        (Token::RParen, _) => break,
                        (_, at) => {
                            return Err(ParseError {
                                offset: at,
                                message: "expected `,` or `)` in the arguments",
                            })
                        }
                    }
                }
                Ok((Expr::Call(name, args), self.deeper(depth)?))
            }
            Token::LParen => {
                let inner = self.or()?;
                self.expect(Token::RParen, "expected `)`")?;
                Ok(inner)
            }
            Token::End => Err(ParseError {
                offset: at,
                message: "expected an expression",
            }),
            _ => Err(ParseError {
                offset: at,
                message: "unexpected token",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr<'_> {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn literals() {
        assert_eq!(p("null"), Expr::Null);
        assert_eq!(p("true"), Expr::Bool(true));
        assert_eq!(p("-1.5"), Expr::Number(-1.5));
        assert_eq!(p("0xff"), Expr::Number(255.0));
        assert_eq!(p("1e3"), Expr::Number(1000.0));
        assert_eq!(p("'it''s'"), Expr::String(Cow::Owned("it's".into())));
        assert_eq!(p("''"), Expr::String(Cow::Borrowed("")));
    }

    #[test]
    fn paths() {
        assert_eq!(
            p("github.event.pull_request.title").path().as_deref(),
            Some("github.event.pull_request.title")
        );
        assert_eq!(
            p("github['event'].commits[0].Message").path().as_deref(),
            Some("github.event.commits.*.Message")
        );
        assert_eq!(
            p("github.event.pull_request.labels.*.name")
                .path()
                .as_deref(),
            Some("github.event.pull_request.labels.*.name")
        );
        assert_eq!(
            p("steps.my-step.outputs.x").path().as_deref(),
            Some("steps.my-step.outputs.x")
        );
        assert_eq!(p("matrix[inputs.key]").path().as_deref(), Some("matrix.*"));
        assert_eq!(p("fromJSON(x).y").path(), None);
    }

    #[test]
    fn operators_and_precedence() {
        let e = p("a == 'x' && b || !c");
        let Expr::Or(items) = &e else { panic!("{e:?}") };
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[0], Expr::And(a) if a.len() == 2));
        assert!(matches!(&items[1], Expr::Not(_)));
        let e = p("a < 1 == b >= 2");
        assert!(matches!(e, Expr::Compare(CompareOp::Eq, _, _)), "{e:?}");
        assert_eq!(
            p("github.head_ref == 'main'").equality(),
            Some(("github.head_ref".to_string(), "main"))
        );
    }

    #[test]
    fn calls() {
        let e = p("contains(fromJSON('[\"OWNER\"]'), github.event.comment.author_association)");
        let args = e.call("CONTAINS").unwrap();
        assert_eq!(args.len(), 2);
        assert_eq!(p("success()"), Expr::Call("success", vec![]));
        assert!(p("format('{0}-{1}', a.b, 'c')").call("format").is_some());
        assert!(p("toJSON(github)").call("tojson").is_some());
        assert!(p("hashFiles('**/*.lock', 'x')").call("hashfiles").is_some());
    }

    #[test]
    fn conditions() {
        assert!(parse_condition("${{ github.event_name == 'push' }}").is_ok());
        assert!(parse_condition("github.event_name == 'push'").is_ok());
        assert!(parse_condition("${{ a }} && ${{ b }}").is_err());
        let e = parse_condition("a && b && c == 'x'").unwrap();
        assert_eq!(e.conjuncts().len(), 3);
    }

    #[test]
    fn errors_are_values() {
        for bad in [
            "", "(", ")", "a.", "a[", "a[*", "'open", "f(a,", "f(a b)", "a ==", "!", "a b", "0xZZ",
            "1e", "a = b", "a & b", "a | b", "#", "é", "a.é", "--1", "[1]",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    /// Hostile input: deep nesting, long chains, odd bytes. Errors or trees, never panics,
    /// and fast.
    #[test]
    fn hostile_input() {
        let n = 200_000;
        let cases = [
            "(".repeat(n),
            format!("{}a{}", "(".repeat(n), ")".repeat(n)),
            "!".repeat(n) + "a",
            format!("a{}", ".b".repeat(n)),
            format!("a{}", "[0]".repeat(n)),
            format!("a{}", " == a".repeat(n)),
            format!("a{}", " || a".repeat(n)),
            format!("f({})", "a,".repeat(n) + "a"),
            format!("{}a{}", "f(".repeat(n), ")".repeat(n)),
            format!("{}a{}", "x[".repeat(n), "]".repeat(n)),
            "'".repeat(n),
            "''".repeat(n),
            "\u{0}\u{ffff}💥".repeat(1000),
            "a.*".repeat(1000),
        ];
        let start = std::time::Instant::now();
        for c in &cases {
            let _ = parse(c);
            let _ = parse_condition(c);
        }
        assert!(start.elapsed().as_secs() < 5, "parsing is not linear");
        // Wide but shallow trees are fine.
        assert!(parse(&format!("a{}", " || a".repeat(10_000))).is_ok());
        assert!(parse(&format!("f({})", "a,".repeat(10_000) + "a")).is_ok());
        // Deep ones are refused.
        assert!(parse(&format!("a{}", ".b".repeat(MAX_DEPTH + 1))).is_err());
        assert!(parse(&format!(
            "{}a{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        ))
        .is_err());
    }

    /// Random soups of expression tokens and odd characters (a fixed-seed generator, so the
    /// test is reproducible): parsing and evaluating never panic.
    #[test]
    fn token_soup_never_panics() {
        const PIECES: &[&str] = &[
            "github", ".", "event", "[", "]", "'x'", "''", "'", "(", ")", ",", "*", "!", "==",
            "!=", "<", "<=", ">", ">=", "&&", "||", "contains", "format", "fromJSON", "0x1f",
            "-1.5e3", "1e", "null", "true", " ", "é", "${{", "}}", "\"", "-", "_a-b", "9",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let text: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            if let Ok(e) = parse(&text) {
                let _ = e.path();
                let _ = e.conjuncts();
                let f = crate::expr::flow::flow(&e, &mut |p: &str| {
                    crate::expr::Flow::from(crate::expr::Kinds::STRING, p.to_string())
                });
                let _ = f.carries_text();
            }
            let _ = parse_condition(&text);
        }
    }

    /// Every prefix and every byte-truncation of a real expression: no panic.
    #[test]
    fn truncations_never_panic() {
        let e = "contains(fromJSON('[\"OWNER\", \"MEMBER\"]'), github.event.comment.author_association) && !startsWith(github['head_ref'], 'dependabot/') || format('{0}', toJSON(github.event.commits.*.message)) >= 0x1F";
        for i in 0..=e.len() {
            if e.is_char_boundary(i) {
                let _ = parse(&e[..i]);
                let _ = parse(&e[i..]);
            }
        }
        assert!(parse(e).is_ok());
    }
}
