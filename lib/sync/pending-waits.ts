// The promise side of asynchronous waits: the timeout, the AbortSignal, and the rejection of
// every pending wait when its object is closed. A backend only starts a wait and cancels it.
import type { CancelWait } from './backend.js';
import { AbortError } from './wait-options.js';

/** setTimeout's longest delay; longer timeouts are waited in pieces. */
const MAX_DELAY = 2 ** 31 - 1;

// A pending wait keeps the process alive, as a pending timer or socket would. One interval for
// all of them, so that the backends' own threads and callbacks can stay unreferenced.
let pendingInProcess = 0;
let keepAlive: NodeJS.Timeout | undefined;
function holdProcess(delta: 1 | -1): void {
  pendingInProcess += delta;
  if (pendingInProcess > 0) keepAlive ??= setInterval(() => {}, MAX_DELAY);
  else if (keepAlive) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

function after(ms: number, then: () => void): { stop(): void } {
  let timer: NodeJS.Timeout;
  const arm = (left: number) => {
    timer = setTimeout(() => (left > MAX_DELAY ? arm(left - MAX_DELAY) : then()), Math.min(left, MAX_DELAY));
  };
  arm(ms);
  return { stop: () => clearTimeout(timer) };
}

export interface WaitPlan<T> {
  /** Starts the wait; `done` may be called before it returns. */
  begin(done: (value: T) => void): CancelWait;
  timeoutMs: number;
  /** The result at the timeout, looked at once more after the wait was cancelled. */
  atTimeout(): T;
  signal: AbortSignal | undefined;
}

export class PendingWaits {
  readonly #fail = new Set<(err: Error) => void>();

  get size(): number {
    return this.#fail.size;
  }

  start<T>(plan: WaitPlan<T>): Promise<T> {
    const { signal } = plan;
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let cancel: CancelWait | undefined;
      let timer: { stop(): void } | undefined;
      const settle = () => {
        settled = true;
        timer?.stop();
        signal?.removeEventListener('abort', onAbort);
        if (this.#fail.delete(fail)) holdProcess(-1);
      };
      const fail = (err: Error) => {
        if (settled) return;
        cancel?.();
        settle();
        reject(err);
      };
      const onAbort = () => fail(new AbortError(undefined, { cause: signal!.reason }));
      cancel = plan.begin((value) => {
        if (settled) return;
        settle();
        resolve(value);
      });
      if (settled) return;
      this.#fail.add(fail);
      holdProcess(1);
      if (plan.timeoutMs !== Infinity) {
        timer = after(plan.timeoutMs, () => {
          if (settled) return;
          cancel!();
          settle();
          resolve(plan.atTimeout());
        });
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Rejects every pending wait (its object was closed) and cancels it in the backend. */
  rejectAll(err: () => Error): void {
    for (const fail of [...this.#fail]) fail(err());
  }
}
