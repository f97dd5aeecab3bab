// Finding 1: something that is not a shared memory object at the name — a FIFO (`mkfifo -m 0666`,
// which any user may plant in /dev/shm) or a character device — must be refused at once with
// EINVAL, by every kind of open, and opening it must do nothing to it or to its users.
//
// Each open runs in a child process (test/fixtures/adv-steps.mjs) with a spawn timeout, so a
// regression that blocks in open(2) shows as a failed test (the child killed by the timeout), not
// as a hung suite.
//
// Guards (lib/os/posix/object-names.ts): names.open() opens an existing name with O_PATH and
// fstats it first, and opens only a regular file for real (through /proc/self/fd, O_NONBLOCK).
// Without the look first, a plain open of a FIFO blocks until a writer comes (the read-only cases
// end with the child killed by the timeout), an O_NONBLOCK one releases a waiting writer, and a
// device's driver runs its open.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isLinux, shmPath, uniqueName } from '../helpers.js';

const STEPS = fileURLToPath(new URL('../fixtures/adv-steps.mjs', import.meta.url));
/** Far above a prompt answer (milliseconds) and the 2 s bounded waits of the package. */
const SPAWN_TIMEOUT_MS = 20_000;
const NOT_AN_OBJECT = 'not a shared memory object';
const isRoot = process.geteuid?.() === 0;
const hasMkfifo = isLinux && spawnSync('mkfifo', ['--version']).status === 0;
const hasSetsid = isLinux && spawnSync('setsid', ['--version']).status === 0;

type Answer = { op: string; ok: boolean; code?: string; syscall?: string; message?: string; [k: string]: unknown };

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  answers: Answer[];
  stderr: string;
}

/** Runs the steps in a child (optionally behind a command such as setsid), killed after 20 s. */
function runSteps(steps: object[], prefix: string[] = []): Run {
  const command = [...prefix, process.execPath, STEPS, JSON.stringify(steps)];
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  const answers = r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Answer);
  return { status: r.status, signal: r.signal, answers, stderr: r.stderr };
}

/** One open in a child: it must end by itself, normally, with exactly one answer. */
function openInChild(op: string, name: string, options?: object): Answer {
  const run = runSteps([{ op, name, options }]);
  expect(run.signal, `the child was killed (${run.signal}): the open blocked or crashed`).toBeNull();
  expect(run.status).toBe(0);
  expect(run.answers).toHaveLength(1);
  return run.answers[0]!;
}

const planted: string[] = [];
const started: number[] = [];

function plantFifo(name: string): string {
  const path = shmPath(name);
  expect(spawnSync('mkfifo', ['-m', '0666', path]).status).toBe(0);
  planted.push(path);
  return path;
}

function plantDevice(name: string, major: number, minor: number): string {
  const path = shmPath(name);
  expect(spawnSync('mknod', ['-m', '0666', path, 'c', String(major), String(minor)]).status).toBe(0);
  planted.push(path);
  return path;
}

afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already ended
    }
  }
  for (const path of planted.splice(0)) fs.rmSync(path, { force: true });
});

const opens = [
  ['openExisting', { access: 'readonly' }],
  ['open', { access: 'readonly' }],
  ['open', undefined],
  ['openExisting', undefined],
] as const;

