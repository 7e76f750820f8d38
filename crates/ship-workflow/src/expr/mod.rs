//! `${{ … }}` expressions inside workflow strings: finding them ([`expressions`]), where
//! each one is in the file ([`spans_in`]), parsing them ([`parse`]) and what their values
//! can carry ([`flow`]).

pub mod flow;
pub mod parse;

pub use flow::{Flow, Kinds};
pub use parse::{parse, parse_condition, CompareOp, Expr, ParseError};

use crate::yaml::{Pos, Source, Span};

/// One `${{ … }}` occurrence: its full text and its inner expression (trimmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expression<'a> {
    /// Byte offset of `${{` in the string.
    pub offset: usize,
    /// `${{ … }}` as written.
    pub raw: &'a str,
    /// What is between the braces, trimmed.
    pub inner: &'a str,
}

/// Every expression in `text`, in order. An unclosed `${{` ends the scan (GitHub rejects it).
pub fn expressions(text: &str) -> Vec<Expression<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("${{") {
        let start = from + start;
        let Some(end) = find_close(&text[start + 3..]) else {
            break;
        };
        let end = start + 3 + end + 2;
        out.push(Expression {
            offset: start,
            raw: &text[start..end],
            inner: text[start + 3..end - 2].trim(),
        });
        from = end;
    }
    out
}

/// Offset of the `}}` that closes an expression, skipping `}}` inside string literals.
fn find_close(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => in_string = !in_string,
            b'}' if !in_string && bytes.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where each `${{ … }}` in a scalar's source text is, in order, in one pass over the text.
///
/// The i-th expression of a scalar's value is the i-th one in its source text: block
/// scalars only lose indentation, quoted ones only escapes, neither of which touches
/// `${{` or `}}`. The caller pairs them up by index (and falls back to the node's span when
/// the source has fewer).
pub fn spans_in(source: &Source<'_>, span: Span) -> Vec<Span> {
    let text = source.text();
    let Some(start) = byte_offset(source, span.start) else {
        return Vec::new();
    };
    let end = if span.end > span.start {
        byte_offset(source, span.end).unwrap_or(text.len())
    } else {
        text.len()
    };
    let Some(raw) = text.get(start..end.max(start)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut pos = span.start;
    let mut at = 0;
    // Advance `pos` from byte `at` to byte `to` of `raw`.
    let advance = |pos: &mut Pos, at: &mut usize, to: usize| {
        for c in raw.get(*at..to).unwrap_or("").chars() {
            if c == '\n' {
                pos.line += 1;
                pos.column = 1;
            } else {
                pos.column += 1;
            }
        }
        *at = to;
    };
    for e in expressions(raw) {
        advance(&mut pos, &mut at, e.offset);
        let from = pos;
        advance(&mut pos, &mut at, e.offset + e.raw.len());
        out.push(Span {
            start: from,
            end: pos,
        });
    }
    out
}

/// The byte offset of a position in the source text.
fn byte_offset(source: &Source<'_>, pos: Pos) -> Option<usize> {
    let text = source.text();
    let line = source.line(pos.line)?;
    // `line` is a slice of `text`: its offset is the distance between the two pointers.
    let line_start = (line.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let column = pos.column.saturating_sub(1) as usize;
    let within = line
        .char_indices()
        .nth(column)
        .map_or(line.len(), |(i, _)| i);
    Some(line_start + within)
}

/// Context references (`github.event.issue.title`, `inputs.version`, `secrets.PROD_KEY`)
/// named in an expression, with `x['y']` index syntax normalised to `x.y`.
pub fn context_references(inner: &str) -> Vec<String> {
    let normalised = inner
        .replace("['", ".")
        .replace("']", "")
        .replace("[\"", ".")
        .replace("\"]", "");
    let mut refs = Vec::new();
    let mut current = String::new();
    let mut in_string = false;
    for c in normalised.chars().chain(std::iter::once(' ')) {
        if c == '\'' {
            in_string = !in_string;
            current.clear();
            continue;
        }
        if in_string {
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' || c == '*' {
            current.push(c);
        } else {
            let r = current.trim_matches('.');
            if r.contains('.') && r.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                refs.push(r.to_string());
            }
            current.clear();
        }
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_expressions() {
        let e = expressions("a ${{ github.sha }} b ${{ format('{0}}', x) }}");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].inner, "github.sha");
        assert_eq!(e[1].inner, "format('{0}}', x)");
    }

    #[test]
    fn spans_of_expressions_in_a_block_scalar() {
        let src = "run: |\n  echo ${{ a }} ${{ b }}\n  x ${{ 'é' }} ${{ c }}\nnext: 1\n";
        let root = crate::yaml::parse(src, crate::yaml::Limits::default())
            .unwrap()
            .unwrap();
        let run = root.get("run").unwrap();
        let source = Source::new(src);
        let spans = spans_in(&source, run.span);
        let starts: Vec<(u32, u32)> = spans
            .iter()
            .map(|s| (s.start.line, s.start.column))
            .collect();
        assert_eq!(starts, vec![(2, 8), (2, 17), (3, 5), (3, 16)]);
        assert_eq!(
            spans[2].end,
            Pos {
                line: 3,
                column: 15
            }
        );
        assert_eq!(expressions(run.as_str().unwrap()).len(), spans.len());
    }

    #[test]
    fn references() {
        assert_eq!(
            context_references("github.event.issue.title || inputs['version']"),
            vec!["github.event.issue.title", "inputs.version"]
        );
        assert_eq!(context_references("contains('a.b', x.y)"), vec!["x.y"]);
    }
}
