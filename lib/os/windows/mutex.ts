// A named mutex on Windows: the native Win32 mutex object, so that C programs calling
// CreateMutexW/OpenMutexW, WaitForSingleObject and ReleaseMutex on the same name (`Local\Foo`)
// are excluded by it and exclude it, and a holder that dies hands it on as WAIT_ABANDONED.
//
// Why an owner thread for lockAsync. A Win32 mutex belongs to the thread whose wait took it: only
// that thread may release it, and when it ends holding it the next waiter gets WAIT_ABANDONED.
// The JS thread cannot wait (the event loop must run), and a libuv threadpool thread must not be
// parked for the wait's length. The Windows thread pool (RegisterWaitForSingleObject, as events
// use in async-wait.ts) would take the mutex on one of its own wait threads: that thread becomes
// the owner and nobody can release it from the JS thread (ERROR_NOT_OWNER), and its callback gets
// only "signalled", not whether the wait was WAIT_ABANDONED. Releasing it there and taking it again
// on the JS thread would let another process in between and lose the abandonment. Ownership cannot
// be handed from one thread to another in Win32. So the waits that must wait run on a thread of
// our own, one per JS thread (a Node worker, mutex-owner-thread.ts): its WaitForMultipleObjects
// sees WAIT_ABANDONED_0 + i, it keeps the mutex for the JS thread, and unlock() relays the release
// to it synchronously, so the mutex is free when unlock() returns. Being a worker of the JS thread,
// it ends when that thread ends (Node stops a thread's workers with it), so a JS thread that ends
// holding a lock abandons it as Win32 does for its own threads. The uncontended path needs none
// of this: tryLock(), lockSync() and the first try of lockAsync() wait on the JS thread itself,
// which then owns the mutex directly.
//
// Not re-entrant: a Win32 mutex is recursive for its owner, ours must say 'deadlock'. This thread's
// held locks are tracked by object, named by its OS name (`Local\x` and `x` are one object; the
// name is valid while held, as some handle keeps the object alive), whichever thread owns them.
import type { CancelWait, LockAttempt, MutexRequest, NativeMutex } from '../../sync/backend.js';
import { releaseAtWorkerExit } from './async-wait.js';
import { attempt, mutexApi, notOwner, openNamedMutex, waitForMutex } from './mutex-api.js';
import { cancelOwnerRequest, grantedUnread, lockThroughOwner, unlockThroughOwner, type OwnerRequest } from './mutex-owner-thread.js';
import { winError } from './region.js';

/** The objects this JS thread holds, by key; and the small numbers the owner thread knows them by. */
const heldKeys = new Set<string>();
const keyNumbers = new Map<string, number>();
/** This JS thread's lock() calls waiting in an owner thread, by key. */
const pendingByKey = new Map<string, Set<OwnerRequest>>();
/** How long lockSync() waits at a time while a lock() of this thread waits for the same mutex. */
const LOOK_MS = 20;

function keyOf(prefix: string, base: string): string {
  return `${prefix === 'Global\\' ? 'Global' : 'Local'}\\${base}`;
}

function keyNumber(key: string): number {
  let n = keyNumbers.get(key);
  if (n === undefined) keyNumbers.set(key, (n = keyNumbers.size + 1));
  return n;
}

export function openWindowsMutex(request: MutexRequest): NativeMutex {
  const name = request.name.full;
  const fields = { region: name, path: name };
  const key = keyOf(request.name.prefix, request.name.base);
  const { handle, created } = openNamedMutex(name, request.intent, request.securityDescriptor);
  const k32 = mutexApi();
  /** How this handle holds the lock now: on this thread, through the owner thread, or not. */
  let held: 'self' | OwnerRequest | null = null;
  let closed = false;
  const forget = releaseAtWorkerExit(() => {
    closed = true;
    k32.CloseHandle(handle);
  });

  const took = (outcome: LockAttempt, how: 'self' | OwnerRequest): LockAttempt => {
    if (outcome === 'locked' || outcome === 'abandoned') {
      held = how;
      heldKeys.add(key);
    }
    return outcome;
  };

  const mutex: NativeMutex = {
    created,
    path: name,
    tryLock(): LockAttempt {
      if (heldKeys.has(key)) return 'deadlock';
      return took(attempt(k32.WaitForSingleObject(handle, 0) as number, fields), 'self');
    },
    lockSync(timeoutMs: number): LockAttempt {
      if (heldKeys.has(key)) return 'deadlock';
      const pending = pendingByKey.get(key);
      if (!pending) return took(waitForMutex(handle, timeoutMs, fields), 'self');
      // A lock() of this thread waits for the same mutex in the owner thread, which may take it
      // while this thread is blocked here: then this thread holds it, and waiting on would never
      // end. Look between short waits.
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        if ([...pending].some(grantedUnread)) return 'deadlock';
        const left = deadline - performance.now();
        const outcome = waitForMutex(handle, Math.max(0, Math.min(left, LOOK_MS)), fields);
        if (outcome !== 'busy') return took(outcome, 'self');
        if (left <= LOOK_MS) return 'busy';
      }
    },
    lockAsync(done): CancelWait {
      if (heldKeys.has(key)) {
        done('deadlock');
        return () => {};
      }
      const now = attempt(k32.WaitForSingleObject(handle, 0) as number, fields);
      if (now !== 'busy') {
        took(now, 'self');
        done(now as 'locked' | 'abandoned');
        return () => {};
      }
      let settled = false;
      const leave = () => {
        settled = true;
        const pending = pendingByKey.get(key);
        pending?.delete(ticket);
        if (pending?.size === 0) pendingByKey.delete(key);
      };
      const ticket = lockThroughOwner(handle, keyNumber(key), (grant) => {
        leave();
        // An error met after the wait began goes to `done`: it would be thrown on no caller's stack.
        if (grant instanceof Error) return (done as (outcome: Error) => void)(grant);
        if (heldKeys.has(key)) {
          // This thread took it meanwhile through another path (tryLock on another handle cannot,
          // as the owner thread holds it; kept for safety): give it back and say so.
          unlockThroughOwner(ticket);
          done('deadlock');
          return;
        }
        took(grant, ticket);
        done(grant);
      });
      let pending = pendingByKey.get(key);
      if (!pending) pendingByKey.set(key, (pending = new Set()));
      pending.add(ticket);
      return () => {
        if (settled) return;
        leave();
        cancelOwnerRequest(ticket);
      };
    },
    unlock(): void {
      if (held === null) throw notOwner(fields, 'this thread does not hold the mutex through this handle');
      if (held === 'self') {
        if (!k32.ReleaseMutex(handle)) throw winError(k32.GetLastError() as number, 'ReleaseMutex', fields, 'a mutex');
      } else {
        const error = unlockThroughOwner(held);
        if (error !== 0) throw winError(error, 'ReleaseMutex', fields, 'a mutex');
      }
      held = null;
      heldKeys.delete(key);
    },
    close(): void {
      if (closed) return;
      // The core unlocks first; should a lock still be held, it is released, not left to this thread.
      if (held !== null) mutex.unlock();
      closed = true;
      forget();
      k32.CloseHandle(handle);
    },
  };
  return mutex;
}
