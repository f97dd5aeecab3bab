// The change counter of a region on Windows, in a companion section beside the region (the region
// itself stays byte for byte what the sample's DLL makes). The companion is named after the region
// with `#changes` appended (`Local\foo#changes`) and holds 32 bytes:
//
//   offset  size  field
//   0       8     magic: ASCII "nshmchg" and a NUL byte
//   8       4     version: 1 (u32, little endian, as every field)
//   12      4     reserved: 0
//   16      4     count: changes notified so far, wrapping at 2^32
//   20      4     waiters: threads that are waiting on the counter, or about to
//   24      8     reserved: 0
//
// Wake-ups go through *generation events*: manual-reset named events `Local\foo#changes@<s>`, one
// per count value `s` that somebody waits to see changed. A waiter with `since = s`:
//   1. waiters += 1
//   2. opens or creates the event `...#changes@s` (manual reset, not signalled)
//   3. reads count again: if it is not `s`, it is done; else it waits on the event
//   4. waiters -= 1 (and closes the event) once done.
// notify():
//   1. old = count; count += 1 (one atomic add)
//   2. if waiters == 0, done: no system call at all
//   3. else opens `...#changes@old`; if it exists, sets it and closes it.
// No wake-up is lost: the notifier adds to the count before it reads `waiters` and before it opens
// the event, and the waiter adds to `waiters` and creates the event before it reads the count
// again. If the notifier read `waiters == 0`, the waiter's add came later, so its read of the
// count sees the new value. If the notifier found no event, the waiter's creation came after the
// notifier's open (the kernel's namespace orders them, and each call is a full barrier), so again
// its read of the count sees the new value. Otherwise the notifier finds the event and sets it; the
// event is manual reset, so every waiter of that generation wakes, in every process, and the event
// goes away with its last handle.
// A process killed between steps 1 and 4 leaves `waiters` too high: notify() then makes its system
// call for nothing, which is slower, never wrong.
import { systemError } from '../../errors.js';
import { backend as regions } from '../../region/os-backend.js';
import type { CancelWait, ChangeCounterRequest, NativeChangeCounter } from '../../sync/backend.js';
import { releaseAtWorkerExit, watchHandle } from './async-wait.js';
import { api, openEventIfAny, openNamedEvent, waitForHandle } from './event-api.js';
import { MAX_NAME_UNITS } from './region.js';
import { requireZeroCopy } from '../../region/zero-copy.js';

export const COMPANION_SUFFIX = '#changes';
export const COMPANION_SIZE = 32;
const MAGIC = new TextEncoder().encode('nshmchg\0');
const VERSION = 1;
// Indexes of the u32 fields.
const MAGIC_LO = 0;
const MAGIC_HI = 1;
const VERSION_AT = 2;
const COUNT = 4;
const WAITERS = 5;
const MAGIC_WORDS = new Uint32Array(MAGIC.buffer);
const noop = () => {};

