// A named event on Windows: the native Win32 event object, so that C programs calling
// CreateEventW/OpenEventW, SetEvent and WaitForSingleObject on the same name (`Local\Foo`) share it.
import type { CancelWait, EventRequest, NativeEvent } from '../../sync/backend.js';
import { releaseAtWorkerExit, watchHandle } from './async-wait.js';
import { api, check, isManualReset, openEventIfAny, openNamedEvent, waitForHandle } from './event-api.js';

const WAIT_OBJECT_0 = 0; // <winbase.h>

export function openWindowsEvent(request: EventRequest): NativeEvent {
  const name = request.name.full;
  const fields = { region: name, path: name };
  const { handle, created } = openNamedEvent({
    name,
    intent: request.intent,
    manualReset: request.manualReset,
    initialState: request.initialState,
    securityDescriptor: request.securityDescriptor,
  });
  // A new event is what was asked; an existing one keeps the kind it was created with.
  const manualReset = created ? request.manualReset : isManualReset(handle, request.manualReset);
  const { k32 } = api();
  // The handle stays open while the thread pool may still call back for a cancelled wait: that
  // callback gives an auto-reset event's signal back (SetEvent) through it.
  let lateCallbacks = 0;
  let closed = false;
  let open = true;
  const release = () => {
    if (closed && lateCallbacks === 0 && open) {
      open = false;
      k32.CloseHandle(handle);
    }
  };
  /** Gives a signal taken for nobody back; through the name if this handle is gone already. */
  const giveBack = () => {
    if (open) {
      k32.SetEvent(handle);
      return;
    }
    // Nobody holding it any more means nobody to give it to.
    const again = openEventIfAny(name);
    if (again !== null) {
      k32.SetEvent(again);
      k32.CloseHandle(again);
    }
  };
  const forget = releaseAtWorkerExit(() => {
    open = false;
    k32.CloseHandle(handle);
  });

  return {
    created,
    manualReset,
    path: name,
    set() {
      check(k32.SetEvent(handle), 'SetEvent', fields);
    },
    reset() {
      check(k32.ResetEvent(handle), 'ResetEvent', fields);
    },
    waitSync(timeoutMs: number): boolean {
      return waitForHandle(handle, timeoutMs, fields);
    },
    waitAsync(done: () => void): CancelWait {
      // Already signalled: taken at once, without the thread pool.
      if ((k32.WaitForSingleObject(handle, 0) as number) === WAIT_OBJECT_0) {
        done();
        return () => {};
      }
      const wait = watchHandle(handle, fields, done, (afterUnregistered) => {
        // Cancelled after the pool had taken the signal: an auto-reset event's signal was consumed
        // for nobody, so it goes back to the event for the next waiter. A manual-reset one stays
        // signalled anyway.
        if (!afterUnregistered) lateCallbacks--;
        if (!manualReset) giveBack();
        release();
      });
      let cancelled = false;
      return () => {
        if (cancelled) return;
        cancelled = true;
        if (!wait.cancel()) lateCallbacks++;
      };
    },
    close() {
      if (closed) return;
      closed = true;
      forget();
      release();
    },
  };
}
