// Channel when its peers die (Linux and Windows): senders SIGKILLed (or, as worker threads,
// terminated) at random moments while they send, a sender SIGKILLed while it holds the send lock
// with half a frame written, a receiver SIGKILLed while it receives, and receivers that end
// without close(). The receiver must never see a partial or corrupt message, the live senders'
// messages must all arrive exactly once and in order, and a new receiver must get in once the old
// one is gone.
//
// On Windows (run there with the official Windows node.exe under Wine, scripts/windows/test.sh)
// the tests that need only child.kill() (TerminateProcess there), worker.terminate(),
// process.exit() and a receiver's end run too, with fewer messages and rounds (everything is much
// slower under Wine); the ones that need SIGSTOP or /proc stay Linux-only. After each test the
// channel's objects must be gone: on Linux /dev/shm holds only the channel's own objects (which the
// test removes); on Windows, where a named object goes with its last handle, they cannot be opened
// any more (ENOENT).
//
// No assertion is on time. The channel promises that a sleeping side looks again at least every
// RECHECK_MS (lib/channel/sleep.ts) even if the peer that should have woken it was killed; the
// tests show that promise only by finishing (the waits' generous timeouts make a wedged channel
// fail instead of hang).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, NamedMutex, SharedMemory } from '../lib/index.js';
// @ts-expect-error: a plain .mjs fixture, shared with the child processes
import { Checker, messageOf } from './fixtures/channel-messages.mjs';
import { isLinux, isWindows, uniqueName } from './helpers.js';

const SENDER = fileURLToPath(new URL('./fixtures/channel-sender.mjs', import.meta.url));
const RECEIVER = fileURLToPath(new URL('./fixtures/channel-receiver.mjs', import.meta.url));
const PARK = fileURLToPath(new URL('./fixtures/channel-park.mjs', import.meta.url));
/** The objects a channel `name` is made of on Linux. */
const PARTS = ['', '#changes', '#receive', '#send', '#space#changes'];
/** Generous: only a wedged channel reaches it. */
const NEVER = 30_000;
/** `linux` on Linux, `windows` on Windows (Wine: far slower, so fewer messages and rounds). */
const onWindows = <T>(linux: T, windows: T): T => (isWindows ? windows : linux);

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const randomInt = (n: number) => Math.floor(Math.random() * n);

