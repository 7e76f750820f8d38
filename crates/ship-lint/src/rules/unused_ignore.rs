use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// A `# ship: ignore[rule-id] reason` comment that suppresses nothing: there is no
    /// finding of that rule on its line or the next, or the id is not a rule.
    ///
    /// ## Why
    /// Stale suppressions hide the next real finding on that line and mislead readers into
    /// thinking a risk was accepted.
    ///
    /// ## How to fix
    /// Delete the comment, or the stale id from its list.
    ///
    /// ## Example
    /// ```yaml
    ///       # ship: ignore[unpinned-action] vendored action, reviewed 2026-10
    ///       - uses: ./vendor/action
    /// ```
    pub struct UnusedIgnore {
        id: "unused-ignore",
        severity: Note,
        summary: "an inline ignore comment suppresses nothing",
    }
}
// Reported by the engine after all other rules ran.
rule_impl!(UnusedIgnore);
