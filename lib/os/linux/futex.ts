// Linux futexes on words of shared mappings: the kernel's wait queue keyed by the object and
// offset, so a wait in one process is woken by a wake in any other that maps the same object.
// Never FUTEX_PRIVATE_FLAG: a private futex is keyed by address space and would not cross
// processes. glibc's syscall() only moves registers, so a fixed prototype per use is safe where
// the variadic one would cost a type parse per call.
import os from 'node:os';
import koffi from 'koffi';
import { codeForErrno, systemError } from '../../errors.js';

// long syscall(long number, ...) as <unistd.h> declares it, fixed to futex(2)'s arguments.
const FUTEX_RESULT = 'long';
const FUTEX_PARAMETERS = ['long', 'uintptr_t', 'int', 'uint32_t', 'void *', 'void *', 'uint32_t'];

/**
 * The architectures this backend knows: 64-bit little-endian, where a timespec is two int64 and
 * the layout's words are little-endian. Elsewhere events and change counters are not offered.
 */
export const FUTEX_ARCHES: readonly string[] = ['x64', 'arm64', 'riscv64', 'loong64'];
/** <asm/unistd_64.h> (x86-64) and <asm-generic/unistd.h> (arm64, riscv64, loongarch64). */
export const SYS_futex = process.arch === 'x64' ? 202 : 98;
/** Linux 5.16: wait on up to FUTEX_WAITV_MAX futexes at once. The same number on every arch. */
export const SYS_futex_waitv = 449;
export const FUTEX_WAITV_MAX = 128; // <linux/futex.h>
export const FUTEX_WAIT = 0; // <linux/futex.h>
export const FUTEX_WAKE = 1;
/** <linux/futex.h> futex2 flag of a futex_waitv entry: a 32-bit word (and not FUTEX2_PRIVATE). */
export const FUTEX2_SIZE_U32 = 0x02;
export const CLOCK_MONOTONIC = 1; // <time.h>
/** Wake everyone (INT_MAX, as glibc's pthread_cond_broadcast does). */
export const WAKE_ALL = 0x7fffffff;

const { EINTR, EAGAIN, ETIMEDOUT } = os.constants.errno;
/**
 * The longest one wait sleeps in the kernel. A thread inside a system call cannot be stopped: a
 * worker in waitSync(Infinity) made worker.terminate(), and process.exit() (which terminates
 * every worker), wait until someone set the event. Callers loop until their own deadline, and V8
 * ends a terminated worker in that loop, between two sleeps. (Also keeps a timeout of 1e300 ms,
 * a valid argument, inside a timespec.)
 */
export const MAX_SLEEP_MS = 500;

export type FutexWaitResult = 'woken' | 'changed' | 'timeout';

export interface Futex {
  /**
   * Sleeps while the word at `address` holds `expected`, for at most `timeoutMs` and at most
   * MAX_SLEEP_MS: 'timeout' may come before `timeoutMs`, so callers loop until their deadline.
   */
  wait(address: bigint, expected: number, timeoutMs: number): FutexWaitResult;
  /** Wakes up to `count` sleepers on the word at `address`. */
  wake(address: bigint, count: number): void;
}

let bound: Futex | undefined;
let memmove: ((dest: unknown, src: unknown, n: number) => number | bigint) | undefined;

/** The address of a SharedArrayBuffer's memory (memmove of 0 bytes returns its destination). */
export function addressOf(view: Int32Array): bigint {
  bindFutexCalls();
  return BigInt(memmove!(view, view, 0));
}

/**
 * Binds the calls of this file now. The sync backend does it when it is chosen, inside the first
 * open of an event, mutex or change counter: a worker terminated while koffi defines a function
 * aborts the whole process (koffi 3.3.4), and a wait's first binding would otherwise come a
 * microtask after the call that started it, where a terminate() that follows the open can land.
 */
export function bindFutexCalls(): void {
  // void *memmove(void *dest, const void *src, size_t n) <string.h>, its result read as a number
  memmove ??= koffi.load('libc.so.6').func('memmove', 'uintptr_t', ['void *', 'void *', 'size_t']) as never;
  futex();
}

export function futex(): Futex {
  if (bound) return bound;
  const call = koffi.load('libc.so.6').func('syscall', FUTEX_RESULT, FUTEX_PARAMETERS);
  const timespec = Buffer.alloc(16); // struct timespec { int64 tv_sec; int64 tv_nsec; } on 64-bit Linux
  bound = {
    wait(address, expected, timeoutMs) {
      const ms = Math.min(Math.max(0, timeoutMs), MAX_SLEEP_MS);
      timespec.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
      timespec.writeBigInt64LE(BigInt(Math.floor((ms % 1000) * 1e6)), 8);
      const r = call(SYS_futex, address, FUTEX_WAIT, expected >>> 0, timespec, null, 0) as number;
      if (r === 0) return 'woken';
      const errno = koffi.errno();
      if (errno === EAGAIN) return 'changed';
      if (errno === ETIMEDOUT) return 'timeout';
      if (errno === EINTR) return 'woken'; // a signal: the caller looks again and waits the rest
      throw systemError(codeForErrno(errno), 'futex');
    },
    wake(address, count) {
      call(SYS_futex, address, FUTEX_WAKE, count, null, null, 0);
    },
  };
  return bound;
}
