//! GitHub Actions workflow files as a typed model over a YAML tree that keeps line and column
//! for every node, so each lint finding can point at the exact key or value at fault.
//!
//! [`yaml`] parses with limits (depth, alias expansion) that make hostile input safe;
//! [`workflow`] gives the typed view; [`spec`] says what GitHub accepts in each section; [`expr`] finds `${{ }}` expressions; [`schema`] checks a
//! parsed file against a JSON Schema and reports each problem at its line.

pub mod action;
pub mod expr;
pub mod schema;
pub mod spec;
pub mod workflow;
pub mod yaml;

pub use workflow::{
    ActionRef, EnvironmentRef, Job, Step, StepGroup, Trigger, Workflow, WorkflowInput,
};
pub use yaml::{Entry, Limits, Node, Pos, Source, Span, Value, YamlError};
