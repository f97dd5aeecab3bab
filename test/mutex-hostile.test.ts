// NamedMutex against hostile and unlucky neighbours on Linux: other users, things planted at the
// name, forged pthread bytes, a full /dev/shm, and programs that break the robust-mutex protocol
// (EOWNERDEAD unlocked without pthread_mutex_consistent). Each gives a clear error, never a hang,
// an abort or a crash of our process; what another user CAN do with a mode it was given is shown.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { NamedEvent, NamedMutex, SharedMemory } from '../lib/index.js';
import { DIST, MUTEX_ACTOR, EventActor, actorWith, trackEvent } from './events-actor.js';
import { errorOf, isLinux, shmPath, track, uniqueName } from './helpers.js';
import { privateShmFlags } from './adversarial/private-shm.js';

const POKE = fileURLToPath(new URL('./fixtures/mutex-poke.py', import.meta.url));
const NOBODY = 65534;
const isRoot = process.geteuid?.() === 0;
const asNobody = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import ctypes, mmap'], { stdio: 'ignore' }).status === 0);
const hasPython = isLinux && PYTHON !== undefined;
const nobodyCanRun = isLinux && isRoot && spawnSync(asNobody[0]!, [...asNobody.slice(1), 'test', '-r', MUTEX_ACTOR]).status === 0;
const nobodyCanPython = nobodyCanRun && hasPython && spawnSync(asNobody[0]!, [...asNobody.slice(1), PYTHON!, '-c', 'import ctypes'], { stdio: 'ignore' }).status === 0;

const open = (name: string, options?: Parameters<typeof NamedMutex.open>[1]) => trackEvent(NamedMutex.open(name, options));

const planted: string[] = [];
afterEach(() => {
  for (const p of planted.splice(0)) fs.rmSync(p, { force: true, recursive: true });
});

/** The bytes of a version-1 mutex object as our create writes them (read from a real one). */
function realMutexBytes(): Buffer {
  const name = uniqueName('mxh');
  const m = NamedMutex.open(name);
  const bytes = fs.readFileSync(shmPath(name));
  m.close();
  return bytes;
}

function plant(name: string, bytes: Buffer, mode = 0o600): void {
  planted.push(shmPath(name));
  fs.writeFileSync(shmPath(name), bytes, { mode, flag: 'wx' });
}

/** Runs the Python program (fixtures/mutex-poke.py) to its end; its lines. */
function poke(args: string[], command: string[] = []): { lines: string[]; status: number | null; stderr: string } {
  const [cmd, ...pre] = command.length ? command : [PYTHON!];
  const r = spawnSync(cmd!, [...pre, ...(command.length ? [PYTHON!] : []), POKE, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { lines: r.stdout.trim().split('\n').filter(Boolean), status: r.status, stderr: r.stderr };
}

/** Runs an ES module script in a new node with DIST and NAME; its JSON lines and how it ended. */
function runScript(source: string, name: string) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-mx-script-')), 'script.mjs');
  planted.push(path.dirname(file));
  fs.writeFileSync(file, source);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, DIST, NAME: name }, timeout: 30_000 });
  return { status: r.status, signal: r.signal, lines: r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), stderr: r.stderr };
}

/** Offsets in the object: the header's version, and glibc's pthread_mutex_t fields at 16. */
const VERSION = 8;
const LOCK = 16;
const KIND = 16 + 16;
const LIST = 16 + 24;

