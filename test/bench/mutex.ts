// The mutex section of `npm run bench` (issue 11): what a `NamedMutex` costs uncontended and
// handed between processes, next to C on the same kind of object, and how fair it is under the
// contention of 8 processes.
//
// Uncontended: `tryLock()` + `guard.unlock()` timed with mitata in this process, next to C's
// pthread_mutex_lock + pthread_mutex_unlock on a NamedMutex object (glibc's robust,
// process-shared mutex in shm) and flock(LOCK_EX) + flock(LOCK_UN) on a file descriptor
// (test/bench/mutex-ref.c, built here with `cc -O2`); every round runs all three, in an order that
// turns, and the ratios are taken within a round. Whether the pair makes a system call: counted by
// running test/bench/mutex-calls.ts under `strace -f`.
// Hand-off: two fresh processes take the lock in turn (protocol in test/bench/mutex-peer.ts), with
// `await lock()`, with `lockSync()`, and in C; pinned to CPUs 0 and 1 with `taskset` when there is.
// Fairness: 8 processes lock and unlock in a loop, recording who got each acquisition.
// Nothing asserts on a time.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { do_not_optimize, measure } from 'mitata';
import { NamedMutex, SharedMemory } from '../../lib/index.ts';
import { median } from './stats.ts';
import type { FairRun, LockImpl, MutexReport, TrycallCount } from './mutex-report.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const PATIENCE_MS = 300_000;
const FAIR_PROCESSES = 8;
/** How long a hand-off's holder holds on once the other says it is trying: long enough for it to fall asleep in the lock. */
const HOLD_NS = 50_000;

export interface MutexBenchOptions {
  quick: boolean;
  rounds?: number;
  /** A scratch directory for the C binary, the flock file and the strace output. */
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
      else reject(new Error(`${argv.slice(0, 7).join(' ')} ...: exit ${code ?? signal}`));
    });
  });
  return { done, kill: () => child.kill('SIGKILL') };
}

/** Lock calls a Node peer counted as stalls (its "stalls N" line; C prints none). */
function stallsOf(out: string): number {
  return Number(/^stalls (\d+)$/m.exec(out)?.[1] ?? 0);
}

