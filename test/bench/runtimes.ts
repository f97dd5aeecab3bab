// The `runtimes` section of `npm run bench` (issue 14): what the copy path costs next to zero
// copy, and what Bun and Deno cost next to Node, all in one run. Each round runs
// test/bench/runtime-probe.mjs once under every runtime found (Node itself; Bun and Deno from
// scripts/runtimes.sh's cache, or NAMED_SHM_BUN / NAMED_SHM_DENO), in an order that turns each
// round; every ratio is taken within a round and summarized over the rounds. Nothing asserts on
// a time.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatNs, formatRatio, summarize, type Summary } from './stats.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
export const RUNTIMES_BEGIN = '<!-- runtimes: written by `npm run bench` (test/bench/runtimes.ts) -->';
export const RUNTIMES_END = '<!-- end of runtimes -->';

interface Probe {
  runtime: string;
  version: string;
  figures: Record<string, number>;
}

export interface RuntimesReport {
  rounds: number;
  versions: Record<string, string>;
  missing: string[];
  /** Per runtime and figure: ns over the rounds. */
  times: Record<string, Record<string, Summary>>;
  /** Per runtime and operation: copy ÷ zero-copy within each round. */
  copyRatios: Record<string, Record<string, Summary>>;
  /** Per other runtime and figure (zero-copy): runtime ÷ Node within each round. */
  vsNode: Record<string, Record<string, Summary>>;
  seconds: number;
}

/** The binaries to run: Node always; Bun and Deno where scripts/runtimes.sh cached them. */
function runtimeCommands(): { commands: Record<string, string[]>; missing: string[] } {
  const probe = path.join(here, 'runtime-probe.mjs');
  const commands: Record<string, string[]> = { node: [process.execPath, probe] };
  const missing: string[] = [];
  for (const name of ['bun', 'deno']) {
    const fromEnv = process.env[`NAMED_SHM_${name.toUpperCase()}`];
    const found = spawnSync('bash', [path.join(root, 'scripts/runtimes.sh'), 'path', name], { encoding: 'utf8' });
    const bin = fromEnv || (found.status === 0 ? found.stdout.trim().split('\n').pop()! : '');
    if (bin && fs.existsSync(bin)) commands[name] = name === 'deno' ? [bin, 'run', '--allow-all', probe] : [bin, probe];
    else missing.push(name);
  }
  return { commands, missing };
}

