// The layout section of `npm run bench` (issue 13): a float64 field of a `region.struct()` view,
// read and stored, next to a hand-written DataView over the same mapping and next to C; and a
// consistent snapshot of a 1 KiB record (`readConsistent`) next to `koffi.decode` of the same
// struct and to C's memcpy between two reads of the sequence (test/bench/layout-ref.c, built here
// with `cc -O2`). JavaScript figures are mitata's medians in this process; C's, medians of timed
// loops. Every round measures everything, and every ratio is taken within a round. Nothing
// asserts on a time.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { do_not_optimize, measure } from 'mitata';
import { Layout, SharedMemory } from '../../lib/index.ts';
import { formatNs, formatRatio, summarize, type Summary } from './stats.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const LAYOUT_BEGIN = '<!-- layout: written by `npm run bench` (test/bench/layout.ts) -->';
export const LAYOUT_END = '<!-- end of layout -->';

/** The record: a sequence word, two float64 fields and the rest of 1 KiB in float64s. */
const RECORD = new Layout({ seq: 'uint32', x: 'float64', y: 'float64', rest: 'float64[125]' });

export interface LayoutReport {
  rounds: number;
  cc?: string;
  times: Record<string, Summary>;
  ratios: Record<string, Summary>;
  seconds: number;
  /** 1-minute load average when the section began and ended: other jobs on the machine show in it. */
  load: [number, number];
}

async function perCall(fn: () => unknown, quick: boolean): Promise<number> {
  for (let i = 0; i < 20_000; i++) do_not_optimize(fn());
  const stats = await measure(fn, {
    min_cpu_time: quick ? 30e6 : 120e6,
    min_samples: 12,
    batch_samples: 4096,
    batch_threshold: 1e9,
  } as Parameters<typeof measure>[1]);
  return stats.p50;
}

function buildC(work: string): { bin?: string; cc?: string } {
  const cc = process.env.CC || 'cc';
  const version = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) return {};
  const bin = path.join(work, 'layout-ref');
  const argv = ['-O2', '-o', bin, path.join(here, 'layout-ref.c')];
  if (process.platform === 'linux') argv.push('-lrt');
  if (spawnSync(cc, argv, { encoding: 'utf8' }).status !== 0) return {};
  return { bin, cc: `${version.stdout.split('\n')[0]}, -O2` };
}

export async function runLayout(options: { quick: boolean; rounds?: number; work: string; prefix: string }): Promise<LayoutReport> {
  const started = Date.now();
  const loadBefore = os.loadavg()[0]!;
  const rounds = options.rounds ?? (options.quick ? 2 : 6);
  const c = buildC(options.work);
  const region = SharedMemory.open(`${options.prefix}-layout`, { size: 4096 });
  const s = region.struct(RECORD);
  // Four records, visited in turn, so that no load or store can be hoisted out of mitata's loop.
  const views = [0, 1, 2, 3].map((i) => region.struct(RECORD, i * RECORD.size));
  const dv = new DataView(region.bytes.buffer, region.bytes.byteOffset, region.size);
  const X = RECORD.offsetOf('x');
  const Y = RECORD.offsetOf('y');
  const KRecord = koffi.struct(`LayoutBench${process.pid}`, { seq: 'uint32_t', x: 'double', y: 'double', rest: koffi.array('double', 125, 'Typed') });
  const copy = new Uint8Array(RECORD.size);
  let sink = 0;
  let turn = 0;
  const cases: Record<string, () => unknown> = {
    'struct field get': () => views[turn++ & 3]!.x,
    'DataView get': () => dv.getFloat64((turn++ & 3) * 1024 + X, true),
    'struct field set': () => {
      views[turn++ & 3]!.y = turn;
    },
    'DataView set': () => dv.setFloat64((turn++ & 3) * 1024 + Y, turn, true),
    'readConsistent + read(0, 1024, buf)': () => region.readConsistent(() => region.read(0, RECORD.size, copy)),
    'readConsistent + struct read()': () => region.readConsistent(() => s.read()),
    'koffi.decode (no sequence check)': () => koffi.decode(region.bytes, KRecord),
  };
  const perRound: Record<string, number>[] = [];
  for (let round = 0; round < rounds; round++) {
    const got: Record<string, number> = {};
    const names = Object.keys(cases);
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length]!;
      got[name] = await perCall(cases[name]!, options.quick);
      sink++;
    }
    if (c.bin) {
      const r = spawnSync(c.bin, [`/${options.prefix}-layout-c`, options.quick ? '5' : '11'], { encoding: 'utf8' });
      const line = r.stdout.split('\n').find((l) => l.startsWith('ok'));
      if (!line) throw new Error(`the C reference failed: ${r.stderr}`);
      const [get, set, snapshot] = line.slice(3).split(' ').map(Number);
      Object.assign(got, { 'C get': get, 'C set': set, 'C memcpy + sequence check': snapshot });
    }
    perRound.push(got);
    process.stdout.write(`  layout round ${round + 1}/${rounds} done\n`);
  }
  region.close();
  const times = Object.fromEntries(Object.keys(perRound[0]!).map((k) => [k, summarize(perRound.map((r) => r[k]!))]));
  const ratio = (a: string, b: string) => summarize(perRound.filter((r) => r[b] !== undefined).map((r) => r[a]! / r[b]!));
  const ratios: Record<string, Summary> = {
    'field get ÷ hand-written DataView get': ratio('struct field get', 'DataView get'),
    'field set ÷ hand-written DataView set': ratio('struct field set', 'DataView set'),
    'snapshot (read) ÷ koffi.decode': ratio('readConsistent + read(0, 1024, buf)', 'koffi.decode (no sequence check)'),
    'snapshot (struct read()) ÷ koffi.decode': ratio('readConsistent + struct read()', 'koffi.decode (no sequence check)'),
  };
  if (c.bin) {
    Object.assign(ratios, {
      'field get ÷ C': ratio('struct field get', 'C get'),
      'field set ÷ C': ratio('struct field set', 'C set'),
      'snapshot (read) ÷ C memcpy + sequence check': ratio('readConsistent + read(0, 1024, buf)', 'C memcpy + sequence check'),
      'snapshot (struct read()) ÷ C memcpy + sequence check': ratio('readConsistent + struct read()', 'C memcpy + sequence check'),
    });
  }
  return { rounds, cc: c.cc, times, ratios, seconds: Math.round((Date.now() - started) / 1000), load: [loadBefore, os.loadavg()[0]!] };
}

