// A writer killed inside writeConsistent, between its two stores: the sequence stays odd. Readers
// must give up with ETIMEDOUT rather than hang, and a writer that takes over must leave it even.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { Layout, SharedMemory } from '../lib/index.js';
import { errorOf, openTracked, uniqueName } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/seqlock-die-inside.mjs', import.meta.url));
const children: ChildProcess[] = [];
const regions: SharedMemory[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const r of regions.splice(0)) r.close();
});

/** A region whose writer was SIGKILLed between making the sequence odd and making it even. */
async function regionLeftMidWrite(): Promise<SharedMemory> {
  const region = openTracked(uniqueName('laykill'), { size: 4096 });
  regions.push(region);
  const child = spawn(process.execPath, [FIXTURE, region.name], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const exited = once(child, 'exit');
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  expect(line).toBe('inside');
  child.kill('SIGKILL');
  await exited;
  return region;
}

describe('a writer killed inside writeConsistent', () => {
  it('leaves the sequence odd, and a reader gets ETIMEDOUT instead of hanging', async () => {
    const region = await regionLeftMidWrite();
    expect(new DataView(region.read(0, 4).buffer).getUint32(0, true)).toBe(1);
    expect(errorOf(() => region.readConsistent(() => 0, { timeout: 50 })).code).toBe('ETIMEDOUT');
  }, 60_000);

  it('another writer without takeOver gets ETIMEDOUT', async () => {
    const region = await regionLeftMidWrite();
    expect(errorOf(() => region.writeConsistent(() => 0, { timeout: 50 })).code).toBe('ETIMEDOUT');
  }, 60_000);

  it('a writer with takeOver goes on, and readers read again after it', async () => {
    const region = await regionLeftMidWrite();
    region.writeConsistent(() => region.write(8, new Uint8Array([9, 9, 9, 9])), { timeout: 50, takeOver: true });
    expect(Array.from(region.readConsistent(() => region.read(8, 4)))).toEqual([9, 9, 9, 9]);
  }, 60_000);
});

describe('a worker that ends without closing', () => {
  it('leaves its writes in the region and the main thread\'s view working', async () => {
    const L = new Layout({ seq: 'uint32', speed: 'float64', name: 'char[16]' });
    const region = openTracked(uniqueName('layw'), { size: 4096 });
    regions.push(region);
    const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;
    const code = `import(${JSON.stringify(dist)}).then(({ Layout, SharedMemory }) => {
      const r = SharedMemory.openExisting(${JSON.stringify(region.name)});
      const s = r.struct(new Layout({ seq: 'uint32', speed: 'float64', name: 'char[16]' }));
      r.writeConsistent(() => s.write({ speed: 2.5, name: 'worker' }));
    });`;
    const worker = new Worker(code, { eval: true });
    const [exitCode] = (await once(worker, 'exit')) as [number];
    expect(exitCode).toBe(0);
    const s = region.struct(L);
    expect(region.readConsistent(() => s.read())).toEqual({ seq: 2, speed: 2.5, name: 'worker' });
  }, 60_000);
});
