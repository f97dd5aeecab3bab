// `npm run bench`: named-shm side by side with a C port of the sample (built here with the system
// `cc`), Python's multiprocessing.shared_memory and Node's own child_process fork + send, in one
// run. Every case runs every implementation once per round, in an order that turns from round to
// round; every ratio is taken within a round, then summarized over the rounds.
//
//   node --expose-gc --import tsx test/bench/run.ts [regions] [wake] [mutex] [channel] [layout] [runtimes] [--rounds N] [--quick] [--no-write]
//
// Sections: `regions` (the cases above), `wake` (wake-up latency and notify(), issue 10:
// test/bench/wake.ts), `mutex` (NamedMutex uncontended, handed off and under contention,
// issue 11: test/bench/mutex.ts) and `channel` (Channel round trips and one-way throughput
// between two processes, next to a Unix socket, a MessagePort, process.send and a C ring:
// test/bench/channel.ts), `layout` (struct fields and consistent snapshots next to DataView,
// koffi.decode and C, issue 13: test/bench/layout.ts) and `runtimes` (the copy path, and Bun and Deno next to Node, issue 14:
// test/bench/runtimes.ts); all when none is named (`npm run bench -- wake` runs only that one).
// --quick: 3 short rounds (a smoke run). --no-write: print only, leave docs/ alone.
// Writes docs/BENCHMARKS.md, docs/bench-ratios.svg and docs/bench-channel.svg; a section not run
// keeps its part of the file. No test asserts on any of these times.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import koffi from 'koffi';
import { do_not_optimize, measure } from 'mitata';
import { SharedMemory } from '../../lib/index.ts';
import { type AllocationRow, type CaseResult, type Check, type Impl, type Machine, type Report, printReport, writeReport } from './report.ts';
import { median } from './stats.ts';
import { runWake } from './wake.ts';
import { printWake, wakeBlock, wakeMarkdown, writeWakeBlock } from './wake-report.ts';
import { runMutex } from './mutex.ts';
import { mutexBlock, mutexMarkdown, printMutex, writeMutexBlock } from './mutex-report.ts';
import { runChannel } from './channel.ts';
import { channelBlock, channelChart, channelMarkdown, printChannel, writeChannelBlock } from './channel-report.ts';
import { printRuntimes, runRuntimes, runtimesMarkdown, writeRuntimesBlock } from './runtimes.ts';
import { layoutMarkdown, runLayout, writeLayoutBlock } from './layout.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const write = !args.includes('--no-write');
const roundsArg = args.indexOf('--rounds');
const ROUNDS = roundsArg >= 0 ? Number(args[roundsArg + 1]) : quick ? 3 : 9;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds takes a positive integer');
const SECTIONS = ['regions', 'wake', 'mutex', 'channel', 'layout', 'runtimes'];
const named = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--rounds');
for (const n of named) if (!SECTIONS.includes(n)) throw new Error(`unknown section ${n}: the sections are ${SECTIONS.join(', ')}`);
const sections = new Set(named.length > 0 ? named : SECTIONS);
/** How long one sample of a reference runs, and how long named-shm is measured per case and round. */
const SAMPLE_NS = quick ? 1e6 : 2e6;
const C_SAMPLES = quick ? 7 : 21;
const PY_SAMPLES = quick ? 5 : 11;
const JS_CPU_NS = quick ? 40e6 : 150e6;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('Run with node --expose-gc (npm run bench does): the allocation check needs it.');
  process.exit(2);
}

// ---- The strings ------------------------------------------------------------------------------

const MAX_PATH = 260;
const S21 = 'This is a test string';
/** 2047 units, all at most U+00FF, so V8 keeps it one-byte: printable ASCII and Latin-1 letters. */
const LATIN1 = Array.from({ length: 2047 }, (_, i) =>
  String.fromCharCode(i % 13 === 0 ? 0xc0 + (i % 0x3f) : 0x20 + ((i * 7) % 0x5f)),
).join('');
/** 2047 units above U+00FF: Cyrillic and CJK, with a surrogate pair (an emoji) now and then. */
const OTHER = (() => {
  const units: number[] = [];
  for (let i = 0; units.length < 2047; i++) {
    if (i % 50 === 49 && units.length + 2 <= 2047) units.push(0xd83d, 0xde00 + (i % 0x40));
    else units.push(i % 3 === 0 ? 0x4e00 + (i % 0x5000) : 0x0410 + (i % 0x40));
  }
  return String.fromCharCode(...units);
})();

