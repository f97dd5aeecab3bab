// The string contract (CONTRACT.md, group C of the reliability catalogue): a UTF-16LE string at
// byte 0 ended by U+0000, written and read as the sample's SetSharedMem/GetSharedMem do, with the
// original's defects fixed. Regions are 4096 bytes (capacity 2048 units) unless stated.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { lastJson, openTracked, runChild, track, uniqueName, errorOf } from './helpers.js';

/** A fresh region of `size` bytes whose every byte is `fill` (not 0, so that untouched bytes show). */
function prefilled(size = 4096, fill = 0xa5): SharedMemory {
  const region = openTracked(uniqueName('str'), { size });
  region.write(0, new Uint8Array(region.size).fill(fill));
  return region;
}

/** The bytes of `text` as UTF-16LE, lone surrogates kept as they are. */
function utf16(text: string): number[] {
  return [...Buffer.from(text, 'utf16le')];
}

/** A copy of the region's bytes. */
function snapshot(region: SharedMemory): Uint8Array {
  return region.read();
}

describe('writing at and around the capacity (4096 bytes: 2047 units + U+0000)', () => {
  it.each([
    [2046, 2046],
    [2047, 2047],
    [2048, 2047],
    [2049, 2047],
    [4095, 2047], // the original's accepted maximum: 8190 bytes + NUL into a 4096-byte view
  ])('a string of %i units stores %i units, then U+0000, and leaves every other byte alone', (length, stored) => {
    const region = prefilled();
    expect(region.writeString('x'.repeat(length))).toBe(stored);
    const bytes = region.read();
    expect(bytes.length).toBe(4096);
    expect([...bytes.subarray(0, 2 * stored)]).toEqual(utf16('x'.repeat(stored)));
    expect([...bytes.subarray(2 * stored, 2 * stored + 2)]).toEqual([0, 0]);
    expect(bytes.subarray(2 * stored + 2).every((b) => b === 0xa5)).toBe(true);
    expect(region.readString()).toBe('x'.repeat(stored));
  });

  it('a cut string ends with U+0000 in the last two bytes of the region', () => {
    const region = prefilled();
    region.writeString('y'.repeat(4095));
    expect([...region.read(4094, 2)]).toEqual([0, 0]);
  });

  it('in an odd-sized region (4097 bytes) a cut string never touches the odd last byte', () => {
    const region = prefilled(4097);
    expect(region.writeString('x'.repeat(4095))).toBe(2047);
    expect([...region.read(4094, 3)]).toEqual([0, 0, 0xa5]);
  });

  it('another handle sees the same cut string', () => {
    const region = prefilled();
    region.writeString('z'.repeat(2049));
    const other = track(SharedMemory.openExisting(region.name));
    expect(other.readString()).toBe('z'.repeat(2047));
  });
});

