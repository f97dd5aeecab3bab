// Channel's promises within a process and its threads: opening, what a message is, order and
// integrity through wrap-around, backpressure, waits (timeout, abort, close), the one receiver,
// the end of `for await`, and a ring written outside the protocol. Many processes are in
// channel-storm.test.ts, crashes in channel-crash.test.ts, C and Python peers in interop-channel.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, SharedMemory } from '../lib/index.js';
import { errorOf, isLinux, isWindows, shmPath, uniqueName } from './helpers.js';
import { skipUnder } from './runtimes/gates.js';

const hasChannel = isLinux || isWindows;
const opened: Channel[] = [];
const open = (name: string, options?: Parameters<typeof Channel.open>[1]) => {
  const ch = Channel.open(name, options);
  opened.push(ch);
  return ch;
};
afterEach(() => {
  for (const ch of opened.splice(0)) ch.close();
});
const rejectionOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('it resolved');
};
const text = new TextDecoder();

describe.runIf(hasChannel)('opening a channel', () => {
  it('open creates the channel the first time and opens it afterwards', () => {
    const name = uniqueName('ch');
    expect(open(name).created).toBe(true);
    expect(open(name).created).toBe(false);
  });

  it('create refuses a name that is taken with EEXIST, and openExisting a free one with ENOENT', () => {
    const name = uniqueName('ch');
    open(name);
    expect(errorOf(() => Channel.create(name))).toMatchObject({ code: 'EEXIST' });
    expect(errorOf(() => Channel.openExisting(uniqueName('ch')))).toMatchObject({ code: 'ENOENT' });
  });

  it('holds 1 MiB of message space by default, and a capacity rounded up to a multiple of 8 when asked', () => {
    expect(open(uniqueName('ch')).capacity).toBe(1024 * 1024);
    const small = open(uniqueName('ch'), { capacity: 100 });
    expect(small.capacity).toBe(104);
    expect(small.maxMessageBytes).toBe(96);
  });

  it('an existing channel keeps its capacity, and refuses to be opened as a larger one with EINVAL', () => {
    const name = uniqueName('ch');
    open(name, { capacity: 4096 });
    expect(open(name, { capacity: 64 }).capacity).toBe(4096);
    expect(Channel.openExisting(name).capacity).toBe(4096);
    expect(errorOf(() => Channel.open(name, { capacity: 8192 }))).toMatchObject({ code: 'EINVAL' });
  });

  it('refuses bad names and options as Node does', () => {
    expect(errorOf(() => Channel.open(42 as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(errorOf(() => Channel.open(uniqueName('ch'), { capacity: '64' } as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(errorOf(() => Channel.open(uniqueName('ch'), { capacity: 8 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(errorOf(() => Channel.open(uniqueName('ch'), { capacity: 2 ** 31 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(errorOf(() => Channel.open(uniqueName('ch'), { capasity: 64 } as never))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('refuses a region that is not a channel with EINVAL, and leaves it as it was', () => {
    const name = uniqueName('ch');
    const region = SharedMemory.open(name, { size: 8192 });
    try {
      region.writeString('not a channel');
      expect(errorOf(() => Channel.open(name))).toMatchObject({ code: 'EINVAL' });
      expect(region.readString()).toBe('not a channel');
    } finally {
      region.close();
    }
  });

  it.runIf(isLinux)('is made of owner-only objects (0600) unless a mode is given, and they go away with the last holder', () => {
    const name = uniqueName('ch');
    const ch = Channel.open(name, { capacity: 64 });
    const parts = [name, `${name}#changes`, `${name}#space#changes`, `${name}#send`, `${name}#receive`];
    for (const part of parts) expect(fs.statSync(shmPath(part)).mode & 0o777).toBe(0o600);
    ch.close();
    for (const part of parts) expect(fs.existsSync(shmPath(part))).toBe(false);
    const shared = uniqueName('ch');
    const other = open(shared, { capacity: 64, mode: 0o660 });
    expect(fs.statSync(shmPath(shared)).mode & 0o777).toBe(0o660);
    other.close();
  });
});

describe.runIf(hasChannel)('messages', () => {
  it('arrive in the order sent, whole: bytes, strings and empty messages', () => {
    const ch = open(uniqueName('ch'), { capacity: 256 });
    expect(ch.trySend(new Uint8Array([1, 2, 3]))).toBe(true);
    expect(ch.trySend('grüße')).toBe(true);
    expect(ch.trySend(new Uint8Array(0))).toBe(true);
    expect(ch.trySend('')).toBe(true);
    expect(ch.tryReceive()).toEqual(new Uint8Array([1, 2, 3]));
    expect(ch.tryReceiveString()).toBe('grüße');
    expect(ch.tryReceive()).toEqual(new Uint8Array(0));
    expect(ch.tryReceiveString()).toBe('');
    expect(ch.tryReceive()).toBeNull();
  });

  it('keep every byte through thousands of wrap-arounds of a small ring', () => {
    const ch = open(uniqueName('ch'), { capacity: 200 });
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 20_000; i++) {
      const m = new Uint8Array(Math.floor(random() * (ch.maxMessageBytes + 1)));
      for (let j = 0; j < m.length; j++) m[j] = (i + j * 31) & 0xff;
      expect(ch.trySend(m)).toBe(true);
      const got = ch.tryReceive();
      if (got === null || got.length !== m.length || !got.every((b, j) => b === m[j])) {
        throw new Error(`message ${i} of ${m.length} bytes came back as ${got?.length} bytes, or changed`);
      }
    }
  });

  it('strings that wrap around the ring end come back whole', () => {
    const ch = open(uniqueName('ch'), { capacity: 64 });
    for (let i = 0; i < 100; i++) {
      const s = 'é€😀'.repeat(1 + (i % 4));
      expect(ch.trySend(s)).toBe(true);
      expect(ch.tryReceiveString()).toBe(s);
    }
  });

  it('are copied in: changing the source after send() changes nothing', () => {
    const ch = open(uniqueName('ch'), { capacity: 64 });
    const m = new Uint8Array([9, 9, 9]);
    ch.trySend(m);
    m.fill(0);
    expect(ch.tryReceive()).toEqual(new Uint8Array([9, 9, 9]));
  });

  it('a message larger than the channel can ever hold is a RangeError at once, and nothing is sent', () => {
    const ch = open(uniqueName('ch'), { capacity: 64 });
    const err = errorOf(() => ch.trySend(new Uint8Array(57)));
    expect(err).toBeInstanceOf(RangeError);
    expect(err).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(errorOf(() => ch.sendSync('x'.repeat(57)))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(ch.tryReceive()).toBeNull();
    expect(ch.trySend(new Uint8Array(56))).toBe(true);
  });

  it('refuses what is not a message as Node does: other types, and strings UTF-8 cannot hold', async () => {
    const ch = open(uniqueName('ch'), { capacity: 64 });
    expect(errorOf(() => ch.trySend(42 as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(errorOf(() => ch.trySend([1, 2] as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(errorOf(() => ch.trySend('\ud800'))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(await rejectionOf(ch.send(null as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(ch.tryReceive()).toBeNull();
  });
});

describe.runIf(hasChannel)('a full channel', () => {
  it('trySend says false and sends nothing', () => {
    const ch = open(uniqueName('ch'), { capacity: 64 });
    expect(ch.trySend(new Uint8Array(40))).toBe(true);
    expect(ch.trySend(new Uint8Array(9))).toBe(false);
    expect(ch.tryReceive()!.length).toBe(40);
    expect(ch.tryReceive()).toBeNull();
  });

  it('send() waits until the receiver makes room, then sends', async () => {
    const ch = open(uniqueName('ch'), { capacity: 64 });
    ch.trySend(new Uint8Array(48).fill(1));
    let sent = false;
    const pending = ch.send(new Uint8Array(48).fill(2)).then(() => (sent = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toBe(false);
    expect(ch.tryReceive()![0]).toBe(1);
    await pending;
    expect(ch.tryReceive()![0]).toBe(2);
  });

  it('send() and sendSync() give ETIMEDOUT at their timeout, and send nothing', async () => {
    const ch = open(uniqueName('ch'), { capacity: 64 });
    ch.trySend(new Uint8Array(56));
    expect(await rejectionOf(ch.send('x', { timeout: 30 }))).toMatchObject({ code: 'ETIMEDOUT', syscall: 'send' });
    expect(errorOf(() => ch.sendSync('x', 30))).toMatchObject({ code: 'ETIMEDOUT' });
    expect(ch.tryReceive()!.length).toBe(56);
    expect(ch.tryReceive()).toBeNull();
  });

  it('send() rejects with an AbortError when aborted, and sends nothing', async () => {
    const ch = open(uniqueName('ch'), { capacity: 64 });
    ch.trySend(new Uint8Array(56));
    const ac = new AbortController();
    const pending = ch.send('x', { signal: ac.signal });
    ac.abort();
    expect(await rejectionOf(pending)).toMatchObject({ name: 'AbortError' });
    ch.tryReceive();
    expect(ch.tryReceive()).toBeNull();
  });
});

describe.runIf(hasChannel)('a sender that stops holding the send lock', () => {
  it('makes trySend() false after a short wait, and sendSync() time out, instead of hanging', async () => {
    const name = uniqueName('ch');
    const ch = open(name, { capacity: 64 });
    // A worker stands in for a stopped process: it takes the send lock and keeps it.
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       import(workerData.dist).then(({ NamedMutex }) => {
         const lock = NamedMutex.openExisting(workerData.name + '#send');
         const guard = lock.tryLock();
         parentPort.postMessage(guard ? 'held' : 'busy');
         parentPort.once('message', () => { guard.unlock(); lock.close(); parentPort.postMessage('let go'); });
       });`,
      { eval: true, workerData: { name, dist: new URL('../dist/index.js', import.meta.url).href } },
    );
    const next = () => new Promise((r) => worker.once('message', r));
    try {
      expect(await next()).toBe('held');
      expect(ch.trySend('x')).toBe(false);
      expect(errorOf(() => ch.sendSync('x', 50))).toMatchObject({ code: 'ETIMEDOUT' });
      expect(ch.tryReceive()).toBeNull();
      worker.postMessage('let go');
      expect(await next()).toBe('let go');
      expect(ch.trySend('x')).toBe(true);
    } finally {
      await worker.terminate();
    }
  });
});

describe.runIf(hasChannel)('receiving', () => {
  it('receive() waits for a message sent later, without blocking the event loop', async () => {
    const ch = open(uniqueName('ch'), { capacity: 64 });
    const got = ch.receiveString();
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const tick = () => (++ticks === 5 ? resolve() : setTimeout(tick, 5));
      setTimeout(tick, 5);
    });
    ch.trySend('later');
    expect(await got).toBe('later');
    expect(ticks).toBe(5);
  });

  it('receive() and receiveSync() give ETIMEDOUT at their timeout; tryReceive() gives null at once', async () => {
    const ch = open(uniqueName('ch'), { capacity: 64 });
    expect(ch.tryReceive()).toBeNull();
    expect(await rejectionOf(ch.receive({ timeout: 30 }))).toMatchObject({ code: 'ETIMEDOUT', syscall: 'receive' });
    expect(errorOf(() => ch.receiveSync(30))).toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('receive() rejects with an AbortError when aborted, and takes nothing afterwards', async () => {
    const ch = open(uniqueName('ch'), { capacity: 64 });
    const ac = new AbortController();
    const pending = ch.receive({ signal: ac.signal });
    ac.abort();
    expect(await rejectionOf(pending)).toMatchObject({ name: 'AbortError' });
    ch.trySend('kept');
    expect(ch.tryReceiveString()).toBe('kept');
  });

  it('close() rejects a pending receive() with ERR_SHM_CLOSED, and every later call too', async () => {
    const ch = Channel.open(uniqueName('ch'), { capacity: 64 });
    const pending = ch.receive();
    ch.close();
    expect(await rejectionOf(pending)).toMatchObject({ code: 'ERR_SHM_CLOSED' });
    expect(errorOf(() => ch.trySend('x'))).toMatchObject({ code: 'ERR_SHM_CLOSED' });
    expect(errorOf(() => ch.tryReceive())).toMatchObject({ code: 'ERR_SHM_CLOSED' });
    expect(ch.closed).toBe(true);
    ch.close();
  });

  it('close() rejects a send() waiting for room with ERR_SHM_CLOSED', async () => {
    const ch = Channel.open(uniqueName('ch'), { capacity: 64 });
    ch.trySend(new Uint8Array(56));
    const pending = ch.send('x');
    ch.close();
    expect(await rejectionOf(pending)).toMatchObject({ code: 'ERR_SHM_CLOSED' });
  });

  it('one receiver at a time: a second handle gets EBUSY until the first closes', () => {
    const name = uniqueName('ch');
    const first = open(name, { capacity: 64 });
    const second = open(name);
    expect(first.tryReceive()).toBeNull();
    expect(first.receiving).toBe(true);
    expect(errorOf(() => second.tryReceive())).toMatchObject({ code: 'EBUSY', syscall: 'receive' });
    second.trySend('to the first');
    expect(first.tryReceiveString()).toBe('to the first');
    first.close();
    second.trySend('to the second');
    expect(second.tryReceiveString()).toBe('to the second');
  });

  it('a receiver in a worker keeps the receiving end from this thread, and its end gives it back', async () => {
    const name = uniqueName('ch');
    const ch = open(name, { capacity: 256 });
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       import(workerData.dist).then(({ Channel }) => {
         const ch = Channel.openExisting(workerData.name);
         ch.tryReceive();
         parentPort.postMessage('receiving');
         parentPort.once('message', () => { ch.close(); parentPort.postMessage('closed'); });
       });`,
      { eval: true, workerData: { name, dist: new URL('../dist/index.js', import.meta.url).href } },
    );
    const next = () => new Promise((r) => worker.once('message', r));
    expect(await next()).toBe('receiving');
    expect(errorOf(() => ch.tryReceive())).toMatchObject({ code: 'EBUSY' });
    worker.postMessage('close');
    expect(await next()).toBe('closed');
    expect(ch.tryReceive()).toBeNull();
    await worker.terminate();
  });
});

describe.runIf(hasChannel)('for await', () => {
  it('yields every message, and ends once every sender has closed and the ring is empty', async () => {
    const name = uniqueName('ch');
    const receiver = open(name, { capacity: 64 });
    const sender = Channel.openExisting(name);
    const got: string[] = [];
    const loop = (async () => {
      for await (const m of receiver) got.push(text.decode(m));
    })();
    for (const s of ['a', 'b', 'c']) await sender.send(s);
    sender.close();
    await loop;
    expect(got).toEqual(['a', 'b', 'c']);
  });

  it('waits for a sender that has not come yet instead of ending at once', async () => {
    const name = uniqueName('ch');
    const receiver = open(name, { capacity: 64 });
    const got: string[] = [];
    const loop = (async () => {
      for await (const m of receiver) got.push(text.decode(m));
    })();
    await new Promise((r) => setTimeout(r, 150));
    const sender = Channel.openExisting(name);
    await sender.send('late');
    sender.close();
    await loop;
    expect(got).toEqual(['late']);
  });

  it.skipIf(skipUnder(['deno'], 'channel.test.ts: the killed sender is `node --input-type=module -e`, which Deno 2.9.6 runs as a script (SyntaxError at the top-level await); test/runtimes/mixed-runtime.test.ts kills a Deno sender run from a file instead'))(
    'ends when the last sender is killed, since the OS no longer counts it as a holder', async () => {
    const name = uniqueName('ch');
    const receiver = open(name, { capacity: 64 });
    const dist = new URL('../dist/index.js', import.meta.url).href;
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', `const { Channel } = await import(${JSON.stringify(dist)}); const ch = Channel.openExisting(${JSON.stringify(name)}); await ch.send('last words'); console.log('sent'); setInterval(() => {}, 1000);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const gone = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    const got: string[] = [];
    const loop = (async () => {
      for await (const m of receiver) got.push(text.decode(m));
    })();
    child.kill('SIGKILL');
    await gone;
    await loop;
    expect(got).toEqual(['last words']);
  });

  it('break leaves the channel open and the messages not yet taken in it', async () => {
    const ch = open(uniqueName('ch'), { capacity: 64 });
    ch.trySend('1');
    ch.trySend('2');
    for await (const m of ch) {
      expect(text.decode(m)).toBe('1');
      break;
    }
    expect(ch.closed).toBe(false);
    expect(ch.tryReceiveString()).toBe('2');
  });
});

describe.runIf(hasChannel)('a ring written outside the protocol', () => {
  it('a frame longer than what follows it is EBADMSG, not a crash or an endless read', () => {
    const name = uniqueName('ch');
    const ch = open(name, { capacity: 64 });
    ch.trySend('hello');
    const region = SharedMemory.openExisting(name);
    try {
      new DataView(region.bytes.buffer, region.bytes.byteOffset).setUint32(192, 1000, true);
      expect(errorOf(() => ch.tryReceive())).toMatchObject({ code: 'EBADMSG' });
    } finally {
      region.close();
    }
  });

  it('a tail outside the ring is EBADMSG for the receiver and for senders', () => {
    const name = uniqueName('ch');
    const ch = open(name, { capacity: 64 });
    const region = SharedMemory.openExisting(name);
    try {
      new DataView(region.bytes.buffer, region.bytes.byteOffset).setUint32(64, 0xfffffff8, true);
      expect(errorOf(() => ch.tryReceive())).toMatchObject({ code: 'EBADMSG' });
      expect(errorOf(() => ch.trySend('x'))).toMatchObject({ code: 'EBADMSG' });
      // The send lock was let go: a repaired ring takes messages again.
      new DataView(region.bytes.buffer, region.bytes.byteOffset).setUint32(64, 0, true);
      expect(ch.trySend('x')).toBe(true);
    } finally {
      region.close();
    }
  });
});

// What a peer killed between publishing and waking leaves: the ring changed, and no wake-up came.
// The README promises a look at the ring every 100 ms; these allow a hundred times that before
// they call the message unseen (a liveness bound, not a measure of speed).
const UNSEEN_AFTER_MS = 10_000;
const within = <T>(p: Promise<T>) =>
  Promise.race([p, new Promise<string>((r) => setTimeout(() => r('unseen'), UNSEEN_AFTER_MS).unref())]);

describe.runIf(hasChannel)('a peer that died between publishing and waking', () => {
  /** Publishes 'hi' as the first frame of a fresh channel's ring as a sender would, then stops: no notify. */
  const publishWithoutWaking = (bytes: Uint8Array) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    view.setUint32(192, 2, true);
    bytes.set(new TextEncoder().encode('hi'), 200);
    Atomics.store(new Int32Array(bytes.buffer, bytes.byteOffset, 48), 16, 16);
  };

  it('a sleeping receive() still gets the message, when it next looks at the ring', async () => {
    const name = uniqueName('ch');
    const ch = open(name, { capacity: 64 });
    const got = within(ch.receiveString());
    await new Promise((r) => setTimeout(r, 20));
    const region = SharedMemory.openExisting(name);
    try {
      publishWithoutWaking(region.bytes);
      expect(await got).toBe('hi');
    } finally {
      region.close();
    }
  });

  it('a send() waiting for room goes on when the room appears without a wake-up', async () => {
    const name = uniqueName('ch');
    const ch = open(name, { capacity: 64 });
    ch.trySend(new Uint8Array(56));
    const sent = within(ch.send('next').then(() => 'sent'));
    await new Promise((r) => setTimeout(r, 20));
    const region = SharedMemory.openExisting(name);
    try {
      // The receiver's half of taking the message: head moves past it, and nobody is woken.
      Atomics.store(new Int32Array(region.bytes.buffer, region.bytes.byteOffset, 48), 32, 64);
      expect(await sent).toBe('sent');
      expect(ch.tryReceiveString()).toBe('next');
    } finally {
      region.close();
    }
  });
});
