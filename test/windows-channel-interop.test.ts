// A Channel shared with a plain Win32 C peer (test/interop/c/channel_peer.c), written from the
// README's channel layout and the Windows change-counter protocol alone: the C program opens the
// section, both change counters (companion sections and generation events) and both native named
// mutexes that Channel.open made. Messages go both ways through a 4 KiB ring, so that frames wrap
// at the ring's end and senders wait for space; a C sender killed (TerminateProcess) in the middle
// of its sends, or holding the send lock over half a frame, costs nothing but its own messages.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, SharedMemory } from '../lib/index.js';
import { isWindows, track, uniqueName } from './helpers.js';
import { sleep, startLines, type LineChild } from './windows-sync-helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const CHANNEL_PEER = path.join(process.env.NAMED_SHM_C_OUT ?? path.join(root, 'build', 'interop'), 'channel_peer.exe');
/** scripts/windows/test.sh builds the C programs and sets NAMED_SHM_INTEROP, so a missing build fails there. */
const hasPeer = process.env.NAMED_SHM_INTEROP === '1' || fs.existsSync(CHANNEL_PEER);

const CAPACITY = 4096;
/** The generator's longest message: a quarter of the largest one the ring holds. */
const MAX_LEN = ((CAPACITY - 8) / 4) >>> 0;

const channels: Channel[] = [];
afterEach(() => {
  for (const channel of channels.splice(0)) channel.close();
});

function openChannel(name: string): Channel {
  const channel = Channel.open(name, { capacity: CAPACITY });
  channels.push(channel);
  return channel;
}

function channelName(tag: string): string {
  return `Local\\${uniqueName(tag)}`;
}

// ---- the messages of channel_peer.c (and of the Linux peer): sender `id`, SEED ----

function fnv1a(bytes: Uint8Array): number {
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h;
}

/** The message stream of one sender: message n's length from a xorshift32 stream, its bytes from (id, n). */
class Messages {
  n = 0;
  #state: number;
  #next: Buffer | undefined;
  constructor(
    seed: number,
    readonly id: number,
  ) {
    this.#state = seed >>> 0;
  }

  /** Message n (not yet taken). */
  peek(): Buffer {
    if (this.#next) return this.#next;
    let x = this.#state;
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    this.#state = x;
    const length = x % (MAX_LEN + 1);
    const out = Buffer.alloc(length);
    const { n, id } = this;
    if (length >= 8) {
      for (let i = 8; i < length; i++) out[i] = (n * 131 + i * 17 + id) & 0xff;
      out.writeUInt32LE(((id << 24) | (n & 0xffffff)) >>> 0, 0);
      out.writeUInt32LE(fnv1a(out.subarray(8)), 4);
    } else if (length > 0) {
      out[0] = id;
      for (let i = 1; i < length; i++) out[i] = (n + i) & 0xff;
    }
    return (this.#next = out);
  }

  take(): Buffer {
    const m = this.peek();
    this.#next = undefined;
    this.n++;
    return m;
  }
}

/**
 * Checks what a receiver got from several senders: each sender's messages whole, unchanged, in
 * order and once. An empty message does not say whose it is: empties are counted, and each
 * sender's due empty messages are taken from that count when its next message shows they came.
 */
class Checker {
  readonly streams = new Map<number, Messages>();
  empties = 0;
  received = 0;

  constructor(senders: Array<[id: number, seed: number]>) {
    for (const [id, seed] of senders) this.streams.set(id, new Messages(seed, id));
  }

  #stream(id: number): Messages {
    const s = this.streams.get(id);
    if (!s) throw new Error(`a message names sender ${id}, which is not one of this test's`);
    return s;
  }

  #takeEmpties(s: Messages): void {
    while (s.peek().length === 0) {
      if (this.empties === 0) throw new Error(`sender ${s.id}: its empty message ${s.n} was due, but no empty message came`);
      this.empties--;
      s.take();
    }
  }

