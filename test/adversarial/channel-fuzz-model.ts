// The model and commands of the Channel fuzz (channel-fuzz.test.ts). One channel name per run, of
// 256 bytes, so that full rings and wrap-around are common; four actors (three processes' main
// threads, a worker thread of process 0), each with at most one handle.
//
// Every message is made here: [0xC0 | actor][seq u32][filler][FNV-1a of what precedes, u32], 9 to
// 128 bytes, with a per-actor sequence number that goes on across the actor's restarts. The model
// keeps each one's bytes and fate:
//   must     sent (trySend true, sendSync/send returned): arrives whole, once, in its sender's order
//   never    trySend false, or a send that timed out: must never arrive
//   maybe    a burst message of a process killed mid-burst: may not have been sent, but when a
//            later message of the same burst arrives, it was (and must have arrived before it)
// While nothing is uncertain (`exact`), the model knows the ring's content in order: trySend must
// return false exactly when the frame does not fit, a timed-out send must find it full, and a
// receive must give exactly the oldest message (or none when the model says it is empty). A kill
// mid-burst or mid-receive makes the ring uncertain until a receive finds it empty. A receiver
// killed mid-receive may lose the one message it was taking: `lossBudget` counts those.
// When a receive finds the ring empty, every `must` message not received (beyond the budget) is a
// loss: the drain check. A channel created afresh (all its handles were gone) lost what it held.
import fc from 'fast-check';
import { expect } from 'vitest';
import { ACTORS, PROCESSES, type Answer, type ChannelWorld } from './channel-fuzz-world.js';

export const CAPACITY = 256;
/** How long a send or receive that must time out waits (ms). Nothing here asserts on time. */
const SHORT = 15;
const MIN_SIZE = 9;
const MAX_SIZE = CAPACITY / 2;

const frameBytes = (length: number) => 8 + ((length + 7) & ~7);

function fnv1a(b: Uint8Array, end: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return h;
}

export function makeMessage(actor: number, seq: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  b[0] = 0xc0 | actor;
  v.setUint32(1, seq, true);
  for (let i = 5; i < size - 4; i++) b[i] = (seq * 13 + i * 7 + actor * 101) & 255;
  v.setUint32(size - 4, fnv1a(b, size - 4), true);
  return b;
}

type Fate = 'must' | 'never' | 'maybe';
interface Sent {
  actor: number;
  seq: number;
  bytes: Uint8Array;
  fate: Fate;
  burst?: number;
  received: boolean;
}

export class Model {
  readonly open: boolean[] = Array(ACTORS).fill(false);
  receiver: number | null = null;
  readonly nextSeq: number[] = Array(ACTORS).fill(0);
  /** The highest sequence number of each sender received, or given up on. */
  readonly lastSeen: number[] = Array(ACTORS).fill(-1);
  readonly sent: Sent[][] = Array.from({ length: ACTORS }, () => []);
  /** The ring's messages, oldest first, while `exact`. */
  queue: Sent[] = [];
  exact = true;
  lossBudget = 0;
  bursts = 0;
  received = 0;
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

  get used(): number {
    return this.queue.reduce((n, s) => n + frameBytes(s.bytes.length), 0);
  }

  fits(size: number): boolean {
    return frameBytes(size) <= CAPACITY - this.used;
  }

  static threadsOf(proc: number): number[] {
    return proc + PROCESSES < ACTORS ? [proc, proc + PROCESSES] : [proc];
  }

  record(actor: number, size: number, fate: Fate, burst?: number): Sent {
    const s: Sent = { actor, seq: this.nextSeq[actor]!++, bytes: makeMessage(actor, this.nextSeq[actor]! - 1, size), fate, received: false, ...(burst === undefined ? {} : { burst }) };
    this.sent[actor]!.push(s);
    return s;
  }

