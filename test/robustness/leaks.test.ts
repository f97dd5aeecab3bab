// Leaks: open / write / read / close cycles in one process (a child, so nothing of the test
// runner is counted) leave the count of open descriptors (Linux /proc/self/fd) or handles
// (Windows GetProcessHandleCount), the mappings of regions (Linux /proc/self/maps lines naming
// /dev/shm) and the memory (JavaScript heap, malloc, resident size) where they were after a
// warm-up.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isLinux, isWindows, uniqueName } from '../helpers.js';
import { TIMEOUT, fixture, recordFigures, scale, type Line } from './support.js';

const CYCLES = scale(100_000, 1_000_000);
/** Variants that need GC to give things back run fewer cycles: each one waits for collections. */
const GC_CYCLES = scale(20_000, 200_000);
const MB = 1024 * 1024;

type Snapshot = { heapUsed: number; heapTotal: number; heapOld: number; rss: number; malloc?: number; fds?: number; maps?: number; shmMaps?: number; handles?: number | null };

function cycle(variant: string, cycles: number): { wrong: number; before: Snapshot; after: Snapshot } {
  const r = spawnSync(process.execPath, ['--expose-gc', fixture('leak-cycles.mjs'), variant, uniqueName('leak'), String(cycles)], {
    encoding: 'utf8',
    timeout: TIMEOUT,
  });
  expect(r.signal).toBeNull();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as { wrong: number; before: Snapshot; after: Snapshot };
}

function check(variant: string, cycles: number, promise: string): void {
  const { wrong, before, after } = cycle(variant, cycles);
  const mb = (bytes: number) => +(bytes / MB).toFixed(2);
  const growth: Line = { heapUsedMB: mb(after.heapUsed - before.heapUsed), rssMB: mb(after.rss - before.rss) };
  if (before.malloc !== undefined) growth.mallocMB = mb(after.malloc! - before.malloc);
  if (isLinux) Object.assign(growth, { fds: after.fds! - before.fds!, shmMaps: after.shmMaps! - before.shmMaps!, mapsLines: after.maps! - before.maps! });
  if (isWindows && before.handles != null) growth.handles = after.handles! - before.handles;
  recordFigures(`leaks/${variant}`, { cycles, promise, wrongResults: wrong, before, after, growth });
  expect(wrong).toBe(0);
  if (isLinux) {
    expect(after.fds).toBe(before.fds);
    expect(after.shmMaps).toBe(before.shmMaps);
  }
  // A few handles come and go with Node's own threads; one per cycle would be thousands.
  if (isWindows && before.handles != null) expect(after.handles!).toBeLessThan(before.handles + 32);
  // After GC, the JavaScript heap is where it was: 20 bytes kept per cycle would show here.
  expect(after.heapUsed - before.heapUsed).toBeLessThan(2 * MB);
  // Native memory, where glibc tells it: bytes malloc has handed out. A view, buffer or string
  // kept per cycle would be 20 bytes at least, 2 MB over 100,000 cycles. (V8 grows its heap in
  // steps to a size it then keeps, and adds a little bookkeeping each time: 0.25 MB here.)
  if (before.malloc !== undefined) expect(after.malloc! - before.malloc).toBeLessThan(Math.max(2 * MB, cycles * 8));
  // The resident size, coarsely: V8's heap steps show in it (up to 25 MB here), a page kept per
  // cycle would be 400 MB.
  expect(after.rss - before.rss).toBeLessThan(64 * MB);
  // V8's heap apart from its young generation (which V8 sizes from the survival rate, up to 128 MB
  // on Node 24, and which every scavenge empties): where what a cycle kept would end up.
  expect(after.heapOld - before.heapOld).toBeLessThan(32 * MB);
}

describe('leaks', () => {
  it(
    `${CYCLES} cycles that create, write, read and close a region leak nothing`,
    () => check('create', CYCLES, 'each cycle creates the region and its close releases it'),
    TIMEOUT,
  );

  it(
    `${CYCLES} cycles that attach to a held region, write, read and close leak nothing`,
    () => check('attach', CYCLES, 'each cycle attaches to a region another handle holds'),
    TIMEOUT,
  );

  it(
    `${GC_CYCLES} cycles that take bytes before close leak nothing once the views are garbage`,
    () => check('bytes', GC_CYCLES, 'bytes handed out: on Node 20 the memory is unmapped when the view is collected'),
    TIMEOUT,
  );

  it(
    `${GC_CYCLES} regions dropped without close are all released by garbage collection`,
    () => check('dropped', GC_CYCLES, 'no close(): the FinalizationRegistry releases descriptor and mapping'),
    TIMEOUT,
  );
});
