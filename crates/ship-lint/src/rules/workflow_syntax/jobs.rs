//! `jobs:`: job ids, the two kinds of job (on a runner, or calling a reusable workflow), their
//! sections, and `needs:` (unknown jobs, cycles).

use super::{did_you_mean, sections, shape, steps, suggest};
use crate::context::Diagnostic;
use ship_workflow::spec::{
    self, CALLER_JOB_KEYS, CONTAINER_KEYS, CREDENTIALS_KEYS, ENVIRONMENT_KEYS, JOB_KEYS,
    RUNNER_JOB_KEYS, RUNS_ON_KEYS, SERVICE_KEYS, SNAPSHOT_KEYS, STRATEGY_KEYS,
};
use ship_workflow::{Job, Node, Span, Value, Workflow};

pub(super) fn check(wf: &Workflow<'_>, jobs: &Node, out: &mut Vec<Diagnostic>) {
    let Some(entries) = jobs.as_map() else {
        out.push(Diagnostic::new(
            jobs.span,
            "`jobs:` must be a mapping of job ids to jobs",
            "write each job as `<job-id>:` with `runs-on:` and `steps:` below it",
        ));
        return;
    };
    if entries.is_empty() {
        out.push(Diagnostic::new(
            jobs.span,
            "`jobs:` has no job",
            "add a job: `<job-id>:` with `runs-on:` and `steps:` below it",
        ));
        return;
    }
    for e in entries {
        let Some(id) = e.key.as_str() else { continue };
        if id != "<<" && (!spec::is_valid_id(id) || id.starts_with("__")) {
            out.push(Diagnostic::new(
                e.key.span,
                format!("`{id}` is not a valid job id"),
                "a job id starts with a letter or `_` (not `__`) and has only letters, digits, `-` and `_`; put a display name in `name:`",
            ));
        }
    }
    let ids: Vec<&str> = wf.jobs.iter().map(|j| j.id).collect();
    // A merge key is reported once as such, not as a job.
    for job in wf.jobs.iter().filter(|j| j.id != "<<") {
        if job.node.as_map().is_none() {
            out.push(Diagnostic::new(
                job.key.span,
                format!("job `{}` is not a mapping", job.id),
                "give the job `runs-on:` and `steps:`, or `uses:` for a reusable workflow",
            ));
            continue;
        }
        if job.uses.is_some() {
            caller_job(job, out);
        } else {
            runner_job(job, out);
        }
        common(job, out);
        needs(job, &ids, out);
    }
    cycles(wf, out);
}

/// What both kinds of job have.
fn common(job: &Job<'_>, out: &mut Vec<Diagnostic>) {
    for e in job.node.as_map().unwrap_or_default() {
        let v = &e.value;
        match e.key.as_str() {
            Some("name") => shape::scalar(v, "name", out),
            Some("if") => shape::scalar(v, "if", out),
            Some("permissions") => sections::permissions(v, out),
            Some("concurrency") => sections::concurrency(v, e.key.span, true, out),
            Some("strategy") => strategy(v, out),
            _ => {}
        }
    }
}

/// A job that calls a reusable workflow: `uses:`, `with:`, `secrets:` and the common keys.
fn caller_job(job: &Job<'_>, out: &mut Vec<Diagnostic>) {
    for e in job.node.as_map().unwrap_or_default() {
        let Some(key) = e.key.as_str() else { continue };
        if CALLER_JOB_KEYS.contains(&key) || key == "<<" || key.contains("${{") {
            continue;
        }
        if RUNNER_JOB_KEYS.contains(&key) {
            out.push(Diagnostic::new(
                e.key.span,
                format!(
                    "`{key}:` cannot be used in job `{}`, which calls a reusable workflow with `uses:`",
                    job.id
                ),
                format!(
                    "the called workflow's jobs set their own `{key}:`; remove it here, or make this a job with `runs-on:` and `steps:` of its own. A calling job may have: {}",
                    CALLER_JOB_KEYS.join(", ")
                ),
            ));
        } else {
            out.push(unknown_job_key(job, key, e.key.span));
        }
    }
    if let Some(uses) = job.uses {
        workflow_ref(uses, out);
    }
    if let Some(with) = job.node.get("with") {
        shape::values(with, "with", out);
    }
    if let Some(secrets) = job.node.get("secrets") {
        if secrets.as_str() != Some("inherit") {
            shape::values(secrets, "secrets", out);
        }
    }
}

