// The model and commands of the mutex fuzz (mutex-fuzz.test.ts). One mutex name per run; five
// actors (three processes' main threads, two worker threads), each with at most one handle. The
// model knows who holds the lock, whether the next acquirer must be told `abandoned` (its holder
// died holding: SIGKILL of its process, or terminate() of its worker), and at most one lock()
// left pending, which a release must hand the lock to. An object whose handles are all gone is
// gone: the next open creates it afresh (a killed holder's leftover is reclaimed), unabandoned.
import fc from 'fast-check';
import { expect } from 'vitest';
import { ACTORS, PROCESSES, where, type Answer, type MutexWorld } from './mutex-fuzz-world.js';

/** How long a lock that must time out waits (ms). Nothing here asserts on time. */
const SHORT = 30;
/** How long a hand-off to the pending lock may take before it counts as lost. */
const HANDOFF_MS = 5000;

export class Model {
  readonly open: boolean[] = Array(ACTORS).fill(false);
  holder: number | null = null;
  abandonNext = false;
  pending: number | null = null;
  readonly log: string[];
  constructor(
    readonly name: string,
    log: string[],
  ) {
    this.log = log;
  }

  get live(): number {
    return this.open.filter(Boolean).length;
  }

  /** Actors of a process: its main thread, and its worker if it has one. */
  static threadsOf(proc: number): number[] {
    return proc + PROCESSES < ACTORS ? [proc, proc + PROCESSES] : [proc];
  }
}

export type Cmd = fc.AsyncCommand<Model, MutexWorld>;

