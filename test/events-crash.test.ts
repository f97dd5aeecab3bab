// NamedEvent when processes and threads die or end: holders killed, waiters killed while
// waiting, a setter killed inside set(), workers terminated while waiting, and processes that
// must end by themselves once their waits are done (and not before).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NamedEvent } from '../lib/index.js';
import { DIST, EventActor, actorWith, delay, eventWorker, trackEvent } from './events-actor.js';
import { errorOf, exists, isLinux, shmPath, uniqueName } from './helpers.js';

const open = (name: string, options?: Parameters<typeof NamedEvent.open>[1]) => trackEvent(NamedEvent.open(name, options));
const canPark = isLinux && process.arch === 'x64' && process.geteuid?.() === 0 && spawnSync('gdb', ['--version']).status === 0;

/**
 * Writes an ES module script to a file (not `--input-type=module -e`, which eval workers inherit:
 * the watcher thread's CommonJS source then fails, see events-attacks) and runs it in a new node
 * with DIST, NAME and `env` in its environment; at most 30 s.
 */
function scriptFile(source: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-ev-script-')), 'script.mjs');
  fs.writeFileSync(file, source);
  return file;
}
function runScript(source: string, name: string, env: Record<string, string> = {}, args: string[] = []) {
  const r = spawnSync(process.execPath, [...args, scriptFile(source)], { encoding: 'utf8', env: { ...process.env, DIST, NAME: name, ...env }, timeout: 30_000 });
  return { status: r.status, signal: r.signal, lines: r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown), stderr: r.stderr };
}

describe.runIf(isLinux)('lifetime', () => {
  it('an event lives while another process holds it, and goes with its last holder', async () => {
    const name = uniqueName('ev');
    const ev = NamedEvent.open(name);
    const a = await actorWith(name);
    ev.close();
    expect(exists(shmPath(name))).toBe(true);
    await a.request({ op: 'set' });
    expect((await a.request({ op: 'waitSync', timeout: 0 })).result).toBe(true);
    await a.request({ op: 'close' });
    expect(exists(shmPath(name))).toBe(false);
  });

  it('a SIGKILLed last holder leaves no event: openExisting gives ENOENT and removes its object', async () => {
    const name = uniqueName('ev');
    const a = await actorWith(name, { initialState: true });
    a.kill();
    await a.exit;
    expect(errorOf(() => NamedEvent.openExisting(name))).toMatchObject({ code: 'ENOENT' });
    expect(exists(shmPath(name))).toBe(false);
  });

  it('after a SIGKILLed last holder, open() creates a fresh event without the old signal', async () => {
    const name = uniqueName('ev');
    const a = await actorWith(name, { initialState: true, manualReset: true });
    a.kill();
    await a.exit;
    const ev = open(name);
    expect([ev.created, ev.manualReset, ev.waitSync(0)]).toEqual([true, false, false]);
  });

  it('when a holder is SIGKILLed, the close of the last live holder removes the name', async () => {
    const name = uniqueName('ev');
    const ev = NamedEvent.open(name);
    const a = await actorWith(name);
    a.kill();
    await a.exit;
    ev.close();
    expect(exists(shmPath(name))).toBe(false);
  });
});

describe.runIf(isLinux)('waiters killed while waiting', () => {
  for (const op of ['waitSync', 'wait'] as const) {
    it(`a waiter SIGKILLed in ${op}() takes no signal: the next waiter gets the next set()`, async () => {
      const name = uniqueName('ev');
      const ev = open(name);
      const doomed = await actorWith(name);
      await doomed.startWait(op);
      doomed.kill();
      await doomed.exit;
      const next = await actorWith(name);
      const w = await next.startWait('wait', 10_000);
      ev.set();
      expect((await w.result).result).toBe(true);
      ev.set(); // nobody waits now: the signal stays for the next wait
      expect(ev.waitSync(0)).toBe(true);
    });
  }
});

describe.runIf(isLinux)('setters killed inside set()', () => {
  it('a setter killed after storing the state, before its wake: a later set() releases the waiters', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const waiter = await actorWith(name);
    const w = await waiter.startWait('waitSync');
    const setter = await actorWith(name);
    setter.send({ op: 'storeStateAndDie', name });
    expect((await setter.exit).signal).toBe('SIGKILL');
    ev.set();
    expect((await w.result).result).toBe(true);
  });

  it.runIf(canPark)('a setter parked by gdb at its wake call and SIGKILLed there wedges no waiter', async () => {
    const name = uniqueName('ev');
    const ev = open(name, { manualReset: true });
    const sync = await actorWith(name);
    const async_ = await actorWith(name);
    const waits = [await sync.startWait('waitSync'), await async_.startWait('wait')];
    const setter = await actorWith(name);
    // FUTEX_WAKE without FUTEX_PRIVATE_FLAG is op 1: only the event's wake; node's own are private.
    const gdb = spawn('gdb', ['-p', String(setter.child.pid), '-batch', '-ex', 'catch syscall futex', '-ex', 'condition 1 $rsi == 1', '-ex', 'continue', '-ex', 'printf "PARKED\\n"', '-ex', 'shell sleep 60'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    gdb.stdout.on('data', (d: Buffer) => (out += d.toString()));
    gdb.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const until = async (text: string) => {
        for (let i = 0; !out.includes(text); i++) {
          if (i > 1500) throw new Error(`gdb never printed ${text}: ${out}`);
          await delay(20);
        }
      };
      await until('Catchpoint 1 (syscall');
      setter.send({ op: 'set' });
      await until('PARKED');
      setter.kill();
    } finally {
      gdb.kill('SIGKILL'); // a killed tracee is reported to its parent once its tracer is gone
    }
    expect((await setter.exit).signal).toBe('SIGKILL');
    ev.set();
    expect((await Promise.all(waits.map((w) => w.result))).map((l) => l.result)).toEqual([true, true]);
  });
});

