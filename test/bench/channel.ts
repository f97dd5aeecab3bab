// The channel section of `npm run bench`: what a message through a `Channel` costs between two
// processes, next to the other ways Node has of passing one, and next to C on a ring in shared
// memory.
//
// Round trips of the 21-byte 'This is a test string': `sendSync` + `receiveSync` on both sides,
// `await send()` + `await receive()` on both sides (two Channels, ping and pong), a C ring in
// shared memory with both sides spinning (test/bench/channel-ring.c, built here with `cc -O2`), a
// Unix domain socket (`node:net`), a worker thread over a MessagePort, and Node's fork +
// `process.send`. One-way throughput of 64-byte and 64 KiB messages from one sender to one
// receiver: the same, but for the MessagePort, which joins two worker threads of one process.
// Protocols: test/bench/channel-peer.ts. Every measurement runs in fresh processes started under
// `taskset`, side a (the sender) on CPU 0 and side b (the receiver) on CPU 1, or a process of
// worker threads on CPUs 0 and 1. Every round runs every implementation once, in an order that
// turns each round; every ratio is taken within a round. What one call costs in this process, and
// the parts a send is made of: timed with mitata. Nothing asserts on a time.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { do_not_optimize } from 'mitata';
import { median } from './stats.ts';
import { Channel } from '../../lib/index.ts';
import { openChannelParts, type ChannelParts } from '../../lib/channel/channel-parts.ts';
import { checkMessage } from '../../lib/channel/message.ts';
import { copyOut } from '../../lib/channel/ring.ts';
import type { ChannelReport, CostRow, Impl, Rate } from './channel-report.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const PATIENCE_MS = 180_000;
const S21 = 'This is a test string';
export const SIZES = [64, 65536];

export interface ChannelBenchOptions {
  quick: boolean;
  rounds?: number;
  /** A scratch directory for the C binary and the Unix sockets. */
  work: string;
  /** Prefix of the names this section creates. */
  prefix: string;
}

function firstLine(cmd: string, argv: string[]): string | undefined {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return (r.stdout || r.stderr).trim().split('\n')[0];
}

interface Running {
  /** Resolves with the "ok ..." line once the command has ended well. */
  done: Promise<string>;
  /** Resolves when the command prints "ready" (or has ended). */
  ready: Promise<void>;
  kill(): void;
}

/** Runs a command to its end; rejects on a failure or after PATIENCE_MS. */
function run(argv: string[]): Running {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let ok: string | undefined;
  let isReady!: () => void;
  const ready = new Promise<void>((resolve) => (isReady = resolve));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === 'ready') isReady();
    else if (line.startsWith('ok')) ok = line;
  });
  const done = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), PATIENCE_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      isReady();
      if (code === 0) resolve(ok ?? '');
      else reject(new Error(`${argv.slice(0, 9).join(' ')} ...: exit ${code ?? signal}`));
    });
  });
  return { done, ready, kill: () => child.kill('SIGKILL') };
}

/** The numbers after "ok". */
function numbersOf(line: string): number[] {
  if (!line.startsWith('ok')) throw new Error(`no result: ${JSON.stringify(line.slice(0, 200))}`);
  return line.slice(2).trim().split(/\s+/).filter(Boolean).map(Number);
}

interface Plan {
  /** Started first, when there is one: the side that waits (b, or the receiver). */
  first?: string[];
  /** Started once the first is ready; prints the result. */
  second: string[];
  /** What to remove afterwards, however it went: the C ring's shm object, a socket. */
  leftover?: string;
}

/** Runs a plan, and again (up to twice) when it fails; failures are noted. */
async function runPlan(plan: () => Plan, notes: string[]): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const p = plan();
    try {
      return await runPlanOnce(p);
    } catch (e) {
      const what = `${(e as Error).message.replace(/^Error: /, '')}`;
      if (attempt === 3) throw e;
      notes.push(`A measurement failed and was run again (attempt ${attempt}): ${what}`);
    }
  }
}

/** Runs a plan: the first side, then (once it is ready) the second. Returns the result line. */
async function runPlanOnce(plan: Plan): Promise<string> {
  const first = plan.first ? run(plan.first) : undefined;
  let second: Running | undefined;
  try {
    if (first) await Promise.race([first.ready, first.done]);
    second = run(plan.second);
    const [a, b] = await Promise.all([second.done, first?.done]);
    return a || b || '';
  } catch (e) {
    first?.kill();
    second?.kill();
    await Promise.allSettled([first?.done, second?.done]);
    throw e;
  } finally {
    if (plan.leftover) fs.rmSync(plan.leftover, { force: true });
  }
}

let counter = 0;

interface Setup {
  c?: string;
  pinned: boolean;
  o: ChannelBenchOptions;
}

const pin = (s: Setup, cpu: string) => (s.pinned ? ['taskset', '-c', cpu] : []);
const nodePeer = () => [process.execPath, '--import', 'tsx', path.join(here, 'channel-peer.ts')];