export function runRuntimes(options: { quick: boolean; rounds?: number; prefix: string }): RuntimesReport {
  const started = Date.now();
  // The probe runs dist/ under every runtime: build it from lib/ as it is now.
  const built = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building dist/ failed: ${built.stdout}${built.stderr}`);
  const rounds = options.rounds ?? (options.quick ? 2 : 7);
  const { commands, missing } = runtimeCommands();
  const names = Object.keys(commands);
  const perRound: Record<string, Probe>[] = [];
  for (let round = 0; round < rounds; round++) {
    const got: Record<string, Probe> = {};
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length]!;
      const [bin, ...args] = commands[name]!;
      const r = spawnSync(bin!, [...args, 'measure', `${options.prefix}-rt${round}${name}`, options.quick ? '1' : '0'], {
        encoding: 'utf8',
        cwd: root,
        timeout: 600_000,
      });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !line.startsWith('{')) throw new Error(`the ${name} probe failed (status ${r.status}): ${r.stderr.slice(0, 2000)}`);
      got[name] = JSON.parse(line) as Probe;
      process.stdout.write(`  round ${round + 1}/${rounds}: ${name} done\n`);
    }
    perRound.push(got);
  }
  const versions = Object.fromEntries(names.map((n) => [n, perRound[0]![n]!.version]));
  const figures = Object.keys(perRound[0]!.node!.figures);
  const times: RuntimesReport['times'] = {};
  const copyRatios: RuntimesReport['copyRatios'] = {};
  const vsNode: RuntimesReport['vsNode'] = {};
  for (const n of names) {
    times[n] = Object.fromEntries(figures.map((f) => [f, summarize(perRound.map((r) => r[n]!.figures[f]!))]));
    copyRatios[n] = {};
    for (const f of figures.filter((x) => x.endsWith('(copy)'))) {
      const op = f.replace(' (copy)', '');
      copyRatios[n]![op] = summarize(perRound.map((r) => r[n]!.figures[f]! / r[n]!.figures[`${op} (zero-copy)`]!));
    }
    if (n !== 'node') {
      vsNode[n] = Object.fromEntries(
        figures.filter((f) => !f.endsWith('(copy)')).map((f) => [f, summarize(perRound.map((r) => r[n]!.figures[f]! / r.node!.figures[f]!))]),
      );
    }
  }
  return { rounds, versions, missing, times, copyRatios, vsNode, seconds: Math.round((Date.now() - started) / 1000) };
}

const cell = (s: Summary, format: (x: number) => string) => `${format(s.median)} (${format(s.min)}–${format(s.max)})`;

export function runtimesMarkdown(r: RuntimesReport, machine: string): string {
  const names = Object.keys(r.times);
  const lines = [
    RUNTIMES_BEGIN,
    '## Runtimes and the copy path (issue 14)',
    '',
    `**Machine:** ${machine}. Measured on ${new Date().toISOString().slice(0, 10)} by \`npm run bench -- runtimes\` (${r.rounds} rounds, ${r.seconds} s): ` +
      `each round runs test/bench/runtime-probe.mjs once under ${names.map((n) => `${n} ${r.versions[n]}`).join(', ')}, in an order that turns each round. ` +
      'Each figure is the median of 21 timed samples of a loop of ~2 ms, after one untimed sample (round trips: the median of 10,000 timed one by one, after a warm-up), in one process that also runs the other side of the round trip as a child of the same runtime. ' +
      'The tables give the median over the rounds and, in brackets, the lowest and highest round. On a shared 2-core machine: expect noise of ±20% and more.' +
      (r.missing.length ? ` Not measured: ${r.missing.join(', ')} (not fetched: \`bash scripts/runtimes.sh path bun\` fetches it).` : ''),
    '',
    '### What the copy path costs (`{ zeroCopy: false }`, and every region under Electron)',
    '',
    'Ratio = time by copies ÷ time in place, per runtime, within a round. By copies, every access is at least one FFI call (koffi calling `memcpy`): ' +
      'a struct field, a few nanoseconds in place, becomes one call; a string set+get is two calls besides the work in place; a 1 KiB `read()` or `write()` is one call either way ' +
      '(in place, Node 20 spends about as long making the `subarray` it copies from). The operations are those of test/bench/runtime-probe.mjs on a 4 KiB region: ' +
      '`writeString` + `readString` of 21 and of 2047 Latin-1 units, `read(0, 1024, target)`, `write(2048, 1 KiB)`, and a `float64` field of a `region.struct()` view.',
    '',
    `| operation | ${names.map((n) => `${n}: in place`).join(' | ')} | ${names.map((n) => `${n}: copy ÷ in place`).join(' | ')} |`,
    `|---|${names.map(() => '---|').join('')}${names.map(() => '---|').join('')}`,
  ];
  for (const op of Object.keys(r.copyRatios.node!)) {
    lines.push(`| ${op} | ${names.map((n) => cell(r.times[n]![`${op} (zero-copy)`]!, formatNs)).join(' | ')} | ${names.map((n) => cell(r.copyRatios[n]![op]!, formatRatio)).join(' | ')} |`);
  }
  const others = names.filter((n) => n !== 'node');
  if (others.length === 0) return [...lines, '', RUNTIMES_END, ''].join('\n');
  lines.push('', '### Bun and Deno next to Node (in place)', '', 'Ratio = the runtime\'s time ÷ Node\'s, within a round: below 1, faster than Node.', '');
  lines.push(`| operation | node | ${others.map((n) => `${n} | ${n} ÷ node`).join(' | ')} |`, `|---|---|${others.map(() => '---|---|').join('')}`);
  for (const f of Object.keys(r.times.node!).filter((x) => !x.endsWith('(copy)'))) {
    lines.push(`| ${f.replace(' (zero-copy)', '')} | ${cell(r.times.node![f]!, formatNs)} | ${others.map((n) => `${cell(r.times[n]![f]!, formatNs)} | ${cell(r.vsNode[n]![f]!, formatRatio)}`).join(' | ')} |`);
  }
  lines.push('', RUNTIMES_END, '');
  return lines.join('\n');
}

export function printRuntimes(r: RuntimesReport): void {
  console.log(runtimesMarkdown(r, 'this machine'));
}

/** Puts `block` in `file` in place of its runtimes block, or at its end. */
export function writeRuntimesBlock(file: string, block: string): void {
  const doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const begin = doc.indexOf(RUNTIMES_BEGIN);
  const end = doc.indexOf(RUNTIMES_END);
  const next = begin >= 0 && end > begin ? doc.slice(0, begin) + block + doc.slice(end + RUNTIMES_END.length + 1) : `${doc.replace(/\n*$/, '\n')}\n${block}`;
  fs.writeFileSync(file, next);
}
