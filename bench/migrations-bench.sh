#!/usr/bin/env bash
# migrations-bench.sh — apply 1,000 small migrations to a fresh PostgreSQL with
# ship-run-migrations and with `sqlx migrate run` (crates.io sqlx-cli), on the same files in the
# same run, and time `ship-run-migrations lint` on the 1,000 files.
#
# Usage:  bench/migrations-bench.sh            (from anywhere)
#
# Environment:
#   BENCH_MIGRATIONS   number of migrations to generate (default 1000)
#   BENCH_RUNS         measured runs per tool, each on a fresh database (default 3)
#   SHIP_RUN_MIGRATIONS_BIN  binary to benchmark; when set, cargo build is skipped
#                      (default: cargo build --release -p ship-run-migrations-cli)
#   SQLX_BIN           sqlx-cli binary; default bench/out/sqlx/bin/sqlx, installed there with
#                      `cargo install sqlx-cli --no-default-features --features postgres,rustls
#                      --locked --root bench/out/sqlx` when missing (several minutes)
#
# Needs PostgreSQL (tests/infra/postgres.sh installs Debian's package when missing and starts a
# throwaway cluster on 127.0.0.1; stopped on exit).
# Output: a Markdown table on stdout, JSON in bench/out/migrations-bench.json.
# Exit status: 0 when both tools applied every migration (targets are informational).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/out"
WORK="$OUT/migrations-bench"
N="${BENCH_MIGRATIONS:-1000}"
RUNS="${BENCH_RUNS:-3}"
PG="$ROOT/tests/infra/postgres.sh"

