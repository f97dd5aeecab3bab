// The wake-up section of `npm run bench` (issue 10): how long a wake-up takes from one process to
// another, as a ping-pong round trip, and what `notify()` and `set()` cost with nobody waiting.
//
// Round trips: every implementation runs as two fresh processes pinned with `taskset`, both on
// CPU 0 ("one CPU") or on CPUs 0 and 1 ("two CPUs"); side a times each round trip (warm-up
// first). Implementations: `waitSync` on both sides, `await wait()` on both sides
// (test/bench/wake-peer.ts), a C futex ping-pong (test/bench/wake-futex.c, built here with
// `cc -O2`) and Node's fork + `process.send`. Every round runs every implementation in every
// configuration once, in an order that turns each round; every ratio is taken within a round.
// Calls with nobody waiting: timed with mitata in this process, and counted under `strace -f` in
// a child (test/bench/wake-calls.ts). Nothing asserts on a time.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { do_not_optimize, measure } from 'mitata';
import { NamedEvent, SharedMemory } from '../../lib/index.ts';
import type { CallCount, PingImpl, WakeConfig, WakeReport } from './wake-report.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const PATIENCE_MS = 180_000;

export interface WakeOptions {
  quick: boolean;
  rounds?: number;
  /** A scratch directory for the C binary and the strace output. */
  work: string;
  /** Prefix of the names this section creates. */
  prefix: string;
}

function firstLine(cmd: string, argv: string[]): string | undefined {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return (r.stdout || r.stderr).trim().split('\n')[0];
}

