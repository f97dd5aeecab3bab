// A named event, as Win32's: auto-reset (set() releases one waiter) or manual-reset (set()
// releases every waiter until reset()). The platform-neutral core: arguments, promises,
// timeouts, aborts and close. The OS work is the backend's (backend.ts).
import type { OpenIntent } from '../region/backend.js';
import { closedError } from '../errors.js';
import { checkBoolean, checkOptionsObject, checkSecurityDescriptor, modeOrOwnerOnly, parseName } from '../validate.js';
import type { NativeEvent } from './backend.js';
import { syncBackend } from './os-sync.js';
import { PendingWaits } from './pending-waits.js';
import { checkSignal, checkTimeout } from './wait-options.js';

export interface EventOptions {
  /** A manual-reset event stays signalled, releasing every waiter, until `reset()`. Default false. */
  manualReset?: boolean;
  /** Signalled from the start. Default false. */
  initialState?: boolean;
  /** POSIX: permission bits of a new event. Default `0o600` (owner only). Ignored on Windows. */
  mode?: number;
  /** Windows: the new event's security descriptor, as an SDDL string. */
  securityDescriptor?: string;
}

export interface WaitOptions {
  /** Milliseconds; `Infinity` (the default) waits without limit. */
  timeout?: number;
  /** Rejects the wait with an `AbortError` when aborted. */
  signal?: AbortSignal;
}

const EVENT_OPTIONS = ['manualReset', 'initialState', 'mode', 'securityDescriptor'];
const WAIT_OPTIONS = ['timeout', 'signal'];

// An event dropped without close() is closed once it is garbage. A pending wait reaches the event
// (its callbacks hold `this`), so an event is never collected while someone waits on it.
const dropped = new FinalizationRegistry<NativeEvent>((native) => native.close());

/** A named event shared by processes: Win32's event object, on every OS. */
export class NamedEvent implements Disposable {
  /** The name as given. */
  readonly name: string;
  /** True only for the call that created the event. */
  readonly created: boolean;
  /** What the event is (an existing event keeps the kind it was created with). */
  readonly manualReset: boolean;
  #native: NativeEvent | undefined;
  readonly #waits = new PendingWaits();

  private constructor(name: string, native: NativeEvent) {
    this.name = name;
    this.created = native.created;
    this.manualReset = native.manualReset;
    this.#native = native;
    dropped.register(this, native, this);
  }

  static #open(name: unknown, options: unknown, intent: OpenIntent, known: readonly string[]): NamedEvent {
    const parsed = parseName(name);
    const o = checkOptionsObject(options, 'options', known);
    const sddl = checkSecurityDescriptor(o.securityDescriptor);
    const native = syncBackend().openEvent({
      name: parsed,
      intent,
      manualReset: o.manualReset === undefined ? false : checkBoolean(o.manualReset, 'options.manualReset'),
      initialState: o.initialState === undefined ? false : checkBoolean(o.initialState, 'options.initialState'),
      mode: modeOrOwnerOnly(o.mode),
      securityDescriptor: sddl,
    });
    return new NamedEvent(parsed.full, native);
  }

  /** Opens the event, creating it (with these options) when it does not exist, as `CreateEventW` does. */
  static open(name: string, options?: EventOptions): NamedEvent {
    return NamedEvent.#open(name, options, 'open-or-create', EVENT_OPTIONS);
  }

  /** Creates the event; throws `EEXIST` when the name is taken. */
  static create(name: string, options?: EventOptions): NamedEvent {
    return NamedEvent.#open(name, options, 'create', EVENT_OPTIONS);
  }

  /** Opens an existing event; throws `ENOENT` when there is none. */
  static openExisting(name: string): NamedEvent {
    return NamedEvent.#open(name, undefined, 'open', []);
  }

  #live(): NativeEvent {
    if (!this.#native) throw closedError(this.name, 'Named event');
    return this.#native;
  }

  get closed(): boolean {
    return this.#native === undefined;
  }

  /** Signals the event: releases one waiter (auto-reset) or every waiter until `reset()` (manual-reset). */
  set(): void {
    this.#live().set();
  }

  /** Makes the event non-signalled. */
  reset(): void {
    this.#live().reset();
  }

  /**
   * Resolves `true` once the event is signalled (taking the signal of an auto-reset event), or
   * `false` at the timeout. Never blocks the event loop nor holds a libuv threadpool thread.
   */
  wait(options?: WaitOptions): Promise<boolean> {
    let native: NativeEvent;
    let timeoutMs: number;
    let signal: AbortSignal | undefined;
    try {
      native = this.#live();
      const o = checkOptionsObject(options, 'options', WAIT_OPTIONS);
      timeoutMs = checkTimeout(o.timeout);
      signal = checkSignal(o.signal);
    } catch (e) {
      return Promise.reject(e);
    }
    const self = this; // held by the wait, so the event outlives it
    return this.#waits.start<boolean>({
      begin: (done) => native.waitAsync(() => done(self.#native !== undefined)),
      timeoutMs,
      atTimeout: () => native.waitSync(0),
      signal,
    });
  }

  /** Blocks this thread until the event is signalled (true) or `timeout` ms pass (false). For workers and scripts. */
  waitSync(timeout?: number): boolean {
    const native = this.#live();
    return native.waitSync(checkTimeout(timeout, 'timeout'));
  }

  /** Lets go of the event; pending waits reject with `ERR_SHM_CLOSED`. Safe to call again. */
  close(): void {
    const native = this.#native;
    if (!native) return;
    this.#waits.rejectAll(() => closedError(this.name, 'Named event'));
    this.#native = undefined;
    dropped.unregister(this);
    native.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
