//! `ship-tag-image` end to end: against a real OCI registry (Debian docker-registry), moto as
//! ECR, scripted HTTP stubs for faults, and without any server for tag computation.
//!
//! The servers are started by the tests (`tests/infra/registry.sh`, `tests/infra/moto.sh`)
//! and stopped when the test ends; a server that cannot start fails the test.

mod compute;
mod dry_run;
mod ecr;
mod errors;
mod floating;
mod registry;
mod support;
