// When and how a mapping is given back. The danger is a JavaScript buffer that still reaches the
// memory after munmap: touching it kills the process. So the memory is unmapped only when no
// buffer can reach it: at close() once every view is detached (Node 22+), or once the view is
// garbage (Node 20, which cannot detach foreign memory). A view moved out of our reach by
// ArrayBuffer.prototype.transfer is retired instead: the object is let go, the addresses stay
// valid (see NativeRegion.retire).
import { isMainThread } from 'node:worker_threads';
import type { NativeRegion } from './backend.js';

/** What a SharedMemory holds, kept apart from it so that a finalizer can release it. */
export interface Held {
  native: NativeRegion | undefined;
  /** `bytes` was handed out: a view of the user's may reach the memory. */
  handedOut: boolean;
}

/** Node 22+ can detach a view over foreign memory; Node 20 cannot. */
export const canDetach = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
const transfer = canDetach
  ? (ArrayBuffer.prototype as unknown as { transfer: (this: ArrayBuffer, n: number) => ArrayBuffer }).transfer
  : undefined;

/** Whether a view lost its memory to a transfer (ours never have length 0 while open). */
export function isDetached(view: ArrayBuffer): boolean {
  return view.byteLength === 0;
}

const unmapWhenUnreachable = new FinalizationRegistry<() => void>((unmap) => unmap());

/** The retire() of each mapping that waits for its view to be garbage, which a worker's end cuts short. */
const waitingForGarbage = new Set<() => void>();

function unmapWhenViewIsGarbage(view: ArrayBuffer, unmap: () => void, retire: () => void): void {
  waitingForGarbage.add(retire);
  unmapWhenUnreachable.register(view, () => {
    waitingForGarbage.delete(retire);
    unmap();
  });
}

/** Held by this thread and not yet let go; a worker that ends lets go of them (see below). */
const live = new Set<Held>();

/** Releases what a SharedMemory dropped without `close()` held; never unmaps under a live view. */
const releaseWhenDropped = new FinalizationRegistry<Held>((held) => letGo(held, 'dropped'));

export function holdRegion(owner: object, native: NativeRegion): Held {
  const held: Held = { native, handedOut: false };
  live.add(held);
  releaseWhenDropped.register(owner, held, held);
  return held;
}

/**
 * Gives back what `held` holds: its share of the region now, its mapping as soon as that is safe.
 * - `close`: by the user; every view of ours is detached on Node 22+, so unmap now.
 * - `dropped`: the SharedMemory was garbage; the user may still hold `bytes`.
 * - `exit`: the thread is ending, so no finalizer will run later.
 */
export function letGo(held: Held, why: 'close' | 'dropped' | 'exit'): void {
  const native = held.native;
  if (!native) return;
  held.native = undefined;
  live.delete(held);
  if (why !== 'dropped') releaseWhenDropped.unregister(held);
  try {
    native.release();
  } catch (e) {
    // Only close() has a caller to tell; in a finalizer an exception would end the process.
    if (why === 'close') {
      giveBackMapping(native, held.handedOut, why);
      throw e;
    }
  }
  giveBackMapping(native, held.handedOut, why);
}

function giveBackMapping(native: NativeRegion, handedOut: boolean, why: 'close' | 'dropped' | 'exit'): void {
  if (native.view === undefined) native.unmap(); // copied, never viewed: no buffer reaches it
  else if (isDetached(native.view)) native.retire(); // a buffer we cannot see holds the memory now
  else if (!handedOut) native.unmap();
  else if (transfer && why !== 'dropped') {
    // Every Uint8Array over the view now has length 0, so none can touch unmapped memory.
    transfer.call(native.view, 0);
    native.unmap();
  } else if (why === 'exit') native.retire();
  else {
    // Node 22+: the view may still be moved out (ArrayBuffer.prototype.transfer.call) before it
    // dies, and nothing tells us afterwards, so its addresses are retired, never unmapped.
    unmapWhenViewIsGarbage(native.view, canDetach ? native.retire : native.unmap, native.retire);
  }
}

// A worker that ends runs no finalizer, so its regions would stay held until the process ends.
// The main thread needs nothing: the process's end releases everything it held.
if (!isMainThread) {
  process.once('exit', () => {
    for (const held of [...live]) letGo(held, 'exit');
    for (const retire of waitingForGarbage) retire();
  });
}