/** The numbers after "ok" on the output's "ok ..." line. */
function okNumbers(out: string): number[] {
  const line = out.split('\n').find((l) => l.startsWith('ok'));
  if (!line) throw new Error(`no result in ${JSON.stringify(out.slice(0, 200))}`);
  return line.slice(2).trim().split(/\s+/).filter(Boolean).map(Number);
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

/** strace's lines between the two markers of `what`: the marker thread's calls and futex calls, and the others'. */
function countBetween(lines: string[], what: string): TrycallCount | undefined {
  const begin = lines.findIndex((l) => l.includes(`marker-${what}-begin`));
  const end = lines.findIndex((l) => l.includes(`marker-${what}-end`));
  if (begin < 0 || end < begin) return undefined;
  const tid = lines[begin]!.split(/\s+/)[0];
  const count: TrycallCount = { thread: 0, threadFutex: 0, threadSharedFutex: 0, others: 0, othersFutex: 0, names: {} };
  for (const line of lines.slice(begin + 1, end)) {
    const m = /^(\d+)\s+([a-z_0-9]+)\((.*)$/.exec(line); // "<... x resumed>" is the same call, counted once
    if (!m) continue;
    const futexCall = m[2] === 'futex' || m[2] === 'futex_waitv';
    if (m[1] === tid) {
      count.thread++;
      if (futexCall) count.threadFutex++;
      if (futexCall && !m[3]!.includes('_PRIVATE')) count.threadSharedFutex++;
      count.names[m[2]!] = (count.names[m[2]!] ?? 0) + 1;
    } else {
      count.others++;
      if (futexCall) count.othersFutex++;
    }
  }
  return count;
}

function straceCalls(o: MutexBenchOptions, pairs: number, notes: string[]): MutexReport['strace'] {
  const version = firstLine('strace', ['-V']);
  if (!version) {
    notes.push('No `strace`: the system calls of tryLock() + unlock() were not counted.');
    return undefined;
  }
  const out = path.join(o.work, 'mutex-calls.strace');
  const r = spawnSync(
    'strace',
    ['-f', '-qq', '-o', out, process.execPath, '--import', 'tsx', path.join(here, 'mutex-calls.ts'), `${o.prefix}-calls`, String(pairs)],
    { encoding: 'utf8', timeout: PATIENCE_MS },
  );
  if (r.status !== 0) {
    notes.push(`strace of mutex-calls.ts failed (${(r.stderr || r.error?.message || '').trim().split('\n')[0]}): not counted.`);
    return undefined;
  }
  const got = okNumbers(r.stdout)[0];
  return { version: version.replace(' -- version', ''), pairs, got: got ?? 0, count: countBetween(fs.readFileSync(out, 'utf8').split('\n'), 'trylock') };
}

let counter = 0;

/** One hand-off run of `impl`: side b started first; side a's round trips (two hand-offs each). */
async function handoff(impl: LockImpl, pin: [string, string] | undefined, warm: number, timed: number, c: string | undefined, o: MutexBenchOptions): Promise<{ samples: number[]; stalls: number }> {
  const n = `${o.prefix}-h${counter++}`;
  const mutex = NamedMutex.create(n);
  const control = SharedMemory.create(`${n}-ctl`, { size: 64 });
  try {
    const side = (s: 'a' | 'b', cpu: string | undefined) => {
      const prefix = cpu === undefined ? [] : ['taskset', '-c', cpu];
      const counts = [String(warm), String(timed), String(HOLD_NS)];
      if (impl === 'c') return [...prefix, c!, 'handoff', s, n, `${n}-ctl`, ...counts];
      return [...prefix, process.execPath, '--import', 'tsx', path.join(here, 'mutex-peer.ts'), 'handoff', impl, s, n, `${n}-ctl`, ...counts];
    };
    const b = run(side('b', pin?.[1]));
    const a = run(side('a', pin?.[0]));
    try {
      const [outA, outB] = await Promise.all([a.done, b.done]);
      return { samples: okNumbers(outA), stalls: stallsOf(outA) + stallsOf(outB) };
    } catch (e) {
      a.kill();
      b.kill();
      throw e;
    }
  } finally {
    control.close();
    mutex.close();
  }
}

/** One fairness run of `impl`: FAIR_PROCESSES processes for `ms` (at most `capacity` acquisitions). */
async function fairness(impl: LockImpl, ms: number, capacity: number, c: string | undefined, o: MutexBenchOptions): Promise<FairRun> {
  const n = `${o.prefix}-f${counter++}`;
  const mutex = NamedMutex.create(n);
  const log = SharedMemory.create(`${n}-log`, { size: 4 * (8 + capacity) });
  const words = new Int32Array(log.bytes.buffer, log.bytes.byteOffset, 8 + capacity);
  const runs: ReturnType<typeof run>[] = [];
  try {
    for (let id = 0; id < FAIR_PROCESSES; id++) {
      runs.push(
        run(
          impl === 'c'
            ? [c!, 'fair', String(id), n, `${n}-log`, String(capacity)]
            : [process.execPath, '--import', 'tsx', path.join(here, 'mutex-peer.ts'), 'fair', impl, String(id), n, `${n}-log`, String(capacity)],
        ),
      );
    }
    const started = Date.now();
    while (Atomics.load(words, 1) < FAIR_PROCESSES) {
      if (Date.now() - started > PATIENCE_MS) throw new Error('the fairness processes did not start');
      await sleep(2);
    }
    const t0 = process.hrtime.bigint();
    Atomics.store(words, 2, 1);
    // Until the time is up, or the log is full (C fills it first).
    const end = t0 + BigInt(ms) * 1_000_000n;
    while (process.hrtime.bigint() < end && Atomics.load(words, 0) < capacity) await sleep(5);
    Atomics.store(words, 3, 1);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const outs = await Promise.all(runs.map((r) => r.done));
    const total = Atomics.load(words, 0);
    const reported = outs.map(okNumbers);
    // From the log: each process's acquisitions, and the longest run of others' acquisitions
    // between two of its own (or before its first, from the go).
    const counts = new Array<number>(FAIR_PROCESSES).fill(0);
    const lastSeen = new Array<number>(FAIR_PROCESSES).fill(-1);
    const longestGap = new Array<number>(FAIR_PROCESSES).fill(0);
    for (let i = 0; i < total; i++) {
      const id = words[8 + i]!;
      counts[id]!++;
      longestGap[id] = Math.max(longestGap[id]!, i - lastSeen[id]! - 1);
      lastSeen[id] = i;
    }
    for (let id = 0; id < FAIR_PROCESSES; id++) longestGap[id] = Math.max(longestGap[id]!, total - lastSeen[id]! - 1); // and after its last
    return {
      impl,
      total,
      seconds,
      counts,
      reportedCounts: reported.map((r) => r[0]!),
      maxWaited: reported.map((r) => r[1]!),
      meanWaited: reported.map((r) => (r[0]! > 0 ? r[2]! / r[0]! : NaN)),
      longestGap,
      stalls: outs.reduce((sum, out) => sum + stallsOf(out), 0),
    };
  } catch (e) {
    for (const r of runs) r.kill();
    throw e;
  } finally {
    log.close();
    mutex.close();
  }
}

export async function runMutex(o: MutexBenchOptions): Promise<MutexReport> {
  const started = Date.now();
  const loadBefore = os.loadavg()[0]!;
  const notes: string[] = [];
  const rounds = o.rounds ?? (o.quick ? 2 : 7);
  const warm = o.quick ? 100 : 500;
  const timed = o.quick ? 500 : 3000;
  const fairMs = o.quick ? 500 : 2000;
  const fairCapacity = 4_000_000;
  const fairRounds = o.quick ? 1 : 3;
  const samples = o.quick ? 5 : 11;

  let c: string | undefined;
  const cc = process.env.CC || 'cc';
  const ccVersion = firstLine(cc, ['--version']);
  if (ccVersion) {
    c = path.join(o.work, 'mutex-ref');
    const r = spawnSync(cc, ['-O2', '-o', c, path.join(here, 'mutex-ref.c'), '-lpthread', '-lrt'], { encoding: 'utf8' });
    if (r.status !== 0) {
      notes.push(`mutex-ref.c did not build with \`${cc}\`: the C references were skipped (${(r.stderr || '').trim().split('\n')[0]}).`);
      c = undefined;
    }
  } else notes.push(`No C compiler (\`${cc}\`): the C references were skipped.`);

  // ---- Uncontended -----------------------------------------------------------------------------
  const uncontended: MutexReport['uncontended'] = { node: [], pthread: [], flock: [] };
  const name = `${o.prefix}-mu`;
  const mutex = NamedMutex.create(name);
  const flockFile = path.join(o.work, 'flock-file');
  fs.writeFileSync(flockFile, '');
  const tasks: { id: keyof MutexReport['uncontended']; run: () => Promise<number> }[] = [
    {
      id: 'node',
      run: () =>
        perCall(() => {
          mutex.tryLock()!.unlock();
        }, o.quick),
    },
  ];
  if (c) {
    tasks.push({ id: 'pthread', run: async () => median(okNumbers(await run([c!, 'pair', name, o.quick ? '200000' : '1000000', String(samples)]).done)) });
    tasks.push({ id: 'flock', run: async () => median(okNumbers(await run([c!, 'flock', flockFile, o.quick ? '5000' : '20000', String(samples)]).done)) });
  }
  console.log(`mutex: ${rounds} rounds of uncontended lock + unlock`);
  try {
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < tasks.length; k++) {
        const task = tasks[(k + round) % tasks.length]!;
        uncontended[task.id].push(await task.run());
      }
    }
  } finally {
    mutex.close();
  }
  const strace = straceCalls(o, 100_000, notes);

  // ---- Hand-off ----------------------------------------------------------------------------------
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const taskset = firstLine('taskset', ['--version']) !== undefined;
  let pin: [string, string] | undefined;
  if (taskset && cpus >= 2) pin = ['0', '1'];
  else notes.push(taskset ? 'One CPU only: the hand-off processes ran unpinned.' : 'No `taskset`: the hand-off processes ran where the scheduler put them.');
  const impls: LockImpl[] = ['async', 'sync', ...(c ? (['c'] as const) : [])];
  const handoffs: MutexReport['handoffs'] = {};
  const handoffStalls: MutexReport['handoffStalls'] = {};
  for (const impl of impls) {
    handoffs[impl] = [];
    handoffStalls[impl] = 0;
  }
  console.log(`mutex: ${rounds} rounds of ${warm} + ${timed} hand-off round trips per implementation`);
  for (let round = 0; round < rounds; round++) {
    process.stdout.write(`mutex hand-off round ${round + 1}/${rounds}:`);
    for (let k = 0; k < impls.length; k++) {
      const impl = impls[(k + round) % impls.length]!;
      const result = await handoff(impl, pin, warm, timed, c, o);
      handoffs[impl]!.push(result.samples);
      handoffStalls[impl]! += result.stalls;
      process.stdout.write(' .');
    }
    process.stdout.write('\n');
  }

  // ---- Fairness ----------------------------------------------------------------------------------
  const fair: FairRun[] = [];
  console.log(`mutex: ${fairRounds} rounds of ${FAIR_PROCESSES} processes contending for ${fairMs} ms`);
  for (let round = 0; round < fairRounds; round++) {
    process.stdout.write(`mutex fairness round ${round + 1}/${fairRounds}:`);
    for (let k = 0; k < impls.length; k++) {
      fair.push(await fairness(impls[(k + round) % impls.length]!, fairMs, fairCapacity, c, o));
      process.stdout.write(' .');
    }
    process.stdout.write('\n');
  }

  const root = path.resolve(here, '../..');
  const head = firstLine('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = spawnSync('git', ['-C', root, 'status', '--porcelain', '--', 'lib', ':!lib/os/windows'], { encoding: 'utf8' }).stdout?.trim();
  return {
    date: new Date().toISOString().slice(0, 10),
    revision: head ? `${head}${dirty ? ' with uncommitted changes in lib/ (Windows backend aside)' : ''}` : undefined,
    cc: ccVersion,
    rounds,
    samples,
    warm,
    timed,
    pinned: pin !== undefined,
    holdNs: HOLD_NS,
    impls,
    uncontended,
    strace,
    handoffs,
    handoffStalls,
    fair,
    fairProcesses: FAIR_PROCESSES,
    notes,
    load: [loadBefore, os.loadavg()[0]!],
    seconds: (Date.now() - started) / 1000,
  };
}
