// Layouts, struct views, sequence locks and tick buffers: the API's promises, one per test.
// (C, mingw and Python agreement: layout-c, windows-layout, layout-python; torn reads: layout-consistency.)
import { afterEach, describe, expect, it } from 'vitest';
import { Layout, SharedMemory } from '../lib/index.js';
import { copyForced, errorOf, NEEDS_ZERO_COPY, openTracked, uniqueName } from './helpers.js';

const Vec3 = new Layout({ x: 'float32', y: 'float32', z: 'float32' });
const Rec = new Layout({
  seq: 'uint32', id: 'int32', speed: 'float64', v: 'float32[3]', pos: Vec3, w: { type: Vec3, length: 2 },
  name: 'char[8]', latin: { char: 4, encoding: 'latin1' }, label: 'wchar[6]', ok: 'bool', t: 'uint64', small: 'int8[2]',
});

const regions: SharedMemory[] = [];
function region(size = 4096): SharedMemory {
  const r = openTracked(uniqueName('lay'), { size });
  regions.push(r);
  return r;
}
afterEach(() => {
  for (const r of regions.splice(0)) r.close();
});

describe('Layout', () => {
  it('places fields as C does with natural alignment: a double after a char starts at 8', () => {
    const L = new Layout({ c: 'int8', d: 'float64', s: 'int16' });
    expect([L.offsetOf('c'), L.offsetOf('d'), L.offsetOf('s'), L.size, L.align]).toEqual([0, 8, 16, 24, 8]);
  });

  it('packs fields as #pragma pack(n) does', () => {
    const spec = { c: 'int8', d: 'float64', s: 'int16' } as const;
    expect(new Layout(spec, { pack: 1 }).size).toBe(11);
    expect(new Layout(spec, { pack: 2 }).offsetOf('d')).toBe(2);
    expect(new Layout(spec, { pack: 4 }).size).toBe(16);
  });

  it('puts a field at an explicit offset and goes on after it', () => {
    const L = new Layout({ a: 'int32', b: { type: 'int32', offset: 40 }, c: 'int8' });
    expect([L.offsetOf('b'), L.offsetOf('c'), L.size]).toEqual([40, 44, 48]);
  });

  it('reaches nested fields through dotted paths', () => {
    expect(Rec.offsetOf('pos.y')).toBe(Rec.offsetOf('pos') + 4);
  });

  it('refuses an unknown type name with ERR_INVALID_ARG_VALUE', () => {
    expect(errorOf(() => new Layout({ a: 'int31' })).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('refuses a field name that a JavaScript object would reorder', () => {
    expect(errorOf(() => new Layout({ 0: 'int8', a: 'int8' })).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('refuses a field named like a struct view method', () => {
    expect(errorOf(() => new Layout({ read: 'int8' })).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('refuses a field that would end past 2^53 bytes, where offsets lose exactness', () => {
    expect(errorOf(() => new Layout({ a: { type: 'float64', length: 2 ** 52 } })).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('refuses a declared size smaller than the fields reach', () => {
    expect(errorOf(() => new Layout({ a: 'int64' }, { size: 4 })).code).toBe('ERR_OUT_OF_RANGE');
  });
});

describe('region.struct', () => {
  it('reads back every kind of field written through its properties', () => {
    const s = region().struct(Rec);
    s.id = -3; s.speed = 1.5; s.v[1] = 2.5; s.pos.x = 4; s.w[1].z = 7; s.name = 'héllo'; s.latin = 'çà'; s.label = 'wide'; s.ok = true; s.t = 2n ** 64n - 1n;
    expect([s.id, s.speed, s.v[1], s.pos.x, s.w[1].z, s.name, s.latin, s.label, s.ok, s.t]).toEqual([-3, 1.5, 2.5, 4, 7, 'héllo', 'çà', 'wide', true, 2n ** 64n - 1n]);
  });

  it('writes the mapping itself: another view of the region sees the bytes', () => {
    const r = region();
    r.struct(Rec, 16).speed = 2;
    expect(new DataView(r.read(16 + Rec.offsetOf('speed'), 8).buffer).getFloat64(0, true)).toBe(2);
  });

  it('is a RangeError when the layout does not fit at the offset', () => {
    const r = region(64);
    const e = errorOf(() => r.struct(Rec));
    expect([e.name, e.code]).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
  });

  it('refuses an integer out of its type range and stores nothing', () => {
    const s = region().struct(Rec);
    s.id = 5;
    expect(errorOf(() => { s.id = 2 ** 31; }).code).toBe('ERR_OUT_OF_RANGE');
    expect(s.id).toBe(5);
  });

  it('refuses a fraction in an integer field', () => {
    expect(errorOf(() => { region().struct(Rec).id = 1.5; }).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('refuses a float32 beyond its range instead of storing Infinity', () => {
    expect(errorOf(() => { region().struct(Rec).v[0] = 1e39; }).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('refuses a string for a number with ERR_INVALID_ARG_TYPE', () => {
    expect(errorOf(() => { region().struct(Rec).speed = '1' as never; }).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('refuses a uint64 below zero', () => {
    expect(errorOf(() => { region().struct(Rec).t = -1n; }).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('refuses a string longer than its room, keeping the old one', () => {
    const s = region().struct(Rec);
    s.name = 'abc';
    expect(errorOf(() => { s.name = 'abcdefgh'; }).code).toBe('ERR_OUT_OF_RANGE');
    expect(s.name).toBe('abc');
  });

  it('refuses a non-Latin-1 character in a Latin-1 field', () => {
    expect(errorOf(() => { region().struct(Rec).latin = '✓'; }).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('zeroes the rest of a string field, as strncpy does', () => {
    const r = region();
    const s = r.struct(Rec);
    s.name = 'abcdefg';
    s.name = 'x';
    expect([...r.read(Rec.offsetOf('name'), 8)]).toEqual([120, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('reads a char field that fills its whole room without a NUL, and no further', () => {
    const r = region();
    r.write(Rec.offsetOf('name'), Buffer.from('12345678X'));
    expect(r.struct(Rec).name).toBe('12345678');
  });

  it('write() stores nothing when one of its values is bad', () => {
    const s = region().struct(Rec);
    expect(errorOf(() => s.write({ id: 9, pos: { x: 1 }, speed: 'fast' })).code).toBe('ERR_INVALID_ARG_TYPE');
    expect([s.id, s.pos.x]).toEqual([0, 0]);
  });

  it('write() refuses a key that is not a field', () => {
    expect(errorOf(() => region().struct(Rec).write({ spede: 1 })).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('write() refuses an array of the wrong length', () => {
    expect(errorOf(() => region().struct(Rec).write({ v: [1, 2] })).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('read() copies: numeric arrays as typed arrays, 64-bit fields as BigInt, nested records as objects', () => {
    const s = region().struct(Rec);
    s.write({ v: [1, 2, 3], t: 7n, pos: { y: 2 }, small: [-1, 1] });
    const copy = s.read();
    s.v[0] = 9;
    expect(copy.v).toEqual(new Float32Array([1, 2, 3]));
    expect(copy.small).toEqual(new Int8Array([-1, 1]));
    expect(copy.t).toBe(7n);
    expect(copy.pos).toEqual({ x: 0, y: 2, z: 0 });
  });

  it('an array field is an array-like: length, iteration, toArray, and no index past its end', () => {
    const s = region().struct(Rec);
    s.v[2] = 3;
    expect([s.v.length, [...s.v], s.v[3]]).toEqual([3, [0, 0, 3], undefined]);
    expect(errorOf(() => { s.v[3] = 1; }).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('an array field does not lead to the mapping\'s ArrayBuffer', () => {
    const s = region().struct(Rec);
    expect([s.v.p, s.v.buffer, s.v.base]).toEqual([undefined, undefined, undefined]);
  });

  it('refuses stores through a read-only region with ERR_SHM_READ_ONLY', () => {
    const rw = region();
    rw.struct(Rec).id = 4;
    const ro = SharedMemory.openExisting(rw.name, { access: 'readonly' });
    try {
      const s = ro.struct(Rec);
      expect(s.id).toBe(4);
      expect(errorOf(() => { s.id = 1; }).code).toBe('ERR_SHM_READ_ONLY');
      expect(errorOf(() => { s.speed = 1; }).code).toBe('ERR_SHM_READ_ONLY');
    } finally {
      ro.close();
    }
  });

  it('throws ERR_SHM_CLOSED on any access after the region closed', () => {
    const r = openTracked(uniqueName('layc'), { size: 4096 });
    const s = r.struct(Rec);
    const v = s.v;
    r.close();
    expect(errorOf(() => s.speed).code).toBe('ERR_SHM_CLOSED');
    expect(errorOf(() => v[0]).code).toBe('ERR_SHM_CLOSED');
    expect(errorOf(() => s.read()).code).toBe('ERR_SHM_CLOSED');
  });
});

// The sequence is read and written with atomics in place: these throw ERR_SHM_ZERO_COPY_REQUIRED on
// a copying region.
describe.skipIf(copyForced)(`readConsistent and writeConsistent (${NEEDS_ZERO_COPY})`, () => {
  it('writeConsistent leaves the sequence even and two higher, and returns fn\'s result', () => {
    const r = region();
    const s = r.struct(Rec);
    expect(r.writeConsistent(() => { s.id = 1; return 'done'; })).toBe('done');
    expect(s.seq).toBe(2);
  });

  it('readConsistent returns fn\'s result when no writer writes', () => {
    const r = region();
    r.struct(Rec).id = 3;
    expect(r.readConsistent(() => r.struct(Rec).id)).toBe(3);
  });

  it('readConsistent retries while a writer is inside, seen from within its fn', () => {
    const r = region();
    const s = r.struct(Rec);
    let calls = 0;
    const got = r.readConsistent(() => {
      calls++;
      if (calls === 1) r.writeConsistent(() => { s.id = 8; });
      return s.id;
    });
    expect([got, calls]).toEqual([8, 2]);
  });

  it('readConsistent gives up with ETIMEDOUT on a sequence left odd, instead of hanging', () => {
    const r = region();
    r.struct(Rec).seq = 1;
    const e = errorOf(() => r.readConsistent(() => 0, { timeout: 20 }));
    expect([e.code, e.syscall]).toEqual(['ETIMEDOUT', 'readConsistent']);
  });

  it('writeConsistent gives up with ETIMEDOUT on a sequence left odd by a dead writer', () => {
    const r = region();
    r.struct(Rec).seq = 5;
    expect(errorOf(() => r.writeConsistent(() => 0, { timeout: 20 })).code).toBe('ETIMEDOUT');
  });

  it('writeConsistent with takeOver goes on after a dead writer and leaves the sequence even', () => {
    const r = region();
    const s = r.struct(Rec);
    s.seq = 5;
    r.writeConsistent(() => { s.id = 2; }, { timeout: 20, takeOver: true });
    expect([s.seq % 2, s.id]).toEqual([0, 2]);
  });

  it('writeConsistent makes the sequence even again when fn throws', () => {
    const r = region();
    const s = r.struct(Rec);
    expect(() => r.writeConsistent(() => { throw new Error('boom'); })).toThrow('boom');
    expect(s.seq).toBe(2);
  });

  it('uses the sequence at sequenceOffset', () => {
    const r = region();
    r.writeConsistent(() => 0, { sequenceOffset: 64 });
    expect(new DataView(r.read(64, 4).buffer).getUint32(0, true)).toBe(2);
  });

  it('refuses a sequenceOffset that is not a multiple of 4', () => {
    expect(errorOf(() => region().readConsistent(() => 0, { sequenceOffset: 2 })).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('refuses an async fn, whose reads would come after the check', () => {
    expect(errorOf(() => region().readConsistent(async () => 0)).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('writeConsistent refuses a read-only region', () => {
    const rw = region();
    const ro = SharedMemory.openExisting(rw.name, { access: 'readonly' });
    try {
      expect(errorOf(() => ro.writeConsistent(() => 0)).code).toBe('ERR_SHM_READ_ONLY');
      expect(ro.readConsistent(() => 1)).toBe(1);
    } finally {
      ro.close();
    }
  });
});

describe.skipIf(copyForced)(`readNewest (${NEEDS_ZERO_COPY})`, () => {
  const Header = new Layout({ ticks: 'int32[3]' });

  it('calls fn with the index of the buffer whose tick is highest', () => {
    const r = region();
    r.struct(Header).ticks.toArray();
    r.struct(Header).write({ ticks: [5, 9, 7] });
    expect(r.readNewest([0, 4, 8], (i) => i)).toBe(1);
  });

  it('copies again when the chosen buffer\'s tick moved during the copy', () => {
    const r = region();
    const h = r.struct(Header);
    h.write({ ticks: [5, 9, 7] });
    let calls = 0;
    const got = r.readNewest([0, 4, 8], (i) => {
      if (calls++ === 0) h.ticks[1] = 10;
      return i;
    });
    expect([got, calls]).toEqual([1, 2]);
  });

  it('refuses a tick offset past the region', () => {
    expect(errorOf(() => region(64).readNewest([62], () => 0)).code).toBe('ERR_OUT_OF_RANGE');
  });
});
