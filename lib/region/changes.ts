// A region's change counter: `notify()` and `waitForChange()`. The counter lives in a companion
// object beside the region (the region's own bytes stay exactly the sample's), opened on first
// use and closed with the region.
import { checkOptionsObject, type ParsedName } from '../validate.js';
import type { NativeChangeCounter } from '../sync/backend.js';
import { syncBackend } from '../sync/os-sync.js';
import { PendingWaits } from '../sync/pending-waits.js';
import { checkCount, checkSignal, checkTimeout } from '../sync/wait-options.js';

export interface ChangeWaitOptions {
  /** The count last seen; by default the count now, so the wait is for the next change. */
  since?: number;
  /** Milliseconds; `Infinity` (the default) waits without limit. */
  timeout?: number;
  /** Rejects the wait with an `AbortError` when aborted. */
  signal?: AbortSignal;
}

export type ChangeWaitSyncOptions = Omit<ChangeWaitOptions, 'signal'>;

const ASYNC_OPTIONS = ['since', 'timeout', 'signal'];
const SYNC_OPTIONS = ['since', 'timeout'];

export class RegionChanges {
  readonly #name: ParsedName;
  readonly #mode: number;
  #counter: NativeChangeCounter | undefined;
  readonly #waits = new PendingWaits();

  constructor(name: ParsedName, mode: number) {
    this.#name = name;
    this.#mode = mode;
  }

  #open(): NativeChangeCounter {
    return (this.#counter ??= syncBackend().openChangeCounter({ name: this.#name, mode: this.#mode }));
  }

  count(): number {
    return this.#open().count();
  }

  notify(): number {
    return this.#open().notify();
  }

  wait(options: unknown): Promise<number> {
    let counter: NativeChangeCounter;
    let since: number;
    let timeoutMs: number;
    let signal: AbortSignal | undefined;
    try {
      const o = checkOptionsObject(options, 'options', ASYNC_OPTIONS);
      timeoutMs = checkTimeout(o.timeout);
      signal = checkSignal(o.signal);
      // Checked before the counter is opened: a refused call creates nothing.
      const given = o.since === undefined ? undefined : checkCount(o.since);
      counter = this.#open();
      since = given ?? counter.count();
    } catch (e) {
      return Promise.reject(e);
    }
    // A region dropped without close() leaves its counter open (nothing collects it), so a wait
    // in progress never sees its memory go.
    return this.#waits.start<number>({
      begin: (done) => counter.waitAsync(since, done),
      timeoutMs,
      atTimeout: () => counter.count(),
      signal,
    });
  }

  waitSync(options: unknown): number {
    const o = checkOptionsObject(options, 'options', SYNC_OPTIONS);
    const timeoutMs = checkTimeout(o.timeout);
    const given = o.since === undefined ? undefined : checkCount(o.since);
    const counter = this.#open();
    const since = given ?? counter.count();
    return counter.waitSync(since, timeoutMs);
  }

  close(reason: () => Error): void {
    this.#waits.rejectAll(reason);
    this.#counter?.close();
    this.#counter = undefined;
  }
}