// ---- The machine ----------------------------------------------------------------------------

function firstLine(cmd: string, argv: string[]): string | undefined {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return (r.stdout || r.stderr).trim().split('\n')[0];
}

function cpuModel(): string {
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1];
    if (model) return model.trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

// ---- The references: long-lived processes that answer "run <case> <iterations> <samples>" ----

class LineWorker {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #waiting: ((line: string | undefined) => void) | undefined;
  #exited = false;

  constructor(
    readonly label: string,
    command: string,
    argv: string[],
  ) {
    this.#child = spawn(command, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (waiting) waiting(line);
      else this.#lines.push(line);
    });
    this.#child.on('exit', () => {
      this.#exited = true;
      this.#waiting?.(undefined);
    });
  }

  #next(): Promise<string | undefined> {
    if (this.#lines.length > 0) return Promise.resolve(this.#lines.shift());
    if (this.#exited) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  /** Nanoseconds per operation, one figure per sample. */
  async run(name: string, iterations: number, samples: number): Promise<number[]> {
    this.#child.stdin!.write(`run ${name} ${iterations} ${samples}\n`);
    const line = await this.#next();
    if (line === undefined) throw new Error(`${this.label} exited`);
    if (!line.startsWith('ok ')) throw new Error(`${this.label}: ${line}`);
    return line.slice(3).trim().split(/\s+/).map(Number);
  }

  /** Iterations that make one sample last about SAMPLE_NS. */
  async calibrate(name: string): Promise<number> {
    let iterations = 4;
    for (;;) {
      const [perOp] = await this.run(name, iterations, 1);
      const total = perOp! * iterations;
      if (total > SAMPLE_NS / 4 || iterations >= 1 << 24) {
        return Math.max(1, Math.ceil(SAMPLE_NS / perOp!));
      }
      iterations *= 4;
    }
  }

  async quit(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdin!.end('quit\n');
    const timer = setTimeout(() => this.#child.kill(), 5000);
    await exited;
    clearTimeout(timer);
  }
}

// ---- Setup ----------------------------------------------------------------------------------

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'named-shm-bench-'));
const stringFiles = [
  ['s21.bin', S21],
  ['latin1.bin', LATIN1],
  ['other.bin', OTHER],
].map(([file, text]) => {
  const p = path.join(work, file!);
  fs.writeFileSync(p, Buffer.from(text!, 'utf16le'));
  return p;
});
const prefix = `nshm-bench-${process.pid}`;
const notes: string[] = [];
/** The reference processes, stopped at the end whatever happens. */
const workers: LineWorker[] = [];

function buildC(): { worker?: LineWorker; version?: string } {
  const cc = process.env.CC || 'cc';
  const version = firstLine(cc, ['--version']);
  if (!version) {
    notes.push(`No C compiler (\`${cc}\`): the C reference was skipped.`);
    return {};
  }
  const bin = path.join(work, 'reference');
  const argv = ['-O2', '-o', bin, path.join(here, 'reference.c')];
  if (process.platform === 'linux') argv.push('-lrt'); // shm_open lives in librt before glibc 2.34
  const r = spawnSync(cc, argv, { encoding: 'utf8' });
  if (r.status !== 0) {
    notes.push(`The C reference did not build with \`${cc}\`, so it was skipped: ${(r.stderr || '').trim().split('\n')[0]}`);
    return {};
  }
  const worker = new LineWorker('C reference', bin, [prefix, ...stringFiles]);
  workers.push(worker);
  return { worker, version: `${version}, -O2` };
}

function startPython(): { worker?: LineWorker; version?: string } {
  const version = firstLine('python3', ['-c', 'import sys, multiprocessing.shared_memory; print(sys.version.split()[0])']);
  if (!version) {
    notes.push('No `python3` with multiprocessing.shared_memory: the Python reference was skipped.');
    return {};
  }
  const worker = new LineWorker('Python reference', 'python3', [path.join(here, 'reference.py'), prefix, ...stringFiles]);
  workers.push(worker);
  return { worker, version };
}

