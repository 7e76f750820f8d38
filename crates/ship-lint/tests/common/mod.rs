//! What the rule test suites share.

use ship_findings::{render, Finding, Format, RenderOptions, RuleInfo, Summary};
use ship_lint::registry;

/// The findings of a run over `files` files as `ship lint` prints them to a terminal without
/// colour: what the snapshots hold and what a failing assertion shows.
pub fn human(findings: &[Finding], files: usize) -> String {
    let rules: Vec<RuleInfo> = registry().iter().map(|r| *r.info()).collect();
    let opts = RenderOptions {
        format: Format::Human,
        color: false,
        tool_name: "ship",
        tool_version: "test",
        information_uri: "https://github.com/org/ship",
        rules: &rules,
    };
    let mut out = Vec::new();
    render(&mut out, findings, &Summary::new(files, findings), &opts).expect("render to a Vec");
    String::from_utf8(out).expect("human output is UTF-8")
}
