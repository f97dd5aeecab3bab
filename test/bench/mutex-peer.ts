// One Node process of the mutex benchmark's contended runs (test/bench/mutex.ts starts it):
//
//   mutex-peer.ts handoff <async|sync> <a|b> <mutex> <control region> <warm-up> <timed> <hold ns>
//   mutex-peer.ts fair <async|sync> <id> <mutex> <log region> <capacity>
//
// `async` locks with `await mutex.lock()`, `sync` with `mutex.lockSync()`. test/bench/mutex-ref.c
// does the same in C with pthread_mutex_lock, word for word.
//
// Hand-off: two processes take the lock in turn. Control words: [0] acquisitions, [1] side a is
// trying, [2] side b is trying, [3] done, [4] ready. Side a takes the lock first. The holder adds
// one to [0], waits until the other side says it is trying (it set its word and went into lock),
// holds on for <hold ns> more (so that the other is asleep in the lock by then), and unlocks; then it waits until [0] moves (the other holds the lock now), says it is trying and
// locks, which waits for the other's unlock. So every acquisition is a hand-off from the other
// process to a waiter, and the waits between are spins on the control words (yielding the CPU
// after 200 µs of spinning). Side a times each of its round trips, from its unlock to its next
// acquisition (two hand-offs), and prints "ok" and the timed ones in ns.
//
// Fairness: log words [0] acquisitions, [1] ready, [2] go, [3] stop, then from [8] the id of each
// acquisition's process. Every process, after the go: reads [0], locks, and (unless the harness
// said stop, or [0] reached <capacity>) writes its id at the next place, moves [0] on, and unlocks, again and again: the
// acquisitions by others while it was trying are the new [0] less the one it read first. Prints
// "ok <acquisitions> <most by others during one attempt> <sum of them>".
import koffi from 'koffi';
import { NamedMutex, SharedMemory, type MutexGuard } from '../../lib/index.ts';

const PATIENCE_NS = 60_000_000_000n;
const [what, mode, third, mutexName, regionName, arg6, arg7, arg8] = process.argv.slice(2);

function fail(why: string): never {
  console.error(`mutex-peer ${what} ${mode} ${third}: ${why}`);
  process.exit(3);
}

const sched_yield = koffi.load('libc.so.6').func('int sched_yield(void)');

/** Spins until `ok()`; after 200 µs of it, yields the CPU at every 64th turn; gives up after a minute. */
function spinUntil(ok: () => boolean): void {
  let start = 0n;
  for (let i = 1; !ok(); i++) {
    if ((i & 63) === 0) {
      const t = process.hrtime.bigint();
      if (start === 0n) start = t;
      else if (t - start > PATIENCE_NS) fail('no answer');
      else if (t - start > 200_000n) sched_yield();
    }
  }
}

const mutex = NamedMutex.openExisting(mutexName!);
const region = SharedMemory.openExisting(regionName!);
const words = new Int32Array(region.bytes.buffer, region.bytes.byteOffset, region.size >> 2);
const sync = mode === 'sync';
if (mode !== 'sync' && mode !== 'async') fail('mode is async or sync');

// A lock() that sleeps while the mutex is free (a lost wake-up: reported to the library's owner)
// would hang a run for good. So every lock call is bounded: at 1 s, lock() takes the mutex if it
// is free; a call that needed that, or any call of 900 ms or more, is counted as a stall and
// reported on a line of its own ("stalls N"), so that the figures never hide one.
const STALL_NS = 900_000_000n;
let stalls = 0;
function lockSyncBounded(): MutexGuard {
  const t0 = process.hrtime.bigint();
  for (;;) {
    try {
      const guard = mutex.lockSync(1000);
      if (process.hrtime.bigint() - t0 >= STALL_NS) stalls++;
      return guard;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ETIMEDOUT') throw e;
      stalls++;
    }
  }
}
async function lockAsyncBounded(): Promise<MutexGuard> {
  const t0 = process.hrtime.bigint();
  for (;;) {
    try {
      const guard = await mutex.lock({ timeout: 1000 });
      if (process.hrtime.bigint() - t0 >= STALL_NS) stalls++;
      return guard;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ETIMEDOUT') throw e;
      stalls++;
    }
  }
}

