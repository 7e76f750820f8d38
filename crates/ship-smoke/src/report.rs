//! The verdict and how it is shown: JSON (the `report` output), JUnit XML for test
//! reporters, a Markdown step summary, and plain text for a terminal.

use crate::run::{CheckOutcome, CheckResult, WaitOutcome};
use crate::spec::Plan;
use crate::watch::WatchReport;
use crate::{format_duration, format_percent};
use serde::Serialize;
use std::fmt::Write as _;
use std::time::Duration;

/// Everything a smoke test found, and the one answer the workflow needs.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub passed: bool,
    /// The release should be rolled back: it never passed, serves the wrong version, or broke
    /// a watch threshold.
    pub rollback_recommended: bool,
    /// Names of the failed checks (`version` and `watch` included).
    pub failed_checks: Vec<String>,
    /// One sentence with the verdict.
    pub summary: String,
    pub base_url: String,
    pub expected_version: Option<String>,
    pub served_version: Option<String>,
    /// Runs of the whole sequence until it passed (or time ran out).
    pub attempts: u32,
    #[serde(serialize_with = "crate::serialize_millis_plain")]
    pub waited: Duration,
    /// The last run of the checks.
    pub checks: Vec<CheckOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watch: Option<WatchReport>,
}

/// The pseudo-check a watch failure is reported as.
pub const WATCH_CHECK: &str = "watch";

impl Report {
    pub fn new(plan: &Plan, wait: &WaitOutcome, watch: Option<WatchReport>) -> Report {
        let last = &wait.last;
        let mut failed_checks = last.failed_checks();
        let checks_passed = last.passed();
        let watch_failed = watch.as_ref().is_some_and(|w| !w.passed);
        if watch_failed {
            failed_checks.push(WATCH_CHECK.into());
        }
        let passed = checks_passed && !watch_failed;
        let waited = format_duration(wait.elapsed);
        let summary = if !checks_passed {
            let tries = if wait.attempts == 1 {
                "on the only attempt".to_string()
            } else {
                format!("on each of {} attempts over {waited}", wait.attempts)
            };
            format!(
                "failed {tries}; last failure: {}",
                last.first_failure().unwrap_or_default()
            )
        } else {
            let ran = last
                .checks
                .iter()
                .filter(|c| c.result == CheckResult::Passed)
                .count();
            let mut s = String::new();
            if let Some(v) = &last.served_version {
                let _ = write!(s, "`{v}` is serving; ");
            }
            let _ = write!(s, "{ran} check{} passed", if ran == 1 { "" } else { "s" });
            if wait.attempts > 1 {
                let _ = write!(s, " on attempt {} after {waited}", wait.attempts);
            }
            if let Some(w) = &watch {
                let _ = write!(
                    s,
                    "; watched {}: {} requests, {} errors, p95 {}",
                    format_duration(w.watched),
                    w.requests,
                    format_percent(w.error_rate),
                    w.p95.map(format_duration).unwrap_or_else(|| "n/a".into())
                );
                if let Some(b) = &w.breach {
                    let _ = write!(s, "; watch failed: {b}");
                }
            }
            format!("{}: {s}", if passed { "passed" } else { "failed" })
        };
        Report {
            passed,
            rollback_recommended: !passed,
            failed_checks,
            summary,
            base_url: plan.base_url.clone(),
            expected_version: plan.expected_version.clone(),
            served_version: last.served_version.clone(),
            attempts: wait.attempts,
            waited: wait.elapsed,
            checks: last.checks.clone(),
            watch,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// JUnit XML: one test case per check, plus `watch` when watching.
    pub fn junit(&self) -> String {
        let mut cases = String::new();
        let (mut tests, mut failures, mut skipped) = (0, 0, 0);
        let mut total = Duration::ZERO;
        for c in &self.checks {
            tests += 1;
            let time = c.latency.unwrap_or_default();
            total += time;
            let _ = write!(
                cases,
                "    <testcase classname=\"ship-smoke-test\" name=\"{}\" time=\"{:.3}\"",
                xml(&c.name),
                time.as_secs_f64()
            );
            match c.result {
                CheckResult::Passed => cases.push_str("/>\n"),
                CheckResult::Skipped => {
                    skipped += 1;
                    cases.push_str(
                        ">\n      <skipped message=\"not run: an earlier check failed\"/>\n    </testcase>\n",
                    );
                }
                CheckResult::Failed => {
                    failures += 1;
                    let _ = write!(
                        cases,
                        ">\n      <failure type=\"check\" message=\"{}\">{}\n{}</failure>\n    </testcase>\n",
                        xml(c.failures.first().map(String::as_str).unwrap_or("failed")),
                        xml(&c.request),
                        xml(&c.failures.join("\n"))
                    );
                }
            }
        }
        if let Some(w) = &self.watch {
            tests += 1;
            total += w.watched;
            let _ = write!(
                cases,
                "    <testcase classname=\"ship-smoke-test\" name=\"{WATCH_CHECK}\" time=\"{:.3}\"",
                w.watched.as_secs_f64()
            );
            match &w.breach {
                None => cases.push_str("/>\n"),
                Some(b) => {
                    failures += 1;
                    let _ = write!(
                        cases,
                        ">\n      <failure type=\"watch\" message=\"{}\">{} requests, {} errors</failure>\n    </testcase>\n",
                        xml(b),
                        w.requests,
                        w.errors
                    );
                }
            }
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ship-smoke-test\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{t:.3}\">\n  <testsuite name=\"smoke test {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{t:.3}\">\n{cases}  </testsuite>\n</testsuites>\n",
            xml(&self.base_url),
            t = total.as_secs_f64()
        )
    }

    /// The step summary: verdict, a table of checks, and the watch's per-minute table.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### {} Smoke test {}\n",
            if self.passed { "✅" } else { "❌" },
            if self.passed {
                "passed".to_string()
            } else {
                "failed: rollback recommended".to_string()
            }
        );
        let _ = writeln!(out, "{}\n", markdown_text(&self.summary));
        let mut table = Table::new(&["Check", "Request", "Status", "Latency", "Result"]);
        for c in &self.checks {
            table.row(vec![
                markdown_text(&c.name),
                format!("`{}`", c.request.replace('`', "'")),
                c.status.map(|s| s.to_string()).unwrap_or_default(),
                c.latency.map(format_duration).unwrap_or_default(),
                match c.result {
                    CheckResult::Passed => "✅ passed".into(),
                    CheckResult::Skipped => "⏭️ not run".into(),
                    CheckResult::Failed => format!("❌ {}", markdown_text(&c.failures.join("; "))),
                },
            ]);
        }
        out.push_str(&table.markdown());
        if let Some(w) = &self.watch {
            let _ = writeln!(out, "\n{}\n", markdown_text(&watch_heading(w)));
            out.push_str(&minute_table(w).markdown());
            if !w.top_errors.is_empty() {
                let _ = writeln!(out, "\nMost frequent failures:\n");
                for (reason, n) in &w.top_errors {
                    let _ = writeln!(out, "- {n} × {}", markdown_text(&reason.replace('\n', " ")));
                }
            }
        }
        out
    }

