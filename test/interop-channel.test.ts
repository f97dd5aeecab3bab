// The Linux layout of Channel is a contract: a C program and a Python one that know only the
// README's description (the ring region, the data and space change counters, the robust send and
// receive mutexes) send to a Node receiver and receive from a Node sender, between real
// processes, through a ring small enough that messages wrap around its end and senders meet a full
// ring. Every message is checked byte for byte against a generator all three languages share
// (test/interop/channel/channel_peer.c says how it makes them).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Channel, SharedMemory } from '../lib/index.js';
import { startProgram } from './change-actors.js';
import { isLinux, uniqueName } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const PY_PEER = path.join(root, 'test/fixtures/channel-peer.py');
const hasCc = isLinux && spawnSync('cc', ['--version']).status === 0;
const hasPython = isLinux && spawnSync('python3', ['--version']).status === 0;
// The Python peer reads and writes head and tail with plain loads and stores, which are acquire
// and release only under x86-64's memory order.
const pythonFits = process.arch === 'x64';
if (isLinux && !hasCc) console.log('interop-channel: no cc, so the C peer cases are skipped');
if (isLinux && !hasPython) console.log('interop-channel: no python3, so the Python peer cases are skipped');
if (isLinux && hasPython && !pythonFits) console.log(`interop-channel: the Python peer needs x86-64's memory order, not ${process.arch}: skipped`);

/** Small, so that a frame's bytes often run past the ring's end and senders find it full. */
const CAPACITY = 4096;

// ---- the messages (the same generator as channel_peer.c and channel-peer.py) ----

function fnv1a(bytes: Uint8Array, from: number): number {
  let h = 2166136261;
  for (let i = from; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 16777619) >>> 0;
  return h;
}

/** The messages of sender `id` (1..255) from `seed`, for a ring of `capacity` bytes. */
class Messages {
  #state: number;
  #n = 0;
  readonly #maxLength: number;
  constructor(
    seed: number,
    readonly id: number,
    capacity: number,
  ) {
    this.#state = seed >>> 0;
    this.#maxLength = Math.floor((capacity - 8) / 4);
  }

  get sent(): number {
    return this.#n;
  }

