#!/usr/bin/env bash
# Runs the project's vitest suite with the official Windows node.exe under Wine.
#   scripts/windows/test.sh [vitest args...]      e.g. scripts/windows/test.sh test/sample.test.ts
# Steps: setup.sh (cached), the TypeScript build (dist/) with the Linux tsc, the C reference
# binaries (build-c.sh, cached), then `node.exe node_modules/vitest/vitest.mjs run` through
# node.sh (in a copy of the project whose node_modules is the win32 install; output goes through
# files, since node.exe under Wine cannot write to a pipe). Ends with vitest's summary lines and a plain
# `windows: N passed, N failed` line. Exit code: vitest's (non-zero also when the build fails).
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/common.sh"

"$here/setup.sh" || exit 1

cd "$NAMED_SHM_ROOT" || exit 1
if [[ -f tsconfig.build.json ]]; then
  echo "[win-test] build: tsc -p tsconfig.build.json"
  npx --no-install tsc -p tsconfig.build.json || { echo "[win-test] build failed"; exit 1; }
fi
if [[ -d test/interop/c ]]; then
  "$here/build-c.sh" || { echo "[win-test] C build failed"; exit 1; }
fi

log=$(mktemp "${TMPDIR:-/tmp}/named-shm-win-vitest.XXXXXX")
trap 'rm -f "$log"' EXIT
echo "[win-test] vitest under Wine (node.exe v$NAMED_SHM_WIN_NODE_VERSION) ..."
t0=$SECONDS
# Vitest's bundler rolldown loads its native win32 binding thanks to the bcryptprimitives.dll
# that setup.sh adds to the prefix. (Its WASI build, NAPI_RS_FORCE_WASI=1, is no substitute here:
# under Wine its resolver cannot open Z:\... paths, so it fails to bundle vitest.config.ts and to
# resolve `../lib/index.js` to the .ts file.) No colours unless FORCE_COLOR is set.
[[ -n ${FORCE_COLOR:-} ]] || export NO_COLOR=1
# The C reference was just built: its interop tests must run, not skip.
export NAMED_SHM_INTEROP=1
"$here/node.sh" node_modules/vitest/vitest.mjs run "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# Wine's server and services outlive the last program by a few seconds: wait for them here, so
# nothing of this run is left behind (and nothing holds our stdout open).
wineserver -w

echo "[win-test] vitest exit code $rc after $((SECONDS - t0)) s; summary:"
sed -i 's/\x1b\[[0-9;]*m//g' "$log" # colours off the copy we read
grep -E '^ *(Test Files|Tests|Errors|Duration) ' "$log" || echo "  (no summary from vitest)"
# "Tests  1 failed | 5 passed | 2 skipped (8)" -> "windows: 5 passed, 1 failed, 2 skipped"
line=$(grep -E '^ *Tests +[0-9]' "$log" | tail -1)
count() { grep -oE "[0-9]+ $1" <<<"$line" | grep -oE '[0-9]+' || echo 0; }
if [[ -n $line ]]; then
  passed=$(count passed) failed=$(count failed) skipped=$(count skipped)
  echo "windows: $passed passed, $failed failed${skipped:+, $skipped skipped}"
fi
exit "$rc"
