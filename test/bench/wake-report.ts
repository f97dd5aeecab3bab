// What the wake-up section of `npm run bench` (test/bench/wake.ts) prints, and its part of
// docs/BENCHMARKS.md: a block between two markers, which a run of this section alone replaces
// and a run without it keeps.
import fs from 'node:fs';
import { formatNs, formatRatio, median, summarize, type Summary } from './stats.ts';

export type PingImpl = 'sync' | 'async' | 'c' | 'ipc';

export interface WakeConfig {
  id: string;
  label: string;
  cpuA?: string;
  cpuB?: string;
}

/** System calls strace saw between the markers of one loop. */
export interface CallCount {
  /** By the thread running the loop, and of them futex calls, and of those on shared words. */
  thread: number;
  threadFutex: number;
  threadSharedFutex: number;
  /** By the process's other threads (V8's compiler and collector, libuv) meanwhile. */
  others: number;
  othersFutex: number;
}

export interface WakeReport {
  date: string;
  /** The commit measured, from git. */
  revision?: string;
  cc?: string;
  rounds: number;
  warm: number;
  timed: number;
  configs: WakeConfig[];
  impls: PingImpl[];
  /** Per configuration and implementation: each round's round trips in ns. */
  samples: Record<string, Partial<Record<PingImpl, number[][]>>>;
  /** ns per call with nobody waiting, one figure per round. */
  idle: { notify: number[]; set: number[]; changeCount: number[] };
  /** sharedFutexInRun: FUTEX_WAKE calls on shared words in the whole traced run. */
  strace?: { version: string; calls: number; notify?: CallCount; set?: CallCount; sharedFutexInRun: number };
  notes: string[];
  /** The 1-minute load average when the section began and when it ended. */
  load: [number, number];
  seconds: number;
}

const LABEL: Record<PingImpl, string> = {
  sync: '`waitSync()` both sides',
  async: '`await wait()` both sides',
  c: 'C futex ping-pong',
  ipc: 'Node fork + `process.send`',
};

interface WakeTarget {
  impl: PingImpl;
  ref: PingImpl;
  limit: number;
  strictly?: boolean;
  text: string;
}

/** Issue 10's targets, each as "time ÷ reference time" of the medians of the same round. */
const TARGETS: WakeTarget[] = [
  { impl: 'sync', ref: 'c', limit: 1.5, text: '`waitSync` round trip within 1.5× the C futex round trip' },
  { impl: 'async', ref: 'c', limit: 4, text: '`await wait()` round trip within 4× the C futex round trip' },
  { impl: 'sync', ref: 'ipc', limit: 1, strictly: true, text: '`waitSync` round trip faster than `process.send`' },
  { impl: 'async', ref: 'ipc', limit: 1, strictly: true, text: '`await wait()` round trip faster than `process.send`' },
];
const IDLE_LIMIT_NS = 100;

/** Shown when the async wait misses a target: what its wake-up goes through (lib/os/linux/futex-watcher*.ts). */
const ASYNC_PATH =
  "Where an `await wait()` wake-up goes: set() wakes the waiting process's watcher thread, asleep in " +
  'futex_waitv on the words of every pending wait; that thread posts a message to its JavaScript ' +
  'thread, which libuv wakes from epoll; the JavaScript thread takes the signal, resolves the promise, ' +
  "and the next wait gives the watcher thread its words again (a futex wake of the thread's control " +
  'word). A C waiter is woken once and runs. On one CPU every hand-over between those threads is a ' +
  'switch on the same CPU, where each can queue behind whatever else is runnable there.';

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Row {
  config: WakeConfig;
  impl: PingImpl;
  /** Each round's median and p99, summarized over the rounds. */
  medians: Summary;
  p99s: Summary;
  /** Every timed round trip of every round together. */
  pooled: { n: number; median: number; p99: number };
}

function rows(r: WakeReport): Row[] {
  const out: Row[] = [];
  for (const config of r.configs) {
    for (const impl of r.impls) {
      const perRound = r.samples[config.id]?.[impl];
      if (!perRound || perRound.length === 0) continue;
      const sortedRounds = perRound.map((v) => [...v].sort((x, y) => x - y));
      const all = sortedRounds.flat().sort((x, y) => x - y);
      out.push({
        config,
        impl,
        medians: summarize(sortedRounds.map((v) => median(v))),
        p99s: summarize(sortedRounds.map((v) => quantile(v, 0.99))),
        pooled: { n: all.length, median: median(all), p99: quantile(all, 0.99) },
      });
    }
  }
  return out;
}

interface TargetResult {
  config: WakeConfig;
  target: WakeTarget;
  ratio?: Summary;
  met?: boolean;
}

