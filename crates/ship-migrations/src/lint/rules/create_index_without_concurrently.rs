use super::Rule;
use crate::lint::context::{show, Diagnostic, Pat::*, StatementCx};
use crate::lint::Dialect;
use sqlparser::ast::Statement as Ast;

ship_findings::declare_rule! {
    /// ## What it reports
    /// `CREATE [UNIQUE] INDEX` without `CONCURRENTLY` on a table that existed before the
    /// migration.
    ///
    /// ## Why
    /// A plain `CREATE INDEX` holds a `SHARE` lock for the whole build: every `INSERT`,
    /// `UPDATE` and `DELETE` on the table waits, for minutes on a big table.
    ///
    /// ## How to fix
    /// Build it with `CREATE INDEX CONCURRENTLY`, which does not block writes. It cannot run
    /// inside a transaction, so put it in a file of its own that starts with
    /// `-- ship:no-transaction`, and make it re-runnable with `IF NOT EXISTS` (a failed
    /// concurrent build leaves an invalid index: drop it with `DROP INDEX CONCURRENTLY`).
    ///
    /// ## Example
    /// ```sql
    /// -- ship:no-transaction
    /// CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id ON orders (customer_id);
    /// ```
    pub struct CreateIndexWithoutConcurrently {
        id: "create-index-without-concurrently",
        severity: Error,
        summary: "an index is built without CONCURRENTLY, blocking writes",
    }
}

impl Rule for CreateIndexWithoutConcurrently {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn applies_to(&self, dialect: Dialect) -> bool {
        dialect == Dialect::Postgres
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        let Some(Ast::CreateIndex(ci)) = cx.ast else {
            return;
        };
        if ci.concurrently || cx.is_new_table(&ci.table_name) {
            return;
        }
        out.push(cx.diag(
            &Self::INFO,
            cx.span(&[Word("CREATE"), Opt("UNIQUE"), Word("INDEX")], 0),
            format!(
                "building an index on `{}` without CONCURRENTLY blocks every write to the table \
                 until it finishes",
                show(&ci.table_name)
            ),
            "use CREATE INDEX CONCURRENTLY in a file of its own starting with \
             `-- ship:no-transaction`",
        ));
    }
}
