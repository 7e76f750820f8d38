use super::{alter_table_ops, Rule};
use crate::lint::context::{show, Diagnostic, Pat::*, StatementCx};
use crate::lint::Dialect;
use sqlparser::ast::{AlterColumnOperation, AlterTableOperation};

ship_findings::declare_rule! {
    /// ## What it reports
    /// `ALTER TABLE … ALTER COLUMN … SET NOT NULL` on an existing table.
    ///
    /// ## Why
    /// PostgreSQL scans the whole table to check the constraint while holding an
    /// `ACCESS EXCLUSIVE` lock, so every query on the table waits for the scan. And the old
    /// code, which may still insert `NULL` there, starts failing.
    ///
    /// ## How to fix
    /// Once no deployed code writes `NULL`: add a `CHECK (col IS NOT NULL) NOT VALID`
    /// constraint, `VALIDATE` it in a separate migration (a scan that does not block writes),
    /// then `SET NOT NULL`: PostgreSQL 12+ uses the validated constraint and skips the scan.
    /// Annotate that last step.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
    /// -- next migration:
    /// ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
    /// -- ship:allow set-not-null users_email_not_null is validated, no scan
    /// ALTER TABLE users ALTER COLUMN email SET NOT NULL;
    /// ```
    pub struct SetNotNull {
        id: "set-not-null",
        severity: Error,
        summary: "SET NOT NULL scans the table under an exclusive lock",
    }
}

impl Rule for SetNotNull {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn applies_to(&self, dialect: Dialect) -> bool {
        dialect == Dialect::Postgres
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        let mut nth = 0;
        for (table, op) in alter_table_ops(cx) {
            let AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetNotNull,
            } = op
            else {
                continue;
            };
            out.push(cx.diag(
                &Self::INFO,
                cx.span(&[Word("SET"), Word("NOT"), Word("NULL")], nth),
                format!(
                    "`SET NOT NULL` on `{}.{}` scans the whole table under an ACCESS EXCLUSIVE \
                     lock, and breaks old code that still writes NULL",
                    show(table),
                    column_name.value
                ),
                "add `CHECK (col IS NOT NULL) NOT VALID`, VALIDATE it in a later migration, then \
                 SET NOT NULL (no scan on PostgreSQL 12+) annotated with \
                 `-- ship:allow set-not-null <constraint is validated>`",
            ));
            nth += 1;
        }
    }
}
