// The Linux layout of NamedMutex is a contract: a C program that knows only the README's
// description (test/interop/mutex/mutex_tool.c: shm_open, the holder's OFD read lock, glibc's
// robust process-shared pthread_mutex_t at byte 16) excludes Node and is excluded by it, counts
// with it, hands it on as abandoned when it dies holding it and is told EOWNERDEAD when a Node
// holder dies, and creates mutexes that Node opens: between real processes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NamedEvent, NamedMutex } from '../lib/index.js';
import { startProgram, type Actor } from './change-actors.js';
import { isLinux, openTracked, shmPath, uniqueName } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const NODE_ACTOR = path.join(root, 'test/interop/mutex/mutex-node.mjs');
const hasCc = isLinux && spawnSync('cc', ['--version']).status === 0;
/** <asm/unistd_64.h> (x86-64) and <asm-generic/unistd.h> (arm64, riscv64). */
const SYS_futex = process.arch === 'x64' ? 202 : 98;

const mutexes: NamedMutex[] = [];
afterEach(() => {
  for (const m of mutexes.splice(0)) m.close();
});

function track(m: NamedMutex): NamedMutex {
  mutexes.push(m);
  return m;
}

/** Until the process sleeps in the futex system call (what /proc/PID/syscall shows). */
async function untilInFutexWait(pid: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const call = fs.readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0];
    if (call === String(SYS_futex)) return;
    await sleep(5);
  }
  expect.fail(`process ${pid} never slept in futex()`);
}