const WORKER_SCRIPT = (how: 'waitSync' | 'wait') => `
import { Worker } from 'node:worker_threads';
const { NamedEvent } = await import(process.env.DIST);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const ev = NamedEvent.open(process.env.NAME);
const w = new Worker(\`const { parentPort, workerData } = require('node:worker_threads');
import(workerData.dist).then(async ({ NamedEvent }) => { const ev = NamedEvent.open(workerData.name);
  parentPort.postMessage('ready'); ${how === 'waitSync' ? 'ev.waitSync();' : 'await ev.wait();'} parentPort.postMessage('released'); });\`,
  { eval: true, workerData: { dist: process.env.DIST, name: process.env.NAME } });
await new Promise((r) => w.once('message', r));
await new Promise((r) => setTimeout(r, 100));
await w.terminate();
say({ terminated: true });
const pending = ev.wait({ timeout: 10000 });
NamedEvent.open(process.env.NAME).set();
say({ mainWait: await pending });
ev.close();
`;

describe.runIf(isLinux)('worker threads terminated while waiting', () => {
  for (const how of ['waitSync', 'wait'] as const) {
    it(`worker.terminate() of a worker in ${how}() completes, the process's other waits work, and it exits by itself`, () => {
      const r = runScript(WORKER_SCRIPT(how), uniqueName('ev'));
      expect(r.lines).toEqual([{ terminated: true }, { mainWait: true }]);
      expect([r.status, r.signal]).toEqual([0, null]);
    });
  }

  it('process.exit() ends the process while a worker is in waitSync() on an event nobody sets', () => {
    const source = `import { Worker } from 'node:worker_threads';
const w = new Worker(\`const { parentPort, workerData } = require('node:worker_threads');
import(workerData.dist).then(({ NamedEvent }) => { const ev = NamedEvent.open(workerData.name); parentPort.postMessage('ready'); ev.waitSync(); });\`,
  { eval: true, workerData: { dist: process.env.DIST, name: process.env.NAME } });
await new Promise((r) => w.once('message', r));
process.stdout.write('"exiting"\\n');
process.exit(7);`;
    const r = runScript(source, uniqueName('ev'));
    expect(r.lines).toEqual(['exiting']);
    expect([r.status, r.signal]).toEqual([7, null]);
  });
});

describe.runIf(isLinux)('a process ends by itself once its waits are done', () => {
  it('after a wait that timed out, the process exits with code 0', async () => {
    const name = uniqueName('ev');
    const a = new EventActor([{ op: 'open', name }, { op: 'wait', timeout: 200 }, { op: 'close' }]);
    expect(await a.exit).toEqual({ code: 0, signal: null });
    expect(a.lines.find((l) => l.op === 'wait')).toMatchObject({ result: false });
    expect(a.lines.at(-1)).toMatchObject({ op: 'end' });
  });

  it('after a timed-out wait on an event it never closes, the process still exits with code 0', async () => {
    const a = new EventActor([{ op: 'open', name: uniqueName('ev') }, { op: 'wait', timeout: 200 }]);
    expect(await a.exit).toEqual({ code: 0, signal: null });
  });

  for (const op of ['wait', 'waitSync'] as const) {
    it(`a pending infinite ${op}() keeps the process alive until set(), then it exits with code 0`, async () => {
      const name = uniqueName('ev');
      const ev = open(name);
      const a = new EventActor([{ op: 'open', name }, { op }]);
      await a.next((l) => l.op === 'started');
      await delay(700); // longer than a watcher thread's sleep (500 ms)
      expect(a.child.exitCode).toBeNull();
      ev.set();
      expect(await a.exit).toEqual({ code: 0, signal: null });
      expect(a.lines.find((l) => l.op === op)).toMatchObject({ result: true });
    });
  }
});