export function openWindowsChangeCounter(request: ChangeCounterRequest): NativeChangeCounter {
  const { name } = request;
  const companion = `${name.full}${COMPANION_SUFFIX}`;
  const fields = { region: name.full, path: companion };
  const longest = `${companion}@${2 ** 32 - 1}`;
  if (longest.length > MAX_NAME_UNITS) {
    throw systemError('ENAMETOOLONG', 'CreateFileMappingW', fields, `name too long for its change counter: ${longest.length} units, Windows allows ${MAX_NAME_UNITS}`);
  }
  requireZeroCopy('Change notification (notify(), waitForChange(), changeCount) (its counter is a word in shared memory)');
  const native = regions.open({
    name: { full: companion, prefix: name.prefix, base: `${name.base}${COMPANION_SUFFIX}` },
    intent: 'open-or-create',
    size: COMPANION_SIZE,
    readOnly: false,
    mode: request.mode,
    persist: false,
    securityDescriptor: undefined,
  });
  const words = new Uint32Array(native.view!, 0, COMPANION_SIZE / 4);
  if (native.created) {
    // The magic last: an opener that sees it sees the version too. Until then it sees zeros.
    Atomics.store(words, VERSION_AT, VERSION);
    Atomics.store(words, MAGIC_HI, MAGIC_WORDS[1]!);
    Atomics.store(words, MAGIC_LO, MAGIC_WORDS[0]!);
  } else {
    const lo = Atomics.load(words, MAGIC_LO);
    const hi = Atomics.load(words, MAGIC_HI);
    const version = Atomics.load(words, VERSION_AT);
    const fresh = lo === 0 && hi === 0; // its creator has not written the header yet
    if (!fresh && (lo !== MAGIC_WORDS[0] || hi !== MAGIC_WORDS[1] || version !== VERSION)) {
      native.unmap();
      native.release();
      const what = lo === MAGIC_WORDS[0] && hi === MAGIC_WORDS[1] ? `version ${version}, not ${VERSION}` : 'no change counter';
      throw systemError('EINVAL', 'MapViewOfFile', fields, `the section '${companion}' holds ${what}`);
    }
  }
  const { k32 } = api();
  const generation = (since: number) => `${companion}@${since}`;
  const count = () => Atomics.load(words, COUNT);
  let closed = false;
  /** Pending async waits of this counter: at a worker's end, each leaves (waiters -= 1). */
  const waiting = new Set<() => void>();
  const forget = releaseAtWorkerExit(() => {
    for (const leaveNow of waiting) leaveNow();
    native.unmap();
    native.release();
  });

  /** Steps 1-3 of a waiter: null when the count moved already, else the generation event's handle. */
  function enter(since: number): unknown {
    Atomics.add(words, WAITERS, 1);
    let handle: unknown;
    try {
      ({ handle } = openNamedEvent({
        name: generation(since),
        intent: 'open-or-create',
        manualReset: true,
        initialState: false,
        securityDescriptor: undefined,
      }));
    } catch (e) {
      Atomics.sub(words, WAITERS, 1);
      throw e;
    }
    if (count() !== since) {
      leave(handle);
      return null;
    }
    return handle;
  }

  function leave(handle: unknown): void {
    k32.CloseHandle(handle);
    Atomics.sub(words, WAITERS, 1);
  }

  return {
    count,
    notify(): number {
      const old = Atomics.add(words, COUNT, 1);
      if (Atomics.load(words, WAITERS) !== 0) {
        const handle = openEventIfAny(generation(old));
        if (handle !== null) {
          k32.SetEvent(handle);
          k32.CloseHandle(handle);
        }
      }
      return (old + 1) >>> 0;
    },
    waitSync(since: number, timeoutMs: number): number {
      if (count() !== since || timeoutMs === 0) return count();
      const handle = enter(since);
      if (handle === null) return count();
      try {
        waitForHandle(handle, timeoutMs, fields);
        return count();
      } finally {
        leave(handle);
      }
    },
    waitAsync(since: number, done: (count: number) => void): CancelWait {
      if (count() !== since) {
        done(count());
        return noop;
      }
      const handle = enter(since);
      if (handle === null) {
        done(count());
        return noop;
      }
      let settled = false;
      let wait;
      try {
        wait = watchHandle(
          handle,
          fields,
          () => {
            settled = true;
            waiting.delete(cancel);
            if (closed) {
              // Closed with this wait pending (the core cancels first, so this is a slip): the view
              // is gone, and nobody is left to tell.
              k32.CloseHandle(handle);
              return;
            }
            const now = count();
            leave(handle);
            done(now);
          },
          // Cancelled after the pool saw the event: the waiter left already; the handle goes now
          // (unless the cancel closed it, having been told nothing would come).
          (afterUnregistered) => {
            if (!afterUnregistered) k32.CloseHandle(handle);
          },
        );
      } catch (e) {
        leave(handle);
        throw e;
      }
      const cancel = () => {
        if (settled) return;
        settled = true;
        waiting.delete(cancel);
        Atomics.sub(words, WAITERS, 1);
        if (wait.cancel()) k32.CloseHandle(handle);
      };
      waiting.add(cancel);
      return cancel;
    },
    close() {
      if (closed) return;
      closed = true;
      forget();
      native.unmap();
      native.release();
    },
  };
}
