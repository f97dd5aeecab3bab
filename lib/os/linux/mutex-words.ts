// The words of a mutex object (mutex.ts) that glibc trusts, and what a holder does so that another
// writer of the object cannot turn them against it. glibc keeps, inside the shared mutex, the
// kind it drives it as and, while it is held, the owner's place on its thread's robust list
// (pointers into the holder's own memory, which its unlock writes through). Anyone who may write
// the object may change them. So: the kind is checked before every call (glibc aborts the process
// on some kinds: a priority-inheritance one with FUTEX_OWNER_DIED set, or a robust one whose owner
// is gone), and a holder notes __owner and the list pointers when it locks and puts them back
// before it unlocks. What is left is a window of a few instructions inside glibc (README).
import { systemError, type SharedMemoryErrorFields } from '../../errors.js';
import { MUTEX_OFFSET } from '../posix/object-kinds.js';
import { FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS, LOCK_WORD_OFFSET, initialMutexBytes } from './pthread-mutex.js';

// Word indexes in the 64-byte object (glibc's 64-bit pthread_mutex_t starts at MUTEX_OFFSET).
export const LOCK = (MUTEX_OFFSET + LOCK_WORD_OFFSET) / 4;
const OWNER = (MUTEX_OFFSET + 8) / 4; // __data.__owner
const KIND = (MUTEX_OFFSET + 16) / 4; // __data.__kind: type, robust, pshared, PI and PP bits
const LIST = (MUTEX_OFFSET + 24) / 4; // __data.__list.__prev, __next: two 64-bit pointers, as four 32-bit words

let expectedKind: number | undefined;
/** The __kind glibc's initialiser writes for our robust, process-shared, error-checking mutex (0x92). */
export function mutexKind(): number {
  return (expectedKind ??= Buffer.from(initialMutexBytes()).readUInt32LE(16));
}

export class MutexWords {
  readonly words: Uint32Array;
  /** The list pointers as 32-bit halves: compared without making a BigInt on every lock. */
  readonly #list: Uint32Array;
  readonly #fields: SharedMemoryErrorFields;
  readonly #threadId: () => number;
  readonly #noted = new Uint32Array(5); // __owner, then the four halves of __list
  #hasNoted = false;

  constructor(view: ArrayBuffer, bytes: number, fields: SharedMemoryErrorFields, threadId: () => number) {
    this.words = new Uint32Array(view, 0, bytes / 4);
    this.#list = new Uint32Array(view, LIST * 4, 4);
    this.#fields = fields;
    this.#threadId = threadId;
  }

  /** Why the object's mutex is not one to drive (its kind), or undefined. */
  // Plain reads below, not Atomics.load (some 11 ns each, and these run on every lock): an aligned
  // 32-bit read does not tear, and a writer racing the holder gains nothing from stale values.
  wrongKind(): Error | undefined {
    const kind = this.words[KIND]!;
    if (kind === mutexKind()) return undefined;
    return systemError('EINVAL', 'pthread_mutex_lock', this.#fields, `the object's pthread mutex is not a robust, process-shared, error-checking one (__kind 0x${kind.toString(16)}, not 0x${mutexKind().toString(16)})`);
  }

  /** Throws unless the kind is ours. */
  check(): void {
    const bad = this.wrongKind();
    if (bad) throw bad;
  }

  heldHere(): boolean {
    return (this.words[LOCK]! & FUTEX_TID_MASK) === this.#threadId();
  }

  /** Right after this thread locked it: what its unlock will trust. */
  noteHolding(): void {
    const noted = this.#noted;
    noted[0] = this.words[OWNER]!;
    for (let i = 0; i < 4; i++) noted[i + 1] = this.#list[i]!;
    this.#hasNoted = true;
  }

  /** Right before this thread unlocks it: puts back what a writer changed meanwhile. */
  restoreHolding(): void {
    if (!this.heldHere()) return;
    if (this.wrongKind()) Atomics.store(this.words, KIND, mutexKind());
    const noted = this.#noted;
    if (this.#hasNoted) {
      if (this.words[OWNER] !== noted[0]) this.words[OWNER] = noted[0]!;
      for (let i = 0; i < 4; i++) if (this.#list[i] !== noted[i + 1]) this.#list[i] = noted[i + 1]!;
    }
    this.#hasNoted = false;
  }

  /** Sets FUTEX_WAITERS while someone holds the lock; the word it then holds, or 0 if free. */
  announceWaiter(): number {
    for (;;) {
      const v = Atomics.load(this.words, LOCK);
      if ((v & FUTEX_TID_MASK) === 0 || (v & FUTEX_OWNER_DIED) !== 0) return 0;
      if ((v & FUTEX_WAITERS) !== 0) return v;
      if (Atomics.compareExchange(this.words, LOCK, v, (v | FUTEX_WAITERS) >>> 0) === v) return (v | FUTEX_WAITERS) >>> 0;
    }
  }

  /**
   * glibc's pthread_mutex_trylock (2.36 at least) returns ENOTRECOVERABLE with our thread id left
   * in the lock word (it unlocks only `if (oldval == id)`, and oldval is then 0): this thread would
   * then get EDEADLK, others EBUSY, and a pthread_mutex_lock() of theirs would sleep for ever.
   * Nobody can hold a mutex that is not recoverable, so the word goes back to 0. Returns whether
   * sleepers must be woken (to be told ENOTRECOVERABLE in turn).
   */
  letGoOfUnrecoverable(): boolean {
    for (;;) {
      const v = Atomics.load(this.words, LOCK);
      if ((v & FUTEX_TID_MASK) !== this.#threadId()) return false;
      if (Atomics.compareExchange(this.words, LOCK, v, 0) === v) return (v & FUTEX_WAITERS) !== 0;
    }
  }
}
