// Finding 10 (docs/RELIABILITY.md): regions held by worker threads that end without close() were
// never released (FinalizationRegistry does not run at a worker's end), and close() in a worker
// warned about a descriptor it had not opened. Workers are first-class holders.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { isLinux, track, uniqueName } from '../helpers.js';
import { fixture, type Line } from '../robustness/support.js';

function run(how: string, name: string, count = 20): { line: Line; stderr: string; signal: string | null } {
  const r = spawnSync(process.execPath, ['--expose-gc', fixture('adv-workers.mjs'), how, name, String(count)], { encoding: 'utf8', timeout: 120_000 });
  return { line: JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as Line, stderr: r.stderr, signal: r.signal };
}

describe('regions held by worker threads', () => {
  it.each(['natural', 'exit', 'throw'])(
    'workers that end (%s) without close() release their regions, descriptors and mappings',
    (how) => {
      const r = run(how, uniqueName(`w-${how}`));
      expect(r.signal).toBeNull();
      expect(r.line).toEqual({ fdsLeft: expect.any(Number), mapped: 0, stillNamed: 0, createdElsewhere: 20, createdAgain: 20 });
      expect(r.line.fdsLeft).toBeLessThanOrEqual(1); // the fixture's own readdir, at most (0 where /proc is absent)
    },
  );

  // Windows: a terminated worker's handles stay open (Node closes only descriptors it opened), so
  // its sections live until the process ends: README, "Worker threads".
  it.runIf(isLinux)('workers terminated while holding regions release them: the next open is the first holder again', () => {
    const r = run('terminate', uniqueName('w-term'));
    expect(r.signal).toBeNull();
    // Another process first: this one still maps what the workers mapped until its next open.
    expect(r.line.createdElsewhere).toBe(20);
    expect(r.line.createdAgain).toBe(20);
    expect(r.line.fdsLeft).toBeLessThanOrEqual(1);
  });

  it.runIf(isLinux)('the mappings of terminated workers are unmapped by the next open in the process', () => {
    const r = run('terminate', uniqueName('w-term'));
    expect(r.line.mapped).toBe(0);
  });

  it.runIf(isLinux)('close() in a worker unmaps at once and prints no warning about descriptors', () => {
    const r = run('close', uniqueName('w-close'));
    expect(r.stderr).not.toMatch(/Warning|closed but not opened/);
    expect(r.line).toMatchObject({ mapped: 0, stillNamed: 0, createdAgain: 20 });
  });

  it('a region stays while a worker holds it, with the content the worker wrote', async () => {
    const name = uniqueName('w-hold');
    const { Worker } = await import('node:worker_threads');
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.dist).then(({ SharedMemory }) => {
        const region = SharedMemory.open(workerData.name);
        region.writeString('from the worker');
        parentPort.postMessage('held');
        parentPort.once('message', () => { region.close(); parentPort.postMessage('closed'); });
      });`;
    const dist = new URL('../../dist/index.js', import.meta.url).href;
    const worker = new Worker(code, { eval: true, workerData: { name, dist } });
    const next = () => new Promise((resolve) => worker.once('message', resolve));
    expect(await next()).toBe('held');
    const seen = track(SharedMemory.openExisting(name));
    expect(seen.readString()).toBe('from the worker');
    seen.close();
    worker.postMessage('close');
    expect(await next()).toBe('closed');
    await worker.terminate();
    expect(() => SharedMemory.openExisting(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
