use super::{alter_table_ops, Rule};
use crate::lint::context::{show, Diagnostic, Pat::*, StatementCx};
use sqlparser::ast::AlterTableOperation;

ship_findings::declare_rule! {
    /// ## What it reports
    /// `ALTER TABLE … DROP COLUMN` on a table that existed before the migration.
    ///
    /// ## Why
    /// The old version of the service, still serving during the rolling deploy, selects and
    /// inserts that column by name; those queries fail as soon as the migration commits. ORMs
    /// that list every mapped column in `SELECT`/`INSERT` fail even if the code never uses the
    /// field.
    ///
    /// ## How to fix
    /// Expand and contract: release 1 stops reading and writing the column (and removes it
    /// from the ORM mapping); a later release drops it, annotated.
    ///
    /// ## Example
    /// ```sql
    /// -- ship:allow drop-column not mapped since release 57 (PR #1204)
    /// ALTER TABLE users DROP COLUMN legacy_flags;
    /// ```
    pub struct DropColumn {
        id: "drop-column",
        severity: Error,
        summary: "a column the running code may still use is dropped",
    }
}

impl Rule for DropColumn {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        for (table, op) in alter_table_ops(cx) {
            let AlterTableOperation::DropColumn { column_names, .. } = op else {
                continue;
            };
            for col in column_names {
                let span = cx.span(
                    &[
                        Word("DROP"),
                        Opt("COLUMN"),
                        Opt("IF"),
                        Opt("EXISTS"),
                        Word(&col.value),
                    ],
                    0,
                );
                out.push(cx.diag(
                    &Self::INFO,
                    span,
                    format!(
                        "dropping column `{}` of `{}` breaks the old code that still selects or \
                         inserts it during the rollout",
                        col.value,
                        show(table)
                    ),
                    "first release code that no longer uses the column (and remove it from ORM \
                     mappings), then drop it in a later migration annotated with \
                     `-- ship:allow drop-column <why it is unused>`",
                ));
            }
        }
    }
}
