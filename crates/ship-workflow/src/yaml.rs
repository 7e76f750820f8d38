//! A YAML document as a tree in which every node knows where it came from.
//!
//! Built from `saphyr-parser` events with an explicit stack, never recursion, so hostile input
//! (100,000 levels of nesting, "billion laughs" alias bombs) ends in a [`YamlError`] with a
//! position instead of a stack overflow or unbounded memory.

use saphyr_parser::{Event, Parser, ScalarStyle, Span as RawSpan};
use std::collections::HashMap;
use std::fmt;

/// A 1-based line and column (columns count characters, as editors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// Where a node starts and ends (end is exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn point(pos: Pos) -> Span {
        Span {
            start: pos,
            end: pos,
        }
    }
}

/// How a scalar was written; it decides whether `true`/`null`/`3` are typed or text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { text: String, style: Style },
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
    /// The key of an earlier entry of the same mapping whose key is the same text ignoring
    /// case, when there is one. GitHub refuses a workflow that repeats a key in a mapping,
    /// comparing keys case-insensitively; readers of the tree ([`Node::get`]) see the first.
    pub duplicate_of: Option<Span>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

impl Node {
    /// The scalar's text, for any scalar style (so `3` and `"3"` both read as `"3"`).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// A plain `null`, `~` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, style: Style::Plain }
            if text.is_empty() || text == "~" || text == "null" || text == "Null" || text == "NULL")
    }

    /// A boolean as YAML 1.2 core schema reads it (plain `true`/`false` only).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar {
                text,
                style: Style::Plain,
            } => match text.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The map entry whose key is `key`.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key.as_str() == Some(key))
    }

    /// The value under `key` in a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// A node seen as a list of strings: a scalar is a one-element list (GitHub accepts both
    /// `branches: main` and `branches: [main]`).
    pub fn str_items(&self) -> Vec<&Node> {
        match &self.value {
            Value::Scalar { .. } if !self.is_null() => vec![self],
            Value::Seq(items) => items.iter().filter(|n| n.as_str().is_some()).collect(),
            _ => Vec::new(),
        }
    }

    /// Visit every node below and including this one, depth first, without recursion.
    pub fn walk<'a>(&'a self, mut visit: impl FnMut(&'a Node)) {
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            visit(node);
            match &node.value {
                Value::Scalar { .. } => {}
                Value::Seq(items) => stack.extend(items.iter().rev()),
                Value::Map(entries) => {
                    for e in entries.iter().rev() {
                        stack.push(&e.value);
                        stack.push(&e.key);
                    }
                }
            }
        }
    }

    /// Convert to JSON (for schema validation). Plain scalars become typed values.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        // Post-order conversion with an explicit stack, like the rest of this module.
        enum Work<'a> {
            Visit(&'a Node),
            BuildSeq(usize),
            BuildMap(Vec<String>),
        }
        let mut work = vec![Work::Visit(self)];
        let mut out: Vec<J> = Vec::new();
        while let Some(item) = work.pop() {
            match item {
                Work::Visit(node) => match &node.value {
                    Value::Scalar { text, style } => out.push(scalar_to_json(text, *style)),
                    Value::Seq(items) => {
                        work.push(Work::BuildSeq(items.len()));
                        work.extend(items.iter().rev().map(Work::Visit));
                    }
                    Value::Map(entries) => {
                        let keys = entries
                            .iter()
                            .map(|e| e.key.as_str().unwrap_or("").to_string())
                            .collect();
                        work.push(Work::BuildMap(keys));
                        work.extend(entries.iter().rev().map(|e| Work::Visit(&e.value)));
                    }
                },
                Work::BuildSeq(n) => {
                    let items = out.split_off(out.len() - n);
                    out.push(J::Array(items));
                }
                Work::BuildMap(keys) => {
                    let values = out.split_off(out.len() - keys.len());
                    out.push(J::Object(keys.into_iter().zip(values).collect()));
                }
            }
        }
        out.pop().unwrap_or(J::Null)
    }

    /// Follow a JSON-pointer-like path of keys and indices to the node it names.
    pub fn at_path<'a>(&'a self, path: &[String]) -> Option<&'a Node> {
        let mut node = self;
        for seg in path {
            node = match &node.value {
                Value::Map(_) => node.get(seg)?,
                Value::Seq(items) => items.get(seg.parse::<usize>().ok()?)?,
                Value::Scalar { .. } => return None,
            };
        }
        Some(node)
    }
}

