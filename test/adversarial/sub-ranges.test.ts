// Finding 14 (docs/RELIABILITY.md): a read-only region's `bytes` copies the whole region on every
// access. read(offset, length, target?) and write(offset, data) copy only the range asked, on
// every access mode, bounds-checked, and never write part of what they were given.
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { errorOf, openTracked, track, uniqueName } from '../helpers.js';

describe('sub-ranges of a region', () => {
  it('write then read a range in the middle returns exactly those bytes', () => {
    const region = openTracked(uniqueName('sub'), { size: 64 });
    expect(region.write(10, new Uint8Array([1, 2, 3]))).toBe(3);
    expect([...region.read(9, 5)]).toEqual([0, 1, 2, 3, 0]);
  });

  it('read into a given Uint8Array fills it from its start and returns it', () => {
    const region = openTracked(uniqueName('sub'), { size: 64 });
    region.write(60, Buffer.from('wxyz'));
    const target = new Uint8Array(8).fill(0xee);
    expect(region.read(60, 4, target)).toBe(target);
    expect([...target]).toEqual([0x77, 0x78, 0x79, 0x7a, 0xee, 0xee, 0xee, 0xee]);
  });

  it('read with no length copies to the end of the region, and the copy is not the mapping', () => {
    const region = openTracked(uniqueName('sub'), { size: 16 });
    const copy = region.read(12);
    expect(copy.length).toBe(4);
    copy[0] = 9;
    expect(region.read(12, 1)[0]).toBe(0);
  });

  it('a write that would pass the end is a RangeError and writes nothing', () => {
    const region = openTracked(uniqueName('sub'), { size: 16 });
    const err = errorOf(() => region.write(14, new Uint8Array([1, 2, 3])));
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
    expect([...region.read(14)]).toEqual([0, 0]);
  });

  it('offsets and lengths outside the region, or not integers, are ERR_OUT_OF_RANGE', () => {
    const region = openTracked(uniqueName('sub'), { size: 16 });
    for (const [offset, length] of [[17, 0], [-1, 1], [0, 17], [8, 9], [1.5, 1], [0, Number.NaN]] as const) {
      expect(errorOf(() => region.read(offset, length)).code).toBe('ERR_OUT_OF_RANGE');
    }
    expect(errorOf(() => region.read(0, 4, new Uint8Array(3))).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('wrong types are ERR_INVALID_ARG_TYPE', () => {
    const region = openTracked(uniqueName('sub'), { size: 16 });
    expect(errorOf(() => region.read('0' as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(errorOf(() => region.write(0, 'text' as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(errorOf(() => region.read(0, 1, [0] as never)).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('a read-only region reads ranges and refuses writes with ERR_SHM_READ_ONLY', () => {
    const name = uniqueName('sub');
    const writer = openTracked(name, { size: 32 });
    writer.write(4, new Uint8Array([42]));
    const reader = track(SharedMemory.openExisting(name, { access: 'readonly' }));
    expect(reader.read(4, 1)[0]).toBe(42);
    expect(errorOf(() => reader.write(0, new Uint8Array(1))).code).toBe('ERR_SHM_READ_ONLY');
  });

  it('write accepts any view and ArrayBuffer, and a closed region says ERR_SHM_CLOSED', () => {
    const region = SharedMemory.open(uniqueName('sub'), { size: 16 });
    expect(region.write(0, new Uint16Array([0x0201]))).toBe(2);
    expect(region.write(2, new DataView(new Uint8Array([3]).buffer))).toBe(1);
    expect(region.write(3, new Uint8Array([4]).buffer)).toBe(1);
    expect([...region.read(0, 4)]).toEqual([1, 2, 3, 4]);
    region.close();
    expect(errorOf(() => region.read(0, 1)).code).toBe('ERR_SHM_CLOSED');
  });
});
