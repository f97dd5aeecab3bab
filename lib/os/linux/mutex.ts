// A named mutex on Linux: a 64-byte shm object (object-kinds.ts) holding glibc's robust,
// process-shared, error-checking pthread_mutex_t at offset 16 (pthread-mutex.ts). Its owner is a
// thread, as glibc and the kernel's robust list count it: a thread that ends holding it (SIGKILL,
// worker.terminate(), process.exit()) has it marked FUTEX_OWNER_DIED by the kernel, and the next
// locker gets it with EOWNERDEAD, which we make consistent at once and report as `abandoned`.
//
// Locking never waits inside glibc on this thread's event loop: tryLock is pthread_mutex_trylock,
// which makes no system call when the mutex is free. An asynchronous wait sets FUTEX_WAITERS in
// the lock word (as glibc's own waiters do, so that the unlocker wakes one sleeper) and lets the
// futex watcher thread (futex-watcher.ts) sleep on the word; when the word changes this thread
// tries again. Because the unlocker wakes only one sleeper, a wake-up this thread receives and
// does not use is passed on (at cancel, and by the watcher: Watch.handOn), and a lock taken after waiting
// keeps FUTEX_WAITERS set, as glibc's pthread_mutex_lock does, so that the next unlock wakes the
// others.
//
// The mapping of a mutex this thread holds is never unmapped: the robust list points into it.
// close() unlocks first; a worker that ends keeps its mappings until its OS thread is gone
// (posix/orphan-mappings.ts), so the kernel can still mark what it held.
import os from 'node:os';
import type { CancelWait, LockAttempt, MutexRequest, NativeMutex } from '../../sync/backend.js';
import type { RegionBackend } from '../../region/backend.js';
import { codeForErrno, systemError } from '../../errors.js';
import { MUTEX_OBJECT_BYTES, MUTEX_OFFSET, mutexHeader } from '../posix/object-kinds.js';
import { CLOCK_MONOTONIC, MAX_SLEEP_MS, futex } from './futex.js';
import { futexWatcher, type Watch } from './futex-watcher.js';
import { FUTEX_WAITERS, initialMutexBytes, pthreadMutex } from './pthread-mutex.js';
import { LOCK, MutexWords } from './mutex-words.js';
import { PendingByObject } from './pending-by-object.js';
import { kernelThreadId } from '../posix/thread-id.js';
import { requireZeroCopy } from '../../region/zero-copy.js';

const { EBUSY, EDEADLK, ETIMEDOUT, EINTR } = os.constants.errno;
const EOWNERDEAD = 130; // <errno.h> (Linux); Node's os.constants.errno lacks it
const ENOTRECOVERABLE = 131; // <errno.h> (Linux)


