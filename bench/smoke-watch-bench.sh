#!/usr/bin/env bash
# smoke-watch-bench.sh — how many requests per second `ship-smoke-test --watch` sustains from
# one core, and its peak memory, side by side with wrk on the same endpoint.
#
# A tiny single-threaded axum server (crates/ship-smoke-test-cli/examples/bench_server.rs) is
# pinned to one core and serves GET /health; ship and wrk are pinned to another, one after the
# other, for BENCH_SECS each:
#   - ship at the target rate (BENCH_RPS, default 500): does it keep up, and at what CPU cost;
#   - ship flat out (BENCH_MAX_RPS, default 10000, the highest --rps): its ceiling;
#   - wrk -t1 -c16 (closed loop, as fast as it can): the reference for the same endpoint/core.
#
# Usage:  bench/smoke-watch-bench.sh
# Environment:
#   SHIP_SMOKE_BIN   ship-smoke-test binary (default: cargo build --release)
#   BENCH_SERVER     bench server binary     (default: cargo build --release --example bench_server)
#   BENCH_SECS       seconds per run (default 10)
#   BENCH_RPS        target rate (default 500)
#   BENCH_MAX_RPS    rate for the ceiling run (default 10000)
#   SHIP_CORE, SERVER_CORE  cores to pin to (default 0 and 1; 0 and 0 on a 1-core machine)
# Output: a Markdown table on stdout; JSON in bench/out/smoke-watch-bench.json; logs in
# bench/out/smoke-logs/. Exit status 0 when everything ran (targets are informational).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/out"
LOGS="$OUT/smoke-logs"
SECS="${BENCH_SECS:-10}"
RPS="${BENCH_RPS:-500}"
MAX_RPS="${BENCH_MAX_RPS:-10000}"
NPROC="$(nproc)"
SHIP_CORE="${SHIP_CORE:-0}"
SERVER_CORE="${SERVER_CORE:-$(( NPROC > 1 ? 1 : 0 ))}"
TIME_BIN=/usr/bin/time