describe('strict writes', () => {
  it('a string of 2047 units fits and is stored whole', () => {
    const region = prefilled();
    expect(region.writeString('s'.repeat(2047), { strict: true })).toBe(2047);
    expect(region.readString()).toBe('s'.repeat(2047));
  });

  it.each([2048, 2049, 4095])('a string of %i units throws RangeError ERR_OUT_OF_RANGE', (length) => {
    const region = prefilled();
    const err = errorOf(() => region.writeString('s'.repeat(length), { strict: true }));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
    expect(err.message).toContain(String(length));
    expect(err.message).toContain('2047');
  });

  it('a string that does not fit leaves the region byte for byte as it was', () => {
    const region = prefilled();
    region.writeString('before');
    region.write(100, new Uint8Array(region.size - 100).fill(0x5a));
    const before = snapshot(region);
    expect(() => region.writeString('s'.repeat(2048), { strict: true })).toThrow(RangeError);
    expect(snapshot(region)).toEqual(before);
  });

  it('a string with U+0000 inside throws TypeError ERR_INVALID_ARG_VALUE', () => {
    const region = prefilled();
    const err = errorOf(() => region.writeString('ab\0cd', { strict: true }));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('a string with U+0000 inside writes nothing', () => {
    const region = prefilled();
    region.writeString('before');
    const before = snapshot(region);
    expect(() => region.writeString('ab\0cd', { strict: true })).toThrow(TypeError);
    expect(snapshot(region)).toEqual(before);
  });

  it('strict: false cuts as the default does', () => {
    const region = prefilled();
    expect(region.writeString('s'.repeat(2048), { strict: false })).toBe(2047);
  });

  it.each([
    ['a string', 'yes'],
    ['a number', 1],
    ['null', null],
  ])('options.strict as %s throws ERR_INVALID_ARG_TYPE and writes nothing', (_what, strict) => {
    const region = prefilled();
    const before = snapshot(region);
    expect(() => region.writeString('abc', { strict: strict as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(snapshot(region)).toEqual(before);
  });

  it('options that are not an object throw ERR_INVALID_ARG_TYPE', () => {
    const region = prefilled();
    expect(() => region.writeString('abc', true as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('U+0000 and surrogates in the text', () => {
  it("'ab\\0cd' stores 'ab' and U+0000, and returns 2", () => {
    const region = prefilled();
    expect(region.writeString('ab\0cd')).toBe(2);
    expect([...region.read(0, 8)]).toEqual([...utf16('ab\0'), 0xa5, 0xa5]);
    expect(region.readString()).toBe('ab');
  });

  it.each([2046, 2045, 2047])(
    'in a text far longer than the region, U+0000 at unit %i still ends the string there',
    (at) => {
      const region = prefilled();
      const text = `${'x'.repeat(at)}\0${'y'.repeat(20000)}`;
      const stored = Math.min(at, 2047);
      expect(region.writeString(text)).toBe(stored);
      expect(region.readString()).toBe('x'.repeat(stored));
    },
  );

  it('a string that starts with U+0000 stores the empty string and returns 0', () => {
    const region = prefilled();
    expect(region.writeString('\0abc')).toBe(0);
    expect([...region.read(0, 4)]).toEqual([0, 0, 0xa5, 0xa5]);
    expect(region.readString()).toBe('');
  });

  it('a surrogate pair straddling the last unit is cut per unit, leaving a lone high surrogate', () => {
    const region = prefilled();
    const text = `${'x'.repeat(2046)}\u{1F600}`;
    expect(text.length).toBe(2048);
    expect(region.writeString(text)).toBe(2047);
    expect([...region.read(4092, 4)]).toEqual([0x3d, 0xd8, 0, 0]);
    expect(region.readString()).toBe(`${'x'.repeat(2046)}\uD83D`);
  });

  it('a surrogate pair that fits is stored whole', () => {
    const region = prefilled();
    expect(region.writeString(`${'x'.repeat(2045)}\u{1F600}`)).toBe(2047);
    expect(region.readString()).toBe(`${'x'.repeat(2045)}\u{1F600}`);
  });

  it.each([
    ['a lone high surrogate', '\uD800', [0x00, 0xd8]],
    ['a lone low surrogate', '\uDFFF', [0xff, 0xdf]],
    ['U+FFFE', '\uFFFE', [0xfe, 0xff]],
    ['U+FFFF', '\uFFFF', [0xff, 0xff]],
  ])('%s round-trips byte for byte, never as U+FFFD', (_what, unit, unitBytes) => {
    const region = prefilled();
    const text = `a${unit}b`;
    expect(region.writeString(text)).toBe(3);
    expect([...region.read(0, 8)]).toEqual([0x61, 0, ...unitBytes, 0x62, 0, 0, 0]);
    const back = region.readString();
    expect(back).toBe(text);
    expect(back).not.toContain('\uFFFD');
  });
});

describe('the bytes after the terminator', () => {
  it("writing 'hello' then 'hi' leaves 'lo' behind, as the C DLL does", () => {
    const region = prefilled();
    region.writeString('hello');
    region.writeString('hi');
    expect([...region.read(0, 14)]).toEqual([...utf16('hi\0lo\0'), 0xa5, 0xa5]);
    expect(region.readString()).toBe('hi');
  });
});

describe('writeString with text that is not a string', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['42', 42],
    ['a Buffer', Buffer.from('abc')],
    ["new String('x')", new String('x')],
    ['Symbol()', Symbol()],
    ["['x']", ['x']],
  ])('%s throws TypeError ERR_INVALID_ARG_TYPE and leaves the region unchanged', (_what, text) => {
    const region = prefilled();
    region.writeString('before');
    const before = snapshot(region);
    const err = errorOf(() => region.writeString(text as string));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(err.message).toMatch(/^The "text" argument must be of type string\. Received /);
    expect(snapshot(region)).toEqual(before);
  });
});

describe('readString limits (the original’s cchSize, which counts the terminator)', () => {
  it.each([
    ['0', 0],
    ['-1', -1],
    ['1.5', 1.5],
    ['NaN', NaN],
    ['-Infinity', -Infinity],
    ['2**53', 2 ** 53],
  ])('limit %s throws RangeError ERR_OUT_OF_RANGE', (_shown, limit) => {
    const region = prefilled();
    region.writeString('hello');
    const err = errorOf(() => region.readString(limit));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
  });

  it.each([
    ["'5'", '5'],
    ['5n', 5n],
    ['null', null],
  ])('limit %s throws TypeError ERR_INVALID_ARG_TYPE', (_shown, limit) => {
    const region = prefilled();
    const err = errorOf(() => region.readString(limit as never));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it.each([
    [1, ''],
    [2, 'h'],
    [5, 'hell'],
    [6, 'hello'],
    [7, 'hello'],
  ])('limit %i reads %j: at most limit - 1 units', (limit, expected) => {
    const region = prefilled();
    region.writeString('hello');
    expect(region.readString(limit)).toBe(expected);
  });

  it.each([
    ['2**31', 2 ** 31],
    ['Infinity', Infinity],
    ['Number.MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER],
    ['no limit', undefined],
  ])('limit %s is clamped to the region', (_shown, limit) => {
    const region = prefilled();
    region.write(0, new Uint8Array(region.size).fill(0x41));
    expect(region.readString(limit)).toBe('\u4141'.repeat(2048));
  });
});

describe('a region with no terminator', () => {
  it('4096 bytes of 0x41 read as exactly 2048 units', () => {
    const region = prefilled(4096, 0x41);
    const text = region.readString();
    expect(text).toHaveLength(2048);
    expect(text).toBe('\u4141'.repeat(2048));
  });

  it('4097 bytes of 0x41 read as 2048 units: the odd last byte is never decoded', () => {
    const region = prefilled(4097, 0x41);
    expect(region.readString()).toBe('\u4141'.repeat(2048));
  });

  it('a limit below the region still bounds the read', () => {
    const region = prefilled(4096, 0x41);
    expect(region.readString(100)).toBe('\u4141'.repeat(99));
  });
});

describe('between processes', () => {
  it('a string written here is read byte for byte in another process', () => {
    const region = prefilled();
    const text = `astral \u{1F600}, lone \uD800 and \uDFFF, é, U+FFFE \uFFFE`;
    expect(region.writeString(text)).toBe(text.length);
    const result = lastJson(runChild('read', region.name).stdout);
    expect(result).toEqual({ created: false, size: 4096, text });
  });

  it('a string written in another process is read here', () => {
    const region = prefilled();
    const text = 'written by the child';
    expect(lastJson(runChild('write', region.name, ...text.split(' ')).stdout)).toEqual({
      created: false,
      units: text.length,
    });
    expect(region.readString()).toBe(text);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties: writeString/readString against the sample's C loops, ported literally with the
// contract's fixes (per-unit copy, bound capacity - 1, limit - 1, stop at the region's end).

/**
 * SetSharedMem on a byte image:
 *     DWORD dwCount = 1;
 *     while (*lpszBuf && dwCount < SHMEMSIZE) { *lpszTmp++ = *lpszBuf++; dwCount++; }
 *     *lpszTmp = '\0';
 * Fixes: SHMEMSIZE counts units (capacity), not bytes; with no room for the terminator
 * (capacity 0) nothing is written. Returns the units copied.
 */
function modelWrite(image: Uint8Array, text: string): number {
  const SHMEMSIZE = Math.floor(image.length / 2);
  if (SHMEMSIZE === 0) return 0;
  let src = 0;
  let dst = 0;
  let dwCount = 1;
  while (src < text.length && text.charCodeAt(src) !== 0 && dwCount < SHMEMSIZE) {
    const unit = text.charCodeAt(src++);
    image[2 * dst] = unit & 0xff;
    image[2 * dst + 1] = unit >> 8;
    dst++;
    dwCount++;
  }
  image[2 * dst] = 0;
  image[2 * dst + 1] = 0;
  return dst;
}

/**
 * GetSharedMem on a byte image:
 *     while (*lpszTmp && --cchSize) *lpszBuf++ = *lpszTmp++;
 * Fix: the read stops at the region's end (the last whole unit).
 */
function modelRead(image: Uint8Array, limit: number): string {
  const units = Math.floor(image.length / 2);
  const unitAt = (i: number) => image[2 * i]! | (image[2 * i + 1]! << 8);
  let cchSize = limit;
  let p = 0;
  const out: number[] = [];
  while (p < units && unitAt(p) !== 0 && --cchSize) out.push(unitAt(p++));
  return String.fromCharCode(...out);
}

/** The strict option: refuse, writing nothing, what the cut would lose. */
function modelStrictError(capacity: number, text: string): string | undefined {
  if (text.includes('\0')) return 'ERR_INVALID_ARG_VALUE';
  if (text.length > capacity - 1) return 'ERR_OUT_OF_RANGE';
  return undefined;
}

const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u));
/** Pieces of text: ASCII, U+0000, lone surrogates, astral pairs, noncharacters, any unit. */
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((u) => String.fromCharCode(u)) },
  { weight: 1, arbitrary: fc.constant('\0') },
  { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => String.fromCharCode(u)) },
  { weight: 2, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
  { weight: 1, arbitrary: fc.constantFrom('\uFFFE', '\uFFFF', '\uFEFF', '\u00e9') },
  { weight: 2, arbitrary: anyUnit },
);
const limitArb = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(Infinity), fc.constant(2 ** 31));

/** A size of 1..64 bytes, a random prefill of it, and text whose length is around its capacity. */
const scenario = fc.integer({ min: 1, max: 64 }).chain((size) =>
  fc.record({
    size: fc.constant(size),
    prefill: fc.uint8Array({ minLength: size, maxLength: size }),
    text: fc.array(piece, { maxLength: Math.floor(size / 2) + 3 }).map((pieces) => pieces.join('')),
    limit: limitArb,
  }),
);

/** One region per size for the whole property: opened lazily, closed after the test. */
function regionsBySize(): (size: number) => SharedMemory {
  const regions = new Map<number, SharedMemory>();
  return (size) => {
    let region = regions.get(size);
    if (!region) regions.set(size, (region = openTracked(uniqueName('pbt'), { size })));
    return region;
  };
}

const RUNS = { numRuns: 200 };

/** -1 when the two byte images are equal, else the first index where they differ. */
function firstDifference(actual: Uint8Array, expected: Uint8Array): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) return i;
  return -1;
}

/** A prefill with no zero byte (so reads run far), a pattern set by `seed`. */
function pattern(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = ((i * 31 + seed) % 255) + 1;
  return bytes;
}

/**
 * Larger regions (up to 20000 bytes, around one and several pages) and texts from empty to five
 * times the capacity, built by repeating a random chunk, with a U+0000 placed anywhere or nowhere.
 */
const longScenario = fc
  .oneof(
    fc.integer({ min: 60, max: 600 }),
    fc.integer({ min: 4090, max: 4102 }),
    fc.integer({ min: 8186, max: 8198 }),
    fc.integer({ min: 1, max: 20000 }),
  )
  .chain((size) => {
    const capacity = Math.floor(size / 2);
    return fc.record({
      size: fc.constant(size),
      seed: fc.integer({ min: 0, max: 254 }),
      chunk: fc.array(piece, { minLength: 1, maxLength: 6 }).map((pieces) => pieces.join('')),
      length: fc.oneof(
        fc.integer({ min: Math.max(0, capacity - 3), max: capacity + 3 }),
        fc.integer({ min: 0, max: capacity + 40 }),
        fc.integer({ min: 4 * capacity, max: 5 * capacity + 10 }),
      ),
      nulAt: fc.option(
        fc.oneof(fc.integer({ min: 0, max: 5 * capacity + 10 }), fc.integer({ min: Math.max(0, capacity - 3), max: capacity + 1 })),
        { nil: undefined },
      ),
      limit: fc.oneof(limitArb, fc.integer({ min: 1, max: capacity + 2 })),
    });
  })
  .map(({ size, seed, chunk, length, nulAt, limit }) => {
    let text = chunk.repeat(Math.ceil(length / chunk.length)).slice(0, length);
    if (nulAt !== undefined && nulAt < text.length) text = `${text.slice(0, nulAt)}\0${text.slice(nulAt + 1)}`;
    return { size, prefill: pattern(size, seed), text, limit };
  });

describe('properties against the sample’s loops', () => {
  it('writeString returns the model’s count and leaves the model’s byte image, prefill included', () => {
    const regionOf = regionsBySize();
    fc.assert(
      fc.property(scenario, ({ size, prefill, text }) => {
        const region = regionOf(size);
        region.write(0, prefill);
        const expected = Uint8Array.from(prefill);
        const count = modelWrite(expected, text);
        expect(region.writeString(text)).toBe(count);
        expect([...region.read()]).toEqual([...expected]);
      }),
      RUNS,
    );
  });

  it('readString after writeString gives what the model reads, for any limit', () => {
    const regionOf = regionsBySize();
    fc.assert(
      fc.property(scenario, ({ size, prefill, text, limit }) => {
        const region = regionOf(size);
        region.write(0, prefill);
        const expected = Uint8Array.from(prefill);
        modelWrite(expected, text);
        region.writeString(text);
        expect(region.readString(limit)).toBe(modelRead(expected, limit));
        expect(region.readString()).toBe(modelRead(expected, Infinity));
      }),
      RUNS,
    );
  });

  it('readString of any byte image, with or without a terminator, gives what the model reads', () => {
    const regionOf = regionsBySize();
    const image = fc.integer({ min: 1, max: 64 }).chain((size) =>
      fc.record({
        // Few zero bytes, so that many images hold no U+0000 at all.
        bytes: fc.uint8Array({ minLength: size, maxLength: size, min: 0, max: 255 }).map((b) => b.map((x) => (x < 8 ? 0 : x))),
        limit: limitArb,
      }),
    );
    fc.assert(
      fc.property(image, ({ bytes, limit }) => {
        const region = regionOf(bytes.length);
        region.write(0, bytes);
        expect(region.readString(limit)).toBe(modelRead(bytes, limit));
        expect([...region.read()]).toEqual([...bytes]);
      }),
      RUNS,
    );
  });

  it('a strict write either refuses, changing nothing, or does exactly what the plain write does', () => {
    const regionOf = regionsBySize();
    fc.assert(
      fc.property(scenario, ({ size, prefill, text }) => {
        const region = regionOf(size);
        region.write(0, prefill);
        const expected = Uint8Array.from(prefill);
        const refusal = modelStrictError(region.capacity, text);
        if (refusal) {
          expect(() => region.writeString(text, { strict: true })).toThrow(expect.objectContaining({ code: refusal }));
        } else {
          expect(region.writeString(text, { strict: true })).toBe(modelWrite(expected, text));
          expect(region.readString()).toBe(text);
        }
        expect([...region.read()]).toEqual([...expected]);
      }),
      RUNS,
    );
  });

  it('in regions up to 20000 bytes, writeString and readString match the model byte for byte', () => {
    const regionOf = regionsBySize();
    fc.assert(
      fc.property(longScenario, ({ size, prefill, text, limit }) => {
        const region = regionOf(size);
        region.write(0, prefill);
        const expected = Uint8Array.from(prefill);
        const count = modelWrite(expected, text);
        expect(region.writeString(text)).toBe(count);
        expect(firstDifference(region.read(), expected)).toBe(-1);
        expect(region.readString(limit)).toBe(modelRead(expected, limit));
        expect(region.readString()).toBe(modelRead(expected, Infinity));
      }),
      { numRuns: 150 },
    );
  });

  it('in regions up to 20000 bytes, strict writes refuse or match the model', () => {
    const regionOf = regionsBySize();
    fc.assert(
      fc.property(longScenario, ({ size, prefill, text }) => {
        const region = regionOf(size);
        region.write(0, prefill);
        const expected = Uint8Array.from(prefill);
        const refusal = modelStrictError(region.capacity, text);
        if (refusal) {
          expect(() => region.writeString(text, { strict: true })).toThrow(expect.objectContaining({ code: refusal }));
        } else {
          expect(region.writeString(text, { strict: true })).toBe(modelWrite(expected, text));
        }
        expect(firstDifference(region.read(), expected)).toBe(-1);
      }),
      { numRuns: 100 },
    );
  });

  it('readString stops at the first U+0000 wherever it lies in a large region, or at the limit', () => {
    const regionOf = regionsBySize();
    const image = fc
      .integer({ min: 1, max: 20000 })
      .chain((size) => {
        const units = Math.floor(size / 2);
        const near2048 = fc.integer({ min: -3, max: 3 }).chain((d) => fc.integer({ min: 0, max: 5 }).map((w) => w * 2048 + d));
        const position = fc.oneof(fc.integer({ min: 0, max: units + 2 }), near2048);
        return fc.record({
          size: fc.constant(size),
          seed: fc.integer({ min: 0, max: 254 }),
          zeros: fc.array(position, { maxLength: 3 }),
          limit: fc.oneof(limitArb, position.map((p) => Math.max(1, p)), fc.integer({ min: 1, max: units + 2 })),
        });
      });
    fc.assert(
      fc.property(image, ({ size, seed, zeros, limit }) => {
        const bytes = pattern(size, seed);
        for (const at of zeros) if (at >= 0 && 2 * at + 1 < size) bytes[2 * at] = bytes[2 * at + 1] = 0;
        const region = regionOf(size);
        region.write(0, bytes);
        expect(region.readString(limit)).toBe(modelRead(bytes, limit));
        expect(firstDifference(region.read(), bytes)).toBe(-1);
      }),
      RUNS,
    );
  });

  it('what one handle writes another handle of the same region reads', () => {
    const regionOf = regionsBySize();
    const readers = new Map<number, SharedMemory>();
    fc.assert(
      fc.property(scenario, ({ size, prefill, text, limit }) => {
        const writer = regionOf(size);
        let reader = readers.get(size);
        if (!reader) readers.set(size, (reader = track(SharedMemory.openExisting(writer.name))));
        writer.write(0, prefill);
        const expected = Uint8Array.from(prefill);
        modelWrite(expected, text);
        writer.writeString(text);
        // On Windows another handle sees the section page-rounded; the bytes past `size` are 0.
        const seen = new Uint8Array(reader.size);
        seen.set(expected);
        expect(reader.readString(limit)).toBe(modelRead(seen, limit));
      }),
      RUNS,
    );
  });
});