// ---- The hand-off child (named-shm ping-pong, and the fork + send reference) -----------------

class HandoffChild {
  readonly child: ChildProcess;
  #resolve: ((message: unknown) => void) | undefined;
  readonly #control: unknown[] = [];
  #controlWaiting: ((message: unknown) => void) | undefined;

  constructor() {
    this.child = fork(path.join(here, 'handoff-child.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message) => {
      if (typeof message === 'string') {
        const resolve = this.#resolve;
        this.#resolve = undefined;
        resolve?.(message);
        return;
      }
      const waiting = this.#controlWaiting;
      this.#controlWaiting = undefined;
      if (waiting) waiting(message);
      else this.#control.push(message);
    });
  }

  control(): Promise<unknown> {
    if (this.#control.length > 0) return Promise.resolve(this.#control.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the hand-off child stopped answering')), 30_000);
      this.#controlWaiting = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
    });
  }

  /** One `process.send` round trip of the string. */
  echo(text: string): Promise<unknown> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.child.send(text);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'exit' });
    const timer = setTimeout(() => this.child.kill(), 5000);
    await exited;
    clearTimeout(timer);
  }
}

// ---- named-shm under test -------------------------------------------------------------------

const region = SharedMemory.open(`${prefix}-js`, { size: 4096 });
const bigRegion = SharedMemory.open(`${prefix}-js-big`, { size: 1024 * 1024 });
const handoffData = SharedMemory.open(`${prefix}-hand-data`, { size: 4096 });
const handoffFlagRegion = SharedMemory.open(`${prefix}-hand-flag`, { size: 64 });
const flagBytes = handoffFlagRegion.bytes;
const handoffFlag = new Int32Array(flagBytes.buffer, flagBytes.byteOffset, 1);
const source4k = new Uint8Array(4096).map((_, i) => (i * 31 + 7) & 0xff);
const source1m = new Uint8Array(1024 * 1024).map((_, i) => (i * 31 + 7) & 0xff);
let newCounter = 0;
let handoffSeq = -1;

// Ctrl-C: close the regions (the last holder's close removes their names), then stop.
process.once('SIGINT', () => {
  for (const r of [region, bigRegion, handoffData, handoffFlagRegion]) r.close();
  child?.child.kill();
  fs.rmSync(work, { recursive: true, force: true });
  process.exit(130);
});

function handoffRoundTrip(): string {
  handoffSeq += 2;
  handoffData.writeString(S21);
  Atomics.store(handoffFlag, 0, handoffSeq);
  let spins = 0;
  while (Atomics.load(handoffFlag, 0) !== handoffSeq + 1) {
    if (++spins > 200_000_000) throw new Error('the hand-off child stopped answering');
  }
  return handoffData.readString(MAX_PATH);
}

interface JsCase {
  fn: () => unknown;
  before?: () => Promise<void> | void;
  after?: () => Promise<void> | void;
}

interface CaseSpec {
  id: string;
  title: string;
  /** The C reference's cases for 'c-port' (the sample's loops, or the sample's OS sequence) and 'c-best'. */
  c?: { port: string; best?: string; same?: string };
  py?: string;
  nodeIpc?: boolean;
  js: JsCase;
}

let child: HandoffChild | undefined;

