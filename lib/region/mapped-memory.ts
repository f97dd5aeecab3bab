// A region reached in place: one Buffer and one Uint16Array over the mapping, made once. A class
// rather than an object of closures: a process may hold tens of thousands of regions.
import { capacityOf, readUnits, writeUnits } from '../string-codec.js';
import { regionAccess, type RegionAccess } from '../layout/region-access.js';
import type { RegionMemory } from './region-memory.js';

export class MappedMemory implements RegionMemory {
  readonly view: ArrayBuffer;
  readonly #size: number;
  readonly #buf: Buffer;
  readonly #units: Uint16Array;

  constructor(view: ArrayBuffer, size: number) {
    this.view = view;
    this.#size = size;
    this.#buf = Buffer.from(view, 0, size);
    this.#units = new Uint16Array(view, 0, capacityOf(size));
  }

  read(start: number, count: number, target: Uint8Array): void {
    target.set(this.#buf.subarray(start, start + count));
  }

  write(start: number, bytes: Uint8Array): void {
    this.#buf.set(bytes, start);
  }

  readString(limit: number): string {
    return readUnits(this.#buf, this.#units, limit);
  }

  writeString(text: unknown, strict: boolean): number {
    return writeUnits(this.#buf, text, strict, this.#units);
  }

  access(owner: object, name: string, writable: boolean, held: { native: unknown }): RegionAccess {
    return regionAccess(owner, name, this.view, this.#size, writable, held);
  }
}
