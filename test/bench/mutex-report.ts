// What the mutex section of `npm run bench` (test/bench/mutex.ts) prints, and its part of
// docs/BENCHMARKS.md: a block between two markers, which a run of this section replaces and a run
// without it keeps.
import fs from 'node:fs';
import { formatNs, formatRatio, median, summarize, type Summary } from './stats.ts';

export type LockImpl = 'async' | 'sync' | 'c';

/** System calls strace saw between the markers of the tryLock() + unlock() loop. */
export interface TrycallCount {
  /** By the thread running the loop, and of them futex calls; per system call name. */
  thread: number;
  threadFutex: number;
  /** Futex calls without FUTEX_PRIVATE_FLAG: what a lock or unlock of the mutex would make. */
  threadSharedFutex: number;
  /** By the process's other threads (V8's compiler and collector, libuv) meanwhile. */
  others: number;
  othersFutex: number;
  names: Record<string, number>;
}

export interface FairRun {
  impl: LockImpl;
  total: number;
  seconds: number;
  /** Acquisitions per process, from the log. */
  counts: number[];
  /** As each process counted them itself (the same, or the log is wrong). */
  reportedCounts: number[];
  /** Per process: the most acquisitions by others during one of its attempts, and the mean. */
  maxWaited: number[];
  meanWaited: number[];
  /** Per process, from the log: the longest run of others' acquisitions between two of its own (or before its first). */
  longestGap: number[];
  /** Lock calls of 900 ms or more, or that reached their 1 s bound (Node peers only). */
  stalls: number;
}

export interface MutexReport {
  date: string;
  revision?: string;
  cc?: string;
  rounds: number;
  /** C samples per round (each a timed loop). */
  samples: number;
  warm: number;
  timed: number;
  pinned: boolean;
  /** How long a hand-off's holder held on after the other said it was trying; taken off the figures. */
  holdNs: number;
  impls: LockImpl[];
  /** ns per lock + unlock pair, one figure per round. */
  uncontended: { node: number[]; pthread: number[]; flock: number[] };
  strace?: { version: string; pairs: number; got: number; count?: TrycallCount };
  /** Per implementation: each round's round trips (two hand-offs each), in ns. */
  handoffs: Partial<Record<LockImpl, number[][]>>;
  /** Lock calls of 900 ms or more, or that reached their 1 s bound, over every hand-off run. */
  handoffStalls: Partial<Record<LockImpl, number>>;
  fair: FairRun[];
  fairProcesses: number;
  notes: string[];
  load: [number, number];
  seconds: number;
}

const LABEL: Record<LockImpl, string> = {
  async: '`await mutex.lock()` both sides',
  sync: '`mutex.lockSync()` both sides',
  c: 'C `pthread_mutex_lock` both sides',
};

const UNCONTENDED_LIMIT = 3;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const range = (s: Summary, f: (v: number) => string) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

/** Within-round ratios a ÷ b. */
function ratios(a: readonly number[], b: readonly number[]): Summary | undefined {
  if (a.length === 0 || a.length !== b.length) return undefined;
  return summarize(a.map((v, i) => v / b[i]!));
}

interface HandoffRow {
  impl: LockImpl;
  /** Per hand-off: each round's median round trip ÷ 2, summarized. */
  perHandoff: Summary;
  /** p99 of all round trips ÷ 2. */
  p99: number;
  /** The longest round trip ÷ 2. */
  max: number;
  n: number;
  stalls: number;
}

function handoffRows(r: MutexReport): HandoffRow[] {
  const out: HandoffRow[] = [];
  for (const impl of r.impls) {
    const perRound = r.handoffs[impl];
    if (!perRound || perRound.length === 0) continue;
    const all = perRound.flat().sort((x, y) => x - y);
    const h = (rt: number) => (rt - r.holdNs) / 2;
    out.push({ impl, perHandoff: summarize(perRound.map((v) => h(median(v)))), p99: h(quantile(all, 0.99)), max: h(all[all.length - 1]!), n: all.length, stalls: r.handoffStalls[impl] ?? 0 });
  }
  return out;
}

function handoffRatio(r: MutexReport, impl: LockImpl): Summary | undefined {
  const ours = r.handoffs[impl];
  const theirs = r.handoffs.c;
  if (!ours || !theirs) return undefined;
  return ratios(
    ours.map((v) => median(v) - r.holdNs),
    theirs.map((v) => median(v) - r.holdNs),
  );
}

interface FairRow {
  impl: LockImpl;
  runs: FairRun[];
  worst: number;
  worstGap: number;
  meanWaited: Summary;
  countsRange: [number, number];
  perSecond: Summary;
  consistent: boolean;
  stalls: number;
}

