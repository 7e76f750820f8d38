use crate::context::{Diagnostic, WorkflowContext};
use crate::rules::rule_impl;
use ship_workflow::{ActionRef, Node};

declare_rule! {
    /// ## What it reports
    /// A step's `uses:` of an action in one of ship's repositories (the policy's
    /// `actions.ship-repositories`, `*/ship` by default) at a path where ship has no action.
    /// ship's actions are the repository root (the policy linter) and one folder each at the
    /// root: `tag-image`, `run-migrations`, `ecs-rollout`, `smoke-test` and `rollback`. The
    /// earlier layout (`OWNER/ship/actions/ecs-rollout@v1`) and misspelt names
    /// (`ecs-rolout`) are reported.
    ///
    /// ## Why
    /// GitHub fetches every action of a job before its first step: a path with no
    /// `action.yml` fails the job ("Can't find 'action.yml'") on the first run that reaches
    /// it, often the first production deploy after the workflow was written. Without this
    /// rule the other rules would also read such a step as the deploy step it names and
    /// pass the workflow.
    ///
    /// ## How to fix
    /// Use the action's folder at the root of ship's repository:
    /// ```yaml
    ///       - uses: org/ship/ecs-rollout@v1
    /// ```
    /// A fork or vendored copy with a different layout: list it in
    /// `actions.ship-repositories` only if it keeps ship's paths.
    pub struct UnknownShipAction {
        id: "unknown-ship-action",
        severity: Error,
        summary: "a `uses:` names a ship action that does not exist",
    }
}
rule_impl!(UnknownShipAction, workflow, actions);

/// The folders of ship's repository that hold an `action.yml` (besides the root).
pub const SHIP_ACTIONS: [&str; 5] = [
    "tag-image",
    "run-migrations",
    "ecs-rollout",
    "smoke-test",
    "rollback",
];

impl UnknownShipAction {
    fn check_uses(&self, cx: &WorkflowContext<'_>, node: &Node, out: &mut Vec<Diagnostic>) {
        let Some(uses) = node.as_str() else { return };
        let ActionRef::Repository {
            owner,
            repo,
            path: Some(path),
            git_ref,
        } = ActionRef::parse(uses)
        else {
            return;
        };
        let path = path.trim_end_matches('/');
        if path.is_empty()
            || SHIP_ACTIONS.contains(&path)
            || !cx.policy.is_ship_repository(owner, repo)
        {
            return;
        }
        let at = git_ref.map(|r| format!("@{r}")).unwrap_or_default();
        // The action it was probably meant to be: the old `actions/<name>` layout, or the
        // known name closest to the last path segment.
        let leaf = path.rsplit('/').next().unwrap_or(path);
        let meant = SHIP_ACTIONS
            .iter()
            .map(|a| (edit_distance(a, leaf), *a))
            .min()
            .filter(|(d, _)| *d <= 2)
            .map(|(_, a)| a);
        let help = match meant {
            Some(a) if path == format!("actions/{a}") => format!(
                "ship's actions moved to the repository root: use `{owner}/{repo}/{a}{at}`"
            ),
            Some(a) => format!("did you mean `{owner}/{repo}/{a}{at}`?"),
            None => format!(
                "ship's actions are `{owner}/{repo}{at}` (the linter) and `{owner}/{repo}/<action>{at}` for {}",
                SHIP_ACTIONS.join(", ")
            ),
        };
        out.push(Diagnostic::new(
            node.span,
            format!("`{owner}/{repo}` has no action at `{path}`: GitHub fails the job before its first step"),
            help,
        ));
    }

    fn check(&self, cx: &WorkflowContext<'_>, out: &mut Vec<Diagnostic>) {
        for job in &cx.workflow.jobs {
            for step in &job.steps {
                if let Some(u) = step.uses {
                    self.check_uses(cx, u, out);
                }
            }
        }
    }
}

/// Levenshtein distance over bytes (names here are short ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn edit_distance() {
        assert_eq!(super::edit_distance("ecs-rollout", "ecs-rolout"), 1);
        assert_eq!(super::edit_distance("rollback", "rollback"), 0);
        assert_eq!(super::edit_distance("smoke-test", "deploy"), 9);
    }
}
