//! ship's migration runner and backward-compatibility gate.
//!
//! - [`source`]: migration files (`NNNN_name.sql`, `NNNN_name.down.sql`), CRLF-normalised
//!   SHA-256 checksums, the `-- ship:no-transaction` directive.
//! - [`sql`]: a psql-style statement splitter, so each statement runs (and fails) on its own.
//! - [`db`]: PostgreSQL and SQLite connections, the history table, and the run lock
//!   (a PostgreSQL advisory lock; a lock row taken with `BEGIN IMMEDIATE` on SQLite).
//! - [`runner`]: `up`, `down`, `status`, `plan`, `verify` and `--command` mode.
//! - [`lint`]: the rules that keep a migration safe for the old code still running during a
//!   rolling deploy, reported as [`ship_findings::Finding`]s like `ship lint`.

pub mod db;
pub mod error;
pub mod lint;
pub mod runner;
pub mod source;
pub mod sql;

pub use error::Error;