/** Whether `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(ms);
  return settled;
}

const nodeActor = (...args: string[]): Actor => startProgram(process.execPath, [NODE_ACTOR, ...args], (line) => JSON.parse(line));

describe.runIf(hasCc)('a C program and named-shm share a NamedMutex through glibc\'s robust pthread mutex (Linux)', () => {
  let tool = '';
  beforeAll(() => {
    tool = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-mutex-')), 'mutex_tool');
    const cc = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-o', tool, path.join(root, 'test/interop/mutex/mutex_tool.c'), '-lpthread'], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    expect(cc.status).toBe(0);
  });

  const runTool = (...args: string[]) => startProgram(tool, args);

  it('a C holder excludes Node: tryLock() is null and lock() resolves only after C unlocks', async () => {
    const name = uniqueName('cmtx');
    const mutex = track(NamedMutex.create(name));
    const c = runTool('hold', name);
    expect(await c.next()).toBe('held');
    expect(mutex.tryLock()).toBeNull();
    const locking = mutex.lock();
    expect(await settlesWithin(locking, 200)).toBe(false);
    expect(mutex.tryLock()).toBeNull();
    c.send('release');
    expect(await c.next()).toBe('unlocked');
    const guard = await locking;
    expect(guard.abandoned).toBe(false);
    guard.unlock();
    expect(await c.exit).toBe(0);
  });

  it('a Node holder excludes C: trylock is busy, and pthread_mutex_lock returns only after Node unlocks', async () => {
    const name = uniqueName('cmtx');
    const mutex = track(NamedMutex.create(name));
    const guard = mutex.tryLock()!;
    expect(guard).not.toBeNull();
    expect(spawnSync(tool, ['trylock', name], { encoding: 'utf8' }).stdout).toBe('busy\n');
    const c = runTool('lock', name);
    await untilInFutexWait(c.child.pid!);
    const line = c.next();
    expect(await settlesWithin(line, 200)).toBe(false);
    guard.unlock();
    expect(await line).toBe('locked');
    expect(await c.exit).toBe(0);
    // Free again after C's unlock, for both.
    mutex.tryLock()!.unlock();
    expect(spawnSync(tool, ['trylock', name], { encoding: 'utf8' }).stdout).toBe('locked\n');
  });

  it('4 Node processes and 4 C processes each add 5,000 to one counter under the mutex: the total is exact', async () => {
    const name = uniqueName('cmtx');
    const counterName = uniqueName('ccnt');
    track(NamedMutex.create(name));
    const region = openTracked(counterName, { size: 4096 });
    const word = new Uint32Array(region.bytes.buffer, region.bytes.byteOffset, 1);
    const N = 5000;
    const actors = [
      nodeActor('count', name, counterName, String(N), 'async'),
      nodeActor('count', name, counterName, String(N), 'async'),
      nodeActor('count', name, counterName, String(N), 'sync'),
      nodeActor('count', name, counterName, String(N), 'sync'),
      runTool('count', name, counterName, String(N)),
      runTool('count', name, counterName, String(N)),
      runTool('count', name, counterName, String(N)),
      runTool('count', name, counterName, String(N)),
    ];
    for (const [i, a] of actors.entries()) expect(await a.next()).toEqual(i < 4 ? { ready: true } : 'ready');
    for (const a of actors) a.send('go');
    for (const [i, a] of actors.entries()) expect(await a.next()).toEqual(i < 4 ? { done: N, abandoned: 0 } : `done ${N} 0`);
    for (const a of actors) expect(await a.exit).toBe(0);
    expect(word[0]).toBe(8 * N);
  }, 120_000);

  it('a C process that dies holding it hands it to a pending Node lock() as abandoned, and the next lock is not', async () => {
    const name = uniqueName('cmtx');
    const mutex = track(NamedMutex.create(name));
    const c = runTool('hold', name);
    expect(await c.next()).toBe('held');
    const locking = mutex.lock();
    expect(await settlesWithin(locking, 100)).toBe(false);
    c.child.kill('SIGKILL');
    expect(await c.exit).toBe('SIGKILL');
    const first = await locking;
    expect(first.abandoned).toBe(true);
    first.unlock();
    const second = await mutex.lock();
    expect(second.abandoned).toBe(false);
    second.unlock();
  });

  it('C die-holding (kill(getpid(), SIGKILL) after pthread_mutex_lock): the next Node lock is abandoned, the one after not', async () => {
    const name = uniqueName('cmtx');
    const mutex = track(NamedMutex.create(name));
    const c = runTool('die-holding', name);
    expect(await c.next()).toBe('held');
    expect(await c.exit).toBe('SIGKILL');
    const first = mutex.tryLock()!;
    expect(first.abandoned).toBe(true);
    first.unlock();
    const second = mutex.lockSync(5000);
    expect(second.abandoned).toBe(false);
    second.unlock();
    // And C, after Node made it consistent, gets it plainly.
    expect(spawnSync(tool, ['lock', name], { encoding: 'utf8' }).stdout).toBe('locked\n');
  });

  it('a Node process SIGKILLed while it holds the mutex gives a waiting C program EOWNERDEAD ("abandoned")', async () => {
    const name = uniqueName('cmtx');
    const mutex = track(NamedMutex.create(name));
    const node = nodeActor('hold', name);
    expect(await node.next()).toEqual({ held: true, abandoned: false });
    const c = runTool('lock', name);
    await untilInFutexWait(c.child.pid!);
    node.child.kill('SIGKILL');
    expect(await node.exit).toBe('SIGKILL');
    expect(await c.next()).toBe('abandoned');
    expect(await c.exit).toBe(0);
    // C made it consistent and unlocked it: the next holder is told nothing.
    const guard = mutex.tryLock()!;
    expect(guard.abandoned).toBe(false);
    guard.unlock();
    expect(spawnSync(tool, ['lock', name], { encoding: 'utf8' }).stdout).toBe('locked\n');
  });

  it('a Node process SIGKILLed holding it with nobody waiting: the next C lock is abandoned', async () => {
    const name = uniqueName('cmtx');
    track(NamedMutex.create(name));
    const node = nodeActor('hold', name);
    expect(await node.next()).toEqual({ held: true, abandoned: false });
    node.child.kill('SIGKILL');
    expect(await node.exit).toBe('SIGKILL');
    expect(spawnSync(tool, ['trylock', name], { encoding: 'utf8' }).stdout).toBe('abandoned\n');
    expect(spawnSync(tool, ['lock', name], { encoding: 'utf8' }).stdout).toBe('locked\n');
  });

  it('a mutex created by C (complete under a temporary name, then linked) opens in Node and is released with its last holder', async () => {
    const name = uniqueName('cmtx');
    const c = runTool('create', name);
    expect(await c.next()).toBe('created');
    const st = fs.statSync(shmPath(name));
    expect(st.size).toBe(64);
    expect(st.mode & 0o7777).toBe(0o1600);
    expect(fs.readdirSync('/dev/shm').filter((f) => f.startsWith(`${name}.creating-`))).toEqual([]);
    const mutex = track(NamedMutex.openExisting(name));
    expect(mutex.created).toBe(false);
    const guard = mutex.tryLock()!;
    expect(guard.abandoned).toBe(false);
    expect(spawnSync(tool, ['trylock', name], { encoding: 'utf8' }).stdout).toBe('busy\n');
    guard.unlock();
    expect(spawnSync(tool, ['trylock', name], { encoding: 'utf8' }).stdout).toBe('locked\n');
    // The C creator lets go first: Node still holds it, so the name stays.
    c.send('close');
    expect(await c.next()).toBe('closed');
    expect(fs.existsSync(shmPath(name))).toBe(true);
    mutex.close();
    expect(fs.existsSync(shmPath(name))).toBe(false); // the sticky bit made it managed: gone with its last holder
  });

  it('C creating the name Node holds finds it taken and opens it; C as the last holder removes the name', async () => {
    const name = uniqueName('cmtx');
    const mutex = track(NamedMutex.create(name));
    const c = runTool('create', name);
    expect(await c.next()).toBe('exists');
    const guard = mutex.tryLock()!;
    expect(spawnSync(tool, ['trylock', name], { encoding: 'utf8' }).stdout).toBe('busy\n');
    guard.unlock();
    mutex.close();
    expect(fs.existsSync(shmPath(name))).toBe(true); // C holds it
    c.send('close');
    expect(await c.next()).toBe('closed');
    expect(fs.existsSync(shmPath(name))).toBe(false);
  });

  it("a mutex C creates in place (O_CREAT | O_EXCL, sized, then written) is waited for by a Node open that meets it unready", async () => {
    const name = uniqueName('cmtx');
    const c = runTool('create', name, 'direct', '300');
    expect(await c.next()).toBe('sized'); // 64 zero bytes at the name now, for 300 ms
    const t0 = Date.now();
    const mutex = track(NamedMutex.openExisting(name));
    expect(Date.now() - t0).toBeGreaterThan(100); // it waited for the header
    expect(await c.next()).toBe('created');
    mutex.tryLock()!.unlock();
    expect(spawnSync(tool, ['lock', name], { encoding: 'utf8' }).stdout).toBe('locked\n');
    c.send('close');
    expect(await c.next()).toBe('closed');
    mutex.close();
    expect(fs.existsSync(shmPath(name))).toBe(false);
  });

  it('C tells a mutex from a region and from an event by size and magic', () => {
    const region = uniqueName('creg');
    openTracked(region, { size: 4096 });
    const event = uniqueName('cevt');
    const e = NamedEvent.create(event);
    try {
      expect(spawnSync(tool, ['lock', region], { encoding: 'utf8' })).toMatchObject({ status: 3, stderr: expect.stringContaining('4096 bytes, not 64') });
      expect(spawnSync(tool, ['lock', event], { encoding: 'utf8' })).toMatchObject({ status: 3, stderr: expect.stringContaining('32 bytes, not 64') });
      expect(spawnSync(tool, ['lock', uniqueName('none')], { encoding: 'utf8' }).status).toBe(3);
    } finally {
      e.close();
    }
  });
});
