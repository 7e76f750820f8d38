//! Renderers: one function per output format, all over the same sorted findings.

use crate::{Finding, RuleInfo, Severity, Summary};
use serde_json::{json, Value};
use ship_actions_runtime::{Annotation, AnnotationLevel, MarkdownTable};
use std::io::{self, Write};
use std::str::FromStr;

/// Output formats shared by every ship linter (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "human" => Ok(Format::Human),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "github" => Ok(Format::Github),
            other => Err(format!(
                "unknown format `{other}`: expected one of human, json, sarif, github"
            )),
        }
    }
}

/// Everything a renderer needs besides the findings.
pub struct RenderOptions<'a> {
    pub format: Format,
    /// ANSI colours in the human format.
    pub color: bool,
    /// Tool name and version for SARIF's `tool.driver`.
    pub tool_name: &'a str,
    pub tool_version: &'a str,
    pub information_uri: &'a str,
    /// Every rule the tool has, so SARIF consumers can show docs for any result.
    pub rules: &'a [RuleInfo],
}

/// Write `findings` (already sorted with [`crate::sort_findings`]) in the chosen format.
pub fn render(
    out: &mut dyn Write,
    findings: &[Finding],
    summary: &Summary,
    opts: &RenderOptions<'_>,
) -> io::Result<()> {
    match opts.format {
        Format::Human => render_human(out, findings, summary, opts.color),
        Format::Json => {
            // Serialised straight from the findings: building a `json!` value first copied
            // every string into a map, a visible share of a large run's time.
            #[derive(serde::Serialize)]
            struct Document<'a> {
                findings: &'a [Finding],
                summary: &'a Summary,
            }
            serde_json::to_writer_pretty(&mut *out, &Document { findings, summary })?;
            writeln!(out)
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(findings, summary, opts))?;
            writeln!(out)
        }
        Format::Github => render_github(out, findings),
    }
}

struct Palette {
    error: &'static str,
    warning: &'static str,
    note: &'static str,
    blue: &'static str,
    bold: &'static str,
    reset: &'static str,
}

const COLOR: Palette = Palette {
    error: "\x1b[1;31m",
    warning: "\x1b[1;33m",
    note: "\x1b[1;36m",
    blue: "\x1b[1;34m",
    bold: "\x1b[1m",
    reset: "\x1b[0m",
};
const PLAIN: Palette = Palette {
    error: "",
    warning: "",
    note: "",
    blue: "",
    bold: "",
    reset: "",
};