if (what === 'handoff') {
  const W = 0, TRYING = 1, DONE = 3, READY = 4;
  const side = third === 'a' ? 0 : 1;
  const other = 1 - side;
  const warm = Number(arg6);
  const timed = Number(arg7);
  const last = 2 * (warm + timed);
  const hold = BigInt(arg8 ?? 0);
  const ns = new Float64Array(timed);
  let n = 0;
  let released = 0n;
  let guard = side === 0 ? (sync ? lockSyncBounded() : await lockAsyncBounded()) : undefined;
  Atomics.add(words, READY, 1);
  spinUntil(() => Atomics.load(words, READY) === 2);
  if (side === 1) {
    Atomics.store(words, TRYING + side, 1);
    guard = (sync ? lockSyncBounded() : await lockAsyncBounded());
    Atomics.store(words, TRYING + side, 0);
  }
  const done = () => Atomics.load(words, DONE) !== 0;
  for (;;) {
    if (side === 0 && released !== 0n && Atomics.load(words, W) >= 2 * warm && n < timed) {
      ns[n++] = Number(process.hrtime.bigint() - released);
    }
    const v = Atomics.add(words, W, 1) + 1;
    if (v >= last) {
      Atomics.store(words, DONE, 1);
      guard!.unlock();
      break;
    }
    spinUntil(() => Atomics.load(words, TRYING + other) === 1 || done());
    // Hold on a little, so that the other process is asleep in the lock when it is released.
    for (const t = process.hrtime.bigint() + hold; process.hrtime.bigint() < t; );
    if (side === 0) released = process.hrtime.bigint();
    guard!.unlock();
    spinUntil(() => Atomics.load(words, W) !== v || done());
    if (done()) break;
    Atomics.store(words, TRYING + side, 1);
    guard = (sync ? lockSyncBounded() : await lockAsyncBounded());
    Atomics.store(words, TRYING + side, 0);
    if (done()) {
      guard.unlock();
      break;
    }
  }
  if (side === 0) process.stdout.write(`ok ${Array.from(ns.subarray(0, n), (v) => v.toFixed(0)).join(' ')}\n`);
  process.stdout.write(`stalls ${stalls}\n`);
} else if (what === 'fair') {
  const LOG_W = 0, LOG_READY = 1, LOG_GO = 2, LOG_STOP = 3, LOG_FIRST = 8;
  const id = Number(third);
  const total = Number(arg6);
  Atomics.add(words, LOG_READY, 1);
  while (Atomics.load(words, LOG_GO) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  let count = 0;
  let maxWaited = 0;
  let sumWaited = 0;
  for (;;) {
    const start = Atomics.load(words, LOG_W);
    const guard = (sync ? lockSyncBounded() : await lockAsyncBounded());
    const idx = Atomics.load(words, LOG_W);
    if (Atomics.load(words, LOG_STOP) !== 0 || idx >= total) {
      // The last attempt counts too: the others took the rest while this one was trying.
      if (idx - start > maxWaited) maxWaited = idx - start;
      guard.unlock();
      break;
    }
    Atomics.store(words, LOG_FIRST + idx, id);
    Atomics.store(words, LOG_W, idx + 1);
    const waited = idx - start;
    if (waited > maxWaited) maxWaited = waited;
    sumWaited += waited;
    count++;
    guard.unlock();
  }
  process.stdout.write(`ok ${count} ${maxWaited} ${sumWaited}\nstalls ${stalls}\n`);
} else {
  fail('usage: mutex-peer.ts handoff|fair ...');
}
mutex.close();
region.close();
