//! Judging a response against a check's expectations. Each failed expectation becomes one
//! sentence that says what was expected and what came back.

use crate::spec::{CompiledAssertion, Expectations};
use crate::template::{render_json, value_text, Vars};
use serde_json::Value;
use std::time::Duration;

/// The parts of a response the expectations look at.
pub struct Response<'a> {
    pub status: u16,
    pub headers: &'a reqwest::header::HeaderMap,
    pub body: &'a [u8],
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<&'a Value>,
    /// When the body went on past the read limit (`body` is its start): the sentence saying
    /// so, naming the request and the limit. Expectations on the body are then not judged.
    pub over_limit: Option<&'a str>,
    pub latency: Duration,
}

/// Every expectation `response` breaks, as sentences; empty when it meets them all.
pub fn evaluate(expect: &Expectations, response: &Response<'_>, vars: &Vars) -> Vec<String> {
    let mut failures = Vec::new();
    if !expect.status.contains(response.status) {
        failures.push(format!(
            "status {}, expected {}{}",
            response.status,
            expect.status,
            excerpt_suffix(response.body)
        ));
        // The rest would only restate that this is the wrong response.
        return failures;
    }
    if let Some(max) = expect.max_latency {
        if response.latency > max {
            failures.push(format!(
                "took {}, more than the {} allowed",
                crate::format_duration(response.latency),
                crate::format_duration(max)
            ));
        }
    }
    if let Some(note) = response.over_limit {
        // Half a body would only produce misleading verdicts ("not JSON", "does not contain").
        if !expect.json.is_empty() || !expect.body_contains.is_empty() {
            failures.push(format!(
                "{note}, so its content was not checked; a smoke check should ask for a small answer (check the path)"
            ));
        }
    } else if !expect.json.is_empty() {
        match response.json {
            None => failures.push(format!(
                "the body is not JSON, so its fields cannot be checked{}",
                excerpt_suffix(response.body)
            )),
            Some(doc) => {
                for (path, assertion) in &expect.json {
                    let what = format!("`{path}`");
                    failures.extend(check_value(&what, path.lookup(doc), assertion, vars));
                }
            }
        }
    }
    for (name, assertion) in &expect.headers {
        let value = response
            .headers
            .get(name)
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()));
        failures.extend(check_value(
            &format!("header `{name}`"),
            value.as_ref(),
            assertion,
            vars,
        ));
    }
    if !expect.body_contains.is_empty() && response.over_limit.is_none() {
        let text = String::from_utf8_lossy(response.body);
        for t in &expect.body_contains {
            let needle = t.render(vars);
            if !text.contains(&needle) {
                failures.push(format!(
                    "the body does not contain `{needle}`{}",
                    excerpt_suffix(response.body)
                ));
            }
        }
    }
    failures
}

/// Checks one value (`None`: absent) against every condition of `a`.
fn check_value(
    what: &str,
    actual: Option<&Value>,
    a: &CompiledAssertion,
    vars: &Vars,
) -> Vec<String> {
    let mut failures = Vec::new();
    let present = actual.filter(|v| !v.is_null());
    if let Some(want) = a.exists {
        match (want, present) {
            (true, None) => failures.push(format!("{what} is missing, expected it to exist")),
            (false, Some(v)) => {
                failures.push(format!("{what} is {}, expected it to be absent", show(v)))
            }
            _ => {}
        }
    }
    let needs_value = a.equals.is_some()
        || a.matches.is_some()
        || a.contains.is_some()
        || a.gt.is_some()
        || a.gte.is_some()
        || a.lt.is_some()
        || a.lte.is_some();
    let Some(v) = actual else {
        if needs_value && a.exists != Some(true) {
            failures.push(format!("{what} is missing"));
        }
        return failures;
    };
    if let Some(expected) = &a.equals {
        let expected = render_json(expected, vars);
        if !loosely_equal(v, &expected) {
            failures.push(format!(
                "{what} is {}, expected {}",
                show(v),
                show(&expected)
            ));
        }
    }
    if let Some(re) = &a.matches {
        let text = value_text(v);
        if !re.is_match(&text) {
            failures.push(format!(
                "{what} is {}, which does not match /{}/",
                show(v),
                re.as_str()
            ));
        }
    }
    if let Some(t) = &a.contains {
        let needle = t.render(vars);
        let found = match v {
            Value::Array(items) => items.iter().any(|i| value_text(i) == needle),
            other => value_text(other).contains(&needle),
        };
        if !found {
            failures.push(format!(
                "{what} is {}, which does not contain `{needle}`",
                show(v)
            ));
        }
    }
    let bounds = [
        (a.gt, ">", (|x, b| x > b) as fn(f64, f64) -> bool),
        (a.gte, ">=", |x, b| x >= b),
        (a.lt, "<", |x, b| x < b),
        (a.lte, "<=", |x, b| x <= b),
    ];
    if bounds.iter().any(|(b, _, _)| b.is_some()) {
        match as_number(v) {
            None => failures.push(format!("{what} is {}, expected a number", show(v))),
            Some(x) => {
                for (bound, op, holds) in bounds {
                    if let Some(b) = bound {
                        if !holds(x, b) {
                            failures.push(format!("{what} is {}, expected {op} {b}", show(v)));
                        }
                    }
                }
            }
        }
    }
    failures
}

