// NamedEvent's promises, across processes and threads: what set() releases, what stays signalled,
// what an existing event keeps, and how waits end (timeout, abort, close).
import { describe, expect, it } from 'vitest';
import { NamedEvent } from '../lib/index.js';
import { EventActor, actorWith, delay, eventWorker, trackEvent } from './events-actor.js';
import { errorOf, exists, isLinux, shmPath, uniqueName } from './helpers.js';

const open = (name: string, options?: Parameters<typeof NamedEvent.open>[1]) => trackEvent(NamedEvent.open(name, options));

describe.runIf(isLinux)('auto-reset events across processes', () => {
  it('one set() releases exactly one of three waiters in three processes', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const actors = await Promise.all([1, 2, 3].map(() => actorWith(name)));
    const waits = await Promise.all(actors.map((a) => a.startWait('wait', 1500)));
    ev.set();
    const results = await Promise.all(waits.map((w) => w.result));
    expect(results.map((l) => l.result).filter((r) => r === true)).toHaveLength(1);
    expect(ev.waitSync(0)).toBe(false); // the one release consumed the signal
  });

  it('further sets release the remaining waiters one at a time, none twice and none lost', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const actors = await Promise.all([1, 2, 3].map(() => actorWith(name)));
    const waits = await Promise.all(actors.map((a) => a.startWait('wait')));
    const released: number[] = [];
    waits.forEach((w, i) => void w.result.then((l) => l.result === true && released.push(i)));
    for (let k = 1; k <= 3; k++) {
      ev.set();
      while (released.length < k) await delay(5);
      expect(released).toHaveLength(k);
    }
    expect(new Set(released).size).toBe(3);
    expect(ev.waitSync(0)).toBe(false);
  });

  it('stays signalled with nobody waiting until one wait in another process takes it', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    ev.set();
    const a = await actorWith(name);
    expect((await a.request({ op: 'wait', timeout: 5000 })).result).toBe(true);
    expect((await a.request({ op: 'wait', timeout: 50 })).result).toBe(false);
    expect(ev.waitSync(0)).toBe(false);
  });

  it('a synchronous waiter in another process is released by set()', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const a = await actorWith(name);
    const w = await a.startWait('waitSync');
    ev.set();
    expect((await w.result).result).toBe(true);
  });

  it('set() in another process releases an async wait here, taking the signal', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const a = await actorWith(name);
    const pending = ev.wait();
    await a.request({ op: 'set' });
    expect(await pending).toBe(true);
    expect(ev.waitSync(0)).toBe(false);
  });

  it('initialState: true makes a new event signalled for exactly one wait', () => {
    const ev = open(uniqueName('ev'), { initialState: true });
    expect(ev.waitSync(0)).toBe(true);
    expect(ev.waitSync(0)).toBe(false);
  });

  it('reset() takes a pending signal back', () => {
    const ev = open(uniqueName('ev'));
    ev.set();
    ev.reset();
    expect(ev.waitSync(0)).toBe(false);
  });

  it('two sets with nobody waiting leave one signal (an event is not a semaphore)', () => {
    const ev = open(uniqueName('ev'));
    ev.set();
    ev.set();
    expect(ev.waitSync(0)).toBe(true);
    expect(ev.waitSync(0)).toBe(false);
  });
});

describe.runIf(isLinux)('manual-reset events across processes', () => {
  it('one set() releases every waiter in several processes, async and sync', async () => {
    const name = uniqueName('ev');
    const ev = open(name, { manualReset: true });
    const actors = await Promise.all([1, 2, 3].map(() => actorWith(name)));
    const waits = [
      await actors[0]!.startWait('wait'),
      await actors[1]!.startWait('waitSync'),
      await actors[2]!.startWait('wait'),
      await actors[2]!.startWait('wait'),
    ];
    ev.set();
    expect((await Promise.all(waits.map((w) => w.result))).map((l) => l.result)).toEqual([true, true, true, true]);
  });

  it('stays signalled for every later wait until reset()', async () => {
    const name = uniqueName('ev');
    const ev = open(name, { manualReset: true });
    const a = await actorWith(name);
    ev.set();
    expect((await a.request({ op: 'wait', timeout: 0 })).result).toBe(true);
    expect((await a.request({ op: 'waitSync', timeout: 0 })).result).toBe(true);
    expect(await ev.wait({ timeout: 0 })).toBe(true);
    await a.request({ op: 'reset' });
    expect(ev.waitSync(0)).toBe(false);
    expect((await a.request({ op: 'wait', timeout: 30 })).result).toBe(false);
  });

  it('initialState: true makes a new manual-reset event signalled until reset()', () => {
    const ev = open(uniqueName('ev'), { manualReset: true, initialState: true });
    expect([ev.waitSync(0), ev.waitSync(0)]).toEqual([true, true]);
    ev.reset();
    expect(ev.waitSync(0)).toBe(false);
  });
});