function fairRows(r: MutexReport): FairRow[] {
  return r.impls
    .map((impl) => {
      const runs = r.fair.filter((f) => f.impl === impl);
      if (runs.length === 0) return undefined;
      const counts = runs.flatMap((f) => f.counts);
      return {
        impl,
        runs,
        worst: Math.max(...runs.flatMap((f) => f.maxWaited)),
        worstGap: Math.max(...runs.flatMap((f) => f.longestGap)),
        meanWaited: summarize(runs.map((f) => median(f.meanWaited))),
        countsRange: [Math.min(...counts), Math.max(...counts)] as [number, number],
        perSecond: summarize(runs.map((f) => f.total / f.seconds)),
        consistent: runs.every((f) => f.counts.every((n, i) => n === f.reportedCounts[i])),
        stalls: runs.reduce((sum, f) => sum + f.stalls, 0),
      };
    })
    .filter((x): x is FairRow => x !== undefined);
}

function callsText(r: MutexReport): string {
  const s = r.strace;
  if (!s) return 'not counted';
  if (!s.count) return 'markers not found';
  const names = Object.entries(s.count.names)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `${s.count.thread} system calls by the calling thread during ${s.pairs.toLocaleString('en-US')} pairs (${s.count.threadFutex} futex, ${s.count.threadSharedFutex} of them on a shared word${names ? `; by name: ${names}` : ''}); ${s.count.others} by other threads meanwhile (${s.count.othersFutex} futex)`;
}

export function printMutex(r: MutexReport): void {
  const u = r.uncontended;
  console.log('\nUncontended lock + unlock, ns per pair: median (lowest–highest round)');
  console.log(`  tryLock() + unlock()               ${range(summarize(u.node), formatNs)}`);
  if (u.pthread.length) console.log(`  C pthread_mutex_lock + unlock      ${range(summarize(u.pthread), formatNs)}`);
  if (u.flock.length) console.log(`  C flock(LOCK_EX) + flock(LOCK_UN)  ${range(summarize(u.flock), formatNs)}`);
  const vsC = ratios(u.node, u.pthread);
  const vsFlock = ratios(u.node, u.flock);
  if (vsC) console.log(`  ratio to the C robust mutex: ${range(vsC, formatRatio)} [${vsC.median <= UNCONTENDED_LIMIT ? 'met' : 'NOT MET'} ≤ ${UNCONTENDED_LIMIT}]; to flock: ${vsFlock ? range(vsFlock, formatRatio) : '—'}`);
  console.log(`  strace: ${callsText(r)}`);
  console.log('\nHand-off between two processes: per hand-off, median (lowest–highest round); p99');
  for (const row of handoffRows(r)) {
    const ratio = row.impl === 'c' ? undefined : handoffRatio(r, row.impl);
    console.log(`  ${LABEL[row.impl].padEnd(36)} ${range(row.perHandoff, formatNs).padEnd(34)} p99 ${formatNs(row.p99)} max ${formatNs(row.max)} stalls ${row.stalls}${ratio ? `  ÷ C ${range(ratio, formatRatio)}` : ''}`);
  }
  console.log(`\nFairness, ${r.fairProcesses} processes`);
  for (const row of fairRows(r)) {
    console.log(`  ${LABEL[row.impl].padEnd(36)} worst wait ${row.worst} acquisitions by others; per-process counts ${row.countsRange[0]}–${row.countsRange[1]}; ${Math.round(row.perSecond.median).toLocaleString('en-US')} acquisitions/s; stalls ${row.stalls}`);
    for (const f of row.runs) console.log(`      run: counts [${f.counts.join(', ')}], worst per process [${f.maxWaited.join(', ')}]`);
  }
  for (const n of r.notes) console.log(`\nNote: ${n}`);
  console.log(`\nmutex: ${r.seconds.toFixed(0)} s; load average ${r.load[0].toFixed(1)} at the start, ${r.load[1].toFixed(1)} at the end`);
}

export const MUTEX_BEGIN = '<!-- mutex: written by `npm run bench` (test/bench/mutex-report.ts) -->';
export const MUTEX_END = '<!-- end of mutex -->';

