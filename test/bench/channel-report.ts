// What the channel section of `npm run bench` (test/bench/channel.ts) prints, its part of
// docs/BENCHMARKS.md (a block between two markers, which a run of this section replaces and a run
// without it keeps), and docs/bench-channel.svg.
import fs from 'node:fs';
import { formatNs, formatRatio, median, summarize, type Summary } from './stats.ts';

export type Impl = 'sync' | 'async' | 'c' | 'unix' | 'port' | 'ipc';

/** One throughput measurement: messages counted, over nanoseconds. */
export interface Rate {
  messages: number;
  ns: number;
}

export interface CostRow {
  what: string;
  /** A part of a send rather than a whole call. */
  part: boolean;
  /** ns per call, one figure per round. */
  ns: number[];
}

export interface ChannelReport {
  date: string;
  /** How the run was asked for (`npm run bench -- channel`). */
  command: string;
  revision?: string;
  cc?: string;
  pinned: boolean;
  rounds: number;
  warm: number;
  timed: number;
  ms: number;
  warmMs: number;
  sizes: number[];
  impls: Impl[];
  /** Per implementation: each round's timed round trips, ns. */
  rt: Partial<Record<Impl, number[][]>>;
  /** Per message size and implementation: one measurement per round. */
  tp: Record<number, Partial<Record<Impl, Rate[]>>>;
  cost: CostRow[];
  notes: string[];
  /** The load averages (1, 5, 15 minutes) when the section began and when it ended. */
  load: [[number, number, number], [number, number, number]];
  seconds: number;
}

const LABEL: Record<Impl, string> = {
  sync: 'Channel `sendSync` + `receiveSync`',
  async: 'Channel `await send()` + `await receive()`',
  c: 'C ring in shared memory (spinning)',
  unix: 'Unix domain socket (`node:net`)',
  port: 'worker `MessagePort`',
  ipc: 'Node fork + `process.send`',
};

const SHORT: Record<Impl, string> = {
  sync: 'Channel sync',
  async: 'Channel async',
  c: 'C ring (spinning)',
  unix: 'Unix socket',
  port: 'MessagePort',
  ipc: 'process.send',
};

const OURS: Impl[] = ['sync', 'async'];

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const range = (s: Summary, f: (v: number) => string) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
const perSecond = (r: Rate) => (r.messages * 1e9) / r.ns;

