// Copies between a view of a section and JavaScript memory by calling kernel32, for runtimes that
// refuse a buffer over the view (see region/zero-copy.ts). koffi passes a typed array's own bytes
// for a pointer parameter. RtlMoveMemory is bound twice, once per direction, so that the view's
// side takes a plain address (view + offset) as a BigInt.
import koffi from 'koffi';
import type { MemoryCopy } from '../../region/backend.js';

// <winnt.h>: VOID RtlMoveMemory(VOID UNALIGNED *Destination, const VOID UNALIGNED *Source, SIZE_T Length);
const FROM_REGION: [string, string, string[]] = ['RtlMoveMemory', 'void', ['void *', 'uintptr_t', 'size_t']];
const INTO_REGION: [string, string, string[]] = ['RtlMoveMemory', 'void', ['uintptr_t', 'const void *', 'size_t']];

export function windowsMemoryCopy(): MemoryCopy {
  const k32 = koffi.load('kernel32.dll');
  const fromRegion = k32.func('__stdcall', ...FROM_REGION);
  const intoRegion = k32.func('__stdcall', ...INTO_REGION);
  return {
    fromRegion(target, address, count) {
      if (count > 0) fromRegion(target, address, count);
    },
    intoRegion(address, source, count) {
      if (count > 0) intoRegion(address, source, count);
    },
  };
}
