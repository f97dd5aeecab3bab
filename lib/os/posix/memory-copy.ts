// Copies between a mapping and JavaScript memory by calling libc, for runtimes that refuse a
// buffer over the mapping (see region/zero-copy.ts). koffi passes a typed array's own bytes for a
// pointer parameter, so each copy is one call and no allocation. memcpy is bound twice, once per
// direction, so that the mapping's side takes a plain address (mapping + offset) as a BigInt.
import koffi from 'koffi';
import type { MemoryCopy } from '../../region/backend.js';

// <string.h>: void *memcpy(void *dest, const void *src, size_t n); the result is not used.
const FROM_REGION: [string, string, string[]] = ['memcpy', 'void', ['void *', 'uintptr_t', 'size_t']];
const INTO_REGION: [string, string, string[]] = ['memcpy', 'void', ['uintptr_t', 'const void *', 'size_t']];

export function posixMemoryCopy(): MemoryCopy {
  const libc = koffi.load(process.platform === 'darwin' ? 'libSystem.B.dylib' : 'libc.so.6');
  const fromRegion = libc.func(...FROM_REGION);
  const intoRegion = libc.func(...INTO_REGION);
  return {
    fromRegion(target, address, count) {
      if (count > 0) fromRegion(target, address, count);
    },
    intoRegion(address, source, count) {
      if (count > 0) intoRegion(address, source, count);
    },
  };
}
