use super::Rule;

ship_findings::declare_rule! {
    /// ## What it reports
    /// A `-- ship:allow <rule>` annotation whose statement does not trigger that rule, or
    /// that is attached to no statement at all.
    ///
    /// ## Why
    /// It usually sits above the wrong statement (so the one it was meant for is not
    /// allowed), or it outlived an edit. Either way the reason it gives is now misleading.
    ///
    /// ## How to fix
    /// Move the annotation to the line just above the statement it allows, or delete it.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD COLUMN nickname text;
    /// -- ship:allow drop-column nickname was never read
    /// ALTER TABLE users DROP COLUMN legacy_nickname;
    /// ```
    pub struct UnusedAllow {
        id: "unused-allow",
        severity: Warning,
        summary: "a ship:allow annotation that allows nothing",
    }
}

impl Rule for UnusedAllow {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }
}
