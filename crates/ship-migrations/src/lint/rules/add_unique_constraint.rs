use super::{alter_table, Rule};
use crate::lint::context::{show, Diagnostic, Pat::*, StatementCx};
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

impl Rule for AddUniqueConstraint {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn applies_to(&self, dialect: Dialect) -> bool {
        dialect == Dialect::Postgres
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        let Some((table, ops)) = alter_table(cx) else {
            return;
        };
        let help = "build the index with CREATE UNIQUE INDEX CONCURRENTLY (in a \
                    `-- ship:no-transaction` file), then ADD CONSTRAINT … UNIQUE USING INDEX";
        let mut nth = [0usize; 3];
        for op in ops {
            match op {
                AlterTableOperation::AddConstraint { constraint, .. } => {
                    let (kind, pattern, slot): (&str, &[_], usize) = match constraint {
                        TableConstraint::Unique(_) => ("UNIQUE", &[Word("UNIQUE")], 0),
                        TableConstraint::PrimaryKey(_) => {
                            ("PRIMARY KEY", &[Word("PRIMARY"), Word("KEY")], 1)
                        }
                        TableConstraint::Exclude(_) => ("EXCLUDE", &[Word("EXCLUDE")], 2),
                        _ => continue,
                    };
                    let span = cx.span(pattern, nth[slot]);
                    nth[slot] += 1;
                    out.push(cx.diag(
                        &Self::INFO,
                        span,
                        format!(
                            "adding a {kind} constraint to `{}` builds its index while the table \
                             is locked against reads and writes",
                            show(table)
                        ),
                        help,
                    ));
                }
                AlterTableOperation::AddColumn { column_def, .. } => {
                    for o in &column_def.options {
                        let (kind, pattern, slot): (&str, &[_], usize) = match o.option {
                            ColumnOption::Unique(_) => ("UNIQUE", &[Word("UNIQUE")], 0),
                            ColumnOption::PrimaryKey(_) => {
                                ("PRIMARY KEY", &[Word("PRIMARY"), Word("KEY")], 1)
                            }
                            _ => continue,
                        };
                        let span = cx.span(pattern, nth[slot]);
                        nth[slot] += 1;
                        out.push(cx.diag(
                            &Self::INFO,
                            span,
                            format!(
                                "column `{}` is added to `{}` as {kind}, which builds an index \
                                 while the table is locked against reads and writes",
                                column_def.name.value,
                                show(table)
                            ),
                            help,
                        ));
                    }
                }
                _ => {}
            }
        }
    }
}