function targets(r: WakeReport): TargetResult[] {
  const out: TargetResult[] = [];
  for (const config of r.configs) {
    for (const target of TARGETS) {
      const ours = r.samples[config.id]?.[target.impl];
      const theirs = r.samples[config.id]?.[target.ref];
      if (!ours || !theirs || ours.length !== theirs.length || ours.length === 0) {
        out.push({ config, target });
        continue;
      }
      const ratio = summarize(ours.map((v, i) => median(v) / median(theirs[i]!)));
      out.push({ config, target, ratio, met: target.strictly ? ratio.median < target.limit : ratio.median <= target.limit });
    }
  }
  return out;
}

const verdict = (met: boolean | undefined) => (met === undefined ? 'not measured' : met ? 'met' : 'NOT MET');
const range = (s: Summary, f: (v: number) => string) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

function syscallText(c: CallCount | undefined, calls: number): string {
  if (!c) return 'markers not found';
  return `${c.thread} system calls by the calling thread during ${calls.toLocaleString('en-US')} calls (${c.threadFutex} futex, ${c.threadSharedFutex} on a shared word); ${c.others} by other threads meanwhile (${c.othersFutex} futex)`;
}

export function printWake(r: WakeReport): void {
  console.log(`\nWake-up round trips: median (lowest–highest round), p99 of all ${r.rounds * r.timed} timed round trips`);
  for (const row of rows(r)) {
    console.log(`  ${row.config.label.padEnd(28)} ${LABEL[row.impl].padEnd(28)} ${range(row.medians, formatNs).padEnd(34)} p99 ${formatNs(row.pooled.p99)}`);
  }
  console.log('\nWake-up targets (ratio of the round medians, within each round)');
  for (const t of targets(r)) {
    const ratio = t.ratio ? range(t.ratio, formatRatio) : '—';
    console.log(`  ${verdict(t.met).padEnd(12)} ${t.config.label.padEnd(28)} ${t.target.text.padEnd(62)} ${ratio}`);
  }
  const notify = summarize(r.idle.notify);
  console.log(`\nWith nobody waiting: notify() ${range(notify, formatNs)} [${verdict(notify.median < IDLE_LIMIT_NS)} < ${IDLE_LIMIT_NS} ns]; set() ${range(summarize(r.idle.set), formatNs)}; changeCount ${range(summarize(r.idle.changeCount), formatNs)}`);
  if (r.strace) {
    console.log(`  strace, notify(): ${syscallText(r.strace.notify, r.strace.calls)}`);
    console.log(`  strace, set():    ${syscallText(r.strace.set, r.strace.calls)}`);
  }
  for (const n of r.notes) console.log(`\nNote: ${n}`);
  console.log(`\nwake-ups: ${r.seconds.toFixed(0)} s; load average ${r.load[0].toFixed(1)} at the start, ${r.load[1].toFixed(1)} at the end`);
}

export const WAKE_BEGIN = '<!-- wake-ups: written by `npm run bench` (test/bench/wake-report.ts) -->';
export const WAKE_END = '<!-- end of wake-ups -->';

