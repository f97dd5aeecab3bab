// NamedMutex on Windows across Node processes and worker threads: exclusion under load, holders
// that die (a killed process, a terminated worker, a worker that exits) abandoning the mutex to
// the next locker, and thousands of cycles leaving no handle behind.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { NamedMutex, SharedMemory } from '../lib/index.js';
import { actorWith, eventWorker, MUTEX_ACTOR, trackEvent } from './events-actor.js';
import { isWindows, track, uniqueName } from './helpers.js';
import { sleep } from './windows-sync-helpers.js';

const COUNT_WORKER = fileURLToPath(new URL('./fixtures/mutex-count-worker.mjs', import.meta.url));
const open = (name: string) => trackEvent(NamedMutex.open(name));
const counter = (region: string) => {
  const r = track(SharedMemory.open(region, { size: 8 }));
  return new Uint32Array(r.bytes.buffer, r.bytes.byteOffset, 2);
};

describe.runIf(isWindows)('Windows NamedMutex: exclusion', () => {
  for (const how of ['lock', 'mixed'] as const) {
    it(`4 Node processes, 1,000 read-modify-writes each (${how}), lose nothing`, async () => {
      const name = uniqueName('mx');
      const region = uniqueName('mx-region');
      const word = counter(region);
      const actors = await Promise.all([0, 1, 2, 3].map(() => actorWith(name, undefined, 'open', MUTEX_ACTOR)));
      const results = await Promise.all(actors.map((a) => a.request({ op: 'count', name, region, n: 1000, how })));
      expect(results.map((r) => [r.ok, r.abandoned])).toEqual(Array(4).fill([true, 0]));
      expect(word[0]).toBe(4000);
    });
  }

  it('4 workers of this process, 1,000 lock() read-modify-writes each, and this thread, lose nothing', async () => {
    const name = uniqueName('mx');
    const region = uniqueName('mx-region');
    const word = counter(region);
    const workers = [0, 1, 2, 3].map(
      () => new Worker(COUNT_WORKER, { workerData: { name, region, n: 1000, how: 'lock' } }),
    );
    const results = workers.map((w) => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject))));
    const m = open(name);
    for (let i = 0; i < 500; i++) {
      const g = await m.lock();
      const v = word[0]!;
      await new Promise((res) => setImmediate(res));
      word[0] = v + 1;
      g.unlock();
    }
    expect(await Promise.all(results)).toEqual(Array(4).fill({ abandoned: 0 }));
    expect(word[0]).toBe(4500);
  });
});

describe.runIf(isWindows)('Windows NamedMutex: holders that die', () => {
  it('a Node child killed (TerminateProcess) holding it through tryLock() gives abandoned === true, then false', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const a = await actorWith(name, undefined, 'open', MUTEX_ACTOR);
    expect((await a.request({ op: 'tryLock' })).locked).toBe(true);
    expect(m.tryLock()).toBeNull();
    const locked = m.lock({ timeout: 30_000 });
    a.kill();
    await a.exit;
    const g = await locked;
    expect(g.abandoned).toBe(true);
    g.unlock();
    const again = m.tryLock()!;
    expect(again.abandoned).toBe(false);
    again.unlock();
  });

  it("a Node child killed holding it through its owner thread (a lock() that waited) gives abandoned === true", async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const a = await actorWith(name, undefined, 'open', MUTEX_ACTOR);
    const mine = m.tryLock()!;
    const theirs = await a.startWait('lock');
    await sleep(300);
    mine.unlock();
    expect(await theirs.result).toMatchObject({ ok: true, abandoned: false });
    expect(m.tryLock()).toBeNull();
    a.kill();
    await a.exit;
    const g = await m.lock({ timeout: 30_000 });
    expect(g.abandoned).toBe(true);
    g.unlock();
  });

  for (const [label, sync] of [['lockSync(), on its own thread', true], ['lock() that waited, through its owner thread', false]] as const) {
    it(`a worker terminated holding it (${label}) abandons it to the next locker`, async () => {
      const name = uniqueName('mx');
      const m = open(name);
      const mine = m.tryLock()!;
      const w = eventWorker(
        `const m = NamedMutex.open(workerData.name);
         say('opened');
         const g = workerData.sync ? m.lockSync() : await m.lock();
         say({ abandoned: g.abandoned });
         setInterval(() => {}, 1000);`,
        { name, sync },
      );
      expect(await w.next()).toBe('opened');
      await sleep(300);
      mine.unlock();
      expect(await w.next()).toEqual({ abandoned: false });
      expect(m.tryLock()).toBeNull();
      await w.worker.terminate();
      const g = await m.lock({ timeout: 30_000 });
      expect(g.abandoned).toBe(true);
      g.unlock();
    });
  }

  it('a worker that calls process.exit() holding it through its owner thread abandons it', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const mine = m.tryLock()!;
    const w = eventWorker(
      `const m = NamedMutex.open(workerData.name);
       say('opened');
       const g = await m.lock();
       say({ abandoned: g.abandoned });
       process.exit(0);`,
      { name },
    );
    expect(await w.next()).toBe('opened');
    await sleep(300);
    mine.unlock();
    expect(await w.next()).toEqual({ abandoned: false });
    const g = await m.lock({ timeout: 30_000 });
    expect(g.abandoned).toBe(true);
    g.unlock();
  });

  it('a Node child waiting in lock() that is killed changes nothing for the others', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const mine = m.tryLock()!;
    const waiter = await actorWith(name, undefined, 'open', MUTEX_ACTOR);
    await waiter.startWait('lock');
    const other = await actorWith(name, undefined, 'open', MUTEX_ACTOR);
    const theirs = await other.startWait('lock');
    waiter.kill();
    await waiter.exit;
    mine.unlock();
    expect(await theirs.result).toMatchObject({ ok: true, abandoned: false });
  });
});

describe.runIf(isWindows)('Windows NamedMutex leaves nothing behind', () => {
  it('2,000 cycles of open, tryLock, lock, a lock() aborted while a worker holds it, unlock and close leave no handle open', async () => {
    // As in windows-events.test.ts: Wine's GetProcessHandleCount says 0, so the probe is the value
    // of a new handle (the lowest free slot: leaked handles push it up by 4 each).
    const k32 = koffi.load('kernel32.dll');
    const CreateEventW = k32.func('void *__stdcall CreateEventW(void *attributes, int manualReset, int initialState, const char16_t *name)');
    const CloseHandle = k32.func('int __stdcall CloseHandle(void *handle)');
    const handles = () => {
      const probe = CreateEventW(null, 0, 0, null);
      const value = Number(koffi.address(probe));
      CloseHandle(probe);
      return value / 4;
    };
    const held = uniqueName('mx-held');
    const w = eventWorker(`const m = NamedMutex.open(workerData.name); m.lockSync(); say('held'); setInterval(() => {}, 1000);`, { name: held });
    expect(await w.next()).toBe('held');
    const base = uniqueName('mx');
    const cycle = async (i: number) => {
      const m = NamedMutex.open(`${base}-${i % 7}`);
      m.tryLock()!.unlock();
      (await m.lock()).unlock();
      m.close();
      const busy = NamedMutex.open(held);
      const controller = new AbortController();
      const aborted = busy.lock({ signal: controller.signal });
      if (i % 2) await sleep(0);
      controller.abort();
      await aborted.catch(() => {});
      busy.close();
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

