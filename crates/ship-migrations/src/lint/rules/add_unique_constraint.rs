use super::{alter_table_ops, Rule};
use crate::lint::context::{show, Diagnostic, Pat, Pat::*, StatementCx};
use crate::lint::Dialect;
use sqlparser::ast::{AlterTableOperation, ColumnOption, TableConstraint};

ship_findings::declare_rule! {
    /// ## What it reports
    /// A `UNIQUE`, `PRIMARY KEY` or `EXCLUDE` constraint added to an existing table by
    /// building its index inline: `ADD CONSTRAINT … UNIQUE (…)`, `ADD PRIMARY KEY (…)`,
    /// `ADD COLUMN … UNIQUE`.
    ///
    /// ## Why
    /// The index is built while the table is locked `ACCESS EXCLUSIVE`: no reads, no writes,
    /// for as long as the build takes.
    ///
    /// ## How to fix
    /// Build the unique index first with `CREATE UNIQUE INDEX CONCURRENTLY` (in a
    /// `-- ship:no-transaction` file), then attach it, which is instant:
    /// `ADD CONSTRAINT … UNIQUE USING INDEX …`.
    ///
    /// ## Example
    /// ```sql
    /// -- 0007_users_email_idx.sql
    /// -- ship:no-transaction
    /// CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);
    /// -- 0008_users_email_unique.sql
    /// ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
    /// ```
    pub struct AddUniqueConstraint {
        id: "add-unique-constraint",
        severity: Error,
        summary: "a unique constraint builds its index under an exclusive lock",
    }
}

/// The constraints that build an index: the name messages use, and the keywords that start
/// them in the statement. Indexed by [`UNIQUE`], [`PRIMARY_KEY`], [`EXCLUDE`].
const KINDS: [(&str, &[Pat]); 3] = [
    ("UNIQUE", &[Word("UNIQUE")]),
    ("PRIMARY KEY", &[Word("PRIMARY"), Word("KEY")]),
    ("EXCLUDE", &[Word("EXCLUDE")]),
];
const UNIQUE: usize = 0;
const PRIMARY_KEY: usize = 1;
const EXCLUDE: usize = 2;

impl Rule for AddUniqueConstraint {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn applies_to(&self, dialect: Dialect) -> bool {
        dialect == Dialect::Postgres
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        // How many of each kind's keywords the statement had so far, to point at the right one.
        let mut nth = [0usize; KINDS.len()];
        let mut report = |slot: usize, message: String| {
            let span = cx.span(KINDS[slot].1, nth[slot]);
            nth[slot] += 1;
            out.push(cx.diag(
                &Self::INFO,
                span,
                message,
                "build the index with CREATE UNIQUE INDEX CONCURRENTLY (in a \
                 `-- ship:no-transaction` file), then ADD CONSTRAINT … UNIQUE USING INDEX",
            ));
        };
        for (table, op) in alter_table_ops(cx) {
            match op {
                AlterTableOperation::AddConstraint { constraint, .. } => {
                    let slot = match constraint {
                        TableConstraint::Unique(_) => UNIQUE,
                        TableConstraint::PrimaryKey(_) => PRIMARY_KEY,
                        TableConstraint::Exclude(_) => EXCLUDE,
                        _ => continue,
                    };
                    let kind = KINDS[slot].0;
                    report(
                        slot,
                        format!(
                            "adding a {kind} constraint to `{}` builds its index while the table \
                             is locked against reads and writes",
                            show(table)
                        ),
                    );
                }
                AlterTableOperation::AddColumn { column_def, .. } => {
                    for o in &column_def.options {
                        let slot = match o.option {
                            ColumnOption::Unique(_) => UNIQUE,
                            ColumnOption::PrimaryKey(_) => PRIMARY_KEY,
                            _ => continue,
                        };
                        let kind = KINDS[slot].0;
                        report(
                            slot,
                            format!(
                                "column `{}` is added to `{}` as {kind}, which builds an index \
                                 while the table is locked against reads and writes",
                                column_def.name.value,
                                show(table)
                            ),
                        );
                    }
                }
                _ => {}
            }
        }
    }
}