interface Actor {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  /** Resolves with the first line `pred` accepts (rejects if the child ends first). */
  line(pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const actors: Actor[] = [];
const workers: Worker[] = [];
const handles: Array<{ close(): void }> = [];
const names: string[] = [];

/** Linux: the files of channel `name` in /dev/shm (none elsewhere: Windows has no such folder). */
function leftovers(name: string): string[] {
  if (!isLinux) return [];
  return fs.readdirSync('/dev/shm').filter((f) => f === name || f.startsWith(`${name}#`));
}

afterEach(async () => {
  for (const a of actors.splice(0)) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
  for (const h of handles.splice(0)) h.close();
  for (const name of names.splice(0)) for (const f of leftovers(name)) fs.rmSync(`/dev/shm/${f}`, { force: true });
});

function start(script: string, o: object): Actor {
  const child = spawn(process.execPath, [script, JSON.stringify(o)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  const waiting: Array<{ pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    out += chunk;
    for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
      const l = JSON.parse(out.slice(0, nl)) as Record<string, unknown>;
      out = out.slice(nl + 1);
      lines.push(l);
      for (const w of waiting.splice(0)) if (w.pred(l)) w.resolve(l);
      else waiting.push(w);
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const line = (pred: (l: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = lines.find(pred);
      if (seen) return resolve(seen);
      waiting.push({ pred, resolve });
      void exit.then(({ code, signal }) => reject(new Error(`${script} ended (${code ?? signal}) before the line the test waits for: ${JSON.stringify(lines)}`)));
    });
  const a = { child, lines, line, exit };
  actors.push(a);
  return a;
}

/** Rejects when one of the live senders ends before it said { done } (a failed sender fails the test at once). */
function failedSender(live: Actor[]): Promise<never> {
  return new Promise((_, reject) => {
    for (const a of live) {
      void a.exit.then((how) => {
        if (!a.lines.some((l) => l.done === true)) reject(new Error(`a live sender ended (${JSON.stringify(how)}): ${JSON.stringify(a.lines.at(-1))}`));
      });
    }
  });
}

async function kill(a: Actor): Promise<void> {
  a.child.kill('SIGKILL');
  expect((await a.exit).signal).toBe('SIGKILL');
}

/** A new channel this test owns, with a unique name. */
function newChannel(tag: string, capacity: number): { name: string; channel: Channel } {
  const name = uniqueName(tag);
  names.push(name);
  const channel = Channel.create(name, { capacity });
  handles.push(channel);
  return { name, channel };
}

/** Expects `open()` to throw ENOENT (Windows: the named object went with its last handle). */
function expectGone(open: () => { close(): void }, what: string): void {
  let opened: { close(): void } | undefined;
  try {
    opened = open();
  } catch (e) {
    expect((e as { code?: string }).code, `${what}: ${String(e)}`).toBe('ENOENT');
    return;
  }
  opened.close();
  expect.fail(`${what} can still be opened after every handle was closed`);
}

/**
 * At the test's end: every handle closed. Linux: /dev/shm holds only the channel's own objects;
 * they go. Windows: the channel and the `extra` regions cannot be opened any more (ENOENT), unless
 * `leaked` (worker threads ended by terminate() left their handles open in this process: not
 * checked there).
 */
function cleanUp(name: string, ...extra: string[]): void {
  cleanUpWith({ leaked: false }, name, ...extra);
}

function cleanUpWith(o: { leaked: boolean }, name: string, ...extra: string[]): void {
  for (const h of handles.splice(0)) h.close();
  if (!isLinux) {
    if (o.leaked) return;
    expectGone(() => Channel.openExisting(name), `channel ${name}`);
    for (const e of extra) expectGone(() => SharedMemory.openExisting(e), `region ${e}`);
    return;
  }
  const left = leftovers(name);
  expect(left.every((f) => PARTS.includes(f.slice(name.length))), `leftovers: ${left.join(', ')}`).toBe(true);
  for (const f of left) fs.rmSync(`/dev/shm/${f}`);
  // A record region goes with its last handle (the test's, closed above); unlink one left behind.
  for (const e of extra) if (fs.existsSync(`/dev/shm/${e}`)) SharedMemory.unlink(e);
  expect(leftovers(name)).toEqual([]);
  for (const e of extra) expect(fs.existsSync(`/dev/shm/${e}`)).toBe(false);
}

describe.runIf(isLinux || isWindows)('senders that die', () => {
  it('senders SIGKILLed at random moments of their sending loops: no partial or corrupt message, and every message of the live senders arrives once, in order', async () => {
    const capacity = 64 * 1024;
    const maxSize = capacity / 4;
    const LIVE = 3;
    const LIVE_COUNT = onWindows(15_000, 2_000);
    const ROUNDS = onWindows(12, 4);
    const { name, channel } = newChannel('chc-snd', capacity);
    const hows = ['sync', 'async', 'try', 'mixed'];
    // Victims get ids after the live senders'; they send without end until killed.
    const ids = LIVE + 2 * ROUNDS;
    const checker = new Checker({ senders: ids, count: 2 ** 31, maxSize, minSize: 16 });
    const live = Array.from({ length: LIVE }, (_, id) => start(SENDER, { name, id, count: LIVE_COUNT, maxSize, minSize: 16, how: hows[id % 4] }));
    let victimsKilled = 0;
    const kills = (async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const victims = [0, 1].map((k) => start(SENDER, { name, id: LIVE + 2 * round + k, count: 0, maxSize, minSize: 16, how: hows[(round + k) % 4] }));
        await Promise.all(victims.map((v) => v.line((l) => l.ready === true)));
        await delay(randomInt(60));
        if (Math.random() < 0.5) {
          // Both at the same moment.
          await Promise.all(victims.map(kill));
        } else {
          // One, then the other at another random moment.
          await kill(victims[0]!);
          await delay(randomInt(60));
          await kill(victims[1]!);
        }
        victimsKilled += 2;
      }
    })();
    const failed = failedSender(live);
    failed.catch(() => {});
    let killsDone = false;
    void kills.then(() => (killsDone = true));
    const liveDone = () => checker.next.slice(0, LIVE).every((n: number) => n >= LIVE_COUNT);
    // While a live sender or a victim may still send, wait; then take what is left.
    while (!liveDone() || !killsDone) {
      const m = liveDone() ? channel.tryReceive() : await Promise.race([channel.receive({ timeout: NEVER }), failed]);
      if (m) checker.take(m);
      else await delay(5);
    }
    await kills;
    await Promise.all(actors.map((a) => a.exit));
    for (let m = channel.tryReceive(); m; m = channel.tryReceive()) checker.take(m);
    expect(checker.next.slice(0, LIVE)).toEqual(Array(LIVE).fill(LIVE_COUNT));
    expect(live.map((a) => a.lines.at(-1))).toEqual(live.map((_, id) => ({ done: true, id, sent: LIVE_COUNT })));
    // Every victim's messages came as a prefix of what it sent (the checker refuses a gap).
    const fromVictims = checker.next.slice(LIVE).reduce((a: number, b: number) => a + b, 0);
    expect(victimsKilled).toBe(2 * ROUNDS);
    console.log(`live senders: ${LIVE} x ${LIVE_COUNT}; ${2 * ROUNDS} victims killed after sending ${fromVictims} messages that came whole`);
    cleanUp(name);
  }, 120_000);

  it('sender worker threads terminated at random moments of their sending loops: no partial or corrupt message, and every message of the live sender processes arrives once, in order', async () => {
    // terminate() runs no more JavaScript in the worker: one stopped between taking the send lock
    // and letting it go ends its thread holding the lock, which the kernel marks abandoned.
    const capacity = 64 * 1024;
    const maxSize = capacity / 4;
    const LIVE = 2;
    const LIVE_COUNT = onWindows(10_000, 2_000);
    const ROUNDS = onWindows(12, 4);
    const { name, channel } = newChannel('chc-wkill', capacity);
    const hows = ['sync', 'async', 'try', 'mixed'];
    const checker = new Checker({ senders: LIVE + 3 * ROUNDS, count: 2 ** 31, maxSize, minSize: 16 });
    const live = Array.from({ length: LIVE }, (_, id) => start(SENDER, { name, id, count: LIVE_COUNT, maxSize, minSize: 16, how: hows[id % 4] }));
    let terminated = 0;
    const kills = (async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const victims = [0, 1, 2].map((k) => {
          const w = new Worker(SENDER, { workerData: { name, id: LIVE + 3 * round + k, count: 0, maxSize, minSize: 16, how: hows[(round + k) % 4] } });
          workers.push(w);
          return { w, ready: new Promise((resolve) => w.once('message', resolve)), exit: new Promise((resolve) => w.once('exit', resolve)) };
        });
        await Promise.all(victims.map((v) => v.ready));
        for (const v of victims) {
          await delay(randomInt(40));
          await v.w.terminate();
          await v.exit;
          terminated++;
        }
      }
    })();
    const failed = failedSender(live);
    failed.catch(() => {});
    let killsDone = false;
    void kills.then(() => (killsDone = true));
    const liveDone = () => checker.next.slice(0, LIVE).every((n: number) => n >= LIVE_COUNT);
    while (!liveDone() || !killsDone) {
      const m = liveDone() ? channel.tryReceive() : await Promise.race([channel.receive({ timeout: NEVER }), failed]);
      if (m) checker.take(m);
      else await delay(5);
    }
    await kills;
    await Promise.all(live.map((a) => a.exit));
    for (let m = channel.tryReceive(); m; m = channel.tryReceive()) checker.take(m);
    expect(checker.next.slice(0, LIVE)).toEqual(Array(LIVE).fill(LIVE_COUNT));
    expect(live.map((a) => a.lines.at(-1))).toEqual(live.map((_, id) => ({ done: true, id, sent: LIVE_COUNT })));
    expect(terminated).toBe(3 * ROUNDS);
    const fromVictims = checker.next.slice(LIVE).reduce((a: number, b: number) => a + b, 0);
    console.log(`live senders: ${LIVE} x ${LIVE_COUNT}; ${terminated} worker senders terminated after sending ${fromVictims} messages that came whole`);
    // Windows: see report. The terminated workers' handles stay open in this process (terminate()
    // runs no JavaScript, so no 'exit' handler closes them), and the channel's section with them:
    // Channel.openExisting still opens it after every other handle closed, so no ENOENT check here.
    cleanUpWith({ leaked: true }, name);
  }, 120_000);

  // The parked sender stops itself with SIGSTOP on Linux; on Windows it idles holding the lock.
  it('a sender SIGKILLed while it holds the send lock with half a frame written: the next sender sends, and the receiver never sees the half frame', async () => {
    const capacity = 4096;
    const maxSize = 1024;
    const { name, channel } = newChannel('chc-park', capacity);
    for (let round = 0; round < 3; round++) {
      // A message or two first, so that the tail is not at the ring's start after the first round.
      const before = start(SENDER, { name, id: 0, from: round * 2, count: round * 2 + 2, maxSize, minSize: 16, how: 'sync' });
      await before.line((l) => l.done === true);
      const parked = start(PARK, { name, capacity, length: 900 });
      const p = await parked.line((l) => l.parked === true);
      expect(p.abandoned, 'the lock was let go cleanly by the sender before').toBe(false);
      // The lock is held by the stopped process.
      const lock = NamedMutex.openExisting(`${name}#send`);
      expect(lock.tryLock(), 'the send lock while the parked sender holds it').toBeNull();
      lock.close();
      // A sender that starts now waits for the lock; the parked one is killed while it waits.
      const next = start(SENDER, { name, id: 1, from: round * 3, count: round * 3 + 3, maxSize, minSize: 16, how: hows(round) });
      await next.line((l) => l.ready === true);
      // Sender 0's two messages, then a receive that waits: the ring is empty past the half frame.
      const got: Uint8Array[] = [await channel.receive({ timeout: NEVER }), await channel.receive({ timeout: NEVER })];
      const waiting = channel.receive({ timeout: NEVER });
      await delay(randomInt(50));
      await kill(parked);
      got.push(await waiting);
      expect(await next.line((l) => l.done === true || l.error !== undefined)).toMatchObject({ done: true, sent: 3 });
      // Exactly the whole messages, in order: sender 0's two, then sender 1's three.
      for (let m = channel.tryReceive(); m; m = channel.tryReceive()) got.push(m);
      const expected = [messageOf(0, round * 2, maxSize, 16), messageOf(0, round * 2 + 1, maxSize, 16), ...[0, 1, 2].map((k) => messageOf(1, round * 3 + k, maxSize, 16))];
      expect(got.map((m) => Buffer.from(m).toString('hex'))).toEqual(expected.map((m: Buffer) => m.toString('hex')));
    }
    cleanUp(name);
  }, 60_000);

  // Linux only: SIGSTOP, SIGCONT and /proc/<pid>/stat.
  it.runIf(isLinux)('a real sender SIGKILLed while it holds the send lock (stopped by SIGSTOP at a random moment inside a send): the next sender proceeds, and the receiver sees no partial message', async () => {
    // Big messages, so that a sender spends much of its time copying under the lock.
    const capacity = 4 * 1024 * 1024;
    const maxSize = 1024 * 1024;
    const minSize = 1024 * 1024 - 64;
    const { name, channel } = newChannel('chc-stop', capacity);
    const checker = new Checker({ senders: 64, count: 2 ** 31, maxSize, minSize });
    const lock = NamedMutex.openExisting(`${name}#send`);
    handles.push(lock);
    let killedHolding = 0;
    let tries = 0;
    let id = 0;
    const receiving = { stop: false };
    const receiver = (async () => {
      while (!receiving.stop) {
        const m = channel.tryReceive();
        if (m) checker.take(m);
        else await delay(1);
      }
    })();
    while (killedHolding < 3 && tries < 400 && id < 63) {
      tries++;
      const victim = start(SENDER, { name, id, count: 0, maxSize, minSize, how: 'sync' });
      await victim.line((l) => l.ready === true);
      let held = false;
      for (let attempt = 0; attempt < 20 && !held; attempt++) {
        await delay(randomInt(20));
        victim.child.kill('SIGSTOP');
        // Once it is stopped, see whether it holds the send lock.
        await stopped(victim.child.pid!);
        const g = lock.tryLock();
        if (g) {
          g.unlock();
          victim.child.kill('SIGCONT');
        } else held = true;
      }
      await kill(victim);
      id++;
      if (held) killedHolding++;
    }
    // The next sender proceeds.
    const next = start(SENDER, { name, id: 63, count: 5, maxSize, minSize, how: 'async' });
    expect(await next.line((l) => l.done === true || l.error !== undefined)).toMatchObject({ done: true, sent: 5 });
    while (checker.next[63] < 5) await delay(5);
    receiving.stop = true;
    await receiver;
    for (let m = channel.tryReceive(); m; m = channel.tryReceive()) checker.take(m);
    console.log(`${id} senders killed, ${killedHolding} while they held the send lock (stopped inside a send), ${checker.received} whole messages came`);
    expect(killedHolding).toBeGreaterThan(0);
    expect(checker.next[63]).toBe(5);
    cleanUp(name);
  }, 120_000);
});

/** The messages (`id:seq`) in a channel's ring from head to tail, read through a view of its region (layout.ts). */
function messagesInRing(bytes: Uint8Array, capacity: number): Set<string> {
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, 48);
  const ring = bytes.subarray(192, 192 + capacity);
  const tail = Atomics.load(words, 16);
  const out = new Set<string>();
  const byte = (p: number) => ring[p % capacity]!;
  for (let p = Atomics.load(words, 32); p !== tail; ) {
    const at = p % capacity;
    const length = ring[at]! | (ring[at + 1]! << 8) | (ring[at + 2]! << 16) | (ring[at + 3]! << 24);
    const body = at + 8;
    if (length >= 8) out.add(`${byte(body)}:${(byte(body + 4) | (byte(body + 5) << 8) | (byte(body + 6) << 16) | (byte(body + 7) << 24)) >>> 0}`);
    p = (p + 8 + ((length + 7) & ~7)) % (2 * capacity);
  }
  return out;
}