function formatRate(v: number): string {
  if (!Number.isFinite(v)) return '—';
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} k`;
  return v.toFixed(0);
}

function formatBytes(v: number): string {
  if (!Number.isFinite(v)) return '—';
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)} GB/s`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)} MB/s`;
  return `${(v / 1e3).toFixed(1)} kB/s`;
}

const sizeText = (size: number) => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);

interface RtRow {
  impl: Impl;
  medians: Summary;
  p99: number;
  /** Per Channel way: its round median ÷ this one's, within each round. */
  ratio: Partial<Record<Impl, Summary>>;
}

function rtRows(r: ChannelReport): RtRow[] {
  const medianOf = (impl: Impl) => (r.rt[impl] ?? []).map((v) => median(v));
  return r.impls.flatMap((impl) => {
    const rounds = r.rt[impl];
    if (!rounds || rounds.length === 0) return [];
    const mine = medianOf(impl);
    const ratio: RtRow['ratio'] = {};
    for (const ours of OURS) {
      const theirs = medianOf(ours);
      if (theirs.length === mine.length) ratio[ours] = summarize(theirs.map((t, i) => t / mine[i]!));
    }
    return [{ impl, medians: summarize(mine), p99: median(rounds.map((v) => quantile([...v].sort((x, y) => x - y), 0.99))), ratio }];
  });
}

interface TpRow {
  size: number;
  impl: Impl;
  rate: Summary;
  /** Per Channel way: its messages per second ÷ this one's, within each round. */
  ratio: Partial<Record<Impl, Summary>>;
}

function tpRows(r: ChannelReport): TpRow[] {
  return r.sizes.flatMap((size) =>
    r.impls.flatMap((impl) => {
      const rates = (r.tp[size]?.[impl] ?? []).map(perSecond);
      if (rates.length === 0) return [];
      const ratio: TpRow['ratio'] = {};
      for (const ours of OURS) {
        const theirs = (r.tp[size]?.[ours] ?? []).map(perSecond);
        if (theirs.length === rates.length) ratio[ours] = summarize(theirs.map((t, i) => t / rates[i]!));
      }
      return [{ size, impl, rate: summarize(rates), ratio }];
    }),
  );
}

const loadText = (l: [number, number, number]) => l.map((v) => v.toFixed(2)).join(', ');

export function printChannel(r: ChannelReport): void {
  console.log('\nChannel round trips (21 bytes): median of the round medians (lowest–highest round); p99 (median of the rounds); Channel ÷ this, within each round');
  for (const row of rtRows(r)) {
    const ratios = OURS.map((o) => `${SHORT[o]} ÷ this ${row.ratio[o] ? range(row.ratio[o]!, formatRatio) : '—'}`).join('; ');
    console.log(`  ${SHORT[row.impl].padEnd(18)} ${range(row.medians, formatNs).padEnd(30)} p99 ${formatNs(row.p99).padEnd(10)} ${ratios}`);
  }
  console.log('\nChannel one-way throughput: messages/s, median (lowest–highest round); Channel ÷ this, within each round');
  for (const row of tpRows(r)) {
    const ratios = OURS.map((o) => `${SHORT[o]} ÷ this ${row.ratio[o] ? range(row.ratio[o]!, formatRatio) : '—'}`).join('; ');
    console.log(`  ${sizeText(row.size).padEnd(7)} ${SHORT[row.impl].padEnd(18)} ${range(row.rate, formatRate).padEnd(28)} ${formatBytes(row.rate.median * row.size).padEnd(12)} ${ratios}`);
  }
  console.log('\nIn this process, ns per call (median of rounds, lowest–highest):');
  for (const c of r.cost) console.log(`  ${c.what.padEnd(100)} ${range(summarize(c.ns), formatNs)}`);
  for (const n of r.notes) console.log(`\nNote: ${n}`);
  console.log(`\nchannel: ${r.seconds.toFixed(0)} s; load average ${loadText(r.load[0])} at the start, ${loadText(r.load[1])} at the end`);
}

// ---- docs/bench-channel.svg ----------------------------------------------------------------------

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, '');
}

interface Bar {
  label: string;
  value: number;
  min: number;
  max: number;
  text: string;
  ours: boolean;
}

/** Horizontal bars on a log scale: one panel per measure, Channel's bars in blue. */
export function channelChart(r: ChannelReport, machine: string): string {
  const panels: Array<{ title: string; bars: Bar[] }> = [];
  panels.push({
    title: 'Round trip of a 21-byte message, µs (shorter is faster)',
    bars: rtRows(r).map((row) => ({
      label: SHORT[row.impl],
      value: row.medians.median / 1000,
      min: row.medians.min / 1000,
      max: row.medians.max / 1000,
      text: formatNs(row.medians.median),
      ours: OURS.includes(row.impl),
    })),
  });
  for (const size of r.sizes) {
    panels.push({
      title: `One-way throughput of ${sizeText(size)} messages, MB/s (longer is faster)`,
      bars: tpRows(r)
        .filter((row) => row.size === size)
        .map((row) => ({
          label: SHORT[row.impl],
          value: (row.rate.median * size) / 1e6,
          min: (row.rate.min * size) / 1e6,
          max: (row.rate.max * size) / 1e6,
          text: `${formatBytes(row.rate.median * size)}, ${formatRate(row.rate.median)} msg/s`,
          ours: OURS.includes(row.impl),
        })),
    });
  }
  const width = 900;
  const labelWidth = 150;
  const plot = width - labelWidth - 230;
  const row = 22;
  const parts: string[] = [];
  let y = 54;
  const body: string[] = [];
  for (const panel of panels) {
    const values = panel.bars.flatMap((b) => [b.min, b.max, b.value]).filter((v) => v > 0 && Number.isFinite(v));
    const lo = Math.floor(Math.log10(Math.min(...values)) - 0.3);
    const hi = Math.ceil(Math.log10(Math.max(...values)));
    const x = (v: number) => labelWidth + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(1, hi - lo)) * plot;
    body.push(`<text x="10" y="${y}" font-weight="bold">${escapeXml(panel.title)}</text>`);
    y += 10;
    const top = y;
    const bottom = top + panel.bars.length * row;
    for (let e = lo; e <= hi; e++) {
      const tx = x(10 ** e).toFixed(1);
      body.push(
        `<line x1="${tx}" y1="${top}" x2="${tx}" y2="${bottom}" stroke="#ddd"/>`,
        `<text x="${tx}" y="${bottom + 13}" text-anchor="middle" fill="#555" font-size="11">${10 ** e >= 1 ? (10 ** e).toLocaleString('en-US') : (10 ** e).toString()}</text>`,
      );
    }
    panel.bars.forEach((b, i) => {
      const by = top + i * row;
      const x2 = x(b.value);
      body.push(
        `<text x="${labelWidth - 8}" y="${by + 15}" text-anchor="end">${escapeXml(b.label)}</text>`,
        `<rect x="${labelWidth}" y="${by + 4}" width="${Math.max(1, x2 - labelWidth).toFixed(1)}" height="${row - 8}" fill="${b.ours ? '#2f6fbf' : '#9aa3ad'}"/>`,
        `<line x1="${x(b.min).toFixed(1)}" y1="${by + row / 2}" x2="${x(b.max).toFixed(1)}" y2="${by + row / 2}" stroke="#222"/>`,
        `<text x="${(Math.max(x2, x(b.max)) + 6).toFixed(1)}" y="${by + 15}" fill="#222">${escapeXml(b.text)}</text>`,
      );
    });
    y = bottom + 42;
  }
  const height = y - 10;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Channel next to other ways of passing a message between two processes (log scale)</text>`,
    `<text x="10" y="38" fill="#555">${escapeXml(`${machine}; ${r.date}; median of ${r.rounds} rounds, whiskers: lowest–highest round. Blue: Channel; grey: the others`)}</text>`,
    ...body,
    '</svg>',
  );
  return parts.join('\n') + '\n';
}