fn scalar_to_json(text: &str, style: Style) -> serde_json::Value {
    use serde_json::Value as J;
    if style != Style::Plain {
        return J::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => J::Null,
        "true" | "True" | "TRUE" => J::Bool(true),
        "false" | "False" | "FALSE" => J::Bool(false),
        _ => {
            if let Ok(i) = text.parse::<i64>() {
                J::from(i)
            } else if let Some(f) = text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && text.chars().any(|c| c.is_ascii_digit()))
            {
                J::from(f)
            } else {
                J::String(text.to_string())
            }
        }
    }
}

/// Bounds that keep parsing hostile input cheap.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of maps and sequences.
    pub max_depth: usize,
    /// Most nodes aliases may add by expansion (the alias-bomb guard).
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 256,
            max_alias_nodes: 100_000,
        }
    }
}

/// A YAML document that could not be read, with the position where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct YamlError {
    pub message: String,
    pub pos: Pos,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (line {}, column {})",
            self.message, self.pos.line, self.pos.column
        )
    }
}

/// Spaces [`parse`] inserted into a copy of the source to read it (see [`Repair`]): positions
/// on `line` at or after column `at` (0-based) are `width` columns further right in the copy
/// than in the file.
#[derive(Debug, Clone, Copy)]
struct Shift {
    line: usize,
    at: usize,
    width: usize,
}

/// Positions in the text saphyr reads, mapped back to the file the user wrote.
fn pos(marker: &saphyr_parser::Marker, shifts: &[Shift]) -> Pos {
    let (line, mut col) = (marker.line(), marker.col());
    // Latest insertion first: each was made in the text the earlier ones produced.
    for s in shifts.iter().rev().filter(|s| s.line == line) {
        if col >= s.at + s.width {
            col -= s.width;
        } else if col >= s.at {
            col = s.at;
        }
    }
    Pos {
        line: line as u32,
        column: col as u32 + 1,
    }
}

fn span(raw: &RawSpan, shifts: &[Shift]) -> Span {
    Span {
        start: pos(&raw.start, shifts),
        end: pos(&raw.end, shifts),
    }
}

/// Give each key that repeats an earlier key of the same mapping (ignoring case) the span of
/// that earlier key. Pairwise for the small mappings workflows are made of; a hash of the
/// upper-cased keys above that, so a hostile 100,000-key mapping stays linear.
fn mark_duplicates(entries: &mut [Entry]) {
    const PAIRWISE: usize = 16;
    fn same(a: &str, b: &str) -> bool {
        a.eq_ignore_ascii_case(b)
            || (!a.is_ascii()
                && a.chars()
                    .flat_map(char::to_uppercase)
                    .eq(b.chars().flat_map(char::to_uppercase)))
    }
    if entries.len() <= PAIRWISE {
        for i in 1..entries.len() {
            let Some(key) = entries[i].key.as_str() else {
                continue;
            };
            entries[i].duplicate_of = entries[..i]
                .iter()
                .find(|e| e.key.as_str().is_some_and(|k| same(k, key)))
                .map(|e| e.key.span);
        }
        return;
    }
    let mut seen: HashMap<String, Span> = HashMap::with_capacity(entries.len());
    for e in entries.iter_mut() {
        let Some(key) = e.key.as_str() else { continue };
        match seen.entry(key.to_uppercase()) {
            std::collections::hash_map::Entry::Occupied(first) => {
                e.duplicate_of = Some(*first.get())
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(e.key.span);
            }
        }
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: Pos,
        anchor: usize,
        first_node: usize,
    },
    Map {
        entries: Vec<Entry>,
        key: Option<Node>,
        start: Pos,
        anchor: usize,
        first_node: usize,
    },
}

