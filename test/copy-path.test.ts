// The copy path (README, "Runtimes"): a region opened with { zeroCopy: false } is reached by
// memcpy instead of a buffer over the mapping, as every region is where the runtime refuses
// external buffers (Electron). It must read and write exactly what the in-place path does, and
// refuse plainly what needs the mapping in place.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { copyForced, isLinux, openTracked, track, uniqueName } from './helpers.js';
import { fixture } from './robustness/support.js';
import { makeLayouts, makeValues, STRUCT_NAMES, RECORD_STRIDE } from './interop/layout/layouts.js';
import { skipUnder } from './runtimes/gates.js';

const LONG_BITS = process.platform === 'win32' ? 32 : 64;

/** The same region twice: in place (unless the whole run copies) and by copies. */
function pair(size = 4096): { inPlace: SharedMemory; copying: SharedMemory; name: string } {
  const name = uniqueName('copy');
  const inPlace = openTracked(name, { size });
  const copying = track(SharedMemory.openExisting(name, { zeroCopy: false }));
  return { inPlace, copying, name };
}

function expectCode(fn: () => unknown, code: string): Error {
  try {
    fn();
  } catch (e) {
    expect((e as { code?: string }).code).toBe(code);
    return e as Error;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

describe('a region reached by copies', () => {
  it('says which path it takes in zeroCopy', () => {
    const { inPlace, copying } = pair();
    expect(copying.zeroCopy).toBe(false);
    expect(inPlace.zeroCopy).toBe(!copyForced);
  });

  it('stores strings byte for byte as a region in place does, cut ones included', () => {
    // Page-sized: on Windows an opener sees a section's size rounded up to whole pages.
    const { inPlace, copying } = pair(4096);
    for (const text of ['hello', '', 'x'.repeat(2047), 'x'.repeat(3000), 'ab\0cd', '\ud800 lone', 'é€😀']) {
      inPlace.write(0, new Uint8Array(4096).fill(0xa5));
      const storedInPlace = inPlace.writeString(text);
      const expected = inPlace.read();
      inPlace.write(0, new Uint8Array(4096).fill(0xa5));
      expect(copying.writeString(text)).toBe(storedInPlace);
      expect([...inPlace.read()]).toEqual([...expected]);
    }
  });

  it('reads what was stored in place, with every limit, in regions of one to many chunks', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 9000 }), fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: undefined }), (text, limit) => {
        const { inPlace, copying } = pair(20_000);
        inPlace.writeString(text);
        expect(copying.readString(limit)).toBe(inPlace.readString(limit));
        inPlace.close();
        copying.close();
      }),
      { numRuns: 60 },
    );
  });

  it('reads a string that fills the whole region, with no U+0000 in it', () => {
    const { inPlace, copying } = pair(10_000);
    inPlace.write(0, new Uint8Array(10_000).fill(0x41));
    expect(copying.readString()).toBe('䅁'.repeat(5000));
  });

  it('refuses a string that does not fit, in strict mode, and leaves the region as it was', () => {
    const { inPlace, copying } = pair(4096);
    inPlace.writeString('keep');
    const before = inPlace.read();
    expectCode(() => copying.writeString('x'.repeat(2048), { strict: true }), 'ERR_OUT_OF_RANGE');
    expect([...inPlace.read()]).toEqual([...before]);
  });

  it('copies sub-ranges both ways, and refuses data that does not fit without writing any of it', () => {
    const { inPlace, copying } = pair(4096);
    expect(copying.write(10, new Uint8Array([1, 2, 3]))).toBe(3);
    expect([...inPlace.read(9, 5)]).toEqual([0, 1, 2, 3, 0]);
    inPlace.write(200, new Uint16Array([0x1234, 0x5678]));
    expect([...copying.read(200, 4)]).toEqual([0x34, 0x12, 0x78, 0x56]);
    const target = new Uint8Array(8).fill(9);
    expect(copying.read(200, 4, target)).toBe(target);
    expect([...target]).toEqual([0x34, 0x12, 0x78, 0x56, 9, 9, 9, 9]);
    expectCode(() => copying.write(4090, new Uint8Array(7)), 'ERR_OUT_OF_RANGE');
    expect([...inPlace.read(4090, 6)]).toEqual([0, 0, 0, 0, 0, 0]);
    expectCode(() => copying.read(0, 8, new Uint8Array(4)), 'ERR_OUT_OF_RANGE');
  });

  it('copies from and into any kind of buffer: shared, resizable, a DataView or a typed array at an offset', () => {
    const { inPlace, copying } = pair(4096);
    expect(copying.write(0, new Uint8Array(new SharedArrayBuffer(4)).fill(3))).toBe(4);
    expect(copying.write(4, new Uint8Array(new ArrayBuffer(4, { maxByteLength: 64 })).fill(4))).toBe(4);
    const dv = new DataView(new ArrayBuffer(32), 8, 4);
    new Uint8Array(dv.buffer).fill(5);
    expect(copying.write(8, dv)).toBe(4);
    expect(copying.write(12, new Float32Array([1.5]))).toBe(4);
    const expected = [3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, ...new Uint8Array(new Float32Array([1.5]).buffer)];
    expect([...inPlace.read(0, 16)]).toEqual(expected);
    const shared = new Uint8Array(new SharedArrayBuffer(32));
    copying.read(0, 16, shared.subarray(8));
    expect([...shared.subarray(8, 24)]).toEqual(expected);
    expect([...shared.subarray(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('gives struct views that read and write every kind of field as views in place do', () => {
    const { inPlace, copying } = pair(4096);
    const layouts = makeLayouts(LONG_BITS);
    const values = makeValues(LONG_BITS);
    STRUCT_NAMES.forEach((name, i) => copying.struct(layouts[name], i * RECORD_STRIDE).write(values[name]!));
    STRUCT_NAMES.forEach((name, i) => {
      expect(copying.struct(layouts[name], i * RECORD_STRIDE).read()).toEqual(inPlace.struct(layouts[name], i * RECORD_STRIDE).read());
    });
    const placed = inPlace.read();
    STRUCT_NAMES.forEach((name, i) => inPlace.struct(layouts[name], i * RECORD_STRIDE).write(values[name]!));
    expect([...inPlace.read()]).toEqual([...placed]);
  });

  it('struct fields set one at a time by copies are seen in place at once, and the other way', () => {
    const { inPlace, copying } = pair(4096);
    const Nested = makeLayouts(LONG_BITS).Nested;
    const c = copying.struct(Nested, 64);
    const p = inPlace.struct(Nested, 64);
    c.pos.y = 2.5;
    c.counts[3] = -7;
    c.flags[1] = true;
    c.ticks[0] = 2n ** 63n;
    expect([p.pos.y, p.counts[3], p.flags[1], p.ticks[0]]).toEqual([2.5, -7, true, 2n ** 63n]);
    p.speeds[2] = 1e300;
    p.inners[1].b = -0.5;
    expect([c.speeds[2], c.inners[1].b]).toEqual([1e300, -0.5]);
  });

  it('bytes throws ERR_SHM_ZERO_COPY_REQUIRED and names the methods that copy', () => {
    const { copying } = pair();
    const e = expectCode(() => copying.bytes, 'ERR_SHM_ZERO_COPY_REQUIRED');
    expect(e.message).toMatch(/^bytes needs zero-copy access .*read\(offset, length, target\), write\(offset, data\), readString\(\) or writeString\(\)/);
  });

  it('the sequence lock and tick reads throw ERR_SHM_ZERO_COPY_REQUIRED: they need atomic operations in place', () => {
    const { copying } = pair();
    expectCode(() => copying.readConsistent(() => 1), 'ERR_SHM_ZERO_COPY_REQUIRED');
    expectCode(() => copying.writeConsistent(() => 1), 'ERR_SHM_ZERO_COPY_REQUIRED');
    expectCode(() => copying.readNewest([0, 8], () => 1), 'ERR_SHM_ZERO_COPY_REQUIRED');
  });

  it('a read-only region by copies reads, and refuses every store with ERR_SHM_READ_ONLY', () => {
    const { inPlace, name } = pair();
    inPlace.writeString('ro');
    const ro = track(SharedMemory.openExisting(name, { access: 'readonly', zeroCopy: false }));
    expect(ro.readString()).toBe('ro');
    expectCode(() => ro.writeString('x'), 'ERR_SHM_READ_ONLY');
    expectCode(() => ro.write(0, new Uint8Array(1)), 'ERR_SHM_READ_ONLY');
    expect(inPlace.readString()).toBe('ro');
  });

  it('after close() every access throws ERR_SHM_CLOSED instead of copying from unmapped memory', () => {
    const { copying } = pair();
    copying.close();
    expectCode(() => copying.readString(), 'ERR_SHM_CLOSED');
    expectCode(() => copying.read(0, 1), 'ERR_SHM_CLOSED');
    expectCode(() => copying.write(0, new Uint8Array(1)), 'ERR_SHM_CLOSED');
    expectCode(() => copying.writeString('x'), 'ERR_SHM_CLOSED');
  });

  it('options.zeroCopy that is not a boolean throws ERR_INVALID_ARG_TYPE', () => {
    expectCode(() => SharedMemory.open(uniqueName('copy'), { zeroCopy: 'no' as never }), 'ERR_INVALID_ARG_TYPE');
    expectCode(() => SharedMemory.openExisting(uniqueName('copy'), { zeroCopy: 0 as never }), 'ERR_INVALID_ARG_TYPE');
  });

  it.runIf(isLinux)('a worker terminated at any moment of its copies never takes its process down', () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = spawnSync(process.execPath, [fixture('terminate-mid-call.mjs'), 'steady', uniqueName(`copy-t${i}`), String(i % 6)], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, NAMED_SHM_ZERO_COPY: '0' },
      });
      outcomes.push(r.status === 0 && r.stdout.includes('"terminated":true') ? 'ok' : `status ${r.status}, signal ${r.signal}: ${r.stderr.slice(0, 200)}`);
    }
    expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
  });
});

