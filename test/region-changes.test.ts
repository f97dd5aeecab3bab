// Region change notification on Linux: notify(), changeCount and waitForChange() between real
// processes, through the companion object `<region>#changes` whose words the README documents.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { CHANGE_ACTOR, COUNT_WORD, WAITERS_WORD, changesPath, setWord, startActor, startActorWith, wordOf } from './change-actors.js';
import { errorOf, exists, isLinux, openTracked, shmPath, track, uniqueName } from './helpers.js';

/** Runs the actor's `notify` in another process and returns the counts it saw. */
async function notifyElsewhere(name: string, times = 1): Promise<number[]> {
  const actor = startActor('notify', name, String(times));
  const { counts } = await actor.next<{ counts: number[] }>();
  expect(await actor.exit).toBe(0);
  return counts;
}

describe.runIf(isLinux)('region change notification (Linux)', () => {
  it('changeCount starts at 0 on a new region and is the same counter in every process', async () => {
    const name = uniqueName('chg');
    const region = openTracked(name);
    expect(region.created).toBe(true);
    expect(region.changeCount).toBe(0);
    expect(await notifyElsewhere(name, 3)).toEqual([1, 2, 3]);
    expect(region.changeCount).toBe(3);
  });

  it('notify() returns the new count', () => {
    const region = openTracked(uniqueName('chg'));
    expect(region.notify()).toBe(1);
    expect(region.notify()).toBe(2);
    expect(region.changeCount).toBe(2);
  });

  it('waitForChange({ since }) resolves with the new count after a notify() in another process', async () => {
    const name = uniqueName('chg');
    const region = openTracked(name);
    const changed = region.waitForChange({ since: 0 });
    await notifyElsewhere(name);
    expect(await changed).toBe(1);
  });

  it('a change made between reading the count and waiting is not lost: the wait resolves at once', async () => {
    const name = uniqueName('chg');
    const region = openTracked(name);
    const seen = region.changeCount;
    await notifyElsewhere(name);
    expect(await region.waitForChange({ since: seen })).toBe(seen + 1);
  });

  it('without since, waitForChange() waits for the next change, not one made before', async () => {
    const name = uniqueName('chg');
    const region = openTracked(name);
    region.notify();
    const next = region.waitForChange();
    await notifyElsewhere(name);
    expect(await next).toBe(2);
  });

  it('at the timeout waitForChange() resolves with the unchanged count', async () => {
    const region = openTracked(uniqueName('chg'));
    region.notify();
    expect(await region.waitForChange({ since: 1, timeout: 20 })).toBe(1);
    expect(region.waitForChangeSync({ since: 1, timeout: 20 })).toBe(1);
  });

  it('an abort rejects waitForChange() with an AbortError and leaves no waiter counted', async () => {
    const name = uniqueName('chg');
    const region = openTracked(name);
    const abort = new AbortController();
    const pending = region.waitForChange({ since: 0, signal: abort.signal });
    expect(wordOf(changesPath(name), WAITERS_WORD)).toBe(1);
    abort.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(wordOf(changesPath(name), WAITERS_WORD)).toBe(0);
  });

  it('a signal aborted before the call rejects at once and counts no waiter', async () => {
    const name = uniqueName('chg');
    const region = openTracked(name);
    region.notify();
    await expect(region.waitForChange({ since: 1, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(wordOf(changesPath(name), WAITERS_WORD)).toBe(0);
  });

  it('one notify() wakes the waiters of three processes', async () => {
    const name = uniqueName('chg');
    const region = openTracked(name);
    const waiters = [0, 1, 2].map(() => startActor('wait', name, '0'));
    for (const w of waiters) expect(await w.next()).toEqual({ ready: true, count: 0 });
    expect(region.notify()).toBe(1);
    for (const w of waiters) expect(await w.next()).toEqual({ changed: 1 });
    for (const w of waiters) expect(await w.exit).toBe(0);
  });

  it('waitForChangeSync() in a worker thread returns the new count after a notify() in another process', async () => {
    const name = uniqueName('chg');
    // This process holds the companion: without a holder, a notifier that ends before the worker
    // opens it takes its count with it, and the worker would wait for ever (README, the counter).
    expect(openTracked(name).changeCount).toBe(0);
    const worker = new Worker(CHANGE_ACTOR, { workerData: { action: 'wait-sync', name, since: 0 } });
    const result = new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await notifyElsewhere(name);
    expect(await result).toEqual({ changed: 1 });
    expect(await exited).toBe(0);
  });

  it('a read-only region waits for changes but refuses notify() with ERR_SHM_READ_ONLY', async () => {
    const name = uniqueName('chg');
    openTracked(name);
    const reader = track(SharedMemory.openExisting(name, { access: 'readonly' }));
    expect(errorOf(() => reader.notify()).code).toBe('ERR_SHM_READ_ONLY');
    expect(reader.changeCount).toBe(0);
    const changed = reader.waitForChange({ since: 0 });
    await notifyElsewhere(name);
    expect(await changed).toBe(1);
  });

  it("notify() leaves the region's own bytes exactly as they were", () => {
    const region = openTracked(uniqueName('chg'));
    region.writeString('This is a test string');
    const before = region.read();
    for (let i = 0; i < 100; i++) region.notify();
    expect(region.changeCount).toBe(100);
    expect(Buffer.from(region.read()).equals(Buffer.from(before))).toBe(true);
    expect(region.size).toBe(4096);
  });

  it('a region nobody notified or waited on has no #changes object', () => {
    const name = uniqueName('chg');
    const region = openTracked(name);
    region.writeString('no notification here');
    expect(region.readString()).toBe('no notification here');
    expect(exists(shmPath(name))).toBe(true);
    expect(exists(changesPath(name))).toBe(false);
  });

  it('the #changes object goes when its last holder closes, and not before', async () => {
    const name = uniqueName('chg');
    const region = SharedMemory.open(name);
    region.notify();
    const waiter = startActor('wait', name, '1');
    expect(await waiter.next()).toEqual({ ready: true, count: 1 });
    region.close(); // the waiting process still holds region and counter
    expect(exists(changesPath(name))).toBe(true);
    const again = SharedMemory.openExisting(name);
    expect(again.changeCount).toBe(1);
    expect(again.notify()).toBe(2);
    expect(await waiter.next()).toEqual({ changed: 2 });
    expect(await waiter.exit).toBe(0);
    expect(exists(changesPath(name))).toBe(true);
    again.close();
    expect(exists(changesPath(name))).toBe(false);
    expect(exists(shmPath(name))).toBe(false);
  });

  it('a region dropped without close() keeps its #changes object while a wait is pending, and lets it go once garbage', async () => {
    const name = uniqueName('chg');
    const dropper = startActorWith(['--expose-gc'], 'drop', name);
    expect(await dropper.next()).toEqual({ waiting: true });
    expect(exists(changesPath(name))).toBe(true);
    expect(await notifyElsewhere(name)).toEqual([2]);
    expect(await dropper.next()).toEqual({ changed: 2 });
    expect(await dropper.next()).toEqual({ gone: true });
    expect(exists(shmPath(name))).toBe(false);
    expect(exists(changesPath(name))).toBe(false);
    dropper.child.stdin!.end();
    expect(await dropper.exit).toBe(0);
  });

  it('a worker thread that ends without close() lets go of the #changes object with its region', async () => {
    const name = uniqueName('chg');
    const worker = new Worker(CHANGE_ACTOR, { workerData: { action: 'notify-and-end', name } });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    expect(await new Promise((resolve) => worker.once('message', resolve))).toEqual({ counts: [1] });
    expect(await exited).toBe(0);
    expect(exists(shmPath(name))).toBe(false);
    expect(exists(changesPath(name))).toBe(false);
  });

  it('close() rejects a pending waitForChange() with ERR_SHM_CLOSED, and later calls say the same', async () => {
    const name = uniqueName('chg');
    const region = SharedMemory.open(name);
    const pending = region.waitForChange({ since: 0 });
    region.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_SHM_CLOSED' });
    await expect(region.waitForChange()).rejects.toMatchObject({ code: 'ERR_SHM_CLOSED' });
    expect(errorOf(() => region.changeCount).code).toBe('ERR_SHM_CLOSED');
    expect(errorOf(() => region.notify()).code).toBe('ERR_SHM_CLOSED');
    expect(errorOf(() => region.waitForChangeSync()).code).toBe('ERR_SHM_CLOSED');
    expect(exists(changesPath(name))).toBe(false);
  });

  it('a since that is not a count is refused, and the refusal creates nothing', async () => {
    const name = uniqueName('chg');
    const region = openTracked(name);
    for (const since of [-1, 2 ** 32, 1.5, NaN]) {
      await expect(region.waitForChange({ since })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      expect(errorOf(() => region.waitForChangeSync({ since })).code).toBe('ERR_OUT_OF_RANGE');
    }
    for (const since of ['3', null, 3n]) {
      await expect(region.waitForChange({ since: since as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      expect(errorOf(() => region.waitForChangeSync({ since: since as never })).code).toBe('ERR_INVALID_ARG_TYPE');
    }
    expect(exists(changesPath(name))).toBe(false);
  });

  it('bad timeouts, signals and unknown option keys are refused as Node refuses them', async () => {
    const region = openTracked(uniqueName('chg'));
    await expect(region.waitForChange({ timeout: -1 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(region.waitForChange({ timeout: '5' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(region.waitForChange({ signal: {} as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(region.waitForChange({ sinse: 0 } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(errorOf(() => region.waitForChangeSync({ signal: AbortSignal.abort() } as never)).code).toBe('ERR_INVALID_ARG_VALUE');
    await expect(region.waitForChange('0' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('the count wraps from 4294967295 to 0, and a waiter since 4294967295 is woken with 0', async () => {
    const name = uniqueName('chg');
    const region = openTracked(name);
    expect(region.changeCount).toBe(0);
    setWord(changesPath(name), COUNT_WORD, 0xffffffff);
    expect(region.changeCount).toBe(4294967295);
    const waiter = startActor('wait', name, '4294967295');
    expect(await waiter.next()).toEqual({ ready: true, count: 4294967295 });
    expect(region.notify()).toBe(0);
    expect(await waiter.next()).toEqual({ changed: 0 });
    expect(region.changeCount).toBe(0);
  });
});
