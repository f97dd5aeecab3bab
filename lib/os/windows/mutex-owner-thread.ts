// The owner thread: a Node worker of our own, one per JS thread that waits for a mutex without
// blocking. It performs those waits (WaitForMultipleObjects, in slices) and then holds each mutex
// it got on the JS thread's behalf until the JS thread relays the unlock (see mutex.ts for why).
//
// Shared state: one SharedArrayBuffer of SLOTS request slots and a command area. A slot's state
// word moves as follows (JS: the JS thread; OT: the owner thread; CAS where both may write):
//   FREE -JS-> QUEUED -OT cas-> WAITING -OT cas-> GRANTED | GRANTED_ABANDONED      (posts the slot)
//   QUEUED -JS cas-> CANCELLED                              (the owner never saw it; JS closes the dup)
//   WAITING -JS cas-> CANCELLING -OT-> CANCELLED | RELEASED | POISONED   (JS waits for the answer)
//   WAITING | QUEUED -OT cas-> REROUTE                     (a retiring owner: JS asks a new owner)
// Each request carries its own duplicate of the JS thread's handle, closed by whoever ends it, so
// that the JS thread may close its handle whatever the owner is doing. Unlocks go through the
// command area: the JS thread writes it, sets the control event and sleeps on Atomics.wait until
// the owner answers, so the mutex is free when unlock() returns.
// POISONED: a cancel came after the owner got the mutex with WAIT_ABANDONED. Releasing it would
// hide from the next locker that the data may be half-written; the owner keeps it instead, takes
// no more requests (REROUTE), and ends its thread once it holds no lock of the JS thread's: Windows
// then abandons the mutex again, to the next locker.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CURRENT_PROCESS, DUPLICATE_SAME_ACCESS, ERROR_NOT_OWNER, mutexApi } from './mutex-api.js';
import { winError } from './region.js';

export const SLOTS = 256;
export const S = {
  FREE: 0, QUEUED: 1, WAITING: 2, CANCELLING: 3, CANCELLED: 4, GRANTED: 5,
  GRANTED_ABANDONED: 6, RELEASED: 7, POISONED: 8, REROUTE: 9,
} as const;
// i32 layout: [0] command state (0 idle, 1 request, 2 done), [1] command, [2] slot, [3] result
// (Win32 error, 0: done), [4] retiring, then per slot 2 words at SLOT_BASE + 2*slot: state, key.
// f64 layout (after the i32 words): the dup handle of each slot.
export const CMD = { UNLOCK: 1, POISON: 2 } as const;
export const SLOT_BASE = 8;
export const I32_WORDS = SLOT_BASE + 2 * SLOTS;
export const BYTES = I32_WORDS * 4 + SLOTS * 8;

