// A named event on Linux, which has none: a 32-byte shm object (object-kinds.ts) with futex words.
// Layout (native-endian u32 words after the 8-byte magic):
//   [2] version 1, [3] flags (bit 0: manual reset), [4] state, [5] waiters: threads that are
//   sleeping or about to, [6] sets: a manual-reset event's count of set() calls (wraps).
// Auto-reset: [4] counts releases not yet taken. set() adds one unless it already holds
// waiters + 1 (one release for each waiter, and the signalled state itself): so a set() that
// comes while a waiter in another process has not yet run to take its release is not lost, as
// Win32 would have released that waiter inside SetEvent. A waiter takes one (compare-and-swap
// n -> n - 1), and sleeps on [4] while it is 0. reset() leaves at most one release per waiter
// (it clears the signalled state, not the releases of those already waiting).
// Manual-reset: [4] is 0 or 1; set() also adds one to [6]. A waiter notes [6] when it starts and
// is released by a signalled state or by any later set(), so set() then reset() at once still
// releases everyone who was waiting. It sleeps on [6].
// set() wakes every sleeper if waiters > 0. A waiter counts itself in waiters before it looks,
// and a setter changes the words (with a read-modify-write, a full barrier) before it looks at
// waiters: so either the waiter sees the change, or the setter sees the waiter and wakes it. A
// waiter that dies leaves waiters one too high: setters then make a system call each, and an
// auto-reset event keeps one more release at most (README).
// Within this thread, waits already pending (on any handle of the name) are served before
// anything else can look at the event (a new wait, waitSync, reset, and right after set()), so
// the signal of a set() goes to a waiter that was already waiting, as Win32 hands it over inside
// SetEvent. Between processes a newcomer can take a release before an older waiter runs (README).
import type { CancelWait, EventRequest, NativeEvent } from '../../sync/backend.js';
import type { RegionBackend } from '../../region/backend.js';
import { SYNC_OBJECT_BYTES, syncHeader } from '../posix/object-kinds.js';
import { WAKE_ALL, futex } from './futex.js';
import { futexWatcher } from './futex-watcher.js';
import { PendingByObject } from './pending-by-object.js';
import { requireZeroCopy } from '../../region/zero-copy.js';

const FLAGS = 3;
const STATE = 4;
const WAITERS = 5;
const SETS = 6;
const MANUAL_RESET = 1;


export function openLinuxEvent(regions: RegionBackend, request: EventRequest): NativeEvent {
  requireZeroCopy('NamedEvent on Linux (its state is a futex word in shared memory)');
  const native = regions.open({
    name: request.name,
    intent: request.intent,
    size: SYNC_OBJECT_BYTES,
    readOnly: false,
    mode: request.mode,
    persist: false,
    securityDescriptor: undefined,
    kind: 'event',
    header: syncHeader('event', request.manualReset ? MANUAL_RESET : 0, request.initialState ? 1 : 0),
  });
  const words = new Uint32Array(native.view!, 0, SYNC_OBJECT_BYTES / 4);
  const manualReset = (words[FLAGS]! & MANUAL_RESET) !== 0;
  const stateAddress = native.address + BigInt(STATE * 4);
  const setsAddress = native.address + BigInt(SETS * 4);
  /** The word a waiter sleeps on, and the value it sleeps while it holds. */
  const sleepWord = manualReset ? SETS : STATE;
  const sleepAddress = manualReset ? setsAddress : stateAddress;
  const fx = futex();
  // By object, not by name: after an unlink and a new open, the name leads to another object.
  const key = native.identity?.() ?? native.path;
  // This thread's pending waits on the object, shared by its handles.
  const pending = new PendingByObject(key);

  /** Takes the signal if there is one: an auto-reset event's only once. */
  function take(setsAtStart: number): boolean {
    if (manualReset) return Atomics.load(words, STATE) !== 0 || Atomics.load(words, SETS) !== setsAtStart;
    for (;;) {
      const n = Atomics.load(words, STATE);
      if (n === 0) return false;
      if (Atomics.compareExchange(words, STATE, n, n - 1) === n) return true;
    }
  }

  const serve = () => pending.serve();

  return {
    created: native.created,
    manualReset,
    path: native.path,
    set() {
      // Read-modify-writes, not stores: a full barrier on every CPU, so the read of `waiters`
      // below cannot happen before the change is visible (Dekker's pattern).
      if (manualReset) {
        Atomics.exchange(words, STATE, 1);
        Atomics.add(words, SETS, 1);
      } else {
        for (;;) {
          const n = Atomics.load(words, STATE);
          if (n > Atomics.load(words, WAITERS)) break; // signalled already, beyond the waiters' releases
          if (Atomics.compareExchange(words, STATE, n, n + 1) === n) break;
        }
      }
      if (Atomics.load(words, WAITERS) !== 0) {
        fx.wake(sleepAddress, WAKE_ALL);
        // Also those that sleep on the state of a manual-reset event (a program that predates [6]).
        if (manualReset) fx.wake(stateAddress, WAKE_ALL);
      }
      serve();
    },
    reset() {
      serve();
      if (manualReset) {
        Atomics.store(words, STATE, 0);
        return;
      }
      for (;;) {
        const n = Atomics.load(words, STATE);
        const kept = Math.min(n, Atomics.load(words, WAITERS));
        if (kept === n || Atomics.compareExchange(words, STATE, n, kept) === n) return;
      }
    },
    waitSync(timeoutMs) {
      serve();
      const sets = Atomics.load(words, SETS);
      if (take(sets)) return true;
      const deadline = performance.now() + timeoutMs;
      Atomics.add(words, WAITERS, 1);
      try {
        for (;;) {
          const expected = Atomics.load(words, sleepWord);
          if (take(sets)) return true;
          const left = deadline - performance.now();
          if (left <= 0) return false;
          fx.wait(sleepAddress, expected, left);
        }
      } finally {
        Atomics.sub(words, WAITERS, 1);
      }
    },
    waitAsync(done): CancelWait {
      serve();
      const sets = Atomics.load(words, SETS);
      if (!pending.any && take(sets)) {
        done();
        return () => {};
      }
      Atomics.add(words, WAITERS, 1);
      let live = true;
      let stop: (() => void) | undefined;
      const leave = () => {
        if (!live) return;
        live = false;
        Atomics.sub(words, WAITERS, 1);
        pending.remove(poll);
        stop?.(); // served here rather than by the watcher: it must not watch for it any more
      };
      const poll = (): boolean => {
        // Those that waited longer in this thread go first.
        if (!live || !pending.first(poll) || !take(sets)) return false;
        // done() first: the waiter's continuation is queued before the re-arm that leave()
        // schedules, so a waiter that at once waits again changes the watched set only once.
        done();
        leave();
        return true;
      };
      pending.add(poll);
      stop = futexWatcher().watch({
        address: sleepAddress,
        expected: manualReset ? sets : 0,
        poll: () => {
          serve();
          return !live;
        },
      });
      return leave;
    },
    close() {
      native.release();
      native.unmap();
    },
  };
}