/** Gives the lock on after its holder let go (`died`: as abandoned): to the pending lock if any. */
async function released(m: Model, w: MutexWorld, died: boolean): Promise<void> {
  m.holder = null;
  m.abandonNext = died;
  if (m.live === 0) m.abandonNext = false; // the object is gone with its last handle
  if (m.pending === null) return;
  const waiter = m.pending;
  let answer: Answer = { ok: false };
  for (const until = Date.now() + HANDOFF_MS; Date.now() < until; ) {
    answer = await w.send(waiter, { op: 'pending' });
    if (answer.outcome !== 'pending') break;
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(answer.outcome, `the pending lock() of a${waiter} after the release (${died ? 'died' : 'unlocked'})`).toEqual({ abandoned: died });
  await w.send(waiter, { op: 'forget' });
  m.pending = null;
  m.holder = waiter;
  m.abandonNext = false;
}

/** The actor's handle and its lock go (closed, killed or terminated). */
async function gone(m: Model, w: MutexWorld, actors: number[], died: boolean): Promise<void> {
  const held = m.holder !== null && actors.includes(m.holder);
  for (const a of actors) m.open[a] = false;
  if (m.pending !== null && actors.includes(m.pending)) m.pending = null;
  if (held) await released(m, w, died);
  else if (m.live === 0) {
    m.holder = null;
    m.abandonNext = false;
  }
}

class Open implements Cmd {
  constructor(
    readonly actor: number,
    readonly intent: 'open' | 'create' | 'openExisting',
  ) {}
  check = (m: Readonly<Model>) => !m.open[this.actor];
  async run(m: Model, w: MutexWorld) {
    const answer = await w.send(this.actor, { op: 'open', intent: this.intent, name: m.name });
    const exists = m.live > 0;
    if (this.intent === 'create' && exists) return void expect(answer, this.toString()).toMatchObject({ ok: false, code: 'EEXIST' });
    if (this.intent === 'openExisting' && !exists) return void expect(answer, this.toString()).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(answer, this.toString()).toEqual({ id: answer.id, ok: true, created: !exists });
    if (!exists) {
      m.holder = null;
      m.abandonNext = false;
    }
    m.open[this.actor] = true;
  }
  toString = () => `a${this.actor}.${this.intent}`;
}

class Close implements Cmd {
  constructor(readonly actor: number) {}
  check = (m: Readonly<Model>) => m.open[this.actor]!;
  async run(m: Model, w: MutexWorld) {
    const wasPending = m.pending === this.actor;
    const answer = await w.send(this.actor, { op: 'close' });
    expect(answer.ok, this.toString()).toBe(true);
    if (wasPending) expect(answer.pending, `${this.toString()}: its pending lock()`).toEqual({ rejected: 'ERR_SHM_CLOSED' });
    await gone(m, w, [this.actor], false);
  }
  toString = () => `a${this.actor}.close`;
}

type LockOp = 'tryLock' | 'lock' | 'lockSync' | 'withLock';
class Lock implements Cmd {
  constructor(
    readonly actor: number,
    readonly op: LockOp,
  ) {}
  check = (m: Readonly<Model>) => m.open[this.actor]! && m.pending !== this.actor;
  async run(m: Model, w: MutexWorld) {
    const answer = await w.send(this.actor, { op: this.op, timeout: SHORT });
    const label = `${this.toString()} (holder ${m.holder === null ? 'none' : `a${m.holder}`})`;
    if (m.holder === this.actor) return void expect(answer, label).toMatchObject({ ok: false, code: 'EDEADLK' });
    if (m.holder !== null) {
      if (this.op === 'tryLock') return void expect(answer, label).toMatchObject({ ok: true, locked: false });
      return void expect(answer, label).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
    }
    expect(answer, label).toMatchObject({ ok: true, locked: true, abandoned: m.abandonNext });
    m.abandonNext = false;
    if (this.op !== 'withLock') m.holder = this.actor;
  }
  toString = () => `a${this.actor}.${this.op}`;
}

class Unlock implements Cmd {
  constructor(readonly actor: number) {}
  check = (m: Readonly<Model>) => m.holder === this.actor;
  async run(m: Model, w: MutexWorld) {
    expect(await w.send(this.actor, { op: 'unlock' }), this.toString()).toMatchObject({ ok: true });
    await released(m, w, false);
  }
  toString = () => `a${this.actor}.unlock`;
}

class StartLock implements Cmd {
  constructor(readonly actor: number) {}
  check = (m: Readonly<Model>) => m.open[this.actor]! && m.holder !== null && m.holder !== this.actor && m.pending === null;
  async run(m: Model, w: MutexWorld) {
    expect(await w.send(this.actor, { op: 'startLock' }), this.toString()).toMatchObject({ ok: true, outcome: 'pending' });
    m.pending = this.actor;
  }
  toString = () => `a${this.actor}.startLock`;
}

class Kill implements Cmd {
  constructor(readonly proc: number) {}
  check = () => true;
  async run(m: Model, w: MutexWorld) {
    await w.kill(this.proc);
    await gone(m, w, Model.threadsOf(this.proc), true);
  }
  toString = () => `p${this.proc}.SIGKILL`;
}

class Terminate implements Cmd {
  constructor(readonly proc: number) {}
  check = () => true;
  async run(m: Model, w: MutexWorld) {
    expect(await w.terminate(this.proc), this.toString()).toMatchObject({ ok: true });
    await gone(m, w, [this.proc + PROCESSES], true);
  }
  toString = () => `p${this.proc}.worker.terminate`;
}

export function commandArbitraries(log: string[]): fc.Arbitrary<Cmd>[] {
  const actor = fc.integer({ min: 0, max: ACTORS - 1 });
  const logged = (arb: fc.Arbitrary<Cmd>) =>
    arb.map((c) => {
      const run = c.run.bind(c);
      c.run = async (m, w) => {
        log.push(c.toString());
        if (process.env.NAMED_SHM_FUZZ_TRACE) process.stderr.write(`[mutex-fuzz] ${c.toString()}\n`);
        await run(m, w);
      };
      return c;
    });
  // Kills and terminations cost a new process or worker (some 100 ms): drawn less often.
  // Kills and terminations cost a new worker or a spare process: one draw in twelve.
  const rare = [fc.oneof(fc.integer({ min: 0, max: PROCESSES - 1 }).map((p): Cmd => new Kill(p)), fc.integer({ min: 0, max: ACTORS - PROCESSES - 1 }).map((p): Cmd => new Terminate(p)))].map(logged);
  return [
    fc.tuple(actor, fc.constantFrom('open', 'open', 'create', 'openExisting') as fc.Arbitrary<'open' | 'create' | 'openExisting'>).map(([a, i]) => new Open(a, i)),
    actor.map((a) => new Close(a)),
    fc.tuple(actor, fc.constantFrom('tryLock', 'lock', 'lockSync', 'withLock') as fc.Arbitrary<LockOp>).map(([a, op]) => new Lock(a, op)),
    fc.tuple(actor, fc.constantFrom('tryLock', 'lock', 'lockSync', 'withLock') as fc.Arbitrary<LockOp>).map(([a, op]) => new Lock(a, op)),
    actor.map((a) => new Unlock(a)),
    actor.map((a) => new StartLock(a)),
    fc.tuple(actor, fc.constantFrom('open', 'open', 'create', 'openExisting') as fc.Arbitrary<'open' | 'create' | 'openExisting'>).map(([a, i]) => new Open(a, i)),
    fc.tuple(actor, fc.constantFrom('tryLock', 'lock', 'lockSync', 'withLock') as fc.Arbitrary<LockOp>).map(([a, op]) => new Lock(a, op)),
    actor.map((a) => new Unlock(a)),
  ]
    .map(logged)
    .concat(rare);
}

/** The end of a run: every actor closes its handle; the name is then gone. */
export async function finish(m: Model, w: MutexWorld): Promise<void> {
  for (let a = 0; a < ACTORS; a++) {
    if (!m.open[a]) continue;
    const answer = await w.send(a, { op: 'close' });
    expect(answer.ok, `finish: a${a} closes`).toBe(true);
    await gone(m, w, [a], false);
  }
  void where;
}
