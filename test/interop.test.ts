// The layout contract across implementations: a C reference of the sample (test/interop/c) and
// named-shm read each other's strings, and agree on who attached first.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { CHILD, isLinux, isWindows, lastJson, openTracked, track, uniqueName } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = process.env.NAMED_SHM_C_OUT ?? path.join(root, 'build', 'interop');
const exe = (file: string) => path.join(built, file);
// scripts/windows/test.sh builds the C programs and sets this, so a missing build fails there.
const required = process.env.NAMED_SHM_INTEROP === '1';
const lines = (out: string) => out.split(/\r?\n/).filter(Boolean);

describe.runIf(isWindows && (required || fs.existsSync(exe('parent.exe'))))('interop with the C sample on Windows', () => {
  function probe(name: string, ...args: string[]) {
    const r = spawnSync(exe('probe.exe'), args, {
      encoding: 'utf8',
      env: { ...process.env, NAMED_SHM_SAMPLE_NAME: name },
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    return lines(r.stdout).at(-1)!;
  }

  it('the C parent writes and a named-shm child started by it reads the same string', () => {
    const name = uniqueName();
    const command = `"${process.execPath}" "${CHILD}" read ${name}`;
    const r = spawnSync(exe('parent.exe'), [command], {
      encoding: 'utf8',
      env: { ...process.env, NAMED_SHM_SAMPLE_NAME: name },
      timeout: 30_000,
    });
    expect(r.stdout).toContain('Process is writing to shared memory...');
    expect(lastJson(lines(r.stdout).join('\n'))).toEqual({ created: false, size: 4096, text: 'This is a test string' });
    expect(r.status).toBe(0);
  });

  it('named-shm writes and the C DLL reads it byte for byte, astral characters included', () => {
    const name = uniqueName();
    const region = openTracked(name);
    region.writeString('héllo ✓ 😀 from named-shm');
    expect(probe(name)).toBe('created=0 text=héllo ✓ 😀 from named-shm');
  });

  it('named-shm attaches first: it is the creator and the C DLL is not', () => {
    const name = uniqueName();
    const region = openTracked(name);
    expect(region.created).toBe(true);
    expect(probe(name)).toMatch(/^created=0 /);
  });

  it('the C DLL attaches first: it zero-fills as creator, and named-shm then is not', async () => {
    const name = uniqueName();
    const { spawn } = await import('node:child_process');
    const holder = spawn(exe('probe.exe'), ['--set', 'from C', '--hold-stdin'], {
      env: { ...process.env, NAMED_SHM_SAMPLE_NAME: name },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const first = await new Promise<string>((resolve) => holder.stdout.once('data', (d) => resolve(String(d))));
    expect(first.trim()).toBe('created=1 text=from C');
    const region = track(SharedMemory.open(name));
    expect(region.created).toBe(false);
    expect(region.readString()).toBe('from C');
    holder.stdin.end();
    await new Promise((resolve) => holder.on('exit', resolve));
  });
});

const hasCc = isLinux && spawnSync('cc', ['--version']).status === 0;

describe.runIf(hasCc)('interop with a C program using shm_open on Linux', () => {
  let twin = '';
  beforeAll(() => {
    twin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-twin-')), 'posix_twin');
    const cc = spawnSync('cc', ['-O2', '-o', twin, path.join(root, 'test/interop/c/posix_twin.c'), '-lrt'], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    expect(cc.status).toBe(0);
  });

  const runTwin = (...args: string[]) => spawnSync(twin, args, { encoding: 'utf8' });

  it('the C program reads what named-shm wrote', () => {
    const name = uniqueName();
    openTracked(name).writeString('héllo ✓ 😀 from named-shm');
    const r = runTwin('-n', `/${name}`, 'read');
    expect(r.stdout).toBe('héllo ✓ 😀 from named-shm\n');
    expect(r.status).toBe(0);
  });

  it('named-shm reads what the C program wrote', () => {
    const name = uniqueName();
    const region = openTracked(name);
    expect(runTwin('-n', `/${name}`, 'write', 'written by C ✓').status).toBe(0);
    expect(region.readString()).toBe('written by C ✓');
  });

  it('the C program cuts at capacity - 1 as named-shm does, and both read the same', () => {
    const name = uniqueName();
    const region = openTracked(name, { size: 16 });
    expect(runTwin('-n', `/${name}`, 'write', 'abcdefghijklmnop').status).toBe(0);
    expect(region.readString()).toBe('abcdefg');
    expect(region.writeString('ABCDEFGHIJKLMNOP')).toBe(7);
    expect(runTwin('-n', `/${name}`, 'read').stdout).toBe('ABCDEFG\n');
  });

  it('a region the C program created is opened, never reclaimed, and outlives our close', () => {
    const name = uniqueName();
    expect(runTwin('-n', `/${name}`, '-c', '4096', 'write', 'made in C').status).toBe(0);
    const region = SharedMemory.open(name);
    expect(region.created).toBe(false);
    expect(region.readString()).toBe('made in C');
    region.close();
    expect(runTwin('-n', `/${name}`, 'read').stdout).toBe('made in C\n');
  });
});
