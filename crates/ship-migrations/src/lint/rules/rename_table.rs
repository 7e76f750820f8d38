use super::{alter_table_ops, Rule};
use crate::lint::context::{show, Diagnostic, Pat::*, StatementCx};
use sqlparser::ast::AlterTableOperation;

ship_findings::declare_rule! {
    /// ## What it reports
    /// `ALTER TABLE … RENAME TO …` on a table that existed before the migration.
    ///
    /// ## Why
    /// A rename is a drop for the old code: every query of the running version names the old
    /// table and fails from the moment the migration commits until the last old task is gone.
    ///
    /// ## How to fix
    /// Create the new table (or a view with the new name over the old table), make the code
    /// use the new name, migrate the data, and drop the old name in a later release. A view
    /// with the old name over the renamed table also works for reads.
    ///
    /// ## Example
    /// ```sql
    /// -- compatible: the old name keeps working as a view
    /// ALTER TABLE accounts RENAME TO customers; -- ship:allow rename-table view below keeps `accounts`
    /// CREATE VIEW accounts AS SELECT * FROM customers;
    /// ```
    pub struct RenameTable {
        id: "rename-table",
        severity: Error,
        summary: "a table is renamed under the running code",
    }
}

impl Rule for RenameTable {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        for (table, op) in alter_table_ops(cx) {
            let AlterTableOperation::RenameTable { table_name } = op else {
                continue;
            };
            let new_name = table_name.to_string();
            let new_name = new_name
                .strip_prefix("TO ")
                .or_else(|| new_name.strip_prefix("AS "))
                .unwrap_or(&new_name);
            out.push(cx.diag(
                &Self::INFO,
                cx.span(&[Word("RENAME"), Word("TO")], 0),
                format!(
                    "renaming `{}` to `{new_name}` breaks the old code that still uses the old \
                     name during the rollout",
                    show(table)
                ),
                "add the new table (or a view) alongside the old one, move the code over, and \
                 drop the old name in a later release; or annotate with \
                 `-- ship:allow rename-table <why it is safe>`",
            ));
        }
    }
}
