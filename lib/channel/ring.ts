// The ring of a channel (layout.ts): writing and reading frames, with no OS call. A sender calls
// `tryWrite` only while it holds the channel's send lock, and only the receiver calls `tryRead`,
// so tail has one writer and head has one writer at any time.
import { FRAME_HEADER_BYTES, HEADER_BYTES, WORD, frameBytes } from './layout.js';

const encoder = new TextEncoder();

/** What a writer of the region outside the protocol can make a receiver see. */
export class CorruptRing extends Error {}

export class Ring {
  readonly capacity: number;
  /** Header words, for Atomics. */
  readonly words: Int32Array;
  /** The ring's bytes. */
  readonly #data: Uint8Array;
  /** The ring as u32 words, for frame headers (which sit at multiples of 8). */
  readonly #frames: Uint32Array;
  readonly #lap: number;

  constructor(region: Uint8Array, capacity: number) {
    this.capacity = capacity;
    this.#lap = 2 * capacity;
    this.words = new Int32Array(region.buffer, region.byteOffset, HEADER_BYTES / 4);
    this.#data = new Uint8Array(region.buffer, region.byteOffset + HEADER_BYTES, capacity);
    this.#frames = new Uint32Array(region.buffer, region.byteOffset + HEADER_BYTES, capacity / 4);
  }

  /** Bytes in use: published frames the receiver has not taken. */
  #used(tail: number, head: number): number {
    const used = tail - head;
    return used < 0 ? used + this.#lap : used;
  }

  #position(p: number): number {
    if (!(p >= 0 && p < this.#lap && (p & 7) === 0)) throw new CorruptRing(`position ${p} is outside the ring`);
    return p;
  }

  /** True when a frame is waiting for the receiver. */
  hasMessage(): boolean {
    return Atomics.load(this.words, WORD.tail) !== Atomics.load(this.words, WORD.head);
  }

  /** True when a message of `length` bytes fits now (a hint: the ring is checked again under the send lock). */
  fits(length: number): boolean {
    const used = this.#used(Atomics.load(this.words, WORD.tail), Atomics.load(this.words, WORD.head));
    return frameBytes(length) <= this.capacity - used;
  }

  /**
   * Appends a frame for `message` (bytes, or a string stored as UTF-8 of `utf8Length` bytes) if
   * it fits now; false if the ring is too full. The caller holds the send lock.
   */
  tryWrite(message: Uint8Array | string, length: number): boolean {
    const { words } = this;
    const tail = this.#position(Atomics.load(words, WORD.tail));
    const head = this.#position(Atomics.load(words, WORD.head));
    const used = this.#used(tail, head);
    if (used > this.capacity) throw new CorruptRing(`the ring holds ${used} bytes, more than its ${this.capacity}`);
    const size = frameBytes(length);
    if (size > this.capacity - used) return false;
    const at = tail >= this.capacity ? tail - this.capacity : tail;
    const body = at + FRAME_HEADER_BYTES === this.capacity ? 0 : at + FRAME_HEADER_BYTES;
    const first = Math.min(length, this.capacity - body);
    if (typeof message === 'string') {
      if (first === length) encoder.encodeInto(message, this.#data.subarray(body, body + length));
      else this.#copyIn(encoder.encode(message), body, first);
    } else this.#copyIn(message, body, first);
    this.#frames[at >> 2] = length;
    this.#frames[(at >> 2) + 1] = 0;
    let next = tail + size;
    if (next >= this.#lap) next -= this.#lap;
    Atomics.store(words, WORD.tail, next);
    return true;
  }

  #copyIn(bytes: Uint8Array, body: number, first: number): void {
    if (first === bytes.length) this.#data.set(bytes, body);
    else {
      this.#data.set(bytes.subarray(0, first), body);
      this.#data.set(bytes.subarray(first), 0);
    }
  }

  /**
   * Takes the oldest frame: `take(bytes, offset, length, wrapped)` gets where its message lies in
   * the ring (wrapped: the bytes after the ring's end, from byte 0) and returns what to hand the
   * caller; then head moves past the frame. Null when the ring is empty.
   */
  tryRead<T>(take: (data: Uint8Array, offset: number, first: number, rest: number) => T): T | null {
    const { words } = this;
    const tail = this.#position(Atomics.load(words, WORD.tail));
    const head = this.#position(Atomics.load(words, WORD.head));
    if (tail === head) return null;
    const used = this.#used(tail, head);
    if (used > this.capacity) throw new CorruptRing(`the ring holds ${used} bytes, more than its ${this.capacity}`);
    const at = head >= this.capacity ? head - this.capacity : head;
    const length = this.#frames[at >> 2]!;
    const size = frameBytes(length);
    if (length > this.capacity || size > used) {
      throw new CorruptRing(`a frame at ${head} says ${length} bytes, but only ${used - FRAME_HEADER_BYTES} follow it`);
    }
    const body = at + FRAME_HEADER_BYTES === this.capacity ? 0 : at + FRAME_HEADER_BYTES;
    const first = Math.min(length, this.capacity - body);
    const result = take(this.#data, body, first, length - first);
    let next = head + size;
    if (next >= this.#lap) next -= this.#lap;
    Atomics.store(words, WORD.head, next);
    return result;
  }
}

/** A copy of a message out of the ring. */
export function copyOut(data: Uint8Array, offset: number, first: number, rest: number): Uint8Array {
  const out = new Uint8Array(first + rest);
  out.set(data.subarray(offset, offset + first));
  if (rest > 0) out.set(data.subarray(0, rest), first);
  return out;
}

const decoder = new TextDecoder();

/** A message of the ring decoded from UTF-8 (bad sequences become U+FFFD). */
export function decodeOut(data: Uint8Array, offset: number, first: number, rest: number): string {
  if (rest === 0) return decoder.decode(data.subarray(offset, offset + first));
  return decoder.decode(copyOut(data, offset, first, rest));
}
