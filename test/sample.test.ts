// The sample's own two calls on the process-wide region `dllmemfilemap` of 4096 bytes.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { detachSharedMem, getSharedMem, setSharedMem, SharedMemory } from '../lib/index.js';
import { CHILD, isPosix, isWindows, lastJson, runChild } from './helpers.js';
import { skipUnder } from './runtimes/gates.js';

// The default name is machine-wide: these tests are the only ones that use it, and run in order.
afterEach(() => {
  detachSharedMem();
  if (isPosix) {
    try {
      SharedMemory.unlink('dllmemfilemap');
    } catch {
      // gone with its last holder: the usual case
    }
  }
});

describe.sequential('setSharedMem / getSharedMem', () => {
  it('attach on first use to dllmemfilemap of 4096 bytes', () => {
    expect(setSharedMem('This is a test string')).toBe(21);
    const same = SharedMemory.openExisting('dllmemfilemap');
    expect(same.size).toBe(4096);
    expect(same.readString()).toBe('This is a test string');
    same.close();
  });

  it('getSharedMem(cchSize) returns at most cchSize - 1 units', () => {
    setSharedMem('This is a test string');
    expect(getSharedMem(5)).toBe('This');
    expect(getSharedMem(260)).toBe('This is a test string');
    expect(getSharedMem()).toBe('This is a test string');
  });

  it('getSharedMem(0) is refused instead of wrapping around', () => {
    expect(() => getSharedMem(0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('setSharedMem cuts at 2047 units, as the fixed bound of the original', () => {
    expect(setSharedMem('x'.repeat(4095))).toBe(2047);
    expect(getSharedMem()).toHaveLength(2047);
  });

  it('a child process reads what setSharedMem stored while this process holds the region', () => {
    setSharedMem('parent to child');
    expect(lastJson(runChild('sample-get', 'dllmemfilemap', '260').stdout)).toEqual({ text: 'parent to child' });
  });

  it('the region is detached at process exit, so it is gone after the last holder exits', async () => {
    const child = spawn(process.execPath, [CHILD, 'sample-set', 'dllmemfilemap', 'bye'], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    expect(lastJson(runChild('sample-get', 'dllmemfilemap').stdout)).toEqual({ text: 'bye' });
    child.stdin.end();
    await new Promise((resolve) => child.on('exit', resolve));
    expect(() => SharedMemory.openExisting('dllmemfilemap')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

const cChild = fileURLToPath(new URL('../build/interop/child.exe', import.meta.url));

// tsx is a Node loader: under Deno its hooks do not apply, and demo/parent.ts cannot import lib/index.js (a .ts file).
describe.skipIf(skipUnder(['deno'], 'sample.test.ts: the demo runs through tsx, whose loader hooks Deno does not run'))('the demo', () => {
  it.runIf(isWindows && (process.env.NAMED_SHM_INTEROP === '1' || fs.existsSync(cChild)))(
    'the parent hands the string to the C sample’s child',
    () => {
      const parent = fileURLToPath(new URL('../demo/parent.ts', import.meta.url));
      const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
      const r = spawnSync(process.execPath, [tsx, parent, cChild], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout).toContain('Child process read from shared memory: This is a test string');
      expect(r.status).toBe(0);
    },
  );

  it('the parent writes, the child prints the line, and the parent exits with the child’s code', () => {
    const parent = fileURLToPath(new URL('../demo/parent.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [tsx, parent], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toContain('Process is writing to shared memory...');
    expect(r.stdout).toContain('Child process read from shared memory: This is a test string');
    expect(r.status).toBe(0);
  });

  it('the parent runs the child given on its command line and exits with its code', () => {
    const parent = fileURLToPath(new URL('../demo/parent.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [tsx, parent, CHILD, 'sample-get', 'dllmemfilemap', '5'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(lastJson(r.stdout)).toEqual({ text: 'This' });
    expect(r.status).toBe(0);
  });
});