log() { printf '[migrations-bench] %s\n' "$*" >&2; }
die() { printf '[migrations-bench] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "BENCH_MIGRATIONS must be a positive integer"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
mkdir -p "$OUT"

# ---------------------------------------------------------------- binaries
if [[ -n "${SHIP_RUN_MIGRATIONS_BIN:-}" ]]; then
  SHIP="$SHIP_RUN_MIGRATIONS_BIN"
else
  log "building: cargo build --release -p ship-run-migrations-cli"
  (cd "$ROOT" && cargo build --release --locked -p ship-run-migrations-cli >&2)
  SHIP="${CARGO_TARGET_DIR:-$ROOT/target}/release/ship-run-migrations"
  [[ "$SHIP" = /* ]] || SHIP="$ROOT/$SHIP"
fi
[[ -x "$SHIP" ]] || die "not executable: $SHIP"

SQLX="${SQLX_BIN:-$OUT/sqlx/bin/sqlx}"
if [[ ! -x "$SQLX" ]]; then
  log "installing sqlx-cli into $OUT/sqlx (cargo install, several minutes)"
  cargo install sqlx-cli --no-default-features --features postgres,rustls --locked --root "$OUT/sqlx" >&2
  SQLX="$OUT/sqlx/bin/sqlx"
fi
V_SHIP="$("$SHIP" --version)"
V_SQLX="$("$SQLX" --version)"

# ---------------------------------------------------------------- PostgreSQL
"$PG" install
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
PGDIR="/tmp/ship-bench-pg-$$"
cleanup() { "$PG" stop "$PGDIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT
ADMIN_URL="$(OWNER_PID=$$ "$PG" start "$PGDIR" "$PORT")"
BASE="postgres://postgres@127.0.0.1:$PORT"
PSQL="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql"
psql_admin() { "$PSQL" "$ADMIN_URL" -v ON_ERROR_STOP=1 -qAtc "$1"; }
PG_VERSION="$(psql_admin 'SHOW server_version')"
log "PostgreSQL $PG_VERSION on 127.0.0.1:$PORT ($PGDIR), fsync off"

# ---------------------------------------------------------------- migrations
# Small, realistic migrations that pass the lint: a table with a default, an index on the
# new table, a few rows; every 10th also adds a nullable column to an older table. File names
# are NNNN_name.sql, which sqlx-cli also reads (version NNNN, description name).
MIG="$WORK/migrations"
rm -rf "$MIG"
mkdir -p "$MIG"
width=${#N}
(( width < 4 )) && width=4
for ((i = 1; i <= N; i++)); do
  printf -v v "%0${width}d" "$i"
  {
    printf -- '-- migration %s\n' "$v"
    printf 'CREATE TABLE t%s (id bigint PRIMARY KEY, name text NOT NULL DEFAULT '"''"', created_at timestamptz NOT NULL DEFAULT now());\n' "$v"
    printf 'CREATE INDEX t%s_name ON t%s (name);\n' "$v" "$v"
    printf "INSERT INTO t%s (id, name) VALUES (1, 'a'), (2, 'b');\n" "$v"
    if (( i % 10 == 0 )); then
      printf -v prev "%0${width}d" "$((i - 5))"
      printf 'ALTER TABLE t%s ADD COLUMN note text;\n' "$prev"
    fi
  } >"$MIG/${v}_create_t${v}.sql"
done
log "generated $N migrations in $MIG"

# ---------------------------------------------------------------- measurement
if [[ -n "${EPOCHREALTIME:-}" ]]; then
  now_us() { REPLY="${EPOCHREALTIME/[.,]/}"; REPLY=$((10#$REPLY)); }
else
  now_us() { REPLY=$(( $(date +%s%N) / 1000 )); }
fi

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
LOGS="$WORK/logs"
mkdir -p "$LOGS"

# time_cmd tool run -- command...: runs the command, records seconds, aborts on failure.
time_cmd() {
  local tool="$1" run="$2"; shift 3
  local t0 t1 rc=0
  now_us; t0=$REPLY
  "$@" >"$LOGS/$tool-$run.out" 2>"$LOGS/$tool-$run.err" || rc=$?
  now_us; t1=$REPLY
  if (( rc != 0 )); then
    tail -n 30 "$LOGS/$tool-$run.err" >&2
    die "$tool failed (exit $rc) on run $run"
  fi
  printf '%s\t%s\t%s\n' "$tool" "$run" "$((t1 - t0))" >>"$RESULTS"
  log "$tool run $run: $(awk -v u=$((t1 - t0)) 'BEGIN{printf "%.3f", u/1e6}') s"
}

count() { "$PSQL" "$BASE/$1" -qAtc "SELECT count(*) FROM $2"; }

for ((r = 1; r <= RUNS; r++)); do
  for tool in sqlx ship ship-no-lint; do
    db="bench_${tool//-/_}_$r"
    psql_admin "CREATE DATABASE $db"
    case "$tool" in
      sqlx) time_cmd sqlx "$r" -- "$SQLX" migrate run --database-url "$BASE/$db" --source "$MIG"
            got="$(count "$db" _sqlx_migrations)" ;;
      ship) time_cmd ship "$r" -- "$SHIP" up --database-url "$BASE/$db" --dir "$MIG"
            got="$(count "$db" schema_migrations)" ;;
      ship-no-lint) time_cmd ship-no-lint "$r" -- "$SHIP" up --no-lint --database-url "$BASE/$db" --dir "$MIG"
            got="$(count "$db" schema_migrations)" ;;
    esac
    [[ "$got" == "$N" ]] || die "$tool recorded $got migrations, expected $N"
    psql_admin "DROP DATABASE $db"
  done
done

# Lint: 1,000 files, no database.
for ((r = 1; r <= 5; r++)); do
  time_cmd lint "$r" -- "$SHIP" lint --dir "$MIG" --format json
done
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["summary"]["files"] == int(sys.argv[2]), d["summary"]' \
  "$LOGS/lint-1.out" "$N" || die "lint did not read every file"

# ---------------------------------------------------------------- report
export RESULTS N RUNS V_SHIP V_SQLX PG_VERSION OUT
B_NPROC="$(nproc)" B_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)" B_LOAD="$(cut -d' ' -f1 /proc/loadavg)" \
B_CPU="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)" \
python3 - <<'EOF'
import json, os, statistics
env = os.environ
times = {}
with open(env["RESULTS"]) as fh:
    for line in fh:
        tool, run, us = line.split("\t")
        times.setdefault(tool, []).append(int(us) / 1e6)
med = {t: statistics.median(v) for t, v in times.items()}
n = int(env["N"])
targets = [
    {"name": f"ship up <= sqlx migrate run ({n} migrations)", "value": med["ship"], "limit": med["sqlx"], "pass": med["ship"] <= med["sqlx"]},
    {"name": f"ship lint of {n} files < 1 s", "value": med["lint"], "limit": 1.0, "pass": med["lint"] < 1.0},
]
doc = {
    "meta": {"date": env["B_DATE"], "nproc": int(env["B_NPROC"]), "cpu": env["B_CPU"],
             "loadavg_1min_at_end": float(env["B_LOAD"]), "postgres": env["PG_VERSION"],
             "migrations": n, "runs": int(env["RUNS"]),
             "versions": {"ship-run-migrations": env["V_SHIP"], "sqlx-cli": env["V_SQLX"]}},
    "times_s": times, "median_s": med, "targets": targets,
}
with open(os.path.join(env["OUT"], "migrations-bench.json"), "w") as fh:
    json.dump(doc, fh, indent=2)
    fh.write("\n")
print(f"## ship-run-migrations vs sqlx-cli — {env['B_DATE']}\n")
print(f"{n} generated migrations (3–4 statements each) applied to a fresh database of a local "
      f"PostgreSQL {env['PG_VERSION']} (fsync off), median of {env['RUNS']} runs; "
      f"nproc={env['B_NPROC']}, {env['B_CPU']}.\n")
print(f"Versions: `{env['V_SHIP']}`, `{env['V_SQLX']}`\n")
print("| Command | Median (s) | Migrations/s | Runs (s) |")
print("|---|---:|---:|---|")
rows = [("sqlx migrate run", "sqlx"), ("ship-run-migrations up (lint + apply)", "ship"),
        ("ship-run-migrations up --no-lint", "ship-no-lint")]
for label, key in rows:
    print(f"| {label} | {med[key]:.3f} | {n / med[key]:,.0f} | {', '.join(f'{t:.3f}' for t in times[key])} |")
print(f"| ship-run-migrations lint ({n} files) | {med['lint']:.3f} | {n / med['lint']:,.0f} files/s | {', '.join(f'{t:.3f}' for t in times['lint'])} |")
print()
for t in targets:
    print(f"- {'PASS' if t['pass'] else 'FAIL'}: {t['name']} (measured {t['value']:.3f} s, limit {t['limit']:.3f} s)")
print(f"\nJSON: {os.path.join(env['OUT'], 'migrations-bench.json')}")
EOF
