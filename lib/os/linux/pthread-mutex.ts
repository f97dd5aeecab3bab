// glibc's robust, process-shared pthread mutex, called through koffi: the lock a NamedMutex is on
// Linux (mutex.ts), so that a C program linked with glibc takes part with pthread_mutex_lock().
// Robust: glibc keeps a locked mutex on the thread's robust list, which the kernel walks when the
// thread ends; a mutex still held then gets FUTEX_OWNER_DIED, one waiter is woken, and the next
// locker is told EOWNERDEAD. No timer and no liveness guess is involved.
import koffi, { type LibraryHandle } from 'koffi';

type KoffiFunction = ReturnType<LibraryHandle['func']>;

// <pthread.h>. Initialisation takes buffers; locking takes the mutex's address as a number
// (declared uintptr_t: koffi converts a number faster than it finds a typed array's memory, and
// these calls are the whole cost of an uncontended lock).
const PROTOTYPES = {
  pthread_mutexattr_init: 'int pthread_mutexattr_init(void *attr)',
  pthread_mutexattr_settype: 'int pthread_mutexattr_settype(void *attr, int type)',
  pthread_mutexattr_setpshared: 'int pthread_mutexattr_setpshared(void *attr, int pshared)',
  pthread_mutexattr_setrobust: 'int pthread_mutexattr_setrobust(void *attr, int robustness)',
  pthread_mutexattr_destroy: 'int pthread_mutexattr_destroy(void *attr)',
  pthread_mutex_init: 'int pthread_mutex_init(void *mutex, void *attr)',
  pthread_mutex_trylock: 'int pthread_mutex_trylock(uintptr_t mutex)',
  pthread_mutex_unlock: 'int pthread_mutex_unlock(uintptr_t mutex)',
  pthread_mutex_consistent: 'int pthread_mutex_consistent(uintptr_t mutex)',
  // glibc 2.30: an absolute CLOCK_MONOTONIC deadline, which a change of the wall clock cannot move.
  pthread_mutex_clocklock: 'int pthread_mutex_clocklock(uintptr_t mutex, int clockid, void *abstime)',
} as const;

export const PTHREAD_MUTEX_ERRORCHECK = 2; // <pthread.h>: relocking by the owner gives EDEADLK
export const PTHREAD_PROCESS_SHARED = 1; // <pthread.h>
export const PTHREAD_MUTEX_ROBUST = 1; // <pthread.h>

/** Bytes of glibc's pthread_mutex_t on 64-bit Linux (x86-64, arm64, riscv64, loongarch64). */
export const PTHREAD_MUTEX_BYTES = 40;
/** Where the lock word (__data.__lock) is in it: the futex the kernel's robust list points at. */
export const LOCK_WORD_OFFSET = 0;

// <linux/futex.h>: the lock word of a robust mutex.
export const FUTEX_WAITERS = 0x80000000;
export const FUTEX_OWNER_DIED = 0x40000000;
export const FUTEX_TID_MASK = 0x3fffffff;

export type PthreadMutex = { -readonly [K in keyof typeof PROTOTYPES]: KoffiFunction };

let bound: PthreadMutex | undefined;

/** The functions, from libc.so.6 (glibc 2.34 and later) or else libpthread.so.0. */
export function pthreadMutex(): PthreadMutex {
  if (bound) return bound;
  const libc = koffi.load('libc.so.6');
  let lib: LibraryHandle = libc;
  try {
    libc.func(PROTOTYPES.pthread_mutex_clocklock);
  } catch {
    lib = koffi.load('libpthread.so.0');
  }
  const fns = {} as PthreadMutex;
  for (const [name, prototype] of Object.entries(PROTOTYPES)) fns[name as keyof PthreadMutex] = lib.func(prototype);
  return (bound = fns);
}

let initial: Buffer | undefined;

/**
 * The bytes of a new robust, process-shared, error-checking mutex, as glibc's initialiser writes
 * them. Made once per thread: the same five calls would give the same bytes at every open.
 */
export function initialMutexBytes(): Buffer {
  return (initial ??= makeInitialMutexBytes());
}

function makeInitialMutexBytes(): Buffer {
  const p = pthreadMutex();
  const attr = Buffer.alloc(16); // sizeof(pthread_mutexattr_t) is 4 on x86-64, 8 on arm64
  const mutex = Buffer.alloc(PTHREAD_MUTEX_BYTES);
  const check = (r: unknown, what: string) => {
    if (r !== 0) throw new Error(`${what} failed with ${String(r)}`);
  };
  check(p.pthread_mutexattr_init(attr), 'pthread_mutexattr_init');
  check(p.pthread_mutexattr_settype(attr, PTHREAD_MUTEX_ERRORCHECK), 'pthread_mutexattr_settype');
  check(p.pthread_mutexattr_setpshared(attr, PTHREAD_PROCESS_SHARED), 'pthread_mutexattr_setpshared');
  check(p.pthread_mutexattr_setrobust(attr, PTHREAD_MUTEX_ROBUST), 'pthread_mutexattr_setrobust');
  check(p.pthread_mutex_init(mutex, attr), 'pthread_mutex_init');
  p.pthread_mutexattr_destroy(attr);
  return mutex;
}
