//! Attacker text handed to one of the repository's composite actions, which pastes that
//! input into a script. The action's own file cannot tell (its inputs are whatever its users
//! pass), so the finding is on the `with:` value of the step that passes it; the action is
//! read only then, once per check.

use super::{sinks_of, Language};
use crate::context::WorkflowContext;
use ship_workflow::expr::flow::flow;
use ship_workflow::expr::{expressions, parse, Flow, Kinds};
use ship_workflow::yaml::{self, Limits};
use ship_workflow::Source;
use std::collections::HashMap;

/// Where a composite action interpolates one of its inputs into code.
#[derive(Debug, Clone)]
pub struct InputSink {
    /// The input's name, lowercased.
    pub input: String,
    pub line: u32,
    /// "a `run:` script".
    pub what: String,
    pub language: Language,
}

/// A composite action's path and its input sinks.
#[derive(Debug, Clone, Default)]
pub struct ActionSinks {
    pub path: String,
    pub sinks: Vec<InputSink>,
}

/// Composite actions read so far, by their path.
#[derive(Default)]
pub struct LocalActions {
    read: HashMap<String, Option<ActionSinks>>,
}

impl LocalActions {
    /// The input sinks of the composite action at `path` (as the repository shows it).
    pub fn sinks(&mut self, cx: &WorkflowContext<'_>, path: &str) -> Option<&ActionSinks> {
        if !self.read.contains_key(path) {
            let found = read(cx, path);
            self.read.insert(path.to_string(), found);
        }
        self.read.get(path).and_then(|a| a.as_ref())
    }
}

fn read(cx: &WorkflowContext<'_>, path: &str) -> Option<ActionSinks> {
    let (file, _) = cx
        .repo
        .action_files
        .iter()
        .find(|(_, shown)| shown == path)?;
    if std::fs::metadata(file).ok()?.len() > cx.policy.max_file_size {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let root = yaml::parse(&text, Limits::default()).ok()??;
    let wf = ship_workflow::action::workflow_of_action(&root)?;
    let source = Source::new(&text);
    let mut sinks = Vec::new();
    for job in &wf.jobs {
        for step in &job.steps {
            for sink in sinks_of(step) {
                let Some(script) = sink.node.as_str() else {
                    continue;
                };
                if !script.contains("inputs") {
                    continue;
                }
                let spans = ship_workflow::expr::spans_in(&source, sink.node.span);
                for (i, e) in expressions(script).iter().enumerate() {
                    let line = spans
                        .get(i)
                        .map_or(sink.node.span.start.line, |s| s.start.line);
                    for input in inputs_reaching(e.inner, step.env) {
                        if !sinks.iter().any(|s: &InputSink| s.input == input) {
                            sinks.push(InputSink {
                                input,
                                line,
                                what: sink.what.clone(),
                                language: sink.language,
                            });
                        }
                    }
                }
            }
        }
    }
    Some(ActionSinks {
        path: path.to_string(),
        sinks,
    })
}

/// The inputs whose text reaches the value of `${{ inner }}`: `inputs.NAME` directly, or
/// through an `env.X` of the step set from it.
fn inputs_reaching(inner: &str, step_env: Option<&ship_workflow::Node>) -> Vec<String> {
    let Ok(expr) = parse(inner) else {
        return Vec::new();
    };
    let mut classify = |path: &str| -> Flow<String> {
        let lower = path.to_ascii_lowercase();
        if let Some(name) = lower.strip_prefix("inputs.") {
            return Flow::from(Kinds::STRING, name.to_string());
        }
        if let Some(name) = lower.strip_prefix("env.") {
            let value = step_env
                .and_then(|env| env.as_map())
                .and_then(|entries| {
                    entries
                        .iter()
                        .find(|e| e.key.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
                })
                .and_then(|e| e.value.as_str());
            let mut out = Flow::clean(Kinds::ANY);
            for e in expressions(value.unwrap_or("")) {
                if let Ok(x) = parse(e.inner) {
                    let mut direct = |p: &str| -> Flow<String> {
                        match p.to_ascii_lowercase().strip_prefix("inputs.") {
                            Some(n) => Flow::from(Kinds::STRING, n.to_string()),
                            None => Flow::clean(Kinds::ANY),
                        }
                    };
                    let f = flow(&x, &mut direct);
                    if f.carries_text() {
                        out.sources.extend(f.sources);
                    }
                }
            }
            return out;
        }
        Flow::clean(Kinds::ANY)
    };
    let f = flow(&expr, &mut classify);
    if f.carries_text() {
        f.sources
    } else {
        Vec::new()
    }
}
