// Waits on a handle without blocking the JS thread and without holding a libuv threadpool thread:
// RegisterWaitForSingleObject hands the handle to the Windows thread pool (one of its wait threads
// watches up to 63 handles), and the pool calls back when the handle is signalled. The callback is
// ONE koffi-registered function for the whole process (registered at the first wait, never
// unregistered; koffi has a limited number of slots); each wait passes its own id as the context.
// The pool calls it on a thread of its own, and koffi relays the call to the JS thread (the pool's
// thread sleeps until the JS function has run), so `fired` runs on the JS thread as any callback.
//
// Where the callback runs. koffi relays a call from a foreign thread with a small stack and heap
// of its own (at most 256 such calls at once, DefaultMaxAsyncCalls; beyond that it throws on that
// thread), and the calling thread sleeps until the JS thread ran it. With the pool's worker
// threads (the default), one set() of a manual-reset event with 400 to 1,000 waits made as many
// worker threads relay at once, and node.exe crashed now and then under Wine 8 (page fault reading
// 0x1b0). So the main thread asks for WT_EXECUTEINWAITTHREAD: the callback runs on the wait thread
// itself (one per 63 waits), which keeps the relays at one per wait thread; 1,000 such waits ran
// cleanly (that the limit above caused the crashes is our reading of koffi's source, not proven).
// A worker thread asks for the default instead: its JS thread may end (terminate())
// while a callback for it is being relayed, and that relay then never returns; it must hold only
// a worker thread of the pool, not a wait thread that watches the waits of other threads too.
// A worker that ends must leave no wait registered: the pool would call into a koffi instance
// that is gone, and an auto-reset event's next signal would go to nobody. process 'exit' runs
// when a worker ends by itself or calls process.exit(), and unregisters every wait then. But
// worker.terminate() runs no JavaScript in the worker at all, so on 64-bit Windows each wait of
// a worker also has a *guard*: a second registered wait, on the worker's own thread handle (which
// is signalled when the thread ends), whose callback is kernel32's UnregisterWait itself and
// whose context is the first wait's handle. WAITORTIMERCALLBACK is (PVOID, BOOLEAN) and
// UnregisterWait is BOOL (HANDLE): on x64 and arm64 the arguments travel in registers, so the
// extra BOOLEAN and the ignored BOOL result do no harm (on 32-bit x86, stdcall's stack cleanup
// would differ, so no guard there). The pool then unregisters the wait when the thread ends,
// without JavaScript. The guard is unregistered as soon as its wait settles or is cancelled.
// Under Wine 8 with Node 20, without a guard a terminated worker's wait took the next signal of
// an auto-reset event; with it, the signal went to the next waiter.
//
// WT_EXECUTEONLYONCE: the pool stops watching after the first signal; the wait handle must still be
// given back with UnregisterWaitEx, which we do inside the callback (Windows then frees it when the
// callback returns). A cancel uses UnregisterWaitEx(waitHandle, NULL), which never blocks. With
// INVALID_HANDLE_VALUE it would wait for a running callback, and that callback waits for the JS
// thread: a deadlock.
//
// Under Wine (checked with Wine 8): as Windows documents. The callback arrives on the JS thread;
// UnregisterWaitEx before the signal returns TRUE and nothing is called nor consumed; after the
// pool took the signal but before the JS thread ran the callback, it returns FALSE with
// ERROR_IO_PENDING and the callback still comes: the signal was taken, and `late` lets the owner
// give it back. One window is not covered by that contract in Wine's pool: between its wait
// returning (the signal taken) and its count of pending callbacks going up, UnregisterWaitEx
// returns TRUE, and the callback may still come. So a wait unregistered with TRUE stays known
// (a tombstone) for TOMBSTONE_MS, and a callback that comes for it in that time goes to `late`
// too (with `afterUnregistered` true: the owner may have let go of its handle by then).
//
// A pending wait keeps the process alive, as a pending socket read does: koffi's relay to the JS
// thread does not (its thread-safe function is unref'd), so a timer holds the loop while any wait
// is pending, including a cancelled one whose late callback has yet to come.
import { isMainThread } from 'node:worker_threads';
import koffi from 'koffi';
import type { SharedMemoryErrorFields } from '../../errors.js';
import {
  api,
  ERROR_IO_PENDING,
  INFINITE,
  OBJECT_KIND,
  SYNCHRONIZE,
  WT_EXECUTEINWAITTHREAD,
  WT_EXECUTEONLYONCE,
} from './event-api.js';
import { winError } from './region.js';

interface Entry {
  waitHandle: unknown;
  /** The wait that unregisters this one when this worker's thread ends (workers on 64-bit only). */
  guardHandle: unknown;
  cancelled: boolean;
  fired: () => void;
  late: (afterUnregistered: boolean) => void;
}

const TOMBSTONE_MS = 2000;
/** Waits unregistered with TRUE, kept a while in case Wine's pool calls back all the same. */
const tombstones = new Map<number, Entry>();
let lateAfterUnregistered = 0;

const pending = new Map<number, Entry>();
let nextId = 1;
let callback: unknown;
let keepAlive: ReturnType<typeof setInterval> | undefined;

let lateCallbacks = 0;
const FLAGS = WT_EXECUTEONLYONCE | (isMainThread ? WT_EXECUTEINWAITTHREAD : 0);

