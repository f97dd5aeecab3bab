// A region's change counter on Linux: a 32-byte companion object named `<region>#changes`
// (object-kinds.ts) whose count word is a futex. Layout (little-endian u32 words after the magic):
//   [2] version 1, [3] 0, [4] count (wraps at 2^32), [5] waiters: threads sleeping on the count,
//   or about to.
// notify(): count += 1, then, if waiters > 0, FUTEX_WAKE all; with nobody waiting it makes no
// system call. A waiter counts itself in waiters before it compares the count with `since`, so
// either it sees the new count or the notifier sees it and wakes it.
import type { ChangeCounterRequest, NativeChangeCounter } from '../../sync/backend.js';
import type { RegionBackend } from '../../region/backend.js';
import { SYNC_OBJECT_BYTES, syncHeader } from '../posix/object-kinds.js';
import { WAKE_ALL, futex } from './futex.js';
import { futexWatcher } from './futex-watcher.js';
import { requireZeroCopy } from '../../region/zero-copy.js';

const COUNT = 4;
const WAITERS = 5;

/** The companion's name: the region's, with a suffix no region of the sample would use. */
export const CHANGES_SUFFIX = '#changes';

export function openLinuxChangeCounter(regions: RegionBackend, request: ChangeCounterRequest): NativeChangeCounter {
  requireZeroCopy('Change notification (notify(), waitForChange(), changeCount) on Linux (its counter is a futex word in shared memory)');
  const { name } = request;
  const native = regions.open({
    name: { full: name.full + CHANGES_SUFFIX, prefix: name.prefix, base: name.base + CHANGES_SUFFIX },
    intent: 'open-or-create',
    size: SYNC_OBJECT_BYTES,
    readOnly: false,
    // Whoever may read the region may wait for its changes, and waiting writes `waiters`.
    mode: request.mode | ((request.mode & 0o444) >> 1),
    persist: false,
    securityDescriptor: undefined,
    kind: 'changes',
    header: syncHeader('changes', 0, 0),
  });
  const words = new Uint32Array(native.view!, 0, SYNC_OBJECT_BYTES / 4);
  const countAddress = native.address + BigInt(COUNT * 4);
  const fx = futex();

  return {
    count: () => Atomics.load(words, COUNT),
    notify() {
      const now = (Atomics.add(words, COUNT, 1) + 1) >>> 0;
      if (Atomics.load(words, WAITERS) !== 0) fx.wake(countAddress, WAKE_ALL);
      return now;
    },
    waitSync(since, timeoutMs) {
      let now = Atomics.load(words, COUNT);
      if (now !== since) return now;
      const deadline = performance.now() + timeoutMs;
      Atomics.add(words, WAITERS, 1);
      try {
        for (;;) {
          now = Atomics.load(words, COUNT);
          if (now !== since) return now;
          const left = deadline - performance.now();
          if (left <= 0) return now;
          fx.wait(countAddress, since, left);
        }
      } finally {
        Atomics.sub(words, WAITERS, 1);
      }
    },
    waitAsync(since, done) {
      const now = Atomics.load(words, COUNT);
      if (now !== since) {
        done(now);
        return () => {};
      }
      Atomics.add(words, WAITERS, 1);
      let counted = true;
      const uncount = () => {
        if (counted) Atomics.sub(words, WAITERS, 1);
        counted = false;
      };
      const stop = futexWatcher().watch({
        address: countAddress,
        expected: since,
        poll() {
          const c = Atomics.load(words, COUNT);
          if (c === since) return false;
          uncount();
          done(c);
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
