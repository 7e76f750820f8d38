//! Inline suppressions: `# ship: ignore[rule-id, other-rule] reason` on the offending line or
//! the line above it.

use regex::Regex;
use ship_workflow::{Pos, Span};
use std::sync::LazyLock;

static IGNORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"#\s*ship:\s*ignore\[([^\]]*)\]").expect("valid regex"));

/// One `# ship: ignore[...]` comment.
#[derive(Debug, Clone)]
pub struct Suppression {
    pub line: u32,
    pub span: Span,
    pub rules: Vec<String>,
    /// Which of `rules` suppressed something.
    pub used: Vec<bool>,
    /// The comment's line, for the `unused-ignore` note.
    pub line_text: String,
}

impl Suppression {
    /// Suppress a finding of `rule` at `line`, if this comment covers it.
    pub fn covers(&mut self, rule: &str, line: u32) -> bool {
        if line != self.line && line != self.line + 1 {
            return false;
        }
        match self.rules.iter().position(|r| r == rule) {
            Some(i) => {
                self.used[i] = true;
                true
            }
            None => false,
        }
    }
}

/// Every suppression comment in `text`. Cheap when there are none: one substring search.
pub fn find_suppressions(text: &str) -> Vec<Suppression> {
    if !text.contains("ship:") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(caps) = IGNORE.captures(line) else {
            continue;
        };
        let whole = caps.get(0).expect("match");
        let col = line[..whole.start()].chars().count() as u32 + 1;
        let width = whole.as_str().chars().count() as u32;
        let rules: Vec<String> = caps[1]
            .split(',')
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect();
        let n = i as u32 + 1;
        out.push(Suppression {
            line: n,
            span: Span {
                start: Pos {
                    line: n,
                    column: col,
                },
                end: Pos {
                    line: n,
                    column: col + width,
                },
            },
            used: vec![false; rules.len()],
            line_text: line.to_string(),
            rules,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_covers() {
        let mut s = find_suppressions(
            "a: 1\n# ship: ignore[permissions, unpinned-action] reviewed in #12\nb: 2\n",
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].rules, vec!["permissions", "unpinned-action"]);
        assert!(s[0].covers("permissions", 3));
        assert!(!s[0].covers("permissions", 4));
        assert_eq!(s[0].used, vec![true, false]);
    }
}
