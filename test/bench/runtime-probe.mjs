// One runtime's figures for the `runtimes` section of `npm run bench` (test/bench/runtimes.ts).
// Plain JavaScript over dist/, so that Node, Bun and Deno run the very same code:
//   <runtime> runtime-probe.mjs measure <prefix> <quick 0|1>   prints one JSON line of medians (ns)
//   <runtime> runtime-probe.mjs echo <ping> <pong> <count>     the other side of the round trips
// Each figure is the median of timed samples of a loop (calibrated to ~2 ms a sample); round
// trips are timed one by one with process.hrtime.bigint(). Nothing here asserts on a time.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dist = new URL('../../dist/index.js', import.meta.url).href;
const { SharedMemory, Layout, Channel } = await import(dist);
const runtime = globalThis.Bun ? 'bun' : globalThis.Deno ? 'deno' : 'node';
const S21 = 'This is a test string';
const LATIN1 = Array.from({ length: 2047 }, (_, i) => String.fromCharCode(0x20 + ((i * 7) % 0x5f))).join('');
let sink = 0;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ns per call of `op`, over `samples` samples of ~2 ms each. */
function timeOp(op, samples) {
  let n = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < n; i++) op();
    if (performance.now() - t >= 2 || n >= 1 << 24) break;
    n *= 2;
  }
  // One sample more than kept: the first runs while the JIT may still be at work.
  const per = [];
  for (let s = -1; s < samples; s++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) op();
    if (s >= 0) per.push(((performance.now() - t) * 1e6) / n);
  }
  return median(per);
}

/** The other side's command line: the same runtime running this file. */
function selfArgs(...rest) {
  const file = fileURLToPath(import.meta.url);
  return runtime === 'deno' ? ['run', '--allow-all', file, ...rest] : [file, ...rest];
}

async function roundTrips(prefix, count) {
  const ping = Channel.create(`${prefix}-ping`);
  const pong = Channel.create(`${prefix}-pong`);
  const peer = spawn(process.execPath, selfArgs('echo', `${prefix}-ping`, `${prefix}-pong`, String(count)), { stdio: ['ignore', 'inherit', 'inherit'] });
  const ended = new Promise((resolve) => peer.on('exit', resolve));
  const times = [];
  const warm = Math.min(200, count / 4);
  for (let i = 0; i < count; i++) {
    const t = process.hrtime.bigint();
    await ping.send(S21);
    const back = await pong.receive();
    if (i >= warm) times.push(Number(process.hrtime.bigint() - t));
    if (back.length !== S21.length) throw new Error('echo lost the message');
  }
  await ended;
  ping.close();
  pong.close();
  return median(times);
}

async function echo(pingName, pongName, count) {
  const ping = Channel.openExisting(pingName);
  const pong = Channel.openExisting(pongName);
  for (let i = 0; i < Number(count); i++) await pong.send(await ping.receive());
  ping.close();
  pong.close();
}

async function measure(prefix, quick) {
  const samples = quick ? 5 : 21;
  const out = { runtime, version: globalThis.Bun ? Bun.version : globalThis.Deno ? Deno.version.deno : process.versions.node, figures: {} };
  const L = new Layout({ seq: 'uint32', x: 'float64', y: 'float64' });
  for (const zeroCopy of [true, false]) {
    const path = zeroCopy ? 'zero-copy' : 'copy';
    const r = SharedMemory.open(`${prefix}-${path}`, { size: 4096, zeroCopy });
    const block = new Uint8Array(1024).fill(7);
    const target = new Uint8Array(1024);
    const s = r.struct(L, 64);
    const f = out.figures;
    f[`set+get 21 units (${path})`] = timeOp(() => { r.writeString(S21); sink += r.readString().length; }, samples);
    f[`set+get 2047 units (${path})`] = timeOp(() => { r.writeString(LATIN1); sink += r.readString().length; }, samples);
    f[`read 1 KiB into a buffer (${path})`] = timeOp(() => { sink += r.read(0, 1024, target)[5]; }, samples);
    f[`write 1 KiB (${path})`] = timeOp(() => { sink += r.write(2048, block); }, samples);
    f[`float64 field get (${path})`] = timeOp(() => { sink += s.x; }, samples);
    f[`float64 field set (${path})`] = timeOp(() => { s.y = sink; }, samples);
    r.close();
  }
  out.figures['channel round trip, 21 bytes'] = await roundTrips(`${prefix}-ch`, quick ? 2000 : 10000);
  out.sink = sink > 0;
  console.log(JSON.stringify(out));
}

const [what, a, b, c] = process.argv.slice(2);
if (what === 'echo') await echo(a, b, c);
else if (what === 'measure') await measure(a, b === '1');
else throw new Error(`usage: runtime-probe.mjs measure <prefix> <quick> | echo <ping> <pong> <count>`);
