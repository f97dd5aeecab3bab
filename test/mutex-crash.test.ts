// NamedMutex when holders and waiters die (Linux): holders SIGKILLed at random points of their
// critical section, or parked by gdb inside pthread_mutex_trylock / pthread_mutex_unlock and
// SIGKILLed there; waiters SIGKILLed while waiting; workers terminated or ending while they hold;
// process.exit() while holding. The next locker must get the lock, told `abandoned` exactly when
// the one before it died holding, and the mutex must still exclude afterwards.
//
// No assertion is on time. The waits below have generous timeouts only so that a wedged mutex
// fails the test instead of hanging it. That no polling is involved follows from the design (see
// lib/os/linux/mutex.ts): the kernel walks a dead thread's robust list at its exit, sets
// FUTEX_OWNER_DIED in the lock word and does a FUTEX_WAKE on it; lockSync sleeps in
// pthread_mutex_clocklock (a futex wait) and lock() in the futex watcher thread's futex_waitv, so
// both are woken by that wake, not by a timer.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NamedMutex, SharedMemory } from '../lib/index.js';
import { DIST, MUTEX_ACTOR, actorWith, delay, eventWorker, trackEvent, type EventActor } from './events-actor.js';
import { isLinux, track, uniqueName } from './helpers.js';

const open = (name: string) => trackEvent(NamedMutex.open(name));
const actor = (name: string) => actorWith(name, undefined, 'open', MUTEX_ACTOR);
const canPark = isLinux && process.arch === 'x64' && process.geteuid?.() === 0 && spawnSync('gdb', ['--version']).status === 0;
/** Generous: only a wedged mutex reaches it. */
const NEVER = 20_000;

/** The other waiter, whoever got the lock first: the first is told abandoned, the second not. */
async function handOnAfterKill(m: NamedMutex, other: EventActor, ours: Promise<{ abandoned: boolean; unlock(): void }>, theirs: Promise<Record<string, unknown>>) {
  const first = await Promise.race([ours.then(() => 'ours' as const), theirs.then(() => 'theirs' as const)]);
  if (first === 'ours') {
    const g = await ours;
    expect(g.abandoned, 'the first locker after the kill').toBe(true);
    g.unlock();
    expect((await theirs).abandoned, 'the second locker').toBe(false);
    await other.request({ op: 'unlock' });
  } else {
    expect((await theirs).abandoned, 'the first locker after the kill').toBe(true);
    await other.request({ op: 'unlock' });
    const g = await ours;
    expect(g.abandoned, 'the second locker').toBe(false);
    g.unlock();
  }
  const after = m.tryLock();
  expect(after?.abandoned, 'a later locker').toBe(false);
  after!.unlock();
}

/** Two actors add 2,000 each under the lock: exact total, or the mutex no longer excludes. */
async function stillExcludes(name: string): Promise<void> {
  const region = uniqueName('mxc-count');
  const counter = track(SharedMemory.open(region, { size: 8 }));
  const actors = [await actor(name), await actor(name)];
  const done = await Promise.all(actors.map((a) => a.request({ op: 'count', name, region, n: 2000, how: 'mixed' })));
  expect(done.map((d) => d.ok)).toEqual([true, true]);
  expect(new Uint32Array(counter.bytes.buffer, counter.bytes.byteOffset, 1)[0]).toBe(4000);
}

describe.runIf(isLinux)('holders SIGKILLed while they hold', () => {
  for (let round = 0; round < 4; round++) {
    it(`a holder SIGKILLed ${round === 0 ? 'at once' : `after a random pause (round ${round})`}: one waiter gets it abandoned, the other not`, async () => {
      const name = uniqueName('mxc');
      const m = open(name);
      const holder = await actor(name);
      expect(await holder.request({ op: 'tryLock' })).toMatchObject({ locked: true, abandoned: false });
      const other = await actor(name);
      const theirs = (await other.startWait('lockSync', NEVER)).result;
      const ours = m.lock({ timeout: NEVER });
      if (round > 0) await delay(Math.floor(Math.random() * 40));
      holder.kill();
      expect((await holder.exit).signal).toBe('SIGKILL');
      await handOnAfterKill(m, other, ours, theirs);
    });
  }

  it('a holder SIGKILLed at a random point of a lock/unlock workload never wedges the mutex, which still excludes', async () => {
    const name = uniqueName('mxc');
    const m = open(name);
    for (let round = 0; round < 5; round++) {
      const region = uniqueName('mxc-count');
      track(SharedMemory.open(region, { size: 8 }));
      const busy = await actor(name);
      busy.send({ op: 'count', name, region, n: 1_000_000, how: 'mixed' });
      await delay(20 + Math.floor(Math.random() * 60));
      busy.kill();
      await busy.exit;
      // Held or not when killed: either way the next lock is ours, abandoned only if it held.
      const g = m.lockSync(NEVER);
      g.unlock();
      const after = m.tryLock();
      expect(after?.abandoned, `round ${round}: the locker after the next`).toBe(false);
      after!.unlock();
    }
    await stillExcludes(name);
  });
});

