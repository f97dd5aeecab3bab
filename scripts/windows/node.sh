#!/usr/bin/env bash
# Runs the official Windows node.exe under Wine on this project:
#   scripts/windows/node.sh [node options] path/to/script.mjs [args...]
#   scripts/windows/node.sh -e "import('koffi').then(k => console.log(k.default.version))"
#
# How the project's code finds its win32 dependencies (koffi's win32 binary, ...):
# the project is copied (without node_modules and .git, ~0.5 MB, a few ms) into a fresh folder
# $NAMED_SHM_WIN_CACHE/winmods/run-<pid>/ for each run, with a symlink run-<pid>/node_modules ->
# ../node_modules, the win32 install; node.exe runs there. So `import 'koffi'` and paths such as
# node_modules/tsx/dist/cli.mjs both land in the win32 install, and (belt and braces) node's walk
# up the folders from run-<pid> reaches winmods/node_modules too. Under Wine the symlink looks like
# a plain folder (lstat: not a link; fs.realpathSync keeps it, fs.realpathSync.native resolves it).
# Chosen over:
#  - NODE_PATH: ignored by ESM `import` (it is still set, for require() in scripts outside the
#    project: `createRequire(import.meta.url)('koffi')` works from /tmp).
#  - a `node_modules` symlink in the project itself: there node_modules is the Linux install.
#  - running the project in place with a loader hook: vitest's workers and spawned children
#    would each need it.
# A fresh folder per run: concurrent runs don't disturb each other, and a file removed from the
# project is gone from the copy too. The copy is removed afterwards (NAMED_SHM_WIN_KEEP=1 keeps it
# for an hour).
# The caller's working directory is mapped into the copy (the copy's root if it is outside the
# project), and an argument that starts with the project's absolute path is rewritten into the copy.
# Paths node reports (stack traces, __dirname) are therefore in the copy, not in the project.
#
# Output: node.exe under Wine fails on its first write to a pipe (EBADF), so its stdout and stderr
# go to files, streamed to ours as they grow (stdout to stdout, stderr to stderr). Our exit code is
# node's. Its stdin is our stdin only if that is a regular file, else /dev/null.
# NAMED_SHM_WIN_WAIT=1: afterwards wait for the wineserver and Wine's services to exit (about 3 s;
# a CI step should do that once at its end: `wineserver -w` with WINEPREFIX set, as test.sh does).
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/common.sh"

"$here/setup.sh" -q >&2 || exit 1

logs=$(mktemp -d "${TMPDIR:-/tmp}/named-shm-win.XXXXXX")
run=$NAMED_SHM_WIN_MODS/run-$$
pid='' tails=()
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null
  rm -rf "$logs"
  [[ ${NAMED_SHM_WIN_KEEP:-0} == 1 ]] || rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Copies left by runs that were killed: removed after an hour once their shell is gone.
for old in "$NAMED_SHM_WIN_MODS"/run-*; do
  [[ -d $old ]] && ! kill -0 "${old##*/run-}" 2>/dev/null && [[ -n $(find "$old" -maxdepth 0 -mmin +60) ]] &&
    rm -rf "$old"
done
# Copy the project.
rm -rf "$run" && mkdir -p "$run"
tar -C "$NAMED_SHM_ROOT" --exclude=./.git --exclude=./node_modules -cf - . | tar -C "$run" -xf - || exit 1
# Code that names a file under node_modules by path (tests spawning node_modules/tsx/dist/cli.mjs)
# finds it through this link; bare imports would find the same folder one level up anyway.
ln -s ../node_modules "$run/node_modules"

# Working directory and arguments, mapped into the copy.
case $PWD/ in
"$NAMED_SHM_ROOT"/*) cwd=$run${PWD#"$NAMED_SHM_ROOT"} ;;
*) cwd=$run ;;
esac
args=()
for a in "$@"; do
  case $a in
  "$NAMED_SHM_ROOT" | "$NAMED_SHM_ROOT"/*) args+=("$run${a#"$NAMED_SHM_ROOT"}") ;;
  *) args+=("$a") ;;
  esac
done

export NODE_PATH=$(named_shm_winpath "$NAMED_SHM_WIN_MODS/node_modules")
# stdin: a regular file is passed on; anything else (a pipe would fail like stdout, a terminal)
# is replaced by /dev/null, so that node never waits on it.
if [[ -f /dev/stdin ]]; then exec 3<&0; else exec 3</dev/null; fi
[[ -d $cwd ]] || cwd=$run
cd "$cwd" || exit 1
: >"$logs/out" && : >"$logs/err" || exit 1 # before the tails start
wine "$NAMED_SHM_WIN_NODE_EXE" "${args[@]}" <&3 >"$logs/out" 2>"$logs/err" &
pid=$!
# Stream both files while node runs; each tail ends shortly after the process does.
tail -s 0.2 -n +1 -f --pid="$pid" "$logs/out" &
tails+=($!)
tail -s 0.2 -n +1 -f --pid="$pid" "$logs/err" >&2 &
tails+=($!)
wait "$pid"
rc=$?
pid=''
wait "${tails[@]}"
[[ ${NAMED_SHM_WIN_WAIT:-0} == 1 ]] && wineserver -w
exit "$rc"
