// Mutual exclusion under load: processes, worker threads and both at once each add one to a shared
// counter many times with a read-modify-write that loses updates when two run at once (a pause
// between the read and the write). The total is exact only if the mutex excludes.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { NamedMutex, SharedMemory } from '../lib/index.js';
import { EventActor, MUTEX_ACTOR, trackEvent } from './events-actor.js';
import { isLinux, isWindows, track, uniqueName } from './helpers.js';

const COUNT_WORKER = fileURLToPath(new URL('./fixtures/mutex-count-worker.mjs', import.meta.url));
/** Read-modify-writes per process or worker: the 10,000; under Wine, where every lock of
 *  8 contending processes goes through wineserver, 1,000 (Wine ran 8 x 10,000 past a minute). */
const N = isWindows ? 1_000 : 10_000;

/** The counter region and the mutex, held open here so neither goes away between the workers. */
function setUp(): { name: string; region: string; counter: () => number } {
  const name = uniqueName('mx');
  const region = uniqueName('mxc');
  trackEvent(NamedMutex.open(name));
  const r = track(SharedMemory.open(region, { size: 8 }));
  const word = new Uint32Array(r.bytes.buffer, r.bytes.byteOffset, 2);
  return { name, region, counter: () => word[0]! };
}

async function inProcesses(count: number, job: { name: string; region: string; n: number; how: string }): Promise<number[]> {
  const actors = Array.from({ length: count }, () => new EventActor([], { fixture: MUTEX_ACTOR }));
  const answers = await Promise.all(actors.map((a) => a.request({ op: 'count', ...job })));
  for (const a of answers) if (!a.ok) throw new Error(JSON.stringify(a));
  return answers.map((a) => a.abandoned as number);
}

async function inWorkers(count: number, job: { name: string; region: string; n: number; how: string }): Promise<number[]> {
  const workers = Array.from({ length: count }, () => new Worker(COUNT_WORKER, { workerData: job }));
  try {
    return await Promise.all(
      workers.map(
        (w) =>
          new Promise<number>((resolve, reject) => {
            w.once('message', (m: { abandoned: number }) => resolve(m.abandoned));
            w.once('error', reject);
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

describe.runIf(isLinux || isWindows)('exclusion', () => {
  it(`8 processes adding ${N} each under lock() lose no update`, async () => {
    const s = setUp();
    const abandoned = await inProcesses(8, { name: s.name, region: s.region, n: N, how: 'lock' });
    expect(s.counter()).toBe(8 * N);
    expect(abandoned).toEqual(Array(8).fill(0));
  });

  it('8 processes mixing lock, lockSync, tryLock and withLock lose no update', async () => {
    const s = setUp();
    await inProcesses(8, { name: s.name, region: s.region, n: N, how: 'mixed' });
    expect(s.counter()).toBe(8 * N);
  });

  it(`8 worker threads adding ${N} each under lockSync() lose no update`, async () => {
    const s = setUp();
    const abandoned = await inWorkers(8, { name: s.name, region: s.region, n: N, how: 'lockSync' });
    expect(s.counter()).toBe(8 * N);
    expect(abandoned).toEqual(Array(8).fill(0));
  });

  it(`8 worker threads adding ${N} each under lock() lose no update`, async () => {
    const s = setUp();
    await inWorkers(8, { name: s.name, region: s.region, n: N, how: 'lock' });
    expect(s.counter()).toBe(8 * N);
  });

  it('4 processes and 4 worker threads of this process together lose no update', async () => {
    const s = setUp();
    const job = { name: s.name, region: s.region, n: N, how: 'mixed' };
    await Promise.all([inProcesses(4, job), inWorkers(4, job)]);
    expect(s.counter()).toBe(8 * N);
  });
});
