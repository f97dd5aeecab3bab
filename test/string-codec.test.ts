// The codec's fast paths (lib/string-codec.ts) against the sample's loops, unit by unit: the
// short loops, the WebAssembly scan and narrowing, the TypedArray#indexOf fallback used where
// WebAssembly is missing, windows of large regions and the long-text paths. Plain Buffers stand
// in for regions here: the codec sees only a Buffer and a Uint16Array over it.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as codec from '../lib/string-codec.js';

type Codec = typeof codec;

/** The sample's SetSharedMem with the port's fixes: units up to U+0000, at most capacity - 1. */
function modelWrite(bytes: Uint8Array, text: string): number {
  const capacity = Math.floor(bytes.length / 2);
  if (capacity === 0) return 0;
  let count = 0;
  while (count < text.length && text.charCodeAt(count) !== 0 && count < capacity - 1) {
    const c = text.charCodeAt(count);
    bytes[count * 2] = c & 0xff;
    bytes[count * 2 + 1] = c >> 8;
    count++;
  }
  bytes[count * 2] = 0;
  bytes[count * 2 + 1] = 0;
  return count;
}

/** The sample's GetSharedMem with the port's fixes: at most limit - 1 units, never past the end. */
function modelRead(bytes: Uint8Array, limit: number): string {
  const capacity = Math.floor(bytes.length / 2);
  let out = '';
  for (let i = 0; i < capacity && i < limit - 1; i++) {
    const c = bytes[i * 2]! | (bytes[i * 2 + 1]! << 8);
    if (c === 0) break;
    out += String.fromCharCode(c);
  }
  return out;
}

/** A deterministic generator, so a failure names a case that can be run again. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

type Kind = 'latin1' | 'ascii' | 'other' | 'surrogates';

/** `length` units of one kind, flat, with no U+0000. */
function textOf(kind: Kind, length: number, rnd: () => number): string {
  const units = new Array<number>(length);
  for (let i = 0; i < length; i++) {
    const r = rnd();
    if (kind === 'ascii') units[i] = 0x20 + Math.floor(r * 0x5f);
    else if (kind === 'latin1') units[i] = 1 + Math.floor(r * 0xff);
    else if (kind === 'other') units[i] = r < 0.2 ? 1 + Math.floor(rnd() * 0xff) : 0x100 + Math.floor(rnd() * 0xd700);
    else units[i] = r < 0.3 ? 0xd800 + Math.floor(rnd() * 0x800) : 1 + Math.floor(rnd() * 0xffff);
  }
  let text = '';
  for (let i = 0; i < length; i += 4096) text += String.fromCharCode(...units.slice(i, i + 4096));
  return text.split('').join(''); // flat, whatever the concatenation made
}

/** Bytes with no 16-bit zero; Latin-1 units or not. */
function junk(size: number, rnd: () => number, latin1: boolean): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 2) {
    bytes[i] = 1 + Math.floor(rnd() * 255);
    if (i + 1 < size) bytes[i + 1] = latin1 ? 0 : Math.floor(rnd() * 256);
  }
  return bytes;
}

/** Positions where the codec changes strategy, and their neighbours. */
const EDGES = [0, 1, 2, 15, 16, 17, 31, 32, 33, 39, 40, 41, 127, 128, 129, 255, 256, 257, 2047, 2048, 2049, 16383, 16384, 16385, 32767, 32768, 32769];
const SIZES = [0, 1, 2, 3, 4, 66, 80, 258, 4096, 4097, 4098, 8192, 32768, 32770, 65538, 100_002, 1 << 20];
const KINDS: Kind[] = ['ascii', 'latin1', 'other', 'surrogates'];

function unitsOver(buf: Buffer): Uint16Array {
  return new Uint16Array(buf.buffer, buf.byteOffset, Math.floor(buf.length / 2));
}

