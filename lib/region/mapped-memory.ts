// A region reached in place: one Buffer and one Uint16Array over the mapping, made once.
import { capacityOf, readUnits, writeUnits } from '../string-codec.js';
import { regionAccess } from '../layout/region-access.js';
import type { RegionMemory } from './region-memory.js';

export function mappedMemory(view: ArrayBuffer, size: number): RegionMemory {
  const buf = Buffer.from(view, 0, size);
  const units = new Uint16Array(view, 0, capacityOf(size));
  return {
    view,
    read: (start, count, target) => target.set(buf.subarray(start, start + count)),
    write: (start, bytes) => buf.set(bytes, start),
    readString: (limit) => readUnits(buf, units, limit),
    writeString: (text, strict) => writeUnits(buf, text, strict, units),
    access: (owner, name, writable, held) => regionAccess(owner, name, view, size, writable, held),
  };
}
