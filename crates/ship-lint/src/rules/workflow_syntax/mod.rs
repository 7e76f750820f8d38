//! `workflow-syntax`: what GitHub refuses to run. The checks follow GitHub's own workflow
//! schema (see `ship_workflow::spec`), one section per file: [`events`] for `on:`, [`jobs`]
//! for jobs and `needs:`, [`steps`] for steps (the concurrent step syntax included),
//! [`sections`] for what workflows and jobs share (`permissions`, `env`, `concurrency`…),
//! [`shape`] for the type checks they all use.

mod events;
mod jobs;
mod sections;
mod shape;
mod steps;

use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;
use ship_workflow::spec::WORKFLOW_KEYS;
use ship_workflow::yaml::Style;
use ship_workflow::{Node, Span, Value};

declare_rule! {
    /// ## What it reports
    /// A file in `.github/workflows` that GitHub refuses to run, at the key or value at fault:
    ///
    /// - the file: not YAML, not UTF-8 text, larger than the policy's `limits.max-file-size`,
    ///   YAML that is not a workflow (no `on:` or no `jobs:`), a key written twice in one
    ///   mapping (GitHub compares keys ignoring case), a YAML merge key (`<<:`);
    /// - unknown or misplaced keys in the workflow, a job, a step or any section below them,
    ///   with the likely key when it is a typo (`runs_on` → `runs-on`);
    /// - events: an unknown event (`workflow-dispatch` → `workflow_dispatch`), a key no event
    ///   takes (`branch:` → `branches:`), an unknown activity type, both `branches` and
    ///   `branches-ignore`, a `schedule` that is not a list of `cron:` entries or a cron
    ///   GitHub cannot read, `workflow_dispatch`/`workflow_call` inputs with an unknown type,
    ///   a `choice` without `options`, a default that does not fit its type. (A filter that
    ///   only other events take, `branches` on `release`, is not reported: GitHub runs the
    ///   workflow and ignores it.)
    /// - jobs: an invalid job id, no `runs-on`, `steps:` or `runs-on:` in a job that calls a
    ///   reusable workflow (`uses:`), `with:`/`secrets:` in one that does not, `needs:` on an
    ///   unknown job or in a cycle, values of the wrong type (`timeout-minutes: "30"`,
    ///   `needs: {build: true}`, `runs-on: {os: linux}`);
    /// - `permissions`: an unknown scope or a level the scope does not take (`id-token: read`);
    /// - steps: neither or both of `run:` and `uses:`, `shell:`/`working-directory:` on a
    ///   `uses:` step, `with:` on a `run:` step, an invalid or repeated step id, and GitHub's
    ///   concurrent steps written wrong: `background:` in a `parallel:` group, a group in a
    ///   group, `wait:`/`cancel:` naming no earlier step, `wait-all: false`.
    ///
    /// GitHub's concurrent steps (`parallel:`, `background: true`, `wait:`, `wait-all:`,
    /// `cancel:`) are valid; the steps inside a `parallel:` group are linted like any other.
    ///
    /// ## Why
    /// GitHub refuses such a workflow when it is triggered, often silently: the deploy you
    /// expect never starts, and a pull request's checks never report. The other rules still
    /// lint every other file.
    ///
    /// ## How to fix
    /// Fix the key or value at the reported position; the help says how, and names the key
    /// or event meant when the finding is a typo. Values with `${{ }}` are checked by GitHub
    /// when the workflow runs, not here.
    ///
    /// ## Example
    /// ```yaml
    /// on: workflow-dispatch      # error: unknown event; did you mean `workflow_dispatch`?
    /// jobs:
    ///   deploy:
    ///     needs: [bulid]         # error: no job `bulid`; did you mean `build`?
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: org/ship/ecs-rollout@v1
    ///         shell: bash        # error: `shell:` only applies to `run:` steps
    /// ```
    pub struct WorkflowSyntax {
        id: "workflow-syntax",
        severity: Error,
        summary: "the file is not a valid GitHub Actions workflow",
    }
}
rule_impl!(WorkflowSyntax, workflow);