  #loss(s: Sent, why: string): void {
    this.lossBudget--;
    expect(this.lossBudget, `a${s.actor}#${s.seq} (${s.fate}) was lost ${why}, beyond what killed receivers may lose`).toBeGreaterThanOrEqual(0);
  }

  /** A message a receiver took (base64): whole, known, once, in its sender's order. */
  receivedMessage(b64: unknown, label: string): void {
    expect(typeof b64, `${label}: a message`).toBe('string');
    const b = new Uint8Array(Buffer.from(b64 as string, 'base64'));
    const where = `${label}: ${b.length} bytes ${Buffer.from(b.subarray(0, 16)).toString('hex')}…`;
    expect(b.length >= MIN_SIZE && (b[0]! & 0xf0) === 0xc0, `${where}: not a message of the fuzz (corrupt)`).toBe(true);
    const actor = b[0]! & 0x0f;
    const seq = new DataView(b.buffer).getUint32(1, true);
    expect(new DataView(b.buffer).getUint32(b.length - 4, true), `${where}: checksum`).toBe(fnv1a(b, b.length - 4));
    const s = this.sent[actor]?.[seq];
    expect(s, `${where}: a message that was never made (a${actor}#${seq})`).toBeDefined();
    expect(Buffer.from(b).equals(Buffer.from(s!.bytes)), `${where}: a${actor}#${seq} arrived changed`).toBe(true);
    expect(s!.received, `${where}: a${actor}#${seq} arrived twice`).toBe(false);
    expect(s!.fate, `${where}: a${actor}#${seq} was reported not sent`).not.toBe('never');
    expect(seq, `${where}: a${actor}#${seq} arrived after a${actor}#${this.lastSeen[actor]} (out of order, or given up on)`).toBeGreaterThan(this.lastSeen[actor]!);
    for (let q = this.lastSeen[actor]! + 1; q < seq; q++) {
      const skipped = this.sent[actor]![q]!;
      if (skipped.fate === 'never') continue;
      if (skipped.fate === 'maybe' && skipped.burst !== s!.burst) continue; // its burst ended before it
      this.#loss(skipped, `(a${actor}#${seq} arrived after it)`);
    }
    if (this.exact) {
      expect(this.queue[0], `${where}: the model expected the oldest message to be ${this.queue[0] ? `a${this.queue[0].actor}#${this.queue[0].seq}` : 'none'}`).toBe(s);
      this.queue.shift();
    }
    s!.received = true;
    this.lastSeen[actor] = seq;
    this.received++;
  }

  /** A receive found the ring empty: the drain check. Every message sent by now has come, or may be lost. */
  empty(label: string): void {
    if (this.exact) expect(this.queue.map((s) => `a${s.actor}#${s.seq}`), `${label}: the ring was empty, but the model holds`).toEqual([]);
    for (let a = 0; a < ACTORS; a++) {
      for (let q = this.lastSeen[a]! + 1; q < this.nextSeq[a]!; q++) {
        const s = this.sent[a]![q]!;
        if (s.fate === 'must') this.#loss(s, `(${label} found the ring empty without it)`);
      }
      this.lastSeen[a] = this.nextSeq[a]! - 1;
    }
    this.queue = [];
    this.exact = true;
    this.lossBudget = 0;
  }

  /** A channel created afresh: what the old one held is gone with it. */
  fresh(): void {
    for (let a = 0; a < ACTORS; a++) this.lastSeen[a] = this.nextSeq[a]! - 1;
    this.queue = [];
    this.exact = true;
    this.lossBudget = 0;
  }

  gone(actors: number[]): void {
    for (const a of actors) this.open[a] = false;
    if (this.receiver !== null && actors.includes(this.receiver)) this.receiver = null;
  }
}

export type Cmd = fc.AsyncCommand<Model, ChannelWorld>;

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

class Open implements Cmd {
  constructor(readonly actor: number) {}
  check = (m: Readonly<Model>) => !m.open[this.actor];
  async run(m: Model, w: ChannelWorld) {
    const answer = await w.send(this.actor, { op: 'open', name: m.name, capacity: CAPACITY });
    expect(answer, this.toString()).toMatchObject({ ok: true, capacity: CAPACITY });
    // With no live handle the channel is made afresh, unless a killed last holder left it.
    if (m.live > 0) expect(answer.created, `${this.toString()}: created while ${m.live} handles are open`).toBe(false);
    if (answer.created) m.fresh();
    m.open[this.actor] = true;
  }
  toString = () => `a${this.actor}.open`;
}

class Close implements Cmd {
  constructor(readonly actor: number) {}
  check = (m: Readonly<Model>) => m.open[this.actor]!;
  async run(m: Model, w: ChannelWorld) {
    expect(await w.send(this.actor, { op: 'close' }), this.toString()).toMatchObject({ ok: true });
    m.gone([this.actor]);
  }
  toString = () => `a${this.actor}.close`;
}