function roundTripPlan(impl: Impl, warm: number, timed: number, s: Setup): Plan {
  const n = `${s.o.prefix}-c${counter++}`;
  const counts = [String(warm), String(timed)];
  switch (impl) {
    case 'c':
      return { first: [...pin(s, '1'), s.c!, 'rt', 'b', `/${n}`, ...counts], second: [...pin(s, '0'), s.c!, 'rt', 'a', `/${n}`, ...counts], leftover: `/dev/shm/${n}` };
    case 'ipc':
      return { second: [...pin(s, '0'), ...nodePeer(), 'rt', 'ipc', 'a', ...counts, '-', ...(s.pinned ? ['1'] : [])] };
    case 'port':
      return { second: [...pin(s, '0,1'), ...nodePeer(), 'rt', 'port', 'a', ...counts, '-'] };
    case 'unix': {
      const sock = path.join(s.o.work, `${n}.sock`);
      return { first: [...pin(s, '1'), ...nodePeer(), 'rt', 'unix', 'b', ...counts, sock], second: [...pin(s, '0'), ...nodePeer(), 'rt', 'unix', 'a', ...counts, sock], leftover: sock };
    }
    default:
      return { first: [...pin(s, '1'), ...nodePeer(), 'rt', impl, 'b', ...counts, n], second: [...pin(s, '0'), ...nodePeer(), 'rt', impl, 'a', ...counts, n] };
  }
}

function throughputPlan(impl: Impl, bytes: number, ms: number, warmMs: number, s: Setup): Plan {
  const n = `${s.o.prefix}-c${counter++}`;
  const args = [String(bytes), String(ms), String(warmMs)];
  switch (impl) {
    case 'c':
      return { first: [...pin(s, '1'), s.c!, 'tput', 'recv', `/${n}`, ...args], second: [...pin(s, '0'), s.c!, 'tput', 'send', `/${n}`, ...args], leftover: `/dev/shm/${n}` };
    case 'ipc':
      return { second: [...pin(s, '0'), ...nodePeer(), 'tp', 'ipc', 'send', ...args, '-', ...(s.pinned ? ['1'] : [])] };
    case 'port':
      return { second: [...pin(s, '0,1'), ...nodePeer(), 'tp', 'port', 'send', ...args, '-'] };
    case 'unix': {
      const sock = path.join(s.o.work, `${n}.sock`);
      return { first: [...pin(s, '1'), ...nodePeer(), 'tp', 'unix', 'recv', ...args, sock], second: [...pin(s, '0'), ...nodePeer(), 'tp', 'unix', 'send', ...args, sock], leftover: sock };
    }
    default:
      return { first: [...pin(s, '1'), ...nodePeer(), 'tp', impl, 'recv', ...args, n], second: [...pin(s, '0'), ...nodePeer(), 'tp', impl, 'send', ...args, n] };
  }
}

/**
 * Median ns per call of `fn`, from batches of about 1 ms timed with process.hrtime. (Not mitata's
 * measure(): under --expose-gc it collects between batches, and a call that allocates 64 KiB then
 * looked 15 times slower than it is in a loop.)
 */
function perCall(fn: () => unknown, quick: boolean): number {
  for (let i = 0; i < 20_000; i++) do_not_optimize(fn());
  let batch = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) do_not_optimize(fn());
    if (Number(process.hrtime.bigint() - t0) >= 1e6 || batch >= 1 << 20) break;
    batch *= 2;
  }
  const budget = quick ? 40e6 : 150e6;
  const samples: number[] = [];
  let spent = 0;
  while (spent < budget || samples.length < 12) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) do_not_optimize(fn());
    const ns = Number(process.hrtime.bigint() - t0);
    spent += ns;
    samples.push(ns / batch);
  }
  return median(samples);
}