describe.runIf(isLinux)('things planted at the name', () => {
  it('a FIFO gives EINVAL at once (never an open that waits for a writer); create gives EEXIST', () => {
    const name = uniqueName('mxh');
    planted.push(shmPath(name));
    expect(spawnSync('mkfifo', [shmPath(name)]).status).toBe(0);
    expect(errorOf(() => NamedMutex.open(name))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('not a shared memory object') });
    expect(errorOf(() => NamedMutex.create(name))).toMatchObject({ code: 'EEXIST' });
  });

  it('a symlink to a file gives ELOOP and its target is never touched', () => {
    const name = uniqueName('mxh');
    const target = `${fs.mkdtempSync('/tmp/nshm-mx-')}/victim`;
    planted.push(path.dirname(target), shmPath(name));
    fs.writeFileSync(target, realMutexBytes());
    const before = fs.readFileSync(target);
    fs.symlinkSync(target, shmPath(name));
    expect(errorOf(() => NamedMutex.open(name))).toMatchObject({ code: 'ELOOP' });
    expect(errorOf(() => NamedMutex.openExisting(name))).toMatchObject({ code: 'ELOOP' });
    expect(fs.readFileSync(target).equals(before)).toBe(true);
  });

  it.runIf(isRoot)('a character device (/dev/null) at the name gives EINVAL, never an open of the device', () => {
    const name = uniqueName('mxh');
    planted.push(shmPath(name));
    expect(spawnSync('mknod', [shmPath(name), 'c', '1', '3']).status).toBe(0);
    expect(errorOf(() => NamedMutex.open(name))).toMatchObject({ code: 'EINVAL' });
    expect(errorOf(() => NamedMutex.openExisting(name))).toMatchObject({ code: 'EINVAL' });
  });

  it('a hard link of a live mutex under another name opens the same lock, never a second one', async () => {
    const name = uniqueName('mxh');
    const alias = uniqueName('mxh');
    const m = open(name);
    const g = m.tryLock()!;
    planted.push(shmPath(alias));
    fs.linkSync(shmPath(name), shmPath(alias));
    const a = await actorWith(alias, undefined, 'openExisting', MUTEX_ACTOR);
    expect(await a.request({ op: 'tryLock' })).toMatchObject({ ok: true, locked: false });
    // In this thread, the alias is the same object: EDEADLK, as for any handle of the holder.
    expect(errorOf(() => trackEvent(NamedMutex.openExisting(alias)).tryLock())).toMatchObject({ code: 'EDEADLK' });
    g.unlock();
    expect(await a.request({ op: 'tryLock' })).toMatchObject({ ok: true, locked: true, abandoned: false });
  });

  it('a 64-byte file of zeros that stays zeros gives EINVAL (a region) after a bounded wait, not a hang', () => {
    const name = uniqueName('mxh');
    plant(name, Buffer.alloc(64));
    expect(errorOf(() => NamedMutex.open(name))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('shared memory region') });
    expect(fs.readFileSync(shmPath(name)).every((b) => b === 0)).toBe(true);
  });

  it('a 64-byte file of zeros whose foreign creator writes a mutex a moment later opens as that mutex', async () => {
    const name = uniqueName('mxh');
    const bytes = realMutexBytes();
    const write = `require('fs').writeFileSync(${JSON.stringify(shmPath(name))}, Buffer.from('${bytes.toString('hex')}', 'hex'), { flag: 'r+' })`;
    const writer = spawn(process.execPath, ['-e', `console.log('ready'); process.stdin.once('data', () => setTimeout(() => ${write}, 200))`]);
    await new Promise((resolve) => writer.stdout.once('data', resolve));
    plant(name, Buffer.alloc(64));
    writer.stdin.write('go\n');
    const m = open(name); // blocks this thread while the object is unready; the writer runs meanwhile
    writer.kill();
    expect(m.created).toBe(false);
    const g = m.tryLock();
    expect(g?.abandoned).toBe(false);
  });

  it('a region under the name gives EINVAL saying so, and the region is untouched', () => {
    const name = uniqueName('mxh');
    const region = track(SharedMemory.open(name, { size: 64 }));
    region.writeString('keep');
    for (const fn of [() => NamedMutex.open(name), () => NamedMutex.openExisting(name)]) {
      expect(errorOf(fn)).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('shared memory region') });
    }
    expect(errorOf(() => NamedMutex.create(name))).toMatchObject({ code: 'EEXIST' });
    expect(region.readString()).toBe('keep');
  });

  it('an event under the name gives EINVAL saying it is an event; a mutex opened as an event or region says it is a mutex', () => {
    const name = uniqueName('mxh');
    trackEvent(NamedEvent.open(name));
    expect(errorOf(() => NamedMutex.open(name))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('named event') });
    const other = uniqueName('mxh');
    open(other);
    expect(errorOf(() => NamedEvent.open(other))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('named mutex') });
    expect(errorOf(() => SharedMemory.open(other))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('named mutex') });
  });

  it('a mutex object of an unknown layout version is refused with EINVAL', () => {
    const name = uniqueName('mxh');
    const bytes = realMutexBytes();
    bytes.writeUInt32LE(2, VERSION);
    plant(name, bytes);
    expect(errorOf(() => NamedMutex.open(name))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('version 2') });
  });

  it('a file with the mutex magic but the wrong size is not a mutex', () => {
    const name = uniqueName('mxh');
    const big = Buffer.alloc(4096);
    realMutexBytes().copy(big);
    plant(name, big);
    expect(errorOf(() => NamedMutex.open(name))).toMatchObject({ code: 'EINVAL' });
  });
});