/** The worker's code (CommonJS, run with `eval`): needs only koffi, whose path comes in workerData. */
export const OWNER_SOURCE = String.raw`'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const koffi = require(workerData.koffi);
const k32 = koffi.load('kernel32.dll');
// <synchapi.h>, <handleapi.h>, <errhandlingapi.h>
const WaitForMultipleObjects = k32.func('uint32_t __stdcall WaitForMultipleObjects(uint32_t nCount, const intptr_t *lpHandles, int bWaitAll, uint32_t dwMilliseconds)');
const ReleaseMutex = k32.func('int __stdcall ReleaseMutex(intptr_t hMutex)');
const CloseHandle = k32.func('int __stdcall CloseHandle(intptr_t hObject)');
const GetLastError = k32.func('uint32_t __stdcall GetLastError()');
const WAIT_ABANDONED_0 = 0x80, WAIT_TIMEOUT = 0x102, MAXIMUM_WAIT_OBJECTS = 64, MAX_SLEEP_MS = 500;
const S = ${JSON.stringify(S)}, CMD = ${JSON.stringify(CMD)};
const { sab, ctrl, SLOT_BASE, SLOTS, I32_WORDS } = workerData;
const i32 = new Int32Array(sab, 0, I32_WORDS), f64 = new Float64Array(sab, I32_WORDS * 4, SLOTS);
const state = (s) => SLOT_BASE + 2 * s;
const key = (s) => i32[SLOT_BASE + 2 * s + 1];
const mine = new Set(); // slots this thread took: WAITING, CANCELLING, GRANTED*
let retiring = false;
const finish = (s, to) => { CloseHandle(f64[s]); mine.delete(s); Atomics.store(i32, state(s), to); Atomics.notify(i32, state(s)); };
function serveCommand() {
  if (Atomics.load(i32, 0) !== 1) return;
  const cmd = i32[1], s = i32[2];
  let result = 0;
  if (cmd === CMD.UNLOCK) {
    if (ReleaseMutex(f64[s])) finish(s, S.FREE); else result = GetLastError();
  } else if (cmd === CMD.POISON) {
    CloseHandle(f64[s]); mine.delete(s); retire();
  }
  i32[3] = result;
  Atomics.store(i32, 0, 2);
  Atomics.notify(i32, 0);
}
function retire() {
  retiring = true;
  Atomics.store(i32, 4, 1);
  for (let s = 0; s < SLOTS; s++) {
    const st = Atomics.load(i32, state(s));
    if (st === S.QUEUED && Atomics.compareExchange(i32, state(s), S.QUEUED, S.REROUTE) === S.QUEUED) {
      CloseHandle(f64[s]); parentPort.postMessage(s);
    } else if (st === S.WAITING && Atomics.compareExchange(i32, state(s), S.WAITING, S.REROUTE) === S.WAITING) {
      CloseHandle(f64[s]); mine.delete(s); parentPort.postMessage(s);
    }
  }
}
for (;;) {
  serveCommand();
  const held = new Set(), waiting = [];
  for (let s = 0; s < SLOTS; s++) {
    let st = Atomics.load(i32, state(s));
    if (st === S.QUEUED && !retiring && Atomics.compareExchange(i32, state(s), S.QUEUED, S.WAITING) === S.QUEUED) { mine.add(s); st = S.WAITING; }
    if (!mine.has(s)) continue;
    if (st === S.CANCELLING) finish(s, S.CANCELLED);
    else if (st === S.GRANTED || st === S.GRANTED_ABANDONED) held.add(key(s));
    else if (st === S.WAITING) waiting.push(s);
  }
  if (retiring && held.size === 0 && Atomics.load(i32, 0) !== 1) break;
  const chosen = [];
  for (const s of waiting) {
    if (held.has(key(s)) || chosen.length >= MAXIMUM_WAIT_OBJECTS - 1) continue;
    held.add(key(s)); // one wait per mutex: a second one would take it again, recursively
    chosen.push(s);
  }
  const handles = [ctrl, ...chosen.map((s) => f64[s])];
  const r = WaitForMultipleObjects(handles.length, handles, 0, MAX_SLEEP_MS);
  if (r === 0 || r === WAIT_TIMEOUT) continue;
  const abandoned = r >= WAIT_ABANDONED_0 && r < WAIT_ABANDONED_0 + handles.length;
  const i = abandoned ? r - WAIT_ABANDONED_0 : r;
  if (i < 1 || i >= handles.length) throw new Error('WaitForMultipleObjects failed: result ' + r + ', error ' + GetLastError());
  const s = chosen[i - 1];
  const granted = abandoned ? S.GRANTED_ABANDONED : S.GRANTED;
  if (Atomics.compareExchange(i32, state(s), S.WAITING, granted) === S.WAITING) { parentPort.postMessage(s); continue; }
  // Cancelled while this thread took it: give it back, or keep it to abandon it again.
  if (!abandoned) { ReleaseMutex(f64[s]); finish(s, S.RELEASED); }
  else { finish(s, S.POISONED); retire(); }
}
`;

// ---- The JS thread's side -----------------------------------------------------------------------

export type Grant = 'locked' | 'abandoned' | Error;

