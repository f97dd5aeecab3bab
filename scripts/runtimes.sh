#!/usr/bin/env bash
# Runs the suite's portable part under Bun and Deno, at the versions pinned below (issue 14).
#   scripts/runtimes.sh [test] [bun|deno ...]   # default: test under both
#   scripts/runtimes.sh path bun|deno           # prints the binary's path, fetching it first if needed
#   scripts/runtimes.sh fetch [bun|deno ...]    # fetches only
# The binaries come from the npm registry, the only source needed: `npm pack` of
# @oven/bun-linux-x64@BUN_VERSION (package/bin/bun) and @deno/linux-x64-glibc@DENO_VERSION
# (package/deno). Each is kept in
#   ${NAMED_SHM_RUNTIME_CACHE:-$HOME/.cache/named-shm-runtimes}/bun-<VERSION>/bun
#   ${NAMED_SHM_RUNTIME_CACHE:-$HOME/.cache/named-shm-runtimes}/deno-<VERSION>/deno
# and used from there next time. NAMED_SHM_BUN / NAMED_SHM_DENO name another binary instead.
# dist/ is built with the project's tsc when missing (not rebuilt otherwise: run `npm run build`
# first after changing lib/). Then, for each runtime, vitest itself runs under that runtime
# (`bun vitest.mjs run FILES`, `deno run -A vitest.mjs run FILES`) on the portable test files
# (scripts/portable-files.txt, and the few listed below); the fixtures they start run on process.execPath, that is on the same runtime.
# Tests that cannot apply under a runtime are skipped with the reason printed (test/runtimes/gates.ts).
# Last, the mixed-runtime test (test/runtimes/mixed-runtime.test.ts) runs under Node with both
# binaries. Prints each run's vitest summary and time, then one line per run such as
#   bun-1.4.4: 590 passed, 0 failed, 20 skipped (45 s)
# Exit code: 0 when every run passed; 1 otherwise (a failed test, download or build); 2 for a usage error.
set -uo pipefail
BUN_VERSION=1.4.4
DENO_VERSION=2.9.6

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
root=$PWD
cache=${NAMED_SHM_RUNTIME_CACHE:-${HOME:?HOME is not set}/.cache/named-shm-runtimes}
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

say() { echo "[runtimes] $*"; }

