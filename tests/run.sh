#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs and starts what the tests need, then runs
# every test in the workspace. README.md and .ci/run both call exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# A one-shot run gains nothing from incremental compilation, and its cache is several GB.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# Say how much disk the build has before it starts: a full test build needs about 4 GB, and a
# machine that runs out mid-compile otherwise fails with a bare "No space left on device".
target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target_dir"
free_kb=$(df -Pk "$target_dir" | awk 'NR==2 {print $4}')
echo "tests/run.sh: $((free_kb / 1024 / 1024)) GB free for $target_dir" >&2
if [ "$free_kb" -lt $((5 * 1024 * 1024)) ]; then
    echo "tests/run.sh: warning: less than 5 GB free under $target_dir; the build may run out of space (free some, or point CARGO_TARGET_DIR at a larger disk)" >&2
fi

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