/** One lockAsync() handed to an owner thread; moved to a new owner if its owner retires. */
export interface OwnerRequest {
  owner: Owner;
  slot: number;
  held: boolean;
}

interface Entry {
  request: OwnerRequest;
  handle: number;
  key: number;
  done: (grant: Grant) => void;
}

const RELAY_LIMIT_MS = 30_000;
const ownerRequire = createRequire(import.meta.url);
let current: Owner | undefined;

class Owner {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly ctrl: number;
  readonly worker: Worker;
  readonly entries = new Map<number, Entry>();
  readonly free: number[] = [];
  waiting = 0;
  dead = false;

  constructor() {
    const k32 = mutexApi();
    const sab = new SharedArrayBuffer(BYTES);
    this.i32 = new Int32Array(sab, 0, I32_WORDS);
    this.f64 = new Float64Array(sab, I32_WORDS * 4, SLOTS);
    for (let s = SLOTS - 1; s >= 0; s--) this.free.push(s);
    this.ctrl = Number(k32.CreateEventW(null, 0, 0, null));
    if (this.ctrl === 0) throw winError(k32.GetLastError() as number, 'CreateEventW', {}, 'an event');
    this.worker = new Worker(OWNER_SOURCE, {
      eval: true,
      name: 'named-shm mutex owner',
      execArgv: [],
      workerData: { koffi: ownerRequire.resolve('koffi'), sab, ctrl: this.ctrl, SLOT_BASE, SLOTS, I32_WORDS },
    });
    this.worker.unref();
    this.worker.on('message', (slot: number) => this.onMessage(slot));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      this.dead = true;
      if (current === this) current = undefined;
      k32.CloseHandle(this.ctrl);
      this.fail(new Error(`named-shm: the mutex owner thread ended (exit code ${code}) with locks pending`));
    });
  }

  /** The owner thread is gone (cannot happen short of a bug): its pending locks fail, its held ones were abandoned. */
  private fail(err: Error): void {
    this.dead = true;
    for (const [slot, entry] of this.entries) {
      if (entry.request.held) continue;
      const rerouted = this.state(slot) === S.REROUTE; // a retired owner's, its message unread
      this.drop(slot, true);
      if (rerouted) ownerThread().add(entry);
      else entry.done(err);
    }
  }

  get retiring(): boolean {
    return Atomics.load(this.i32, 4) === 1;
  }

  state(slot: number): number {
    return Atomics.load(this.i32, SLOT_BASE + 2 * slot);
  }

  add(entry: Entry): void {
    const k32 = mutexApi();
    const slot = this.free.pop()!;
    const out = [0];
    if (!k32.DuplicateHandle(CURRENT_PROCESS, entry.handle, CURRENT_PROCESS, out, 0, 0, DUPLICATE_SAME_ACCESS)) {
      this.free.push(slot);
      throw winError(k32.GetLastError() as number, 'DuplicateHandle', {}, 'a mutex');
    }
    entry.request.owner = this;
    entry.request.slot = slot;
    this.entries.set(slot, entry);
    this.f64[slot] = Number(out[0]);
    this.i32[SLOT_BASE + 2 * slot + 1] = entry.key;
    Atomics.store(this.i32, SLOT_BASE + 2 * slot, S.QUEUED);
    this.setWaiting(+1);
    k32.SetEvent(this.ctrl);
  }

  /** Ends the slot's use on this side. */
  drop(slot: number, wasWaiting: boolean): void {
    this.entries.delete(slot);
    Atomics.store(this.i32, SLOT_BASE + 2 * slot, S.FREE);
    this.free.push(slot);
    if (wasWaiting) this.setWaiting(-1);
  }

  private setWaiting(delta: number): void {
    this.waiting += delta;
    // A pending lock() keeps the process alive, as a pending socket read does.
    if (this.waiting > 0) this.worker.ref();
    else this.worker.unref();
  }

  private onMessage(slot: number): void {
    const entry = this.entries.get(slot);
    if (!entry || entry.request.held) return; // cancelled meanwhile
    const state = this.state(slot);
    if (state === S.GRANTED || state === S.GRANTED_ABANDONED) {
      entry.request.held = true;
      this.setWaiting(-1);
      entry.done(state === S.GRANTED ? 'locked' : 'abandoned');
    } else if (state === S.REROUTE) {
      this.drop(slot, true);
      ownerThread().add(entry);
    }
  }

  /** Blocks until the owner thread moved `index` away from `from`. */
  sleepWhile(index: number, from: number): void {
    const deadline = performance.now() + RELAY_LIMIT_MS;
    while (Atomics.load(this.i32, index) === from) {
      if (performance.now() > deadline) throw new Error('named-shm: the mutex owner thread does not answer');
      Atomics.wait(this.i32, index, from, 1000);
    }
  }

  /** Has the owner thread run `cmd` on `slot`, and returns its Win32 error (0: done). */
  relay(cmd: number, slot: number): number {
    if (this.dead) return ERROR_NOT_OWNER; // it ended, and Windows abandoned what it held
    this.i32[1] = cmd;
    this.i32[2] = slot;
    Atomics.store(this.i32, 0, 1);
    mutexApi().SetEvent(this.ctrl);
    this.sleepWhile(0, 1);
    const result = this.i32[3]!;
    Atomics.store(this.i32, 0, 0);
    return result;
  }
}

