use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;
use ship_workflow::workflow::{JOB_KEYS, STEP_KEYS, WORKFLOW_KEYS};
use ship_workflow::{Entry, Node};

declare_rule! {
    /// ## What it reports
    /// A file in `.github/workflows` that GitHub cannot run: not YAML, not UTF-8 text, larger
    /// than the policy's `limits.max-file-size`, YAML that is not a workflow (no `on:` or no
    /// `jobs:`), an unknown key at the top of the workflow, in a job or in a step, a job
    /// without `runs-on`/`uses`/`steps`, or a `needs:` naming a job that does not exist.
    ///
    /// ## Why
    /// GitHub refuses such a workflow when it is triggered, often silently: the deploy you
    /// expect never starts. The other rules still lint every other file.
    ///
    /// ## How to fix
    /// Fix the key or the YAML at the reported position. Unknown keys are usually typos
    /// (`need:` for `needs:`, `runs_on:` for `runs-on:`).
    ///
    /// ## Example
    /// ```yaml
    /// jobs:
    ///   deploy:
    ///     needs: [bulid]   # error: no job `bulid`; did you mean `build`?
    /// ```
    pub struct WorkflowSyntax {
        id: "workflow-syntax",
        severity: Error,
        summary: "the file is not a valid GitHub Actions workflow",
    }
}
rule_impl!(WorkflowSyntax, workflow);

fn unknown_keys(node: &Node, allowed: &[&str], what: &str, out: &mut Vec<Diagnostic>) {
    let Some(entries) = node.as_map() else { return };
    for Entry { key, .. } in entries {
        let Some(name) = key.as_str() else { continue };
        if !allowed.contains(&name) {
            let hint = closest(name, allowed)
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            out.push(Diagnostic::new(
                key.span,
                format!("unknown key `{name}` in {what}"),
                format!("{hint}allowed keys: {}", allowed.join(", ")),
            ));
        }
    }
}

/// The allowed name within edit distance 2, if any.
pub(crate) fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
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
        if root.as_map().is_none() {
            out.push(Diagnostic::new(
                root.span,
                "this YAML is not a workflow: the top level must be a mapping with `on:` and `jobs:`",
                "a workflow starts with `on:` (its triggers) and `jobs:`",
            ));
            return;
        }
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
        unknown_keys(root, WORKFLOW_KEYS, "the workflow", out);
        if jobs.value.as_map().is_none() {
            out.push(Diagnostic::new(
                jobs.value.span,
                "`jobs:` must be a mapping of job ids to jobs",
                "write each job as `<job-id>:` with `runs-on:` and `steps:` below it",
            ));
            return;
        }
        let ids: Vec<&str> = wf.jobs.iter().map(|j| j.id).collect();
        for job in &wf.jobs {
            if job.node.as_map().is_none() {
                out.push(Diagnostic::new(
                    job.key.span,
                    format!("job `{}` is not a mapping", job.id),
                    "give the job `runs-on:` and `steps:`, or `uses:` for a reusable workflow",
                ));
                continue;
            }
            unknown_keys(job.node, JOB_KEYS, &format!("job `{}`", job.id), out);
            if job.node.get("uses").is_none() && job.node.get("steps").is_none() {
                out.push(Diagnostic::new(
                    job.key.span,
                    format!("job `{}` has neither `steps:` nor `uses:`", job.id),
                    "add `runs-on:` and `steps:`, or `uses:` to call a reusable workflow",
                ));
            } else if job.node.get("uses").is_none() && job.node.get("runs-on").is_none() {
                // A misspelt `runs-on` was reported above, with the fix.
                let misspelt = job.node.as_map().unwrap_or_default().iter().any(|e| {
                    e.key.as_str().is_some_and(|k| {
                        !JOB_KEYS.contains(&k) && closest(k, JOB_KEYS) == Some("runs-on")
                    })
                });
                if !misspelt {
                    out.push(Diagnostic::new(
                        job.key.span,
                        format!("job `{}` has no `runs-on:`", job.id),
                        "add `runs-on: ubuntu-latest` (or the label of the runner it needs); `container:` picks an image, not a machine",
                    ));
                }
            }
            for need in &job.needs {
                let Some(name) = need.as_str() else { continue };
                if !ids.contains(&name) {
                    let hint = closest(name, &ids)
                        .map(|c| format!("did you mean `{c}`? "))
                        .unwrap_or_default();
                    out.push(Diagnostic::new(
                        need.span,
                        format!(
                            "job `{}` needs `{name}`, which is not a job in this workflow",
                            job.id
                        ),
                        format!("{hint}jobs here: {}", ids.join(", ")),
                    ));
                } else if name == job.id {
                    out.push(Diagnostic::new(
                        need.span,
                        format!("job `{}` needs itself", job.id),
                        "remove it from its own `needs:`",
                    ));
                }
            }
            if let Some(steps) = job.node.get("steps") {
                match steps.as_seq() {
                    None => out.push(Diagnostic::new(
                        steps.span,
                        format!("`steps:` of job `{}` must be a list", job.id),
                        "write each step as a list item starting with `- `",
                    )),
                    Some(items) => {
                        for step in items {
                            if step.as_map().is_none() {
                                out.push(Diagnostic::new(
                                    step.span,
                                    "a step must be a mapping with `run:` or `uses:`",
                                    "write `- run: …` or `- uses: owner/repo@ref`",
                                ));
                                continue;
                            }
                            unknown_keys(step, STEP_KEYS, "a step", out);
                            if step.get("run").is_some() == step.get("uses").is_some() {
                                out.push(Diagnostic::new(
                                    step.span,
                                    "a step needs exactly one of `run:` or `uses:`",
                                    "split it into two steps, or add the missing key",
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
}