describe.runIf(isLinux)('waiters SIGKILLed while waiting', () => {
  for (const op of ['lock', 'lockSync'] as const) {
    it(`a waiter SIGKILLed in ${op}() changes nothing: the other waiter gets the lock, not abandoned`, async () => {
      const name = uniqueName('mxc');
      const m = open(name);
      const g = m.tryLock()!;
      const doomed = await actor(name);
      await doomed.startWait(op, NEVER);
      const next = await actor(name);
      const theirs = (await next.startWait('lock', NEVER)).result;
      doomed.kill();
      await doomed.exit;
      g.unlock();
      expect(await theirs).toMatchObject({ ok: true, abandoned: false });
      await next.request({ op: 'unlock' });
      expect(m.tryLock()?.abandoned).toBe(false);
    });
  }

  it('several waiters of both kinds SIGKILLed while waiting: this process then locks and unlocks freely, never abandoned', async () => {
    const name = uniqueName('mxc');
    const m = open(name);
    const g = m.tryLock()!;
    const doomed = await Promise.all([actor(name), actor(name), actor(name), actor(name)]);
    for (const [i, a] of doomed.entries()) await a.startWait(i % 2 ? 'lock' : 'lockSync', NEVER);
    for (const a of doomed) a.kill();
    await Promise.all(doomed.map((a) => a.exit));
    g.unlock();
    for (let i = 0; i < 3; i++) {
      const again = await m.lock({ timeout: NEVER });
      expect(again.abandoned).toBe(false);
      again.unlock();
    }
  });
});

// Each worker keeps its mutex reachable (globalThis.keep): a mutex and guard that are garbage are
// closed by the FinalizationRegistry, which unlocks them, and the lock would not be abandoned.
describe.runIf(isLinux)('threads and processes that end holding it', () => {
  it('worker.terminate() of a holder: the next lock() is abandoned, the one after not', async () => {
    const name = uniqueName('mxc');
    const m = open(name);
    const w = eventWorker(`const m = NamedMutex.open(workerData.name); globalThis.keep = m; m.tryLock(); say('held'); setInterval(() => {}, 1000);`, { name });
    expect(await w.next()).toBe('held');
    const ours = m.lock({ timeout: NEVER });
    await w.worker.terminate();
    const g = await ours;
    expect(g.abandoned).toBe(true);
    g.unlock();
    expect(m.tryLock()?.abandoned).toBe(false);
  });

  it('a worker that ends by itself holding it: the next lockSync is abandoned', async () => {
    const name = uniqueName('mxc');
    const m = open(name);
    const w = eventWorker(`const m = NamedMutex.open(workerData.name); globalThis.keep = m; m.tryLock(); say('held');`, { name });
    expect(await w.next()).toBe('held');
    await new Promise((r) => w.worker.once('exit', r));
    expect(m.lockSync(NEVER).abandoned).toBe(true);
  });

  it('a worker that calls process.exit() holding it (ends its thread): the next lock() is abandoned', async () => {
    const name = uniqueName('mxc');
    const m = open(name);
    const w = eventWorker(`const m = NamedMutex.open(workerData.name); globalThis.keep = m; m.tryLock(); say('held'); setTimeout(() => process.exit(0), 10);`, { name });
    expect(await w.next()).toBe('held');
    const g = await m.lock({ timeout: NEVER });
    expect(g.abandoned).toBe(true);
  });

  it('a process that calls process.exit() holding it: the next locker gets it abandoned', async () => {
    const name = uniqueName('mxc');
    const m = open(name);
    const a = await actor(name);
    expect(await a.request({ op: 'tryLock' })).toMatchObject({ locked: true });
    const ours = m.lock({ timeout: NEVER });
    a.send({ op: 'exit', code: 0 });
    expect((await a.exit).code).toBe(0);
    expect((await ours).abandoned).toBe(true);
  });

  it('a process SIGKILLed while a worker of its holds it: the next locker gets it abandoned', async () => {
    const name = uniqueName('mxc');
    const m = open(name);
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-mxc-')), 'holder.mjs');
    fs.writeFileSync(
      script,
      `import { Worker } from 'node:worker_threads';
      const w = new Worker(\`const { parentPort, workerData } = require('node:worker_threads');
        import(workerData.dist).then(({ NamedMutex }) => { const m = NamedMutex.open(workerData.name); globalThis.keep = m; m.tryLock(); parentPort.postMessage('held'); setInterval(() => {}, 1000); });\`,
        { eval: true, workerData: { dist: process.env.DIST, name: process.env.NAME } });
      w.once('message', () => console.log('held'));`,
    );
    const child = spawn(process.execPath, [script], { env: { ...process.env, DIST, NAME: name }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((r) => child.stdout.once('data', r));
      const ours = m.lock({ timeout: NEVER });
      child.kill('SIGKILL');
      expect((await ours).abandoned).toBe(true);
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(path.dirname(script), { recursive: true, force: true });
    }
  });
});

/** The mappings of the object at /dev/shm/<name> in this process, by inode (a created object's mapping shows its O_TMPFILE name). */
function mappingsOf(name: string): number {
  const ino = String(fs.statSync(`/dev/shm/${name}`).ino);
  return fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => l.split(/\s+/)[4] === ino && l.includes('/dev/shm/')).length;
}