// glibc asserts on some kinds of mutex in some states, which abort()s the process: a
// priority-inheritance kind with FUTEX_OWNER_DIED in the word (trylock: "Assertion `robust'
// failed"), a robust PI kind whose owner thread does not exist (clocklock: "e != ESRCH ||
// !robust"). Each case runs in a child process, so that an abort shows as its signal.
describe.runIf(isLinux)('forged pthread bytes behind a valid header', () => {
  const forged: [string, number, number][] = [
    ['PI, error-checking, OWNER_DIED with a dead owner', 0xa2, 0x40001234],
    ['robust PI, a dead owner', 0xb2, 0x1234],
    ['PI, not process-shared, OWNER_DIED', 0x22, 0x40001234],
    ['robust but not process-shared', 0x12, 0],
    ['priority-protect', 0xd2, 0],
    ['a kind glibc does not know', 0x7f, 0],
    ['robust, process-shared, but not error-checking (relocking would deadlock)', 0x90, 0],
  ];
  const TRY_ALL = `
    const { NamedMutex } = await import(process.env.DIST);
    const say = (o) => console.log(JSON.stringify(o));
    for (const how of ['tryLock', 'lockSync', 'lock']) {
      try {
        const m = NamedMutex.openExisting(process.env.NAME);
        const g = how === 'tryLock' ? m.tryLock() : how === 'lockSync' ? m.lockSync(200) : await m.lock({ timeout: 200 });
        say({ how, ok: true, locked: g !== null });
        m.close();
      } catch (e) { say({ how, ok: false, code: e.code }); }
    }`;
  for (const [what, kind, word] of forged) {
    it(`${what} (__kind 0x${kind.toString(16)}): EINVAL from every open and lock, no abort of the process`, () => {
      const name = uniqueName('mxh');
      const bytes = realMutexBytes();
      bytes.writeUInt32LE(kind, KIND);
      bytes.writeUInt32LE(word >>> 0, LOCK);
      plant(name, bytes);
      const r = runScript(TRY_ALL, name);
      expect([r.status, r.signal], r.stderr).toEqual([0, null]);
      expect(r.lines).toEqual(['tryLock', 'lockSync', 'lock'].map((how) => ({ how, ok: false, code: 'EINVAL' })));
    });
  }

  it('a kind changed by a writer after the open: tryLock, lockSync and lock give EINVAL, no abort', () => {
    const name = uniqueName('mxh');
    const r = runScript(
      `
      import fs from 'node:fs';
      const { NamedMutex } = await import(process.env.DIST);
      const say = (o) => console.log(JSON.stringify(o));
      const m = NamedMutex.open(process.env.NAME);
      const fd = fs.openSync('/dev/shm/' + process.env.NAME, 'r+');
      const b = Buffer.alloc(8);
      b.writeUInt32LE(0x40001234, 0);
      fs.writeSync(fd, b, 0, 4, ${LOCK});
      b.writeUInt32LE(0xa2, 0);
      fs.writeSync(fd, b, 0, 4, ${KIND});
      for (const how of ['tryLock', 'lockSync', 'lock']) {
        try { const g = how === 'tryLock' ? m.tryLock() : how === 'lockSync' ? m.lockSync(200) : await m.lock({ timeout: 200 }); say({ how, ok: true, locked: g !== null }); }
        catch (e) { say({ how, ok: false, code: e.code }); }
      }
      m.close();
      say({ closed: m.closed });`,
      name,
    );
    planted.push(shmPath(name));
    expect([r.status, r.signal], r.stderr).toEqual([0, null]);
    expect(r.lines).toEqual([...['tryLock', 'lockSync', 'lock'].map((how) => ({ how, ok: false, code: 'EINVAL' })), { closed: true }]);
  });

  const HOLDER_WORKER = `const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.dist).then(({ NamedMutex }) => { const m = NamedMutex.openExisting(workerData.name); const g = m.tryLock();
      parentPort.postMessage('held'); parentPort.once('message', () => { g.unlock(); parentPort.postMessage('unlocked'); }); });`;

  it('a kind changed while a lock() is pending, then its holder ends: the lock rejects with EINVAL, no uncaught exception', () => {
    const name = uniqueName('mxh');
    const r = runScript(
      `
      import fs from 'node:fs';
      import { Worker } from 'node:worker_threads';
      const { NamedMutex } = await import(process.env.DIST);
      const say = (o) => console.log(JSON.stringify(o));
      process.on('uncaughtException', (e) => { say({ uncaught: e.code }); process.exit(3); });
      const m = NamedMutex.open(process.env.NAME);
      // Another thread holds it, so this thread's lock() waits in the futex watcher.
      const holder = new Worker(${JSON.stringify(HOLDER_WORKER)}, { eval: true, workerData: { dist: process.env.DIST, name: process.env.NAME } });
      await new Promise((r) => holder.once('message', r));
      const pending = m.lock({ timeout: 5000 }).then((g) => ({ ok: true, abandoned: g.abandoned }), (e) => ({ ok: false, code: e.code }));
      await new Promise((r) => setTimeout(r, 100));
      const fd = fs.openSync('/dev/shm/' + process.env.NAME, 'r+');
      const b = Buffer.alloc(4);
      b.writeUInt32LE(0xa2, 0);
      fs.writeSync(fd, b, 0, 4, ${KIND});
      await holder.terminate(); // the kernel marks it FUTEX_OWNER_DIED and wakes the waiter
      say(await pending);
      m.close();`,
      name,
    );
    planted.push(shmPath(name));
    expect([r.status, r.signal], r.stderr).toEqual([0, null]);
    expect(r.lines).toEqual([{ ok: false, code: 'EINVAL' }]);
  });

  it("a kind changed while a thread holds it is put back by the holder's unlock, and the next locker gets it normally", () => {
    const name = uniqueName('mxh');
    const r = runScript(
      `
      import fs from 'node:fs';
      import { Worker } from 'node:worker_threads';
      const { NamedMutex } = await import(process.env.DIST);
      const say = (o) => console.log(JSON.stringify(o));
      const m = NamedMutex.open(process.env.NAME);
      const holder = new Worker(${JSON.stringify(HOLDER_WORKER)}, { eval: true, workerData: { dist: process.env.DIST, name: process.env.NAME } });
      await new Promise((r) => holder.once('message', r));
      const pending = m.lock({ timeout: 5000 }).then((g) => ({ ok: true, abandoned: g.abandoned }), (e) => ({ ok: false, code: e.code }));
      await new Promise((r) => setTimeout(r, 100));
      const fd = fs.openSync('/dev/shm/' + process.env.NAME, 'r+');
      const b = Buffer.alloc(4);
      b.writeUInt32LE(0xa2, 0);
      fs.writeSync(fd, b, 0, 4, ${KIND});
      holder.postMessage('unlock');
      say(await pending);
      say({ kind: fs.readFileSync('/dev/shm/' + process.env.NAME).readUInt32LE(${KIND}) });
      await holder.terminate();
      m.close();`,
      name,
    );
    planted.push(shmPath(name));
    expect([r.status, r.signal], r.stderr).toEqual([0, null]);
    expect(r.lines).toEqual([{ ok: true, abandoned: false }, { kind: 0x92 }]);
  });
});

