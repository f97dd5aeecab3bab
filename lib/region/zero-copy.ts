// Whether this runtime lets JavaScript see foreign memory in place. Electron (and any embedder
// built with the V8 memory cage) refuses external buffers, and koffi.view throws there; every
// feature that can work by copying then copies (see copying-memory.ts). Decided once, by trying.
import koffi from 'koffi';
import { withCode } from '../errors.js';

/** `NAMED_SHM_ZERO_COPY=0` makes the package behave as under a runtime that refuses external buffers. */
const forcedOff = process.env.NAMED_SHM_ZERO_COPY === '0';

let probed: boolean | undefined;

/** True where `koffi.view` gives a buffer over foreign memory (and it was not forced off). */
export function zeroCopyAvailable(): boolean {
  if (forcedOff) return false;
  if (probed === undefined) {
    try {
      const cell = koffi.alloc('uint8', 8);
      try {
        probed = koffi.view(cell, 8).byteLength === 8;
      } finally {
        koffi.free(cell);
      }
    } catch {
      probed = false;
    }
  }
  return probed;
}

/** Why a feature that needs the mapping in place cannot run here; a clear error, not koffi's. */
export function zeroCopyRequired(feature: string, alternatives?: string): Error {
  const why = forcedOff
    ? 'zero-copy access was turned off (NAMED_SHM_ZERO_COPY=0)'
    : zeroCopyAvailable()
      ? 'the region was opened with { zeroCopy: false }'
      : 'this runtime refuses external buffers (as Electron does), so shared memory can only be copied';
  const instead = alternatives ? `; instead, use ${alternatives}` : '';
  return withCode(new Error(`${feature} needs zero-copy access to shared memory, and ${why}${instead}`), 'ERR_SHM_ZERO_COPY_REQUIRED');
}

/** Throws, before anything is opened, where `feature` could only run on a buffer over the mapping. */
export function requireZeroCopy(feature: string, alternatives?: string): void {
  if (!zeroCopyAvailable()) throw zeroCopyRequired(feature, alternatives);
}
