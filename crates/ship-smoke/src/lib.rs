//! Smoke tests after a rollout, answering one question for the deploy workflow: roll back or
//! not.
//!
//! A [`spec`] (a YAML file, or the quick form built from flags) compiles to a [`Plan`]. A
//! [`Runner`] sends its checks in order, carrying captured values (`{{tenant_id}}`) from one
//! response to the next requests, compares the served version with the expected one, and
//! retries the whole sequence with backoff until it passes or the wait runs out. [`watch()`]
//! then keeps probing the safe checks and fails as soon as the error rate or p95 latency over
//! a rolling window breaks its limit. [`Report`] holds the verdict and renders it as JSON,
//! JUnit XML, a Markdown step summary, or text.

pub mod assert;
pub mod json_path;
pub mod observer;
pub mod probe;
pub mod report;
pub mod run;
pub mod spec;
pub mod stats;
pub mod status;
pub mod template;
mod units;
pub mod watch;

pub use observer::{Observer, Silent, WatchProgress};
pub use report::Report;
pub use run::{CheckOutcome, CheckResult, Runner, SequenceOutcome, WaitOutcome};
pub use spec::{load_file, quick, schema, Overrides, Plan, SpecError, SpecProblem};
pub use units::{format_duration, format_percent};
pub use watch::{watch, WatchConfig, WatchReport};

pub(crate) use units::{serialize_millis, serialize_millis_plain};