/// Parse the first document of `src`. `Ok(None)` means the input holds no document at all.
pub fn parse(src: &str, limits: Limits) -> Result<Option<Node>, YamlError> {
    match parse_text(src, limits, &[]) {
        Ok(root) => Ok(root),
        Err(Failure::FlowIndentation(e)) => Repair::new(src).parse(limits).ok_or(e)?,
        Err(Failure::Invalid(e)) => Err(e),
    }
}

/// Why one reading of the text failed.
enum Failure {
    /// A line inside a flow collection (`[ … ]`, `{ … }`) that starts left of where YAML 1.2
    /// wants it (see [`Repair`]).
    FlowIndentation(YamlError),
    Invalid(YamlError),
}

impl From<YamlError> for Failure {
    fn from(e: YamlError) -> Self {
        Failure::Invalid(e)
    }
}

/// Reading a file whose flow collections have lines that are not indented past their block
/// parent, as real workflows do:
///
/// ```yaml
///     matrix:
///       target: [
///         "web-server",
///       ]            # at the indentation of `target:`
/// ```
///
/// YAML 1.2 (and so saphyr) wants every line of the collection right of `target`; libyaml and
/// the parser GitHub runs do not look at indentation inside flow collections, so GitHub runs
/// such a workflow. Indentation means nothing inside a flow collection, so the offending line
/// is read with spaces inserted before it, and positions are mapped back to the file. Only
/// files that fail this way take this path; each repair re-reads the file, so their number
/// is bounded.
struct Repair {
    text: String,
    shifts: Vec<Shift>,
}

impl Repair {
    const MAX_LINES: usize = 32;

    fn new(src: &str) -> Self {
        Repair {
            text: src.to_string(),
            shifts: Vec::new(),
        }
    }

    /// `None` when the file cannot be read this way either: the caller reports the first
    /// error, which is where the user should look.
    fn parse(mut self, limits: Limits) -> Option<Result<Option<Node>, YamlError>> {
        for _ in 0..Self::MAX_LINES {
            match parse_text(&self.text, limits, &self.shifts) {
                Ok(root) => return Some(Ok(root)),
                Err(Failure::Invalid(e)) => return Some(Err(e)),
                Err(Failure::FlowIndentation(e)) => self.indent(e.pos)?,
            }
        }
        None
    }

    /// Insert spaces before the token at `at` (a position in the file), which must be the
    /// first thing on its line, so that it is right of every line above it.
    fn indent(&mut self, at: Pos) -> Option<()> {
        let line = at.line as usize;
        // The column in the repaired text: earlier shifts on this line moved it right.
        let mut col = at.column.saturating_sub(1) as usize;
        for s in self.shifts.iter().filter(|s| s.line == line) {
            if col >= s.at {
                col += s.width;
            }
        }
        let mut start = 0;
        let mut deepest = 0;
        for (n, text) in self.text.split_inclusive('\n').enumerate() {
            if n + 1 == line {
                break;
            }
            start += text.len();
            let body = text.trim_end_matches(['\n', '\r']);
            if !body.trim().is_empty() {
                deepest = deepest.max(body.len() - body.trim_start_matches(' ').len());
            }
        }
        let rest = &self.text[start..];
        let lead = rest.len() - rest.trim_start_matches(' ').len();
        if lead != col || col > deepest {
            return None;
        }
        let width = deepest + 1 - col;
        self.text.insert_str(start + col, &" ".repeat(width));
        self.shifts.push(Shift {
            line,
            at: col,
            width,
        });
        Some(())
    }
}

