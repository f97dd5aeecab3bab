// The structs of test/interop/c/layout_probe.c (and test/fixtures/layout_ctypes.py) as named-shm
// layouts, with the values the C program and the Python script write and check. Each record sits
// at `index * RECORD_STRIDE` in a REGION_SIZE region, in the order of STRUCT_NAMES.
import { Layout, type SharedMemory } from '../../../lib/index.js';
import { openTracked, uniqueName } from '../../helpers.js';

export const REGION_SIZE = 4096;
export const RECORD_STRIDE = 256;
export const STRUCT_NAMES = ['Natural', 'Pack1', 'Pack2', 'Pack4', 'Nested', 'Strings', 'WithLong', 'Explicit'] as const;
export type StructName = (typeof STRUCT_NAMES)[number];

const BIG = 0xfedcba9876543210n;

/** The layouts; `long` is 32 bits on Windows (LLP64), 64 bits on Linux x86-64 (LP64). C's `char` is `int8`. */
export function makeLayouts(longBits: 32 | 64): Record<StructName, Layout> {
  const Vec3 = new Layout({ x: 'float32', y: 'float32', z: 'float32' });
  const Inner = new Layout({ a: 'int16', b: 'float64', c: 'int8' });
  return {
    Natural: new Layout({
      c: 'int8', d: 'float64', s: 'int16', i: 'int32', q: 'int64', u8: 'uint8',
      big: 'uint64', f: 'float32', b: 'bool', u16: 'uint16', i8: 'int8', u32: 'uint32',
    }),
    Pack1: new Layout(
      { c: 'int8', d: 'float64', s: 'int16', i: 'int32', big: 'uint64', b: 'bool', f: 'float32', v: Vec3, inner: Inner },
      { pack: 1 },
    ),
    Pack2: new Layout({ c: 'int8', i: 'int32', d: 'float64', s: 'int16', tail: 'int8', q: 'int64' }, { pack: 2 }),
    Pack4: new Layout({ c: 'int8', d: 'float64', s: 'int16', q: 'int64', big: 'uint64', tail: 'int8' }, { pack: 4 }),
    Nested: new Layout({
      tag: 'int8', inner: Inner, pos: Vec3, wheels: { type: Vec3, length: 4 }, counts: 'int32[5]',
      speeds: 'float64[3]', flags: 'bool[3]', ticks: 'uint64[2]', small: 'int8[3]', inners: { type: Inner, length: 2 },
    }),
    Strings: new Layout({
      name: 'char[20]', label: 'wchar[12]', latin: { char: 8, encoding: 'latin1' }, after: 'int32', full: 'char[4]',
    }),
    WithLong: new Layout({
      c: 'int8', l: longBits === 32 ? 'int32' : 'int64', ul: longBits === 32 ? 'uint32' : 'uint64', i: 'int32',
    }),
    // A foreign header: 52 reserved bytes that Node does not describe, then fields at given offsets.
    Explicit: new Layout({ magic: 'int32', at: { type: 'float64', offset: 56 }, tail: { type: 'uint32', offset: 64 } }),
  };
}

/** The values every writer stores and every checker expects, as `struct.read()` gives them (arrays as plain arrays). */
export function makeValues(longBits: 32 | 64): Record<StructName, Record<string, unknown>> {
  return {
    Natural: {
      c: 65, d: 3.141592653589793, s: -12345, i: -123456789, q: -1234567890123456789n, u8: 0xab,
      big: BIG, f: -2.25, b: true, u16: 0xbeef, i8: -128, u32: 0xdeadbeef,
    },
    Pack1: {
      c: 0x70, d: -0.1, s: 32767, i: -2147483648, big: BIG, b: true, f: 1.5,
      v: { x: 1, y: -2.5, z: 3.125 }, inner: { a: -2, b: 6.02214076e23, c: 0x7a },
    },
    Pack2: { c: 0x71, i: 2000000000, d: 1e-300, s: -1, tail: 0x74, q: -9223372036854775808n },
    Pack4: { c: 0x72, d: -123.456, s: 4242, q: 9223372036854775807n, big: 18446744073709551615n, tail: 0x21 },
    Nested: {
      tag: 0x4e,
      inner: { a: 7, b: 0.5, c: 0x69 },
      pos: { x: 10.5, y: -20.25, z: 30 },
      wheels: [
        { x: 1, y: 2, z: 3 },
        { x: 4, y: 5, z: 6 },
        { x: -7, y: -8, z: -9 },
        { x: 0.25, y: 0.5, z: 0.75 },
      ],
      counts: [-2, -1, 0, 1, 2147483647],
      speeds: [1.25, -2.5, 1e100],
      flags: [true, false, true],
      ticks: [1n, BIG],
      small: [-1, 0, 127],
      inners: [
        { a: -3, b: 2.75, c: 0x61 },
        { a: 32767, b: -1e-10, c: 0x62 },
      ],
    },
    Strings: { name: 'Ayrton Señna ✓', label: 'Zoë 😀 ✓', latin: 'café', after: -559038737, full: 'ABC' },
    WithLong: longBits === 32 ? { c: 0x4c, l: -1000000000, ul: 4000000000, i: -7 } : { c: 0x4c, l: -1000000000n, ul: 4000000000n, i: -7 },
    Explicit: { magic: 0x534d4853, at: 2.5, tail: 0x80000001 },
  };
}

/** `struct.read()` with typed arrays turned into plain arrays, to compare with makeValues. */
export function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<unknown>);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** What `layout_probe describe` and `layout_ctypes.py describe` print. */
export interface Described {
  platform?: string;
  sizeofLong: number;
  stride: number;
  structs: Array<{ name: StructName; size: number; align?: number; at: number; fields: Array<{ name: string; offset: number; size: number }> }>;
}

/** The record of each struct as hex, in a region's bytes. */
export function recordsHex(bytes: Uint8Array, described: Described): Record<string, string> {
  return Object.fromEntries(
    described.structs.map((s) => [s.name, Buffer.from(bytes.subarray(s.at, s.at + s.size)).toString('hex')]),
  );
}

/** A new region (closed after the test) holding every record of `described` as Node writes it. */
export function regionOfNodeRecords(
  described: Described,
  layouts: Record<StructName, Layout>,
  values: Record<StructName, Record<string, unknown>>,
): SharedMemory {
  const region = openTracked(uniqueName('lay'), { size: REGION_SIZE });
  for (const s of described.structs) region.struct(layouts[s.name as StructName], s.at).write(values[s.name as StructName]!);
  return region;
}
