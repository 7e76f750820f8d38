use super::Rule;

ship_findings::declare_rule! {
    /// ## What it reports
    /// A `-- ship:` comment that ship cannot use: `ship:allow` without a rule or without a
    /// reason, naming an unknown rule, an unknown `ship:` directive, or `ship:no-transaction`
    /// below the first statement (where it has no effect).
    ///
    /// ## Why
    /// An annotation that silently does nothing lets the statement it was meant for fail the
    /// gate (or, for `no-transaction`, fail at deploy time), and an allow without a reason
    /// leaves reviewers nothing to check.
    ///
    /// ## How to fix
    /// Write `-- ship:allow <rule>[,<rule>] <reason>` on the line above the statement, and
    /// `-- ship:no-transaction` at the top of the file.
    ///
    /// ## Example
    /// ```sql
    /// -- ship:allow drop-column not read since release 12 (PR #345)
    /// ALTER TABLE users DROP COLUMN nickname;
    /// ```
    pub struct InvalidAnnotation {
        id: "invalid-annotation",
        severity: Error,
        summary: "a ship: annotation that is malformed or misplaced",
    }
}

impl Rule for InvalidAnnotation {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }
}
