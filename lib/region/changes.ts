// A region's change counter: `notify()` and `waitForChange()`. The counter lives in a companion
// object beside the region (the region's own bytes stay exactly the sample's), opened on first
// use and closed with the region: by close(), once a region dropped without close() is garbage
// (a pending wait keeps its region reachable), or at the end of a worker thread.
import { isMainThread } from 'node:worker_threads';
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

/** The counters this thread has open. */
const opened = new Set<RegionChanges>();

/** Lets go of the counter of a region that was dropped without close(). */
const dropped = new FinalizationRegistry<RegionChanges>((changes) => changes.letGo());

// A worker that ends runs no finalizer: without this its counters would stay held (their names in
// /dev/shm) after its regions were let go (region/letting-go.ts). The main thread's end releases all.
if (!isMainThread) {
  process.once('exit', () => {
    for (const changes of [...opened]) changes.letGo();
  });
}

/** Lets go of `owner`'s counter once `owner` (a region) is garbage, unless `forget` is called first. */
export function letGoWhenDropped(owner: object, changes: RegionChanges): { forget(): void } {
  dropped.register(owner, changes, changes);
  return { forget: () => dropped.unregister(changes) };
}

/**
 * Regions with pending waits, and how many each has: a pending wait keeps its region reachable,
 * so that the region's finalizer cannot let go of the counter under the wait. Held here rather
 * than by the wait's callback, which JavaScriptCore (Bun) does not make capture a variable it
 * only reads with `void`.
 */
const pendingWaitsOf = new Map<object, number>();

function keptWhilePending<T>(keep: object, pending: Promise<T>): Promise<T> {
  pendingWaitsOf.set(keep, (pendingWaitsOf.get(keep) ?? 0) + 1);
  const release = () => {
    const left = pendingWaitsOf.get(keep)! - 1;
    if (left === 0) pendingWaitsOf.delete(keep);
    else pendingWaitsOf.set(keep, left);
  };
  pending.then(release, release);
  return pending;
}

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
    if (!this.#counter) {
      this.#counter = syncBackend().openChangeCounter({ name: this.#name, mode: this.#mode });
      opened.add(this);
    }
    return this.#counter;
  }

  count(): number {
    return this.#open().count();
  }

  notify(): number {
    return this.#open().notify();
  }

  /** `keep` (the region) stays reachable while the wait is pending, so it is not dropped under it. */
  wait(options: unknown, keep: object): Promise<number> {
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
    return keptWhilePending(
      keep,
      this.#waits.start<number>({
        begin: (done) => counter.waitAsync(since, done),
        timeoutMs,
        atTimeout: () => counter.count(),
        signal,
      }),
    );
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
    this.letGo();
  }

  /** Closes the counter; nothing may be waiting on it. */
  letGo(): void {
    opened.delete(this);
    const counter = this.#counter;
    this.#counter = undefined;
    counter?.close();
  }
}