const cell = (s: Summary, f: (x: number) => string) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

const TARGETS: Record<string, [number, string]> = {
  'field get ÷ hand-written DataView get': [1.5, 'within 1.5× of a hand-written DataView'],
  'field set ÷ hand-written DataView set': [1.5, 'within 1.5× of a hand-written DataView'],
  'snapshot (read) ÷ C memcpy + sequence check': [3, 'within 3× of C'],
  'snapshot (struct read()) ÷ C memcpy + sequence check': [3, 'within 3× of C'],
};

export function layoutMarkdown(r: LayoutReport, machine: string): string {
  const lines = [
    LAYOUT_BEGIN,
    '## Layouts (issue 13)',
    '',
    `**Machine:** ${machine}${r.cc ? `; C: ${r.cc}` : '; no C compiler, so no C reference'}. Measured on ${new Date().toISOString().slice(0, 10)} by \`npm run bench -- layout\` (${r.rounds} rounds, ${r.seconds} s); 1-minute load average ${r.load[0].toFixed(2)} when it began and ${r.load[1].toFixed(2)} when it ended (on 2 cores, other jobs show in it).`,
    '',
    'A 1 KiB record (`seq: uint32`, `x`, `y: float64`, `rest: float64[125]`) at offset 0 of a 4 KiB region. Field get and set: `s.x` and `s.y = v` of `region.struct()` views of four such records visited in turn (so that no access can be hoisted out of the loop), next to ' +
      '`DataView.getFloat64`/`setFloat64` at the same four places on a DataView over `region.bytes` (what one would write by hand), and next to C reading and storing a `volatile double` in a `MAP_SHARED` mapping. ' +
      'Snapshot: `region.readConsistent(() => region.read(0, 1024, buf))` (bytes) and `region.readConsistent(() => s.read())` (a plain object, `rest` as a Float64Array), next to ' +
      '`koffi.decode(region.bytes, struct)` of the same struct (no consistency check) and to C copying 1 KiB with `memcpy` between two acquire loads of the sequence, as the README tells C readers to. ' +
      'No writer runs meanwhile: this is the cost of the check, not of retries. JavaScript: mitata medians in this process (test/bench/layout.ts); C: medians of timed loops (test/bench/layout-ref.c). ' +
      'The tables give the median over the rounds and, in brackets, the lowest and highest round; every ratio is taken within a round. On a shared 2-core machine: expect noise of ±20%.',
    '',
    '| ratio | median (range) | target | met |',
    '|---|---|---|---|',
  ];
  for (const [name, s] of Object.entries(r.ratios)) {
    const target = TARGETS[name];
    lines.push(`| ${name} | ${cell(s, formatRatio)} | ${target ? target[1] : '—'} | ${target ? (s.median <= target[0] ? '**met**' : '**not met**') : ''} |`);
  }
  lines.push('', '| measured | time: median (range) |', '|---|---|');
  for (const [name, s] of Object.entries(r.times)) lines.push(`| ${name} | ${cell(s, formatNs)} |`);
  lines.push('', LAYOUT_END, '');
  return lines.join('\n');
}

export function writeLayoutBlock(file: string, block: string): void {
  const doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const begin = doc.indexOf(LAYOUT_BEGIN);
  const end = doc.indexOf(LAYOUT_END);
  const next = begin >= 0 && end > begin ? doc.slice(0, begin) + block + doc.slice(end + LAYOUT_END.length + 1) : `${doc.replace(/\n*$/, '\n')}\n${block}`;
  fs.writeFileSync(file, next);
}
