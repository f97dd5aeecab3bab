// NamedMutex on Windows is the native Win32 mutex: its names and errors, its exclusion of and by
// plain C programs (test/interop/c/mutex_tool.c), and WAIT_ABANDONED handed to exactly one locker
// when a holder dies. Processes, workers and leaks: windows-mutex-crash.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NamedEvent, NamedMutex, SharedMemory } from '../lib/index.js';
import { windowsSync } from '../lib/os/windows/sync.js';
import { parseName } from '../lib/validate.js';
import { eventWorker, trackEvent } from './events-actor.js';
import { errorOf, isWindows, openTracked, track, uniqueName } from './helpers.js';
import { EVENT_TOOL, sleep, startLines } from './windows-sync-helpers.js';

const MUTEX_TOOL = path.join(path.dirname(EVENT_TOOL), 'mutex_tool.exe');
const hasTool = process.env.NAMED_SHM_INTEROP === '1' || fs.existsSync(MUTEX_TOOL);
const open = (name: string) => trackEvent(NamedMutex.open(name));
const tool = (...args: string[]) => startLines(MUTEX_TOOL, args);
/** What mutex_tool's `try` got: 'locked', 'abandoned' or 'busy' (it releases what it took). */
const cTry = async (name: string) => (await tool('try', name).next()) as string;
const rejectionOf = async (p: Promise<unknown>) => p.then(() => { throw new Error('it resolved'); }, (e: unknown) => e as Error & Record<string, unknown>);

describe.runIf(isWindows)('Windows NamedMutex: opening', () => {
  it('create() fails with EEXIST (183) on a taken name, openExisting() with ENOENT (2) on a free one', () => {
    const name = uniqueName('mx');
    expect(trackEvent(NamedMutex.create(name)).created).toBe(true);
    expect(errorOf(() => NamedMutex.create(name))).toMatchObject({ code: 'EEXIST', winError: 183, syscall: 'CreateMutexExW' });
    expect(errorOf(() => NamedMutex.openExisting(uniqueName('mx')))).toMatchObject({ code: 'ENOENT', winError: 2, syscall: 'OpenMutexW' });
    expect(trackEvent(NamedMutex.openExisting(`Local\\${name}`)).created).toBe(false);
  });

  it('a name held by a section or an event is refused with EINVAL (6), saying it is not a mutex; a mutex name is not an event', () => {
    const section = uniqueName('mx');
    openTracked(section);
    const event = uniqueName('mx');
    trackEvent(NamedEvent.open(event));
    for (const name of [section, event]) {
      for (const make of [() => NamedMutex.open(name), () => NamedMutex.openExisting(name)]) {
        expect(errorOf(make)).toMatchObject({ code: 'EINVAL', winError: 6, message: expect.stringContaining('not a mutex') });
      }
    }
    const mutex = uniqueName('mx');
    open(mutex);
    expect(errorOf(() => NamedEvent.open(mutex))).toMatchObject({ code: 'EINVAL', winError: 6, message: expect.stringContaining('not an event') });
  });

  it('the backend refuses an unlock of a lock this handle does not hold: EPERM with ERROR_NOT_OWNER (288)', () => {
    const name = uniqueName('mx');
    const openNative = () => windowsSync().openMutex({ name: parseName(name), intent: 'open-or-create', mode: 0o600, securityDescriptor: undefined });
    const a = openNative();
    const b = openNative();
    try {
      expect(errorOf(() => a.unlock())).toMatchObject({ code: 'EPERM', winError: 288 });
      expect(a.tryLock()).toBe('locked');
      expect(b.tryLock()).toBe('deadlock');
      expect(errorOf(() => b.unlock())).toMatchObject({ code: 'EPERM', winError: 288 });
      a.unlock();
      expect(errorOf(() => a.unlock())).toMatchObject({ code: 'EPERM', winError: 288 });
    } finally {
      a.close();
      b.close();
    }
  });

  it('not re-entrant across two handles of one name (Local\\x and x): tryLock, lockSync and lock give EDEADLK', async () => {
    const name = uniqueName('mx');
    const a = open(`Local\\${name}`);
    const b = open(name);
    const guard = a.lockSync();
    expect(errorOf(() => b.tryLock())).toMatchObject({ code: 'EDEADLK' });
    expect(errorOf(() => b.lockSync(100))).toMatchObject({ code: 'EDEADLK' });
    expect(await rejectionOf(b.lock())).toMatchObject({ code: 'EDEADLK' });
    guard.unlock();
    b.tryLock()!.unlock();
  });

  it('lockSync() while a lock() of the same thread waits for the mutex ends with EDEADLK once that lock() got it, never hangs', async () => {
    const name = uniqueName('mx');
    const a = open(name);
    const b = open(name);
    // A worker holds it and lets go by its own timer.
    const holder = eventWorker(
      `const m = NamedMutex.open(workerData.name); const g = m.lockSync(); say('held');
       setTimeout(() => { g.unlock(); say('released'); }, 300);`,
      { name },
    );
    expect(await holder.next()).toBe('held');
    const pending = a.lock();
    // Blocked, so that the owner thread takes it for the pending lock() before this thread can
    // read the news: this thread then holds it, and lockSync() must say so instead of waiting.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
    expect(errorOf(() => b.lockSync(3000))).toMatchObject({ code: 'EDEADLK' });
    (await pending).unlock();
  });
});

