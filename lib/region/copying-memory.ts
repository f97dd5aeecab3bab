// A region reached by copies, for runtimes that refuse a buffer over foreign memory (Electron).
// Reads copy what they need from the mapping into a private shadow of the region's size, made on
// first use, and run the same code as in place on it; writes run on the shadow, then copy what
// they changed to the mapping. Every copy is one FFI call (MemoryCopy), so a copy costs ~50 ns
// more than in place, whatever its length up to a few KiB.
import type { MemoryCopy } from './backend.js';
import { capacityOf, readUnits, writeUnits } from '../string-codec.js';
import { regionAccess } from '../layout/region-access.js';
import { CopyingDataView } from '../layout/copying-data-view.js';
import type { RegionMemory } from './region-memory.js';

/** Units a string read copies first; each further copy is twice the one before, until U+0000. */
const FIRST_UNITS = 2048;

export function copyingMemory(copy: MemoryCopy, address: bigint, size: number): RegionMemory {
  let shadow: Buffer | undefined;
  let units: Uint16Array | undefined;
  const at = (offset: number) => address + BigInt(offset);
  const shadowOf = (): Buffer => {
    if (!shadow) {
      const ab = new ArrayBuffer(size);
      shadow = Buffer.from(ab);
      units = new Uint16Array(ab, 0, capacityOf(size));
    }
    return shadow;
  };
  const pull = (start: number, count: number) => copy.fromRegion(shadowOf().subarray(start, start + count), at(start), count);
  const push = (start: number, count: number) => copy.intoRegion(at(start), shadowOf().subarray(start, start + count), count);

  return {
    view: undefined,
    read: (start, count, target) => copy.fromRegion(target, at(start), count),
    write: (start, bytes) => copy.intoRegion(at(start), bytes, bytes.length),
    readString(limit) {
      const buf = shadowOf();
      const u = units!;
      // The units readUnits may look at: up to its limit, stopping early at the first U+0000.
      const wanted = Math.min(u.length, limit - 1);
      let done = 0;
      for (let chunk = FIRST_UNITS; done < wanted; chunk *= 2) {
        const next = Math.min(wanted, done + chunk);
        pull(done * 2, (next - done) * 2);
        const zeroFound = u.subarray(done, next).indexOf(0) !== -1;
        done = next;
        if (zeroFound) break;
      }
      return readUnits(buf, u, limit);
    },
    writeString(text, strict) {
      const buf = shadowOf();
      const stored = writeUnits(buf, text, strict, units);
      // The units stored and their U+0000: all that writeUnits changed.
      push(0, Math.min(2 * (stored + 1), 2 * units!.length));
      return stored;
    },
    access(owner, name, writable, held) {
      const buf = shadowOf();
      const shadowAccess = regionAccess(owner, name, buf.buffer as ArrayBuffer, size, writable, held);
      return { ...shadowAccess, view: new CopyingDataView(buf.buffer as ArrayBuffer, pull, push), pull, push };
    },
  };
}
