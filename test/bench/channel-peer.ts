// One Node side of the channel section of `npm run bench` (test/bench/channel.ts starts it under
// `taskset`):
//
//   channel-peer.ts rt <sync|async|unix> <a|b> <warm-up> <timed> <name>
//   channel-peer.ts rt <ipc|port> a <warm-up> <timed> - [cpu list of b]
//   channel-peer.ts tp <sync|async|unix> <send|recv> <bytes> <ms> <warm-up ms> <name>
//   channel-peer.ts tp <ipc|port> send <bytes> <ms> <warm-up ms> - [cpu list of the receiver]
//
// rt, round trips: side a sends the 21-byte 'This is a test string' and waits for it to come
// back; side b sends back every message it gets. sync: two Channels, ping (a to b) and pong
// (b to a), `sendSync` + `receiveSync` on both sides; async: the same with `await send()` and
// `await receive()`; unix: a `node:net` Unix domain socket (<name> is its path; b listens), b
// writes back every chunk, a waits for all 21 bytes; ipc: a forks b and `process.send`s the
// string, b sends it back; port: a worker thread of a, over a MessagePort. Side a times every
// round trip with process.hrtime and prints "ok" and the nanoseconds of the timed ones.
//
// tp, one-way throughput: the sender sends messages of <bytes> bytes for <ms> milliseconds,
// then an end mark; the receiver takes a copy of each, starts counting <warm-up ms> after its
// first message and prints "ok <messages counted> <nanoseconds>" when the end mark comes.
// sync and async: one Channel of 1 MiB (sendSync/receiveSync, or await send()/receive()), the
// end mark an empty message; unix: the sender writes each message with socket.write (waiting for
// 'drain' when write says so) and ends the socket, the receiver counts bytes; ipc: the sender
// forks the receiver (serialization 'advanced', so a Uint8Array arrives as one) and waits for a
// send's callback whenever send() says the channel is backed up; port: two worker threads of one
// process over a MessagePort, the sender never more than 1 MiB (at least 16 messages) ahead of the
// receiver's acknowledgements (postMessage has no backpressure of its own).
//
// A side that listens or receives first prints "ready" once it can be sent to; the harness starts
// the other side then. A side that hears nothing for 30 s gives up.
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { Channel } from '../../lib/index.ts';

const PATIENCE_MS = 30_000;
const S21 = 'This is a test string';
const WINDOW_BYTES = 1 << 20;
const self = fileURLToPath(import.meta.url);

function fail(why: string): never {
  console.error(`channel-peer ${process.argv.slice(2, 5).join(' ')}: ${why}`);
  process.exit(3);
}

function ready(): void {
  process.stdout.write('ready\n');
}

function reportTimes(ns: Float64Array): void {
  process.stdout.write(`ok ${Array.from(ns, (v) => v.toFixed(0)).join(' ')}\n`);
}

function payload(bytes: number): Uint8Array {
  const m = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) m[i] = (i * 31 + 7) & 0xff;
  return m;
}

/** Times `timed` round trips after `warm` untimed ones. */
async function timeRoundTrips(warm: number, timed: number, once: () => Promise<void> | void): Promise<Float64Array> {
  for (let i = 0; i < warm; i++) await once();
  const ns = new Float64Array(timed);
  for (let i = 0; i < timed; i++) {
    const t0 = process.hrtime.bigint();
    await once();
    ns[i] = Number(process.hrtime.bigint() - t0);
  }
  return ns;
}

