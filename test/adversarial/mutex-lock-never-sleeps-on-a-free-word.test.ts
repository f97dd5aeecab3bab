// Found by the mutex benchmark: an asynchronous lock() that found the mutex busy, and saw it freed
// between its try and its FUTEX_WAITERS flag, went to sleep on the free word. The unlock that
// freed it had already passed (and woke nobody), so the lock() slept until someone else touched
// the mutex: for ever, if nobody did. Here another process locks in bursts and then stays idle
// until this one's pending lock() has resolved: a lost wake-up hangs the test.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NamedMutex } from '../../lib/index.js';
import { trackEvent } from '../events-actor.js';
import { isLinux, uniqueName } from '../helpers.js';

const BURST = fileURLToPath(new URL('../fixtures/mutex-burst.mjs', import.meta.url));
const BURSTS = 12;

describe.runIf(isLinux)('a pending lock() and the last unlock of a burst', () => {
  it('every lock() pending when the other process goes idle resolves: no wake-up is lost', async () => {
    const name = uniqueName('mxburst');
    const m = trackEvent(NamedMutex.create(name));
    const child = fork(BURST, [name, String(BURSTS), '20000'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let idle = 0;
    let goes = 0;
    const ended = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.on('message', () => idle++);
    let running = true;
    void ended.then(() => (running = false));
    while (running) {
      // A lock() pending when the other process goes idle is woken by its last unlock, or never.
      const g = await m.lock();
      g.unlock();
      for (; goes < idle; goes++) child.send('go');
      await new Promise((r) => setImmediate(r)); // lets its messages in: a free lock() resolves in microtasks
    }
    expect(await ended).toBe(0);
    expect(goes).toBe(BURSTS);
  }, 120_000);
});
