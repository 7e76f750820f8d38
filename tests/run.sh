#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs and starts what the tests need, then runs
# every test in the workspace. README.md and .ci/run both call exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# The real servers the tests start (each script is idempotent and installs only what is
# missing): an OCI registry, moto's AWS server, PostgreSQL; and act, which runs the actions
# end to end (tests/e2e).
tests/infra/registry.sh install
tests/infra/moto.sh install
tests/infra/postgres.sh install
tests/infra/act.sh install

# Formatting and lints first: cheap, and they fail fast.
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# zizmor and actionlint over our workflows, actions, templates and what `ship init` generates
# (the script installs both into target/ on first use; it fails above informational).
tests/infra/workflow-linters.sh check

# Snapshot tests must match the committed snapshots exactly (never write new ones in CI).
export INSTA_UPDATE=no
# The end-to-end tests (tests/e2e) pack these binaries into the release archive they serve.
cargo build --workspace --bins --locked
cargo test --workspace --locked
