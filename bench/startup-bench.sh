#!/usr/bin/env bash
# Startup of ship's actions under act (no Docker): the time from a job's first step to the
# action's binary having run, with a warm tool cache and with a cold download of the release
# archive from a local HTTP server (so "excluding network" in the targets: <1 s warm, <3 s cold).
#
#   bench/startup-bench.sh [RUNS]      default 5 runs of each; prints a Markdown table
#
# The job: step 1 records the time, step 2 is `uses: org/ship/tag-image@v1` with
# push: false (install + the binary computing its outputs, no registry), step 3 records the
# time. Cold runs get a fresh HOME (act's tool cache lives under it); warm runs reuse one whose
# cache a previous run filled. The archive holds the release binaries from target/release when
# all six exist, else the dev binaries stripped of debug info (sizes are printed).
# Needs: cargo build (release or dev) of the six binaries, python3, act (tests/infra/act.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-5}"
bins=(ship ship-tag-image ship-run-migrations ship-ecs-rollout ship-smoke-test ship-rollback)

act="$("$root/tests/infra/act.sh" bin)"
work="$(mktemp -d "${TMPDIR:-/tmp}/ship-startup-bench.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The release archive, as release.yml publishes it (docs/install.md).
version="$(awk '/^\[workspace\.package\]/{p=1;next} /^\[/{p=0} p && /^version *=/{gsub(/.*= *"|".*/,"");print;exit}' "$root/Cargo.toml")"
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) target=x86_64-unknown-linux-gnu ;;
  Linux/aarch64) target=aarch64-unknown-linux-gnu ;;
  Darwin/arm64) target=aarch64-apple-darwin ;;
  *) echo "startup-bench: no release target for $(uname -s)/$(uname -m)" >&2; exit 2 ;;
esac
profile=release
for b in "${bins[@]}"; do [ -x "$root/target/release/$b" ] || profile=debug; done
stage="$work/stage"
mkdir -p "$stage" "$work/releases/v$version"
for b in "${bins[@]}"; do
  [ -x "$root/target/$profile/$b" ] || { echo "startup-bench: build the binaries first (cargo build --workspace --bins)" >&2; exit 2; }
  if [ "$profile" = debug ]; then strip --strip-debug -o "$stage/$b" "$root/target/debug/$b"
  else cp "$root/target/release/$b" "$stage/$b"; fi
done
archive="ship-v$version-$target.tar.gz"
tar -czf "$work/releases/v$version/$archive" -C "$stage" "${bins[@]}"
(cd "$work/releases/v$version" && sha256sum "$archive" >"ship-v$version-SHA256SUMS")
size_mb="$(du -m "$work/releases/v$version/$archive" | cut -f1)"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 -m http.server --bind 127.0.0.1 --directory "$work/releases" "$port" >"$work/http.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/v$version/ship-v$version-SHA256SUMS" && break
  sleep 0.1
done

# The action repository as a runner gets it (tracked and new files; no target/).
mkdir -p "$work/ship"
(cd "$root" && git ls-files -z --cached --others --exclude-standard) |
  (cd "$root" && xargs -0 -I{} sh -c '[ -f "$1" ] && mkdir -p "$2/$(dirname "$1")" && cp "$1" "$2/$1" || true' _ {} "$work/ship")

repo="$work/consumer"
mkdir -p "$repo/.github/workflows"
cat >"$repo/.github/workflows/startup.yml" <<'EOF'
name: startup
on: workflow_dispatch
permissions:
  contents: read
jobs:
  startup:
    runs-on: ubuntu-latest
    steps:
      - run: date +%s.%N > "$BENCH_OUT/start"
      - uses: org/ship/tag-image@v1
        with:
          image: 127.0.0.1:1/api
          release-version: v1.2.3
          sha: abc1234def567890abc1234def567890abc12345
          push: "false"
      - run: date +%s.%N > "$BENCH_OUT/end"
EOF
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -qm bench

# One act run; prints milliseconds from the first step to after the binary.
one() {
  local home="$1"
  mkdir -p "$home" "$work/out"
  rm -f "$work/out/start" "$work/out/end"
  (cd "$repo" && env -i PATH="$PATH" HOME="$home" "$act" workflow_dispatch \
    -P ubuntu-latest=-self-hosted --no-cache-server \
    --local-repository "org/ship@v1=$work/ship" \
    --env "SHIP_DOWNLOAD_BASE=http://127.0.0.1:$port" --env "BENCH_OUT=$work/out" \
    </dev/null >"$work/act.log" 2>&1) || { cat "$work/act.log" >&2; echo "startup-bench: act failed" >&2; exit 1; }
  python3 -c 'import sys; print(round((float(open(sys.argv[2]).read())-float(open(sys.argv[1]).read()))*1000))' \
    "$work/out/start" "$work/out/end"
}

median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

cold=() warm=()
for i in $(seq 1 "$runs"); do cold+=("$(one "$work/home-cold-$i")"); done
one "$work/home-warm" >/dev/null # fills the cache
for _ in $(seq 1 "$runs"); do warm+=("$(one "$work/home-warm")"); done

echo "| Tool cache | Runs | Median (ms) | Min (ms) | Max (ms) |"
echo "|---|---:|---:|---:|---:|"
for kind in warm cold; do
  declare -n xs="$kind"
  printf '| %s | %s | %s | %s | %s |\n' "$kind" "$runs" \
    "$(printf '%s\n' "${xs[@]}" | median)" \
    "$(printf '%s\n' "${xs[@]}" | sort -n | head -1)" \
    "$(printf '%s\n' "${xs[@]}" | sort -n | tail -1)"
done
echo
echo "archive: $archive, ${size_mb} MB ($profile binaries$([ "$profile" = debug ] && echo ', debug info stripped')); act $("$act" --version | awk '{print $3}'); $(nproc) cores"