    /// Plain text for a terminal or a log.
    pub fn human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "smoke test {}{}",
            if self.passed { "PASSED" } else { "FAILED" },
            if self.rollback_recommended {
                " (rollback recommended)"
            } else {
                ""
            }
        );
        let _ = writeln!(out, "{}", self.summary);
        let mut table = Table::new(&["", "check", "request", "status", "latency", "detail"]);
        for c in &self.checks {
            table.row(vec![
                match c.result {
                    CheckResult::Passed => "ok".into(),
                    CheckResult::Failed => "FAIL".into(),
                    CheckResult::Skipped => "skip".into(),
                },
                c.name.clone(),
                c.request.clone(),
                c.status.map(|s| s.to_string()).unwrap_or_default(),
                c.latency.map(format_duration).unwrap_or_default(),
                c.failures.join("; "),
            ]);
        }
        out.push_str(&table.text());
        if let Some(w) = &self.watch {
            let _ = writeln!(out, "\n{}", watch_heading(w).replace("**", ""));
            out.push_str(&minute_table(w).text());
        }
        out
    }
}

fn watch_heading(w: &WatchReport) -> String {
    let verdict = match &w.breach {
        None => "passed".to_string(),
        Some(b) => format!("failed: {b}"),
    };
    let mut limits = format!("errors ≤ {}", format_percent(w.max_error_rate));
    if let Some(p) = w.max_p95 {
        let _ = write!(limits, ", p95 ≤ {}", format_duration(p));
    }
    format!(
        "**Watch {verdict}.** {} of {} at {} req/s on {} (rolling window {}; limits: {limits}); {} requests, {} errors ({}), p95 {}{}",
        format_duration(w.watched),
        format_duration(w.planned),
        w.rps,
        w.checks.join(", "),
        format_duration(w.window),
        w.requests,
        w.errors,
        format_percent(w.error_rate),
        w.p95.map(format_duration).unwrap_or_else(|| "n/a".into()),
        if w.skipped > 0 {
            format!("; {} requests not sent because too many were still waiting", w.skipped)
        } else {
            String::new()
        }
    )
}

fn minute_table(w: &WatchReport) -> Table {
    let mut t = Table::new(&[
        "Minute",
        "Requests",
        "Errors",
        "Error rate",
        "p50",
        "p95",
        "Max",
    ]);
    let d = |d: Option<Duration>| d.map(format_duration).unwrap_or_default();
    for m in &w.minutes {
        t.row(vec![
            m.minute.to_string(),
            m.requests.to_string(),
            m.errors.to_string(),
            format_percent(m.error_rate),
            d(m.p50),
            d(m.p95),
            d(m.max),
        ]);
    }
    t
}

/// Rows of cells, shown as a Markdown table or aligned text.
struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn markdown(&self) -> String {
        let headers: Vec<&str> = self.headers.iter().map(String::as_str).collect();
        let mut t = ship_actions_runtime::MarkdownTable::new(&headers);
        for r in &self.rows {
            t.push_row(r.clone());
        }
        t.render()
    }

    fn text(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(widths.len().saturating_sub(1)) {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        for r in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                if i + 1 == r.len() {
                    line.push_str(c);
                } else {
                    let _ = write!(line, "{c:<w$}  ", w = widths[i]);
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out
    }
}

/// Text that GitHub must show as text: a response excerpt with `<h1>` in it would otherwise be
/// rendered (or dropped) as HTML.
fn markdown_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text escaped for XML attributes and content; characters XML 1.0 cannot hold are dropped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escaping() {
        assert_eq!(xml("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
