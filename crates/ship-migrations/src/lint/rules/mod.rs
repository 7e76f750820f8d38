//! The rules. One file per rule; the struct's doc comment is the rule's documentation (what it
//! reports, why, how to fix, an example), shown by `ship-run-migrations lint --explain RULE`
//! and carried into SARIF. [`registry`] lists every rule, in the order `--list-rules` prints.

use super::context::{Diagnostic, StatementCx};
use super::Dialect;
use ship_findings::RuleInfo;
use sqlparser::ast::{AlterTableOperation, ObjectName, Statement as Ast};

pub mod add_foreign_key_without_not_valid;
pub mod add_not_null_column_without_default;
pub mod add_unique_constraint;
pub mod alter_column_type;
pub mod concurrently_in_transaction;
pub mod create_index_without_concurrently;
pub mod drop_column;
pub mod drop_table;
pub mod invalid_annotation;
pub mod rename_column;
pub mod rename_table;
pub mod set_not_null;
pub mod transaction_control;
pub mod truncate;
pub mod unparseable_statement;
pub mod unused_allow;

/// A lint rule: looks at one statement at a time.
pub trait Rule: Send + Sync {
    fn info(&self) -> &'static RuleInfo;

    /// Report problems with `cx`'s statement. Rules that need the AST return early when
    /// `cx.ast` is `None`; token-based rules run on every statement.
    fn check(&self, _cx: &StatementCx<'_>, _out: &mut Vec<Diagnostic>) {}

    /// Whether the rule means anything for this database (most locking rules are
    /// PostgreSQL's: SQLite has no `CONCURRENTLY` and no `NOT VALID`).
    fn applies_to(&self, _dialect: Dialect) -> bool {
        true
    }
}

/// Every rule, in the order `--list-rules` prints them.
pub fn registry() -> &'static [&'static dyn Rule] {
    static RULES: &[&dyn Rule] = &[
        &drop_table::DropTable,
        &drop_column::DropColumn,
        &rename_table::RenameTable,
        &rename_column::RenameColumn,
        &alter_column_type::AlterColumnType,
        &add_not_null_column_without_default::AddNotNullColumnWithoutDefault,
        &set_not_null::SetNotNull,
        &create_index_without_concurrently::CreateIndexWithoutConcurrently,
        &add_foreign_key_without_not_valid::AddForeignKeyWithoutNotValid,
        &add_unique_constraint::AddUniqueConstraint,
        &truncate::Truncate,
        &concurrently_in_transaction::ConcurrentlyInTransaction,
        &transaction_control::TransactionControl,
        &unparseable_statement::UnparseableStatement,
        &invalid_annotation::InvalidAnnotation,
        &unused_allow::UnusedAllow,
    ];
    RULES
}

/// The rule with this id.
pub fn rule_by_id(id: &str) -> Option<&'static dyn Rule> {
    registry().iter().copied().find(|r| r.info().id == id)
}

/// Every rule's [`RuleInfo`], for SARIF.
pub fn rule_infos() -> Vec<RuleInfo> {
    registry().iter().map(|r| *r.info()).collect()
}

/// Each operation of an `ALTER TABLE` on a table that existed before this file, with the
/// table's name; nothing for any other statement. The walk every `ALTER TABLE` rule starts
/// with: a rule matches the operations it is about and skips the rest.
pub(crate) fn alter_table_ops<'a>(
    cx: &StatementCx<'a>,
) -> impl Iterator<Item = (&'a ObjectName, &'a AlterTableOperation)> + 'a {
    let alter = match cx.ast {
        Some(Ast::AlterTable(at)) if !cx.is_new_table(&at.name) => Some(at),
        _ => None,
    };
    alter
        .into_iter()
        .flat_map(|at| at.operations.iter().map(move |op| (&at.name, op)))
}
