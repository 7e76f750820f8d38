//! `${{ … }}` expressions inside workflow strings.

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
    fn references() {
        assert_eq!(
            context_references("github.event.issue.title || inputs['version']"),
            vec!["github.event.issue.title", "inputs.version"]
        );
        assert_eq!(context_references("contains('a.b', x.y)"), vec!["x.y"]);
    }
}