/** Runs a command to its end; resolves with its stdout, rejects on a failure or after PATIENCE_MS. */
function run(argv: string[]): { done: Promise<string>; kill(): void } {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const done = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), PATIENCE_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.slice(0, 6).join(' ')} ...: exit ${code ?? signal}`));
    });
  });
  return { done, kill: () => child.kill('SIGKILL') };
}

/** The round trips, in nanoseconds, from side a's "ok ..." line. */
function samplesOf(out: string): number[] {
  const line = out.split('\n').find((l) => l.startsWith('ok '));
  if (!line) throw new Error(`no result in ${JSON.stringify(out.slice(0, 200))}`);
  return line.slice(3).trim().split(/\s+/).map(Number);
}

let counter = 0;

/** One ping-pong of `impl` in `config`: side b started first, side a's timings returned. */
async function pingPong(impl: PingImpl, config: WakeConfig, warm: number, timed: number, c: string | undefined, o: WakeOptions): Promise<number[]> {
  const pin = (cpu: string | undefined) => (cpu === undefined ? [] : ['taskset', '-c', cpu]);
  const node = [process.execPath, '--import', 'tsx', path.join(here, 'wake-peer.ts')];
  const n = `${o.prefix}-w${counter++}`;
  const counts = [String(warm), String(timed)];
  let a: string[];
  let b: string[] | undefined;
  if (impl === 'c') {
    b = [...pin(config.cpuB), c!, 'b', `/${n}`, ...counts];
    a = [...pin(config.cpuA), c!, 'a', `/${n}`, ...counts];
  } else if (impl === 'ipc') {
    a = [...pin(config.cpuA), ...node, 'ipc', 'a', ...counts, '-', '-', ...(config.cpuB === undefined ? [] : [config.cpuB])];
  } else {
    b = [...pin(config.cpuB), ...node, impl, 'b', ...counts, `${n}-1`, `${n}-2`];
    a = [...pin(config.cpuA), ...node, impl, 'a', ...counts, `${n}-1`, `${n}-2`];
  }
  const sideB = b ? run(b) : undefined;
  const sideA = run(a);
  try {
    const [out] = await Promise.all([sideA.done, sideB?.done]);
    return samplesOf(out);
  } catch (e) {
    sideA.kill();
    sideB?.kill();
    throw e;
  }
}

/** Median ns per call of `fn`, in mitata batches. */
async function perCall(fn: () => unknown, quick: boolean): Promise<number> {
  for (let i = 0; i < 50_000; i++) do_not_optimize(fn());
  const stats = await measure(fn, {
    min_cpu_time: quick ? 40e6 : 150e6,
    min_samples: 12,
    batch_samples: 4096,
    batch_threshold: 1e9,
  } as Parameters<typeof measure>[1]);
  return stats.p50;
}

/** strace's lines between the two markers of `what`, counted. */
function countBetween(lines: string[], what: string): CallCount | undefined {
  const begin = lines.findIndex((l) => l.includes(`marker-${what}-begin`));
  const end = lines.findIndex((l) => l.includes(`marker-${what}-end`));
  if (begin < 0 || end < begin) return undefined;
  const tid = lines[begin]!.split(/\s+/)[0];
  const count: CallCount = { thread: 0, threadFutex: 0, threadSharedFutex: 0, others: 0, othersFutex: 0 };
  for (const line of lines.slice(begin + 1, end)) {
    const m = /^(\d+)\s+([a-z_0-9]+)\((.*)$/.exec(line); // "<... x resumed>" is the same call, counted once
    if (!m) continue;
    const futexCall = m[2] === 'futex' || m[2] === 'futex_waitv';
    if (m[1] === tid) {
      count.thread++;
      if (futexCall) count.threadFutex++;
      if (futexCall && !m[3]!.includes('_PRIVATE')) count.threadSharedFutex++;
    } else {
      count.others++;
      if (futexCall) count.othersFutex++;
    }
  }
  return count;
}

/** Runs wake-calls.ts under `strace -f` and counts the system calls of its two loops. */
function straceCalls(o: WakeOptions, calls: number, notes: string[]): WakeReport['strace'] {
  const version = firstLine('strace', ['-V']);
  if (!version) {
    notes.push('No `strace`: the system calls of notify() and set() were not counted.');
    return undefined;
  }
  const out = path.join(o.work, 'wake-calls.strace');
  const r = spawnSync(
    'strace',
    ['-f', '-qq', '-o', out, process.execPath, '--import', 'tsx', path.join(here, 'wake-calls.ts'), `${o.prefix}-s`, String(calls)],
    { encoding: 'utf8', timeout: PATIENCE_MS },
  );
  if (r.status !== 0) {
    notes.push(`strace of wake-calls.ts failed (${(r.stderr || r.error?.message || '').trim().split('\n')[0]}): not counted.`);
    return undefined;
  }
  const lines = fs.readFileSync(out, 'utf8').split('\n');
  // What notify() or set() would make if it made any: a FUTEX_WAKE on a shared word. (glibc's
  // pthread_join waits on a shared word too, at exit: not counted.)
  const sharedFutexInRun = lines.filter((l) => /^\d+\s+futex\(0x[0-9a-f]+, FUTEX_WAKE,/.test(l)).length;
  return { version: version.replace(' -- version', ''), calls, notify: countBetween(lines, 'notify'), set: countBetween(lines, 'set'), sharedFutexInRun };
}

export async function runWake(o: WakeOptions): Promise<WakeReport> {
  const started = Date.now();
  const loadBefore = os.loadavg()[0]!;
  const notes: string[] = [];
  const rounds = o.rounds ?? (o.quick ? 2 : 8);
  const timed = o.quick ? 500 : 2500;
  const warm = o.quick ? 200 : 500;

  let c: string | undefined;
  const cc = process.env.CC || 'cc';
  const ccVersion = firstLine(cc, ['--version']);
  if (ccVersion) {
    c = path.join(o.work, 'wake-futex');
    const r = spawnSync(cc, ['-O2', '-o', c, path.join(here, 'wake-futex.c'), '-lrt'], { encoding: 'utf8' });
    if (r.status !== 0) {
      notes.push(`wake-futex.c did not build with \`${cc}\`: the C futex reference was skipped (${(r.stderr || '').trim().split('\n')[0]}).`);
      c = undefined;
    }
  } else notes.push(`No C compiler (\`${cc}\`): the C futex reference was skipped.`);

  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const taskset = firstLine('taskset', ['--version']) !== undefined;
  const configs: WakeConfig[] = [];
  if (!taskset) {
    notes.push('No `taskset`: the processes ran where the scheduler put them, in one configuration.');
    configs.push({ id: 'unpinned', label: 'not pinned' });
  } else {
    configs.push({ id: 'one-cpu', label: 'one CPU (both on CPU 0)', cpuA: '0', cpuB: '0' });
    if (cpus >= 2) configs.push({ id: 'two-cpus', label: 'two CPUs (CPU 0 and CPU 1)', cpuA: '0', cpuB: '1' });
    else notes.push('One CPU only: the two-CPU configuration was skipped.');
  }
  const impls: PingImpl[] = ['sync', 'async', ...(c ? (['c'] as const) : []), 'ipc'];

  const samples: WakeReport['samples'] = {};
  for (const config of configs) {
    samples[config.id] = {};
    for (const impl of impls) samples[config.id]![impl] = [];
  }
  console.log(`wake-ups: ${rounds} rounds of ${warm} + ${timed} round trips per implementation and configuration`);
  for (let round = 0; round < rounds; round++) {
    process.stdout.write(`wake round ${round + 1}/${rounds}:`);
    for (const config of configs) {
      for (let k = 0; k < impls.length; k++) {
        const impl = impls[(k + round) % impls.length]!;
        samples[config.id]![impl]!.push(await pingPong(impl, config, warm, timed, c, o));
        process.stdout.write(' .');
      }
    }
    process.stdout.write('\n');
  }

  // Calls with nobody waiting, in this process: a region and an event nobody else holds.
  const region = SharedMemory.open(`${o.prefix}-idle`, { size: 4096 });
  const event = NamedEvent.open(`${o.prefix}-idle-event`);
  const idle: WakeReport['idle'] = { notify: [], set: [], changeCount: [] };
  try {
    for (let round = 0; round < Math.max(3, Math.min(rounds, 5)); round++) {
      idle.notify.push(await perCall(() => region.notify(), o.quick));
      idle.set.push(await perCall(() => event.set(), o.quick));
      idle.changeCount.push(await perCall(() => region.changeCount, o.quick));
    }
  } finally {
    event.close();
    region.close();
  }
  const strace = straceCalls(o, 100_000, notes);

  // Which library was measured: the commit, and whether lib/ (the Windows backend aside, which
  // this section does not run) had changes not yet committed.
  const root = path.resolve(here, '../..');
  const head = firstLine('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = spawnSync('git', ['-C', root, 'status', '--porcelain', '--', 'lib', ':!lib/os/windows'], { encoding: 'utf8' }).stdout?.trim();
  return {
    date: new Date().toISOString().slice(0, 10),
    revision: head ? `${head}${dirty ? ' with uncommitted changes in lib/ (Windows backend aside)' : ''}` : undefined,
    cc: ccVersion,
    rounds,
    warm,
    timed,
    configs,
    impls,
    samples,
    idle,
    strace,
    notes,
    load: [loadBefore, os.loadavg()[0]!],
    seconds: (Date.now() - started) / 1000,
  };
}