/** This thread's owner thread, started when first needed (and again after one retired). */
function ownerThread(): Owner {
  if (!current || current.dead || current.retiring || current.free.length === 0) current = new Owner();
  return current;
}

/** Has this thread's owner thread wait for the mutex `handle` (a duplicate is made), `key` naming the object. */
export function lockThroughOwner(handle: number, key: number, done: (grant: Grant) => void): OwnerRequest {
  const request = { slot: -1, held: false } as unknown as OwnerRequest;
  ownerThread().add({ request, handle, key, done });
  return request;
}

/** Stops a pending request; whatever happens, no lock is kept for this thread and `done` is not called. */
export function cancelOwnerRequest(request: OwnerRequest): void {
  if (request.held) return;
  const owner = request.owner;
  const slot = request.slot;
  const index = SLOT_BASE + 2 * slot;
  for (;;) {
    const state = owner.state(slot);
    if (state === S.QUEUED) {
      if (Atomics.compareExchange(owner.i32, index, S.QUEUED, S.CANCELLED) !== S.QUEUED) continue;
      mutexApi().CloseHandle(owner.f64[slot]!);
    } else if (state === S.WAITING) {
      if (Atomics.compareExchange(owner.i32, index, S.WAITING, S.CANCELLING) !== S.WAITING) continue;
      mutexApi().SetEvent(owner.ctrl);
      owner.sleepWhile(index, S.CANCELLING); // -> CANCELLED, RELEASED or POISONED
    } else if (state === S.GRANTED) {
      if (owner.relay(CMD.UNLOCK, slot) !== 0) continue; // cannot fail: it holds it
    } else if (state === S.GRANTED_ABANDONED) {
      owner.relay(CMD.POISON, slot);
    }
    // REROUTE: the owner let it go already; its message finds no entry.
    owner.drop(slot, true);
    return;
  }
}

/** The owner thread holds the request's mutex for this thread already, its message not yet read. */
export function grantedUnread(request: OwnerRequest): boolean {
  if (request.held || request.slot < 0 || request.owner.dead) return false;
  const state = request.owner.state(request.slot);
  return state === S.GRANTED || state === S.GRANTED_ABANDONED;
}

/** Has the owner thread release a lock it holds for this thread; returns the Win32 error (0: released). */
export function unlockThroughOwner(request: OwnerRequest): number {
  const error = request.owner.relay(CMD.UNLOCK, request.slot);
  if (error === 0) {
    request.held = false;
    request.owner.drop(request.slot, false);
  }
  return error;
}