  take(message: Uint8Array): void {
    this.received++;
    const m = Buffer.from(message.buffer, message.byteOffset, message.length);
    if (m.length === 0) {
      this.empties++;
      return;
    }
    const id = m.length >= 8 ? m.readUInt32LE(0) >>> 24 : m[0]!;
    const s = this.#stream(id);
    this.#takeEmpties(s);
    const want = s.take();
    if (!want.equals(m)) {
      const seq = m.length >= 8 ? m.readUInt32LE(0) & 0xffffff : -1;
      throw new Error(`sender ${id} message ${s.n - 1}: ${m.length} bytes came (seq ${seq}), not the ${want.length} it sent`);
    }
  }

  /** Messages of `id` received so far (its due empty messages included once they are taken). */
  count(id: number): number {
    return this.#stream(id).n;
  }

  /** True once all of the first `count` messages of `id` came (trailing empty ones once they can be accounted for). */
  has(id: number, count: number): boolean {
    const s = this.#stream(id);
    if (s.n < count && s.peek().length === 0 && this.empties > 0) this.#takeEmpties(s);
    return s.n >= count;
  }

  /** After the last message of `id`: exactly `count` came. */
  finish(id: number, count: number): void {
    const s = this.#stream(id);
    while (s.n < count) {
      if (s.peek().length !== 0) throw new Error(`sender ${id}: message ${s.n} of ${count} never came`);
      this.#takeEmpties(s);
    }
    expect(s.n).toBe(count);
  }

  /** How many empty messages sender `id` (killed) may have sent after its last one received. */
  trailingEmpties(id: number, seed: number): number {
    const s = this.#stream(id);
    const replay = new Messages(seed, id);
    while (replay.n < s.n) replay.take();
    let zeros = 0;
    while (replay.take().length === 0) zeros++;
    return zeros;
  }
}

/** Receives in the background into `checker` until stop() is called; rethrows a failed check at stop(). */
function backgroundReceiver(rx: Channel, checker: Checker) {
  let stopping = false;
  let failure: unknown;
  const done = (async () => {
    while (!stopping) {
      let m: Uint8Array;
      try {
        m = await rx.receive({ timeout: 200 });
      } catch (e) {
        if ((e as { code?: string }).code === 'ETIMEDOUT') continue;
        throw e;
      }
      checker.take(m);
    }
  })().catch((e) => {
    failure = e;
  });
  return {
    get failure() {
      return failure;
    },
    async stop() {
      stopping = true;
      await done;
      if (failure) throw failure;
    },
  };
}

/** Waits (without a time limit of its own: the test's timeout is the limit) until `cond()` holds. */
async function until(cond: () => boolean, what: string, receiver?: { failure: unknown }, child?: LineChild): Promise<void> {
  let exited: number | null | undefined;
  void child?.exit.then((code) => (exited = code));
  while (!cond()) {
    if (receiver?.failure) throw receiver.failure;
    if (exited !== undefined) throw new Error(`${what}: the C peer exited (code ${exited}) first`);
    await sleep(5);
  }
}