export function wakeMarkdown(r: WakeReport, machine: string): string {
  const L: string[] = [];
  L.push(
    WAKE_BEGIN,
    '## Wake-ups (issue 10)',
    '',
    '`npm run bench -- wake` runs this section alone (test/bench/wake.ts). **Round trip:** process a',
    'sets event 1 and waits on event 2; process b waits on event 1 and sets event 2 (two auto-reset',
    '`NamedEvent`s); a times each round trip with `process.hrtime`. The same ping-pong with',
    '`waitSync()` on both sides, with `await wait()` on both sides, in C (test/bench/wake-futex.c,',
    'built with `cc -O2`: two futex words in one `MAP_SHARED` shm object, `FUTEX_WAIT`/`FUTEX_WAKE`',
    'without `FUTEX_PRIVATE_FLAG`, a wake on every set), and as Node\'s `fork` + `process.send` of a',
    'short string echoed back. Each runs as two fresh processes started under `taskset`, both on',
    'CPU 0 (**one CPU**) or on CPUs 0 and 1 (**two CPUs**), every thread of a process on its CPU.',
    `Each round runs every implementation in every configuration once (${r.warm} warm-up round trips,`,
    `then ${r.timed.toLocaleString('en-US')} timed), in an order that turns each round; ${r.rounds} rounds, so`,
    `${(r.rounds * r.timed).toLocaleString('en-US')} timed round trips per cell. Ratios are of the round medians, taken within each`,
    'round, then summarized: median (lowest–highest round). No test asserts on any of it.',
    '',
    `**Machine:** ${machine}${r.cc ? `; C: ${r.cc}, -O2` : ''}. Measured on ${r.date}${r.revision ? ` at ${r.revision}` : ''} (${r.seconds.toFixed(0)} s); 1-minute load average ${r.load[0].toFixed(1)} when the section began and ${r.load[1].toFixed(1)} when it ended${r.load[0] > 0.5 || r.load[1] > 0.5 ? ': other jobs shared the cores, and a wake-up that must wait for a busy CPU shows it' : ''}.`,
    '',
    '| target | configuration | ratio: median (range) | limit | met |',
    '|---|---|---|---|---|',
  );
  for (const t of targets(r)) {
    const limit = `${t.target.strictly ? '<' : '≤'} ${t.target.limit}`;
    L.push(`| ${t.target.text} | ${t.config.label} | ${t.ratio ? range(t.ratio, formatRatio) : '—'} | ${limit} | ${t.met === undefined ? 'not measured' : t.met ? '**met**' : '**not met**'} |`);
  }
  const notify = summarize(r.idle.notify);
  // notify() can make one system call only: a futex wake on the counter, a shared word. What else
  // the thread did meanwhile is V8's and libuv's (private futexes, collector mappings): listed below.
  const noSyscall = r.strace?.notify ? r.strace.notify.threadSharedFutex === 0 : undefined;
  L.push(
    `| \`notify()\` with nobody waiting under ${IDLE_LIMIT_NS} ns | (no peer) | ${range(notify, formatNs)} per call | < ${IDLE_LIMIT_NS} ns | ${notify.median < IDLE_LIMIT_NS ? '**met**' : '**not met**'} |`,
    `| \`notify()\` with nobody waiting makes no system call (no futex call on a shared word) | (no peer) | ${r.strace?.notify ? `${r.strace.notify.threadSharedFutex} in ${r.strace.calls.toLocaleString('en-US')} calls` : '—'}; see below | 0 | ${noSyscall === undefined ? 'not measured' : noSyscall ? '**met**' : '**not met**'} |`,
    '',
    '### Round trips',
    '',
    'Per configuration and implementation: the median round trip (median of the rounds, lowest–highest',
    'round), the p99 within a round (median of the rounds), and the median and p99 of all timed round',
    'trips together.',
    '',
    '| configuration | implementation | median | p99 of a round | all: median | all: p99 |',
    '|---|---|---|---|---|---|',
  );
  for (const row of rows(r)) {
    L.push(`| ${row.config.label} | ${LABEL[row.impl]} | ${range(row.medians, formatNs)} | ${formatNs(row.p99s.median)} | ${formatNs(row.pooled.median)} | ${formatNs(row.pooled.p99)} |`);
  }
  L.push(
    '',
    '### Calls with nobody waiting',
    '',
    'ns per call, timed with mitata in batches of 4,096 calls in the benchmark\'s process, on a region',
    `and an event nobody else holds: median of ${r.idle.notify.length} measurements (lowest–highest).`,
    '',
    '| call | ns per call |',
    '|---|---|',
    `| \`region.notify()\` | ${range(notify, formatNs)} |`,
    `| \`event.set()\` | ${range(summarize(r.idle.set), formatNs)} |`,
    `| \`region.changeCount\` | ${range(summarize(r.idle.changeCount), formatNs)} |`,
    '',
  );
  if (r.strace) {
    L.push(
      `System calls, counted by running test/bench/wake-calls.ts under \`strace -f\` (${r.strace.version}): it`,
      'warms both calls up, then makes each call in a loop between two marker `access(2)` calls, and the',
      'benchmark counts what strace saw between the markers. Futex calls "on a shared word" are the ones',
      'without `FUTEX_PRIVATE_FLAG`, which is what a wake of an event or counter is; V8 and libuv use',
      'private ones.',
      '',
      `- \`notify()\`: ${syscallText(r.strace.notify, r.strace.calls)}.`,
      `- \`set()\`: ${syscallText(r.strace.set, r.strace.calls)}.`,
      `- \`FUTEX_WAKE\` calls on a shared word in the whole run of that process, start-up, warm-up and close included: ${r.strace.sharedFutexInRun}.`,
      '',
    );
  }
  const asyncMissed = targets(r).some((t) => t.target.impl === 'async' && t.met === false);
  if (r.notes.length > 0 || asyncMissed) {
    L.push('### Notes', '');
    if (asyncMissed) L.push(`- ${ASYNC_PATH}`);
    for (const n of r.notes) L.push(`- ${n}`);
    L.push('');
  }
  L.push(WAKE_END);
  return L.join('\n') + '\n';
}

/** The wake-up block of a BENCHMARKS.md, if it has one. */
export function wakeBlock(doc: string): string | undefined {
  const begin = doc.indexOf(WAKE_BEGIN);
  const end = doc.indexOf(WAKE_END);
  if (begin < 0 || end < begin) return undefined;
  return doc.slice(begin, end + WAKE_END.length) + '\n';
}

/** Puts `block` in `file` in place of its wake-up block, or at its end. */
export function writeWakeBlock(file: string, block: string): void {
  const doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const old = wakeBlock(doc);
  const next = old ? doc.replace(old, () => block) : `${doc.replace(/\n*$/, '\n')}\n${block}`;
  fs.writeFileSync(file, next);
}