// ---- docs/BENCHMARKS.md -----------------------------------------------------------------------------

export const CHANNEL_BEGIN = '<!-- channel: written by `npm run bench` (test/bench/channel-report.ts) -->';
export const CHANNEL_END = '<!-- end of channel -->';

export function channelMarkdown(r: ChannelReport, machine: string): string {
  const L: string[] = [];
  const ratioCell = (s: Summary | undefined, self: boolean) => (self ? '1' : s ? range(s, formatRatio) : '—');
  L.push(
    CHANNEL_BEGIN,
    '## Channel',
    '',
    '`npm run bench -- channel` runs this section alone (test/bench/channel.ts, the Node sides in',
    'test/bench/channel-peer.ts, the C ring in test/bench/channel-ring.c).',
    '',
    '![Channel next to the other ways](bench-channel.svg)',
    '',
    '**Round trip:** process a sends the 21-byte string `\'This is a test string\'` and waits for it',
    'to come back; process b sends back each message it receives. With Channels, two of them, ping',
    '(a to b) and pong (b to a), of 4 KiB each: `sendSync` + `receiveSync` on both sides (`receiveSync`',
    'spins 50 µs before it sleeps), and `await send()` + `await receive()` on both sides. Next to them:',
    'a C ring in shared memory (test/bench/channel-ring.c, built with `cc -O2`: the Channel\'s frame',
    'format in a `MAP_SHARED` shm object, tail and head on cache lines of their own, one sender and',
    'no lock, both sides spinning, no system call per message: about what the hardware allows); a',
    'Unix domain socket (`node:net`, b writes back each chunk, a waits for all 21 bytes); a worker',
    'thread of a answering over a `MessagePort`; and Node\'s `fork` + `process.send` of the string.',
    `A times each round trip with \`process.hrtime\`: ${r.warm} warm-up round trips, then ${r.timed.toLocaleString('en-US')} timed.`,
    '',
    `**Throughput:** one sender sends messages of ${r.sizes.map(sizeText).join(' and ')} (a \`Uint8Array\`) for ${r.ms} ms, then an end mark;`,
    `the receiver takes each (a copy) and counts messages from ${r.warmMs} ms after its first one to the end mark.`,
    'Channel: one channel of 1 MiB, `sendSync` + `receiveSync`, or `await send()` + `await receive()`.',
    'C ring: one ring of 1 MiB, both sides spinning. Unix socket: `socket.write` of each message',
    '(waiting for `drain` when `write` says so), the receiver counts bytes. `process.send`: the',
    'sender forks the receiver with `serialization: \'advanced\'` (so a `Uint8Array` goes as one) and',
    'waits for a send\'s callback whenever `send` returns false. `MessagePort`: two worker threads of',
    'one process; `postMessage` has no backpressure, so the sender stays at most 1 MiB (and at least',
    '16 messages) ahead of the receiver\'s acknowledgements.',
    '',
    `Every measurement runs in fresh processes${r.pinned ? ' started under `taskset`: a (the sender) on CPU 0, b (the receiver) on CPU 1; the worker cases as one process on CPUs 0 and 1' : ''}.`,
    `Each round runs every implementation once per measure, in an order that turns each round; ${r.rounds} rounds.`,
    'Figures are medians over the rounds of each round\'s median (round trips) or rate (throughput), with the',
    'lowest and highest round in brackets; every ratio is taken within a round (Channel\'s figure ÷ the',
    'other\'s in the same round), then summarized the same way. No test asserts on any of it.',
    '',
    `**Machine:** ${machine}${r.cc ? `; C: ${r.cc}, -O2` : ''}. Measured on ${r.date}${r.revision ? ` at ${r.revision}` : ''} with \`${r.command}\` (${r.seconds.toFixed(0)} s);`,
    `load average (1, 5, 15 min) ${loadText(r.load[0])} when the section began and ${loadText(r.load[1])} when it ended${r.load[0][0] > 0.5 || r.load[1][0] > 0.5 ? ': other jobs shared the two cores, and whatever waits for a CPU shows it' : ''}.`,
    '',
    '### Round trips (21 bytes)',
    '',
    'Time ratios: below 1, Channel is faster.',
    '',
    '| implementation | round trip: median (range) | p99 | Channel sync ÷ this | Channel async ÷ this |',
    '|---|---|---|---|---|',
  );
  for (const row of rtRows(r)) {
    L.push(`| ${LABEL[row.impl]} | ${range(row.medians, formatNs)} | ${formatNs(row.p99)} | ${ratioCell(row.ratio.sync, row.impl === 'sync')} | ${ratioCell(row.ratio.async, row.impl === 'async')} |`);
  }
  L.push(
    '',
    '### One-way throughput',
    '',
    'Rate ratios (messages per second): above 1, Channel is faster.',
    '',
    '| message | implementation | messages/s: median (range) | bytes/s (median) | Channel sync ÷ this | Channel async ÷ this |',
    '|---|---|---|---|---|---|',
  );
  for (const row of tpRows(r)) {
    L.push(`| ${sizeText(row.size)} | ${LABEL[row.impl]} | ${range(row.rate, formatRate)} | ${formatBytes(row.rate.median * row.size)} | ${ratioCell(row.ratio.sync, row.impl === 'sync')} | ${ratioCell(row.ratio.async, row.impl === 'async')} |`);
  }
  L.push(
    '',
    '### Where a send goes',
    '',
    'ns per call in the benchmark\'s process, with no other process involved: one Channel handle sends',
    'and receives, so nobody ever waits; then the parts a send and a receive are made of, taken from',
    'lib/channel (on a second channel of 4 KiB). Timed with `process.hrtime` over batches of calls of about',
    '1 ms each (150 ms of batches per figure), the median batch; then the median of',
    `${r.cost[0]?.ns.length ?? 0} measurements (lowest–highest).`,
    '',
    '| call | ns per call |',
    '|---|---|',
  );
  for (const c of r.cost) L.push(`| ${c.what} | ${range(summarize(c.ns), formatNs)} |`);
  L.push('');
  if (r.notes.length > 0) {
    L.push('### Notes', '');
    for (const n of r.notes) L.push(`- ${n}`);
    L.push('');
  }
  L.push(CHANNEL_END);
  return L.join('\n') + '\n';
}

/** The channel block of a BENCHMARKS.md, if it has one. */
export function channelBlock(doc: string): string | undefined {
  const begin = doc.indexOf(CHANNEL_BEGIN);
  const end = doc.indexOf(CHANNEL_END);
  if (begin < 0 || end < begin) return undefined;
  return doc.slice(begin, end + CHANNEL_END.length) + '\n';
}

/** Puts `block` in `file` in place of its channel block, or at its end. */
export function writeChannelBlock(file: string, block: string): void {
  const doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const old = channelBlock(doc);
  const next = old ? doc.replace(old, () => block) : `${doc.replace(/\n*$/, '\n')}\n${block}`;
  fs.writeFileSync(file, next);
}