/// JSON equality, except that numbers compare by value (`1` = `1.0`) and a string compares
/// with a number or boolean by its text (`"42"` = `42`): YAML and JSON APIs disagree about
/// quoting often enough that the stricter rule would only produce noise.
fn loosely_equal(actual: &Value, expected: &Value) -> bool {
    if actual == expected {
        return true;
    }
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(s), other @ (Value::Number(_) | Value::Bool(_)))
        | (other @ (Value::Number(_) | Value::Bool(_)), Value::String(s)) => {
            let text = other.to_string();
            *s == text
        }
        _ => false,
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// A value for a message: JSON, cut short.
fn show(v: &Value) -> String {
    shorten(&v.to_string(), 120)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// `: <the first 200 characters of the body on one line>`, or nothing for an empty body.
/// An HTML error page (a load balancer's 502, a framework's 404) is shown as its text, without
/// the markup.
pub fn excerpt_suffix(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = if text.trim_start().starts_with('<') {
        strip_tags(&text)
    } else {
        text.into_owned()
    };
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        String::new()
    } else {
        format!(" (body: {})", shorten(&one_line, 200))
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_path::JsonPath;
    use crate::status::StatusSet;
    use crate::template::Template;
    use serde_json::json;

    fn expectations() -> Expectations {
        Expectations {
            status: StatusSet::success(),
            max_latency: Some(Duration::from_millis(100)),
            json: vec![
                (
                    JsonPath::parse("status").unwrap(),
                    CompiledAssertion {
                        equals: Some(json!("placed")),
                        ..Default::default()
                    },
                ),
                (
                    JsonPath::parse("total").unwrap(),
                    CompiledAssertion {
                        gt: Some(0.0),
                        lte: Some(100.0),
                        ..Default::default()
                    },
                ),
                (
                    JsonPath::parse("id").unwrap(),
                    CompiledAssertion {
                        exists: Some(true),
                        matches: Some(regex::Regex::new("^o-").unwrap()),
                        ..Default::default()
                    },
                ),
                (
                    JsonPath::parse("tags").unwrap(),
                    CompiledAssertion {
                        contains: Some(Template::parse("{{tenant}}").unwrap()),
                        ..Default::default()
                    },
                ),
            ],
            headers: Vec::new(),
            body_contains: vec![Template::parse("o-{{n}}").unwrap()],
        }
    }

    fn run(status: u16, body: Value, latency_ms: u64) -> Vec<String> {
        let bytes = body.to_string().into_bytes();
        let headers = reqwest::header::HeaderMap::new();
        let mut vars = Vars::new();
        vars.insert("tenant".into(), json!("t1"));
        vars.insert("n".into(), json!(7));
        evaluate(
            &expectations(),
            &Response {
                status,
                headers: &headers,
                body: &bytes,
                json: Some(&body),
                over_limit: None,
                latency: Duration::from_millis(latency_ms),
            },
            &vars,
        )
    }

    #[test]
    fn passing_response_has_no_failures() {
        let f = run(
            201,
            json!({"status": "placed", "total": "12.5", "id": "o-7", "tags": ["t1"]}),
            5,
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn each_broken_expectation_is_a_sentence() {
        let f = run(
            200,
            json!({"status": "pending", "total": 0, "tags": ["x"]}),
            250,
        );
        assert_eq!(
            f,
            [
                "took 250ms, more than the 100ms allowed",
                "`status` is \"pending\", expected \"placed\"",
                "`total` is 0, expected > 0",
                "`id` is missing, expected it to exist",
                "`tags` is [\"x\"], which does not contain `t1`",
                "the body does not contain `o-7` (body: {\"status\":\"pending\",\"tags\":[\"x\"],\"total\":0})",
            ]
        );
        assert_eq!(
            excerpt_suffix(b"<html><head><title>502 Bad Gateway</title></head><body>\n<h1>502</h1></body></html>"),
            " (body: 502 Bad Gateway 502)"
        );
        let f = run(503, json!({"error": "db down"}), 1);
        assert_eq!(
            f,
            ["status 503, expected 2xx (body: {\"error\":\"db down\"})"]
        );
    }
}
