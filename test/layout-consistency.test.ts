// A torn read is impossible through readConsistent (issue 13): a writer process updates a 1 KiB
// record without ever sleeping, every field derived from one counter
// (test/fixtures/seqlock-writer.mjs), and a reader checks that every snapshot it gets is one whole
// record; 1,000,000 snapshots on Linux (see PAUSE_NS for the writer's spin between records). The
// same reader without readConsistent, against a writer going as fast as it can, finds torn
// records, which shows the check can fail. A C writer (test/interop/c/seqlock_writer.c, C11 atomics, the README's protocol only)
// takes part in the same lock: readConsistent sees no torn record from it either.
//
// On Windows these tests run with the official node.exe under Wine (scripts/windows/test.sh),
// where everything is much slower: the reader takes WINDOWS_READS snapshots there. No assertion
// is on time: the timeouts only make a wedged writer fail instead of hang.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Layout, SharedMemory } from '../lib/index.js';
// @ts-expect-error: a plain .mjs fixture, shared with the writer process
import { REGION_SIZE, STOP_OFFSET, readFieldByField, recordLayout, tornReason } from './fixtures/seqlock-writer.mjs';
import { isLinux, isWindows, openTracked, uniqueName } from './helpers.js';

/** Snapshots the reader takes on Windows (Wine); the 1,000,000 on Linux. */
const WINDOWS_READS = 20_000;
const READS = isWindows ? WINDOWS_READS : 1_000_000;
/**
 * Against the Node writer, 100,000 on Linux: its records take long enough to write (checked
 * stores, field by field) that 1,000,000 snapshots took 308 s here; the C writer gets the full count.
 */
const NODE_WRITER_READS = isWindows ? WINDOWS_READS : 100_000;
/** Unlocked field-by-field reads the reader may take before it must have found a torn record. */
const TORN_CAP = isWindows ? 200_000 : 5_000_000;
/** readConsistent's timeout: generous, since the writer keeps the sequence changing all the time. */
const TIMEOUT = 30_000;
/**
 * Nanoseconds the writers spin (never sleeping) between two records while the reader takes
 * consistent snapshots. A sequence lock favours its writer: a reader whose copy takes longer than
 * the writer's time between two records retries until the writer gives it such a gap, so against
 * a writer that never stops, a reader copying a 1 KiB record field by field into a new object
 * (about as long as one write) would retry thousands of times per snapshot. The unlocked reader
 * runs against writers that do not pause at all.
 */
const PAUSE_NS = 20_000;
const root = fileURLToPath(new URL('..', import.meta.url));
const WRITER = fileURLToPath(new URL('./fixtures/seqlock-writer.mjs', import.meta.url));
const hasCc = isLinux && spawnSync('cc', ['--version']).status === 0;

type Record_ = ReturnType<typeof readFieldByField>;
const layout: Layout = recordLayout(Layout);

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Writer {
  /** Sets the stop word and resolves with the writer's last line once it exited. */
  stop(): Promise<string>;
}

/** Starts `command args` as a writer of `region` and resolves once it printed its first line. */
async function startWriter(region: SharedMemory, command: string, args: string[]): Promise<Writer> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const lines = createInterface({ input: child.stdout! });
  const all: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const first = new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      all.push(line);
      if (all.length === 1) resolve();
    });
    void exited.then(() => reject(new Error(`writer exited before it was ready: ${stderr}`)));
  });
  await first;
  return {
    async stop() {
      const stopWord = new Uint32Array(region.bytes.buffer, region.bytes.byteOffset + STOP_OFFSET, 1);
      Atomics.store(stopWord, 0, 1);
      const code = await exited;
      expect(stderr).toBe('');
      expect(code).toBe(0);
      return all[all.length - 1]!;
    },
  };
}

function newRegion(tag: string): SharedMemory {
  return openTracked(uniqueName(tag), { size: REGION_SIZE });
}