fn render_human(
    out: &mut dyn Write,
    findings: &[Finding],
    summary: &Summary,
    color: bool,
) -> io::Result<()> {
    let p = if color { &COLOR } else { &PLAIN };
    for f in findings {
        let sev = match f.severity {
            Severity::Error => p.error,
            Severity::Warning => p.warning,
            Severity::Note => p.note,
        };
        writeln!(
            out,
            "{sev}{}[{}]{}{}: {}{}",
            f.severity, f.rule, p.reset, p.bold, f.message, p.reset
        )?;
        let gutter = " ".repeat(f.line.max(1).to_string().len());
        if f.line == 0 {
            writeln!(out, "{gutter}{}-->{} {}", p.blue, p.reset, f.path)?;
        } else {
            writeln!(
                out,
                "{gutter}{}-->{} {}:{}:{}",
                p.blue, p.reset, f.path, f.line, f.column
            )?;
        }
        if let (Some(src), true) = (&f.source_line, f.line > 0) {
            let src = src.trim_end_matches(['\r', '\n']);
            let line_len = src.chars().count() as u32;
            let start = f.column.max(1);
            let end = if f.end_line == f.line && f.end_column > start {
                f.end_column
            } else {
                line_len + 1
            };
            let width = end.saturating_sub(start).max(1) as usize;
            // Tabs in the prefix keep their width so the caret lands under the span.
            let pad: String = src
                .chars()
                .take(start as usize - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(out, "{gutter} {}|{}", p.blue, p.reset)?;
            writeln!(out, "{}{} |{} {src}", p.blue, f.line, p.reset)?;
            writeln!(
                out,
                "{gutter} {}|{} {pad}{sev}{}{}",
                p.blue,
                p.reset,
                "^".repeat(width),
                p.reset
            )?;
        }
        if !f.help.is_empty() {
            writeln!(
                out,
                "{gutter} {}={} {}help{}: {}",
                p.blue, p.reset, p.bold, p.reset, f.help
            )?;
        }
        writeln!(out)?;
    }
    let files = plural(summary.files, "file", "files");
    let baselined = baselined_suffix(summary);
    if findings.is_empty() {
        let new = if baselined.is_empty() { "" } else { "new " };
        writeln!(out, "no {new}findings in {files}{baselined}")
    } else {
        writeln!(
            out,
            "{}{}, {}, {} in {files}{baselined}{}",
            p.bold,
            plural(summary.errors, "error", "errors"),
            plural(summary.warnings, "warning", "warnings"),
            plural(summary.notes, "note", "notes"),
            p.reset
        )
    }
}

/// ` (N baselined)` when a baseline accepted findings, else nothing.
fn baselined_suffix(summary: &Summary) -> String {
    match summary.baselined {
        Some(n) if n > 0 => format!(" ({n} baselined)"),
        _ => String::new(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn render_github(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        let level = match f.severity {
            Severity::Error => AnnotationLevel::Error,
            Severity::Warning => AnnotationLevel::Warning,
            Severity::Note => AnnotationLevel::Notice,
        };
        let positioned = f.line > 0;
        let message = if f.help.is_empty() {
            f.message.clone()
        } else {
            format!("{}\nhelp: {}", f.message, f.help)
        };
        let annotation = Annotation {
            level,
            message,
            title: Some(format!("ship: {}", f.rule)),
            // A path like `github:org/repo` is not a file in the checkout; GitHub would drop
            // the annotation, so it goes in the message instead.
            file: positioned.then(|| f.path.clone()),
            line: positioned.then_some(f.line),
            end_line: (positioned && f.end_line >= f.line).then_some(f.end_line),
            col: positioned.then_some(f.column),
            end_col: (positioned && f.end_line == f.line && f.end_column > f.column)
                .then_some(f.end_column),
        };
        if positioned {
            writeln!(out, "{annotation}")?;
        } else {
            let annotation = Annotation {
                message: format!("{}: {}", f.path, annotation.message),
                ..annotation
            };
            writeln!(out, "{annotation}")?;
        }
    }
    Ok(())
}

/// A Markdown report for `$GITHUB_STEP_SUMMARY`: the counts, then a table of findings.
pub fn render_step_summary(title: &str, findings: &[Finding], summary: &Summary) -> String {
    let mut md = format!("### {title}\n\n");
    let baselined = baselined_suffix(summary);
    if findings.is_empty() {
        let new = if baselined.is_empty() { "" } else { "new " };
        md.push_str(&format!(
            "No {new}findings in {}{baselined}.\n",
            plural(summary.files, "file", "files")
        ));
        return md;
    }
    md.push_str(&format!(
        "{} · {} · {} in {}{baselined}\n\n",
        plural(summary.errors, "error", "errors"),
        plural(summary.warnings, "warning", "warnings"),
        plural(summary.notes, "note", "notes"),
        plural(summary.files, "file", "files")
    ));
    let mut table = MarkdownTable::new(&["Severity", "Rule", "Location", "Message"]);
    for f in findings {
        let location = if f.line > 0 {
            format!("`{}:{}:{}`", f.path, f.line, f.column)
        } else {
            format!("`{}`", f.path)
        };
        table.push_row(vec![
            f.severity.to_string(),
            format!("`{}`", f.rule),
            location,
            f.message.clone(),
        ]);
    }
    md.push_str(&table.render());
    md
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn sarif(findings: &[Finding], summary: &Summary, opts: &RenderOptions<'_>) -> Value {
    let rules: Vec<Value> = opts
        .rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.summary },
                "help": { "text": r.docs, "markdown": r.docs },
                "defaultConfiguration": { "level": sarif_level(r.default_severity) },
                "properties": { "tags": ["ship"] }
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut physical = json!({
                "artifactLocation": { "uri": f.path, "uriBaseId": "%SRCROOT%" }
            });
            if f.line > 0 {
                let mut region = json!({ "startLine": f.line, "startColumn": f.column.max(1) });
                if f.end_line >= f.line {
                    region["endLine"] = json!(f.end_line);
                    if f.end_column > 0 {
                        region["endColumn"] = json!(f.end_column);
                    }
                }
                physical["region"] = region;
            }
            let mut result = json!({
                "ruleId": f.rule,
                "level": sarif_level(f.severity),
                "message": { "text": if f.help.is_empty() { f.message.clone() } else { format!("{}\nhelp: {}", f.message, f.help) } },
                "locations": [ { "physicalLocation": physical } ]
            });
            if let Some(idx) = opts.rules.iter().position(|r| r.id == f.rule) {
                result["ruleIndex"] = json!(idx);
            }
            result
        })
        .collect();
    let mut run = json!({
        "tool": { "driver": {
            "name": opts.tool_name,
            "version": opts.tool_version,
            "semanticVersion": opts.tool_version,
            "informationUri": opts.information_uri,
            "rules": rules
        }},
        "originalUriBaseIds": { "%SRCROOT%": { "uri": "file:///" } },
        "results": results
    });
    // Baselined findings are not results (code scanning would show them as open alerts);
    // the run's property bag says how many there were.
    if let Some(n) = summary.baselined {
        run["properties"] = json!({ "baselined": n });
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(line: u32) -> Finding {
        Finding {
            rule: "unpinned-action".into(),
            severity: Severity::Error,
            path: ".github/workflows/ci.yml".into(),
            line,
            column: 15,
            end_line: line,
            end_column: 39,
            message: "action `actions/cache@v4` is not pinned to a commit SHA".into(),
            help: "pin it: `uses: actions/cache@<40-hex sha> # v4`".into(),
            source_line: Some("      - uses: actions/cache@v4".into()),
        }
    }

    const RULES: &[RuleInfo] = &[RuleInfo {
        id: "unpinned-action",
        summary: "third-party action not pinned",
        docs: "docs",
        default_severity: Severity::Error,
    }];

    fn opts(format: Format) -> RenderOptions<'static> {
        RenderOptions {
            format,
            color: false,
            tool_name: "ship",
            tool_version: "0.0.0",
            information_uri: "https://example.invalid",
            rules: RULES,
        }
    }

    fn rendered(format: Format, findings: &[Finding]) -> String {
        let mut buf = Vec::new();
        let summary = Summary::new(1, findings);
        render(&mut buf, findings, &summary, &opts(format)).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn human_points_a_caret_at_the_span() {
        insta::assert_snapshot!(rendered(Format::Human, &[finding(12)]));
    }

    #[test]
    fn human_without_position() {
        let mut f = finding(0);
        f.path = "github:org/repo".into();
        f.source_line = None;
        insta::assert_snapshot!(rendered(Format::Human, &[f]));
    }

    #[test]
    fn github_escapes_properties_and_data() {
        let mut f = finding(3);
        f.message = "a, b: 100%\nnext".into();
        insta::assert_snapshot!(rendered(Format::Github, &[f]));
    }

    #[test]
    fn sarif_has_rules_and_regions() {
        let out = rendered(Format::Sarif, &[finding(12), finding(0)]);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(
            v["runs"][0]["tool"]["driver"]["rules"][0]["id"],
            "unpinned-action"
        );
        assert_eq!(
            v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
            12
        );
        assert!(
            v["runs"][0]["results"][1]["locations"][0]["physicalLocation"]
                .get("region")
                .is_none()
        );
    }

    #[test]
    fn json_has_findings_and_summary() {
        let out = rendered(Format::Json, &[finding(12)]);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["summary"]["errors"], 1);
        assert_eq!(v["findings"][0]["line"], 12);
        assert!(v["findings"][0].get("source_line").is_none());
        // No baseline applied: no `baselined` field (not a misleading 0).
        assert!(v["summary"].get("baselined").is_none(), "{v}");
    }

    #[test]
    fn every_summary_says_how_many_were_baselined() {
        let render_with = |format, findings: &[Finding], baselined| {
            let mut summary = Summary::new(1, findings);
            summary.baselined = Some(baselined);
            let mut buf = Vec::new();
            render(&mut buf, findings, &summary, &opts(format)).unwrap();
            (String::from_utf8(buf).unwrap(), summary)
        };
        let (human, _) = render_with(Format::Human, &[], 40);
        assert_eq!(human, "no new findings in 1 file (40 baselined)\n");
        let (human, summary) = render_with(Format::Human, &[finding(3)], 40);
        assert!(
            human.ends_with("1 error, 0 warnings, 0 notes in 1 file (40 baselined)\n"),
            "{human}"
        );
        let md = render_step_summary("ship lint", &[finding(3)], &summary);
        assert!(md.contains("in 1 file (40 baselined)"), "{md}");
        let (json, _) = render_with(Format::Json, &[], 0);
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["summary"]["baselined"], 0);
        let (sarif, _) = render_with(Format::Sarif, &[], 7);
        let v: Value = serde_json::from_str(&sarif).unwrap();
        assert_eq!(v["runs"][0]["properties"]["baselined"], 7);
    }

    #[test]
    fn fail_on_thresholds() {
        let s = Summary {
            files: 1,
            errors: 0,
            warnings: 1,
            notes: 0,
            baselined: None,
        };
        assert!(!s.fails(Severity::Error));
        assert!(s.fails(Severity::Warning));
        assert!(s.fails(Severity::Note));
    }
}
