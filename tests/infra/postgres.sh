#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests (Debian's `postgresql` package), on 127.0.0.1.
#   postgres.sh install          apt-get install postgresql if initdb is missing; idempotent, runs
#                                apt-get update only when needed
#   postgres.sh start DIR PORT   initdb DIR/data (trust auth, no fsync) as the unprivileged
#                                `postgres` user when run as root (initdb refuses root), start the
#                                server on 127.0.0.1:PORT with its socket in DIR, wait until it
#                                accepts connections, and print postgres://postgres@127.0.0.1:PORT/postgres
#                                With OWNER_PID=<pid> in the environment, a watchdog stops the
#                                cluster and deletes DIR once that process has exited (so a test
#                                run that crashes leaves no server behind).
#   postgres.sh stop DIR         stop the cluster in DIR (fast shutdown) and delete DIR
# DIR must not exist yet (or be empty), and its parent must be traversable by the `postgres`
# user (e.g. /tmp/ship-pg-XXXX, not a directory inside a 0700 temp dir). The log is DIR/log.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; fi
}

install() {
  if [ -n "$(bindir)" ]; then return 0; fi
  export DEBIAN_FRONTEND=noninteractive
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "PostgreSQL is not installed and installing it needs root (or sudo): apt-get install postgresql"
    sudo=(sudo)
  fi
  # Only refresh the package lists when the package is unknown (a fresh image has none).
  if ! apt-cache show postgresql >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -q >&2
  fi
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends postgresql >&2; then
    # Stale lists (a 404 for a superseded .deb): refresh once and retry.
    "${sudo[@]}" apt-get update -q >&2
    "${sudo[@]}" apt-get install -y -q --no-install-recommends postgresql >&2
  fi
  [ -n "$(bindir)" ] || die "installed postgresql but found no /usr/lib/postgresql/*/bin/initdb"
  # The package starts a system cluster on 5432 where init runs; tests use their own.
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for c in /etc/postgresql/*/main; do
      [ -d "$c" ] || continue
      v="$(basename "$(dirname "$c")")"
      "${sudo[@]}" pg_ctlcluster "$v" main stop >/dev/null 2>&1 || true
    done
  fi
}

# Run a command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local dir="${1:?usage: postgres.sh start DIR PORT}" port="${2:?usage: postgres.sh start DIR PORT}"
  [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number (got '$port')"
  install
  local bin
  bin="$(bindir)"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [ -n "$(ls -A "$dir")" ]; then die "$dir is not empty"; fi
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user (the postgresql package creates it)"
    chown postgres:postgres "$dir"
    runuser -u postgres -- test -x "$dir" \
      || die "the postgres user cannot reach $dir: put it under a directory every user can traverse (e.g. /tmp)"
  fi
  touch "$dir/.ship-test-cluster"
  if ! as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed in $dir/data"
  fi
  if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
      start >"$dir/pg_ctl.log" 2>&1; then
    cat "$dir/pg_ctl.log" >&2
    tail -n 30 "$dir/log" >&2 2>/dev/null || true
    die "PostgreSQL did not start on 127.0.0.1:$port (see above)"
  fi
  if [ -n "${OWNER_PID:-}" ]; then
    # Detached, with no inherited pipes, so the caller's `$(...)` or output capture returns.
    setsid bash -c '
      while kill -0 "$1" 2>/dev/null; do sleep 2; done
      if [ -f "$3/data/postmaster.pid" ]; then
        if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$2/pg_ctl" -D "$3/data" -m immediate stop
        else "$2/pg_ctl" -D "$3/data" -m immediate stop; fi
      fi
      rm -rf "$3"
    ' watchdog "$OWNER_PID" "$bin" "$dir" </dev/null >/dev/null 2>&1 &
  fi
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

stop() {
  local dir="${1:?usage: postgres.sh stop DIR}"
  [ -d "$dir" ] || return 0
  [ -f "$dir/.ship-test-cluster" ] || die "$dir was not made by postgres.sh start; not touching it"
  local bin
  bin="$(bindir)"
  if [ -f "$dir/data/postmaster.pid" ] && [ -n "$bin" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  install) install ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: $0 install | start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