describe.runIf(isWindows && hasTool)('Windows NamedMutex with C programs', () => {
  it("a C holder excludes Node: tryLock() is null, lock() waits with the event loop free, and gets it when C releases", async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const c = tool('hold', `Local\\${name}`);
    expect(await c.next()).toBe('held abandoned=0');
    expect(m.tryLock()).toBeNull();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const locked = m.lock({ timeout: 30_000 });
    await sleep(500);
    c.send('release');
    expect(await c.next()).toBe('released');
    const guard = await locked;
    clearInterval(ticker);
    expect(ticks).toBeGreaterThan(10);
    expect(guard.abandoned).toBe(false);
    expect(await cTry(name)).toBe('busy');
    guard.unlock();
    expect(await cTry(name)).toBe('locked');
  });

  it('Node excludes C: a C try is busy while Node holds (through tryLock, lockSync or a waited lock), free once unlock() returned', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    for (const take of [() => m.tryLock()!, () => m.lockSync()]) {
      const guard = take();
      expect(await cTry(name)).toBe('busy');
      guard.unlock();
      expect(await cTry(name)).toBe('locked');
    }
    // Taken by the owner thread: C held it when lock() began.
    const c = tool('hold', name);
    expect(await c.next()).toBe('held abandoned=0');
    const locked = m.lock();
    c.send('release');
    const guard = await locked;
    expect(await cTry(name)).toBe('busy');
    guard.unlock();
    expect(await cTry(name)).toBe('locked');
  });

  for (const how of ['exit', 'terminate', 'thread'] as const) {
    it(`a C holder that ends holding it (${how}) gives the next Node lock abandoned === true, and the one after that false`, async () => {
      const name = uniqueName('mx');
      const m = open(name);
      const c = tool('die', name, how);
      expect(await c.next()).toBe('held abandoned=0');
      const locked = m.lock({ timeout: 30_000 });
      await sleep(200);
      c.send('die');
      const guard = await locked;
      expect(guard.abandoned).toBe(true);
      guard.unlock();
      const again = m.tryLock()!;
      expect(again.abandoned).toBe(false);
      again.unlock();
      if (how === 'thread') {
        expect(await c.next()).toBe('thread ended');
        c.send('end');
      }
      expect(await c.exit).toBe(how === 'thread' ? 0 : 3);
    });
  }

  it('a dead C holder is reported to tryLock() and lockSync() as well, and to Node only once; C then sees it not abandoned', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    for (const take of [() => m.tryLock(), () => m.lockSync(5000)]) {
      const c = tool('die', name, 'exit');
      expect(await c.next()).toBe('held abandoned=0');
      c.send('die');
      await c.exit;
      const guard = take()!;
      expect(guard.abandoned).toBe(true);
      guard.unlock();
    }
    expect(await cTry(name)).toBe('locked');
  });

  it('lock() that times out or is aborted while C holds leaves no lock: C takes it afterwards', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const c = tool('hold', name);
    expect(await c.next()).toBe('held abandoned=0');
    expect(await rejectionOf(m.lock({ timeout: 300 }))).toMatchObject({ code: 'ETIMEDOUT' });
    const controller = new AbortController();
    const aborted = m.lock({ signal: controller.signal });
    await sleep(200);
    controller.abort();
    expect(await rejectionOf(aborted)).toMatchObject({ code: 'ABORT_ERR' });
    expect(errorOf(() => m.lockSync(200))).toMatchObject({ code: 'ETIMEDOUT' });
    c.send('release');
    expect(await c.next()).toBe('released');
    await sleep(100);
    expect(await cTry(name)).toBe('locked');
    const g = m.tryLock()!;
    expect(g.abandoned).toBe(false);
    g.unlock();
  });

  it('a wait cancelled just as it got an abandoned mutex keeps no lock, and the abandonment reaches the next locker', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const c = tool('die', name, 'exit');
    expect(await c.next()).toBe('held abandoned=0');
    const controller = new AbortController();
    const aborted = m.lock({ signal: controller.signal });
    await sleep(300); // the owner thread waits
    c.send('die');
    // The JS thread is busy while the owner thread takes the abandoned mutex, so the abort comes
    // after the grant and before the JS thread heard of it.
    const until = performance.now() + 1500;
    while (performance.now() < until);
    controller.abort();
    expect(await rejectionOf(aborted)).toMatchObject({ code: 'ABORT_ERR' });
    const guard = await m.lock({ timeout: 10_000 });
    expect(guard.abandoned).toBe(true);
    guard.unlock();
  });

  it('close() with the lock held releases it, for a lock taken here and one the owner thread holds', async () => {
    const name = uniqueName('mx');
    const m = NamedMutex.open(name);
    m.tryLock();
    m.close();
    expect(await cTry(name)).toBe('locked');
    const n = NamedMutex.open(name);
    const c = tool('hold', name);
    expect(await c.next()).toBe('held abandoned=0');
    const locked = n.lock();
    c.send('release');
    await locked;
    n.close();
    expect(await cTry(name)).toBe('locked');
  });

  it('tryLock() under contention with two C counters: never blocks, and the count is exact', async () => {
    const name = uniqueName('mx');
    const region = uniqueName('mx-region');
    const m = open(name);
    const r = track(SharedMemory.open(region, { size: 4096 }));
    const word = new Uint32Array(r.bytes.buffer, r.bytes.byteOffset, 1);
    const counters = [tool('count', name, `Local\\${region}`, '3000'), tool('count', name, `Local\\${region}`, '3000')];
    for (const c of counters) expect(await c.next()).toBe('ready');
    for (const c of counters) c.send('go');
    let mine = 0;
    let busy = 0;
    const finished = Promise.all(counters.map((c) => c.next()));
    let done = false;
    void finished.then(() => (done = true));
    while (!done || mine < 1000) {
      const t0 = performance.now();
      const g = m.tryLock();
      expect(performance.now() - t0).toBeLessThan(100);
      if (g) {
        const v = word[0]!;
        await new Promise((res) => setImmediate(res));
        word[0] = v + 1;
        g.unlock();
        mine++;
      } else busy++;
      await new Promise((res) => setImmediate(res));
    }
    expect(await finished).toEqual(['done abandoned=0', 'done abandoned=0']);
    expect(word[0]).toBe(6000 + mine);
    expect(busy).toBeGreaterThan(0);
  });

  it('exclusion: two C counters and Node lock() in this thread, 3,000 read-modify-writes each, lose nothing', async () => {
    const name = uniqueName('mx');
    const region = uniqueName('mx-region');
    const m = open(name);
    const r = track(SharedMemory.open(region, { size: 4096 }));
    const word = new Uint32Array(r.bytes.buffer, r.bytes.byteOffset, 1);
    const counters = [tool('count', name, region, '3000'), tool('count', name, region, '3000')];
    for (const c of counters) expect(await c.next()).toBe('ready');
    for (const c of counters) c.send('go');
    for (let i = 0; i < 3000; i++) {
      const g = await m.lock();
      const v = word[0]!;
      if (i % 7 === 0) await new Promise((res) => setImmediate(res));
      word[0] = v + 1;
      g.unlock();
    }
    expect(await Promise.all(counters.map((c) => c.next()))).toEqual(['done abandoned=0', 'done abandoned=0']);
    expect(word[0]).toBe(9000);
  });
});
