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

export interface SyncBackend {
  openEvent(request: EventRequest): NativeEvent;
  /** Opens (or creates) the companion object that holds a region's change counter. */
  openChangeCounter(request: ChangeCounterRequest): NativeChangeCounter;
}