log() { printf '[smoke-bench] %s\n' "$*" >&2; }
die() { printf '[smoke-bench] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$SECS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECS must be a positive integer"
mkdir -p "$OUT" "$LOGS"

apt_install() { # package binary
    command -v "$2" >/dev/null && return 0
    log "$2 missing: installing Debian package '$1'"
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null || die "need root (or sudo) to apt-get install $1"
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y --no-install-recommends "$1" >/dev/null 2>&1 || {
        "${sudo[@]}" apt-get update >/dev/null
        "${sudo[@]}" apt-get install -y --no-install-recommends "$1" >/dev/null
    }
    command -v "$2" >/dev/null || die "could not install $1"
}
apt_install wrk wrk
apt_install util-linux taskset
[[ -x "$TIME_BIN" ]] || apt_install time time
"$TIME_BIN" -f '%M' -o /dev/null true 2>/dev/null || die "$TIME_BIN is not GNU time"
command -v python3 >/dev/null || die "python3 is needed for the report"

target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
[[ "$target_dir" = /* ]] || target_dir="$ROOT/$target_dir"
if [[ -z "${SHIP_SMOKE_BIN:-}" || -z "${BENCH_SERVER:-}" ]]; then
    # Two builds: together, the example's dev-dependencies would change the binary's features.
    log "building: cargo build --release -p ship-smoke-test-cli (binary, then --example bench_server)"
    (cd "$ROOT" && cargo build --release --locked -p ship-smoke-test-cli --bin ship-smoke-test >&2 \
        && cargo build --release --locked -p ship-smoke-test-cli --example bench_server >&2)
fi
SHIP="${SHIP_SMOKE_BIN:-$target_dir/release/ship-smoke-test}"
SERVER="${BENCH_SERVER:-$target_dir/release/examples/bench_server}"
[[ -x "$SHIP" ]] || die "not executable: $SHIP"
[[ -x "$SERVER" ]] || die "not executable: $SERVER"

# ---------------------------------------------------------------- server
SERVER_PID=""
cleanup() { [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; true; }
trap cleanup EXIT
taskset -c "$SERVER_CORE" "$SERVER" 127.0.0.1:0 >"$LOGS/server.out" 2>"$LOGS/server.err" &
SERVER_PID=$!
ADDR=""
for _ in $(seq 1 100); do
    ADDR="$(sed -n 's/^listening on //p' "$LOGS/server.out" 2>/dev/null || true)"
    [[ -n "$ADDR" ]] && break
    sleep 0.05
done
[[ -n "$ADDR" ]] || die "bench server did not start: $(cat "$LOGS/server.err")"
URL="http://$ADDR/health"
log "server on $URL (core $SERVER_CORE); ship and wrk on core $SHIP_CORE; $SECS s per run"
LOAD_START="$(cut -d' ' -f1 /proc/loadavg)"

# ---------------------------------------------------------------- runs
ship_run() { # name rps
    local name="$1" rps="$2"
    log "ship-smoke-test --watch ${SECS}s --rps $rps"
    local rc=0
    taskset -c "$SHIP_CORE" "$TIME_BIN" -f '%M %U %S %e' -o "$LOGS/$name.time" \
        "$SHIP" --url "$URL" --wait-timeout 10s --watch "${SECS}s" --rps "$rps" \
        --max-error-rate 100% --format json >"$LOGS/$name.json" 2>"$LOGS/$name.err" || rc=$?
    [[ "$rc" -eq 0 ]] || die "ship-smoke-test exited $rc: $(tail -n 20 "$LOGS/$name.err")"
}
ship_run ship-target "$RPS"
ship_run ship-max "$MAX_RPS"

log "wrk -t1 -c16 -d${SECS}s"
taskset -c "$SHIP_CORE" "$TIME_BIN" -f '%M %U %S %e' -o "$LOGS/wrk.time" \
    wrk -t1 -c16 -d"${SECS}s" --latency "$URL" >"$LOGS/wrk.out" 2>&1 || die "wrk failed: $(cat "$LOGS/wrk.out")"

# ---------------------------------------------------------------- report
export LOGS OUT SECS RPS MAX_RPS NPROC LOAD_START URL
export V_SHIP="$("$SHIP" --version)" V_WRK="$(wrk --version 2>&1 | head -n 1 || true)"
export CPU_MODEL="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)"
python3 - <<'EOF'
import json, os, re, datetime

env = os.environ
logs = env["LOGS"]

def gnu_time(name):
    kib, user, sys, wall = open(f"{logs}/{name}.time").read().split()[-4:]
    return {"rss_mb": int(kib) / 1024, "cpu_s": float(user) + float(sys), "wall_s": float(wall)}

rows = []
for name, target in (("ship-target", float(env["RPS"])), ("ship-max", float(env["MAX_RPS"]))):
    report = json.load(open(f"{logs}/{name}.json"))
    w = report["watch"]
    secs = w["watched"] / 1000
    t = gnu_time(name)
    rows.append({
        "tool": "ship-smoke-test", "run": name, "target_rps": target,
        "requests": w["requests"], "seconds": secs, "rps": w["requests"] / secs,
        "errors": w["errors"], "skipped": w["skipped"], "p50_ms": w["p50"], "p95_ms": w["p95"],
        "cpu_share": t["cpu_s"] / t["wall_s"], "peak_rss_mb": t["rss_mb"],
    })

wrk = open(f"{logs}/wrk.out").read()
def wrk_ms(label):
    m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", wrk)
    if not m:
        return None
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
m = re.search(r"(\d+) requests in ([\d.]+)s", wrk)
t = gnu_time("wrk")
rows.append({
    "tool": "wrk", "run": "wrk -t1 -c16", "target_rps": None,
    "requests": int(m.group(1)), "seconds": float(m.group(2)),
    "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1)),
    "errors": 0, "skipped": 0, "p50_ms": wrk_ms("50%"), "p95_ms": None,
    "cpu_share": t["cpu_s"] / t["wall_s"], "peak_rss_mb": t["rss_mb"],
})

target_row, max_row = rows[0], rows[1]
targets = [
    {"name": f"ship sustains >= 500 req/s from one core", "value": max_row["rps"], "pass": max_row["rps"] >= 500},
    {"name": f"ship keeps the {env['RPS']} req/s target rate", "value": target_row["rps"],
     "pass": target_row["rps"] >= 0.97 * float(env["RPS"]) and target_row["skipped"] == 0},
    {"name": "ship peak RSS < 20 MB", "value": max(r["peak_rss_mb"] for r in rows[:2]),
     "pass": max(r["peak_rss_mb"] for r in rows[:2]) < 20},
]
meta = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "nproc": int(env["NPROC"]), "cpu": env["CPU_MODEL"], "loadavg_1min_at_start": float(env["LOAD_START"]),
    "seconds_per_run": int(env["SECS"]), "url": env["URL"],
    "versions": {"ship-smoke-test": env["V_SHIP"], "wrk": env["V_WRK"]},
}
json.dump({"meta": meta, "results": rows, "targets": targets},
          open(f"{env['OUT']}/smoke-watch-bench.json", "w"), indent=2)

fmt = lambda v, spec: "—" if v is None else format(v, spec)
print(f"## ship-smoke-test watch vs wrk — {meta['date']}\n")
print(f"GET {env['URL']} (tiny axum server on its own core); client pinned to one core; "
      f"{env['SECS']} s per run. nproc={meta['nproc']}, {meta['cpu']}, load {meta['loadavg_1min_at_start']} at start.\n")
print("| Client | Rate asked | Requests/s | Requests | Errors | Not sent | p50 (ms) | p95 (ms) | CPU (share of a core) | Peak RSS (MB) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    name = r["tool"] if r["tool"] == "wrk" else f"ship-smoke-test --watch"
    asked = "closed loop, 16 conns" if r["target_rps"] is None else f"--rps {r['target_rps']:.0f}"
    print(f"| {name} | {asked} | {r['rps']:,.0f} | {r['requests']:,} | {r['errors']} | {r['skipped']:,} | "
          f"{fmt(r['p50_ms'], '.2f')} | {fmt(r['p95_ms'], '.2f')} | {r['cpu_share']:.2f} | {r['peak_rss_mb']:.1f} |")
print()
for t in targets:
    v = f"{t['value']:.1f} MB" if "RSS" in t["name"] else f"{t['value']:,.0f} req/s"
    print(f"- {'PASS' if t['pass'] else 'FAIL'}: {t['name']} (measured {v})")
print(f"\nJSON: {env['OUT']}/smoke-watch-bench.json")
EOF
