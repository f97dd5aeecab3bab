// NamedMutex's promises within a process and against one other process: what a guard is, who may
// lock again, how waits end (timeout, abort, close), and what a name and its arguments must be.
// Exclusion under load is in mutex-exclusion.test.ts, crashes in mutex-crash.test.ts.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NamedEvent, NamedMutex } from '../lib/index.js';
import { EventActor, MUTEX_ACTOR, actorWith, delay, trackEvent } from './events-actor.js';
import { errorOf, exists, isLinux, isWindows, shmPath, uniqueName } from './helpers.js';

const hasMutex = isLinux || isWindows;
const open = (name: string) => trackEvent(NamedMutex.open(name));
const holderOf = async (name: string): Promise<EventActor> => {
  const a = await actorWith(name, undefined, 'open', MUTEX_ACTOR);
  const held = await a.request({ op: 'tryLock' });
  if (held.locked !== true) throw new Error(`the actor could not lock ${name}: ${JSON.stringify(held)}`);
  return a;
};
const rejectionOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('it resolved');
};

describe.runIf(hasMutex)('opening a named mutex', () => {
  it('open creates the mutex the first time and opens it afterwards', () => {
    const name = uniqueName('mx');
    expect(open(name).created).toBe(true);
    expect(open(name).created).toBe(false);
  });

  it('create refuses a name that is taken with EEXIST', () => {
    const name = uniqueName('mx');
    open(name);
    expect(errorOf(() => NamedMutex.create(name))).toMatchObject({ code: 'EEXIST' });
  });

  it('openExisting refuses a name nobody holds with ENOENT', () => {
    expect(errorOf(() => NamedMutex.openExisting(uniqueName('mx')))).toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a name that is not a string, and options it does not know, as Node does', () => {
    expect(errorOf(() => NamedMutex.open(42 as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(errorOf(() => NamedMutex.open(uniqueName('mx'), { recursive: true } as never))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(errorOf(() => NamedMutex.open(uniqueName('mx'), { mode: '600' } as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it.runIf(isLinux)('is an owner-only object (0600) unless a mode is given', () => {
    const name = uniqueName('mx');
    open(name);
    expect(fs.statSync(shmPath(name)).mode & 0o777).toBe(0o600);
    const shared = uniqueName('mx');
    trackEvent(NamedMutex.open(shared, { mode: 0o660 }));
    expect(fs.statSync(shmPath(shared)).mode & 0o777).toBe(0o660);
  });

  it.runIf(isLinux)('goes away with its last holder', () => {
    const name = uniqueName('mx');
    const a = NamedMutex.open(name);
    const b = NamedMutex.open(name);
    a.close();
    expect(exists(shmPath(name))).toBe(true);
    b.close();
    expect(exists(shmPath(name))).toBe(false);
  });

  it.runIf(isLinux)('is not an event, and an event is not a mutex', () => {
    const name = uniqueName('mx');
    open(name);
    expect(errorOf(() => NamedEvent.open(name))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('a named mutex') });
    const ev = uniqueName('mx');
    trackEvent(NamedEvent.open(ev));
    expect(errorOf(() => NamedMutex.open(ev))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('a named event') });
  });

  it('a closed mutex refuses every use with ERR_SHM_CLOSED, and closes again quietly', async () => {
    const m = NamedMutex.open(uniqueName('mx'));
    m.close();
    m.close();
    expect(m.closed).toBe(true);
    expect(errorOf(() => m.tryLock())).toMatchObject({ code: 'ERR_SHM_CLOSED' });
    expect(errorOf(() => m.lockSync(0))).toMatchObject({ code: 'ERR_SHM_CLOSED' });
    expect(await rejectionOf(m.lock())).toMatchObject({ code: 'ERR_SHM_CLOSED' });
  });
});

describe.runIf(hasMutex)('guards', () => {
  it('tryLock on a free mutex gives a guard that holds it, not abandoned', () => {
    const m = open(uniqueName('mx'));
    const g = m.tryLock()!;
    expect(g).not.toBeNull();
    expect(g.abandoned).toBe(false);
    expect(g.held).toBe(true);
    expect(m.locked).toBe(true);
    g.unlock();
    expect(g.held).toBe(false);
    expect(m.locked).toBe(false);
  });

  it('unlocking a guard twice throws EPERM and changes nothing', () => {
    const m = open(uniqueName('mx'));
    const g = m.tryLock()!;
    g.unlock();
    expect(errorOf(() => g.unlock())).toMatchObject({ code: 'EPERM', syscall: 'unlock' });
    const again = m.tryLock();
    expect(again).not.toBeNull();
    again!.unlock();
  });

  it('an old guard cannot unlock the lock of a newer one', () => {
    const m = open(uniqueName('mx'));
    const old = m.tryLock()!;
    old.unlock();
    const current = m.tryLock()!;
    expect(errorOf(() => old.unlock())).toMatchObject({ code: 'EPERM' });
    expect(current.held).toBe(true);
    expect(m.locked).toBe(true);
    current.unlock();
  });

  it('using a guard unlocks at the end of the block, once even if unlocked inside', async () => {
    const m = open(uniqueName('mx'));
    {
      using g = await m.lock();
      expect(g.held).toBe(true);
    }
    expect(m.locked).toBe(false);
    {
      using g = m.lockSync();
      g.unlock();
    }
    expect(m.tryLock()).not.toBeNull();
  });
});

describe.runIf(hasMutex)('not re-entrant: the holder is a thread', () => {
  it('tryLock, lockSync and lock by the holder give EDEADLK, shaped as a system error', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const g = m.tryLock()!;
    const e = errorOf(() => m.tryLock());
    expect(e).toMatchObject({ code: 'EDEADLK', syscall: 'tryLock', region: name });
    expect(e.errno).toBeLessThan(0);
    expect(e.message).toMatch(/^EDEADLK: .*, tryLock '/);
    expect(errorOf(() => m.lockSync())).toMatchObject({ code: 'EDEADLK' });
    expect(await rejectionOf(m.lock())).toMatchObject({ code: 'EDEADLK' });
    g.unlock();
  });

  it('another handle of the same mutex in the same thread gets EDEADLK too, never a hang', async () => {
    const name = uniqueName('mx');
    const a = open(name);
    const b = open(name);
    const g = a.tryLock()!;
    expect(errorOf(() => b.tryLock())).toMatchObject({ code: 'EDEADLK' });
    expect(errorOf(() => b.lockSync(1000))).toMatchObject({ code: 'EDEADLK' });
    expect(await rejectionOf(b.lock())).toMatchObject({ code: 'EDEADLK' });
    g.unlock();
    expect(b.tryLock()).not.toBeNull();
  });

  it('withLock inside withLock of the same mutex rejects with EDEADLK and still unlocks the outer one', async () => {
    const m = open(uniqueName('mx'));
    const inner = await rejectionOf(m.withLock(() => m.withLock(() => 1)));
    expect(inner).toMatchObject({ code: 'EDEADLK' });
    expect(m.locked).toBe(false);
  });

  it('two lock() calls pending in one thread are served one after the other, not refused', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const holder = await holderOf(name);
    const first = m.lock();
    const second = m.lock();
    await holder.request({ op: 'unlock' });
    const g1 = await first;
    let secondDone = false;
    void second.then(() => (secondDone = true));
    await delay(50);
    expect(secondDone).toBe(false); // it waits for this thread's unlock
    g1.unlock();
    const g2 = await second;
    expect(g2.held).toBe(true);
    g2.unlock();
  });
});

describe.runIf(hasMutex)('against another process', () => {
  it('tryLock gives null while another process holds the mutex', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    await holderOf(name);
    expect(m.tryLock()).toBeNull();
  });

  it('lock() resolves once the other process unlocks', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const holder = await holderOf(name);
    const pending = m.lock();
    await holder.request({ op: 'unlock' });
    const g = await pending;
    expect(g.abandoned).toBe(false);
    g.unlock();
  });

  it('the other process cannot take it while this one holds it, and takes it after unlock', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const g = m.tryLock()!;
    const other = await actorWith(name, undefined, 'open', MUTEX_ACTOR);
    expect((await other.request({ op: 'tryLock' })).locked).toBe(false);
    const wait = await other.startWait('lock');
    g.unlock();
    expect(await wait.result).toMatchObject({ ok: true, abandoned: false });
  });

  it('lock() with a timeout rejects with ETIMEDOUT and keeps no lock for later', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const holder = await holderOf(name);
    const e = await rejectionOf(m.lock({ timeout: 30 }));
    expect(e).toMatchObject({ code: 'ETIMEDOUT', syscall: 'lock' });
    await holder.request({ op: 'unlock' });
    // Nobody in this process waits any more: the other process locks again at once.
    expect((await holder.request({ op: 'tryLock' })).locked).toBe(true);
  });

  it('lockSync with a timeout throws ETIMEDOUT', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    await holderOf(name);
    expect(errorOf(() => m.lockSync(20))).toMatchObject({ code: 'ETIMEDOUT', syscall: 'lockSync' });
    expect(errorOf(() => m.lockSync(0))).toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('an aborted lock() rejects with an AbortError whose cause is the reason, and keeps no lock', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const holder = await holderOf(name);
    const ac = new AbortController();
    const pending = m.lock({ signal: ac.signal });
    ac.abort('enough');
    const e = await rejectionOf(pending);
    expect(e).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'enough' });
    await holder.request({ op: 'unlock' });
    expect((await holder.request({ op: 'tryLock' })).locked).toBe(true);
  });

  it('a signal aborted already rejects at once, even when the mutex is free', async () => {
    const m = open(uniqueName('mx'));
    const e = await rejectionOf(m.lock({ signal: AbortSignal.abort() }));
    expect(e).toMatchObject({ code: 'ABORT_ERR' });
    expect(m.locked).toBe(false);
  });

  it('close() rejects a pending lock() with ERR_SHM_CLOSED, which then holds nothing', async () => {
    const name = uniqueName('mx');
    const m = NamedMutex.open(name);
    const holder = await holderOf(name);
    const pending = m.lock();
    m.close();
    expect(await rejectionOf(pending)).toMatchObject({ code: 'ERR_SHM_CLOSED' });
    await holder.request({ op: 'unlock' });
    expect((await holder.request({ op: 'tryLock' })).locked).toBe(true);
  });

  it('close() with the lock held releases it, not as abandoned, and ends the guard', async () => {
    const name = uniqueName('mx');
    const m = NamedMutex.open(name);
    const other = await actorWith(name, undefined, 'open', MUTEX_ACTOR);
    const g = m.tryLock()!;
    const wait = await other.startWait('lock');
    m.close();
    expect(await wait.result).toMatchObject({ ok: true, abandoned: false });
    expect(g.held).toBe(false);
    expect(errorOf(() => g.unlock())).toMatchObject({ code: 'EPERM', message: expect.stringContaining('closed') });
  });

  it('withLock unlocks when its function throws, and passes the error on', async () => {
    const name = uniqueName('mx');
    const m = open(name);
    const other = await actorWith(name, undefined, 'open', MUTEX_ACTOR);
    const boom = new Error('boom');
    const e = await rejectionOf(
      m.withLock(async () => {
        expect((await other.request({ op: 'tryLock' })).locked).toBe(false);
        throw boom;
      }),
    );
    expect(e).toBe(boom);
    expect((await other.request({ op: 'tryLock' })).locked).toBe(true);
  });

  it('withLock resolves with what its function returns, holding the lock only meanwhile', async () => {
    const m = open(uniqueName('mx'));
    const result = await m.withLock((g) => (g.held && m.locked ? 'inside' : 'outside'));
    expect(result).toBe('inside');
    expect(m.locked).toBe(false);
  });

  it('withLock refuses a function that is not one before locking', async () => {
    const m = open(uniqueName('mx'));
    expect(await rejectionOf(m.withLock('x' as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(m.locked).toBe(false);
  });
});

describe.runIf(hasMutex)('arguments of waits', () => {
  it('refuses timeouts that are not milliseconds and signals that are not AbortSignals', async () => {
    const m = open(uniqueName('mx'));
    expect(await rejectionOf(m.lock({ timeout: -1 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(await rejectionOf(m.lock({ timeout: '5' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(await rejectionOf(m.lock({ signal: {} as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(await rejectionOf(m.lock({ wait: 1 } as never))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(errorOf(() => m.lockSync(Number.NaN))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(errorOf(() => m.lockSync('1' as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(m.locked).toBe(false);
  });
});