const CASES: CaseSpec[] = [
  {
    id: 'setget-21',
    title: 'set+get, 21 units ("This is a test string"), read limit MAX_PATH (260)',
    c: { port: 'port-21', best: 'best-21' },
    py: 'setget-21',
    js: {
      fn: () => {
        region.writeString(S21);
        return region.readString(MAX_PATH);
      },
    },
  },
  {
    id: 'setget-2047-latin1',
    title: 'set+get, 2047 Latin-1 units (fills the 4 KiB region)',
    c: { port: 'port-2047-latin1', best: 'best-2047-latin1' },
    py: 'setget-2047-latin1',
    js: {
      fn: () => {
        region.writeString(LATIN1);
        return region.readString();
      },
    },
  },
  {
    id: 'setget-2047-other',
    title: 'set+get, 2047 non-Latin-1 units (Cyrillic, CJK, surrogate pairs)',
    c: { port: 'port-2047-other', best: 'best-2047-other' },
    py: 'setget-2047-other',
    js: {
      fn: () => {
        region.writeString(OTHER);
        return region.readString();
      },
    },
  },
  {
    id: 'read-limit-8',
    title: 'read with limit 8 (7 units) from a region holding 2047',
    c: { port: 'port-read-8', best: 'best-read-8' },
    py: 'read-limit-8',
    js: { before: () => void region.writeString(LATIN1), fn: () => region.readString(8) },
  },
  {
    id: 'open-close-new',
    title: 'open-or-create + close of a new 4 KiB region (C, Python: create, map, unmap, close, unlink)',
    c: { port: 'create-close', same: 'lifetime-create-close' },
    py: 'open-close-new',
    js: { fn: () => SharedMemory.open(`${prefix}-n${newCounter++}`).close() },
  },
  {
    id: 'open-close-existing',
    title: 'open + close of an existing region (held open by the same process)',
    c: { port: 'open-existing-close' },
    py: 'open-close-existing',
    js: { fn: () => SharedMemory.openExisting(`${prefix}-js`).close() },
  },
  {
    id: 'bytes-4096',
    title: '`bytes` bulk copy of 4 KiB into the region (C: memcpy; Python: buf[:] =)',
    c: { port: 'copy-4096' },
    py: 'copy-4096',
    js: { fn: () => region.bytes.set(source4k) },
  },
  {
    id: 'bytes-1048576',
    title: '`bytes` bulk copy of 1 MiB into a 1 MiB region (C: memcpy; Python: buf[:] =)',
    c: { port: 'copy-1048576' },
    py: 'copy-1048576',
    js: { fn: () => bigRegion.bytes.set(source1m) },
  },
  {
    id: 'handoff-21',
    title: 'cross-process hand-off: round trip of the 21-unit string to another process and back',
    c: { port: 'handoff-21' },
    nodeIpc: true,
    js: {
      before: async () => {
        Atomics.store(handoffFlag, 0, 0);
        handoffSeq = -1;
        child!.child.send({ type: 'spin', data: handoffData.name, flag: handoffFlagRegion.name });
        const m = (await child!.control()) as { type: string };
        if (m.type !== 'spinning') throw new Error(`hand-off child: ${JSON.stringify(m)}`);
      },
      fn: handoffRoundTrip,
      after: async () => {
        Atomics.store(handoffFlag, 0, -1);
        const m = (await child!.control()) as { type: string };
        if (m.type !== 'spun') throw new Error(`hand-off child: ${JSON.stringify(m)}`);
      },
    },
  },
];

// ---- Measuring ------------------------------------------------------------------------------

/** Rough nanoseconds per call, to size mitata's batches so one sample lasts about SAMPLE_NS. */
async function estimate(fn: () => unknown): Promise<number> {
  let n = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) do_not_optimize(await fn());
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns > 5e6 || n >= 1 << 20) return ns / n;
    n *= 4;
  }
}

async function measureJs(fn: () => unknown, perOp: number): Promise<number> {
  const batch = Math.max(4, Math.min(4096, Math.round(SAMPLE_NS / perOp / 4) * 4));
  const stats = await measure(fn, {
    min_cpu_time: JS_CPU_NS,
    min_samples: 12,
    batch_samples: batch,
    batch_threshold: 1e9, // always batch: single calls are shorter than the timer can see
  } as Parameters<typeof measure>[1]);
  return stats.p50;
}

function ipcFn(): () => Promise<unknown> {
  return () => child!.echo(S21);
}

// ---- Checks that are not timings --------------------------------------------------------------

