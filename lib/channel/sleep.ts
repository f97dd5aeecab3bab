// How a channel's side sleeps without a peer's wake-up being guaranteed: on its counter, and
// meanwhile it looks at the ring every RECHECK_MS (a peer killed between publishing and waking
// leaves no other trace). The look is a few loads on a timer, not a new wait: restarting the
// counter's wait each time cost about 0.5 ms of CPU per restart.
import type { RegionChanges } from '../region/changes.js';

/**
 * A sleeping side looks at the ring again after this long even if nobody woke it: a peer killed
 * between publishing a message (or freeing space) and waking it delays it by at most this.
 */
export const RECHECK_MS = 100;

/**
 * Resolves once `counter` leaves `since`, `ready()` says so at a look, or `timeoutMs` passes;
 * rejects with the wait's own errors (an AbortError for `signal`, ERR_SHM_CLOSED at close).
 */
export async function sleepUntil(
  counter: RegionChanges,
  since: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  ready: () => boolean,
  keep: object,
): Promise<void> {
  const looked = new AbortController();
  const either = signal ? AbortSignal.any([signal, looked.signal]) : looked.signal;
  const look = setInterval(() => {
    if (ready()) looked.abort();
  }, RECHECK_MS);
  try {
    await counter.wait({ since, timeout: timeoutMs, signal: either }, keep);
  } catch (e) {
    if (!looked.signal.aborted || signal?.aborted) throw e;
  } finally {
    clearInterval(look);
  }
}
