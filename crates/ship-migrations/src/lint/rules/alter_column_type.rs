use super::{alter_table_ops, Rule};
use crate::lint::context::{show, Diagnostic, Pat::*, StatementCx};
use sqlparser::ast::{AlterColumnOperation, AlterTableOperation};

ship_findings::declare_rule! {
    /// ## What it reports
    /// `ALTER TABLE … ALTER COLUMN … TYPE …` (or `SET DATA TYPE`) on an existing table.
    ///
    /// ## Why
    /// Most type changes rewrite the whole table and its indexes under an `ACCESS EXCLUSIVE`
    /// lock: every read and write of the table waits until the rewrite ends, which on a big
    /// table is an outage. The old code may also not understand the new type (a driver
    /// decoding `bigint` into a 32-bit integer, an enum it does not know).
    ///
    /// ## How to fix
    /// Add a column of the new type, backfill it in batches, switch the code over, then drop
    /// the old column in a later release. Changes PostgreSQL does without a rewrite
    /// (`varchar(n)` to `text` or to a larger `n`, `numeric(p,s)` to a larger `p`) are safe:
    /// annotate them.
    ///
    /// ## Example
    /// ```sql
    /// -- ship:allow alter-column-type varchar(64) -> text needs no rewrite
    /// ALTER TABLE users ALTER COLUMN email TYPE text;
    /// ```
    pub struct AlterColumnType {
        id: "alter-column-type",
        severity: Error,
        summary: "a column's type changes (table rewrite under an exclusive lock)",
    }
}

impl Rule for AlterColumnType {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        for (table, op) in alter_table_ops(cx) {
            let AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetDataType { data_type, .. },
            } = op
            else {
                continue;
            };
            out.push(cx.diag(
                &Self::INFO,
                cx.span(&[Word("ALTER"), Opt("COLUMN"), Word(&column_name.value)], 0),
                format!(
                    "changing the type of `{}.{}` to `{data_type}` rewrites the table under an \
                     ACCESS EXCLUSIVE lock and may break the old code reading the column",
                    show(table),
                    column_name.value
                ),
                "add a new column of the new type, backfill it, move the code over, and drop the \
                 old one later; if PostgreSQL needs no rewrite for this change (varchar to text), \
                 annotate with `-- ship:allow alter-column-type <why>`",
            ));
        }
    }
}