function contractChecks(): Check[] {
  const checks: Check[] = [];
  const check = (what: string, run: () => string | true) => {
    try {
      const r = run();
      checks.push({ what, ok: r === true, detail: r === true ? '' : r });
    } catch (e) {
      checks.push({ what, ok: false, detail: String(e) });
    }
  };
  const name = `${prefix}-contract`;
  const r = SharedMemory.open(name, { size: 4096 });
  const odd = SharedMemory.open(`${name}-odd`, { size: 4097 });
  try {
    check('lone surrogates come back unit for unit', () => {
      const text = 'a\uD800b\uDC00c\uDFFF\uD83D';
      r.writeString(text);
      const back = r.readString();
      return back === text || `read ${JSON.stringify(back)}`;
    });
    check('a long string is cut at capacity - 1 units, then U+0000', () => {
      const n = r.writeString('x'.repeat(5000) + OTHER);
      const units = new Uint16Array(r.bytes.buffer, r.bytes.byteOffset, 2048);
      return (n === 2047 && r.readString().length === 2047 && units[2047] === 0) || `stored ${n}`;
    });
    check('nothing is written past the region (odd size: the last byte stays)', () => {
      odd.bytes[4096] = 0xab;
      odd.writeString(OTHER + OTHER);
      return odd.bytes[4096] === 0xab || `last byte ${odd.bytes[4096]}`;
    });
    check('bytes after the terminator are left as they were', () => {
      r.writeString(LATIN1);
      const before = Buffer.from(r.bytes.subarray(8));
      r.writeString('abc');
      const after = Buffer.from(r.bytes.subarray(8));
      return before.equals(after) || 'changed';
    });
    check('strict mode throws and writes nothing', () => {
      r.writeString('keep');
      try {
        r.writeString('y'.repeat(3000), { strict: true });
        return 'did not throw';
      } catch {
        return r.readString() === 'keep' || 'wrote';
      }
    });
    check('a read stops at U+0000 and at the limit', () => {
      r.writeString(OTHER);
      const viaLimit = r.readString(8);
      r.writeString('ab\0cd');
      return (viaLimit === OTHER.slice(0, 7) && r.readString() === 'ab') || 'wrong';
    });
  } finally {
    r.close();
    odd.close();
  }
  return checks;
}

/** Heap growth over `calls` calls right after a full GC: the least of 7 trials. */
function heapGrowth(fn: () => unknown, calls: number): number {
  let least = Infinity;
  for (let t = 0; t < 7; t++) {
    gc!();
    const before = v8.getHeapStatistics().used_heap_size;
    for (let i = 0; i < calls; i++) do_not_optimize(fn());
    const after = v8.getHeapStatistics().used_heap_size;
    least = Math.min(least, after - before);
  }
  return least;
}

/**
 * Bytes allocated per call, from V8's heap counter with no GC in between: the growth over 2n calls
 * less the growth over n, which takes off what reading the counter allocates; the least of
 * several trials leaves out what concurrent compilation adds now and then.
 */
function bytesPerCall(fn: () => unknown, calls: number): number {
  for (let i = 0; i < 5000; i++) do_not_optimize(fn()); // optimized code, as in the timings
  return Math.max(0, heapGrowth(fn, 2 * calls) - heapGrowth(fn, calls)) / calls;
}

/** What V8 allocates for a flat string of `n` units (no pointer compression in Node): 16 + chars. */
function stringBytes(text: string): number {
  let oneByte = true;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) oneByte = false;
  return Math.ceil((16 + text.length * (oneByte ? 1 : 2)) / 8) * 8;
}

function allocationChecks(): AllocationRow[] {
  const rows: AllocationRow[] = [];
  for (const [label, text, limit] of [
    ['21 units', S21, MAX_PATH],
    ['2047 Latin-1 units', LATIN1, Infinity],
    ['2047 non-Latin-1 units', OTHER, Infinity],
  ] as const) {
    rows.push({ what: `writeString, ${label}`, measured: bytesPerCall(() => region.writeString(text), 200), expected: 0 });
    region.writeString(text);
    const calls = text.length > 100 ? 12 : 400;
    const read = limit === Infinity ? () => region.readString() : () => region.readString(limit);
    rows.push({ what: `readString, ${label}`, measured: bytesPerCall(read, calls), expected: stringBytes(text) });
  }
  region.writeString(LATIN1);
  rows.push({ what: 'readString(8) of 2047 units', measured: bytesPerCall(() => region.readString(8), 400), expected: stringBytes(LATIN1.slice(0, 7)) });
  return rows;
}

// ---- The run ------------------------------------------------------------------------------------