  next(): Uint8Array {
    let x = this.#state;
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    this.#state = x;
    const length = x % (this.#maxLength + 1);
    const n = this.#n++;
    const id = this.id;
    const out = new Uint8Array(length);
    if (length >= 8) {
      for (let i = 8; i < length; i++) out[i] = (n * 131 + i * 17 + id) & 0xff;
      const view = new DataView(out.buffer);
      view.setUint32(0, ((id << 24) | (n & 0xffffff)) >>> 0, true);
      view.setUint32(4, fnv1a(out, 8), true);
    } else if (length > 0) {
      out[0] = id;
      for (let i = 1; i < length; i++) out[i] = (n + i) & 0xff;
    }
    return out;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function describeMessage(m: Uint8Array): string {
  if (m.length >= 8) {
    const v = new DataView(m.buffer, m.byteOffset, 8);
    return `${m.length} bytes, seq word 0x${v.getUint32(0, true).toString(16)}, checksum ${v.getUint32(4, true) === fnv1a(m, 8) ? 'ok' : 'bad'}`;
  }
  return `${m.length} bytes [${[...m].join(',')}]`;
}

/** Checks messages one at a time against one sender; the first mismatch is kept, not thrown, so the receiver keeps draining. */
class Expect {
  readonly #messages: Messages;
  failure: string | undefined;
  constructor(seed: number, id: number, capacity: number) {
    this.#messages = new Messages(seed, id, capacity);
  }
  get count(): number {
    return this.#messages.sent;
  }
  check(got: Uint8Array): void {
    const n = this.#messages.sent;
    const want = this.#messages.next();
    if (!this.failure && !sameBytes(got, want)) this.failure = `message ${n}: got ${describeMessage(got)}, want ${describeMessage(want)}`;
  }
}

// ---- processes and objects ----

type Json = Record<string, number | boolean>;

function peer(command: string, args: string[]) {
  const p = startProgram(command, args);
  return { ...p, result: async () => ({ line: JSON.parse(await p.next<string>()) as Json, code: await p.exit }) };
}

/** The channel's five objects and anything else named after it, in /dev/shm. */
function leftovers(name: string): string[] {
  return fs.readdirSync('/dev/shm').filter((f) => f === name || f.startsWith(`${name}#`));
}

/** Resolves once the ring holds the frames of the first k messages and message k's does not fit: the sender is held back. */
async function untilFull(name: string, seed: number, id: number): Promise<void> {
  const region = SharedMemory.openExisting(name);
  try {
    const words = new Int32Array(region.bytes.buffer, region.bytes.byteOffset, 48);
    const messages = new Messages(seed, id, CAPACITY);
    let queued = 0;
    let next = 8 + ((messages.next().length + 7) & ~7);
    for (;;) {
      const used = (Atomics.load(words, 16) - Atomics.load(words, 32) + 2 * CAPACITY) % (2 * CAPACITY);
      while (queued + next <= CAPACITY && used > queued) {
        queued += next;
        next = 8 + ((messages.next().length + 7) & ~7);
      }
      if (used === queued && queued + next > CAPACITY) return;
      await sleep(1);
    }
  } finally {
    region.close();
  }
}

describe.runIf(isLinux)('C and Python peers send to and receive from a Node Channel by its documented layout (Linux)', () => {
  let cPeer = '';
  beforeAll(() => {
    if (!hasCc) return;
    cPeer = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-channel-')), 'channel_peer');
    const cc = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-o', cPeer, path.join(root, 'test/interop/channel/channel_peer.c'), '-lpthread'], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    expect(cc.status).toBe(0);
  });

  describe.runIf(hasCc)('C', () => {
    it('a C sender sends 20,000 messages of 0 to 1 KiB through a 4 KiB ring; Node receive()s each, whole and in order, after the ring filled', async () => {
      const name = uniqueName('cchan');
      const COUNT = 20_000;
      const SEED = 0x2545f491;
      const inbox = Channel.open(name, { capacity: CAPACITY });
      try {
        const c = peer(cPeer, ['send', name, String(COUNT), String(SEED)]);
        // Nothing is received until the C sender has met a full ring: backpressure, by the layout.
        await untilFull(name, SEED, 1);
        const check = new Expect(SEED, 1, CAPACITY);
        while (check.count < COUNT) check.check(await inbox.receive());
        expect(check.failure).toBeUndefined();
        const { line, code } = await c.result();
        expect(code).toBe(0);
        expect(line.sent).toBe(COUNT);
        expect(inbox.tryReceive()).toBeNull();
      } finally {
        inbox.close();
      }
      expect(leftovers(name)).toEqual([]);
    });

    it('Node send()s 20,000 messages through a 4 KiB ring; a C receiver checks each, and some ran past the ring\'s end', async () => {
      const name = uniqueName('cchan');
      const COUNT = 20_000;
      const SEED = 0x1b873593;
      const outbox = Channel.open(name, { capacity: CAPACITY });
      try {
        const c = peer(cPeer, ['receive', name, String(COUNT), String(SEED)]);
        const messages = new Messages(SEED, 1, CAPACITY);
        for (let i = 0; i < COUNT; i++) await outbox.send(messages.next());
        const { line, code } = await c.result();
        expect(line).toMatchObject({ received: COUNT });
        expect(code).toBe(0);
        expect(line.wrapped).toBeGreaterThan(0);
        // The C receiver let go of the receiving end when it was done, so Node may take it.
        expect(outbox.tryReceive()).toBeNull();
        expect(outbox.receiving).toBe(true);
      } finally {
        outbox.close();
      }
      expect(leftovers(name)).toEqual([]);
    });

    it('for await over a channel whose only sender is a C peer takes all its messages and ends once it exits (its holder lock counts it as a sender)', async () => {
      const name = uniqueName('cchan');
      const COUNT = 5000;
      const SEED = 0x3c6ef372;
      const inbox = Channel.open(name, { capacity: CAPACITY });
      try {
        const c = peer(cPeer, ['send', name, String(COUNT), String(SEED)]);
        const check = new Expect(SEED, 1, CAPACITY);
        for await (const message of inbox) check.check(message);
        expect(check.failure).toBeUndefined();
        expect(check.count).toBe(COUNT);
        expect((await c.result()).code).toBe(0);
      } finally {
        inbox.close();
      }
      expect(leftovers(name)).toEqual([]);
    });

    it('while a C receiver holds the receiving end, Node\'s receive is EBUSY; while Node holds it, the C receiver is refused', async () => {
      const name = uniqueName('cchan');
      const channel = Channel.open(name, { capacity: CAPACITY });
      const other = Channel.open(name);
      try {
        const c = peer(cPeer, ['receive', name, '1', '7']);
        // The C receiver holds the end from before its first message until after its last.
        await untilReceiving(name);
        expect(() => channel.tryReceive()).toThrow(expect.objectContaining({ code: 'EBUSY' }));
        other.sendSync(new Messages(7, 1, CAPACITY).next());
        const { line, code } = await c.result();
        expect(code).toBe(0);
        expect(line.received).toBe(1);
        expect(channel.tryReceive()).toBeNull();
        const refused = await peer(cPeer, ['receive', name, '1', '7']).result();
        expect(refused).toEqual({ line: { busy: true }, code: 5 });
      } finally {
        channel.close();
        other.close();
      }
      expect(leftovers(name)).toEqual([]);
    });

    it('two C senders and a Node sender at once, into one Node receiver: every message once, whole, each sender\'s in its order', async () => {
      const name = uniqueName('cchan');
      const COUNT = 10_000;
      const senders = [
        { id: 1, seed: 0x9e3779b9 },
        { id: 2, seed: 0x85ebca6b },
        { id: 3, seed: 0xc2b2ae35 },
      ];
      const inbox = Channel.open(name, { capacity: CAPACITY });
      const nodeOut = Channel.open(name);
      try {
        const cs = senders.slice(0, 2).map((s) => peer(cPeer, ['send', name, String(COUNT), String(s.seed), String(s.id)]));
        const node = senders[2]!;
        const sending = (async () => {
          const messages = new Messages(node.seed, node.id, CAPACITY);
          for (let i = 0; i < COUNT; i++) await nodeOut.send(messages.next());
        })();
        const merged = new Merged(senders);
        for (let i = 0; i < senders.length * COUNT; i++) merged.take(await inbox.receive());
        await sending;
        expect(merged.failure()).toBeUndefined();
        for (const c of cs) {
          const { line, code } = await c.result();
          expect(code).toBe(0);
          expect(line.sent).toBe(COUNT);
        }
        expect(inbox.tryReceive()).toBeNull();
      } finally {
        inbox.close();
        nodeOut.close();
      }
      expect(leftovers(name)).toEqual([]);
    });
  });

  // A bound against a hang, not a speed check: Python is slow, and slower still on a loaded machine.
  describe.runIf(hasPython && pythonFits)('Python', { timeout: 180_000 }, () => {
    it('a Python sender sends 3,000 messages through a 4 KiB ring; Node receiveSync()s each, whole and in order, after the ring filled', async () => {
      const name = uniqueName('pchan');
      const COUNT = 3000;
      const SEED = 0x27d4eb2f;
      const inbox = Channel.open(name, { capacity: CAPACITY });
      try {
        const py = peer('python3', [PY_PEER, 'send', name, String(COUNT), String(SEED)]);
        await untilFull(name, SEED, 1);
        const check = new Expect(SEED, 1, CAPACITY);
        // A bound, so that a lost message fails the test rather than blocking its thread for good.
        while (check.count < COUNT) check.check(inbox.receiveSync(30_000));
        expect(check.failure).toBeUndefined();
        const { line, code } = await py.result();
        expect(code).toBe(0);
        expect(line.sent).toBe(COUNT);
        expect(inbox.tryReceive()).toBeNull();
      } finally {
        inbox.close();
      }
      expect(leftovers(name)).toEqual([]);
    });

    it('Node sendSync()s 3,000 messages through a 4 KiB ring; a Python receiver checks each, and some ran past the ring\'s end', async () => {
      const name = uniqueName('pchan');
      const COUNT = 3000;
      const SEED = 0x165667b1;
      const outbox = Channel.open(name, { capacity: CAPACITY });
      try {
        const py = peer('python3', [PY_PEER, 'receive', name, String(COUNT), String(SEED)]);
        const messages = new Messages(SEED, 1, CAPACITY);
        for (let i = 0; i < COUNT; i++) outbox.sendSync(messages.next(), 30_000);
        const { line, code } = await py.result();
        expect(line).toMatchObject({ received: COUNT });
        expect(code).toBe(0);
        expect(line.wrapped).toBeGreaterThan(0);
      } finally {
        outbox.close();
      }
      expect(leftovers(name)).toEqual([]);
    });

    it('for await over a channel whose only sender is a slow Python peer takes all its messages and ends once it exits', async () => {
      const name = uniqueName('pchan');
      const COUNT = 500;
      const SEED = 0x510e527f;
      const inbox = Channel.open(name, { capacity: CAPACITY });
      try {
        const py = peer('python3', [PY_PEER, 'send', name, String(COUNT), String(SEED)]);
        const check = new Expect(SEED, 1, CAPACITY);
        for await (const message of inbox) check.check(message);
        expect(check.failure).toBeUndefined();
        expect(check.count).toBe(COUNT);
        expect((await py.result()).code).toBe(0);
      } finally {
        inbox.close();
      }
      expect(leftovers(name)).toEqual([]);
    });

    it('while Node holds the receiving end, the Python receiver is refused', async () => {
      const name = uniqueName('pchan');
      const channel = Channel.open(name, { capacity: CAPACITY });
      try {
        expect(channel.tryReceive()).toBeNull();
        expect(await peer('python3', [PY_PEER, 'receive', name, '1', '7']).result()).toEqual({ line: { busy: true }, code: 5 });
      } finally {
        channel.close();
      }
      expect(leftovers(name)).toEqual([]);
    });
  });

  describe.runIf(hasCc && hasPython && pythonFits)('C, Python and Node together', { timeout: 180_000 }, () => {
    it('a C sender, a Python sender and a Node sender at once, into one Node receiver: every message once, whole, each sender\'s in its order', async () => {
      const name = uniqueName('mchan');
      const senders = [
        { id: 1, seed: 0x68e31da4, count: 10_000 },
        { id: 2, seed: 0xb5297a4d, count: 2000 },
        { id: 3, seed: 0x1b56c4e9, count: 10_000 },
      ];
      const [cSender, pySender, nodeSender] = senders as [(typeof senders)[0], (typeof senders)[0], (typeof senders)[0]];
      const inbox = Channel.open(name, { capacity: CAPACITY });
      const nodeOut = Channel.open(name);
      try {
        const others = [
          peer(cPeer, ['send', name, String(cSender.count), String(cSender.seed), String(cSender.id)]),
          peer('python3', [PY_PEER, 'send', name, String(pySender.count), String(pySender.seed), String(pySender.id)]),
        ];
        const sending = (async () => {
          const messages = new Messages(nodeSender.seed, nodeSender.id, CAPACITY);
          for (let i = 0; i < nodeSender.count; i++) await nodeOut.send(messages.next());
        })();
        const merged = new Merged(senders);
        const total = senders.reduce((sum, s) => sum + s.count, 0);
        for (let i = 0; i < total; i++) merged.take(await inbox.receive());
        await sending;
        expect(merged.failure()).toBeUndefined();
        for (const [i, p] of others.entries()) {
          const { line, code } = await p.result();
          expect(code).toBe(0);
          expect(line.sent).toBe(senders[i]!.count);
        }
        expect(inbox.tryReceive()).toBeNull();
      } finally {
        inbox.close();
        nodeOut.close();
      }
      expect(leftovers(name)).toEqual([]);
    });
  });
});

/** Resolves once someone holds the channel's receive mutex (a Node tryLock would take it: look at the lock word instead). */
async function untilReceiving(name: string): Promise<void> {
  const fd = fs.openSync(`/dev/shm/${name}#receive`, 'r');
  try {
    const word = Buffer.alloc(4);
    for (;;) {
      fs.readSync(fd, word, 0, 4, 16);
      if (word.readUInt32LE(0) !== 0) return;
      await sleep(1);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Checks the messages of several senders as one receiver sees them interleaved. A non-empty
 * message names its sender (byte 3 of a long one, byte 0 of a short one); an empty one cannot, so
 * empties are counted: when a sender's message comes, the empties it sent before it must have come.
 */
class Merged {
  readonly #senders = new Map<number, { messages: Messages; pending: Uint8Array; emptiesBefore: number }>();
  #empties = 0;
  #owed = 0;
  #failure: string | undefined;
  constructor(senders: Array<{ id: number; seed: number }>) {
    for (const s of senders) {
      const messages = new Messages(s.seed, s.id, CAPACITY);
      this.#senders.set(s.id, { messages, pending: messages.next(), emptiesBefore: 0 });
    }
  }

  take(got: Uint8Array): void {
    if (this.#failure) return;
    if (got.length === 0) {
      this.#empties++;
      return;
    }
    const id = got.length >= 8 ? got[3]! : got[0]!;
    const s = this.#senders.get(id);
    if (!s) {
      this.#failure = `a message from no sender: ${describeMessage(got)}`;
      return;
    }
    while (s.pending.length === 0) {
      this.#owed++;
      s.pending = s.messages.next();
    }
    if (!sameBytes(got, s.pending)) {
      this.#failure = `sender ${id}, message ${s.messages.sent - 1}: got ${describeMessage(got)}, want ${describeMessage(s.pending)}`;
      return;
    }
    if (this.#empties < this.#owed) this.#failure = `sender ${id}'s message ${s.messages.sent - 1} came before an empty message it sent earlier`;
    s.pending = s.messages.next();
  }

  failure(): string | undefined {
    return this.#failure;
  }
}
