// NamedEvent against its own users misbehaving: words of the object overwritten by a writer,
// racing creators, names too long, and AbortSignals reused by many waits.
import fs from 'node:fs';
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { NamedEvent, SharedMemory } from '../lib/index.js';
import { EventActor, actorWith, trackEvent } from './events-actor.js';
import { errorOf, isLinux, shmPath, uniqueName } from './helpers.js';

const open = (name: string, options?: Parameters<typeof NamedEvent.open>[1]) => trackEvent(NamedEvent.open(name, options));

/** Overwrites one u32 word of the event object, as any process that may write it can. */
function poke(name: string, word: number, value: number): void {
  const fd = fs.openSync(shmPath(name), 'r+');
  try {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    fs.writeSync(fd, b, 0, 4, word * 4);
  } finally {
    fs.closeSync(fd);
  }
}
const WAITERS = 5;

describe.runIf(isLinux)('words overwritten by another writer', () => {
  for (const op of ['waitSync', 'wait'] as const) {
    it(`a waiter count zeroed under a ${op}() waiter (set() then skips its wake call) loses no wake-up`, async () => {
      const name = uniqueName('ev');
      const ev = open(name);
      const a = await actorWith(name);
      const w = await a.startWait(op);
      poke(name, WAITERS, 0);
      ev.set();
      expect((await w.result).result).toBe(true);
    });
  }

  it('a waiter count left huge (dead waiters) costs nothing but a wake call: set and wait still pair up', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    poke(name, WAITERS, 0xffffffff);
    ev.set();
    expect(ev.waitSync(0)).toBe(true);
    const a = await actorWith(name);
    const w = await a.startWait('wait');
    ev.set();
    expect((await w.result).result).toBe(true);
  });

  // Since 7bee328 word [4] of an auto-reset event counts releases, bounded by waiters + 1 when
  // set() adds one; a reader trusts whatever count it finds, so a stray write makes it a semaphore.
  it.fails('a state word of any non-zero value counts as signalled, once, for an auto-reset event', () => {
    const name = uniqueName('ev');
    const ev = open(name);
    poke(name, 4, 0xdeadbeef);
    expect([ev.waitSync(0), ev.waitSync(0)]).toEqual([true, false]);
  });
});

describe.runIf(isLinux)('racing creators', () => {
  it('of five processes racing create() on one name, exactly one creates it and the others get EEXIST', async () => {
    const name = uniqueName('ev');
    const actors = Array.from({ length: 5 }, () => new EventActor());
    await Promise.all(actors.map((a) => a.request({ op: 'ping' }))); // all loaded and waiting for input
    const results = await Promise.all(actors.map((a) => a.request({ op: 'open', how: 'create', name })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => r.code)).toEqual(['EEXIST', 'EEXIST', 'EEXIST', 'EEXIST']);
  });

  it('of five processes racing open() on a new name, exactly one has created === true, and all share one event', async () => {
    const name = uniqueName('ev');
    const actors = Array.from({ length: 5 }, () => new EventActor());
    await Promise.all(actors.map((a) => a.request({ op: 'ping' })));
    const results = await Promise.all(actors.map((a) => a.request({ op: 'open', name, options: { manualReset: true } })));
    expect(results.filter((r) => r.created === true)).toHaveLength(1);
    await actors[0]!.request({ op: 'set' });
    const seen = await Promise.all(actors.map((a) => a.request({ op: 'waitSync', timeout: 0 })));
    expect(seen.map((l) => l.result)).toEqual([true, true, true, true, true]);
  });
});

describe.runIf(isLinux)('names at the limit', () => {
  it('a name of 255 bytes works and one of 256 bytes gives ENAMETOOLONG', () => {
    const base = uniqueName('ev');
    const ok = open(base + 'x'.repeat(255 - base.length));
    ok.set();
    expect(ok.waitSync(0)).toBe(true);
    expect(errorOf(() => NamedEvent.open(base + 'x'.repeat(256 - base.length)))).toMatchObject({ code: 'ENAMETOOLONG' });
  });
});

