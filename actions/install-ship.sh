#!/usr/bin/env bash
# Puts ship's binaries on the runner, for every action in this repository (docs/install.md).
#   install-ship.sh [BINARY...]     default: all six binaries
# The version is workspace.package.version of the Cargo.toml next to this script (the action's
# own checkout), released under the tag v<version>. The action's repository and ref come from
# its checkout path (.../_actions/OWNER/REPO/REF). A ref that is not a release of this version
# (a branch) is built from source (3.) without looking at 1. and 2. Otherwise, in order:
#   1. the tool cache, $RUNNER_TOOL_CACHE/ship/<version>/<arch>/ with <arch>.complete beside it
#      (the actions/tool-cache layout, so a runner image can pre-seed it);
#   2. the release archive ship-v<version>-<target>.tar.gz and ship-v<version>-SHA256SUMS from
#      ${SHIP_DOWNLOAD_BASE:-https://github.com/<action repository>/releases/download}/v<version>/,
#      SHA-256 verified, then unpacked into the tool cache;
#   3. when that release or asset does not exist (HTTP 404: a branch or SHA ref, an unreleased
#      version, a target without binaries), `cargo build --release --locked` of the packages that
#      hold the requested binaries, from the action's checkout; not cached, since a branch's
#      source is not the release of the same version number.
# The bin directory is appended to $GITHUB_PATH (for the next steps) and printed on stdout (for
# this step: bin=$(install-ship.sh ship)). Everything else goes to stderr.
# Exit codes: 0 installed, 1 failed (checksum mismatch, download or build error), 2 usage.
set -euo pipefail

readonly ALL_BINARIES=(ship ship-tag-image ship-run-migrations ship-ecs-rollout ship-smoke-test ship-rollback)

log() { echo "ship install: $*" >&2; }
die() { echo "::error title=ship install::$*" >&2; exit 1; }

# The cargo package holding each binary, for the source build.
package_of() {
  case "$1" in
    ship) echo ship-cli ;;
    ship-tag-image) echo ship-tag-image-cli ;;
    ship-run-migrations) echo ship-run-migrations-cli ;;
    ship-ecs-rollout | ship-rollback) echo ship-ecs-cli ;;
    ship-smoke-test) echo ship-smoke-test-cli ;;
    *) return 1 ;;
  esac
}

binaries=("$@")
if [ ${#binaries[@]} -eq 0 ]; then binaries=("${ALL_BINARIES[@]}"); fi
for b in "${binaries[@]}"; do
  if ! package_of "$b" >/dev/null; then
    echo "::error title=ship install::unknown binary \`$b\` (known: ${ALL_BINARIES[*]})" >&2
    exit 2
  fi
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$root/Cargo.toml"
[ -f "$manifest" ] || die "no Cargo.toml at $manifest: the script must stay in the action repository's actions/ directory"

# workspace.package.version (and .repository) from the manifest, without a TOML parser: the
# keys are plain `key = "value"` lines inside the [workspace.package] table.
workspace_key() {
  awk -v key="$1" '
    /^\[/ { inside = ($0 ~ /^\[workspace\.package\][[:space:]]*$/) ; next }
    inside && $0 ~ "^[[:space:]]*" key "[[:space:]]*=" {
      sub(/^[^=]*=[[:space:]]*"/, ""); sub(/".*$/, ""); print; exit
    }' "$manifest"
}
version="$(workspace_key version)"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] \
  || die "no valid workspace.package.version in $manifest (got '${version}')"
tag="v$version"

# Runner OS/arch → the release target and the tool cache's arch name (actions/tool-cache uses
# node's os.arch(): x64, arm64).
os="$(uname -s)"
machine="$(uname -m)"
target=""
case "$os/$machine" in
  Linux/x86_64 | Linux/amd64) target=x86_64-unknown-linux-gnu arch=x64 ;;
  Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-gnu arch=arm64 ;;
  Darwin/arm64 | Darwin/aarch64) target=aarch64-apple-darwin arch=arm64 ;;
  *) arch="$machine" ;;
esac

cache_root="${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ship-tool-cache}"
cache_dir="$cache_root/ship/$version/$arch"

use_bin_dir() {
  local dir="$1"
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$dir" >>"$GITHUB_PATH"; fi
  echo "$dir"
  exit 0
}

has_binaries() {
  local dir="$1" b
  for b in "${binaries[@]}"; do [ -x "$dir/$b" ] || return 1; done
}

# The action's own repository and ref, from where the runner checked it out
# (.../_actions/OWNER/REPO/REF): github.action_repository is empty inside composite actions,
# and the path also names forks and copies, which download their own releases.
action_repository="" action_ref=""
if [[ "$root" =~ /_actions/([^/]+)/([^/]+)/([^/]+)$ ]]; then
  action_repository="${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"
  action_ref="${BASH_REMATCH[3]}"
fi
# A ref that is not this version's release (a branch such as `main`) may hold code the
# release binaries were not built from: it is built from source (below), never served the
# release's or the tool cache's binaries. A commit SHA cannot be told from the release commit
# here; it gets the release (SHA-256 verified).
non_release=""
if [ -n "$action_ref" ]; then
  major="${version%%.*}"
  minor="${version#*.}"
  minor="${minor%%.*}"
  case "$action_ref" in
    "$tag" | "v$major" | "v$major.$minor") ;;
    *) [[ "$action_ref" =~ ^[0-9a-f]{40}$ ]] || non_release="$action_ref" ;;
  esac
fi