type SendOp = 'trySend' | 'sendSync' | 'send';
class Send implements Cmd {
  constructor(
    readonly actor: number,
    readonly op: SendOp,
    readonly size: number,
  ) {}
  check = (m: Readonly<Model>) => m.open[this.actor]!;
  async run(m: Model, w: ChannelWorld) {
    const fits = m.fits(this.size);
    const s = m.record(this.actor, this.size, 'never');
    const label = `${this.toString()} as a${this.actor}#${s.seq} (ring ${m.exact ? `${m.used}/${CAPACITY} used` : 'uncertain'})`;
    const answer = await w.send(this.actor, { op: this.op, message: b64(s.bytes), timeout: SHORT });
    let sent: boolean;
    if (this.op === 'trySend') {
      expect(answer, label).toMatchObject({ ok: true });
      sent = answer.sent as boolean;
    } else {
      if (!answer.ok) expect(answer, label).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
      sent = answer.ok;
    }
    // Nobody receives while this runs: it can only find the ring as the model says.
    if (m.exact) expect(sent, `${label}: sent`).toBe(fits);
    if (sent) {
      s.fate = 'must';
      if (m.exact) m.queue.push(s);
    }
  }
  toString = () => `a${this.actor}.${this.op}(${this.size})`;
}

type ReceiveOp = 'tryReceive' | 'receiveSync' | 'receive' | 'drain';
class Receive implements Cmd {
  constructor(
    readonly actor: number,
    readonly op: ReceiveOp,
  ) {}
  check = (m: Readonly<Model>) => m.open[this.actor]!;
  async run(m: Model, w: ChannelWorld) {
    const label = `${this.toString()} (receiver ${m.receiver === null ? 'none' : `a${m.receiver}`}; ring ${m.exact ? `${m.queue.length} messages` : 'uncertain'})`;
    const answer = await w.send(this.actor, { op: this.op, timeout: SHORT });
    if (m.receiver !== null && m.receiver !== this.actor) return void expect(answer, label).toMatchObject({ ok: false, code: 'EBUSY' });
    m.receiver = this.actor;
    if (this.op === 'drain') {
      expect(answer, label).toMatchObject({ ok: true });
      for (const msg of answer.messages as unknown[]) m.receivedMessage(msg, label);
      return m.empty(label);
    }
    expect(answer.receiving, `${label}: holds the receiving end`).toBe(true);
    if (answer.ok && answer.message !== null) return m.receivedMessage(answer.message, label);
    if (this.op === 'tryReceive') expect(answer, label).toMatchObject({ ok: true, message: null });
    else expect(answer, label).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
    m.empty(label);
  }
  toString = () => `a${this.actor}.${this.op}`;
}

class Kill implements Cmd {
  constructor(readonly proc: number) {}
  check = () => true;
  async run(m: Model, w: ChannelWorld) {
    await w.kill(this.proc);
    m.gone(Model.threadsOf(this.proc));
  }
  toString = () => `p${this.proc}.SIGKILL`;
}

/** SIGKILL while the process sends a burst of messages (sendSync each). */
class KillMidBurst implements Cmd {
  constructor(
    readonly proc: number,
    readonly sizes: number[],
    readonly delay: number,
  ) {}
  check = (m: Readonly<Model>) => m.open[this.proc]!;
  async run(m: Model, w: ChannelWorld) {
    const burst = ++m.bursts;
    const label = this.toString();
    // What fits, in turn, while the model knows the ring.
    let fit = 0;
    for (let used = m.used; fit < this.sizes.length && frameBytes(this.sizes[fit]!) <= CAPACITY - used; fit++) used += frameBytes(this.sizes[fit]!);
    const msgs = this.sizes.map((size) => m.record(this.proc, size, 'maybe', burst));
    const answered = w.send(this.proc, { op: 'burst', messages: msgs.map((s) => b64(s.bytes)), timeout: SHORT });
    await new Promise((r) => setTimeout(r, this.delay));
    await w.kill(this.proc);
    const answer: Answer = await answered;
    m.gone(Model.threadsOf(this.proc));
    if (String(answer.code).startsWith('EXITED')) {
      // Killed mid-burst: those it said it sent were; the next one may or may not have gone.
      const said = answer.parts.length;
      for (let i = 0; i < said; i++) msgs[i]!.fate = 'must';
      m.exact = false;
      m.log.push(`  (killed after ${said} of ${msgs.length} sends)`);
      return;
    }
    if (!answer.ok) expect(answer, label).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
    const sent = answer.sent as number;
    if (m.exact) expect(sent, `${label}: sent`).toBe(fit);
    msgs.forEach((s, i) => (s.fate = i < sent ? 'must' : 'never'));
    if (m.exact) m.queue.push(...msgs.slice(0, sent));
    m.log.push(`  (the burst ended before the kill: ${sent} sent)`);
  }
  toString = () => `p${this.proc}.SIGKILL-mid-burst([${this.sizes.join(',')}], after ${this.delay} ms)`;
}