describe.runIf(hasPython)('a program that unlocks after EOWNERDEAD without pthread_mutex_consistent()', () => {
  /** A mutex left not recoverable by Python: it died holding, then another took it (EOWNERDEAD) and unlocked. */
  function unrecoverable(name: string): void {
    expect(poke(['die-holding', name]).lines).toEqual(['lock 0']);
    expect(poke(['unlock-inconsistent', name, '0']).lines).toEqual(['lock 130', 'unlock 0']);
  }

  it('tryLock, lockSync and lock give ENOTRECOVERABLE (a system error), never a hang', async () => {
    const name = uniqueName('mxh');
    const m = open(name);
    unrecoverable(name);
    expect(errorOf(() => m.tryLock())).toMatchObject({ code: 'ENOTRECOVERABLE', syscall: expect.stringMatching(/^pthread_mutex/) });
    expect(errorOf(() => m.lockSync(1000))).toMatchObject({ code: 'ENOTRECOVERABLE' });
    await expect(m.lock({ timeout: 1000 })).rejects.toMatchObject({ code: 'ENOTRECOVERABLE' });
  });

  it('tryLock stays ENOTRECOVERABLE on a second call (not EDEADLK: glibc leaves our id in the word, we clear it)', () => {
    const name = uniqueName('mxh');
    const m = open(name);
    unrecoverable(name);
    for (let i = 0; i < 3; i++) expect(errorOf(() => m.tryLock())).toMatchObject({ code: 'ENOTRECOVERABLE' });
    expect(fs.readFileSync(shmPath(name)).readUInt32LE(LOCK)).toBe(0);
  });

  it('after our tryLock met ENOTRECOVERABLE, another process gets ENOTRECOVERABLE too (not ETIMEDOUT or a hang)', async () => {
    const name = uniqueName('mxh');
    const m = open(name);
    unrecoverable(name);
    expect(errorOf(() => m.tryLock())).toMatchObject({ code: 'ENOTRECOVERABLE' });
    const a = await actorWith(name, undefined, 'openExisting', MUTEX_ACTOR);
    expect(await a.request({ op: 'tryLock' })).toMatchObject({ ok: false, code: 'ENOTRECOVERABLE' });
    expect(await a.request({ op: 'lockSync', timeout: 2000 })).toMatchObject({ ok: false, code: 'ENOTRECOVERABLE' });
  });

  it("after our tryLock met ENOTRECOVERABLE, a C program's pthread_mutex_timedlock gets ENOTRECOVERABLE (131), not a sleep to its timeout", () => {
    const name = uniqueName('mxh');
    const m = open(name);
    unrecoverable(name);
    expect(errorOf(() => m.tryLock())).toMatchObject({ code: 'ENOTRECOVERABLE' });
    expect(poke(['timedlock', name, '3']).lines).toEqual(['timedlock 131']);
  });

  it('a lock() pending when the program unlocks inconsistent rejects with ENOTRECOVERABLE: no uncaught exception', () => {
    const name = uniqueName('mxh');
    planted.push(shmPath(name));
    const r = runScript(
      `
      import { spawn, spawnSync } from 'node:child_process';
      const { NamedMutex } = await import(process.env.DIST);
      const say = (o) => console.log(JSON.stringify(o));
      process.on('uncaughtException', (e) => { say({ uncaught: e.code }); process.exit(3); });
      const m = NamedMutex.open(process.env.NAME);
      spawnSync(${JSON.stringify(PYTHON)}, [${JSON.stringify(POKE)}, 'die-holding', process.env.NAME]);
      const py = spawn(${JSON.stringify(PYTHON)}, [${JSON.stringify(POKE)}, 'unlock-inconsistent', process.env.NAME, '0.3'], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((r) => py.stdout.once('data', r)); // it holds it, inconsistent
      try { const g = await m.lock({ timeout: 5000 }); say({ ok: true, abandoned: g.abandoned }); } catch (e) { say({ ok: false, code: e.code }); }
      try { m.tryLock(); say({ again: 'locked' }); } catch (e) { say({ again: e.code }); }
      m.close();`,
      name,
    );
    expect([r.status, r.signal], r.stderr).toEqual([0, null]);
    expect(r.lines).toEqual([{ ok: false, code: 'ENOTRECOVERABLE' }, { again: 'ENOTRECOVERABLE' }]);
  });

  it('a holder that died in Python is abandoned to our next locker, and the mutex works after', () => {
    const name = uniqueName('mxh');
    const m = open(name);
    expect(poke(['die-holding', name]).lines).toEqual(['lock 0']);
    const g = m.tryLock()!;
    expect(g.abandoned).toBe(true);
    g.unlock();
    expect(m.tryLock()!.abandoned).toBe(false);
  });
});

