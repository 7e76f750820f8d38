use super::{alter_table_ops, Rule};
use crate::lint::context::{show, Diagnostic, Pat::*, StatementCx};
use sqlparser::ast::{AlterTableOperation, ColumnDef, ColumnOption};

ship_findings::declare_rule! {
    /// ## What it reports
    /// `ALTER TABLE … ADD COLUMN … NOT NULL` (or `PRIMARY KEY`) without a `DEFAULT`, on an
    /// existing table.
    ///
    /// ## Why
    /// On a table with rows the statement fails outright. On an empty one it succeeds, and
    /// then every `INSERT` of the old code, which does not know the column, fails with a
    /// not-null violation until the rollout finishes.
    ///
    /// ## How to fix
    /// Give the column a default (since PostgreSQL 11 a constant default is stored in the
    /// catalog, without rewriting the table), or add it nullable, backfill, and add the
    /// constraint later (see `set-not-null`).
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';
    /// ```
    pub struct AddNotNullColumnWithoutDefault {
        id: "add-not-null-column-without-default",
        severity: Error,
        summary: "a NOT NULL column without a default is added to an existing table",
    }
}

/// NOT NULL (or PRIMARY KEY) with no default of any kind (DEFAULT, identity, generated, serial).
fn needs_default(col: &ColumnDef) -> bool {
    let not_null = col.options.iter().any(|o| {
        matches!(
            o.option,
            ColumnOption::NotNull | ColumnOption::PrimaryKey(_)
        )
    });
    let has_default = col.options.iter().any(|o| {
        matches!(
            o.option,
            ColumnOption::Default(_)
                | ColumnOption::Generated { .. }
                | ColumnOption::Identity(_)
                | ColumnOption::Materialized(_)
                | ColumnOption::Alias(_)
        )
    });
    let serial = col
        .data_type
        .to_string()
        .to_ascii_lowercase()
        .contains("serial");
    not_null && !has_default && !serial
}

impl Rule for AddNotNullColumnWithoutDefault {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        for (table, op) in alter_table_ops(cx) {
            let AlterTableOperation::AddColumn { column_def, .. } = op else {
                continue;
            };
            if !needs_default(column_def) {
                continue;
            }
            let name = &column_def.name.value;
            out.push(cx.diag(
                &Self::INFO,
                cx.span(
                    &[
                        Word("ADD"),
                        Opt("COLUMN"),
                        Opt("IF"),
                        Opt("NOT"),
                        Opt("EXISTS"),
                        Word(name),
                    ],
                    0,
                ),
                format!(
                    "column `{name}` is added to `{}` as NOT NULL without a default: the statement \
                     fails if the table has rows, and the old code's INSERTs fail if it has none",
                    show(table)
                ),
                "add a DEFAULT (a constant default does not rewrite the table), or add the column \
                 nullable, backfill it, and set NOT NULL in a later migration",
            ));
        }
    }
}
