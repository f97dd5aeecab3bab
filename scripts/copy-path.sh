#!/usr/bin/env bash
# Runs the portable suite with the copy path forced (NAMED_SHM_ZERO_COPY=0): every region is
# reached through memcpy instead of a buffer over the mapping, as under Electron, which refuses
# external buffers and cannot be installed here.
#   scripts/copy-path.sh [vitest args...]
# The files are those of scripts/portable-files.txt but the ones marked "zero-copy:", whose
# reasons are printed. In the files run, tests of what needs the mapping in place (bytes, the
# sequence lock, events) skip, and their titles say why. Exit code: vitest's.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
files=()
while read -r file rest; do
  [[ -z $file || $file == \#* ]] && continue
  if [[ $rest == zero-copy:* ]]; then echo "[copy-path] not run: $file (${rest#zero-copy: })"; else files+=("$file"); fi
done < scripts/portable-files.txt
echo "[copy-path] ${#files[@]} files with NAMED_SHM_ZERO_COPY=0"
NAMED_SHM_ZERO_COPY=0 node node_modules/vitest/vitest.mjs run "${files[@]}" "$@"
