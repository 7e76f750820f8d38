use super::{alter_table_ops, Rule};
use crate::lint::context::{show, Diagnostic, Pat::*, StatementCx};
use crate::lint::Dialect;
use sqlparser::ast::{AlterTableOperation, ColumnOption, TableConstraint};

ship_findings::declare_rule! {
    /// ## What it reports
    /// A foreign key added to an existing table without `NOT VALID`: `ADD CONSTRAINT … FOREIGN
    /// KEY` or `ADD COLUMN … REFERENCES`.
    ///
    /// ## Why
    /// Adding a validated foreign key scans the whole table while holding a
    /// `SHARE ROW EXCLUSIVE` lock on it *and* on the referenced table: writes to both wait
    /// for the scan.
    ///
    /// ## How to fix
    /// Add the constraint `NOT VALID` (instant: only new rows are checked), then
    /// `VALIDATE CONSTRAINT` in a later migration, which scans without blocking writes.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
    ///   FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
    /// -- next migration:
    /// ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
    /// ```
    pub struct AddForeignKeyWithoutNotValid {
        id: "add-foreign-key-without-not-valid",
        severity: Error,
        summary: "a foreign key is validated while locking both tables",
    }
}

impl Rule for AddForeignKeyWithoutNotValid {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn applies_to(&self, dialect: Dialect) -> bool {
        dialect == Dialect::Postgres
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        let (mut nth_fk, mut nth_ref) = (0, 0);
        for (table, op) in alter_table_ops(cx) {
            match op {
                AlterTableOperation::AddConstraint {
                    constraint: TableConstraint::ForeignKey(fk),
                    not_valid,
                } => {
                    let span = cx.span(&[Word("FOREIGN"), Word("KEY")], nth_fk);
                    nth_fk += 1;
                    if *not_valid {
                        continue;
                    }
                    out.push(cx.diag(
                        &Self::INFO,
                        span,
                        format!(
                            "adding a foreign key from `{}` to `{}` without NOT VALID scans `{}` \
                             while blocking writes to both tables",
                            show(table),
                            show(&fk.foreign_table),
                            show(table)
                        ),
                        "add it with NOT VALID, then VALIDATE CONSTRAINT in a later migration",
                    ));
                }
                AlterTableOperation::AddColumn { column_def, .. } => {
                    for o in &column_def.options {
                        let ColumnOption::ForeignKey(fk) = &o.option else {
                            continue;
                        };
                        let span = cx.span(&[Word("REFERENCES")], nth_ref);
                        nth_ref += 1;
                        out.push(cx.diag(
                            &Self::INFO,
                            span,
                            format!(
                                "column `{}` is added to `{}` with a validated foreign key to \
                                 `{}`, which locks both tables while it is checked",
                                column_def.name.value,
                                show(table),
                                show(&fk.foreign_table)
                            ),
                            "add the column without REFERENCES, then add the constraint with \
                             NOT VALID and VALIDATE it in a later migration",
                        ));
                    }
                }
                _ => {}
            }
        }
    }
}
