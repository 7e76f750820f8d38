use super::Rule;
use crate::lint::context::{Diagnostic, Pat::*, StatementCx};
use sqlparser::ast::Statement as Ast;

ship_findings::declare_rule! {
    /// ## What it reports
    /// `TRUNCATE` of a table that existed before the migration.
    ///
    /// ## Why
    /// It deletes every row of a table the running code still uses, under an
    /// `ACCESS EXCLUSIVE` lock, and cannot be undone by rolling the deploy back. Data
    /// changes of this size rarely belong in a schema migration.
    ///
    /// ## How to fix
    /// Delete in batches from a job, or, if the data really is disposable (a cache table),
    /// annotate the statement saying so.
    ///
    /// ## Example
    /// ```sql
    /// -- ship:allow truncate rebuilt from S3 on start-up, no user data
    /// TRUNCATE exchange_rate_cache;
    /// ```
    pub struct Truncate {
        id: "truncate",
        severity: Error,
        summary: "a table's data is deleted under an exclusive lock",
    }
}

impl Rule for Truncate {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        let Some(Ast::Truncate(t)) = cx.ast else {
            return;
        };
        let names: Vec<String> = t
            .table_names
            .iter()
            .filter(|n| !cx.is_new_table(&n.name))
            .map(|n| format!("`{}`", n.name))
            .collect();
        if names.is_empty() {
            return;
        }
        out.push(cx.diag(
            &Self::INFO,
            cx.span(&[Word("TRUNCATE")], 0),
            format!(
                "TRUNCATE deletes every row of {} under an ACCESS EXCLUSIVE lock, and a rollback \
                 of the deploy does not bring them back",
                names.join(", ")
            ),
            "delete in batches outside the migration, or annotate with \
             `-- ship:allow truncate <why the data is disposable>`",
        ));
    }
}
