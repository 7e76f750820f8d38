use super::Rule;
use crate::lint::context::{Diagnostic, StatementCx};
use crate::lint::Dialect;
use crate::sql::TokenKind;

ship_findings::declare_rule! {
    /// ## What it reports
    /// `CONCURRENTLY` (`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`,
    /// `REINDEX … CONCURRENTLY`, `REFRESH MATERIALIZED VIEW CONCURRENTLY`…) in a migration
    /// that runs inside a transaction.
    ///
    /// ## Why
    /// PostgreSQL refuses these statements inside a transaction block, so the migration would
    /// fail at deploy time. ship runs every migration in a transaction unless its file starts
    /// with `-- ship:no-transaction`.
    ///
    /// ## How to fix
    /// Put the statement in a file of its own whose first line is `-- ship:no-transaction`.
    /// Such a file is recorded only when it succeeds; make it re-runnable (`IF NOT EXISTS`).
    ///
    /// ## Example
    /// ```sql
    /// -- ship:no-transaction
    /// CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at ON orders (created_at);
    /// ```
    pub struct ConcurrentlyInTransaction {
        id: "concurrently-in-transaction",
        severity: Error,
        summary: "a CONCURRENTLY statement in a migration that runs in a transaction",
    }
}

impl Rule for ConcurrentlyInTransaction {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn applies_to(&self, dialect: Dialect) -> bool {
        dialect == Dialect::Postgres
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        if cx.file.no_transaction {
            return;
        }
        let Some(t) = cx.tokens().iter().find(|t| {
            t.kind == TokenKind::Word && cx.token_text(t).eq_ignore_ascii_case("CONCURRENTLY")
        }) else {
            return;
        };
        out.push(cx.diag(
            &Self::INFO,
            (t.start, t.end),
            "CONCURRENTLY cannot run inside a transaction, and this migration runs in one".into(),
            "move the statement to a file of its own that starts with `-- ship:no-transaction`",
        ));
    }
}