describe.runIf(isLinux)('a terminated worker that held a mutex', () => {
  it('its mapping outlives it until its thread is gone: the mutex is abandoned to the next locker, never wedged', async () => {
    const name = uniqueName('mxc');
    const m = open(name);
    const w = eventWorker(`const m = NamedMutex.open(workerData.name); globalThis.keep = m; m.tryLock(); say('held'); setInterval(() => {}, 1000);`, { name });
    expect(await w.next()).toBe('held');
    expect(mappingsOf(name)).toBe(2);
    const terminated = w.worker.terminate();
    // Opens in this thread reap the mappings of threads that are gone, as soon as they can: here,
    // while the worker may still be ending. Unmapped before the kernel walked its robust list,
    // the lock would never be marked, and this lockSync would sleep to its timeout.
    for (let i = 0; i < 50; i++) trackEvent(NamedMutex.open(uniqueName('mxc-reap'))).close();
    await terminated;
    expect(m.lockSync(NEVER).abandoned).toBe(true);
  });

  it('once its thread is gone, the next open in another thread unmaps its mapping', async () => {
    const name = uniqueName('mxc');
    const m = open(name);
    const w = eventWorker(`const m = NamedMutex.open(workerData.name); globalThis.keep = m; m.tryLock(); say('held'); setInterval(() => {}, 1000);`, { name });
    expect(await w.next()).toBe('held');
    await w.worker.terminate();
    const g = m.lockSync(NEVER);
    expect(g.abandoned).toBe(true);
    g.unlock();
    // The worker's OS thread ends a little after terminate() resolves: reap until it has.
    for (let i = 0; i < 200 && mappingsOf(name) > 1; i++) {
      trackEvent(NamedMutex.open(uniqueName('mxc-reap'))).close();
      await delay(10);
    }
    expect(mappingsOf(name)).toBe(1);
  });
});

describe.runIf(canPark)('holders parked by gdb inside glibc and SIGKILLed there', () => {
  /**
   * Attaches gdb to the actor, stops it in `fn` on our mutex (its __kind, at offset 16 of the
   * pthread_mutex_t in rdi, is 0x92: robust, process-shared, error-checking, which none of node's
   * own mutexes is), steps `steps` instructions further, and resolves once it is parked there.
   */
  async function parkIn(a: EventActor, fn: string, steps: number, start: () => void): Promise<() => void> {
    const gdb = spawn(
      'gdb',
      ['-p', String(a.child.pid), '-batch', '-ex', `break ${fn} if *(int*)($rdi+16) == 0x92`, '-ex', 'continue', '-ex', `stepi ${steps}`, '-ex', 'printf "PARKED\\n"', '-ex', 'shell sleep 60'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    gdb.stdout.on('data', (d: Buffer) => (out += d.toString()));
    gdb.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const until = async (text: string) => {
      for (let i = 0; !out.includes(text); i++) {
        if (i > 6000) throw new Error(`gdb never printed ${text}: ${out}`);
        await delay(20);
      }
    };
    await until('Breakpoint 1 at');
    start();
    await until('PARKED');
    return () => gdb.kill('SIGKILL'); // a killed tracee is reported to its parent once its tracer is gone
  }

  for (const steps of [1, 8, 20, 40, 70]) {
    it(`a process SIGKILLed ${steps} instructions into pthread_mutex_trylock: the next locker gets the mutex, which still excludes`, async () => {
      const name = uniqueName('mxc');
      const m = open(name);
      const a = await actor(name);
      const release = await parkIn(a, 'pthread_mutex_trylock', steps, () => a.send({ op: 'tryLock' }));
      a.kill();
      release();
      expect((await a.exit).signal).toBe('SIGKILL');
      const g = m.lockSync(NEVER); // abandoned if the trylock had taken the word, else not
      g.unlock();
      expect(m.tryLock()?.abandoned).toBe(false);
      m.close();
      await stillExcludes(name);
    }, 180_000);

    it(`a holder SIGKILLed ${steps} instructions into pthread_mutex_unlock: the next locker gets the mutex, which still excludes`, async () => {
      const name = uniqueName('mxc');
      const m = open(name);
      const a = await actor(name);
      expect(await a.request({ op: 'tryLock' })).toMatchObject({ locked: true });
      const release = await parkIn(a, 'pthread_mutex_unlock', steps, () => a.send({ op: 'unlock' }));
      a.kill();
      release();
      expect((await a.exit).signal).toBe('SIGKILL');
      const g = m.lockSync(NEVER); // abandoned if the word still held its id, else not
      g.unlock();
      expect(m.tryLock()?.abandoned).toBe(false);
      m.close();
      await stillExcludes(name);
    }, 180_000);
  }
});
