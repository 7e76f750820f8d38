use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// An entry of the baseline file (`.github/ship-baseline.json`, or `--baseline FILE`)
    /// that matches no finding any more: the finding was fixed, or its job, step or offending
    /// value changed. With a `count` above one, the note says how many of the accepted
    /// findings are gone. The note points at the entry's line in the baseline file.
    ///
    /// Entries are judged only when the whole repository was linted (not with `--workflow`);
    /// entries of settings rules only with `--github` or `--settings`; entries of rules the
    /// policy disables never.
    ///
    /// ## Why
    /// The baseline records the findings a repository had when it adopted ship, so that CI
    /// fails only on new ones. An entry that stays after its finding is fixed would silently
    /// accept the same finding if it came back; removing it lets the baseline shrink as the
    /// debt is paid.
    ///
    /// ## How to fix
    /// Delete the entry (or lower its `count`), or rewrite the whole file from the current
    /// findings with `ship lint --write-baseline .github/ship-baseline.json` and review the
    /// diff: it should only remove lines.
    ///
    /// ## Example
    /// ```json
    /// {"rule": "unpinned-action", "path": ".github/workflows/ci.yml", "job": "build", "step": "uses: actions/cache@v4", "fingerprint": "9a0364b9e99bb480", "count": 1, "message": "…"}
    /// ```
    /// after `actions/cache@v4` was pinned to a commit SHA.
    pub struct BaselineStale {
        id: "baseline-stale",
        severity: Note,
        summary: "a baseline entry matches no finding any more",
    }
}
// Reported by `ship_lint::baseline` when a baseline is applied, after linting.
rule_impl!(BaselineStale);