fn unknown_job_key(job: &Job<'_>, key: &str, span: ship_workflow::Span) -> Diagnostic {
    Diagnostic::new(
        span,
        format!("unknown key `{key}` in job `{}`", job.id),
        format!(
            "{}allowed keys: {}",
            did_you_mean(key, JOB_KEYS),
            JOB_KEYS.join(", ")
        ),
    )
}

/// `jobs.<id>.uses`: `./.github/workflows/x.yml` or `owner/repo/.github/workflows/x.yml@ref`.
fn workflow_ref(uses: &Node, out: &mut Vec<Diagnostic>) {
    let Some(text) = uses.as_str() else {
        return shape::scalar(uses, "uses", out);
    };
    // GitHub refuses an expression here too, but what it would name cannot be checked.
    if shape::is_expr(uses) {
        return;
    }
    let local = text.starts_with("./") || text.starts_with("$/");
    let problem = if text.trim().is_empty() {
        Some("`uses:` is empty".to_string())
    } else if local && text.contains('@') {
        Some(format!(
            "`{text}` is in this repository: it cannot name a ref after `@`"
        ))
    } else if !local && !text.contains('@') {
        Some(format!("`{text}` has no `@ref`"))
    } else if !local && {
        let mut parts = text.split('@').next().unwrap_or("").split('/');
        let (owner, repo) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        owner.is_empty() || repo.is_empty() || parts.next().is_none_or(str::is_empty)
    } {
        Some(format!("`{text}` names no workflow file"))
    } else {
        None
    };
    if let Some(message) = problem {
        out.push(Diagnostic::new(
            uses.span,
            message,
            "call a reusable workflow as `./.github/workflows/x.yml` (this repository, at the same commit) or `owner/repo/.github/workflows/x.yml@ref`",
        ));
    }
}

/// A job with `runs-on:` and `steps:`.
fn runner_job(job: &Job<'_>, out: &mut Vec<Diagnostic>) {
    let entries = job.node.as_map().unwrap_or_default();
    for e in entries {
        let Some(key) = e.key.as_str() else { continue };
        // A merge key is reported once, as such.
        if RUNNER_JOB_KEYS.contains(&key) || key == "<<" || key.contains("${{") {
            continue;
        }
        if key == "with" || key == "secrets" {
            out.push(Diagnostic::new(
                e.key.span,
                format!(
                    "`{key}:` is only for a job that calls a reusable workflow with `uses:`, and job `{}` has no `uses:`",
                    job.id
                ),
                if key == "with" {
                    "to pass inputs to an action, put `with:` on the step that `uses:` it"
                } else {
                    "steps read secrets as `${{ secrets.NAME }}`, e.g. in their `env:`"
                },
            ));
        } else {
            out.push(unknown_job_key(job, key, e.key.span));
        }
    }
    if job.node.get("steps").is_none() {
        out.push(Diagnostic::new(
            job.key.span,
            format!("job `{}` has neither `steps:` nor `uses:`", job.id),
            "add `runs-on:` and `steps:`, or `uses:` to call a reusable workflow",
        ));
    } else if job.node.get("runs-on").is_none() {
        // A misspelt `runs-on` was reported above, with the fix.
        let misspelt = entries.iter().any(|e| {
            e.key
                .as_str()
                .is_some_and(|k| !JOB_KEYS.contains(&k) && suggest(k, JOB_KEYS) == Some("runs-on"))
        });
        if !misspelt {
            out.push(Diagnostic::new(
                job.key.span,
                format!("job `{}` has no `runs-on:`", job.id),
                "add `runs-on: ubuntu-latest` (or the label of the runner it needs); `container:` picks an image, not a machine",
            ));
        }
    }
    for e in entries {
        let v = &e.value;
        match e.key.as_str() {
            Some("runs-on") => runs_on(v, out),
            Some("steps") => steps::check(job, v, out),
            Some(k @ ("timeout-minutes" | "cancel-timeout-minutes")) => shape::number(v, k, out),
            Some("continue-on-error") => shape::boolean(v, "continue-on-error", out),
            Some("env") => sections::env(v, out),
            Some("defaults") => sections::defaults(v, out),
            Some("outputs") => shape::values(v, "outputs", out),
            Some("environment") => environment(v, e.key.span, out),
            Some("container") => container(v, e.key.span, "container", CONTAINER_KEYS, out),
            Some("services") => services(v, out),
            Some("snapshot") => snapshot(v, e.key.span, out),
            _ => {}
        }
    }
}