describe.runIf(isWindows && hasPeer)('Windows Channel with a C peer (channel_peer.exe, the README layout)', () => {
  it('a C sender to a Node receiver: every message whole and in order, through wrap-around and a full ring', async () => {
    const name = channelName('chan-c2n');
    const rx = openChannel(name);
    expect(rx.created).toBe(true);
    expect(rx.capacity).toBe(CAPACITY);
    const count = 3000;
    const seed = 0x1234567;
    const sender = startLines(CHANNEL_PEER, ['send', name, String(count), String(seed), '1']);
    // Nothing is received until the C sender sleeps on the space counter: the ring is full, and it
    // waits by the protocol (its waiters word is in the companion section <name>#space#changes).
    const spaceCounter = track(SharedMemory.openExisting(`${name}#space#changes`));
    const spaceWords = new Uint32Array(spaceCounter.bytes.buffer, spaceCounter.bytes.byteOffset, 8);
    await until(() => Atomics.load(spaceWords, 5) > 0, 'the C sender waiting for space', undefined, sender);
    const checker = new Checker([[1, seed]]);
    for (let i = 0; i < count; i++) checker.take(await rx.receive({ timeout: 30_000 }));
    checker.finish(1, count);
    expect(checker.empties).toBe(0);
    const report = await sender.next();
    expect(report).toMatchObject({ sent: count, abandoned: 0 });
    expect(report.fullWaits).toBeGreaterThan(0);
    expect(report.wrapped).toBeGreaterThan(0); // message bytes that went on at ring byte 0
    expect(await sender.exit).toBe(0);
    expect(rx.tryReceive()).toBe(null);
  }, 120_000);

  it('a Node sender (await send) to a C receiver: the C side checks every byte', async () => {
    const name = channelName('chan-n2c');
    const tx = openChannel(name);
    const count = 3000;
    const seed = 987654321;
    const receiver = startLines(CHANNEL_PEER, ['receive', name, String(count), String(seed), '7']);
    const messages = new Messages(seed, 7);
    // A C receiver that stops early (a failed check) ends the sending, and next() shows its stderr.
    const gone = new AbortController();
    void receiver.exit.then(() => gone.abort());
    let bytes = 0;
    try {
      for (let i = 0; i < count; i++) {
        const m = messages.take();
        bytes += m.length;
        await tx.send(m, { timeout: 30_000, signal: gone.signal });
      }
    } catch (e) {
      if (!gone.signal.aborted) throw e;
    }
    const report = await receiver.next();
    expect(report).toEqual({ received: count, bytes, checkedBytes: bytes, wrapped: report.wrapped, emptyWaits: report.emptyWaits });
    expect(report.wrapped).toBeGreaterThan(0);
    expect(await receiver.exit).toBe(0);
    // The C receiver let go of the receiving end: this handle can take it now, and the ring is empty.
    expect(tx.tryReceive()).toBe(null);
    expect(tx.receiving).toBe(true);
  }, 120_000);

  it('a for-await receiver whose only sender is channel_peer.exe takes every message, and ends once that sender has exited or is killed (its section handle counts it as a sender)', async () => {
    const name = channelName('chan-iter');
    const rx = openChannel(name);
    const count = 500;
    const seed = 4242;
    const sender = startLines(CHANNEL_PEER, ['send', name, String(count), String(seed), '1']);
    const checker = new Checker([[1, seed]]);
    for await (const m of rx) checker.take(m);
    checker.finish(1, count);
    expect(checker.empties).toBe(0);
    expect(await sender.next()).toMatchObject({ sent: count });
    expect(await sender.exit).toBe(0);

    // A sender that stops after 5 messages holding the send lock: the loop waits for more while
    // it lives, and ends once TerminateProcess has closed its handles.
    const name2 = channelName('chan-iter-kill');
    const rx2 = openChannel(name2);
    const got = new Checker([[2, seed]]);
    const state = { failure: undefined as unknown, ended: false };
    const iterating = (async () => {
      for await (const m of rx2) got.take(m);
      state.ended = true;
    })().catch((e) => (state.failure = e));
    const hanger = startLines(CHANNEL_PEER, ['send', name2, '100', String(seed), '2', '5']);
    expect(await hanger.next()).toMatchObject({ holding: 5 });
    await until(() => got.has(2, 5), 'the first 5 messages', state);
    expect(state.ended).toBe(false);
    hanger.child.kill();
    await hanger.exit;
    await iterating;
    expect(state.failure).toBe(undefined);
    expect(state.ended).toBe(true);
    got.finish(2, 5);
    expect(rx2.tryReceive()).toBe(null); // the half frame was never published
  }, 120_000);

  it('a second C receiver is refused while Node holds the receiving end', async () => {
    const name = channelName('chan-busy');
    const rx = openChannel(name);
    expect(rx.tryReceive()).toBe(null);
    const receiver = startLines(CHANNEL_PEER, ['receive', name, '1']);
    expect(await receiver.next()).toEqual({ busy: true });
    expect(await receiver.exit).toBe(5);
  });

  it('C senders killed mid-send (TerminateProcess), one holding the lock over half a frame, while Node sends: whole messages only, and the next C sender gets the abandoned lock', async () => {
    const name = channelName('chan-kill');
    const rx = openChannel(name);
    const tx = openChannel(name);
    const seeds: Record<number, number> = { 1: 1001, 2: 2002, 3: 3003, 4: 4004, 5: 5005 };
    const checker = new Checker(Object.entries(seeds).map(([id, seed]) => [Number(id), seed]));
    const receiving = backgroundReceiver(rx, checker);

    // Node's sender (id 1) sends until told to stop.
    let nodeSent = 0;
    let stopNode = false;
    const nodeMessages = new Messages(seeds[1]!, 1);
    const nodeSending = (async () => {
      while (!stopNode) {
        await tx.send(nodeMessages.take(), { timeout: 30_000 });
        nodeSent++;
      }
    })();

    try {
      // 1. A C sender (id 2) sending without end, killed somewhere in its sends.
      const a = startLines(CHANNEL_PEER, ['send', name, '100000000', String(seeds[2]), '2']);
      await until(() => checker.count(2) >= 300, 'C sender 2 sending', receiving, a);
      a.child.kill();
      await a.exit;

      // 2. A C sender (id 3) that stops after 50 messages holding the send lock, half of message
      //    50's frame written past tail; Node's sender is waiting for the lock when it is killed.
      const b = startLines(CHANNEL_PEER, ['send', name, '1000', String(seeds[3]), '3', '50']);
      expect(await b.next()).toMatchObject({ holding: 50 });
      const sentBefore = nodeSent;
      await sleep(100); // not asserted on: Node's sender gets stuck on the lock meanwhile, or not
      b.child.kill();
      await b.exit;
      // Node's sender takes the abandoned lock and goes on.
      await until(() => nodeSent >= sentBefore + 200, "Node's sender after the kill", receiving);
      stopNode = true;
      await nodeSending;
      await until(() => checker.has(1, nodeSent) && checker.has(3, 50), "Node's messages and sender 3's 50", receiving);

      // 3. With nobody else sending: a C sender (id 4) dies holding the lock after 10 messages,
      //    and the next C sender (id 5) is told by WAIT_ABANDONED, and sends all of its own.
      const d = startLines(CHANNEL_PEER, ['send', name, '100', String(seeds[4]), '4', '10']);
      expect(await d.next()).toMatchObject({ holding: 10 });
      d.child.kill();
      await d.exit;
      const e = startLines(CHANNEL_PEER, ['send', name, '300', String(seeds[5]), '5']);
      expect(await e.next()).toMatchObject({ sent: 300, abandoned: 1 });
      expect(await e.exit).toBe(0);
      await until(() => checker.has(4, 10) && checker.has(5, 300), "the last C senders' messages", receiving);
      await receiving.stop();

      // Every message of each sender came whole, in order, once; the dead ones' half frames never.
      checker.finish(1, nodeSent);
      checker.finish(3, 50);
      checker.finish(4, 10);
      checker.finish(5, 300);
      // Sender 2's messages are a prefix of its stream (each checked above); empty messages left
      // over can only be its own, sent after its last non-empty one that came.
      expect(checker.count(2)).toBeGreaterThanOrEqual(300);
      expect(checker.empties).toBeLessThanOrEqual(checker.trailingEmpties(2, seeds[2]!));
      expect(rx.tryReceive()).toBe(null);
      expect(nodeSent).toBeGreaterThanOrEqual(200);
    } finally {
      stopNode = true;
      tx.close(); // a send still waiting for room (the receiver stopped at a failed check) ends now
      await nodeSending.catch(() => {});
      await receiving.stop().catch(() => {});
    }
  }, 180_000);
});
