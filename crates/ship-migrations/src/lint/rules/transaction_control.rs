use super::Rule;
use crate::lint::context::{Diagnostic, StatementCx};

ship_findings::declare_rule! {
    /// ## What it reports
    /// `BEGIN`, `START TRANSACTION`, `COMMIT`, `END`, `ROLLBACK` or `ABORT` in a migration
    /// that runs inside a transaction.
    ///
    /// ## Why
    /// ship runs each migration in its own transaction and records it in the history table
    /// in that same transaction. A `COMMIT` in the middle would make half the migration
    /// permanent before it is recorded, which is exactly the "dirty database" state ship
    /// exists to prevent. `ship-run-migrations up` refuses such files too.
    ///
    /// ## How to fix
    /// Delete the transaction statements: the migration is already atomic. A file that really
    /// must manage its own transactions (batched backfills) starts with
    /// `-- ship:no-transaction`.
    ///
    /// ## Example
    /// ```sql
    /// -- no BEGIN / COMMIT needed
    /// ALTER TABLE orders ADD COLUMN note text;
    /// ```
    pub struct TransactionControl {
        id: "transaction-control",
        severity: Error,
        summary: "a migration that runs in a transaction controls transactions itself",
    }
}

impl Rule for TransactionControl {
    fn info(&self) -> &'static ship_findings::RuleInfo {
        &Self::INFO
    }

    fn check(&self, cx: &StatementCx<'_>, out: &mut Vec<Diagnostic>) {
        if cx.file.no_transaction {
            return;
        }
        let Some((_, word)) = cx
            .file
            .transaction_control()
            .into_iter()
            .find(|(i, _)| *i == cx.index)
        else {
            return;
        };
        let first = cx.tokens()[0];
        out.push(cx.diag(
            &Self::INFO,
            (first.start, first.end),
            format!("`{word}` in a migration that already runs in its own transaction"),
            "remove it (the migration is one transaction already), or start the file with \
             `-- ship:no-transaction` if it must manage transactions itself",
        ));
    }
}
