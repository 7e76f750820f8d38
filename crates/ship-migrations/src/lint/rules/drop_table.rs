use super::Rule;
use crate::lint::context::{show, Diagnostic, Pat::*, StatementCx};
use sqlparser::ast::{ObjectType, Statement as Ast};

ship_findings::declare_rule! {
    /// ## What it reports
    /// `DROP TABLE` of a table that existed before the migration.
    ///
    /// ## Why
    /// During a rolling deploy the old version of the service keeps running until the last
    /// old task is replaced, and it still reads and writes that table: every such request
    /// fails from the moment the migration commits. A rollback to the old version is then
    /// impossible without restoring data.
    ///
    /// ## How to fix
    /// Drop in two releases (expand, then contract): first deploy code that no longer uses
    /// the table, then drop it in a later migration, annotated with why it is safe.
    ///
    /// ## Example
    /// ```sql
    /// -- release 41 stopped reading legacy_sessions (PR #812)
    /// -- ship:allow drop-table unused since release 41
    /// DROP TABLE legacy_sessions;
    /// ```
    pub struct DropTable {
        id: "drop-table",
        severity: Error,
        summary: "a table the running code may still use is dropped",
    }
}

impl Rule for DropTable {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        let Some(Ast::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        }) = cx.ast
        else {
            return;
        };
        for name in names.iter().filter(|n| !cx.is_new_table(n)) {
            out.push(cx.diag(
                &Self::INFO,
                cx.span(&[Word("DROP"), Word("TABLE")], 0),
                format!(
                    "`DROP TABLE {}` breaks the old code that still uses the table during the rollout",
                    show(name)
                ),
                "drop it in a later release, once no deployed code reads or writes it; then annotate \
                 the statement with `-- ship:allow drop-table <why it is unused>`",
            ));
        }
    }
}
