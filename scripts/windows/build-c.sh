#!/usr/bin/env bash
# Builds the C reference of the sample (test/interop/c) into build/interop/ (NAMED_SHM_C_OUT):
#   Windows (x86_64-w64-mingw32-gcc): dllmemfilemap.dll + libdllmemfilemap.a, parent.exe,
#     child.exe, probe.exe; the DLL sits beside the .exe files, where Windows looks for it;
#     event_tool.exe (named events from plain Win32: set, wait, an iRacing-style writer);
#     mutex_tool.exe (named mutexes from plain Win32: hold, die holding, try, a locked counter);
#     channel_peer.exe (a Channel sender or receiver from plain Win32);
#     telemetry_publisher.exe (the telemetry demo's publisher: a sequence-locked record and a
#     named event, 60 times a second);
#     layout_probe.exe (C struct layouts: sizeof/offsetof, and records written and checked).
#   Linux (cc): posix_twin.
# Skips the work when every output is newer than the sources and this script.
#   scripts/windows/build-c.sh [--verify]
# --verify: runs `parent.exe child.exe` under Wine and checks the child's line, and posix_twin
# write/read on a scratch name.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/common.sh"

src=$NAMED_SHM_ROOT/test/interop/c
out=$NAMED_SHM_C_OUT
say() { printf '[win-build-c] %s\n' "$*"; }

command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || "$here/setup.sh" -q

outputs=("$out/dllmemfilemap.dll" "$out/libdllmemfilemap.a" "$out/parent.exe" "$out/child.exe" "$out/probe.exe" "$out/event_tool.exe" "$out/mutex_tool.exe" "$out/channel_peer.exe" "$out/layout_probe.exe" "$out/telemetry_publisher.exe" "$out/posix_twin")
fresh=1
for o in "${outputs[@]}"; do
  [[ -f $o ]] || { fresh=0; break; }
  for s in "$src"/*.c "${BASH_SOURCE[0]}"; do
    [[ $s -nt $o ]] && { fresh=0; break 2; }
  done
done

if ((fresh)); then
  say "up to date in $out"
else
  mkdir -p "$out"
  cc=x86_64-w64-mingw32-gcc
  flags=(-O2 -Wall -Wextra -static-libgcc)
  # No "lib" prefix on the DLL: the sample's importers load "dllmemfilemap.dll".
  $cc "${flags[@]}" -shared -o "$out/dllmemfilemap.dll" "$src/dllmemfilemap.c" \
    -Wl,--out-implib,"$out/libdllmemfilemap.a"
  $cc "${flags[@]}" -municode -o "$out/parent.exe" "$src/parent.c" -L"$out" -ldllmemfilemap
  $cc "${flags[@]}" -o "$out/child.exe" "$src/child.c" -L"$out" -ldllmemfilemap
  $cc "${flags[@]}" -municode -o "$out/probe.exe" "$src/probe.c" -L"$out" -ldllmemfilemap
  $cc "${flags[@]}" -municode -o "$out/event_tool.exe" "$src/event_tool.c"
  $cc "${flags[@]}" -municode -o "$out/mutex_tool.exe" "$src/mutex_tool.c"
  $cc "${flags[@]}" -municode -o "$out/channel_peer.exe" "$src/channel_peer.c"
  $cc "${flags[@]}" -o "$out/layout_probe.exe" "$src/layout_probe.c"
  $cc "${flags[@]}" -municode -o "$out/telemetry_publisher.exe" "$src/telemetry_publisher.c"
  # glibc >= 2.34 has shm_open in libc; older ones need librt (harmless when empty).
  ${CC:-cc} -O2 -Wall -Wextra -o "$out/posix_twin" "$src/posix_twin.c" -lrt
  say "built in $out: ${outputs[*]##*/}"
fi

if [[ ${1:-} == --verify ]]; then
  got=$(cd "$out" && wine ./parent.exe child.exe </dev/null 2>/dev/null | tr -d '\r')
  want='Child process read from shared memory: This is a test string'
  grep -qxF "$want" <<<"$got" || { say "verify: FAILED, parent+child printed:"; printf '%s\n' "$got"; exit 1; }
  say "verify: wine parent.exe child.exe -> '$want'"
  name=/named-shm-build-c-$$
  "$out/posix_twin" -n "$name" -c 4096 write 'héllo ✓ 😀' >/dev/null
  got=$("$out/posix_twin" -n "$name" read)
  "$out/posix_twin" -n "$name" unlink
  [[ $got == 'héllo ✓ 😀' ]] || { say "verify: posix_twin read back '$got'"; exit 1; }
  say "verify: posix_twin write/read round trip ok"
fi