/// The allowed name within edit distance 2, if any.
pub(crate) fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// What `name` was probably meant to be: a candidate spelt the same but for case or `-`/`_`
/// (`SCHEDULE`, `workflow-dispatch`), else one within two edits. Names of three letters or
/// fewer only match on case and separators: any short word is two edits from another.
pub(super) fn suggest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let normal = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c == '-' {
                    '_'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    };
    let wanted = normal(name);
    if let Some(c) = candidates.iter().find(|c| normal(c) == wanted) {
        return Some(c);
    }
    if name.chars().count() <= 3 {
        return None;
    }
    closest(&wanted, candidates).filter(|c| *c != name)
}

/// `did you mean `x`? ` when there is a likely candidate, else nothing.
pub(super) fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    suggest(name, candidates)
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

impl WorkflowSyntax {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let root = cx.root;
        let Some(entries) = root.as_map() else {
            out.push(Diagnostic::new(
                root.span,
                "this YAML is not a workflow: the top level must be a mapping with `on:` and `jobs:`",
                "a workflow starts with `on:` (its triggers) and `jobs:`",
            ));
            return;
        };
        repeated_keys(root, out);
        let wf = cx.workflow;
        if wf.on.is_none() {
            out.push(Diagnostic::new(
                root.span,
                "workflow has no `on:`: GitHub never runs it",
                "add the triggers, e.g. `on: { pull_request: { branches: [main] } }`",
            ));
        }
        let Some(jobs) = wf.jobs_entry else {
            out.push(Diagnostic::new(
                root.span,
                "workflow has no `jobs:`",
                "add at least one job under `jobs:`",
            ));
            return;
        };
        shape::unknown_keys(root, WORKFLOW_KEYS, &|| "the workflow".into(), out);
        for e in entries {
            let value = &e.value;
            match e.key.as_str() {
                Some("name" | "run-name" | "description") => {
                    shape::scalar(value, e.key.as_str().unwrap_or(""), out)
                }
                Some("on") => events::check(value, out),
                Some("permissions") => sections::permissions(value, out),
                Some("env") => sections::env(value, out),
                Some("defaults") => sections::defaults(value, out),
                Some("concurrency") => sections::concurrency(value, e.key.span, false, out),
                _ => {}
            }
        }
        jobs::check(wf, &jobs.value, out);
    }
}

/// Keys written twice in one mapping (GitHub compares them ignoring case, and refuses the
/// workflow), and YAML merge keys, which GitHub does not expand: one walk over the whole
/// file. A mapping that an alias repeats is reported once, where it is written.
fn repeated_keys(root: &Node, out: &mut Vec<Diagnostic>) {
    let mut reported: Vec<Span> = Vec::new();
    root.walk(|node| {
        let Value::Map(entries) = &node.value else {
            return;
        };
        for e in entries {
            let Value::Scalar { text, style } = &e.key.value else {
                continue;
            };
            if text == "<<" && *style == Style::Plain {
                if !reported.contains(&e.key.span) {
                    reported.push(e.key.span);
                    out.push(Diagnostic::new(
                        e.key.span,
                        "GitHub Actions does not support YAML merge keys (`<<:`)",
                        "write the keys out, or repeat the whole mapping with an alias (`*name`)",
                    ));
                }
                continue;
            }
            // GitHub evaluates keys with expressions at run time; it does not compare them.
            let Some(first) = e.duplicate_of.filter(|_| !text.contains("${{")) else {
                continue;
            };
            if reported.contains(&e.key.span) {
                continue;
            }
            reported.push(e.key.span);
            let case = if node
                .as_map()
                .unwrap_or_default()
                .iter()
                .any(|o| o.key.span == first && o.key.as_str() == Some(text))
            {
                ""
            } else {
                " (keys are compared ignoring case)"
            };
            out.push(Diagnostic::new(
                e.key.span,
                format!(
                    "key `{text}` is written twice in this mapping{case}: it is first at line {}",
                    first.start.line
                ),
                "GitHub refuses a workflow with a repeated key; remove one, or merge the two",
            ));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn suggestions() {
        let events = ["workflow_dispatch", "schedule", "push", "pull_request"];
        assert_eq!(
            suggest("workflow-dispatch", &events),
            Some("workflow_dispatch")
        );
        assert_eq!(suggest("SCHEDULE", &events), Some("schedule"));
        assert_eq!(suggest("pull_reqest", &events), Some("pull_request"));
        assert_eq!(suggest("deploy", &events), None);
        // Short names only match on case and separators.
        assert_eq!(suggest("pus", &events), None);
        assert_eq!(suggest("runs_on", &["runs-on", "needs"]), Some("runs-on"));
    }
}