fn parse_text(src: &str, limits: Limits, shifts: &[Shift]) -> Result<Option<Node>, Failure> {
    let mut parser = Parser::new_from_str(src);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut nodes_built: usize = 0;
    let mut alias_nodes: usize = 0;
    let mut root: Option<Node> = None;

    loop {
        let (event, raw_span) = match parser.next_event() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(e)) => {
                // saphyr's own guard against deep flow nesting; say it in our words.
                let message = if e.info().contains("recursion limit") {
                    "nesting too deep; no workflow needs that".to_string()
                } else {
                    e.info().to_string()
                };
                let err = YamlError {
                    message,
                    pos: pos(e.marker(), shifts),
                };
                // The scanner's errors about a token inside a flow collection left of its block
                // parent (the other indentation errors: "… for anchor", "… in quoted scalar").
                let flow = matches!(
                    e.info(),
                    "invalid indentation" | "invalid indentation in flow construct"
                );
                return Err(if flow {
                    Failure::FlowIndentation(err)
                } else {
                    Failure::Invalid(err)
                });
            }
        };
        let sp = span(&raw_span, shifts);
        let completed: Option<(Node, usize, usize)> = match event {
            Event::StreamEnd | Event::DocumentEnd => {
                if root.is_some() || event == Event::StreamEnd {
                    break;
                }
                None
            }
            Event::Nothing | Event::StreamStart | Event::DocumentStart(_) => None,
            Event::Scalar(text, style, anchor, _tag) => {
                nodes_built += 1;
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    _ => Style::Block,
                };
                Some((
                    Node {
                        value: Value::Scalar {
                            text: text.into_owned(),
                            style,
                        },
                        span: sp,
                    },
                    anchor,
                    1,
                ))
            }
            Event::Alias(id) => {
                let Some((target, size)) = anchors.get(&id) else {
                    return Err(YamlError {
                        message: "alias refers to an anchor that is not defined before it".into(),
                        pos: sp.start,
                    }
                    .into());
                };
                alias_nodes += size;
                if alias_nodes > limits.max_alias_nodes {
                    return Err(YamlError {
                        message: format!(
                            "aliases expand to more than {} nodes (an alias bomb?); refusing to expand them",
                            limits.max_alias_nodes
                        ),
                        pos: sp.start,
                    }
                    .into());
                }
                nodes_built += size;
                let mut node = target.clone();
                // The alias is where the reader sees it; point findings there.
                node.span = sp;
                Some((node, 0, 0))
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= limits.max_depth {
                    return Err(YamlError {
                        message: format!(
                            "nesting deeper than {} levels; no workflow needs that",
                            limits.max_depth
                        ),
                        pos: sp.start,
                    }
                    .into());
                }
                let first_node = nodes_built;
                nodes_built += 1;
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        start: sp.start,
                        anchor,
                        first_node,
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        start: sp.start,
                        anchor,
                        first_node,
                    }
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq {
                    items,
                    start,
                    anchor,
                    first_node,
                }) => Some((
                    Node {
                        value: Value::Seq(items),
                        span: Span { start, end: sp.end },
                    },
                    anchor,
                    nodes_built - first_node,
                )),
                Some(Frame::Map {
                    mut entries,
                    start,
                    anchor,
                    first_node,
                    ..
                }) => Some((
                    Node {
                        value: Value::Map({
                            mark_duplicates(&mut entries);
                            entries
                        }),
                        span: Span { start, end: sp.end },
                    },
                    anchor,
                    nodes_built - first_node,
                )),
                None => None,
            },
        };
        let Some((node, anchor, size)) = completed else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, (node.clone(), size.max(1)));
        }
        match stack.last_mut() {
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push(Entry {
                    key: k,
                    value: node,
                    duplicate_of: None,
                }),
            },
            None => root = Some(node),
        }
    }
    Ok(root)
}