/// `runs-on: label`, `[label, …]` or `{ group, labels }`.
fn runs_on(v: &Node, out: &mut Vec<Diagnostic>) {
    match &v.value {
        Value::Scalar { .. } | Value::Seq(_) => shape::names(v, "runs-on", out),
        Value::Map(entries) => {
            shape::unknown_keys(v, RUNS_ON_KEYS, &|| "`runs-on`".into(), out);
            if !entries
                .iter()
                .any(|e| matches!(e.key.as_str(), Some("group" | "labels")))
            {
                out.push(Diagnostic::new(
                    v.span,
                    "`runs-on:` as a mapping needs `group:` or `labels:`",
                    "write `runs-on: ubuntu-latest`, or `runs-on: { group: <runner group>, labels: [<label>] }`",
                ));
            }
            if let Some(group) = v.get("group") {
                shape::name(group, "group", out);
            }
            if let Some(labels) = v.get("labels") {
                shape::names(labels, "labels", out);
            }
        }
    }
}

/// `environment: name` or `{ name, url, deployment }`.
fn environment(v: &Node, key: Span, out: &mut Vec<Diagnostic>) {
    match &v.value {
        Value::Scalar { .. } => {}
        Value::Seq(_) => out.push(Diagnostic::new(
            v.span,
            "`environment:` must be an environment name or a mapping with `name:`, not a list",
            "a job deploys to one environment: `environment: production`",
        )),
        Value::Map(_) => {
            shape::unknown_keys(v, ENVIRONMENT_KEYS, &|| "`environment`".into(), out);
            match v.get("name") {
                None => out.push(Diagnostic::new(
                    key,
                    "`environment:` has no `name:`",
                    "add `name: <environment>` (and `url:` if you want the deployment's link)",
                )),
                Some(name) => shape::scalar(name, "name", out),
            }
            if let Some(d) = v.get("deployment") {
                shape::boolean(d, "deployment", out);
            }
            if let Some(url) = v.get("url") {
                shape::scalar(url, "url", out);
            }
        }
    }
}

