// A named mutex shared by processes and threads, as Win32's, on every OS: a holder that dies
// holding it hands it to the next locker, which is told (`abandoned`). The platform-neutral core:
// arguments, guards, promises, timeouts, aborts and close. The OS work is the backend's.
import type { OpenIntent } from '../region/backend.js';
import { closedError, invalidArgType, systemError } from '../errors.js';
import { checkOptionsObject, checkSecurityDescriptor, modeOrOwnerOnly, parseName } from '../validate.js';
import type { LockAttempt, NativeMutex } from './backend.js';
import { MutexGuard, type GuardOwner } from './mutex-guard.js';
import { syncBackend } from './os-sync.js';
import { PendingWaits } from './pending-waits.js';
import { checkSignal, checkTimeout } from './wait-options.js';
import type { WaitOptions } from './named-event.js';

export interface MutexOptions {
  /** POSIX: permission bits of a new mutex. Default `0o600` (owner only). Ignored on Windows. */
  mode?: number;
  /** Windows: the new mutex's security descriptor, as an SDDL string. */
  securityDescriptor?: string;
}

export type LockOptions = WaitOptions;

const MUTEX_OPTIONS = ['mode', 'securityDescriptor'];
const LOCK_OPTIONS = ['timeout', 'signal'];

// A mutex dropped without close() is closed once it is garbage; a held guard reaches its mutex,
// and a pending lock() holds it too, so neither is ever cut short by this.
const dropped = new FinalizationRegistry<NativeMutex>((native) => native.close());

export class NamedMutex implements Disposable {
  /** The name as given. */
  readonly name: string;
  /** True only for the call that created the mutex. */
  readonly created: boolean;
  #native: NativeMutex | undefined;
  #path: string;
  /** The guard of the lock this handle holds. */
  #guard: MutexGuard | undefined;
  readonly #waits = new PendingWaits();
  readonly #owner: GuardOwner;

  private constructor(name: string, native: NativeMutex) {
    this.name = name;
    this.created = native.created;
    this.#native = native;
    this.#path = native.path;
    dropped.register(this, native, this);
    const self = this;
    this.#owner = {
      name,
      release(guard) {
        if (self.#guard !== guard) throw systemError('EPERM', 'unlock', self.#fields(), 'the guard does not hold this mutex');
        self.#native!.unlock();
        self.#guard = undefined;
      },
    };
  }