/** Resolves once the process is in the stopped state (/proc/<pid>/stat). */
async function stopped(pid: number): Promise<void> {
  for (;;) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'T') return;
    await delay(1);
  }
}

function hows(round: number): string {
  return ['sync', 'async', 'try'][round % 3]!;
}

describe.runIf(isLinux || isWindows)('receivers that die or leave', () => {
  it('a receiver SIGKILLed while it receives: a new receiver in another process takes over, and at most the message being taken is lost, none duplicated', async () => {
    const capacity = 16 * 1024;
    const maxSize = 4096;
    const SENDERS = 3;
    const COUNT = onWindows(6000, 1500);
    const KILLS = onWindows(8, 4);
    const { name } = newChannel('chc-rcv', capacity);
    const record = uniqueName('chc-rec');
    const recordRegion = SharedMemory.create(record, { size: 4 * (SENDERS + 1) });
    handles.push(recordRegion);
    const words = new Uint32Array(recordRegion.bytes.buffer, recordRegion.bytes.byteOffset, SENDERS + 1);
    /** Messages a killed receiver had in hand: receive() had returned them, it had not recorded them. */
    const inHand: string[] = [];
    const senders = Array.from({ length: SENDERS }, (_, id) => start(SENDER, { name, id, count: COUNT, maxSize, minSize: 16, how: hows(id) }));
    const o = { name, record, senders: SENDERS, count: COUNT, maxSize, minSize: 16 };
    const gaps: Array<{ id: number; seq: number }> = [];
    /** For each kill: the messages in the ring (from head to tail) just after it. */
    const ringAtKill: Array<Set<string>> = [];
    /** Gap messages with the kill before the receiver that found them. */
    const found: Array<{ lost: string; kill: number }> = [];
    const view = SharedMemory.openExisting(name);
    handles.push(view);
    let kills = 0;
    for (let k = 0; k < KILLS; k++) {
      const r = start(RECEIVER, { ...o, how: k % 2 ? 'async' : 'sync' });
      const ready = await r.line((l) => l.ready === true || l.error !== undefined);
      expect(ready.ready, JSON.stringify(ready)).toBe(true);
      await delay(20 + randomInt(80));
      if (r.lines.some((l) => l.done)) break;
      await kill(r);
      kills++;
      const hand = Atomics.load(words, SENDERS);
      const [id, seq] = [(hand >>> 24) - 1, hand & 0xffffff];
      if (hand !== 0 && Atomics.load(words, id) === seq) inHand.push(`${id}:${seq}`);
      expect(r.lines.filter((l) => l.error !== undefined)).toEqual([]);
      ringAtKill.push(messagesInRing(view.bytes, capacity));
      const g = r.lines.filter((l) => l.gap).map((l) => l.gap as { id: number; seq: number });
      gaps.push(...g);
      found.push(...g.map((x) => ({ lost: `${x.id}:${x.seq}`, kill: k - 1 })));
    }
    const last = start(RECEIVER, { ...o, how: 'async', close: true });
    const end = await last.line((l) => l.done === true || l.error !== undefined);
    expect(end.done, JSON.stringify(end)).toBe(true);
    expect((await last.exit).code).toBe(0);
    const g = last.lines.filter((l) => l.gap).map((l) => l.gap as { id: number; seq: number });
    gaps.push(...g);
    found.push(...g.map((x) => ({ lost: `${x.id}:${x.seq}`, kill: kills - 1 })));
    expect(senders.map((s) => s.lines.at(-1))).toEqual(senders.map((_, id) => ({ done: true, id, sent: COUNT })));
    // Each kill loses at most one message: the one the killed receiver had taken out of the ring
    // (head moved) but not yet recorded. A receiver killed before it moved head leaves the message
    // to the next one, which takes it once (the receivers refuse a message that comes again).
    // Seen on a 2-CPU Linux machine, 8 kills a run: 1 to 5 messages lost a run, never two for one
    // kill, none delivered twice; a few had reached the receiver's hand (receive() had returned),
    // most were out of the ring before receive() returned (the kill came between the head store
    // and the return: the space notify there wakes a sender, which may take the CPU).
    const lost = gaps.map((g) => `${g.id}:${g.seq}`);
    console.log(
      `${kills} receivers killed; messages lost: ${lost.length} [${lost.join(' ')}], of which in the killed receiver's hand: ` +
        `${lost.filter((g) => inHand.includes(g)).length}; killed receivers that had a message in hand: ${inHand.length} [${inHand.join(' ')}]; ` +
        `messages in the ring after each kill: ${ringAtKill.map((r) => r.size).join(' ')}`,
    );
    // A message in a killed receiver's hand is lost: it is not in the ring any more.
    for (const h of inHand) expect(lost, `${h}, in a killed receiver's hand`).toContain(h);
    expect(gaps.length).toBeLessThanOrEqual(kills);
    expect(new Set(lost).size, 'a message lost twice').toBe(lost.length);
    // A lost message was behind head when its receiver was killed: that receiver had taken it out
    // of the ring (head moves only after the copy); the new receiver did not skip it.
    for (const f of found) expect(ringAtKill[f.kill]!.has(f.lost), `${f.lost} lost, but in the ring after kill ${f.kill}`).toBe(false);
    // A lost message is always just before a new receiver's first message of its sender.
    expect(gaps.filter((g) => !(g as { first?: boolean }).first)).toEqual([]);
    cleanUp(name, record);
  }, 120_000);

  it('a receiver process that ends without close() lets a new receiver in', async () => {
    const capacity = 4096;
    const maxSize = 512;
    const { name, channel } = newChannel('chc-end', capacity);
    const record = uniqueName('chc-rec');
    handles.push(SharedMemory.create(record, { size: 8 }));
    for (let seq = 0; seq < 4; seq++) channel.sendSync(messageOf(0, seq, maxSize, 16));
    const r = start(RECEIVER, { name, record, senders: 1, count: 2, maxSize, minSize: 16, how: 'sync' });
    expect(await r.line((l) => l.done === true || l.error !== undefined)).toMatchObject({ done: true, received: 2 });
    expect(await r.exit).toEqual({ code: 0, signal: null });
    // The receiving end is free: this handle takes it and gets the rest.
    const rest = [channel.tryReceive(), channel.tryReceive(), channel.tryReceive()];
    expect(rest.map((m) => m && Buffer.from(m).toString('hex'))).toEqual([2, 3].map((s) => messageOf(0, s, maxSize, 16).toString('hex')).concat([null]));
    expect(channel.receiving).toBe(true);
    cleanUp(name, record);
  });

  it('a receiver process that calls process.exit() without close() lets a new receiver in', async () => {
    const capacity = 4096;
    const maxSize = 512;
    const { name, channel } = newChannel('chc-exit', capacity);
    const record = uniqueName('chc-rec');
    handles.push(SharedMemory.create(record, { size: 8 }));
    for (let seq = 0; seq < 3; seq++) channel.sendSync(messageOf(0, seq, maxSize, 16));
    const r = start(RECEIVER, { name, record, senders: 1, count: 2, maxSize, minSize: 16, how: 'async', exit: true });
    expect(await r.line((l) => l.done === true || l.error !== undefined)).toMatchObject({ done: true, received: 2 });
    expect(await r.exit).toEqual({ code: 0, signal: null });
    expect(Buffer.from(channel.tryReceive()!).equals(messageOf(0, 2, maxSize, 16))).toBe(true);
    expect(channel.tryReceive()).toBeNull();
    cleanUp(name, record);
  });

  // On Windows this once threw at the worker's end: the channel's 'exit' handler ran after the one
  // that closes the thread's handles, and ReleaseMutex met a closed handle.
  it('a receiver worker that ends without close() lets a receiver in the main thread in', async () => {
    const capacity = 4096;
    const maxSize = 512;
    const { name, channel } = newChannel('chc-wend', capacity);
    const record = uniqueName('chc-rec');
    handles.push(SharedMemory.create(record, { size: 8 }));
    for (let seq = 0; seq < 3; seq++) channel.sendSync(messageOf(0, seq, maxSize, 16));
    const w = new Worker(RECEIVER, { workerData: { name, record, senders: 1, count: 2, maxSize, minSize: 16, how: 'async' } });
    workers.push(w);
    const said: Record<string, unknown>[] = [];
    w.on('message', (m: Record<string, unknown>) => said.push(m));
    expect(await new Promise((resolve) => w.on('exit', resolve))).toBe(0);
    expect(said.at(-1)).toMatchObject({ done: true, received: 2 });
    expect(Buffer.from(channel.tryReceive()!).equals(messageOf(0, 2, maxSize, 16))).toBe(true);
    cleanUp(name, record);
  });
});