/** SIGKILL while the process takes every message, saying each as it goes. */
class KillMidReceive implements Cmd {
  constructor(
    readonly proc: number,
    readonly delay: number,
  ) {}
  check = (m: Readonly<Model>) => m.open[this.proc]! && (m.receiver === null || m.receiver === this.proc);
  async run(m: Model, w: ChannelWorld) {
    const label = this.toString();
    const answered = w.send(this.proc, { op: 'drainLoud' });
    await new Promise((r) => setTimeout(r, this.delay));
    await w.kill(this.proc);
    const answer: Answer = await answered;
    m.gone(Model.threadsOf(this.proc));
    for (const part of answer.parts) m.receivedMessage(part, label);
    if (String(answer.code).startsWith('EXITED')) {
      m.lossBudget++;
      m.exact = false;
      m.log.push(`  (killed after ${answer.parts.length} messages)`);
      return;
    }
    expect(answer, label).toMatchObject({ ok: true });
    m.log.push(`  (the drain ended before the kill: ${answer.parts.length} messages)`);
    m.empty(label);
  }
  toString = () => `p${this.proc}.SIGKILL-mid-receive(after ${this.delay} ms)`;
}

export function commandArbitraries(log: string[]): fc.Arbitrary<Cmd>[] {
  const actor = fc.integer({ min: 0, max: ACTORS - 1 });
  const proc = fc.integer({ min: 0, max: PROCESSES - 1 });
  const size = fc.integer({ min: MIN_SIZE, max: MAX_SIZE });
  const logged = (arb: fc.Arbitrary<Cmd>) =>
    arb.map((c) => {
      const run = c.run.bind(c);
      c.run = async (m, w) => {
        log.push(c.toString());
        if (process.env.NAMED_SHM_FUZZ_TRACE) process.stderr.write(`[channel-fuzz] ${c.toString()}\n`);
        await run(m, w);
      };
      return c;
    });
  const send = fc.tuple(actor, fc.constantFrom<SendOp>('trySend', 'trySend', 'sendSync', 'send'), size).map(([a, op, n]): Cmd => new Send(a, op, n));
  const receive = fc.tuple(actor, fc.constantFrom<ReceiveOp>('tryReceive', 'tryReceive', 'receiveSync', 'receive')).map(([a, op]): Cmd => new Receive(a, op));
  const rare = fc.oneof(
    proc.map((p): Cmd => new Kill(p)),
    fc.tuple(proc, fc.array(size, { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 4 })).map(([p, sizes, d]): Cmd => new KillMidBurst(p, sizes, d)),
    fc.tuple(proc, fc.integer({ min: 0, max: 4 })).map(([p, d]): Cmd => new KillMidReceive(p, d)),
  );
  // One weighted draw: sends and receives most, so that the ring fills, wraps and empties often;
  // kills (each costs a spare process) least.
  return [
    fc.oneof(
      { arbitrary: actor.map((a): Cmd => new Open(a)), weight: 3 },
      { arbitrary: actor.map((a): Cmd => new Close(a)), weight: 1 },
      { arbitrary: send, weight: 10 },
      { arbitrary: receive, weight: 7 },
      { arbitrary: actor.map((a): Cmd => new Receive(a, 'drain')), weight: 1 },
      { arbitrary: rare, weight: 1 },
    ),
  ].map(logged);
}

/** The end of a run: a last drain (opening a handle for it if none is open), then every actor closes. */
export async function finish(m: Model, w: ChannelWorld): Promise<void> {
  let drainer = m.receiver ?? m.open.findIndex(Boolean);
  if (drainer < 0) {
    drainer = 0;
    await new Open(0).run(m, w);
  }
  m.log.push(`finish: a${drainer}.drain`);
  await new Receive(drainer, 'drain').run(m, w);
  for (let a = 0; a < ACTORS; a++) {
    if (!m.open[a]) continue;
    expect(await w.send(a, { op: 'close' }), `finish: a${a} closes`).toMatchObject({ ok: true });
    m.gone([a]);
  }
}