export function openLinuxMutex(regions: RegionBackend, request: MutexRequest): NativeMutex {
  requireZeroCopy('NamedMutex on Linux (its owner word is a robust futex in shared memory)');
  const p = pthreadMutex();
  const native = regions.open({
    name: request.name,
    intent: request.intent,
    size: MUTEX_OBJECT_BYTES,
    readOnly: false,
    mode: request.mode,
    persist: false,
    securityDescriptor: undefined,
    kind: 'mutex',
    header: mutexHeader(initialMutexBytes()),
  });
  const fields = { region: request.name.full, path: native.path };
  const state = new MutexWords(native.view!, MUTEX_OBJECT_BYTES, fields, kernelThreadId);
  const words = state.words;
  /** The pthread_mutex_t's address in this process, as the pthread calls take it. */
  const mutex = Number(native.address) + MUTEX_OFFSET;
  const lockAddress = native.address + BigInt(LOCK * 4);
  {
    const bad = state.wrongKind();
    if (bad) {
      native.release();
      native.unmap();
      throw bad;
    }
  }
  const checked = () => state.check();
  const key = native.identity?.() ?? native.path;
  const fx = futex();
  const deadline = Buffer.alloc(16); // struct timespec, 64-bit
  // This thread's pending locks on the object, shared by its handles.
  const pending = new PendingByObject(key);
  const heldHere = () => state.heldHere();

  /** This handle locked it (its mapping is the one on the robust list). */
  let held = false;

  function outcome(r: number, syscall: string): LockAttempt {
    const o = attemptOf(r, syscall);
    if (o === 'locked' || o === 'abandoned') {
      held = true;
      state.noteHolding();
    }
    return o;
  }

  function attemptOf(r: number, syscall: string): LockAttempt {
    if (r === 0) return 'locked';
    if (r === EBUSY || r === ETIMEDOUT) return 'busy';
    if (r === EDEADLK) return 'deadlock';
    if (r === EOWNERDEAD) {
      // The data may be half-written, but the lock itself is sound again: as Win32 hands over an
      // abandoned mutex, the caller is told, and nobody after it is.
      p.pthread_mutex_consistent(mutex);
      return 'abandoned';
    }
    // ENOTRECOVERABLE: a program unlocked it after EOWNERDEAD without pthread_mutex_consistent().
    if (r === ENOTRECOVERABLE && state.letGoOfUnrecoverable()) fx.wake(lockAddress, 0x7fffffff);
    throw systemError(codeForErrno(r), syscall, fields);
  }

  /** Wakes one sleeper, in place of a wake-up this thread may have taken and will not use. */
  function passOnWake(): void {
    if ((Atomics.load(words, LOCK) & FUTEX_WAITERS) !== 0) fx.wake(lockAddress, 1);
  }

  /** Lets this thread's pending waits, oldest first, try for the lock now. */
  const serve = () => pending.serve();

  return {
    created: native.created,
    path: native.path,
    tryLock() {
      checked();
      return outcome(p.pthread_mutex_trylock(mutex) as number, 'pthread_mutex_trylock');
    },
    lockSync(timeoutMs) {
      checked();
      const first = outcome(p.pthread_mutex_trylock(mutex) as number, 'pthread_mutex_trylock');
      if (first !== 'busy') return first;
      const end = process.hrtime.bigint() + BigInt(Math.round(Math.min(timeoutMs, 1e15) * 1e6));
      for (;;) {
        const now = process.hrtime.bigint(); // CLOCK_MONOTONIC, as libuv reads it
        if (now >= end) return 'busy';
        const slice = now + BigInt(MAX_SLEEP_MS) * 1_000_000n;
        const at = slice < end ? slice : end;
        deadline.writeBigInt64LE(at / 1_000_000_000n, 0);
        deadline.writeBigInt64LE(at % 1_000_000_000n, 8);
        checked();
        const r = p.pthread_mutex_clocklock(mutex, CLOCK_MONOTONIC, deadline) as number;
        if (r === ETIMEDOUT || r === EINTR) continue;
        return outcome(r, 'pthread_mutex_clocklock');
      }
    },
    lockAsync(done): CancelWait {
      checked();
      if (heldHere()) {
        done('deadlock');
        return () => {};
      }
      serve();
      if (!pending.any) {
        const now = outcome(p.pthread_mutex_trylock(mutex) as number, 'pthread_mutex_trylock');
        if (now !== 'busy') {
          done(now);
          return () => {};
        }
      }
      let live = true;
      let stop: (() => void) | undefined;
      const watch: Watch = {
        address: lockAddress,
        expected: 0,
        handOn: true,
        poll: () => {
          // Sleep on the word only while someone holds it with FUTEX_WAITERS set, so that their
          // unlock wakes the watcher. Freed between the try and the flag: try again, or the
          // watcher would sleep on a free word that no unlock will ever wake.
          for (let tries = 0; ; tries++) {
            serve();
            if (!live) return true;
            const v = state.announceWaiter();
            if (v !== 0 || tries >= 100) {
              watch.expected = v || Atomics.load(words, LOCK);
              return false;
            }
          }
        },
      };
      const leave = (used: boolean) => {
        if (!live) return;
        live = false;
        pending.remove(attempt);
        stop?.();
        // The watcher may have taken the unlocker's one wake-up for this wait: pass it on. One it
        // takes later, while it still sleeps on the word, it passes on itself (handOn).
        if (!used) passOnWake();
      };
      const attempt = (): boolean => {
        if (!live || !pending.first(attempt)) return false;
        // Held by this thread through another wait or lockSync: this one waits for its unlock.
        if (heldHere()) return false;
        let now: LockAttempt;
        try {
          checked();
          now = outcome(p.pthread_mutex_trylock(mutex) as number, 'pthread_mutex_trylock');
        } catch (e) {
          // ENOTRECOVERABLE, or a kind changed under us: this wait's error. Thrown here it would
          // reach the watcher's message handler (an uncaught exception) or another handle's unlock().
          leave(false);
          done(e as Error);
          return true;
        }
        if (now === 'busy') {
          watch.expected = state.announceWaiter();
          // Freed between the try and the flag: look again rather than sleep on a stale value.
          if (watch.expected === 0) return attempt();
          return false;
        }
        // Taken after sleeping: keep FUTEX_WAITERS, or the others asleep on the word stay asleep.
        Atomics.or(words, LOCK, FUTEX_WAITERS);
        leave(true);
        done(now as Exclude<LockAttempt, 'busy'>);
        return true;
      };
      pending.add(attempt);
      stop = futexWatcher().watch(watch);
      return () => leave(false);
    },
    unlock() {
      // What a writer changed while this thread held it goes back first: glibc must unlock it as
      // the kind it was locked as, and take it off this thread's robust list where it put it.
      state.restoreHolding();
      const r = p.pthread_mutex_unlock(mutex) as number;
      if (r !== 0) throw systemError(codeForErrno(r), 'pthread_mutex_unlock', fields, r === os.constants.errno.EPERM ? 'the mutex is not held by this thread' : undefined);
      held = false;
      serve();
    },
    close() {
      // Never unmap a mutex locked through this mapping: the kernel's robust list points into it.
      if (held && heldHere()) {
        state.restoreHolding();
        p.pthread_mutex_unlock(mutex);
      }
      native.release();
      native.unmap();
    },
  };
}
