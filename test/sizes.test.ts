// Region sizes (group B of the reliability catalogue): what a size may be, what an existing region
// of another size gives, and the capacity in UTF-16 units that follows from a size.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { MAX_SIZE } from '../lib/validate.js';
import { splitSize } from '../lib/os/windows/region.js';
import { exists, isLinux, openTracked, shmPath, track, uniqueName, errorOf } from './helpers.js';

const entryPoints: [string, (name: string, size: unknown) => unknown][] = [
  ['open', (name, size) => SharedMemory.open(name, { size: size as number })],
  ['create', (name, size) => SharedMemory.create(name, { size: size as number })],
  ['openExisting', (name, size) => SharedMemory.openExisting(name, { size: size as number })],
];

describe('sizes that are refused before any system call', () => {
  const outOfRange: [string, number][] = [
    ['0', 0],
    ['-1', -1],
    ['-4096', -4096],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['1.5', 1.5],
    ['4096.0001', 4096.0001],
    ['2**53 + 2', 2 ** 53 + 2],
    ['MAX_SIZE + 1', MAX_SIZE + 1],
    ['Number.MAX_VALUE', Number.MAX_VALUE],
  ];
  const rangeCases = entryPoints.flatMap(([call, fn]) => outOfRange.map(([shown, size]) => [call, shown, fn, size] as const));

  it.each(rangeCases)('%s with size %s throws RangeError ERR_OUT_OF_RANGE', (_call, _shown, fn, size) => {
    const name = uniqueName('size');
    const err = errorOf(() => fn(name, size));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
    expect(err.message).toMatch(/^The value of "options\.size" is out of range\./);
  });

  const notNumbers: [string, unknown][] = [
    ['4096n', 4096n],
    ["'4096'", '4096'],
    ['null', null],
    ['true', true],
    ['{}', {}],
    ['[4096]', [4096]],
    ['new Number(4096)', new Number(4096)],
  ];
  const typeCases = entryPoints.flatMap(([call, fn]) => notNumbers.map(([shown, size]) => [call, shown, fn, size] as const));

  it.each(typeCases)('%s with size %s throws TypeError ERR_INVALID_ARG_TYPE', (_call, _shown, fn, size) => {
    const name = uniqueName('size');
    const err = errorOf(() => fn(name, size));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(err.message).toMatch(/^The "options\.size" argument must be of type number\. Received /);
  });

  it.runIf(isLinux)('a refused size creates nothing at the name', () => {
    const name = uniqueName('size');
    for (const size of [0, -1, NaN, 1.5, MAX_SIZE + 1]) {
      expect(() => SharedMemory.open(name, { size })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    }
    expect(exists(shmPath(name))).toBe(false);
  });

  it('MAX_SIZE is what one JavaScript view can cover, and a safe integer', () => {
    expect(Number.isSafeInteger(MAX_SIZE)).toBe(true);
    expect(MAX_SIZE).toBeGreaterThanOrEqual(2 ** 31 - 1);
  });
});

describe('the default size', () => {
  it('open without a size creates 4096 bytes, the sample’s SHMEMSIZE', () => {
    const region = openTracked(uniqueName());
    expect(region.size).toBe(4096);
    expect(region.capacity).toBe(2048);
  });

  it('create without a size creates 4096 bytes', () => {
    const region = track(SharedMemory.create(uniqueName()));
    expect(region.size).toBe(4096);
  });
});

describe('an existing region of another size', () => {
  it('asking 8192 bytes of an existing 4096-byte region fails with EINVAL naming both sizes', () => {
    const name = uniqueName();
    openTracked(name, { size: 4096 });
    const err = errorOf(() => SharedMemory.open(name, { size: 8192 }));
    expect(err.code).toBe('EINVAL');
    expect(err.region).toBe(name);
    expect(err.message).toContain('4096');
    expect(err.message).toContain('8192');
  });

  it('openExisting asking 8192 bytes of a 4096-byte region fails the same way', () => {
    const name = uniqueName();
    openTracked(name, { size: 4096 });
    const err = errorOf(() => SharedMemory.openExisting(name, { size: 8192 }));
    expect(err.code).toBe('EINVAL');
    expect(err.message).toContain('4096');
    expect(err.message).toContain('8192');
  });

  it('a refused larger open leaves the region’s size and content as they were', () => {
    const name = uniqueName();
    const first = openTracked(name, { size: 4096 });
    first.writeString('kept');
    expect(() => SharedMemory.open(name, { size: 8192 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(first.size).toBe(4096);
    expect(first.readString()).toBe('kept');
    const again = track(SharedMemory.openExisting(name));
    expect(again.size).toBe(4096);
    expect(again.readString()).toBe('kept');
  });

  it.runIf(isLinux)('a refused larger open does not grow the object', () => {
    const name = uniqueName();
    openTracked(name, { size: 4096 });
    expect(() => SharedMemory.open(name, { size: 8192 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(fs.statSync(shmPath(name)).size).toBe(4096);
  });

  it.runIf(isLinux)('a refused larger open maps nothing: the object stays mapped once, over its 4096 bytes', () => {
    const name = uniqueName();
    openTracked(name, { size: 4096 }).write(0, new Uint8Array(4096));
    const st = fs.statSync(shmPath(name));
    const mappings = () => mappingsOf(st.dev, st.ino);
    expect(mappings()).toEqual([4096]);
    expect(() => SharedMemory.open(name, { size: 8192 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(mappings()).toEqual([4096]);
  });

  it('asking 4096 bytes of an existing 8192-byte region maps all 8192 and says it did not create it', () => {
    const name = uniqueName();
    openTracked(name, { size: 8192 });
    const second = openTracked(name, { size: 4096 });
    expect(second.created).toBe(false);
    expect(second.size).toBe(8192);
    expect(second.capacity).toBe(4096);
    expect(second.read().length).toBe(8192);
    // The view covers it all too, where there is one (not on a copying region).
    if (second.zeroCopy) expect(second.bytes.length).toBe(8192);
  });

  it('openExisting without a size maps the region at its real size', () => {
    const name = uniqueName();
    openTracked(name, { size: 8192 });
    const second = track(SharedMemory.openExisting(name));
    expect(second.created).toBe(false);
    expect(second.size).toBe(8192);
  });
});

/** Lengths of this process's mappings of the file with this device and inode (Linux /proc). */
function mappingsOf(dev: number, ino: number): number[] {
  const major = ((dev >> 8) & 0xfff).toString(16).padStart(2, '0');
  const minor = ((dev & 0xff) | ((dev >> 12) & 0xfff00)).toString(16).padStart(2, '0');
  return fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((line) => line.split(/\s+/))
    .filter((f) => f[3] === `${major}:${minor}` && f[4] === String(ino))
    .map((f) => {
      const [start, end] = f[0]!.split('-').map((hex) => BigInt(`0x${hex}`));
      return Number(end! - start!);
    });
}

describe('capacity: floor(size / 2) UTF-16 units', () => {
  it.each([
    [1, 0],
    [2, 1],
    [3, 1],
    [4096, 2048],
    [4097, 2048],
  ])('a region of %i bytes has capacity %i', (size, capacity) => {
    const region = openTracked(uniqueName(), { size });
    expect(region.size).toBe(size);
    expect(region.capacity).toBe(capacity);
    expect(region.read().length).toBe(size);
    if (region.zeroCopy) expect(region.bytes.length).toBe(size);
  });

  it('at capacity 0 writeString stores nothing, not even the terminator, and returns 0', () => {
    const name = uniqueName();
    const writer = openTracked(name, { size: 1 });
    const observer = track(SharedMemory.openExisting(name));
    observer.write(0, Uint8Array.of(0x7f));
    expect(writer.writeString('abc')).toBe(0);
    expect(observer.read(0, 1)[0]).toBe(0x7f);
  });

  it('at capacity 0 writeString of the empty string writes nothing either', () => {
    const name = uniqueName();
    const writer = openTracked(name, { size: 1 });
    const observer = track(SharedMemory.openExisting(name));
    observer.write(0, Uint8Array.of(0x7f));
    expect(writer.writeString('')).toBe(0);
    expect(observer.read(0, 1)[0]).toBe(0x7f);
  });

  it('at capacity 0 a strict write refuses even the empty string: the terminator does not fit', () => {
    const name = uniqueName();
    const writer = openTracked(name, { size: 1 });
    const observer = track(SharedMemory.openExisting(name));
    observer.write(0, Uint8Array.of(0x7f));
    expect(() => writer.writeString('', { strict: true })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(observer.read(0, 1)[0]).toBe(0x7f);
  });

  it('at capacity 0 readString gives the empty string', () => {
    const region = openTracked(uniqueName(), { size: 1 });
    region.write(0, Uint8Array.of(0x41));
    expect(region.readString()).toBe('');
  });

  it('at capacity 1 writeString stores only the terminator and returns 0', () => {
    const name = uniqueName();
    const writer = openTracked(name, { size: 2 });
    const observer = track(SharedMemory.openExisting(name));
    observer.write(0, Uint8Array.of(0x7f, 0x7f));
    expect(writer.writeString('abc')).toBe(0);
    // Windows reports an existing section page-rounded: look only at the 2 bytes created.
    expect([...observer.read(0, 2)]).toEqual([0, 0]);
  });

  it('at size 3 the odd last byte is never written', () => {
    const name = uniqueName();
    const writer = openTracked(name, { size: 3 });
    const observer = track(SharedMemory.openExisting(name));
    observer.write(0, Uint8Array.of(0x7f, 0x7f, 0x7f));
    expect(writer.writeString('abc')).toBe(0);
    expect([...observer.read(0, 3)]).toEqual([0, 0, 0x7f]);
  });
});

describe('splitSize: a byte count as the two DWORDs CreateFileMappingW takes', () => {
  it.each([
    [4096, 0, 4096],
    [2 ** 32 - 1, 0, 2 ** 32 - 1],
    [2 ** 32, 1, 0],
    [2 ** 32 + 4096, 1, 4096],
    [2 ** 53 - 1, 2 ** 21 - 1, 2 ** 32 - 1],
  ])('%i splits into high %i and low %i', (size, high, low) => {
    expect(splitSize(size)).toEqual({ high, low });
  });
});
