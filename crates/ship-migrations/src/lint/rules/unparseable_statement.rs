use super::Rule;

ship_findings::declare_rule! {
    /// ## What it reports
    /// A statement the lint's SQL parser cannot read (PL/pgSQL `DO` blocks, `REINDEX`, syntax
    /// the parser does not know yet, or a real syntax error).
    ///
    /// ## Why
    /// The other rules cannot look inside it, so a dangerous statement could pass unseen. It
    /// is a warning, not an error: the database, not the lint, is the judge of valid SQL.
    ///
    /// ## How to fix
    /// Read the statement with the other rules in mind; if it is fine, annotate it so the
    /// review is on record.
    ///
    /// ## Example
    /// ```sql
    /// -- ship:allow unparseable-statement DO block only inserts reference rows
    /// DO $$ BEGIN INSERT INTO plans (name) VALUES ('pro'); END $$;
    /// ```
    pub struct UnparseableStatement {
        id: "unparseable-statement",
        severity: Warning,
        summary: "a statement the lint cannot parse",
    }
}

impl Rule for UnparseableStatement {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }
}