describe.runIf(isLinux && isRoot)('other users (Linux, dropping privileges)', () => {
  it('a mutex planted at the name by another user is refused with EACCES; create gives EEXIST', () => {
    const name = uniqueName('mxh');
    plant(name, realMutexBytes(), 0o666);
    fs.chownSync(shmPath(name), NOBODY, NOBODY);
    expect(errorOf(() => NamedMutex.open(name))).toMatchObject({ code: 'EACCES', message: expect.stringContaining(`uid ${NOBODY}`) });
    expect(errorOf(() => NamedMutex.create(name))).toMatchObject({ code: 'EEXIST' });
  });

  it.runIf(nobodyCanRun)('with mode 0o600 another user cannot open the mutex (EACCES), so cannot take it', async () => {
    const name = uniqueName('mxh');
    const m = open(name);
    const a = new EventActor([], { command: asNobody, fixture: MUTEX_ACTOR });
    expect(await a.request({ op: 'open', how: 'openExisting', name })).toMatchObject({ ok: false, code: 'EACCES' });
    expect(m.tryLock()?.abandoned).toBe(false);
  });

  it.runIf(nobodyCanPython)('with mode 0o600 another user cannot map it from C either (open gives EACCES), so cannot block it', () => {
    const name = uniqueName('mxh');
    const m = open(name);
    expect(poke(['open', name], asNobody).lines).toEqual([`open ${os.constants.errno.EACCES}`]);
    expect(m.tryLock()?.abandoned).toBe(false);
  });

  it.runIf(nobodyCanRun)('with mode 0o666 another user is still refused by NamedMutex (EACCES), as for a region', async () => {
    const name = uniqueName('mxh');
    open(name, { mode: 0o666 });
    const a = new EventActor([], { command: asNobody, fixture: MUTEX_ACTOR });
    expect(await a.request({ op: 'open', how: 'openExisting', name })).toMatchObject({ ok: false, code: 'EACCES' });
  });

  // What mode 0o666 gives away: the object is a plain pthread mutex, which any writer may lock.
  it.runIf(nobodyCanPython)('with mode 0o666 another user CAN hold it from C (pthreads allow it): our tryLock is busy until it unlocks', async () => {
    const name = uniqueName('mxh');
    const m = open(name, { mode: 0o666 });
    const [cmd, ...pre] = asNobody;
    const holder = spawn(cmd!, [...pre, PYTHON!, POKE, 'hold', name], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      let out = '';
      await new Promise<void>((resolve) => holder.stdout.on('data', (d: Buffer) => (out += String(d)).includes('\n') && resolve()));
      expect(out.trim()).toBe('lock 0');
      expect(m.tryLock()).toBeNull();
      expect(errorOf(() => m.lockSync(100))).toMatchObject({ code: 'ETIMEDOUT' });
      const next = m.lock({ timeout: 10_000 });
      holder.stdin.write('\n');
      const g = await next;
      expect(g.abandoned).toBe(false);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it.runIf(nobodyCanPython)('with mode 0o666 another user that dies holding it hands it on as abandoned', () => {
    const name = uniqueName('mxh');
    const m = open(name, { mode: 0o666 });
    expect(poke(['die-holding', name], asNobody).lines).toEqual(['lock 0']);
    expect(m.tryLock()?.abandoned).toBe(true);
  });

  // The hazard of giving others write access: glibc keeps the holder's robust-list pointers in the
  // mutex (__list, offset 24 of pthread_mutex_t), and the holder's unlock writes through them. A
  // writer who changes them makes the holder's pthread_mutex_unlock write where it says: at best
  // a SIGSEGV of the holder. The pointers also tell any reader where the holder's thread control
  // block is (an ASLR leak). So a mode that lets others write trusts them with the holder's memory.
  it('a writer of the object who changes __list or __owner while we hold it does not make our unlock write through them', () => {
    const name = uniqueName('mxh');
    planted.push(shmPath(name));
    const r = runScript(
      `
      import fs from 'node:fs';
      const { NamedMutex } = await import(process.env.DIST);
      const m = NamedMutex.open(process.env.NAME);
      const g = m.tryLock();
      const held = fs.readFileSync('/dev/shm/' + process.env.NAME);
      console.log(JSON.stringify({ listPointsIntoUs: held.readBigUInt64LE(${LIST}) !== 0n }));
      const fd = fs.openSync('/dev/shm/' + process.env.NAME, 'r+');
      const b = Buffer.alloc(16);
      b.writeBigUInt64LE(0x4141414141414140n, 0);
      b.writeBigUInt64LE(0x4242424242424240n, 8);
      fs.writeSync(fd, b, 0, 16, ${LIST});
      const owner = Buffer.alloc(4);
      owner.writeInt32LE(0x7fffffff, 0); // PTHREAD_MUTEX_INCONSISTENT: the unlock would make it not recoverable
      fs.writeSync(fd, owner, 0, 4, 24);
      g.unlock();
      const again = m.tryLock();
      again.unlock();
      console.log(JSON.stringify({ survived: true, lockedAgain: again !== null }));`,
      name,
    );
    expect(r.signal).toBe(null);
    expect(r.lines).toEqual([{ listPointsIntoUs: true }, { survived: true, lockedAgain: true }]);
  });
});

describe.runIf(privateShmFlags !== null)('a full /dev/shm (private tmpfs)', () => {
  it('create() and open() give ENOSPC and leave nothing at the name', () => {
    const script = `
      mount -t tmpfs -o size=64k t /dev/shm || exit 99
      dd if=/dev/zero of=/dev/shm/filler bs=4k count=1000 2>/dev/null
      "$NODE" --input-type=module -e '
        const { NamedMutex } = await import(process.env.DIST);
        const fs = await import("node:fs");
        const out = {};
        for (const how of ["create", "open"]) {
          try { NamedMutex[how]("full-" + how).close(); out[how] = "opened"; } catch (e) { out[how] = e.code; }
        }
        out.left = fs.readdirSync("/dev/shm").filter((f) => f !== "filler");
        console.log(JSON.stringify(out));'
    `;
    const r = spawnSync('unshare', [...privateShmFlags!, 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE: process.execPath, DIST } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ create: 'ENOSPC', open: 'ENOSPC', left: [] });
  });

  it('a full /dev/shm does not stop the lock of a mutex that exists already (no allocation on lock)', () => {
    const script = `
      mount -t tmpfs -o size=64k t /dev/shm || exit 99
      "$NODE" --input-type=module -e '
        const { NamedMutex } = await import(process.env.DIST);
        const { execSync } = await import("node:child_process");
        const m = NamedMutex.open("full-held");
        execSync("dd if=/dev/zero of=/dev/shm/filler bs=4k count=1000 2>/dev/null || true");
        const g = m.tryLock();
        const out = { locked: g !== null, abandoned: g && g.abandoned };
        g.unlock();
        m.close();
        console.log(JSON.stringify(out));'
    `;
    const r = spawnSync('unshare', [...privateShmFlags!, 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE: process.execPath, DIST } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ locked: true, abandoned: false });
  });
});