/** Counts messages from the first one: starts the clock `warmMs` after it, stops it at end(). */
class Counter {
  #first = 0;
  #t0 = 0;
  #counted = 0;
  #total = 0;
  constructor(readonly warmMs: number) {}
  /** One message (or `n` of them: the Unix socket counts bytes). */
  add(n = 1): void {
    this.#total += n;
    if (this.#t0 !== 0) {
      this.#counted += n;
      return;
    }
    const t = performance.now();
    if (this.#first === 0) this.#first = t;
    else if (t - this.#first >= this.warmMs) this.#t0 = t;
  }
  result(): string {
    const t1 = performance.now();
    if (this.#t0 === 0) fail(`the sender stopped within the warm-up (${this.#total} messages)`);
    return `ok ${this.#counted} ${Math.round((t1 - this.#t0) * 1e6)}`;
  }
}

/** Calls `more()` until `ms` have passed since the first call, looking at the clock every 16 calls. */
async function sendFor(ms: number, more: () => Promise<void> | void): Promise<void> {
  const end = performance.now() + ms;
  for (let n = 0; ; n++) {
    await more();
    if ((n & 15) === 15 && performance.now() >= end) return;
  }
}

/** The same without an await per message, for the blocking calls. */
function sendForSync(ms: number, more: () => void): void {
  const end = performance.now() + ms;
  for (let n = 0; ; n++) {
    more();
    if ((n & 15) === 15 && performance.now() >= end) return;
  }
}

// ---- Worker threads (port) ------------------------------------------------------------------------

interface WorkerJob {
  job: 'echo' | 'send' | 'recv';
  port: MessagePort;
  bytes?: number;
  ms?: number;
  warmMs?: number;
}

/**
 * The worker threads' code, plain JavaScript run with `eval: true` (a worker of Node 20 does not
 * get tsx's loader): the same Counter and sendFor as above.
 */
const WORKER_JS = `
const { parentPort, workerData } = require('node:worker_threads');
const { job, port, bytes, ms, warmMs } = workerData;
if (job === 'echo') {
  port.on('message', (m) => (m === null ? port.close() : port.postMessage(m)));
} else {
  const windowMessages = Math.max(16, Math.floor(${WINDOW_BYTES} / bytes));
  const ackEvery = Math.max(1, windowMessages >> 2);
  if (job === 'recv') {
    let first = 0, t0 = 0, counted = 0, total = 0, got = 0;
    port.on('message', (m) => {
      if (typeof m === 'string') {
        const t1 = performance.now();
        parentPort.postMessage(t0 === 0 ? 'fail: the sender stopped within the warm-up (' + total + ' messages)' : 'ok ' + counted + ' ' + Math.round((t1 - t0) * 1e6));
        port.close();
        return;
      }
      if (m.length !== bytes) parentPort.postMessage('fail: a message of ' + m.length + ' bytes');
      total++;
      if (t0 !== 0) counted++;
      else {
        const t = performance.now();
        if (first === 0) first = t;
        else if (t - first >= warmMs) t0 = t;
      }
      if (++got % ackEvery === 0) port.postMessage(got);
    });
    parentPort.postMessage('ready');
  } else {
    const m = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) m[i] = (i * 31 + 7) & 0xff;
    let acked = 0, sent = 0, wake;
    port.on('message', (n) => {
      acked = n;
      if (wake) wake();
    });
    (async () => {
      const end = performance.now() + ms;
      for (let n = 0; ; n++) {
        while (sent - acked >= windowMessages) await new Promise((resolve) => (wake = resolve));
        port.postMessage(m);
        sent++;
        if ((n & 15) === 15 && performance.now() >= end) break;
      }
      port.postMessage('end');
      port.close();
    })();
  }
}
`;

function startWorker(job: WorkerJob): Worker {
  return new Worker(WORKER_JS, { eval: true, workerData: job, transferList: [job.port] });
}

// ---- Round trips ------------------------------------------------------------------------------------

async function roundTrips(impl: string, side: string, warm: number, timed: number, name: string, cpuB: string | undefined): Promise<void> {
  const total = warm + timed;
  if (impl === 'sync' || impl === 'async') {
    const ping = Channel.open(`${name}-ping`, { capacity: 4096 });
    const pong = Channel.open(`${name}-pong`, { capacity: 4096 });
    const options = { timeout: PATIENCE_MS };
    if (side === 'b') {
      ready();
      if (impl === 'sync') {
        for (let i = 0; i < total; i++) pong.sendSync(ping.receiveSync(PATIENCE_MS), PATIENCE_MS);
      } else {
        for (let i = 0; i < total; i++) await pong.send(await ping.receive(options), options);
      }
    } else {
      let back = 0;
      const ns =
        impl === 'sync'
          ? await timeRoundTrips(warm, timed, () => {
              ping.sendSync(S21, PATIENCE_MS);
              back = pong.receiveSync(PATIENCE_MS).length;
            })
          : await timeRoundTrips(warm, timed, async () => {
              await ping.send(S21, options);
              back = (await pong.receive(options)).length;
            });
      if (back !== 21) fail(`${back} bytes came back`);
      reportTimes(ns);
    }
    ping.close();
    pong.close();
    return;
  }
  if (impl === 'unix') {
    if (side === 'b') {
      let left = total * 21;
      const server = net.createServer((socket) => {
        socket.on('data', (d) => {
          socket.write(d);
          left -= d.length;
          if (left <= 0) {
            socket.end();
            server.close();
          }
        });
      });
      server.listen(name, ready);
      return;
    }
    const socket = net.createConnection(name);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let got = 0;
    let answer: (() => void) | undefined;
    socket.on('data', (d) => {
      got += d.length;
      if (got >= 21) {
        got -= 21;
        answer?.();
      }
    });
    const watchdog = setTimeout(() => fail('no answer'), PATIENCE_MS * 4);
    const ns = await timeRoundTrips(warm, timed, () => new Promise<void>((resolve) => {
      answer = resolve;
      socket.write(S21);
    }));
    clearTimeout(watchdog);
    reportTimes(ns);
    socket.end();
    return;
  }
  if (impl === 'ipc') {
    if (side === 'b') {
      process.on('message', (m) => process.send!(m));
      process.once('disconnect', () => process.exit(0));
      return;
    }
    const options = cpuB ? { execPath: 'taskset', execArgv: ['-c', cpuB, process.execPath, ...process.execArgv] } : {};
    const child = fork(self, ['rt', 'ipc', 'b', '0', '0', '-'], { ...options, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answer: (() => void) | undefined;
    child.on('message', () => answer?.());
    child.on('exit', (code) => code !== 0 && fail(`side b exited (${code})`));
    const watchdog = setTimeout(() => fail('no answer'), PATIENCE_MS * 4);
    const ns = await timeRoundTrips(warm, timed, () => new Promise<void>((resolve) => {
      answer = resolve;
      child.send(S21);
    }));
    clearTimeout(watchdog);
    reportTimes(ns);
    child.disconnect();
    return;
  }
  if (impl === 'port') {
    const { port1, port2 } = new MessageChannel();
    const worker = startWorker({ job: 'echo', port: port2 });
    let answer: (() => void) | undefined;
    port1.on('message', () => answer?.());
    const watchdog = setTimeout(() => fail('no answer'), PATIENCE_MS * 4);
    const ns = await timeRoundTrips(warm, timed, () => new Promise<void>((resolve) => {
      answer = resolve;
      port1.postMessage(S21);
    }));
    clearTimeout(watchdog);
    reportTimes(ns);
    port1.postMessage(null);
    port1.close();
    await worker.terminate();
    return;
  }
  fail(`no round trip called ${impl}`);
}

// ---- Throughput ------------------------------------------------------------------------------------

async function throughput(impl: string, side: string, bytes: number, ms: number, warmMs: number, name: string, cpuB: string | undefined): Promise<void> {
  if (impl === 'sync' || impl === 'async') {
    const channel = Channel.open(name, { capacity: WINDOW_BYTES });
    const options = { timeout: PATIENCE_MS };
    if (side === 'recv') {
      const counter = new Counter(warmMs);
      ready();
      if (impl === 'sync') {
        for (;;) {
          const m = channel.receiveSync(PATIENCE_MS);
          if (m.length === 0) break;
          counter.add();
        }
      } else {
        for (;;) {
          const m = await channel.receive(options);
          if (m.length === 0) break;
          counter.add();
        }
      }
      process.stdout.write(`${counter.result()}\n`);
    } else {
      const m = payload(bytes);
      if (impl === 'sync') sendForSync(ms, () => channel.sendSync(m, PATIENCE_MS));
      else await sendFor(ms, () => channel.send(m, options));
      channel.sendSync(new Uint8Array(0), PATIENCE_MS);
    }
    channel.close();
    return;
  }
  if (impl === 'unix') {
    if (side === 'recv') {
      const counter = new Counter(warmMs);
      const server = net.createServer((socket) => {
        server.close();
        let partial = 0;
        socket.on('data', (d) => {
          partial += d.length;
          const whole = Math.floor(partial / bytes);
          partial -= whole * bytes;
          if (whole > 0) counter.add(whole);
        });
        socket.on('end', () => process.stdout.write(`${counter.result()}\n`));
      });
      server.listen(name, ready);
      return;
    }
    const socket = net.createConnection(name);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const m = Buffer.from(payload(bytes));
    await sendFor(ms, () => {
      if (!socket.write(m)) return new Promise<void>((resolve) => socket.once('drain', resolve));
    });
    socket.end();
    return;
  }
  if (impl === 'ipc') {
    if (side === 'recv') {
      const counter = new Counter(warmMs);
      process.on('message', (m: Uint8Array | string) => {
        if (typeof m === 'string') {
          process.send!(counter.result());
          return;
        }
        if (m.length !== bytes) fail(`a message of ${m.length} bytes`);
        counter.add();
      });
      process.once('disconnect', () => process.exit(0));
      process.send!('ready');
      return;
    }
    const options = cpuB ? { execPath: 'taskset', execArgv: ['-c', cpuB, process.execPath, ...process.execArgv] } : {};
    const child = fork(self, ['tp', 'ipc', 'recv', String(bytes), String(ms), String(warmMs), '-'], {
      ...options,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const result = new Promise<string>((resolve) => child.on('message', (r) => r !== 'ready' && resolve(r as string)));
    child.on('exit', (code) => code !== 0 && fail(`the receiver exited (${code})`));
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    const m = payload(bytes);
    let sent = 0;
    let written = 0;
    let wake: (() => void) | undefined;
    const onWritten = () => {
      written++;
      if (written === sent) wake?.();
    };
    await sendFor(ms, () => {
      sent++;
      if (!child.send(m, onWritten) && written < sent) return new Promise<void>((resolve) => (wake = resolve));
    });
    child.send('end');
    const watchdog = setTimeout(() => fail('no result'), PATIENCE_MS);
    process.stdout.write(`${await result}\n`);
    clearTimeout(watchdog);
    child.disconnect();
    return;
  }
  if (impl === 'port') {
    const { port1, port2 } = new MessageChannel();
    const receiver = startWorker({ job: 'recv', port: port2, bytes, ms, warmMs });
    const result = new Promise<string>((resolve) =>
      receiver.on('message', (m: string) => {
        if (m.startsWith('fail: ')) fail(m.slice(6));
        if (m !== 'ready') resolve(m);
      }),
    );
    await new Promise<void>((resolve) => receiver.once('message', () => resolve()));
    const sender = startWorker({ job: 'send', port: port1, bytes, ms, warmMs });
    const watchdog = setTimeout(() => fail('no result'), PATIENCE_MS);
    process.stdout.write(`${await result}\n`);
    clearTimeout(watchdog);
    await Promise.all([sender.terminate(), receiver.terminate()]);
    return;
  }
  fail(`no throughput case called ${impl}`);
}

{
  const [what, impl, side, a1, a2, a3, a4, a5] = process.argv.slice(2);
  if (what === 'rt') await roundTrips(impl!, side!, Number(a1), Number(a2), a3!, a4);
  else if (what === 'tp') await throughput(impl!, side!, Number(a1), Number(a2), Number(a3), a4!, a5);
  else fail('usage: see the head of test/bench/channel-peer.ts');
}