export function mutexMarkdown(r: MutexReport, machine: string): string {
  const u = r.uncontended;
  const vsC = ratios(u.node, u.pthread);
  const vsFlock = ratios(u.node, u.flock);
  // The pair's own system call would be a futex call on the shared lock word; what else the thread
  // did meanwhile is V8's (its collector's mappings, private futexes): listed below.
  const noSyscall = r.strace?.count ? r.strace.count.threadSharedFutex === 0 : undefined;
  const L: string[] = [];
  L.push(
    MUTEX_BEGIN,
    '## Named mutex (issue 11)',
    '',
    '`npm run bench -- mutex` runs this section alone (test/bench/mutex.ts). Every lock here is a',
    '`NamedMutex` object, which on Linux is glibc\'s robust, process-shared, error-checking',
    '`pthread_mutex_t` in a 64-byte shm object; the C references (test/bench/mutex-ref.c, built with',
    '`cc -O2`) open the same kind of object by name as the README\'s C protocol says and call',
    '`pthread_mutex_lock`. No test asserts on any of it.',
    '',
    `**Machine:** ${machine}${r.cc ? `; C: ${r.cc}, -O2` : ''}. Measured on ${r.date}${r.revision ? ` at ${r.revision}` : ''} (${r.seconds.toFixed(0)} s); 1-minute load average ${r.load[0].toFixed(1)} when the section began and ${r.load[1].toFixed(1)} when it ended${r.load[0] > 1 || r.load[1] > 1 ? ': other jobs shared the two cores, which shows most in the hand-off and fairness runs, where a process that must wait for a busy CPU waits' : ''}.`,
    '',
    '| target | ratio: median (range) | limit | met |',
    '|---|---|---|---|',
    `| uncontended \`tryLock()\` + \`unlock()\` within 3× of C's \`pthread_mutex_lock\` + \`unlock\` on the robust mutex | ${vsC ? range(vsC, formatRatio) : '—'} | ≤ ${UNCONTENDED_LIMIT} | ${vsC ? (vsC.median <= UNCONTENDED_LIMIT ? '**met**' : '**not met**') : 'not measured'} |`,
    `| no system call on the uncontended path (no futex call on the shared lock word) | ${r.strace?.count ? `${r.strace.count.threadSharedFutex} in ${r.strace.pairs.toLocaleString('en-US')} pairs; see below` : '—'} | 0 | ${noSyscall === undefined ? 'not measured' : noSyscall ? '**met**' : '**not met**'} |`,
    '',
    '### Uncontended lock + unlock',
    '',
    `ns per lock + unlock pair, one figure per round (${r.rounds} rounds; each round runs the three in an order`,
    'that turns): `tryLock()` + `guard.unlock()` timed with mitata in batches of 4,096 pairs in the',
    `benchmark's process; the C loops as the median of ${r.samples} timed loops in a fresh process. Median`,
    '(lowest–highest round); ratios taken within each round.',
    '',
    '| lock + unlock | ns per pair | `tryLock` + `unlock` ÷ this |',
    '|---|---|---|',
    `| \`mutex.tryLock()\` + \`guard.unlock()\` | ${range(summarize(u.node), formatNs)} | 1 |`,
  );
  if (u.pthread.length) L.push(`| C \`pthread_mutex_lock\` + \`pthread_mutex_unlock\`, robust and process-shared, in shm | ${range(summarize(u.pthread), formatNs)} | ${vsC ? range(vsC, formatRatio) : '—'} |`);
  if (u.flock.length) L.push(`| C \`flock(fd, LOCK_EX)\` + \`flock(fd, LOCK_UN)\` on a file in the temporary directory | ${range(summarize(u.flock), formatNs)} | ${vsFlock ? range(vsFlock, formatRatio) : '—'} |`);
  L.push('');
  if (r.strace) {
    L.push(
      `System calls, counted by running test/bench/mutex-calls.ts under \`strace -f\` (${r.strace.version}): it`,
      `warms the pair up, then makes ${r.strace.pairs.toLocaleString('en-US')} \`tryLock()\` + \`unlock()\` pairs (${r.strace.got.toLocaleString('en-US')} got the lock) between two marker`,
      '`access(2)` calls, and the benchmark counts what strace saw between the markers:',
      `${callsText(r)}. The uncontended path is glibc's \`pthread_mutex_trylock\` and \`pthread_mutex_unlock\`,`,
      'an atomic compare-and-swap each, called through koffi; the unlock makes a `FUTEX_WAKE` only when',
      'the lock word says a waiter sleeps.',
      '',
    );
  }
  L.push(
    '### Hand-off between two processes',
    '',
    'Two fresh processes take the lock in turn (test/bench/mutex-peer.ts; mutex-ref.c does the same',
    'in C): the holder adds one to a shared word, waits until the other process says it is trying',
    `(it set a flag and went into the lock call), holds on for ${(r.holdNs / 1000).toFixed(0)} µs more, so that the other is asleep in the`,
    'lock by then, and unlocks; then it waits until the word moves (the',
    'other holds the lock now), says it is trying and locks, which waits for the other\'s unlock. The',
    'waits between lock calls spin on the shared words (yielding the CPU after 200 µs). Every acquisition',
    'is thus a hand-off to a process that was asleep in its lock call; side a times each round trip from its unlock to',
    `its next acquisition (two hand-offs and the other's ${(r.holdNs / 1000).toFixed(0)} µs hold), and the table gives half of what is left once the hold is taken off. ${r.pinned ? 'The two processes ran pinned to CPU 0 and CPU 1 (`taskset`).' : 'The processes ran unpinned.'}`,
    `Each round runs each implementation once (${r.warm} warm-up round trips, then ${r.timed.toLocaleString('en-US')} timed), in an order`,
    `that turns; ${r.rounds} rounds. Ratios are of the round medians, within each round.`,
    '',
    'Every Node lock call in the hand-off and fairness runs is bounded (`lock({ timeout: 1000 })`,',
    '`lockSync(1000)`, called again on `ETIMEDOUT`), and one that took 900 ms or more is counted in',
    '**stalled lock calls**. In the hand-off, where the other process is always about to unlock, a',
    'stall can only be a wake-up lost while the mutex was free (without the bound it would hang the',
    'run); the longest round trip shows what it cost. In the fairness runs a stall can also be a',
    'process passed over for a second by the others.',
    '',
    '| implementation | per hand-off: median (range of rounds) | p99 (all rounds) | longest | ÷ C, within rounds | stalled lock calls |',
    '|---|---|---|---|---|---|',
  );
  for (const row of handoffRows(r)) {
    const ratio = row.impl === 'c' ? undefined : handoffRatio(r, row.impl);
    L.push(`| ${LABEL[row.impl]} | ${range(row.perHandoff, formatNs)} | ${formatNs(row.p99)} | ${formatNs(row.max)} | ${row.impl === 'c' ? '1' : ratio ? range(ratio, formatRatio) : '—'} | ${row.impl === 'c' ? '—' : row.stalls} |`);
  }
  const fr = fairRows(r);
  const runsPer = fr[0]?.runs.length ?? 0;
  L.push(
    '',
    `### Fairness under the contention of ${r.fairProcesses} processes`,
    '',
    `${r.fairProcesses} fresh processes (unpinned) lock and unlock in a loop with nothing between, from a common start for`,
    `${((fr[0]?.runs[0]?.seconds ?? 0)).toFixed(1)} s (or until the log of 4,000,000 acquisitions is full), until the harness says stop; under the lock each writes its id into a shared log. Before each`,
    'attempt a process reads the count of acquisitions; what it reads once it holds the lock, less that,',
    'is how many acquisitions went to others while it was trying. **Worst wait** is the most over every',
    'attempt of every process, the last one (which ended at the stop) included; the log gives the same from outside (the longest run of others\'',
    `acquisitions between two of a process's own, or before its first or after its last). ${runsPer} run${runsPer === 1 ? '' : 's'} per implementation.`,
    'A measurement, not a pass/fail: glibc\'s mutex is not a FIFO (an unlocker that locks again at once',
    'often wins against a waiter that must first be woken), and NamedMutex inherits that.',
    '',
    '| implementation | worst wait (acquisitions by others) | from the log | mean wait per attempt (median of runs) | acquisitions per process (fewest–most) | acquisitions/s (median of runs) | stalled lock calls |',
    '|---|---|---|---|---|---|---|',
  );
  for (const row of fr) {
    L.push(`| ${LABEL[row.impl]} | ${row.worst.toLocaleString('en-US')} | ${row.worstGap.toLocaleString('en-US')} | ${row.meanWaited.median.toFixed(1)} | ${row.countsRange[0].toLocaleString('en-US')}–${row.countsRange[1].toLocaleString('en-US')} | ${Math.round(row.perSecond.median).toLocaleString('en-US')} | ${row.impl === 'c' ? '—' : row.stalls} |`);
  }
  L.push('', 'Per run, acquisitions per process (process 0 to 7):', '');
  for (const row of fr) {
    for (const f of row.runs) L.push(`- ${LABEL[row.impl]}: ${f.counts.map((n) => n.toLocaleString('en-US')).join(', ')}; worst wait per process ${f.maxWaited.join(', ')}${row.consistent ? '' : ' (the log and the processes disagree!)'}`);
  }
  L.push('');
  if (r.notes.length > 0) {
    L.push('### Notes', '');
    for (const n of r.notes) L.push(`- ${n}`);
    L.push('');
  }
  L.push(MUTEX_END);
  return L.join('\n') + '\n';
}

/** The mutex block of a BENCHMARKS.md, if it has one. */
export function mutexBlock(doc: string): string | undefined {
  const begin = doc.indexOf(MUTEX_BEGIN);
  const end = doc.indexOf(MUTEX_END);
  if (begin < 0 || end < begin) return undefined;
  return doc.slice(begin, end + MUTEX_END.length) + '\n';
}

/** Puts `block` in `file` in place of its mutex block, or at its end. */
export function writeMutexBlock(file: string, block: string): void {
  const doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const old = mutexBlock(doc);
  const next = old ? doc.replace(old, () => block) : `${doc.replace(/\n*$/, '\n')}\n${block}`;
  fs.writeFileSync(file, next);
}
