// What every OS backend gives the synchronisation core: named events and the change counters of
// regions. Interface types only: the choice of backend is made apart (os-sync.ts), so backends
// can import these types without importing each other.
import type { OpenIntent } from '../region/backend.js';
import type { ParsedName } from '../validate.js';

export interface EventRequest {
  name: ParsedName;
  intent: OpenIntent;
  manualReset: boolean;
  initialState: boolean;
  /** POSIX: permission bits of a new event object. */
  mode: number;
  /** Windows: the new event's security descriptor, as an SDDL string. */
  securityDescriptor: string | undefined;
}

/** Stops a wait begun with `waitAsync`. Afterwards `done` is never called and nothing is consumed. */
export type CancelWait = () => void;

export interface NativeEvent {
  created: boolean;
  /** What the object is: an event that already existed keeps the kind it was created with. */
  manualReset: boolean;
  /** The OS name, for messages. */
  path: string;
  set(): void;
  reset(): void;
  /** Blocks this thread for at most `timeoutMs` (`Infinity`: no limit). True when signalled; an auto-reset event is then consumed. */
  waitSync(timeoutMs: number): boolean;
  /**
   * Calls `done` on this thread once the event is signalled (consuming an auto-reset event),
   * perhaps before returning. Never parks a libuv threadpool thread.
   */
  waitAsync(done: () => void): CancelWait;
  /** Lets go of the event. The core cancels every pending wait first. */
  close(): void;
}

/** The change counter of a region, in a companion object beside it. */
export interface NativeChangeCounter {
  /** The counter now (an unsigned 32-bit number that wraps). */
  count(): number;
  /** Adds one and wakes every waiter; makes no system call when nobody waits. Returns the new count. */
  notify(): number;
  /** Blocks this thread until the count differs from `since` or `timeoutMs` passes; returns the count then. */
  waitSync(since: number, timeoutMs: number): number;
  /** Calls `done(count)` on this thread once the count differs from `since`, perhaps before returning. */
  waitAsync(since: number, done: (count: number) => void): CancelWait;
  close(): void;
}

export interface ChangeCounterRequest {
  /** The region's name: the companion's name is made from it. */
  name: ParsedName;
  /** POSIX: permission bits of the region, from which the companion's are made. */
  mode: number;
}

export interface MutexRequest {
  name: ParsedName;
  intent: OpenIntent;
  /** POSIX: permission bits of a new mutex object. */
  mode: number;
  /** Windows: the new mutex's security descriptor, as an SDDL string. */
  securityDescriptor: string | undefined;
}

/**
 * What an attempt to lock gives: `locked`; `abandoned` (locked, and the previous owner ended
 * holding it: WAIT_ABANDONED, EOWNERDEAD; the lock is usable again at once); `busy` (another
 * thread holds it); `deadlock` (this thread holds it already, through any handle of the object).
 */
export type LockAttempt = 'locked' | 'abandoned' | 'busy' | 'deadlock';
export type Acquired = 'locked' | 'abandoned';

/**
 * A named mutex. Its owner is the thread that locked it (as in Win32 and pthreads): only that
 * thread unlocks it, and a thread that ends holding it abandons it to the next locker.
 */
export interface NativeMutex {
  created: boolean;
  /** The OS name, for messages. */
  path: string;
  /** Locks it if it is free now; never waits. */
  tryLock(): LockAttempt;
  /**
   * Blocks this thread for at most `timeoutMs` (`Infinity`: no limit) until it holds the lock;
   * `busy` at the timeout. Sleeps in slices, so that a worker can still be terminated.
   */
  lockSync(timeoutMs: number): LockAttempt;
  /**
   * Calls `done` on this thread once this thread holds the lock (perhaps before returning), or
   * with `deadlock` if it holds it already. Never parks a libuv threadpool thread. After
   * the cancel, `done` is never called and no lock is kept. An error met after the wait began
   * (ENOTRECOVERABLE, say) is handed to `done`, never thrown: it would be thrown on no caller's stack.
   */
  lockAsync(done: (outcome: Exclude<LockAttempt, 'busy'> | Error) => void): CancelWait;
  /** Releases the lock this thread holds; throws EPERM when it does not hold it. */
  unlock(): void;
  /** Lets go of the object. The core unlocks a lock still held and cancels pending waits first. */
  close(): void;
}

export interface SyncBackend {
  openEvent(request: EventRequest): NativeEvent;
  openMutex(request: MutexRequest): NativeMutex;
  /** Opens (or creates) the companion object that holds a region's change counter. */
  openChangeCounter(request: ChangeCounterRequest): NativeChangeCounter;
}