  static #open(name: unknown, options: unknown, intent: OpenIntent, known: readonly string[]): NamedMutex {
    const parsed = parseName(name);
    const o = checkOptionsObject(options, 'options', known);
    const sddl = checkSecurityDescriptor(o.securityDescriptor);
    const native = syncBackend().openMutex({
      name: parsed,
      intent,
      mode: modeOrOwnerOnly(o.mode),
      securityDescriptor: sddl,
    });
    return new NamedMutex(parsed.full, native);
  }

  /** Opens the mutex, creating it when it does not exist, as `CreateMutexW` does. */
  static open(name: string, options?: MutexOptions): NamedMutex {
    return NamedMutex.#open(name, options, 'open-or-create', MUTEX_OPTIONS);
  }

  /** Creates the mutex; throws `EEXIST` when the name is taken. */
  static create(name: string, options?: MutexOptions): NamedMutex {
    return NamedMutex.#open(name, options, 'create', MUTEX_OPTIONS);
  }

  /** Opens an existing mutex; throws `ENOENT` when there is none. */
  static openExisting(name: string): NamedMutex {
    return NamedMutex.#open(name, undefined, 'open', []);
  }

  get closed(): boolean {
    return this.#native === undefined;
  }

  /** True while this handle holds the lock. */
  get locked(): boolean {
    return this.#guard !== undefined;
  }

  #fields() {
    return { region: this.name, path: this.#path };
  }

  #live(): NativeMutex {
    if (!this.#native) throw closedError(this.name, 'Named mutex');
    return this.#native;
  }

  #deadlock(syscall: string): Error {
    return systemError('EDEADLK', syscall, this.#fields(), 'this thread holds the mutex already, and it is not re-entrant');
  }

  /** The guard for an attempt that got the lock; null when busy. */
  #take(attempt: LockAttempt, syscall: string): MutexGuard | null {
    if (attempt === 'busy') return null;
    if (attempt === 'deadlock') throw this.#deadlock(syscall);
    this.#guard = new MutexGuard(this.#owner, attempt === 'abandoned');
    return this.#guard;
  }

  /**
   * Resolves with a guard once this thread holds the lock. Rejects with `ETIMEDOUT` after
   * `timeout` ms, an `AbortError` when `signal` aborts, `EDEADLK` when this thread holds it
   * already, `ERR_SHM_CLOSED` when the mutex is closed first. Never blocks the event loop nor
   * holds a libuv threadpool thread while it waits.
   */
  lock(options?: LockOptions): Promise<MutexGuard> {
    let native: NativeMutex;
    let timeoutMs: number;
    let signal: AbortSignal | undefined;
    try {
      native = this.#live();
      const o = checkOptionsObject(options, 'options', LOCK_OPTIONS);
      timeoutMs = checkTimeout(o.timeout);
      signal = checkSignal(o.signal);
      if (this.#guard) throw this.#deadlock('lock');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#waits
      .start<LockAttempt | Error>({
        begin: (done) => native.lockAsync(done),
        timeoutMs,
        // Runs in a timer: an error thrown there would be uncaught, so it is handed on instead.
        atTimeout: () => {
          try {
            return native.tryLock();
          } catch (e) {
            return e as Error;
          }
        },
        signal,
      })
      .then((attempt) => {
        if (attempt instanceof Error) throw attempt;
        // Closed between the lock and this continuation: close() let go of it already.
        if (!this.#native) throw closedError(this.name, 'Named mutex');
        const guard = this.#take(attempt, 'lock');
        if (guard) return guard;
        throw systemError('ETIMEDOUT', 'lock', this.#fields(), `the mutex was not free within ${timeoutMs} ms`);
      });
  }

  /** Locks at once if the mutex is free; null when another holds it. Never waits. */
  tryLock(): MutexGuard | null {
    const native = this.#live();
    if (this.#guard) throw this.#deadlock('tryLock');
    return this.#take(native.tryLock(), 'tryLock');
  }

  /**
   * Blocks this thread until it holds the lock, for at most `timeout` ms (default: no limit);
   * throws `ETIMEDOUT` then. For workers and scripts: on the main thread it blocks the event loop.
   */
  lockSync(timeout?: number): MutexGuard {
    const native = this.#live();
    const timeoutMs = checkTimeout(timeout, 'timeout');
    if (this.#guard) throw this.#deadlock('lockSync');
    const guard = this.#take(native.lockSync(timeoutMs), 'lockSync');
    if (guard) return guard;
    throw systemError('ETIMEDOUT', 'lockSync', this.#fields(), `the mutex was not free within ${timeoutMs} ms`);
  }

  /** Runs `fn` holding the lock and unlocks when it returns, throws or its promise settles. */
  async withLock<T>(fn: (guard: MutexGuard) => T | Promise<T>, options?: LockOptions): Promise<T> {
    if (typeof fn !== 'function') throw invalidArgType('fn', 'of type function', fn);
    const guard = await this.lock(options);
    try {
      return await fn(guard);
    } finally {
      // fn may have unlocked it itself, or closed the mutex.
      if (guard.held) guard.unlock();
    }
  }

  /** Unlocks a lock still held, rejects pending locks with `ERR_SHM_CLOSED`, and lets go. Safe to call again. */
  close(): void {
    const native = this.#native;
    if (!native) return;
    this.#waits.rejectAll(() => closedError(this.name, 'Named mutex'));
    if (this.#guard) {
      native.unlock();
      this.#guard.end('its mutex was closed');
      this.#guard = undefined;
    }
    this.#native = undefined;
    dropped.unregister(this);
    native.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