describe.runIf(isLinux)('opening and creating', () => {
  it('an existing event keeps the kind and state it was created with', async () => {
    const name = uniqueName('ev');
    const a = await actorWith(name, { manualReset: false });
    const ev = open(name, { manualReset: true, initialState: true });
    expect(ev.created).toBe(false);
    expect(ev.manualReset).toBe(false);
    expect(ev.waitSync(0)).toBe(false); // initialState applies only to a new event
    a.kill();
  });

  it('created is true only for the process that made the event', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const a = new EventActor();
    const opened = await a.request({ op: 'open', name });
    expect([ev.created, opened.created]).toEqual([true, false]);
  });

  it('create() of an existing name throws EEXIST, from this and from another process', async () => {
    const name = uniqueName('ev');
    open(name);
    expect(errorOf(() => NamedEvent.create(name))).toMatchObject({ code: 'EEXIST' });
    const a = new EventActor();
    expect(await a.request({ op: 'open', how: 'create', name })).toMatchObject({ ok: false, code: 'EEXIST' });
  });

  it('openExisting() of a missing name throws ENOENT and creates nothing', () => {
    const name = uniqueName('ev');
    expect(errorOf(() => NamedEvent.openExisting(name))).toMatchObject({ code: 'ENOENT' });
    expect(exists(shmPath(name))).toBe(false);
  });

  it('a Local\\ prefix names the same event as the bare name on Linux', () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const local = open(`Local\\${name}`);
    expect(local.created).toBe(false);
    ev.set();
    expect(local.waitSync(0)).toBe(true);
  });
});

describe.runIf(isLinux)('how waits end', () => {
  it('wait({ timeout }) resolves false when nothing sets the event', async () => {
    expect(await open(uniqueName('ev')).wait({ timeout: 20 })).toBe(false);
  });

  it('wait({ timeout: 0 }) and waitSync(0) poll: true when signalled, false otherwise', async () => {
    const ev = open(uniqueName('ev'));
    expect([await ev.wait({ timeout: 0 }), ev.waitSync(0)]).toEqual([false, false]);
    ev.set();
    expect(await ev.wait({ timeout: 0 })).toBe(true);
    ev.set();
    expect(ev.waitSync(0)).toBe(true);
  });

  it('timeout: Infinity waits until the event is set', async () => {
    const ev = open(uniqueName('ev'));
    let settled = false;
    const pending = ev.wait({ timeout: Infinity }).finally(() => (settled = true));
    await delay(50);
    expect(settled).toBe(false);
    ev.set();
    expect(await pending).toBe(true);
  });

  it('a timeout longer than setTimeout allows (2^31 ms and more) still waits until set', async () => {
    const ev = open(uniqueName('ev'));
    const pending = ev.wait({ timeout: 2 ** 40 });
    await delay(20);
    ev.set();
    expect(await pending).toBe(true);
  });

  it('an abort rejects the wait with an AbortError carrying the reason', async () => {
    const ev = open(uniqueName('ev'));
    const controller = new AbortController();
    const pending = ev.wait({ signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: expect.objectContaining({ message: 'stop' }) });
  });

  it('an already-aborted signal rejects at once without taking a pending signal', async () => {
    const ev = open(uniqueName('ev'));
    ev.set();
    await expect(ev.wait({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(ev.waitSync(0)).toBe(true);
  });

  it('an aborted wait leaves nothing behind: the next set goes to the next waiter in another process', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const controller = new AbortController();
    const aborted = ev.wait({ signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    const a = await actorWith(name);
    const w = await a.startWait('wait', 5000);
    ev.set();
    expect((await w.result).result).toBe(true);
  });

  it('an aborted wait leaves nothing behind: a later set() is taken by a later wait here', async () => {
    const ev = open(uniqueName('ev'));
    const controller = new AbortController();
    const aborted = ev.wait({ signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toThrow();
    ev.set();
    expect(await ev.wait({ timeout: 1000 })).toBe(true);
  });

  it('close() rejects every pending wait at once with ERR_SHM_CLOSED', async () => {
    const ev = NamedEvent.open(uniqueName('ev'));
    const waits = [ev.wait(), ev.wait({ timeout: 60_000 }), ev.wait({ signal: new AbortController().signal })];
    ev.close();
    for (const w of waits) await expect(w).rejects.toMatchObject({ code: 'ERR_SHM_CLOSED' });
  });

  it('a closed handle does not take the signal meant for another waiter', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const doomed = NamedEvent.open(name);
    const rejected = doomed.wait().catch((e: { code: string }) => e.code);
    doomed.close();
    ev.set();
    expect(await rejected).toBe('ERR_SHM_CLOSED');
    expect(ev.waitSync(0)).toBe(true);
  });
});

describe.runIf(isLinux)('worker threads', () => {
  it('waitSync in a worker is released by set() in the main thread', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const w = eventWorker(`const ev = NamedEvent.open(workerData.name); say('ready'); say(ev.waitSync()); ev.close();`, { name });
    expect(await w.next()).toBe('ready');
    ev.set();
    expect(await w.next()).toBe(true);
  });

  it('an async wait in a worker is released by set() in the main thread, and the worker then ends', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const w = eventWorker(`const ev = NamedEvent.open(workerData.name); const p = ev.wait(); say('ready'); say(await p); ev.close();`, { name });
    const exited = new Promise<number>((r) => w.worker.on('exit', r));
    expect(await w.next()).toBe('ready');
    ev.set();
    expect(await w.next()).toBe(true);
    expect(await exited).toBe(0);
  });

  it('one set() of an auto-reset event releases one of two waiting workers', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const body = `const ev = NamedEvent.open(workerData.name); const p = ev.wait({ timeout: 1500 }); say('ready'); say(await p); ev.close();`;
    const workers = [eventWorker(body, { name }), eventWorker(body, { name })];
    for (const w of workers) expect(await w.next()).toBe('ready');
    ev.set();
    expect((await Promise.all(workers.map((w) => w.next()))).sort()).toEqual([false, true]);
  });

  it('a worker set() releases an async wait in the main thread', async () => {
    const name = uniqueName('ev');
    const ev = open(name, { manualReset: true });
    const pending = ev.wait();
    const w = eventWorker(`const ev = NamedEvent.open(workerData.name); ev.set(); say(ev.manualReset); ev.close();`, { name });
    expect(await w.next()).toBe(true);
    expect(await pending).toBe(true);
  });
});