/// The source text with a line index, to show lines and to find text inside a node.
pub struct Source<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Source { text, line_starts }
    }

    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Line `n` (1-based) without its line ending.
    pub fn line(&self, n: u32) -> Option<&'a str> {
        let idx = (n as usize).checked_sub(1)?;
        let start = *self.line_starts.get(idx)?;
        let end = self
            .line_starts
            .get(idx + 1)
            .copied()
            .unwrap_or(self.text.len());
        Some(self.text[start..end].trim_end_matches(['\n', '\r']))
    }

    pub fn line_count(&self) -> u32 {
        self.line_starts.len() as u32
    }

    /// Where `needle` first appears in the raw text covered by `span`, as a span of its own.
    /// Used to point at an expression inside a multi-line `run:` script.
    pub fn find_in_span(&self, span: Span, needle: &str) -> Option<Span> {
        self.find_all_in_span(span, needle).into_iter().next()
    }

    /// The place of the `nth` (0-based) occurrence of `needle` in `span`'s raw text: where the
    /// `nth` occurrence in the scalar's value is, when the value repeats the same text.
    pub fn find_nth_in_span(&self, span: Span, needle: &str, nth: usize) -> Option<Span> {
        self.find_all_in_span(span, needle).into_iter().nth(nth)
    }

    /// Every place `needle` appears in the raw text covered by `span` (start inclusive, end
    /// exclusive: nothing after the node on its last line).
    pub fn find_all_in_span(&self, span: Span, needle: &str) -> Vec<Span> {
        let mut found = Vec::new();
        if needle.is_empty() {
            return found;
        }
        let last = span.end.line.max(span.start.line);
        for n in span.start.line..=last {
            let Some(line) = self.line(n) else { break };
            let skip_chars = if n == span.start.line {
                span.start.column.saturating_sub(1) as usize
            } else {
                0
            };
            let from = line
                .char_indices()
                .nth(skip_chars)
                .map(|(i, _)| i)
                .unwrap_or(line.len());
            for (byte, _) in line[from..].match_indices(needle) {
                let byte = from + byte;
                let col = line[..byte].chars().count() as u32 + 1;
                let width = needle.chars().count() as u32;
                let bounded = span.end > span.start && n == span.end.line;
                if bounded && col + width > span.end.column {
                    continue;
                }
                found.push(Span {
                    start: Pos {
                        line: n,
                        column: col,
                    },
                    end: Pos {
                        line: n,
                        column: col + width,
                    },
                });
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(src: &str) -> Node {
        parse(src, Limits::default()).unwrap().unwrap()
    }

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let doc = p("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n");
        let jobs = doc.entry("jobs").unwrap();
        assert_eq!(jobs.key.span.start, Pos { line: 2, column: 1 });
        let build = jobs.value.entry("build").unwrap();
        assert_eq!(build.key.span.start, Pos { line: 3, column: 3 });
        let runs_on = build.value.get("runs-on").unwrap();
        assert_eq!(
            runs_on.span.start,
            Pos {
                line: 4,
                column: 14
            }
        );
        assert_eq!(runs_on.as_str(), Some("ubuntu-latest"));
    }

    #[test]
    fn on_is_a_string_key() {
        let doc = p("on:\n  push:\n");
        assert!(doc.get("on").is_some());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = "[".repeat(100_000);
        let err = parse(&src, Limits::default()).unwrap_err();
        assert!(err.message.contains("nesting"), "{err}");
        let block: String = (0..5000)
            .map(|i| format!("{}- \n", " ".repeat(i * 2)))
            .collect();
        let err = parse(&block, Limits::default()).unwrap_err();
        assert!(err.message.contains("nesting"), "{err}");
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut src = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in 'b'..='j' {
            src.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = name;
        }
        let err = parse(&src, Limits::default()).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{err}");
    }

    #[test]
    fn aliases_expand_within_budget() {
        let doc = p("x: &v hello\ny: *v\n");
        assert_eq!(doc.get("y").unwrap().as_str(), Some("hello"));
        assert_eq!(doc.get("y").unwrap().span.start.line, 2);
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse("a: [1, 2\nb: 3\n", Limits::default()).unwrap_err();
        assert!(err.pos.line >= 1);
    }

    #[test]
    fn finds_text_inside_block_scalar() {
        let src = "run: |\n  echo hi\n  echo ${{ github.head_ref }}\n";
        let doc = p(src);
        let run = doc.get("run").unwrap();
        let s = Source::new(src);
        let hit = s.find_in_span(run.span, "${{ github.head_ref }}").unwrap();
        assert_eq!(hit.start, Pos { line: 3, column: 8 });
    }

    #[test]
    fn records_duplicate_keys_ignoring_case() {
        let doc = p("a: 1\nb: 2\nA: 3\nb: 4\nc: {x: 1, x: 2}\n");
        let entries = doc.as_map().unwrap();
        let dups: Vec<(Option<&str>, Option<u32>)> = entries
            .iter()
            .map(|e| (e.key.as_str(), e.duplicate_of.map(|s| s.start.line)))
            .collect();
        assert_eq!(
            dups,
            vec![
                (Some("a"), None),
                (Some("b"), None),
                (Some("A"), Some(1)),
                (Some("b"), Some(2)),
                (Some("c"), None)
            ]
        );
        // Readers see the first.
        assert_eq!(doc.get("b").unwrap().as_str(), Some("2"));
        let inner = doc.get("c").unwrap().as_map().unwrap();
        assert_eq!(inner[1].duplicate_of.map(|s| s.start.column), Some(5));
    }

    #[test]
    fn records_duplicate_keys_in_large_mappings() {
        let mut src: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        src.push_str("K7: again\n");
        let doc = p(&src);
        let entries = doc.as_map().unwrap();
        assert_eq!(
            entries.iter().filter(|e| e.duplicate_of.is_some()).count(),
            1
        );
        assert_eq!(entries[100].duplicate_of.map(|s| s.start.line), Some(8));
    }

    /// GitHub runs workflows whose flow collections close at their key's indentation (YAML 1.2
    /// wants them further right); positions still point into the file as written.
    #[test]
    fn reads_flow_collections_indented_like_their_key() {
        let src = "jobs:\n  docker:\n    strategy:\n      matrix:\n        target: [\n          \"web\",\n          \"cli\"\n        ]\n        os: [a,\n        b]\n    name: x\n";
        let doc = p(src);
        let matrix = doc
            .at_path(&["jobs", "docker", "strategy", "matrix"].map(String::from))
            .unwrap();
        let target = matrix.get("target").unwrap().as_seq().unwrap();
        assert_eq!(target[1].as_str(), Some("cli"));
        assert_eq!(
            target[1].span.start,
            Pos {
                line: 7,
                column: 11
            }
        );
        let os = matrix.get("os").unwrap().as_seq().unwrap();
        assert_eq!(os[1].as_str(), Some("b"));
        assert_eq!(
            os[1].span.start,
            Pos {
                line: 10,
                column: 9
            }
        );
        assert_eq!(
            doc.at_path(&["jobs", "docker", "name"].map(String::from))
                .unwrap()
                .span
                .start,
            Pos {
                line: 11,
                column: 11
            }
        );
        // Other indentation errors are still errors.
        assert!(parse("a:\n  b: [1,\n2]\n\tc: 3\n", Limits::default()).is_err());
    }

    #[test]
    fn to_json_types_plain_scalars() {
        let doc = p("a: 1\nb: 'x'\nc: true\nd: [null, 2.5]\n");
        assert_eq!(
            doc.to_json(),
            serde_json::json!({"a": 1, "b": "x", "c": true, "d": [null, 2.5]})
        );
    }
}
