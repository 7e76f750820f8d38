#!/usr/bin/env bash
# ship lint on input a pull request controls, at hostile sizes: is the time linear?
#
# Generates under bench/out/hostile/ (gitignored):
#   steps/      one job with 100,000 `run:` steps (a 2.8 MB workflow, under the default limit)
#   tainted/    one step whose script has 50,000 lines with ${{ github.event.pull_request.title }}
#   patterns/   the compliant example linted with a policy of 8,000 `commands` patterns
#   large/      a 25 MB workflow (5 x the steps above), linted with `limits.max-file-size: 64MB`
# and runs the release `ship lint` on each (BENCH_RUNS times, default 3), printing the median
# wall time and the peak RSS. Issue 16's bar: each of the first three well under a second.
#
# Usage: bench/lint-hostile.sh            (builds target/release/ship first)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/bench/out/hostile"
RUNS="${BENCH_RUNS:-3}"
SHIP="$ROOT/target/release/ship"

command -v /usr/bin/time >/dev/null || {
    echo "bench: GNU time is needed (Debian package \`time\`)" >&2
    exit 2
}
cargo build --release --quiet -p ship-cli --manifest-path "$ROOT/Cargo.toml"
rm -rf "$OUT"
mkdir -p "$OUT"

python3 - "$OUT" <<'PY'
import os, sys
out = sys.argv[1]
head = "name: hostile\non: pull_request\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"

def workflow(dir, text):
    os.makedirs(f"{out}/{dir}/.github/workflows", exist_ok=True)
    with open(f"{out}/{dir}/.github/workflows/ci.yml", "w") as f:
        f.write(text)

steps = "".join(f"      - run: echo step {i}\n" for i in range(100_000))
workflow("steps", head + steps)
tainted = "".join(
    f"          echo \"{i} ${{{{ github.event.pull_request.title }}}}\"\n" for i in range(50_000)
)
workflow("tainted", head + "      - run: |\n" + tainted)
workflow("large", head + steps * 9)
with open(f"{out}/large/policy.yml", "w") as f:
    f.write("version: 1\nlimits:\n  max-file-size: 64MB\n")
os.makedirs(f"{out}/patterns", exist_ok=True)
with open(f"{out}/patterns/policy.yml", "w") as f:
    f.write("version: 1\nci:\n  stages:\n    lint:\n      commands:\n")
    for i in range(8000):
        f.write(f"        - 'tool{i} (run|exec)\\b.*--flag{i}'\n")
PY

# name, size, then the ship lint arguments.
measure() {
    local name="$1" size="$2"
    shift 2
    local times=() rss=0
    for _ in $(seq "$RUNS"); do
        local start end kb code=0
        start=$(date +%s%N)
        /usr/bin/time -o "$OUT/rss" -f %M "$SHIP" lint "$@" --format json >/dev/null 2>"$OUT/stderr" || code=$?
        end=$(date +%s%N)
        # 0 and 1 (findings) are results; anything else is a failure to report.
        if ((code > 1)); then
            echo "bench: ship lint $* exited $code:" >&2
            cat "$OUT/stderr" >&2
            exit 1
        fi
        kb=$(tail -1 "$OUT/rss")
        times+=($(((end - start) / 1000000)))
        ((kb > rss)) && rss=$kb
    done
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
    printf '| %-40s | %8s | %9s ms | %6s MB |\n' "$name" "$size" "$median" "$((rss / 1024))"
}

size_of() { du -h "$1" | cut -f1; }
echo "ship $("$SHIP" --version | awk '{print $2}'), $(nproc) cores, median of $RUNS runs"
echo
printf '| %-40s | %8s | %12s | %9s |\n' input size "wall time" "peak RSS"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..42})" ---------- -------------- -----------
measure "100,000 run: steps in one job" "$(size_of "$OUT/steps/.github/workflows/ci.yml")" "$OUT/steps"
measure "50,000 tainted script lines" "$(size_of "$OUT/tainted/.github/workflows/ci.yml")" "$OUT/tainted"
measure "8,000 policy command patterns" "$(size_of "$OUT/patterns/policy.yml")" \
    "$ROOT/examples/compliant" --policy "$OUT/patterns/policy.yml"
measure "900,000 steps, max-file-size raised" "$(size_of "$OUT/large/.github/workflows/ci.yml")" \
    "$OUT/large" --policy "$OUT/large/policy.yml"
