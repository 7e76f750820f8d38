#!/usr/bin/env bash
# A real OCI registry (Debian `docker-registry`, CNCF distribution 2.8) for tests, on 127.0.0.1
# with plain HTTP and filesystem storage.
#   registry.sh install          apt-get install docker-registry and apache2-utils (for bcrypt
#                                htpasswd); idempotent, runs apt-get update only when needed
#   registry.sh start PORT DIR   write DIR/config.yml (storage under DIR/data), start the registry
#                                in the background, wait until /v2/ answers, print its pid; stop it
#                                with `kill PID`. With AUTH=user:pass in the environment the
#                                registry requires HTTP basic auth (htpasswd file DIR/htpasswd).
# The log is DIR/registry.log.
set -euo pipefail

need_install() {
  ! command -v docker-registry >/dev/null 2>&1 || ! command -v htpasswd >/dev/null 2>&1
}

install() {
  if ! need_install; then return 0; fi
  export DEBIAN_FRONTEND=noninteractive
  local sudo=()
  if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
  # Only refresh the package lists when the package is unknown (a fresh image has none).
  if ! apt-cache show docker-registry >/dev/null 2>&1 || ! apt-cache show apache2-utils >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -q >&2
  fi
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends docker-registry apache2-utils >&2; then
    # Stale lists (a 404 for a superseded .deb): refresh once and retry.
    "${sudo[@]}" apt-get update -q >&2
    "${sudo[@]}" apt-get install -y -q --no-install-recommends docker-registry apache2-utils >&2
  fi
  # The package enables a system service on 127.0.0.1:5000 where init runs; tests use their own.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
    "${sudo[@]}" systemctl stop docker-registry || true
  fi
}

start() {
  local port="$1" dir="$2"
  install
  mkdir -p "$dir/data"
  dir="$(cd "$dir" && pwd)"
  local auth=""
  if [ -n "${AUTH:-}" ]; then
    local user="${AUTH%%:*}" pass="${AUTH#*:}"
    if [ "$user" = "$AUTH" ] || [ -z "$user" ]; then
      echo "AUTH must be user:pass" >&2; exit 2
    fi
    # distribution 2.8 only accepts bcrypt entries.
    htpasswd -Bbn "$user" "$pass" >"$dir/htpasswd"
    auth=$(printf 'auth:\n  htpasswd:\n    realm: ship-test\n    path: %s\n' "$dir/htpasswd")
  fi
  {
    printf 'version: 0.1\n'
    printf 'log:\n  level: info\n'
    printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$dir/data"
    printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
    if [ -n "$auth" ]; then printf '%s\n' "$auth"; fi
  } >"$dir/config.yml"

  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do
    # /v2/ answers 200 without auth and 401 with it: either means it is serving.
    local code
    code=$(python3 - "$port" <<'PY' 2>/dev/null || true
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/", timeout=0.5).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
)
    if [ "$code" = 200 ] || [ "$code" = 401 ]; then echo "$pid"; exit 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "docker-registry exited; log $dir/registry.log:" >&2; cat "$dir/registry.log" >&2; exit 1
    fi
    sleep 0.1
  done
  echo "docker-registry did not become ready on 127.0.0.1:$port; log $dir/registry.log:" >&2
  cat "$dir/registry.log" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
}

case "${1:-}" in
  install) install ;;
  start)
    start "${2:?usage: registry.sh start PORT DIR}" "${3:?usage: registry.sh start PORT DIR}"
    ;;
  *) echo "usage: registry.sh install | start PORT DIR   (AUTH=user:pass for basic auth)" >&2; exit 2 ;;
esac
