//! What an expression's value can be, and which of its inputs can reach it as text.
//!
//! Interpolating `${{ … }}` pastes the value's text into the surrounding string. Whether
//! that is dangerous depends on the value, not on which contexts the expression mentions:
//! `contains(github.event.issue.title, 'bug')` is `true` or `false`, `github.head_ref ==
//! 'main'` is a boolean, `inputs.count` of `type: number` is a number; none of them can
//! carry an attacker's text. [`flow`] walks the tree once and returns the kinds the value can
//! have ([`Kinds`]) and the sources (whatever the caller's classifier returns for a context
//! path) whose text can reach it:
//!
//! - comparisons, `!`, `contains`/`startsWith`/`endsWith`, the status functions: booleans,
//!   no sources;
//! - `a || b`: either operand; `a && b`: `a` only when it is falsy (`false`, `0`, `''`,
//!   `null`: no text), else `b`, so the sources of `b`;
//! - `format`, `join`, `toJSON`: strings carrying every argument's sources; `fromJSON` of a
//!   literal is that literal's kind, of anything else whatever its argument carries;
//!   `hashFiles`: a hex string from the repository's files;
//! - `x.y`, `x[i]`, `x.*` on a context: the classifier's answer for the path; on any other
//!   value (`fromJSON(x).y`): what the value carries.

use super::parse::Expr;

/// The set of kinds a value can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Kinds(u8);

impl Kinds {
    pub const NONE: Kinds = Kinds(0);
    pub const NULL: Kinds = Kinds(1);
    pub const BOOL: Kinds = Kinds(2);
    pub const NUMBER: Kinds = Kinds(4);
    pub const STRING: Kinds = Kinds(8);
    pub const ARRAY: Kinds = Kinds(16);
    pub const OBJECT: Kinds = Kinds(32);
    /// Anything.
    pub const ANY: Kinds = Kinds(63);
    /// Kinds whose text can be anything: strings, and arrays and objects (which hold them).
    pub const TEXT: Kinds = Kinds(8 | 16 | 32);

    pub fn union(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    pub fn intersects(self, other: Kinds) -> bool {
        self.0 & other.0 != 0
    }
}

/// A value's possible kinds and the sources whose text can reach it.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow<T> {
    pub kinds: Kinds,
    pub sources: Vec<T>,
}

impl<T: PartialEq> Flow<T> {
    /// A value of these kinds that no source reaches.
    pub fn clean(kinds: Kinds) -> Self {
        Flow {
            kinds,
            sources: Vec::new(),
        }
    }

    /// A value of these kinds carrying `source`.
    pub fn from(kinds: Kinds, source: T) -> Self {
        Flow {
            kinds,
            sources: vec![source],
        }
    }

    /// Some source's text can end up in the value's text.
    pub fn carries_text(&self) -> bool {
        !self.sources.is_empty() && self.kinds.intersects(Kinds::TEXT)
    }

    fn absorb(&mut self, other: Flow<T>) {
        self.kinds = self.kinds.union(other.kinds);
        for s in other.sources {
            if !self.sources.contains(&s) {
                self.sources.push(s);
            }
        }
    }

    /// Only sources that can reach the value as text survive.
    fn text_only(mut self) -> Self {
        if !self.kinds.intersects(Kinds::TEXT) {
            self.sources.clear();
        }
        self
    }
}

/// The value of `expr` with `context` classifying every context path (as written, see
/// [`Expr::path`]). Recursion is bounded by the parser's depth limit.
pub fn flow<T: PartialEq>(expr: &Expr<'_>, context: &mut dyn FnMut(&str) -> Flow<T>) -> Flow<T> {
    match expr {
        Expr::Null => Flow::clean(Kinds::NULL),
        Expr::Bool(_) => Flow::clean(Kinds::BOOL),
        Expr::Number(_) => Flow::clean(Kinds::NUMBER),
        Expr::String(_) => Flow::clean(Kinds::STRING),
        Expr::Not(_) | Expr::Compare(..) => Flow::clean(Kinds::BOOL),
        Expr::Context(_) | Expr::Member(..) | Expr::Index(..) | Expr::Star(..) => {
            match expr.path() {
                Some(path) => context(&path).text_only(),
                None => {
                    // A property of a computed value carries whatever the value carried.
                    let base = match expr {
                        Expr::Member(b, _) | Expr::Index(b, _) | Expr::Star(b) => b,
                        _ => return Flow::clean(Kinds::ANY),
                    };
                    let mut f = flow(base, context);
                    f.kinds = Kinds::ANY;
                    f
                }
            }
        }
        Expr::Or(items) => {
            let mut out = Flow::clean(Kinds::NONE);
            for item in items {
                out.absorb(flow(item, context));
            }
            out
        }
        Expr::And(items) => {
            // Every operand but the last is the result only when falsy: no text.
            let mut out = Flow::clean(Kinds::NONE);
            if let Some((last, rest)) = items.split_last() {
                for item in rest {
                    out.kinds = out.kinds.union(flow(item, context).kinds);
                }
                out.absorb(flow(last, context));
            }
            out
        }
        Expr::Call(name, args) => call(name, args, context),
    }
}

