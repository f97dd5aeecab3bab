// The proof of holding a NamedMutex: what lock() resolves to. Unlocking goes through the guard, so
// a lock can only be given back by the code that holds it, and only once.
import { systemError } from '../errors.js';

/** What a guard needs from its mutex: to give the lock back, once. */
export interface GuardOwner {
  readonly name: string;
  /** Unlocks for `guard`; the mutex forgets it. */
  release(guard: MutexGuard): void;
}

export class MutexGuard implements Disposable {
  /**
   * True when the previous owner ended holding the mutex (it crashed, was killed, or its thread
   * ended): whatever the mutex guards may be half-written. As Win32's WAIT_ABANDONED and
   * pthreads' EOWNERDEAD say. The mutex itself works normally again.
   */
  readonly abandoned: boolean;
  #owner: GuardOwner | undefined;
  #why = '';

  /** @internal Made by NamedMutex only. */
  constructor(owner: GuardOwner, abandoned: boolean) {
    this.#owner = owner;
    this.abandoned = abandoned;
  }

  /** False once unlocked (or once its mutex was closed, which unlocks it). */
  get held(): boolean {
    return this.#owner !== undefined;
  }

  /** Gives the lock back. A second call throws `EPERM`. */
  unlock(): void {
    const owner = this.#owner;
    if (!owner) throw systemError('EPERM', 'unlock', {}, `the guard no longer holds the mutex (${this.#why})`);
    owner.release(this);
    this.#end('it was unlocked');
  }

  /** @internal The mutex let go of the lock itself (close). */
  end(why: string): void {
    this.#end(why);
  }

  #end(why: string): void {
    this.#owner = undefined;
    this.#why = why;
  }

  /** Unlocks unless already unlocked: `using guard = await mutex.lock()` releases at the block's end. */
  [Symbol.dispose](): void {
    if (this.#owner) this.unlock();
  }
}