# The suite's portable part: scripts/portable-files.txt (shared with scripts/copy-path.sh; its
# "zero-copy:" marks do not matter here, where every region is in place), and these files, which
# run under Bun and Deno but need zero copy throughout (readConsistent, workers over views, futexes).
# Files with parts that cannot apply under a runtime skip those parts visibly.
PORTABLE=()
while read -r file _; do
  [[ -z $file || $file == \#* ]] && continue
  PORTABLE+=("$file")
done <scripts/portable-files.txt
PORTABLE+=(test/layout-consistency.test.ts test/layout-crash.test.ts test/mutex-exclusion.test.ts)
# Not run under the runtimes though they run on Node alone: test/events-hostile.test.ts (one test
# times its child's stdin against a blocking open, which Bun's child stdin does not deliver in
# time), and the suites of crashes, storms, interop and Windows.

usage() { sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# Path of a runtime's binary, downloading it on first use. $1: bun or deno.
fetch() {
  local rt=$1 version package member override dir tmp t0
  case $rt in
    bun) version=$BUN_VERSION package=@oven/bun-linux-x64 member=package/bin/bun override=${NAMED_SHM_BUN:-} ;;
    deno) version=$DENO_VERSION package=@deno/linux-x64-glibc member=package/deno override=${NAMED_SHM_DENO:-} ;;
    *) say "unknown runtime '$rt' (bun or deno)" >&2; return 2 ;;
  esac
  if [[ -n $override ]]; then
    [[ -x $override ]] || { say "$override (from NAMED_SHM_${rt^^}) is not an executable" >&2; return 1; }
    printf '%s' "$override"
    return 0
  fi
  dir=$cache/$rt-$version
  if [[ -x $dir/$rt ]]; then printf '%s' "$dir/$rt"; return 0; fi
  [[ $(uname -s)/$(uname -m) == Linux/x86_64 ]] || { say "needs Linux x64 ($package builds)" >&2; return 1; }
  mkdir -p "$cache" || return 1
  say "downloading $package@$version into $cache ..." >&2
  t0=$SECONDS
  tmp=$(mktemp -d "$cache/.tmp.XXXXXX") || return 1
  if ! (cd "$tmp" && npm pack --silent "$package@$version" >/dev/null &&
        tar -xzf ./*.tgz "$member"); then
    say "could not get $package@$version" >&2
    rm -rf "$tmp"
    return 1
  fi
  mkdir -p "$tmp/out" && mv "$tmp/$member" "$tmp/out/$rt" && chmod +x "$tmp/out/$rt" &&
    rm -rf "$dir" && mv "$tmp/out" "$dir"
  rm -rf "$tmp"
  [[ -x $dir/$rt ]] || { say "$package@$version: no $member in the tarball" >&2; return 1; }
  say "$package@$version: downloaded in $((SECONDS - t0)) s" >&2
  printf '%s' "$dir/$rt"
}

# Turns vitest's "Tests  1 failed | 150 passed | 2 skipped (153)" into "150 passed, 1 failed, 2 skipped".
counts() {
  local line=$1 n
  count() { n=$(grep -oE "[0-9]+ $1" <<<"$line" | grep -oE '^[0-9]+'); echo "${n:-0}"; }
  printf '%s passed, %s failed, %s skipped' "$(count passed)" "$(count failed)" "$(count skipped)"
}

command=${1:-test}
case $command in
  path)
    [[ $# -eq 2 ]] || usage
    bin=$(fetch "$2") || exit $?
    printf '%s\n' "$bin"
    exit 0 ;;
  fetch | test) shift $(($# > 0 ? 1 : 0)) ;;
  bun | deno) ;; # `runtimes.sh bun` is `runtimes.sh test bun`
  -h | --help | help) usage ;;
  *) say "unknown command '$command'"; usage ;;
esac
wanted=("$@")
[[ ${#wanted[@]} -gt 0 ]] || wanted=(bun deno)

# Download everything first, so that a missing runtime fails before any test runs.
labels=() bins=()
for rt in "${wanted[@]}"; do
  bin=$(fetch "$rt") || exit 1
  case $rt in
    bun) actual=$("$bin" --version) ;;
    deno) actual=$("$bin" --version | head -1 | awk '{print $2}') ;;
  esac
  [[ -n $actual ]] || { say "$bin does not run"; exit 1; }
  labels+=("$rt-$actual") bins+=("$bin")
  say "$rt-$actual: $bin"
done
[[ $command == fetch ]] && exit 0

if [[ ! -f dist/index.js ]]; then
  say "build: dist/ is missing, npx tsc -p tsconfig.build.json"
  { node scripts/build-wasm.mjs && npx tsc -p tsconfig.build.json; } || { say "build failed"; exit 1; }
fi

log=$(mktemp "${TMPDIR:-/tmp}/named-shm-runtimes.XXXXXX")
trap 'rm -f "$log"' EXIT
results=() failed=0 t_all=$SECONDS

# Runs one vitest and records its summary line under $1. The rest: the command.
run() {
  local label=$1 rc took summary tests t0=$SECONDS
  shift
  say "$label: $*"
  NO_COLOR=1 "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  took=$((SECONDS - t0))
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ *(Test Files|Tests|Errors) ')
  tests=$(grep -E '^ *Tests +[0-9]' <<<"$summary" | tail -1)
  say "$label: exit code $rc after ${took} s"
  [[ -n $summary ]] && sed 's/^/    /' <<<"$summary"
  # The reasons of the runtime gates, gathered (each test file printed its own).
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -oE '\[skip [a-z]+\] .*' | sort -u | sed 's/^/    /'
  if [[ -z $tests ]]; then
    results+=("$label: vitest printed no summary (exit code $rc, ${took} s)")
    failed=1
  else
    results+=("$label: $(counts "$tests") (${took} s)")
    [[ $rc -eq 0 ]] || failed=1
  fi
}

env_bins=()
for i in "${!bins[@]}"; do
  label=${labels[$i]} bin=${bins[$i]}
  case $label in
    bun-*) run "$label" "$bin" "$root/node_modules/vitest/vitest.mjs" run "${PORTABLE[@]}"
           env_bins+=("NAMED_SHM_BUN=$bin") ;;
    deno-*) run "$label" "$bin" run -A "$root/node_modules/vitest/vitest.mjs" run "${PORTABLE[@]}"
            env_bins+=("NAMED_SHM_DENO=$bin") ;;
  esac
done
run "mixed (node $(node --version))" env "${env_bins[@]}" node "$root/node_modules/vitest/vitest.mjs" run test/runtimes

say "all: $((SECONDS - t_all)) s"
printf '%s\n' "${results[@]}"
exit "$failed"