function exercise(c: Codec, seed: number): void {
  const rnd = random(seed);
  for (const size of SIZES) {
    const capacity = Math.floor(size / 2);
    const lengths = new Set([0, 1, capacity - 1, capacity, capacity + 1, 4 * capacity + 1, Math.floor(rnd() * (capacity + 2))]);
    for (const e of EDGES) if (e <= capacity + 1) lengths.add(e);
    for (const length of lengths) {
      if (length < 0 || length > 3 * (1 << 20)) continue;
      const kind = KINDS[Math.floor(rnd() * KINDS.length)]!;
      let text = textOf(kind, length, rnd);
      if (length > 0 && rnd() < 0.4) {
        const at = rnd() < 0.5 ? EDGES[Math.floor(rnd() * EDGES.length)]! % length : Math.floor(rnd() * length);
        text = `${text.slice(0, at)}\0${text.slice(at + 1)}`;
      }
      const before = junk(size, rnd, rnd() < 0.5);
      const buf = Buffer.from(before);
      const units = rnd() < 0.5 ? unitsOver(buf) : undefined;
      const expected = Uint8Array.from(before);
      const count = modelWrite(expected, text);
      const where = `seed ${seed}, size ${size}, ${kind} text of ${length} units`;
      expect(c.writeUnits(buf, text, false, units), where).toBe(count);
      expect(Buffer.compare(buf, Buffer.from(expected)), where).toBe(0);
      for (const limit of [1, 2, 8, 33, 41, 129, 2049, 16385, capacity, capacity + 1, Infinity]) {
        if (limit < 1) continue;
        expect(c.readUnits(buf, unitsOver(buf), limit), `${where}, limit ${limit}`).toBe(modelRead(buf, limit));
      }
    }
  }
}

/** Regions with no terminator, Latin-1 up to a point and wider after it, read at every limit. */
function readsOfRawBytes(c: Codec): void {
  const rnd = random(99);
  for (const size of [4096, 40_000, 100_002]) {
    const capacity = Math.floor(size / 2);
    for (const zeroAt of [-1, 41, 100, 2047, 2048, 5000, 16383, 16384, 16400, 20000]) {
      if (zeroAt >= capacity) continue;
      const buf = Buffer.from(junk(size, rnd, true));
      const units = unitsOver(buf);
      // A wide unit at each edge around where a read may stop: none must leak into the check.
      for (const e of [40, 47, 48, 2049, 16385]) if (e < capacity) units[e] = 0x4e00;
      if (zeroAt >= 0) units[zeroAt] = 0;
      for (const limit of [41, 42, 48, 49, 2049, 2050, 16384, 16385, 16386, Infinity]) {
        expect(c.readUnits(buf, units, limit), `size ${size}, zero at ${zeroAt}, limit ${limit}`).toBe(modelRead(buf, limit));
      }
    }
  }
}

describe('the codec as loaded (WebAssembly where there is one)', () => {
  it('uses WebAssembly on this Node', () => {
    expect(codec.accelerated).toBe(typeof (globalThis as { WebAssembly?: unknown }).WebAssembly === 'object');
  });

  it('writes and reads what the sample’s loops do, at every edge between strategies', () => {
    for (const seed of [1, 2, 3]) exercise(codec, seed);
  });

  it('reads raw bytes as the sample’s loop does, whatever lies past the terminator', () => {
    readsOfRawBytes(codec);
  });

  it('writes through a Buffer at an odd address', () => {
    const backing = Buffer.alloc(101, 0x33);
    const odd = backing.subarray(1);
    const text = 'odd \uD800 address'.repeat(5);
    const expected = Uint8Array.from(odd);
    const count = modelWrite(expected, text);
    expect(codec.writeUnits(odd, text, false)).toBe(count);
    expect(Buffer.compare(odd, Buffer.from(expected))).toBe(0);
    expect(backing[0]).toBe(0x33);
  });

  it('strict mode refuses a text that would lose anything, and writes nothing', () => {
    const buf = Buffer.alloc(4096, 0x11);
    const long = textOf('other', 3000, random(5));
    expect(() => codec.writeUnits(buf, long, true)).toThrow(RangeError);
    const withNul = `${textOf('other', 500, random(6))}\0tail`;
    expect(() => codec.writeUnits(buf, withNul, true)).toThrow(TypeError);
    expect(buf.every((b) => b === 0x11)).toBe(true);
    expect(codec.capacityOf(4097)).toBe(2048);
  });
});

describe('the codec without WebAssembly (node --jitless)', () => {
  let plain: Codec;

  beforeAll(async () => {
    vi.stubGlobal('WebAssembly', undefined);
    vi.resetModules();
    plain = (await import('../lib/string-codec.js')) as Codec;
    vi.unstubAllGlobals();
  });

  afterAll(() => {
    vi.resetModules();
  });

  it('falls back to JavaScript', () => {
    expect(plain.accelerated).toBe(false);
  });

  it('writes and reads what the sample’s loops do', () => {
    exercise(plain, 4);
    readsOfRawBytes(plain);
  });
});