fn call<T: PartialEq>(
    name: &str,
    args: &[Expr<'_>],
    context: &mut dyn FnMut(&str) -> Flow<T>,
) -> Flow<T> {
    let lower = name.to_ascii_lowercase();
    let all_args = |context: &mut dyn FnMut(&str) -> Flow<T>| {
        let mut out = Flow::clean(Kinds::NONE);
        for a in args {
            out.absorb(flow(a, context));
        }
        out
    };
    match lower.as_str() {
        "contains" | "startswith" | "endswith" | "success" | "always" | "failure" | "cancelled" => {
            Flow::clean(Kinds::BOOL)
        }
        "hashfiles" => Flow::clean(Kinds::STRING),
        "format" | "join" | "tojson" => {
            let mut f = all_args(context);
            f.kinds = Kinds::STRING;
            f
        }
        "fromjson" => match args {
            [Expr::String(s)] => Flow::clean(json_kind(s)),
            _ => {
                let mut f = all_args(context);
                f.kinds = Kinds::ANY;
                f
            }
        },
        // An unknown function: assume it passes its arguments through.
        _ => {
            let mut f = all_args(context);
            f.kinds = Kinds::ANY;
            f
        }
    }
}

/// The kind of a JSON literal, by its first character (no need to parse it all).
fn json_kind(text: &str) -> Kinds {
    match text.trim_start().bytes().next() {
        Some(b'[') => Kinds::ARRAY,
        Some(b'{') => Kinds::OBJECT,
        Some(b'"') => Kinds::STRING,
        Some(b't' | b'f') => Kinds::BOOL,
        Some(b'n') => Kinds::NULL,
        Some(b'-' | b'0'..=b'9') => Kinds::NUMBER,
        _ => Kinds::ANY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse::parse;

    /// Sources: paths starting with `bad.`; `n.*` are numbers, `b.*` booleans.
    fn sources(e: &str) -> Vec<String> {
        let expr = parse(e).unwrap();
        let f = flow(&expr, &mut |path: &str| {
            if path.starts_with("bad") {
                Flow::from(Kinds::STRING, path.to_string())
            } else if path.starts_with("n.") {
                Flow::from(Kinds::NUMBER, path.to_string())
            } else if path.starts_with("b.") {
                Flow::from(Kinds::BOOL, path.to_string())
            } else {
                Flow::clean(Kinds::ANY)
            }
        });
        if f.carries_text() {
            f.sources
        } else {
            Vec::new()
        }
    }

    #[test]
    fn values_that_cannot_carry_text() {
        for e in [
            "contains(bad.title, 'x')",
            "bad.title == 'main'",
            "!bad.title",
            "startsWith(bad.ref, 'x') && endsWith(bad.ref, 'y')",
            "bad.a != bad.b",
            "n.count",
            "b.flag",
            "n.count || b.flag",
            "bad.title && 'literal'",
            "bad.x && n.count",
            "hashFiles(bad.path)",
            "success() || failure()",
            "fromJSON('[1, 2]')",
            "toJSON(good.x)",
            "good.x",
        ] {
            assert_eq!(sources(e), Vec::<String>::new(), "{e}");
        }
    }

    #[test]
    fn values_that_carry_text() {
        let cases: &[(&str, &[&str])] = &[
            ("bad.title", &["bad.title"]),
            ("good.x || bad.title", &["bad.title"]),
            ("cond == 'x' && bad.title || 'none'", &["bad.title"]),
            ("format('{0} {1}', bad.a, bad.b)", &["bad.a", "bad.b"]),
            ("join(bad.labels.*.name, ',')", &["bad.labels.*.name"]),
            ("toJSON(bad)", &["bad"]),
            ("fromJSON(bad.body).x", &["bad.body"]),
            ("bad['title']", &["bad.title"]),
            ("upper(bad.title)", &["bad.title"]),
            ("(bad.title)", &["bad.title"]),
        ];
        for (e, want) in cases {
            assert_eq!(sources(e), *want, "{e}");
        }
    }
}
