// How a region's bytes are reached: in place, through a buffer over the mapping (mapped-memory.ts),
// or by copies through the OS's memcpy where the runtime refuses such a buffer (copying-memory.ts).
// The core reads and writes through this and never learns which one it has.
import type { RegionAccess } from '../layout/region-access.js';

export interface RegionMemory {
  /** The buffer over the mapping; undefined when every access copies. */
  readonly view: ArrayBuffer | undefined;
  /** Copies `count` bytes from `start` into `target` (from its index 0). */
  read(start: number, count: number, target: Uint8Array): void;
  /** Copies all of `bytes` to `start`; the caller checked that they fit. */
  write(start: number, bytes: Uint8Array): void;
  /** The string contract (string-codec.ts) over the region. */
  readString(limit: number): string;
  writeString(text: unknown, strict: boolean): number;
  /** What struct views read and write through. */
  access(owner: object, name: string, writable: boolean, held: { native: unknown }): RegionAccess;
}
