// Finding of the event fuzz (event-fuzz.test.ts; shrunk counterexample, seed 931319371; more
// shapes of it below, found by NAMED_SHM_EVENT_FUZZ_STRICT=1):
//   p0: NamedEvent.open(e0); p0: e0.wait() left pending (w1); p0: e0.set(); p0: e0.wait() (w3)
//   -> w3 resolved true at once, and w1 stays pending: the signal set() gave w1 went to w3.
// Win32 (and this package on Windows, where the event is the native one) releases a waiter
// *inside* SetEvent: an auto-reset event with a waiter is never left signalled, so a reset(), a
// poll or a new wait after set() returned cannot take the signal back; a manual-reset event's
// set() releases every waiter then, even if reset() follows at once. On Linux set() only stores
// the state and wakes the watcher threads (lib/os/linux/event.ts); the waiter takes the signal
// when its own JavaScript thread next runs, so whoever looks first wins: a wait() begun after
// set() (here, in the same process), waitSync(0) anywhere, or reset() (the waiter then sleeps on).
// Each case below is the race made certain: the second step runs in the same synchronous turn as
// set(), before any watcher's message can be handled. Expected (Win32): the pending wait resolves
// true; the later look finds the event not signalled.
// Fixed (lib/os/linux/event.ts): a thread serves its pending waits first, an auto-reset event
// counts the releases not yet taken (so neither a reset() nor a second set() loses one), and a
// manual-reset waiter is released by any set() after its start. What remains, and the README
// says: between processes, a newcomer's poll can take a release before an older waiter runs;
// the test of that case checks what does hold (one set(), one release, none lost).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NamedEvent } from '../../lib/index.js';
import { isLinux, uniqueName } from '../helpers.js';
import { World } from './event-fuzz-world.js';

const eventually = async (get: () => Promise<unknown>, want: unknown, ms = 2000): Promise<unknown> => {
  const deadline = Date.now() + ms;
  let got = await get();
  while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    got = await get();
  }
  return got;
};

describe.runIf(isLinux)('set() releases a pending waiter at once, as Win32 does', () => {
  it('one process: a wait() begun right after set() does not take the pending wait\'s signal', async () => {
    const ev = NamedEvent.open(uniqueName('evf-steal'));
    try {
      let first: unknown = 'pending';
      void ev.wait().then((v) => (first = v));
      await new Promise((r) => setImmediate(r)); // the first wait is pending in the watcher
      ev.set();
      const second = ev.wait({ timeout: 300 });
      expect({ second: await second, first }).toEqual({ second: false, first: true });
    } finally {
      ev.close();
    }
  });

  // Shrunk by the strict fuzz (NAMED_SHM_EVENT_FUZZ_STRICT=1, seed 779976784) once the case above
  // passed: p0: open(e0) twice (a, b); a.wait() left pending; b.set(); b.wait() -> resolved true.
  it('one process, two handles: a wait() on the other handle right after set() does not take the signal', async () => {
    const name = uniqueName('evf-steal2');
    const a = NamedEvent.open(name);
    const b = NamedEvent.open(name);
    try {
      let first: unknown = 'pending';
      void a.wait().then((v) => (first = v));
      await new Promise((r) => setImmediate(r));
      b.set();
      const second = b.wait({ timeout: 300 });
      expect({ second: await second, first }).toEqual({ second: false, first: true });
    } finally {
      a.close();
      b.close();
    }
  });

  let world: World | undefined;
  beforeAll(async () => {
    world = await World.start(1);
  }, 60_000);
  afterAll(async () => {
    if (world) expect(await world.shutdown()).toEqual([]);
  });

  /** Another process waits on the event; this one sets it and, in the same turn, does `then`. */
  async function across(manualReset: boolean, then: (ev: NamedEvent) => unknown): Promise<unknown> {
    const w = world!;
    const name = uniqueName('evf-across');
    const ev = NamedEvent.open(name, { manualReset });
    try {
      expect(await w.send(0, { op: 'evOpen', intent: 'openExisting', hid: name, name })).toMatchObject({ ok: true });
      expect(await w.send(0, { op: 'startWait', hid: name, wid: name })).toEqual({ ok: true });
      await new Promise((r) => setTimeout(r, 50)); // its watcher thread sleeps on the word
      ev.set();
      const after = then(ev);
      const outcome = await eventually(async () => ((await w.send(0, { op: 'outcomes', wids: [name] })) as { outcomes: Record<string, unknown> }).outcomes[name], true);
      return { after, waiterInTheOtherProcess: outcome };
    } finally {
      await w.send(0, { op: 'closeAll' });
      ev.close();
    }
  }

  // Win32 would release the waiter inside SetEvent, so the poll would find nothing. Between
  // processes the release goes to whoever takes it first (README, "Differences from Windows"):
  // what holds is that one set() releases exactly one of them, and the other is not lost.
  it('auto-reset, across processes: one set() releases exactly one of a pending waiter and a waitSync(0) right after it', async () => {
    const w = world!;
    const name = uniqueName('evf-poll');
    const ev = NamedEvent.open(name);
    try {
      expect(await w.send(0, { op: 'evOpen', intent: 'openExisting', hid: name, name })).toMatchObject({ ok: true });
      expect(await w.send(0, { op: 'startWait', hid: name, wid: name })).toEqual({ ok: true });
      await new Promise((r) => setTimeout(r, 50));
      ev.set();
      const polled = ev.waitSync(0);
      const outcome = async () => ((await w.send(0, { op: 'outcomes', wids: [name] })) as { outcomes: Record<string, unknown> }).outcomes[name];
      if (polled) {
        await new Promise((r) => setTimeout(r, 200));
        expect(await outcome()).not.toBe(true); // not released twice by one set()
        ev.set();
      }
      expect(await eventually(outcome, true)).toBe(true);
      expect(ev.waitSync(0)).toBe(false);
    } finally {
      await w.send(0, { op: 'closeAll' });
      ev.close();
    }
  });

  it('auto-reset, across processes: reset() right after set() does not take the release back', async () => {
    expect(await across(false, (ev) => ev.reset())).toEqual({ after: undefined, waiterInTheOtherProcess: true });
  });

  // Shrunk by the strict fuzz (seed 607939491): p0: open(e0); p1: open(e0); p0: wait() left
  // pending (w2); p1: set(); p0: set(); p0: wait() (w4) -> w4 stays pending. Two set()s, two
  // waits, one release: the second set() found the first one's signal not yet taken and added none.
  it('auto-reset, across processes: two set()s release two waits (the one pending, then a new one)', async () => {
    let fresh: Promise<boolean> | undefined;
    const r = await across(false, (ev) => {
      ev.set(); // a second set(): the first released the other process's wait
      fresh = ev.wait({ timeout: 300 });
    });
    expect({ ...(r as object), fresh: await fresh }).toEqual({ after: undefined, waiterInTheOtherProcess: true, fresh: true });
  });

  it('manual-reset, across processes: reset() right after set() does not take the release back', async () => {
    expect(await across(true, (ev) => ev.reset())).toEqual({ after: undefined, waiterInTheOtherProcess: true });
  });
});
