// NamedEvent against bad arguments, use after close, objects of the wrong kind or planted at the
// name, and other users: each gives a clear Node-style error, never a hang, crash or wrong object.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NamedEvent, SharedMemory } from '../lib/index.js';
import { EVENT_ACTOR, EventActor, actorWith, trackEvent } from './events-actor.js';
import { errorOf, exists, isLinux, shmPath, track, uniqueName } from './helpers.js';

const NOBODY = 65534;
const isRoot = process.geteuid?.() === 0;
const asNobody = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
const nobodyCanRun = isLinux && isRoot && spawnSync(asNobody[0]!, [...asNobody.slice(1), 'test', '-r', EVENT_ACTOR]).status === 0;

const open = (name: string, options?: Parameters<typeof NamedEvent.open>[1]) => trackEvent(NamedEvent.open(name, options));
const call = (fn: (...a: never[]) => unknown, ...args: unknown[]) => errorOf(() => (fn as (...a: unknown[]) => unknown)(...args));

describe('bad arguments (checked before the OS is asked)', () => {
  const openers = { open: NamedEvent.open, create: NamedEvent.create, openExisting: NamedEvent.openExisting };
  for (const [how, fn] of Object.entries(openers)) {
    it(`${how}() refuses a name that is not a string with ERR_INVALID_ARG_TYPE`, () => {
      for (const bad of [undefined, null, 42, Symbol('x'), {}, ['a']]) expect(call(fn, bad)).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    });

    it(`${how}() refuses an empty name, NUL, '/' and a bare prefix with ERR_INVALID_ARG_VALUE`, () => {
      for (const bad of ['', 'a\0b', 'a/b', 'Local\\', '..']) expect(call(fn, bad)).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    });
  }

  it('open() refuses an unknown option with ERR_INVALID_ARG_VALUE naming it', () => {
    expect(call(NamedEvent.open, 'x', { manualreset: true })).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('manualreset') });
  });

  it('open() refuses non-boolean manualReset/initialState and a bad mode', () => {
    expect(call(NamedEvent.open, 'x', { manualReset: 'yes' })).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(call(NamedEvent.open, 'x', { manualReset: 1 })).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(call(NamedEvent.create, 'x', { initialState: 'true' })).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(call(NamedEvent.open, 'x', { mode: -1 })).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(call(NamedEvent.open, 'x', { mode: '600' })).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('open() refuses options that are not an object with ERR_INVALID_ARG_TYPE', () => {
    for (const bad of [null, 5, 'manualReset', [true]]) expect(call(NamedEvent.open, 'x', bad)).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe.runIf(isLinux)('bad wait arguments', () => {
  it('wait() rejects (never throws) a negative or NaN timeout with ERR_OUT_OF_RANGE', async () => {
    const ev = open(uniqueName('ev'));
    for (const t of [-1, -Infinity, NaN]) await expect(ev.wait({ timeout: t })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });

  it('wait() rejects a timeout that is not a number with ERR_INVALID_ARG_TYPE', async () => {
    const ev = open(uniqueName('ev'));
    for (const t of ['5', null, 5n, {}]) await expect(ev.wait({ timeout: t as number })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('wait() rejects bad options: not an object, an unknown key, a signal that is no AbortSignal', async () => {
    const ev = open(uniqueName('ev'));
    await expect(ev.wait(5 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(ev.wait({ timout: 5 } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    for (const s of [{}, { aborted: false }, null, new AbortController()]) {
      await expect(ev.wait({ signal: s as AbortSignal })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    }
  });

  it('a wait refused for its arguments takes no signal', async () => {
    const ev = open(uniqueName('ev'));
    ev.set();
    await expect(ev.wait({ timeout: -1 })).rejects.toThrow();
    expect(ev.waitSync(0)).toBe(true);
  });

  it('waitSync() refuses negative/NaN (ERR_OUT_OF_RANGE) and non-numbers (ERR_INVALID_ARG_TYPE)', () => {
    const ev = open(uniqueName('ev'));
    for (const t of [-1, NaN]) expect(call(ev.waitSync.bind(ev), t)).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    for (const t of ['5', null, {}]) expect(call(ev.waitSync.bind(ev), t)).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('waitSync(Infinity) and waitSync() return true at once on a signalled event', () => {
    const ev = open(uniqueName('ev'), { manualReset: true, initialState: true });
    expect([ev.waitSync(Infinity), ev.waitSync()]).toEqual([true, true]);
  });

  it('waitSync with a finite timeout too long for any clock (1e300 ms) waits until set', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const a = await actorWith(name);
    const w = await a.startWait('waitSync', 1e300);
    await new Promise((r) => setTimeout(r, 50));
    ev.set();
    expect(await w.result).toMatchObject({ ok: true, result: true });
  });
});

describe.runIf(isLinux)('use after close', () => {
  it('set, reset and waitSync throw ERR_SHM_CLOSED; wait() rejects with it', async () => {
    const ev = NamedEvent.open(uniqueName('ev'));
    ev.close();
    expect(ev.closed).toBe(true);
    for (const fn of [() => ev.set(), () => ev.reset(), () => ev.waitSync(0)]) expect(errorOf(fn)).toMatchObject({ code: 'ERR_SHM_CLOSED' });
    await expect(ev.wait({ timeout: 0 })).rejects.toMatchObject({ code: 'ERR_SHM_CLOSED' });
  });

  it('the ERR_SHM_CLOSED message calls an event an event, not a region', () => {
    const ev = NamedEvent.open(uniqueName('ev'));
    ev.close();
    expect(errorOf(() => ev.set()).message).not.toMatch(/region/i);
  });

  it('close() twice is harmless', () => {
    const ev = NamedEvent.open(uniqueName('ev'));
    ev.close();
    expect(() => ev.close()).not.toThrow();
  });

  it('Symbol.dispose closes the event, and the last close removes its object', () => {
    const name = uniqueName('ev');
    const ev = NamedEvent.open(name);
    expect(exists(shmPath(name))).toBe(true);
    ev[Symbol.dispose]();
    expect(ev.closed).toBe(true);
    expect(exists(shmPath(name))).toBe(false);
  });
});

describe.runIf(isLinux)('names that belong to other kinds of object', () => {
  it("a region's name opened as an event gives EINVAL saying it is a region, and the region is untouched", () => {
    const name = uniqueName('ev');
    const region = track(SharedMemory.open(name, { size: 4096 }));
    region.writeString('keep');
    for (const fn of [() => NamedEvent.open(name), () => NamedEvent.openExisting(name)]) {
      expect(errorOf(fn)).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('shared memory region') });
    }
    expect(errorOf(() => NamedEvent.create(name))).toMatchObject({ code: 'EEXIST' });
    expect(region.readString()).toBe('keep');
  });

  it("a new 32-byte region (all zeros, as an event's creator before its header) opened as an event gives EINVAL saying it is a region", () => {
    const name = uniqueName('ev');
    track(SharedMemory.open(name, { size: 32 }));
    expect(errorOf(() => NamedEvent.open(name))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('shared memory region') });
  });

  it("an event's name opened as a region gives EINVAL saying it is an event, and create gives EEXIST", () => {
    const name = uniqueName('ev');
    open(name);
    for (const fn of [() => SharedMemory.open(name), () => SharedMemory.openExisting(name), () => SharedMemory.open(name, { size: 32 })]) {
      expect(errorOf(fn)).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('named event') });
    }
    expect(errorOf(() => SharedMemory.create(name))).toMatchObject({ code: 'EEXIST' });
  });

  it("a region's change counter cannot be opened as an event", () => {
    const name = uniqueName('ev');
    const region = track(SharedMemory.open(name, { size: 64 }));
    region.notify();
    expect(errorOf(() => NamedEvent.open(`${name}#changes`))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('change counter') });
  });
});

describe.runIf(isLinux)('things planted at the name', () => {
  const plant = (name: string, bytes: Buffer, mode = 0o600) => {
    fs.writeFileSync(shmPath(name), bytes, { mode, flag: 'wx' });
  };

  it('a FIFO gives EINVAL at once, never an open that waits for a writer', () => {
    const name = uniqueName('ev');
    expect(spawnSync('mkfifo', [shmPath(name)]).status).toBe(0);
    expect(errorOf(() => NamedEvent.open(name))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('not a shared memory object') });
    expect(errorOf(() => NamedEvent.create(name))).toMatchObject({ code: 'EEXIST' });
  });

  it('a symlink gives ELOOP and its target is never touched', () => {
    const name = uniqueName('ev');
    const target = `${fs.mkdtempSync('/tmp/nshm-ev-')}/victim`;
    fs.writeFileSync(target, Buffer.alloc(32));
    fs.symlinkSync(target, shmPath(name));
    try {
      expect(errorOf(() => NamedEvent.open(name))).toMatchObject({ code: 'ELOOP' });
      expect(fs.readFileSync(target).every((b) => b === 0)).toBe(true);
    } finally {
      fs.unlinkSync(shmPath(name));
    }
  });

  it('a directory gives EINVAL', () => {
    const name = uniqueName('ev');
    fs.mkdirSync(shmPath(name));
    try {
      expect(errorOf(() => NamedEvent.open(name))).toMatchObject({ code: 'EINVAL' });
    } finally {
      fs.rmdirSync(shmPath(name));
    }
  });

  it('a 32-byte file of zeros that stays zeros gives EINVAL (a region) after a bounded wait, not a hang', () => {
    const name = uniqueName('ev');
    plant(name, Buffer.alloc(32));
    expect(errorOf(() => NamedEvent.open(name))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('shared memory region') });
    expect(fs.readFileSync(shmPath(name)).every((b) => b === 0)).toBe(true);
  });

  it('a 32-byte file of zeros whose foreign creator writes the header a moment later opens as that event', async () => {
    const name = uniqueName('ev');
    const header = Buffer.alloc(32);
    header.write('nshmevt\0', 'latin1');
    header.writeUInt32LE(1, 8); // version
    header.writeUInt32LE(1, 12); // manual reset
    header.writeUInt32LE(1, 16); // signalled
    const write = `require('fs').writeFileSync(${JSON.stringify(shmPath(name))}, Buffer.from('${header.toString('hex')}', 'hex'), { flag: 'r+' })`;
    const writer = spawn(process.execPath, ['-e', `console.log('ready'); process.stdin.once('data', () => setTimeout(() => ${write}, 200))`]);
    await new Promise((resolve) => writer.stdout.once('data', resolve));
    plant(name, Buffer.alloc(32));
    writer.stdin.write('go\n');
    const ev = open(name); // blocks this thread while the object is unready; the writer runs meanwhile
    writer.kill();
    expect([ev.created, ev.manualReset, ev.waitSync(0)]).toEqual([false, true, true]);
  });

  it('a 32-byte file of garbage gives EINVAL and stays as it was', () => {
    const name = uniqueName('ev');
    const garbage = Buffer.from('nshmevX\0'.repeat(4), 'latin1');
    plant(name, garbage);
    expect(errorOf(() => NamedEvent.open(name))).toMatchObject({ code: 'EINVAL' });
    expect(fs.readFileSync(shmPath(name)).equals(garbage)).toBe(true);
  });

  it('a file with the magic but the wrong size is not an event', () => {
    const name = uniqueName('ev');
    const big = Buffer.alloc(4096);
    big.write('nshmevt\0', 'latin1');
    plant(name, big);
    expect(errorOf(() => NamedEvent.open(name))).toMatchObject({ code: 'EINVAL' });
  });

  // A future or forged layout is not driven as version 1.
  it('an event object of an unknown layout version is refused', () => {
    const name = uniqueName('ev');
    const header = Buffer.alloc(32);
    header.write('nshmevt\0', 'latin1');
    header.writeUInt32LE(2, 8);
    plant(name, header);
    expect(errorOf(() => NamedEvent.open(name))).toMatchObject({ code: 'EINVAL' });
  });
});

describe.runIf(isLinux && isRoot)('other users (Linux, dropping privileges)', () => {
  it("an event planted at the name by another user is refused with EACCES; create gives EEXIST", () => {
    const name = uniqueName('ev');
    const header = Buffer.alloc(32);
    header.write('nshmevt\0', 'latin1');
    header.writeUInt32LE(1, 8);
    fs.writeFileSync(shmPath(name), header, { mode: 0o666 });
    fs.chownSync(shmPath(name), NOBODY, NOBODY);
    expect(errorOf(() => NamedEvent.open(name))).toMatchObject({ code: 'EACCES', message: expect.stringContaining(`uid ${NOBODY}`) });
    expect(errorOf(() => NamedEvent.create(name))).toMatchObject({ code: 'EEXIST' });
  });

  it.runIf(nobodyCanRun)('with mode 0o600 another user cannot open the event (EACCES)', async () => {
    const name = uniqueName('ev');
    open(name, { mode: 0o600 });
    const a = new EventActor([], { command: asNobody });
    expect(await a.request({ op: 'open', name })).toMatchObject({ ok: false, code: 'EACCES' });
  });

  // As for regions: the attach refuses every object not owned by the caller's euid (a squatter
  // must not hand you an object it controls), whatever its mode.
  it.runIf(nobodyCanRun)('with mode 0o666 another user is still refused (EACCES), as for a region', async () => {
    const name = uniqueName('ev');
    open(name, { mode: 0o666 });
    const a = new EventActor([], { command: asNobody });
    expect(await a.request({ op: 'open', name })).toMatchObject({ ok: false, code: 'EACCES' });
  });
});