/** The machine as the wake-up section's part of the doc names it. */
function machineText(): string {
  return `${cpuModel()}, ${os.availableParallelism?.() ?? os.cpus().length} cores, ${os.type()} ${os.release()} ${os.arch()}; Node ${process.version}, koffi ${(koffi as { version?: string }).version ?? '?'}`;
}

async function wakeSection(): Promise<void> {
  const wake = await runWake({ quick, rounds: roundsArg >= 0 ? ROUNDS : undefined, work, prefix });
  printWake(wake);
  if (write) {
    const md = path.join(root, 'docs', 'BENCHMARKS.md');
    writeWakeBlock(md, wakeMarkdown(wake, machineText()));
    console.log(`\nwrote the wake-up section of ${path.relative(root, md)}`);
  }
}

async function mutexSection(): Promise<void> {
  const mutex = await runMutex({ quick, rounds: roundsArg >= 0 ? ROUNDS : undefined, work, prefix });
  printMutex(mutex);
  if (write) {
    const md = path.join(root, 'docs', 'BENCHMARKS.md');
    writeMutexBlock(md, mutexMarkdown(mutex, machineText()));
    console.log(`\nwrote the mutex section of ${path.relative(root, md)}`);
  }
}

async function channelSection(): Promise<void> {
  const channel = await runChannel({ quick, rounds: roundsArg >= 0 ? ROUNDS : undefined, work, prefix });
  printChannel(channel);
  if (write) {
    const md = path.join(root, 'docs', 'BENCHMARKS.md');
    writeChannelBlock(md, channelMarkdown(channel, machineText()));
    const svg = path.join(root, 'docs', 'bench-channel.svg');
    fs.writeFileSync(svg, channelChart(channel, machineText()));
    console.log(`\nwrote the channel section of ${path.relative(root, md)} and ${path.relative(root, svg)}`);
  }
}

async function layoutSection(): Promise<void> {
  const report = await runLayout({ quick, rounds: roundsArg >= 0 ? ROUNDS : undefined, work, prefix });
  const block = layoutMarkdown(report, machineText());
  console.log(block);
  if (write) {
    const md = path.join(root, 'docs', 'BENCHMARKS.md');
    writeLayoutBlock(md, block);
    console.log(`\nwrote the layout section of ${path.relative(root, md)}`);
  }
}

function runtimesSection(): void {
  const report = runRuntimes({ quick, rounds: roundsArg >= 0 ? ROUNDS : undefined, prefix });
  printRuntimes(report);
  if (write) {
    const md = path.join(root, 'docs', 'BENCHMARKS.md');
    writeRuntimesBlock(md, runtimesMarkdown(report, machineText()));
    console.log(`\nwrote the runtimes section of ${path.relative(root, md)}`);
  }
}