const atExit = new Set<() => void>();
/** In a worker on 64-bit Windows: this thread's handle, and kernel32's UnregisterWait. */
let guard: { thread: unknown; unregisterWait: unknown } | null | undefined;

function workerGuard(): { thread: unknown; unregisterWait: unknown } | null {
  if (guard !== undefined) return guard;
  guard = null;
  if (isMainThread || process.arch === 'ia32') return guard;
  const { k32 } = api();
  const unregisterWait = k32.GetProcAddress(k32.GetModuleHandleW('kernel32.dll'), 'UnregisterWait');
  // Kept open for the life of the process: it must outlive the thread to be signalled.
  const thread = k32.OpenThread(SYNCHRONIZE, 0, k32.GetCurrentThreadId());
  if (unregisterWait !== null && thread !== null) guard = { thread, unregisterWait };
  return guard;
}

/** Unregisters the guard of a wait that settled or was cancelled (never blocks). */
function dropGuard(entry: Entry): void {
  if (entry.guardHandle !== null) api().k32.UnregisterWaitEx(entry.guardHandle, 0);
  entry.guardHandle = null;
}

if (!isMainThread) {
  process.once('exit', () => {
    // A callback being relayed at this moment is lost with this thread (and so is the auto-reset
    // signal it took); every other wait is unregistered before anything can call it.
    for (const entry of pending.values()) {
      dropGuard(entry);
      if (!entry.cancelled) api().k32.UnregisterWaitEx(entry.waitHandle, 0);
      entry.cancelled = true;
    }
    pending.clear();
    // Then the handles and views of this thread: handles belong to the process, which lives on.
    for (const release of atExit) release();
    atExit.clear();
  });
}

/**
 * In a worker thread, runs `release` when the thread ends (after its waits were unregistered),
 * since a terminated worker runs no finalizer and its handles would stay open with the process.
 * Returns the function that takes it back (call it on close). Nothing happens in the main thread.
 */
export function releaseAtWorkerExit(release: () => void): () => void {
  if (isMainThread) return () => {};
  atExit.add(release);
  return () => atExit.delete(release);
}

/** For tests and diagnostics: waits whose callback may still come, and callbacks that came after a cancel. */
export function asyncWaitStats(): { pending: number; late: number; lateAfterUnregistered: number } {
  return { pending: pending.size, late: lateCallbacks, lateAfterUnregistered };
}

function onCallback(id: number): void {
  const tombstone = tombstones.get(id);
  if (tombstone) {
    tombstones.delete(id);
    lateAfterUnregistered++;
    tombstone.late(true);
    return;
  }
  const entry = pending.get(id);
  if (!entry) return;
  pending.delete(id);
  holdLoop();
  // Returns FALSE with ERROR_IO_PENDING (this very callback is running): the wait handle is freed
  // when it returns. A cancelled wait was unregistered already, and must not be twice.
  dropGuard(entry);
  if (!entry.cancelled) api().k32.UnregisterWaitEx(entry.waitHandle, 0);
  try {
    if (entry.cancelled) {
      lateCallbacks++;
      entry.late(false);
    } else entry.fired();
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
   * Stops watching. False when the pool had already taken the signal: `late(false)` is then called
   * on the JS thread soon (the handle must stay open until then). True when Windows says nothing
   * more will happen; under Wine `late(true)` may still come, within TOMBSTONE_MS.
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
  late: (afterUnregistered: boolean) => void = () => {},
): AsyncWait {
  const { k32, callbackType } = api();
  callback ??= koffi.register((context: number | bigint) => onCallback(Number(context)), koffi.pointer(callbackType as never));
  const id = nextId++;
  const entry: Entry = { waitHandle: null, guardHandle: null, cancelled: false, fired, late };
  const out: unknown[] = [null];
  if (!k32.RegisterWaitForSingleObject(out, handle, callback, id, INFINITE, FLAGS)) {
    throw winError(k32.GetLastError() as number, 'RegisterWaitForSingleObject', fields, OBJECT_KIND);
  }
  entry.waitHandle = out[0];
  const threadGuard = workerGuard();
  if (threadGuard) {
    const guardOut: unknown[] = [null];
    const flags = WT_EXECUTEINWAITTHREAD | WT_EXECUTEONLYONCE;
    if (!k32.RegisterWaitNative(guardOut, threadGuard.thread, threadGuard.unregisterWait, entry.waitHandle, INFINITE, flags)) {
      const err = winError(k32.GetLastError() as number, 'RegisterWaitForSingleObject', fields, OBJECT_KIND);
      k32.UnregisterWaitEx(entry.waitHandle, 0);
      throw err;
    }
    entry.guardHandle = guardOut[0];
  }
  pending.set(id, entry);
  holdLoop();
  return {
    cancel() {
      if (entry.cancelled || !pending.has(id)) return !pending.has(id);
      entry.cancelled = true;
      dropGuard(entry);
      if (k32.UnregisterWaitEx(entry.waitHandle, 0) || (k32.GetLastError() as number) !== ERROR_IO_PENDING) {
        // Unregistered before any signal was taken (any other failure: nothing we could wait for).
        pending.delete(id);
        holdLoop();
        tombstones.set(id, entry);
        setTimeout(() => tombstones.delete(id), TOMBSTONE_MS).unref();
        return true;
      }
      return false;
    },
  };
}