/// `container:` of a job (an image name or a mapping), or one of its `services:`.
fn container(v: &Node, key: Span, what: &str, keys: &[&str], out: &mut Vec<Diagnostic>) {
    match &v.value {
        Value::Scalar { .. } => {}
        Value::Seq(_) => out.push(Diagnostic::new(
            v.span,
            format!("`{what}:` must be an image name or a mapping with `image:`, not a list"),
            "write `image: <image>` (and `options:`, `env:`, `ports:`…) below it",
        )),
        Value::Map(entries) => {
            shape::unknown_keys(v, keys, &|| format!("`{what}`"), out);
            if v.get("image").is_none() {
                out.push(Diagnostic::new(
                    key,
                    format!("`{what}:` has no `image:`"),
                    "add `image: <image>` (e.g. `image: postgres:16`), or remove the container",
                ));
            }
            for e in entries {
                let val = &e.value;
                match e.key.as_str() {
                    Some("image") => shape::name(val, "image", out),
                    Some(k @ ("options" | "entrypoint" | "command")) => shape::scalar(val, k, out),
                    Some("env") => shape::values(val, "env", out),
                    Some(k @ ("ports" | "volumes")) => {
                        if val.as_seq().is_some() {
                            shape::names(val, k, out);
                        } else if !shape::is_expr(val) {
                            out.push(Diagnostic::new(
                                val.span,
                                format!("`{k}:` must be a list, not {}", shape::shown(val)),
                                format!("write `{k}: [<{k}>]`, or one `- item` per line"),
                            ));
                        }
                    }
                    Some("credentials") => {
                        let how = "write `username:` and `password:` below `credentials:`";
                        if shape::map(val, "credentials", how, out).is_some() {
                            shape::unknown_keys(
                                val,
                                CREDENTIALS_KEYS,
                                &|| "`credentials`".into(),
                                out,
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// `services:`: names to containers.
fn services(v: &Node, out: &mut Vec<Diagnostic>) {
    let how = "write each service as `<name>:` with `image:` below it";
    let Some(entries) = shape::map(v, "services", how, out) else {
        return;
    };
    for e in entries {
        let name = e.key.as_str().unwrap_or("service");
        if name != "<<" {
            container(&e.value, e.key.span, name, SERVICE_KEYS, out);
        }
    }
}

/// `snapshot: image-name` or `{ image-name, if, version }`.
fn snapshot(v: &Node, key: Span, out: &mut Vec<Diagnostic>) {
    match &v.value {
        Value::Scalar { .. } => shape::name(v, "snapshot", out),
        Value::Seq(_) => out.push(Diagnostic::new(
            v.span,
            "`snapshot:` must be an image name or a mapping with `image-name:`, not a list",
            "write `snapshot: <image-name>` or `snapshot: { image-name: …, version: 2.* }`",
        )),
        Value::Map(_) => {
            shape::unknown_keys(v, SNAPSHOT_KEYS, &|| "`snapshot`".into(), out);
            match v.get("image-name") {
                None => out.push(Diagnostic::new(
                    key,
                    "`snapshot:` has no `image-name:`",
                    "add `image-name: <name of the custom image>`",
                )),
                Some(name) => shape::name(name, "image-name", out),
            }
            if let Some(version) = v.get("version") {
                shape::name(version, "version", out);
            }
        }
    }
}

/// `strategy: { fail-fast, max-parallel, matrix }`.
fn strategy(v: &Node, out: &mut Vec<Diagnostic>) {
    let how = "write `matrix:` (and `fail-fast:`, `max-parallel:`) below `strategy:`";
    let Some(entries) = shape::map(v, "strategy", how, out) else {
        return;
    };
    shape::unknown_keys(v, STRATEGY_KEYS, &|| "`strategy`".into(), out);
    for e in entries {
        let val = &e.value;
        match e.key.as_str() {
            Some("fail-fast") => shape::boolean(val, "fail-fast", out),
            Some("max-parallel") => shape::number(val, "max-parallel", out),
            Some("matrix") => matrix(val, out),
            _ => {}
        }
    }
}

/// `matrix:`: each variable a list of values; `include`/`exclude` lists of mappings.
fn matrix(v: &Node, out: &mut Vec<Diagnostic>) {
    let how = "write each matrix variable as `<name>: [values]` below `matrix:`";
    let Some(entries) = shape::map(v, "matrix", how, out) else {
        return;
    };
    for e in entries {
        let Some(key) = e.key.as_str().filter(|k| *k != "<<") else {
            continue;
        };
        let val = &e.value;
        if shape::is_expr(val) {
            continue;
        }
        let Some(items) = val.as_seq() else {
            out.push(Diagnostic::new(
                val.span,
                format!(
                    "matrix variable `{key}` must be a list, not {}",
                    shape::shown(val)
                ),
                format!(
                    "write `{key}: [{}]`, a list even for one value",
                    val.as_str().unwrap_or("value")
                ),
            ));
            continue;
        };
        if key == "include" || key == "exclude" {
            for item in items {
                if item.as_map().is_none() && !shape::is_expr(item) {
                    out.push(Diagnostic::new(
                        item.span,
                        format!(
                            "an item of `{key}:` must be a mapping of matrix variables, not {}",
                            shape::shown(item)
                        ),
                        "write each item as `- { <variable>: <value>, … }`",
                    ));
                }
            }
        }
    }
}

/// `needs:`: a job id or a list of them, each a job of this workflow other than this one.
fn needs(job: &Job<'_>, ids: &[&str], out: &mut Vec<Diagnostic>) {
    let Some(value) = job.node.get("needs") else {
        return;
    };
    if value.as_map().is_some() {
        out.push(Diagnostic::new(
            value.span,
            format!(
                "`needs:` of job `{}` must be a job id or a list of job ids, not a mapping",
                job.id
            ),
            "write `needs: build` or `needs: [build, test]`",
        ));
        return;
    }
    shape::names(value, "needs", out);
    for need in &job.needs {
        let Some(name) = need.as_str() else { continue };
        if name.is_empty() || shape::is_expr(need) {
            continue;
        }
        // GitHub's job ids ignore case (two ids that differ in case are the same key).
        if !ids.iter().any(|id| id.eq_ignore_ascii_case(name)) {
            out.push(Diagnostic::new(
                need.span,
                format!(
                    "job `{}` needs `{name}`, which is not a job in this workflow",
                    job.id
                ),
                format!("{}jobs here: {}", did_you_mean(name, ids), ids.join(", ")),
            ));
        } else if name.eq_ignore_ascii_case(job.id) {
            out.push(Diagnostic::new(
                need.span,
                format!("job `{}` needs itself", job.id),
                "remove it from its own `needs:`",
            ));
        }
    }
}

/// Jobs that need each other in a circle never start; GitHub refuses the workflow. Each cycle
/// is reported once, at the job of the cycle that comes first in the file.
fn cycles(wf: &Workflow<'_>, out: &mut Vec<Diagnostic>) {
    // Most workflows have few jobs and needs; none at all needs no graph.
    if wf.jobs.iter().all(|j| j.needs.is_empty()) {
        return;
    }
    let n = wf.jobs.len();
    let index = |id: &str| wf.jobs.iter().position(|j| j.id.eq_ignore_ascii_case(id));
    // The edges to other known jobs (self-needs and unknown jobs are reported above).
    let edges: Vec<Vec<usize>> = wf
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            j.needs_ids()
                .into_iter()
                .filter_map(index)
                .filter(|&k| k != i)
                .collect()
        })
        .collect();
    // Kahn's algorithm: what remains unstarted is in, or behind, a cycle.
    let mut waiting: Vec<usize> = edges.iter().map(Vec::len).collect();
    let mut needed_by: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, e) in edges.iter().enumerate() {
        for &k in e {
            needed_by[k].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut started = vec![false; n];
    while let Some(i) = ready.pop() {
        started[i] = true;
        for &d in &needed_by[i] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(d);
            }
        }
    }
    // Depth first over the unstarted jobs: an edge back to a job on the current path closes a
    // cycle. Cycles that share a job with one already reported are the same knot of needs.
    let mut state = vec![0u8; n]; // 0 unseen, 1 on the path, 2 finished
    let mut in_reported = vec![false; n];
    for root in 0..n {
        if started[root] || state[root] != 0 {
            continue;
        }
        state[root] = 1;
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(top) = stack.last_mut() {
            let (here, next) = *top;
            let Some(&to) = edges[here].get(next) else {
                state[here] = 2;
                stack.pop();
                continue;
            };
            top.1 += 1;
            if started[to] {
                continue;
            }
            match state[to] {
                0 => {
                    state[to] = 1;
                    stack.push((to, 0));
                }
                1 => {
                    let at = stack.iter().position(|&(k, _)| k == to).unwrap_or(0);
                    let cycle: Vec<usize> = stack[at..].iter().map(|&(k, _)| k).collect();
                    if !cycle.iter().any(|&k| in_reported[k]) {
                        for &k in &cycle {
                            in_reported[k] = true;
                        }
                        report_cycle(wf, &cycle, out);
                    }
                }
                _ => {}
            }
        }
    }
}

fn report_cycle(wf: &Workflow<'_>, cycle: &[usize], out: &mut Vec<Diagnostic>) {
    let Some(start) = cycle
        .iter()
        .position(|&k| k == *cycle.iter().min().unwrap_or(&0))
    else {
        return;
    };
    let first = &wf.jobs[cycle[start]];
    let mut chain: Vec<&str> = cycle[start..]
        .iter()
        .chain(&cycle[..start])
        .map(|&k| wf.jobs[k].id)
        .collect();
    chain.push(first.id);
    // Read "a needs b needs c needs a".
    out.push(Diagnostic::new(
        first.key.span,
        format!(
            "jobs need each other in a cycle, so none of them can start: {}",
            chain
                .iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(" needs ")
        ),
        "remove one of these `needs:` so the jobs can run in order",
    ));
}