describe.runIf(isLinux)('holders that end without close()', () => {
  it('an event whose only holder was a terminated worker is gone for the next open', async () => {
    const name = uniqueName('ev');
    const w = eventWorker(`const ev = NamedEvent.open(workerData.name); say('ready'); await ev.wait();`, { name });
    expect(await w.next()).toBe('ready');
    await w.worker.terminate();
    expect(errorOf(() => NamedEvent.openExisting(name))).toMatchObject({ code: 'ENOENT' });
  });

  it('an event dropped without close() lets go of its name once it is garbage', () => {
    const source = `const { NamedEvent } = await import(process.env.DIST);
import fs from 'node:fs';
(() => NamedEvent.open(process.env.NAME))();
const before = fs.existsSync('/dev/shm/' + process.env.NAME);
for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
process.stdout.write(JSON.stringify([before, fs.existsSync('/dev/shm/' + process.env.NAME)]) + '\\n');`;
    const r = runScript(source, uniqueName('ev'), {}, ['--expose-gc']);
    expect(r.stderr).toBe('');
    expect(r.lines).toEqual([[true, false]]);
  });

  it('an event dropped while a wait is pending on it stays alive for that wait', async () => {
    const name = uniqueName('ev');
    const ev = open(name);
    const source = `const { NamedEvent } = await import(process.env.DIST);
const p = NamedEvent.open(process.env.NAME).wait();
for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
process.stdout.write('"collected"\\n');
process.stdout.write(JSON.stringify(await p) + '\\n');`;
    const child = spawn(process.execPath, ['--expose-gc', scriptFile(source)], { env: { ...process.env, DIST, NAME: name }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    while (!out.includes('collected')) await delay(20);
    ev.set();
    const code = await new Promise((r) => child.on('exit', r));
    expect([code, out.trim().split('\n')]).toEqual([0, ['"collected"', 'true']]);
  });
});

// A shim that holds a thread other than the main one inside dlopen("libc.so.6") (so inside
// koffi.load() of the futex watcher thread) for 500 ms, after creating the file $SLOW_DLOPEN_MARK.
const SLOW_DLOPEN_C = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
void *dlopen(const char *file, int mode) {
  static void *(*real)(const char *, int);
  if (!real) real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
  const char *mark = getenv("SLOW_DLOPEN_MARK");
  if (file && mark && strcmp(file, "libc.so.6") == 0 && gettid() != getpid()) {
    close(open(mark, O_CREAT | O_WRONLY, 0600));
    usleep(500000);
  }
  return real(file, mode);
}`;
const hasCc = isLinux && spawnSync('cc', ['--version']).status === 0;

describe.runIf(hasCc)('a process that ends while its watcher thread starts', () => {
  // Was: node aborted ("FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw", exit 134)
  // when the process ended while the watcher thread was inside koffi.load(): Node terminated the
  // thread, koffi's N-API calls failed and its throw was fatal (1 to 5 in 100 runs of a short
  // script without the shim). The exit hook now waits for the thread to be past its koffi calls.
  it('ending the process right after its first wait never aborts it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-slowdl-'));
    expect(spawnSync('cc', ['-shared', '-fPIC', '-o', `${dir}/slow.so`, '-x', 'c', '-', '-ldl'], { input: SLOW_DLOPEN_C }).status).toBe(0);
    const source = `import fs from 'node:fs';
const { NamedEvent } = await import(process.env.DIST);
const ev = NamedEvent.open(process.env.NAME);
ev.wait().catch(() => {});
while (!fs.existsSync(process.env.SLOW_DLOPEN_MARK)) await new Promise((r) => setTimeout(r, 5));
ev.close();`;
    const r = runScript(source, uniqueName('ev'), { SLOW_DLOPEN_MARK: `${dir}/mark`, LD_PRELOAD: `${dir}/slow.so` });
    expect(fs.existsSync(`${dir}/mark`)).toBe(true); // the exit did come while the thread was in koffi.load()
    expect(r.stderr).not.toContain('FATAL ERROR');
    expect([r.status, r.signal]).toEqual([0, null]);
  });

  // Was: the watcher thread, an eval Worker of CommonJS source, inherited execArgv: under
  // `node --input-type=module -e` it failed ("require is not defined in ES module scope"), and
  // every wait of the process fell back to polling every 4 ms. It now gets `execArgv: []`.
  it('a process run as `node --input-type=module -e` still gets its watcher thread', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-slowdl-'));
    expect(spawnSync('cc', ['-shared', '-fPIC', '-o', `${dir}/slow.so`, '-x', 'c', '-', '-ldl'], { input: SLOW_DLOPEN_C }).status).toBe(0);
    const source = `const { NamedEvent } = await import(process.env.DIST);
const ev = NamedEvent.open(process.env.NAME);
process.stdout.write(JSON.stringify(await ev.wait({ timeout: 1500 })) + '\\n');
ev.close();`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', source], {
      encoding: 'utf8',
      env: { ...process.env, DIST, NAME: uniqueName('ev'), SLOW_DLOPEN_MARK: `${dir}/mark`, LD_PRELOAD: `${dir}/slow.so` },
      timeout: 30_000,
    });
    expect(r.stdout.trim()).toBe('false'); // the wait worked either way
    expect(fs.existsSync(`${dir}/mark`)).toBe(true); // a thread other than the main one loaded libc through koffi
  });
});
