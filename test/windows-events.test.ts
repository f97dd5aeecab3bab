// NamedEvent on Windows is the native Win32 event object: its kinds and states, its names and
// errors, and waits that leave the event loop free, across real processes.
import { once } from 'node:events';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { NamedEvent, SharedMemory } from '../lib/index.js';
import { asyncWaitStats } from '../lib/os/windows/async-wait.js';
import { isWindows, openTracked, uniqueName } from './helpers.js';
import { openEvent, settledWithin, sleep, startSyncChild, trackEvent } from './windows-sync-helpers.js';

describe.runIf(isWindows)('Windows named events: opening', () => {
  it('create() makes a new event, and open() of the same name finds it: created is true only for the first', () => {
    const name = uniqueName();
    expect(trackEvent(NamedEvent.create(name)).created).toBe(true);
    expect(openEvent(name).created).toBe(false);
  });

  it('Local\\ and the bare name are the same event in this session', () => {
    const name = uniqueName();
    const local = openEvent(`Local\\${name}`);
    const bare = trackEvent(NamedEvent.openExisting(name));
    local.set();
    expect(bare.waitSync(0)).toBe(true);
  });

  it('create() of an existing name fails with EEXIST and winError 183', () => {
    const name = uniqueName();
    openEvent(name);
    expect(() => NamedEvent.create(name)).toThrow(expect.objectContaining({ code: 'EEXIST', winError: 183, syscall: 'CreateEventExW' }));
  });

  it('openExisting() of a missing name fails with ENOENT and winError 2', () => {
    expect(() => NamedEvent.openExisting(uniqueName())).toThrow(
      expect.objectContaining({ code: 'ENOENT', winError: 2, syscall: 'OpenEventW' }),
    );
  });

  it('a name held by a section gives EINVAL with winError 6, saying it is not an event', () => {
    const name = uniqueName();
    openTracked(name);
    for (const open of [() => NamedEvent.open(name), () => NamedEvent.openExisting(name)]) {
      expect(open).toThrow(
        expect.objectContaining({ code: 'EINVAL', winError: 6, message: expect.stringContaining('not an event') }),
      );
    }
  });

  it('a name held by an event gives EINVAL with winError 6 when opened as a region', () => {
    const name = uniqueName();
    openEvent(name);
    expect(() => SharedMemory.open(name)).toThrow(
      expect.objectContaining({ code: 'EINVAL', winError: 6, message: expect.stringContaining('not a file mapping') }),
    );
  });

  it('an existing event keeps the kind it was created with, whatever the opener asks', () => {
    const manual = uniqueName();
    const auto = uniqueName();
    expect(openEvent(manual, { manualReset: true }).manualReset).toBe(true);
    expect(openEvent(auto, { manualReset: false }).manualReset).toBe(false);
    expect(openEvent(manual, { manualReset: false }).manualReset).toBe(true);
    expect(openEvent(auto, { manualReset: true }).manualReset).toBe(false);
    expect(trackEvent(NamedEvent.openExisting(manual)).manualReset).toBe(true);
  });

  it('a security descriptor in SDDL is applied to a new event', () => {
    const name = uniqueName();
    const event = openEvent(name, { securityDescriptor: 'D:P(A;;GA;;;WD)' });
    expect(event.created).toBe(true);
    event.set();
    expect(trackEvent(NamedEvent.openExisting(name)).waitSync(0)).toBe(true);
  });

  it('the event goes away with its last handle', () => {
    const name = uniqueName();
    NamedEvent.open(name).close();
    expect(() => NamedEvent.openExisting(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe.runIf(isWindows)('Windows named events: states in one process', () => {
  it('initialState: true makes a signalled event, which an auto-reset wait takes', () => {
    const event = openEvent(uniqueName(), { initialState: true });
    expect(event.waitSync(0)).toBe(true);
    expect(event.waitSync(0)).toBe(false);
  });

  it('an auto-reset event set with nobody waiting stays signalled until one wait takes it', async () => {
    const event = openEvent(uniqueName());
    event.set();
    await sleep(50);
    expect(await event.wait({ timeout: 0 })).toBe(true);
    expect(event.waitSync(0)).toBe(false);
  });

  it('a manual-reset event stays signalled for every wait until reset()', async () => {
    const event = openEvent(uniqueName(), { manualReset: true });
    event.set();
    expect(event.waitSync(0)).toBe(true);
    expect(await event.wait()).toBe(true);
    expect(event.waitSync(0)).toBe(true);
    event.reset();
    expect(event.waitSync(0)).toBe(false);
  });

  it('waitSync(timeout) returns false after about the timeout when nobody sets', () => {
    const event = openEvent(uniqueName());
    const t0 = performance.now();
    expect(event.waitSync(200)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('wait() resolves when another handle of the same event sets it later', async () => {
    const name = uniqueName();
    const waiter = openEvent(name);
    const setter = trackEvent(NamedEvent.openExisting(name));
    const woken = waiter.wait();
    await sleep(100);
    setter.set();
    expect(await woken).toBe(true);
  });

  it('timers keep firing while a wait is pending', async () => {
    const event = openEvent(uniqueName());
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      expect(await event.wait({ timeout: 500 })).toBe(false);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThanOrEqual(10);
  });

  it('1,000 pending waits leave timers running, and one manual-reset set() releases them all', async () => {
    const name = uniqueName();
    const event = openEvent(name, { manualReset: true });
    const waits = Array.from({ length: 1000 }, () => event.wait());
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    await sleep(300);
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(10);
    trackEvent(NamedEvent.openExisting(name)).set();
    expect(await Promise.all(waits)).toEqual(Array(1000).fill(true));
  });

  it('1,000 pending waits hold no libuv threadpool thread: fs.readFile runs as fast as without them', async () => {
    const file = fileURLToPath(import.meta.url);
    // 64 reads at once, 4 threadpool threads: a pool with threads parked in waits would crawl.
    const readsPerSecond = async () => {
      const t0 = performance.now();
      let reads = 0;
      while (performance.now() - t0 < 500) {
        await Promise.all(Array.from({ length: 64 }, () => fs.promises.readFile(file)));
        reads += 64;
      }
      return reads / ((performance.now() - t0) / 1000);
    };
    await readsPerSecond(); // warm up
    const before = await readsPerSecond();
    const name = uniqueName();
    const event = openEvent(name, { manualReset: true });
    const waits = Array.from({ length: 1000 }, () => event.wait());
    const during = await readsPerSecond();
    event.set();
    await Promise.all(waits);
    expect(during).toBeGreaterThan(before * 0.5);
  });

  it('an aborted wait on an auto-reset event does not eat a later set(): the next waiter gets it', async () => {
    const name = uniqueName();
    const event = openEvent(name);
    const controller = new AbortController();
    const aborted = event.wait({ signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    trackEvent(NamedEvent.openExisting(name)).set();
    expect(await event.wait({ timeout: 5000 })).toBe(true);
  });

  it('a set() that the thread pool took just before the abort is given back to the event', async () => {
    const name = uniqueName();
    const event = openEvent(name);
    const setter = trackEvent(NamedEvent.openExisting(name));
    const lateCount = () => asyncWaitStats().late + asyncWaitStats().lateAfterUnregistered;
    const lateBefore = lateCount();
    for (let round = 0; round < 20; round++) {
      const controller = new AbortController();
      const aborted = event.wait({ signal: controller.signal });
      setter.set();
      // Keep the JS thread busy while the pool sees the signal and queues its callback here.
      const until = performance.now() + 20;
      while (performance.now() < until);
      controller.abort();
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
      expect(await event.wait({ timeout: 5000 }), `round ${round}: ${JSON.stringify(asyncWaitStats())}`).toBe(true);
      expect(event.waitSync(0)).toBe(false);
    }
    // The race this is about did happen: callbacks came for cancelled waits.
    expect(lateCount()).toBeGreaterThan(lateBefore);
    expect(asyncWaitStats().pending).toBe(0);
  });

  it('close() rejects a pending wait with ERR_SHM_CLOSED, and the event can be opened again', async () => {
    const name = uniqueName();
    const event = NamedEvent.open(name);
    const pending = event.wait();
    event.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_SHM_CLOSED' });
    expect(openEvent(name).created).toBe(true);
  });
});

describe.runIf(isWindows)('Windows named events across processes', () => {
  it('auto-reset: one set() releases exactly one of two waiting processes, a second set() the other', async () => {
    const name = uniqueName();
    const event = openEvent(name);
    const children = [startSyncChild('wait', name, 'Infinity'), startSyncChild('wait', name, 'Infinity')];
    for (const c of children) expect(await c.next()).toEqual({ ready: true });
    await sleep(300); // both are in wait() by now
    const results = children.map((c) => c.next());
    event.set();
    expect(await settledWithin(results, 1500)).toHaveLength(1);
    event.set();
    expect(await Promise.all(results)).toEqual([{ signalled: true }, { signalled: true }]);
    expect(event.waitSync(0)).toBe(false);
  });

  it('manual-reset: one set() releases both waiting processes, and the event stays signalled until reset()', async () => {
    const name = uniqueName();
    const event = openEvent(name, { manualReset: true });
    const children = [startSyncChild('wait', name, 'Infinity', 'manual'), startSyncChild('wait', name, 'Infinity', 'manual')];
    for (const c of children) expect(await c.next()).toEqual({ ready: true });
    await sleep(300);
    event.set();
    expect(await Promise.all(children.map((c) => c.next()))).toEqual([{ signalled: true }, { signalled: true }]);
    expect(event.waitSync(0)).toBe(true);
    event.reset();
    expect(event.waitSync(0)).toBe(false);
  });

  it('a waitSync() in another process is released by set() here', async () => {
    const name = uniqueName();
    const event = openEvent(name);
    const child = startSyncChild('wait-sync', name, '30000');
    expect(await child.next()).toEqual({ ready: true });
    await sleep(200);
    event.set();
    expect(await child.next()).toEqual({ signalled: true });
  });

  it('a waiting process killed while waiting leaves the event working for others', async () => {
    const name = uniqueName();
    const event = openEvent(name);
    const doomed = startSyncChild('wait', name, 'Infinity');
    expect(await doomed.next()).toEqual({ ready: true });
    doomed.child.kill();
    await doomed.exit;
    const other = startSyncChild('wait', name, 'Infinity');
    expect(await other.next()).toEqual({ ready: true });
    await sleep(200);
    event.set();
    expect(await other.next()).toEqual({ signalled: true });
  });
});

describe.runIf(isWindows)('Windows named events in worker threads', () => {
  const WAITER = new URL('./fixtures/windows-worker-waiter.mjs', import.meta.url);

  async function startWaiter(workerData: { name: string; manual?: boolean; sync?: boolean; timeout?: number }) {
    const worker = new Worker(WAITER, { workerData });
    // Listened for from the start: a worker that ends right after its last message may emit
    // 'exit' before a listener added once that message arrived.
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const messages: unknown[] = [];
    const arrived: Array<() => void> = [];
    worker.on('message', (m) => {
      messages.push(m);
      arrived.shift()?.();
    });
    // A step that hangs fails with its own name, not with the test's timeout.
    const next = async (step = 'a message') => {
      if (!messages.length) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => arrived.push(resolve)),
          new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`worker sent no ${step} in 20 s`)), 20_000))),
        ]).finally(() => clearTimeout(timer));
      }
      return messages.shift();
    };
    expect(await next('ready')).toBe('ready');
    return { worker, next, exited };
  }

  it('a manual-reset set() in the main thread releases wait() and waitSync() in two workers', async () => {
    const name = uniqueName();
    const event = openEvent(name, { manualReset: true });
    const waiters = [await startWaiter({ name, manual: true }), await startWaiter({ name, manual: true, sync: true })];
    await sleep(200);
    event.set();
    expect(await Promise.all(waiters.map((w, i) => w.next(`result from waiter ${i}`)))).toEqual([true, true]);
    await Promise.all(waiters.map((w) => w.exited));
  });

  it('a worker that exits with its wait pending leaves nothing that takes a later set(): a waiter here gets it', async () => {
    const name = uniqueName();
    const event = openEvent(name);
    const { worker } = await startWaiter({ name });
    await sleep(200); // its wait is registered with the thread pool by now
    worker.postMessage('exit');
    await once(worker, 'exit');
    const woken = event.wait({ timeout: 5000 });
    trackEvent(NamedEvent.openExisting(name)).set();
    expect(await woken).toBe(true);
  });

  it('a worker that exits with its wait pending lets go of its handle: the event goes away with the last one here', async () => {
    const name = uniqueName();
    const event = NamedEvent.open(name);
    const { worker } = await startWaiter({ name });
    worker.postMessage('exit');
    await once(worker, 'exit');
    event.close();
    expect(() => NamedEvent.openExisting(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('a worker blocked in waitSync() with no limit is ended by terminate() within a second', async () => {
    const name = uniqueName();
    openEvent(name);
    const { worker } = await startWaiter({ name, sync: true, timeout: Infinity });
    await sleep(200);
    const t0 = performance.now();
    await worker.terminate();
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  // worker.terminate() runs no JavaScript in the worker, not even process 'exit': the pool itself
  // unregisters the wait when the worker's thread ends (the guard in async-wait.ts).
  it('a worker terminated while waiting leaves nothing that takes a later set(): a waiter here gets it', async () => {
    const name = uniqueName();
    const event = openEvent(name);
    const { worker } = await startWaiter({ name });
    await sleep(200); // its wait is registered with the thread pool by now
    await worker.terminate();
    const woken = event.wait({ timeout: 5000 });
    trackEvent(NamedEvent.openExisting(name)).set();
    expect(await woken).toBe(true);
  });
});

describe.runIf(isWindows)('Windows named events leave nothing behind', () => {
  it('2,000 cycles of open, wait, set, aborted wait and close, and of region change waits, leave no handle open', async () => {
    // Wine's GetProcessHandleCount says 0, so the probe is the value of a new handle: Windows and
    // wineserver give the lowest free slot, so leaked handles push it up by 4 each.
    const k32 = koffi.load('kernel32.dll');
    const CreateEventW = k32.func('void *__stdcall CreateEventW(void *attributes, int manualReset, int initialState, const char16_t *name)');
    const CloseHandle = k32.func('int __stdcall CloseHandle(void *handle)');
    const handles = () => {
      const probe = CreateEventW(null, 0, 0, null);
      const value = Number(koffi.address(probe));
      CloseHandle(probe);
      return value / 4;
    };
    const base = uniqueName();
    const cycle = async (i: number) => {
      const event = NamedEvent.open(`${base}-${i % 7}`);
      const woken = event.wait();
      event.set();
      await woken;
      const controller = new AbortController();
      const aborted = event.wait({ signal: controller.signal });
      controller.abort();
      await aborted.catch(() => {});
      event.close();
      const region = SharedMemory.open(`${base}-region-${i % 5}`, { size: 64 });
      const changed = region.waitForChange({ since: region.changeCount });
      region.notify();
      await changed;
      region.close();
    };
    for (let i = 0; i < 100; i++) await cycle(i);
    await sleep(200);
    const before = handles();
    expect(before).toBeGreaterThan(0);
    for (let i = 0; i < 2000; i++) await cycle(i);
    await sleep(200);
    expect(handles() - before).toBeLessThan(20);
  });
});

describe.runIf(isWindows)('Windows named events are the kernel32 objects', () => {
  it('an event made by CreateEventW through koffi here is the one NamedEvent opens', () => {
    const name = uniqueName();
    const k32 = koffi.load('kernel32.dll');
    const CreateEventW = k32.func('void *__stdcall CreateEventW(void *attributes, int manualReset, int initialState, const char16_t *name)');
    const CloseHandle = k32.func('int __stdcall CloseHandle(void *handle)');
    const handle = CreateEventW(null, 1, 1, `Local\\${name}`);
    try {
      const event = trackEvent(NamedEvent.openExisting(name));
      expect(event.manualReset).toBe(true);
      expect(event.waitSync(0)).toBe(true);
    } finally {
      CloseHandle(handle);
    }
  });
});