describe.runIf(hasMkfifo)('a FIFO at the name (mkfifo -m 0666)', () => {
  it.each(opens)('%s(name, %j) fails at once with EINVAL instead of blocking', (op, options) => {
    const name = uniqueName('fifo');
    plantFifo(name);
    expect(openInChild(op, name, options)).toMatchObject({
      ok: false,
      code: 'EINVAL',
      syscall: 'shm_open',
      message: expect.stringContaining(NOT_AN_OBJECT),
    });
  });

  it('create() over a FIFO says EEXIST and leaves the FIFO where it is', () => {
    const name = uniqueName('fifo');
    const path = plantFifo(name);
    expect(openInChild('create', name)).toMatchObject({ ok: false, code: 'EEXIST', syscall: 'shm_open' });
    expect(fs.lstatSync(path).isFIFO()).toBe(true);
  });

  it('after every refused open the FIFO is still a FIFO with its mode, and nothing else appeared', () => {
    const name = uniqueName('fifo');
    const path = plantFifo(name);
    const before = fs.lstatSync(path);
    const run = runSteps([...opens.map(([op, options]) => ({ op, name, options })), { op: 'ls' }]);
    expect(run.signal).toBeNull();
    const after = fs.lstatSync(path);
    expect(after.isFIFO()).toBe(true);
    expect(after.ino).toBe(before.ino);
    expect(after.mode).toBe(before.mode);
    // The child's own listing: the name is there once, and nothing of ours (a half-made object) beside it.
    const entries = run.answers.at(-1)!.entries as string[];
    expect(entries.filter((e) => e.startsWith(name))).toEqual([name]);
  });

  // An open of the FIFO itself (O_RDONLY|O_NONBLOCK or O_RDWR) would count as the FIFO's reader,
  // so a writer blocked in open(2) would be let go, write into the pipe, and lose its bytes when
  // we close. The O_PATH look first never opens it.
  it('a refused open does not release a writer waiting at the FIFO, nor swallow its bytes', async () => {
    const name = uniqueName('fifo');
    const path = plantFifo(name);
    const writer = spawn('sh', ['-c', `printf 'sent' > '${path}'; echo "writer done $?"`], { stdio: ['ignore', 'pipe', 'ignore'] });
    started.push(writer.pid!);
    let said = '';
    writer.stdout!.on('data', (chunk: Buffer) => {
      said += chunk.toString();
    });
    await new Promise((resolve) => setTimeout(resolve, 300)); // the writer is in open(2) now
    expect(openInChild('openExisting', name, { access: 'readonly' })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(openInChild('openExisting', name)).toMatchObject({ ok: false, code: 'EINVAL' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The writer is still waiting for a reader: no open of ours took that role.
    expect(said).toBe('');
    expect(writer.exitCode).toBeNull();
    // And a real reader now gets the bytes the writer meant for it.
    const reader = spawnSync('timeout', ['3', 'cat', path], { encoding: 'utf8' });
    expect(reader.stdout).toBe('sent');
  });
});

describe.runIf(isLinux && isRoot)('a character device at the name (mknod, root only)', () => {
  it.each(opens)('%s(name, %j) of a /dev/null node (c 1 3) fails at once with EINVAL', (op, options) => {
    const name = uniqueName('chr');
    plantDevice(name, 1, 3);
    expect(openInChild(op, name, options)).toMatchObject({
      ok: false,
      code: 'EINVAL',
      syscall: 'shm_open',
      message: expect.stringContaining(NOT_AN_OBJECT),
    });
  });

  it('create() over a device node says EEXIST, and after every refused open the node is unchanged', () => {
    const name = uniqueName('chr');
    const path = plantDevice(name, 1, 3);
    const before = fs.lstatSync(path);
    const run = runSteps([...opens.map(([op, options]) => ({ op, name, options })), { op: 'create', name }]);
    expect(run.signal).toBeNull();
    expect(run.answers.at(-1)).toMatchObject({ ok: false, code: 'EEXIST' });
    const after = fs.lstatSync(path);
    expect(after.isCharacterDevice()).toBe(true);
    expect([after.ino, after.rdev, after.mode, after.size]).toEqual([before.ino, before.rdev, before.mode, before.size]);
  });

  // /dev/tty (c 5 0) opened by a process without a controlling terminal (setsid) makes the
  // driver itself refuse (ENXIO), so this shows whether the driver's open runs; on other devices
  // that open has side effects (a serial line raising DTR, a tape rewinding at close, a watchdog
  // arming). Refused "the same way" means the driver is never reached: EINVAL.
  it.runIf(hasSetsid)('a device whose driver refuses opens (c 5 0, no terminal) is refused with EINVAL before its driver runs', () => {
    const name = uniqueName('chr');
    plantDevice(name, 5, 0);
    for (const [op, options] of opens) {
      const run = runSteps([{ op, name, options }], ['setsid', '-w']);
      expect(run.signal).toBeNull();
      expect(run.answers[0], `${op} ${JSON.stringify(options)}`).toMatchObject({
        ok: false,
        code: 'EINVAL',
        message: expect.stringContaining(NOT_AN_OBJECT),
      });
    }
  });
});
