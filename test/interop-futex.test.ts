// The Linux layout of events and change counters is a contract: a C program that knows only the
// README's description (test/interop/futex/futex_tool.c) sets and waits on named-shm's objects,
// and named-shm wakes it, in both directions, between real processes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NamedEvent } from '../lib/index.js';
import { COUNT_WORD, STATE_WORD, WAITERS_WORD, changesPath, startActor, startProgram, wordOf } from './change-actors.js';
import { isLinux, openTracked, shmPath, uniqueName } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const hasCc = isLinux && spawnSync('cc', ['--version']).status === 0;
/** <asm/unistd_64.h> (x86-64) and <asm-generic/unistd.h> (arm64, riscv64). */
const SYS_futex = process.arch === 'x64' ? 202 : 98;

const events: NamedEvent[] = [];
afterEach(() => {
  for (const e of events.splice(0)) e.close();
});

function newEvent(name: string, options?: { manualReset?: boolean }): NamedEvent {
  const event = NamedEvent.create(name, options);
  events.push(event);
  return event;
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

describe.runIf(hasCc)('a C program and named-shm share events and change counters through the futex layout (Linux)', () => {
  let tool = '';
  beforeAll(() => {
    tool = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-futex-')), 'futex_tool');
    const cc = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-o', tool, path.join(root, 'test/interop/futex/futex_tool.c')], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    expect(cc.status).toBe(0);
  });

  const runTool = (...args: string[]) => startProgram(tool, args);

  it('a C program sets an event and a Node wait() resolves true, taking the signal', async () => {
    const name = uniqueName('cev');
    const event = newEvent(name);
    const waiting = event.wait();
    const c = runTool('set', name);
    expect(await c.next()).toBe('set');
    expect(await c.exit).toBe(0);
    expect(await waiting).toBe(true);
    expect(wordOf(shmPath(name), STATE_WORD)).toBe(0);
    expect(wordOf(shmPath(name), WAITERS_WORD)).toBe(0);
  });

  it('a Node set() wakes a C program asleep in FUTEX_WAIT on the event', async () => {
    const name = uniqueName('cev');
    const event = newEvent(name);
    const c = runTool('wait', name, '-1');
    expect(await c.next()).toBe('waiting');
    await untilInFutexWait(c.child.pid!);
    event.set();
    expect(await c.next()).toBe('signalled');
    expect(await c.exit).toBe(0);
    expect(wordOf(shmPath(name), STATE_WORD)).toBe(0); // the C waiter took the signal
    expect(wordOf(shmPath(name), WAITERS_WORD)).toBe(0);
  });

  it('a Node set() followed at once by reset() releases a C program waiting on a manual-reset event', async () => {
    const name = uniqueName('cev');
    const event = newEvent(name, { manualReset: true });
    const c = runTool('wait', name, '-1');
    expect(await c.next()).toBe('waiting');
    await untilInFutexWait(c.child.pid!);
    event.set();
    event.reset();
    expect(await c.next()).toBe('signalled');
    expect(await c.exit).toBe(0);
    expect(wordOf(shmPath(name), STATE_WORD)).toBe(0);
    expect(wordOf(shmPath(name), WAITERS_WORD)).toBe(0);
  });

  it("a C notify on the region's #changes object wakes a Node waitForChange()", async () => {
    const name = uniqueName('cchg');
    const region = openTracked(name);
    const changed = region.waitForChange({ since: 0 });
    const c = runTool('notify', name);
    expect(await c.next()).toBe('notified 1');
    expect(await c.exit).toBe(0);
    expect(await changed).toBe(1);
    expect(region.changeCount).toBe(1);
  });

  it('a Node notify() wakes a C program asleep in FUTEX_WAIT on the change count', async () => {
    const name = uniqueName('cchg');
    const region = openTracked(name);
    expect(region.changeCount).toBe(0);
    const c = runTool('waitchange', name, '0', '-1');
    expect(await c.next()).toBe('waiting');
    await untilInFutexWait(c.child.pid!);
    expect(region.notify()).toBe(1);
    expect(await c.next()).toBe('changed 1');
    expect(await c.exit).toBe(0);
    expect(wordOf(changesPath(name), COUNT_WORD)).toBe(1);
    expect(wordOf(changesPath(name), WAITERS_WORD)).toBe(0);
  });

  it('an auto-reset event set twice by C releases each of two waiting Node processes exactly once', async () => {
    const name = uniqueName('cev');
    newEvent(name);
    const waiters = [startActor('event-wait', name), startActor('event-wait', name)];
    for (const w of waiters) expect(await w.next()).toEqual({ waiting: true });
    const lines = waiters.map((w) => w.next());

    const first = runTool('set', name);
    expect(await first.exit).toBe(0);
    const released = await Promise.race(lines.map((line, i) => line.then(() => i)));
    expect(await lines[released]).toEqual({ released: true });
    expect(wordOf(shmPath(name), STATE_WORD)).toBe(0); // taken by the one it released
    const other = 1 - released;
    waiters[other]!.send('status');
    expect(await lines[other]).toEqual({ status: 'waiting' });

    const second = runTool('set', name);
    expect(await second.exit).toBe(0);
    expect(await waiters[other]!.next()).toEqual({ released: true });
    expect(wordOf(shmPath(name), STATE_WORD)).toBe(0);
    for (const w of waiters) {
      w.child.stdin!.end();
      expect(await w.exit).toBe(0);
    }
  });

  it('a manual-reset event set by C releases every waiting Node process and stays signalled', async () => {
    const name = uniqueName('cev');
    const event = newEvent(name, { manualReset: true });
    const waiters = [startActor('event-wait', name), startActor('event-wait', name)];
    for (const w of waiters) expect(await w.next()).toEqual({ waiting: true });
    expect(await runTool('set', name).exit).toBe(0);
    for (const w of waiters) expect(await w.next()).toEqual({ released: true });
    expect(event.waitSync(0)).toBe(true);
    expect(wordOf(shmPath(name), STATE_WORD)).not.toBe(0);
    for (const w of waiters) w.child.stdin!.end();
  });

  it('a C program tells an event, a change counter and a region apart by the layout alone', () => {
    const name = uniqueName('cchg');
    openTracked(name).notify();
    const other = uniqueName('cev');
    newEvent(`${other}#changes`); // an event where a change counter would be
    const refused = (...args: string[]) => spawnSync(tool, args, { encoding: 'utf8' });
    expect(refused('set', `${name}#changes`)).toMatchObject({ status: 3, stderr: expect.stringContaining('not a named-shm nshmevt') });
    expect(refused('notify', other)).toMatchObject({ status: 3, stderr: expect.stringContaining('not a named-shm nshmchg') });
    expect(refused('set', name)).toMatchObject({ status: 3, stderr: expect.stringContaining('4096 bytes, not 32') });
  });
});
