//! What starts a workflow, in words (`push: branches main`, `workflow_dispatch (inputs
//! version)`), for `ship deploys` and for the callers of reusable workflows.

use ship_workflow::Workflow;

/// One line per event.
pub fn describe(wf: &Workflow<'_>) -> Vec<String> {
    wf.triggers
        .iter()
        .map(|t| {
            let list = |name: &str| -> Option<String> {
                let items: Vec<&str> = t.patterns(name).iter().filter_map(|n| n.as_str()).collect();
                (!items.is_empty()).then(|| format!("{name} {}", items.join(", ")))
            };
            match t.event {
                "push" | "pull_request" | "pull_request_target" => {
                    let filters: Vec<String> = [
                        "branches",
                        "branches-ignore",
                        "tags",
                        "tags-ignore",
                        "paths",
                    ]
                    .iter()
                    .filter_map(|f| list(f))
                    .collect();
                    if filters.is_empty() {
                        t.event.to_string()
                    } else {
                        format!("{}: {}", t.event, filters.join("; "))
                    }
                }
                "workflow_dispatch" | "workflow_call" => {
                    let inputs: Vec<&str> = t.inputs().iter().map(|i| i.name).collect();
                    if inputs.is_empty() {
                        t.event.to_string()
                    } else {
                        format!("{} (inputs {})", t.event, inputs.join(", "))
                    }
                }
                _ => match list("types") {
                    Some(types) => format!("{}: {types}", t.event),
                    None => t.event.to_string(),
                },
            }
        })
        .collect()
}