/** What one send and receive cost in this process, whole and in parts (lib/channel internals). */
async function costs(o: ChannelBenchOptions, rounds: number): Promise<CostRow[]> {
  const channel = Channel.open(`${o.prefix}-cost`, { capacity: 1 << 20 });
  const parts: ChannelParts = openChannelParts(`${o.prefix}-parts`, { capacity: 4096 }, 'open-or-create', ['capacity']);
  const b64 = new Uint8Array(64).fill(7);
  const b64k = new Uint8Array(65536).fill(7);
  const m21 = checkMessage(S21, 4088);
  const rows: Array<{ what: string; fn: () => unknown; part?: boolean }> = [
    { what: '`trySend()` of the 21-byte string + `tryReceive()`', fn: () => (channel.trySend(S21), channel.tryReceive()) },
    { what: '`trySend()` of 64 bytes + `tryReceive()`', fn: () => (channel.trySend(b64), channel.tryReceive()) },
    { what: '`trySend()` of 64 KiB + `tryReceive()`', fn: () => (channel.trySend(b64k), channel.tryReceive()) },
    { what: 'part: the message check (`checkMessage`: `isWellFormed` + UTF-8 length)', fn: () => checkMessage(S21, 4088), part: true },
    { what: 'part: the send lock, `tryLock()` + `unlock()` (a robust pthread mutex through koffi)', fn: () => (parts.send.tryLock(), parts.send.unlock()), part: true },
    { what: 'part: the ring, `tryWrite` (21 bytes, encodeInto) + `tryRead` (a copy out)', fn: () => (parts.ring.tryWrite(m21.body, m21.length), parts.ring.tryRead(copyOut)), part: true },
    { what: 'part: a change counter `notify()` with nobody waiting (one per send, one per receive)', fn: () => parts.data.notify(), part: true },
  ];
  const ns: number[][] = rows.map(() => []);
  try {
    // A round not kept: the first row measured first came out 2 to 4 times slower than later.
    for (const row of rows) perCall(row.fn, true);
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < rows.length; k++) ns[k]!.push(perCall(rows[k]!.fn, o.quick));
    }
  } finally {
    channel.close();
    parts.data.letGo();
    parts.space.letGo();
    parts.send.close();
    parts.receive.close();
    parts.region.close();
  }
  return rows.map((r, k) => ({ what: r.what, part: r.part ?? false, ns: ns[k]! }));
}

export async function runChannel(o: ChannelBenchOptions): Promise<ChannelReport> {
  const started = Date.now();
  const loadBefore = os.loadavg() as [number, number, number];
  const notes: string[] = [];
  const rounds = o.rounds ?? (o.quick ? 2 : 6);
  const warm = o.quick ? 200 : 500;
  const timed = o.quick ? 500 : 3000;
  const ms = o.quick ? 200 : 400;
  const warmMs = o.quick ? 50 : 100;

  let c: string | undefined;
  const cc = process.env.CC || 'cc';
  const ccVersion = firstLine(cc, ['--version']);
  if (ccVersion) {
    c = path.join(o.work, 'channel-ring');
    const r = spawnSync(cc, ['-O2', '-o', c, path.join(here, 'channel-ring.c'), '-lrt'], { encoding: 'utf8' });
    if (r.status !== 0) {
      notes.push(`channel-ring.c did not build with \`${cc}\`: the C ring was skipped (${(r.stderr || '').trim().split('\n')[0]}).`);
      c = undefined;
    }
  } else notes.push(`No C compiler (\`${cc}\`): the C ring was skipped.`);
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const pinned = firstLine('taskset', ['--version']) !== undefined && cpus >= 2;
  if (!pinned) notes.push('No `taskset`, or one CPU only: the processes ran where the scheduler put them.');
  const setup: Setup = { c, pinned, o };

  const impls: Impl[] = ['sync', 'async', ...(c ? (['c'] as const) : []), 'unix', 'port', 'ipc'];
  const rt: ChannelReport['rt'] = {};
  const tp: ChannelReport['tp'] = {};
  for (const impl of impls) rt[impl] = [];
  for (const size of SIZES) {
    tp[size] = {};
    for (const impl of impls) tp[size]![impl] = [];
  }
  console.log(`channel: ${rounds} rounds; round trips ${warm} + ${timed} per implementation; throughput ${ms} ms per implementation and size (the first ${warmMs} ms not counted)`);
  for (let round = 0; round < rounds; round++) {
    process.stdout.write(`channel round ${round + 1}/${rounds}:`);
    for (let k = 0; k < impls.length; k++) {
      const impl = impls[(k + round) % impls.length]!;
      rt[impl]!.push(numbersOf(await runPlan(() => roundTripPlan(impl, warm, timed, setup), notes)));
      process.stdout.write(' .');
    }
    process.stdout.write(' |');
    for (const size of SIZES) {
      for (let k = 0; k < impls.length; k++) {
        const impl = impls[(k + round) % impls.length]!;
        const [messages, ns] = numbersOf(await runPlan(() => throughputPlan(impl, size, ms, warmMs, setup), notes));
        const rate: Rate = { messages: messages!, ns: ns! };
        tp[size]![impl]!.push(rate);
        process.stdout.write(' .');
      }
    }
    process.stdout.write('\n');
  }
  const cost = await costs(o, o.quick ? 2 : 3);

  const root = path.resolve(here, '../..');
  const head = firstLine('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = spawnSync('git', ['-C', root, 'status', '--porcelain', '--', 'lib', ':!lib/os/windows'], { encoding: 'utf8' }).stdout?.trim();
  return {
    date: new Date().toISOString().slice(0, 10),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    revision: head ? `${head}${dirty ? ' with uncommitted changes in lib/ (Windows backend aside)' : ''}` : undefined,
    cc: ccVersion,
    pinned,
    rounds,
    warm,
    timed,
    ms,
    warmMs,
    sizes: SIZES,
    impls,
    rt,
    tp,
    cost,
    notes,
    load: [loadBefore, os.loadavg() as [number, number, number]],
    seconds: (Date.now() - started) / 1000,
  };
}
