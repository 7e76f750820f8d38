use super::{alter_table_ops, Rule};
use crate::lint::context::{show, Diagnostic, Pat::*, StatementCx};
use sqlparser::ast::AlterTableOperation;

ship_findings::declare_rule! {
    /// ## What it reports
    /// `ALTER TABLE … RENAME COLUMN` on a table that existed before the migration.
    ///
    /// ## Why
    /// The running version selects and writes the column by its old name; those queries fail
    /// as soon as the migration commits, and keep failing until the rollout finishes (or
    /// forever, if it is rolled back).
    ///
    /// ## How to fix
    /// Add the new column, write both (or sync them with a trigger), backfill, switch reads,
    /// stop writing the old one, and drop it in a later release.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD COLUMN display_name text;
    /// UPDATE users SET display_name = name WHERE display_name IS NULL;
    /// ```
    pub struct RenameColumn {
        id: "rename-column",
        severity: Error,
        summary: "a column is renamed under the running code",
    }
}

impl Rule for RenameColumn {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        for (table, op) in alter_table_ops(cx) {
            let AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } = op
            else {
                continue;
            };
            out.push(cx.diag(
                &Self::INFO,
                cx.span(
                    &[Word("RENAME"), Opt("COLUMN"), Word(&old_column_name.value)],
                    0,
                ),
                format!(
                    "renaming column `{}` of `{}` to `{}` breaks the old code that still uses the \
                     old name during the rollout",
                    old_column_name.value,
                    show(table),
                    new_column_name.value
                ),
                "add a new column, write both, backfill, move reads over, then drop the old \
                 column in a later release; or annotate with `-- ship:allow rename-column <why>`",
            ));
        }
    }
}
