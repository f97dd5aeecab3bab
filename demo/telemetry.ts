// Live telemetry from a C program, as sim-racing games publish it: the C publisher
// (test/interop/c/telemetry_publisher.c) writes a telemetry struct into a named region 60 times a
// second under named-shm's sequence lock and sets a named event after each frame; this reader
// waits on the event, takes a consistent snapshot of the struct and prints a live line.
// Linux: compiles the publisher with cc into build/ when needed. Windows: runs
// build/interop/telemetry_publisher.exe (scripts/windows/build-c.sh builds it with mingw-w64).
// Run: npx tsx demo/telemetry.ts [SECONDS]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Layout, NamedEvent, SharedMemory } from '../lib/index.js';

const HZ = 60;
const SECONDS = Number(process.argv[2] ?? 3);
const isWindows = process.platform === 'win32';
const root = fileURLToPath(new URL('..', import.meta.url));
const source = path.join(root, 'test/interop/c/telemetry_publisher.c');

// The publisher's struct telemetry, field by field (C's natural alignment: 184 bytes).
const Telemetry = new Layout({
  seq: 'uint32', // the sequence lock readConsistent uses (offset 0)
  frame: 'uint64',
  time: 'float64',
  speed: 'float32',
  rpm: 'int32',
  gear: 'int8',
  throttle: 'float32',
  brake: 'float32',
  tyreTemps: 'float32[4]',
  position: 'float64[3]',
  driver: 'char[32]',
  track: 'wchar[32]',
});

/** The publisher program: built here with cc on Linux when missing or older than its source. */
function publisher(): string {
  if (isWindows) {
    const exe = path.join(root, 'build/interop/telemetry_publisher.exe');
    if (!fs.existsSync(exe)) throw new Error(`${exe} is missing: build it with scripts/windows/build-c.sh`);
    return exe;
  }
  const out = path.join(root, 'build/telemetry_publisher');
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(source).mtimeMs) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const cc = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-o', out, source, '-lm'], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`cc failed: ${cc.error?.message ?? cc.stderr}`);
  }
  return out;
}

type Frame = ReturnType<typeof readFrame>;
function readFrame(s: ReturnType<typeof openStruct>) {
  return s.read() as {
    seq: number; frame: bigint; time: number; speed: number; rpm: number; gear: number; throttle: number; brake: number;
    tyreTemps: Float32Array; position: Float64Array; driver: string; track: string;
  };
}
function openStruct(region: SharedMemory) {
  return region.struct(Telemetry);
}

/** What a whole frame always satisfies (the publisher derives its time from its frame number). */
function whole(f: Frame): boolean {
  return f.seq % 2 === 0 && f.time === Number(f.frame) / HZ && f.driver === 'Ayrton Senna' && f.track === 'Autodromo Nazionale Monza' && f.position[2] === 12.5;
}

function line(f: Frame): string {
  const tyres = [...f.tyreTemps].map((t) => t.toFixed(1)).join('/');
  const pos = [...f.position].map((p) => p.toFixed(1)).join(', ');
  return `frame ${String(f.frame).padStart(4)}  t ${f.time.toFixed(2)} s  ${f.speed.toFixed(1).padStart(5)} km/h  gear ${f.gear}  rpm ${String(f.rpm).padStart(5)}  throttle ${f.throttle.toFixed(2)}  brake ${f.brake.toFixed(2)}  tyres ${tyres} °C  pos (${pos})  ${f.driver} @ ${f.track}`;
}

const tag = `${process.pid}`;
const regionName = isWindows ? `Local\\NshmTelemetry-${tag}` : `nshm-telemetry-${tag}`;
const eventName = isWindows ? `Local\\NshmTelemetryFrame-${tag}` : `nshm-telemetry-frame-${tag}`;

const program = publisher();
// The region and the event exist before the publisher starts; it only opens them.
const region = SharedMemory.create(regionName, { size: Telemetry.size });
const event = NamedEvent.create(eventName);
const s = openStruct(region);

const child = spawn(program, [regionName, eventName, String(SECONDS), String(HZ)], { stdio: ['ignore', 'pipe', 'pipe'] });
let childOut = '';
let childErr = '';
child.stdout.setEncoding('utf8').on('data', (d: string) => (childOut += d));
child.stderr.setEncoding('utf8').on('data', (d: string) => (childErr += d));
let exited = false;
const exit = new Promise<number | null>((resolve) => {
  child.on('exit', (code) => {
    exited = true;
    resolve(code);
  });
  child.on('error', (e) => {
    childErr += String(e);
    exited = true;
    resolve(null);
  });
});

const tty = process.stdout.isTTY === true;
let frames = 0;
let torn = 0;
let lastFrame = 0n;
let lastPrint = 0;
while (!exited) {
  // A set after each frame; frames may coalesce when the reader is busy (an auto-reset event).
  if (!(await event.wait({ timeout: 250 }))) continue;
  const f = region.readConsistent(() => readFrame(s));
  frames++;
  if (!whole(f) || f.frame < lastFrame) torn++;
  lastFrame = f.frame;
  if (tty) {
    process.stdout.write(`\r${line(f)}\x1b[K`);
  } else if (Date.now() - lastPrint >= 500) {
    // Not a terminal: a few plain lines a second, not 60.
    lastPrint = Date.now();
    console.log(line(f));
  }
}
const code = await exit;
if (tty) process.stdout.write('\n');
const final = region.readConsistent(() => readFrame(s));
if (!whole(final)) torn++;
const published = /done frames=(\d+)/.exec(childOut)?.[1];
const consistent = code === 0 && frames > 0 && torn === 0 && String(final.frame) === published;
console.log(`telemetry: ${frames} frames read, ${torn} torn, last frame ${final.frame} (${consistent ? 'consistent' : 'INCONSISTENT'})`);
if (code !== 0) console.error(`publisher exited with ${code}: ${childErr.trim()}`);
event.close();
region.close();
if (!consistent) process.exitCode = 1;
