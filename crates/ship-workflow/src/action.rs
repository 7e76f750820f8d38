//! A composite action (`action.yml`) seen as a workflow with one job, whose steps are the
//! action's `runs.steps`: the rules that read steps (pinning, secrets, injection, what a
//! step deploys) then read actions the same way they read workflows.

use crate::workflow::{steps_of, Job, Workflow};
use crate::yaml::Node;

/// The workflow view of a composite action, or `None` when the file is not one (a Docker or
/// JavaScript action has no steps to read).
pub fn workflow_of_action(root: &Node) -> Option<Workflow<'_>> {
    let runs_entry = root.entry("runs")?;
    let runs = &runs_entry.value;
    let using = runs.get("using").and_then(|u| u.as_str()).unwrap_or("");
    if !using.eq_ignore_ascii_case("composite") {
        return None;
    }
    // Composite actions take no concurrent steps (GitHub refuses `parallel:` and `background:`
    // in an action), but reading them as a job's does no harm.
    let steps = runs.get("steps").map(steps_of).unwrap_or_default();
    let job = Job {
        id: "runs",
        key: &runs_entry.key,
        node: runs,
        name: root.get("name"),
        needs: Vec::new(),
        environment: None,
        environment_entry: None,
        permissions: None,
        concurrency: None,
        env: None,
        uses: None,
        with: None,
        steps,
    };
    Some(Workflow {
        root,
        name: root.get("name"),
        on: None,
        triggers: Vec::new(),
        permissions: None,
        env: None,
        concurrency: None,
        jobs_entry: None,
        jobs: vec![job],
    })
}