describe.skipIf(
  skipUnder(['deno'], 'copy-path.test.ts: its children are `node --input-type=module -e`, which Deno 2.9.6 runs as a script (SyntaxError at the top-level await)'),
)('a run where zero-copy access is refused (NAMED_SHM_ZERO_COPY=0, as under Electron)', () => {
  /** Runs `code` (an ES module body with SharedMemory, NamedEvent, NamedMutex, Channel in scope) in a child that copies. */
  function refused(code: string): Record<string, unknown> {
    const body = `const { SharedMemory, NamedEvent, NamedMutex, Channel } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const codeOf = (fn) => { try { fn(); return 'none'; } catch (e) { return e.code + ': ' + e.message; } };
      ${code}`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', body], { encoding: 'utf8', env: { ...process.env, NAMED_SHM_ZERO_COPY: '0' }, timeout: 30_000 });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  it('opens regions by copies by default, and refuses { zeroCopy: true } with ERR_SHM_ZERO_COPY_REQUIRED', () => {
    const name = uniqueName('copy');
    const out = refused(`const r = SharedMemory.open(${JSON.stringify(name)}); r.writeString('copied');
      console.log(JSON.stringify({ zeroCopy: r.zeroCopy, text: r.readString(), asked: codeOf(() => SharedMemory.open(${JSON.stringify(name)}, { zeroCopy: true })) })); r.close();`);
    expect(out.zeroCopy).toBe(false);
    expect(out.text).toBe('copied');
    expect(out.asked).toMatch(/^ERR_SHM_ZERO_COPY_REQUIRED: \{ zeroCopy: true \} needs zero-copy access .*NAMED_SHM_ZERO_COPY=0/);
  });

  it('events, channels and change notification say plainly that they need zero-copy memory, and leave nothing at the name', () => {
    const name = uniqueName('copy');
    const out = refused(`const r = SharedMemory.open(${JSON.stringify(name + '-r')});
      console.log(JSON.stringify({
        event: codeOf(() => NamedEvent.open(${JSON.stringify(name + '-e')})),
        channel: codeOf(() => Channel.open(${JSON.stringify(name + '-c')})),
        notify: codeOf(() => r.notify()),
      })); r.close();`);
    // A Windows event is a kernel object: nothing of it is mapped, so it opens.
    if (process.platform === 'win32') expect(out.event).toBe('none');
    else expect(out.event).toMatch(/^ERR_SHM_ZERO_COPY_REQUIRED: NamedEvent on Linux .*needs zero-copy/);
    expect(out.channel).toMatch(/^ERR_SHM_ZERO_COPY_REQUIRED: Channel .*needs zero-copy/);
    expect(out.notify).toMatch(/^ERR_SHM_ZERO_COPY_REQUIRED: Change notification .*needs zero-copy/);
    if (isLinux) for (const suffix of ['-e', '-c', '-r', '-r#changes']) expect(fs.existsSync(`/dev/shm/${name}${suffix}`)).toBe(false);
  });

  it.runIf(isLinux)('a Linux NamedMutex says plainly that it needs zero-copy memory', () => {
    const out = refused(`console.log(JSON.stringify({ mutex: codeOf(() => NamedMutex.open(${JSON.stringify(uniqueName('copy'))})) }));`);
    expect(out.mutex).toMatch(/^ERR_SHM_ZERO_COPY_REQUIRED: NamedMutex on Linux .*needs zero-copy/);
  });

  it('a process that copies and a process in place share one region', () => {
    const name = uniqueName('copy');
    const here = openTracked(name, { size: 4096 });
    here.writeString('from the parent');
    const out = refused(`const r = SharedMemory.openExisting(${JSON.stringify(name)}); const seen = r.readString(); r.writeString('from the copying child');
      console.log(JSON.stringify({ seen })); r.close();`);
    expect(out.seen).toBe('from the parent');
    expect(here.readString()).toBe('from the copying child');
  });
});
