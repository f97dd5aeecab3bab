// A named event on Linux, which has none: a 32-byte shm object (object-kinds.ts) whose state word
// is a futex. Layout (little-endian u32 words after the 8-byte magic):
//   [2] version 1, [3] flags (bit 0: manual reset), [4] state (0 not signalled, else signalled),
//   [5] waiters: threads that are sleeping on the state, or about to.
// set(): state = 1, then, if waiters > 0, FUTEX_WAKE all. Every woken waiter tries to take the
// state (an auto-reset event: compare-and-swap 1 -> 0; a manual-reset event: just reads it), and a
// loser sleeps again. A waiter counts itself in waiters before it looks at the state, and a
// setter stores the state before it looks at waiters: so either the waiter sees the state, or the
// setter sees the waiter and wakes it. A waiter that dies leaves waiters too high: that costs
// setters a system call each, never a lost wake-up.
import type { CancelWait, EventRequest, NativeEvent } from '../../sync/backend.js';
import type { RegionBackend } from '../../region/backend.js';
import { SYNC_OBJECT_BYTES, syncHeader } from '../posix/object-kinds.js';
import { WAKE_ALL, futex } from './futex.js';
import { futexWatcher } from './futex-watcher.js';

const FLAGS = 3;
const STATE = 4;
const WAITERS = 5;
const MANUAL_RESET = 1;

export function openLinuxEvent(regions: RegionBackend, request: EventRequest): NativeEvent {
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
  const words = new Uint32Array(native.view, 0, SYNC_OBJECT_BYTES / 4);
  const manualReset = (words[FLAGS]! & MANUAL_RESET) !== 0;
  const stateAddress = native.address + BigInt(STATE * 4);
  const fx = futex();

  /** Takes the signal if there is one (an auto-reset event's only once). */
  function take(): boolean {
    if (manualReset) return Atomics.load(words, STATE) !== 0;
    for (;;) {
      const s = Atomics.load(words, STATE);
      if (s === 0) return false;
      if (Atomics.compareExchange(words, STATE, s, 0) === s) return true;
    }
  }

  return {
    created: native.created,
    manualReset,
    path: native.path,
    set() {
      // An exchange, not a store: a read-modify-write is a full barrier on every CPU, so the read
      // of `waiters` below cannot be done before the state is visible (Dekker's pattern).
      Atomics.exchange(words, STATE, 1);
      if (Atomics.load(words, WAITERS) !== 0) fx.wake(stateAddress, WAKE_ALL);
    },
    reset() {
      Atomics.store(words, STATE, 0);
    },
    waitSync(timeoutMs) {
      if (take()) return true;
      const deadline = performance.now() + timeoutMs;
      Atomics.add(words, WAITERS, 1);
      try {
        for (;;) {
          if (take()) return true;
          const left = deadline - performance.now();
          if (left <= 0) return false;
          fx.wait(stateAddress, 0, left);
        }
      } finally {
        Atomics.sub(words, WAITERS, 1);
      }
    },
    waitAsync(done): CancelWait {
      if (take()) {
        done();
        return () => {};
      }
      Atomics.add(words, WAITERS, 1);
      let counted = true;
      const uncount = () => {
        if (counted) Atomics.sub(words, WAITERS, 1);
        counted = false;
      };
      const stop = futexWatcher().watch({
        address: stateAddress,
        expected: 0,
        poll() {
          if (!take()) return false;
          uncount();
          done();
          return true;
        },
      });
      return () => {
        stop();
        uncount();
      };
    },
    close() {
      native.release();
      native.unmap();
    },
  };
}
