#!/usr/bin/env bash
# moto's server as a local AWS (ECS, ECR) for tests. Installs into a venv the project owns.
#   moto.sh install          install moto[server] into $SHIP_TEST_VENV (default target/test-venv)
#   moto.sh bin              print the moto_server path (installing first if needed)
#   moto.sh start PORT       start it on 127.0.0.1:PORT in the background, wait until ready,
#                            print its pid; stop it with `kill PID`
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${SHIP_TEST_VENV:-$root/target/test-venv}"

install() {
  if [ ! -x "$venv/bin/moto_server" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6' >&2
  fi
}

case "${1:-}" in
  install) install ;;
  bin) install; echo "$venv/bin/moto_server" ;;
  start)
    port="${2:?usage: moto.sh start PORT}"
    install
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"${TMPDIR:-/tmp}/moto-$port.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
      if python3 - "$port" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=0.5)
PY
      then echo "$pid"; exit 0; fi
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "moto_server exited; log: ${TMPDIR:-/tmp}/moto-$port.log" >&2; cat "${TMPDIR:-/tmp}/moto-$port.log" >&2; exit 1
      fi
      sleep 0.1
    done
    echo "moto_server did not become ready on port $port" >&2; kill "$pid" || true; exit 1
    ;;
  *) echo "usage: moto.sh install|bin|start PORT" >&2; exit 2 ;;
esac