async function main(): Promise<void> {
  if (!sections.has('regions')) {
    if (sections.has('wake')) await wakeSection();
    if (sections.has('mutex')) await mutexSection();
    if (sections.has('channel')) await channelSection();
    if (sections.has('layout')) await layoutSection();
    if (sections.has('runtimes')) runtimesSection();
    return;
  }
  const started = Date.now();
  const c = buildC();
  const py = startPython();
  child = new HandoffChild();
  const ready = (await child.control()) as { type: string };
  if (ready.type !== 'ready') throw new Error('hand-off child did not start');

  const machine: Machine = {
    cpu: cpuModel(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    koffi: (koffi as { version?: string }).version ?? '?',
    cc: c.version,
    python: py.version,
    date: new Date().toISOString().slice(0, 10),
    rounds: ROUNDS,
  };
  console.log(`named-shm benchmark: ${machine.cpu}, ${machine.cores} cores, ${machine.os}, node ${machine.node}`);
  console.log(`  C: ${machine.cc ?? 'skipped'}; Python: ${machine.python ?? 'skipped'}; ${ROUNDS} rounds\n`);

  const contract = contractChecks();

  // Per case and implementation: how a round measures it.
  type Task = { impl: Impl; run: () => Promise<number> };
  const plans = new Map<string, Task[]>();
  for (const spec of CASES) {
    const tasks: Task[] = [];
    if (c.worker && spec.c) {
      const worker = c.worker;
      const portIters = await worker.calibrate(spec.c.port);
      const port = spec.c.port;
      tasks.push({ impl: 'c-port', run: async () => median(await worker.run(port, portIters, C_SAMPLES)) });
      if (spec.c.best) {
        const best = spec.c.best;
        const bestIters = await worker.calibrate(best);
        tasks.push({ impl: 'c-best', run: async () => median(await worker.run(best, bestIters, C_SAMPLES)) });
      }
      if (spec.c.same) {
        const same = spec.c.same;
        try {
          const sameIters = await worker.calibrate(same);
          tasks.push({ impl: 'c-same', run: async () => median(await worker.run(same, sameIters, C_SAMPLES)) });
        } catch {
          notes.push(`The C sequence of named-shm's own calls (${same}) needs Linux's O_TMPFILE: skipped.`);
        }
      }
    }
    if (py.worker && spec.py) {
      const worker = py.worker;
      const name = spec.py;
      const iters = await worker.calibrate(name);
      tasks.push({ impl: 'python', run: async () => median(await worker.run(name, iters, PY_SAMPLES)) });
    }
    if (spec.nodeIpc) {
      const fn = ipcFn();
      const perOp = await estimate(fn);
      tasks.push({ impl: 'node-ipc', run: () => measureJs(fn, perOp) });
    }
    const js = spec.js;
    await js.before?.();
    const perOp = await estimate(js.fn);
    await js.after?.();
    tasks.push({
      impl: 'named-shm',
      run: async () => {
        await js.before?.();
        try {
          return await measureJs(js.fn, perOp);
        } finally {
          await js.after?.();
        }
      },
    });
    plans.set(spec.id, tasks);
  }

  const perRound = new Map<string, Map<Impl, number[]>>();
  for (const spec of CASES) perRound.set(spec.id, new Map());
  for (let round = 0; round < ROUNDS; round++) {
    process.stdout.write(`round ${round + 1}/${ROUNDS}:`);
    for (const spec of CASES) {
      const tasks = plans.get(spec.id)!;
      // Turn the order each round, so no implementation always runs first or last.
      for (let k = 0; k < tasks.length; k++) {
        const task = tasks[(k + round) % tasks.length]!;
        const ns = await task.run();
        const byImpl = perRound.get(spec.id)!;
        if (!byImpl.has(task.impl)) byImpl.set(task.impl, []);
        byImpl.get(task.impl)!.push(ns);
      }
      process.stdout.write(' .');
    }
    process.stdout.write('\n');
  }

  const allocation = allocationChecks();

  const cases: CaseResult[] = CASES.map((spec) => ({
    id: spec.id,
    title: spec.title,
    rounds: Object.fromEntries(perRound.get(spec.id)!) as Partial<Record<Impl, number[]>>,
  }));
  const report: Report = {
    machine,
    cases,
    contract,
    allocation,
    notes,
    seconds: (Date.now() - started) / 1000,
  };
  printReport(report);
  if (write) {
    const md = path.join(root, 'docs', 'BENCHMARKS.md');
    const old = fs.existsSync(md) ? fs.readFileSync(md, 'utf8') : '';
    const kept = wakeBlock(old);
    const keptMutex = mutexBlock(old);
    const keptChannel = channelBlock(old);
    const files = writeReport(report, path.join(root, 'docs'));
    if (kept) writeWakeBlock(md, kept);
    if (keptMutex) writeMutexBlock(md, keptMutex);
    if (keptChannel) writeChannelBlock(md, keptChannel);
    console.log(`\nwrote ${files.map((f) => path.relative(root, f)).join(', ')}`);
  }
  if (sections.has('wake')) await wakeSection();
  if (sections.has('mutex')) await mutexSection();
  if (sections.has('channel')) await channelSection();
  if (sections.has('layout')) await layoutSection();
  if (sections.has('runtimes')) runtimesSection();
}

try {
  await main();
} finally {
  await child?.stop();
  for (const r of [region, bigRegion, handoffData, handoffFlagRegion]) r.close();
  await Promise.all(workers.map((w) => w.quit()));
  fs.rmSync(work, { recursive: true, force: true });
}