# 1. Tool cache: only a directory whose .complete marker exists (written last) is trusted.
if [ -z "$non_release" ] && [ -f "$cache_dir.complete" ] && has_binaries "$cache_dir"; then
  log "ship $tag ($arch) from the tool cache $cache_dir"
  use_bin_dir "$cache_dir"
fi

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# fetch URL FILE: 0 downloaded, 4 not found (404/410), else dies.
fetch() {
  local url="$1" out="$2" code rc=0
  local proto=(--proto '=https')
  # Tests and mirrors may serve plain HTTP; the default base is always HTTPS.
  if [ -n "${SHIP_DOWNLOAD_BASE:-}" ]; then proto=(--proto '=https,http'); fi
  code="$(curl "${proto[@]}" --fail --silent --show-error --location \
    --connect-timeout 10 --max-time 300 --retry 3 --retry-delay 1 --retry-connrefused \
    --write-out '%{http_code}' --output "$out" "$url" 2>"$tmp/curl.err")" || rc=$?
  if [ "$rc" -eq 0 ]; then return 0; fi
  case "$code" in
    404 | 410) return 4 ;;
  esac
  if [ "${code:-000}" = 000 ]; then code="no response"; else code="HTTP $code"; fi
  # curl prints one line per attempt; the last one says why it gave up.
  die "downloading $url failed ($code): $(tail -n 1 "$tmp/curl.err")"
}

source_build() {
  local why="$1" b p packages=()
  log "$why; building ship $tag from source (cargo build --release --locked)"
  command -v cargo >/dev/null 2>&1 || die "$why, and cargo is not installed to build from source"
  for b in "${binaries[@]}"; do
    p="$(package_of "$b")"
    if [[ " ${packages[*]} " != *" -p $p "* ]]; then packages+=(-p "$p"); fi
  done
  # stdout is the bin directory only, so cargo's output goes to stderr.
  cargo build --release --locked "${packages[@]}" --manifest-path "$manifest" >&2 \
    || die "cargo build --release --locked ${packages[*]} failed"
  local dir="${CARGO_TARGET_DIR:-$root/target}/release"
  dir="$(cd "$dir" && pwd)"
  has_binaries "$dir" || die "the source build left no ${binaries[*]} in $dir"
  use_bin_dir "$dir"
}

if [ -z "$target" ]; then
  source_build "no release binaries for $os/$machine"
fi
if [ -n "$non_release" ]; then
  source_build "the action runs at ref \`$non_release\` of $action_repository, not a release of $tag (\`$tag\`, \`v$major\` or \`v$major.$minor\`): its source may differ from the release binaries"
fi

repository="${action_repository:-${SHIP_ACTION_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}}"
if [ -z "$repository" ]; then
  # github.action_repository is empty in some runners' composite steps; the manifest knows.
  repository="$(workspace_key repository)"
  repository="${repository#https://github.com/}"
fi
base="${SHIP_DOWNLOAD_BASE:-https://github.com/$repository/releases/download}"
base="${base%/}/$tag"
archive="ship-$tag-$target.tar.gz"
sums="ship-$tag-SHA256SUMS"

tmp="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/ship-install.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# 2. Release download.
rc=0
fetch "$base/$sums" "$tmp/$sums" || rc=$?
if [ "$rc" -eq 4 ]; then source_build "no release $tag ($base/$sums: not found)"; fi
rc=0
fetch "$base/$archive" "$tmp/$archive" || rc=$?
if [ "$rc" -eq 4 ]; then source_build "release $tag has no $archive"; fi

# sha256sum format: "<64 hex>  <name>" ("*<name>" in binary mode).
expected="$(awk -v name="$archive" '$2 == name || $2 == "*" name { print tolower($1); exit }' "$tmp/$sums")"
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || die "$sums has no SHA-256 for $archive"
actual="$(sha256_of "$tmp/$archive")"
if [ "$expected" != "$actual" ]; then
  die "checksum mismatch for $archive: expected $expected (from $sums), got $actual; nothing was installed"
fi
log "downloaded $archive, SHA-256 $actual verified"

mkdir -p "$tmp/unpack"
tar -xzf "$tmp/$archive" -C "$tmp/unpack" --no-same-owner || die "cannot unpack $archive"
# The archive holds one directory ship-v<version>-<target>/ with the binaries.
src="$tmp/unpack/ship-$tag-$target"
[ -d "$src" ] || src="$tmp/unpack"
for b in "${ALL_BINARIES[@]}"; do
  [ -f "$src/$b" ] || die "$archive does not contain $b"
  chmod +x "$src/$b"
done

# Into the cache: a fresh directory moved into place, then the marker, so a concurrent or
# interrupted install never leaves a marked but partial directory.
mkdir -p "$(dirname "$cache_dir")"
staged="$(mktemp -d "$cache_dir.tmp.XXXXXX")"
cp -p "$src"/* "$staged/"
# Another job on this runner may have finished the same install meanwhile: keep its copy
# (its steps may be running those binaries) rather than replacing it under them.
if [ -f "$cache_dir.complete" ] && has_binaries "$cache_dir"; then
  rm -rf "$staged"
  log "ship $tag ($arch) was installed meanwhile by another job; using $cache_dir"
  use_bin_dir "$cache_dir"
fi
rm -rf "$cache_dir" "$cache_dir.complete"
mv "$staged" "$cache_dir"
touch "$cache_dir.complete"
log "ship $tag ($arch) installed into $cache_dir"
use_bin_dir "$cache_dir"