/** Waits (reading consistently) until the writer's first record is in. */
function untilWritten(region: SharedMemory, s: { read(): Record_ }): void {
  while (region.readConsistent(() => s.read(), { timeout: TIMEOUT }).n === 0) {
    // the writer is starting
  }
}

/** Takes `reads` snapshots through readConsistent; returns the torn ones (at most 5) and how many records it saw change. */
function readConsistently(region: SharedMemory, reads: number): { torn: string[]; changes: number } {
  const s = region.struct(layout);
  untilWritten(region, s);
  const torn: string[] = [];
  let changes = 0;
  let last = -1;
  for (let i = 0; i < reads; i++) {
    const r = region.readConsistent(() => s.read(), { timeout: TIMEOUT }) as Record_;
    const why = tornReason(r);
    if (why !== null && torn.length < 5) torn.push(why);
    if (r.n !== last) changes++;
    last = r.n;
  }
  return { torn, changes };
}

describe('readConsistent against a writer process updating a 1 KiB record', () => {
  it('the record layout is the 1 KiB record the C writer declares', () => {
    expect(layout.size).toBe(1024);
    expect([layout.offsetOf('big'), layout.offsetOf('x'), layout.offsetOf('name'), layout.offsetOf('ints'), layout.offsetOf('reals')]).toEqual([8, 24, 32, 64, 544]);
  });

  it(`every snapshot of ${NODE_WRITER_READS} through readConsistent is one whole record while a Node writer writes`, async () => {
    const region = newRegion('seqn');
    const writer = await startWriter(region, process.execPath, [WRITER, region.name, String(PAUSE_NS)]);
    const { torn, changes } = readConsistently(region, NODE_WRITER_READS);
    const last = JSON.parse(await writer.stop()) as { writes: number };
    expect(torn).toEqual([]);
    // The writer was writing during the reads: the reader saw the record change.
    expect(changes).toBeGreaterThan(1);
    expect(last.writes).toBeGreaterThan(0);
  }, 600_000);

  it('the same reader without readConsistent finds torn records from the same writer', async () => {
    const region = newRegion('seqt');
    const writer = await startWriter(region, process.execPath, [WRITER, region.name]);
    const s = region.struct(layout);
    untilWritten(region, s);
    let torn = 0;
    let reads = 0;
    let first: string | null = null;
    while (torn === 0 && reads < TORN_CAP) {
      reads++;
      const why = tornReason(readFieldByField(s));
      if (why !== null) {
        torn++;
        first ??= why;
      }
    }
    await writer.stop();
    expect(torn, `no torn record in ${reads} unlocked reads`).toBeGreaterThan(0);
    expect(first).toMatch(/ in record \d+$/);
  }, 600_000);
});

describe.runIf(hasCc)('readConsistent against a C writer doing the documented protocol with C11 atomics (Linux)', () => {
  let tool = '';
  beforeAll(() => {
    tool = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-seqlock-')), 'seqlock_writer');
    const cc = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-o', tool, path.join(root, 'test/interop/c/seqlock_writer.c')], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    expect(cc.status).toBe(0);
  });

  it(`every snapshot of ${READS} through readConsistent is one whole record while the C writer writes`, async () => {
    const region = newRegion('seqc');
    const writer = await startWriter(region, tool, [region.name, String(PAUSE_NS)]);
    const { torn, changes } = readConsistently(region, READS);
    const last = await writer.stop();
    expect(torn).toEqual([]);
    expect(changes).toBeGreaterThan(1);
    expect(last).toMatch(/^writes [1-9]\d*$/);
  }, 600_000);

  it('without readConsistent the reader finds torn records from the C writer', async () => {
    const region = newRegion('seqct');
    const writer = await startWriter(region, tool, [region.name]);
    const s = region.struct(layout);
    untilWritten(region, s);
    let torn = 0;
    let reads = 0;
    while (torn === 0 && reads < TORN_CAP) {
      reads++;
      if (tornReason(readFieldByField(s)) !== null) torn++;
    }
    await writer.stop();
    expect(torn, `no torn record in ${reads} unlocked reads`).toBeGreaterThan(0);
  }, 600_000);
});