describe.runIf(isLinux)('one AbortSignal for many waits', () => {
  it('1,000 settled waits leave no abort listener on a long-lived signal', async () => {
    const ev = open(uniqueName('ev'));
    const { signal } = new AbortController();
    await Promise.all(Array.from({ length: 500 }, () => ev.wait({ signal, timeout: 1 })));
    for (let i = 0; i < 500; i++) {
      const p = ev.wait({ signal });
      ev.set();
      expect(await p).toBe(true);
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('one abort rejects every wait that shares the signal, and no later set() is lost to them', async () => {
    const ev = open(uniqueName('ev'));
    const controller = new AbortController();
    const waits = Array.from({ length: 100 }, () => ev.wait({ signal: controller.signal }));
    controller.abort();
    const outcomes = await Promise.allSettled(waits);
    expect(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).name === 'AbortError')).toBe(true);
    ev.set();
    expect(ev.waitSync(0)).toBe(true);
  });

  it('an abort after the wait resolved changes nothing', async () => {
    const ev = open(uniqueName('ev'));
    const controller = new AbortController();
    ev.set();
    expect(await ev.wait({ signal: controller.signal })).toBe(true);
    controller.abort();
    ev.set();
    expect(ev.waitSync(0)).toBe(true);
  });
});

describe.runIf(isLinux)('a name removed and made again', () => {
  it('a wait on the new event is not held behind a wait pending on the old one in this thread', async () => {
    const name = uniqueName('ev');
    const old = open(name);
    const oldWait = old.wait();
    oldWait.catch(() => {}); // awaited below; closed after the test if that is not reached
    SharedMemory.unlink(name); // as `rm /dev/shm/<name>` would: holders keep the old object
    const fresh = open(name);
    expect(fresh.created).toBe(true);
    const other = await actorWith(name);
    const freshWait = fresh.wait();
    freshWait.catch(() => {});
    fresh.set(); // hands the signal to the wait pending here, as SetEvent does
    expect((await other.request({ op: 'waitSync', timeout: 0 })).result).toBe(false);
    expect(await freshWait).toBe(true);
    old.set();
    expect(await oldWait).toBe(true);
  });
});

describe.runIf(isLinux)('a manual-reset event signalled by its state word alone', () => {
  // A setter killed between its two stores (state, then the count of sets), or a program that
  // predates word [6]: the state says signalled, and every wait must see it.
  for (const op of ['waitSync', 'wait'] as const) {
    it(`a ${op}() already pending in another process is released without a further set()`, async () => {
      const name = uniqueName('ev');
      open(name, { manualReset: true });
      const a = await actorWith(name);
      const w = await a.startWait(op, 4000);
      poke(name, 4, 1);
      expect((await a.request({ op: 'wait', timeout: 0 })).result).toBe(true); // a new wait sees it at once
      expect((await w.result).result).toBe(true);
    });
  }
});

describe.runIf(isLinux)('waits of several handles of one name in one thread', () => {
  it('the oldest wait closed or aborted leaves its place: the next set() goes to the next wait', async () => {
    const name = uniqueName('ev');
    const first = NamedEvent.open(name);
    const second = open(name);
    const third = open(name);
    const controller = new AbortController();
    const closedWait = first.wait();
    const abortedWait = second.wait({ signal: controller.signal });
    const liveWait = third.wait();
    first.close();
    controller.abort();
    await expect(closedWait).rejects.toMatchObject({ code: 'ERR_SHM_CLOSED' });
    await expect(abortedWait).rejects.toMatchObject({ name: 'AbortError' });
    second.set();
    expect(await liveWait).toBe(true);
    expect(second.waitSync(0)).toBe(false);
  });

  it('a set() on one handle goes to the wait pending on another handle before a new poll takes it', async () => {
    const name = uniqueName('ev');
    const a = open(name);
    const b = open(name);
    const pending = a.wait();
    b.set();
    expect(b.waitSync(0)).toBe(false);
    expect(await pending).toBe(true);
  });
});

describe.runIf(isLinux)('waiters that keep dying', () => {
  // Since 7bee328 set() adds a release unless the count holds waiters + 1, and a waiter killed
  // while waiting stays counted in waiters forever: after k such deaths an auto-reset event with
  // nobody waiting keeps up to k + 1 signals (a consumer restarted after each crash turns the
  // event into a semaphore for as long as the object lives).
  it.fails('after three waiters were SIGKILLed while waiting, four set()s with nobody waiting leave one signal', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    for (let i = 0; i < 3; i++) {
      const doomed = await actorWith(name);
      await doomed.startWait(i % 2 ? 'wait' : 'waitSync');
      doomed.kill();
      await doomed.exit;
    }
    for (let i = 0; i < 4; i++) ev.set();
    const a = await actorWith(name);
    const taken = [];
    for (let i = 0; i < 4; i++) taken.push((await a.request({ op: 'waitSync', timeout: 0 })).result);
    expect(taken).toEqual([true, false, false, false]);
  });
});
