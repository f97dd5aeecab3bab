// Waits on a handle without blocking the JS thread and without holding a libuv threadpool thread:
// RegisterWaitForSingleObject hands the handle to the Windows thread pool (one of its wait threads
// watches up to 63 handles), and the pool calls back when the handle is signalled. The callback is
// ONE koffi-registered function for the whole process (registered at the first wait, never
// unregistered; koffi has a limited number of slots); each wait passes its own id as the context.
// The pool calls it on a thread of its own, and koffi relays the call to the JS thread (the pool's
// thread sleeps until the JS function has run), so `fired` runs on the JS thread as any callback.
//
// WT_EXECUTEINWAITTHREAD: the callback runs on the wait thread itself, not on a worker thread of
// the pool. It is short (koffi queues the call to the JS thread and waits for it), and it keeps
// the pool from starting a worker thread per callback: under Wine 8, 400 to 1,000 waits fired by
// one set() of a manual-reset event, each waking a worker that then blocked in koffi's relay,
// crashed node.exe now and then (page fault reading 0x1b0) once the wait handles were
// unregistered; on the wait threads (at most 63 waits each) 1,000 such waits ran cleanly.
//
// WT_EXECUTEONLYONCE: the pool stops watching after the first signal; the wait handle must still be
// given back with UnregisterWaitEx, which we do inside the callback (Windows then frees it when the
// callback returns). A cancel uses UnregisterWaitEx(waitHandle, NULL), which never blocks. With
// INVALID_HANDLE_VALUE it would wait for a running callback, and that callback waits for the JS
// thread: a deadlock.
//
// Under Wine (checked with Wine 8): same behaviour as Windows documents. The callback arrives on
// the JS thread; UnregisterWaitEx before the signal returns TRUE and nothing is called nor
// consumed; after the pool took the signal but before the JS thread ran the callback, it returns
// FALSE with ERROR_IO_PENDING and the callback still comes: the signal was taken, and `late` lets
// the owner give it back.
//
// A pending wait keeps the process alive, as a pending socket read does: koffi's relay to the JS
// thread does not (its thread-safe function is unref'd), so a timer holds the loop while any wait
// is pending, including a cancelled one whose late callback has yet to come.
import koffi from 'koffi';
import type { SharedMemoryErrorFields } from '../../errors.js';
import { api, ERROR_IO_PENDING, INFINITE, OBJECT_KIND, WT_EXECUTEINWAITTHREAD, WT_EXECUTEONLYONCE } from './event-api.js';
import { winError } from './region.js';

interface Entry {
  waitHandle: unknown;
  cancelled: boolean;
  fired: () => void;
  late: () => void;
}

const pending = new Map<number, Entry>();
let nextId = 1;
let callback: unknown;
let keepAlive: ReturnType<typeof setInterval> | undefined;

let lateCallbacks = 0;

/** For tests and diagnostics: waits whose callback may still come, and callbacks that came after a cancel. */
export function asyncWaitStats(): { pending: number; late: number } {
  return { pending: pending.size, late: lateCallbacks };
}

function onCallback(id: number): void {
  const entry = pending.get(id);
  if (!entry) return;
  pending.delete(id);
  holdLoop();
  // Returns FALSE with ERROR_IO_PENDING (this very callback is running): the wait handle is freed
  // when it returns. A cancelled wait was unregistered already, and must not be twice.
  if (!entry.cancelled) api().k32.UnregisterWaitEx(entry.waitHandle, 0);
  try {
    if (entry.cancelled) {
      lateCallbacks++;
      entry.late();
    }
    else entry.fired();
  } catch (e) {
    // koffi would swallow it (the pool's thread gets a void return): let it surface as Node's own.
    process.nextTick(() => {
      throw e;
    });
  }
}

/** Refs the loop while waits are pending, unrefs it when none is. */
function holdLoop(): void {
  if (pending.size > 0 && keepAlive === undefined) {
    keepAlive = setInterval(() => {}, 2 ** 31 - 1);
  } else if (pending.size === 0 && keepAlive !== undefined) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

export interface AsyncWait {
  /**
   * Stops watching. True when nothing more will happen; false when the pool had already taken the
   * signal: `late` is then called on the JS thread soon (the handle must stay open until then).
   */
  cancel(): boolean;
}

/**
 * Watches `handle` once: `fired` runs on this thread when it is signalled (an auto-reset event is
 * then consumed). Never calls `fired` before returning.
 */
export function watchHandle(
  handle: unknown,
  fields: SharedMemoryErrorFields,
  fired: () => void,
  late: () => void = () => {},
): AsyncWait {
  const { k32, callbackType } = api();
  callback ??= koffi.register((context: number | bigint) => onCallback(Number(context)), koffi.pointer(callbackType as never));
  const id = nextId++;
  const entry: Entry = { waitHandle: null, cancelled: false, fired, late };
  const out: unknown[] = [null];
  if (!k32.RegisterWaitForSingleObject(out, handle, callback, id, INFINITE, WT_EXECUTEINWAITTHREAD | WT_EXECUTEONLYONCE)) {
    throw winError(k32.GetLastError() as number, 'RegisterWaitForSingleObject', fields, OBJECT_KIND);
  }
  entry.waitHandle = out[0];
  pending.set(id, entry);
  holdLoop();
  return {
    cancel() {
      if (entry.cancelled || !pending.has(id)) return !pending.has(id);
      entry.cancelled = true;
      if (k32.UnregisterWaitEx(entry.waitHandle, 0) || (k32.GetLastError() as number) !== ERROR_IO_PENDING) {
        // Unregistered before any signal was taken (any other failure: nothing we could wait for).
        pending.delete(id);
        holdLoop();
        return true;
      }
      return false;
    },
  };
}
