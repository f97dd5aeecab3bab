// Asynchronous futex waits for one JavaScript thread, without blocking its event loop and without
// holding a libuv threadpool thread: threads of our own (futex-watcher-thread.ts) sleep on every
// watched word at once and post a message when one changes; this side then polls the waits and
// re-arms them. One watcher thread carries FUTEX_WAITV_MAX - 1 distinct words; more are spread
// over more threads. Kernels before 5.16 lack futex_waitv: the waits are then polled on a timer.
import { createRequire } from 'node:module';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { CONTROL, WATCHER_THREAD_SOURCE } from './futex-watcher-thread.js';
import {
  CLOCK_MONOTONIC,
  FUTEX2_SIZE_U32,
  FUTEX_WAIT,
  FUTEX_WAITV_MAX,
  MAX_SLEEP_MS,
  SYS_futex,
  SYS_futex_waitv,
  addressOf,
  futex,
} from './futex.js';

/** One pending wait: the word it sleeps on while it holds `expected`, and what ends it. */
export interface Watch {
  address: bigint;
  expected: number;
  /** Looks at the word; true when the wait is over (it has then called its own callback). */
  poll(): boolean;
  /**
   * The word's wakers wake one sleeper only (a mutex): a FUTEX_WAKE that the watcher thread
   * receives for it and that no wait takes any more is passed on to another sleeper.
   */
  handOn?: boolean;
}

const PER_THREAD = FUTEX_WAITV_MAX - 1; // one entry is the control word
/** How long a watcher thread sleeps at most before it looks whether it must quit. */
const SLICE_MS = MAX_SLEEP_MS;
/** How long the end of this thread waits at most for a watcher thread still starting. */
const STARTUP_WAIT_MS = 5000;
/** Without futex_waitv (Linux < 5.16), how often pending waits look at their words. */
const POLL_MS = 4;

interface WatcherThread {
  worker: Worker;
  control: Int32Array;
  addresses: BigUint64Array;
  expected: Uint32Array;
  controlAddress: bigint;
  /** It ended with an error (it may never have started). */
  failed: boolean;
}

export class FutexWatcher {
  readonly #watches = new Set<Watch>();
  readonly #threads: WatcherThread[] = [];
  #pollTimer: NodeJS.Timeout | undefined;
  #noWaitv = false;
  #exitHooked = false;
  /** The words the threads sleep on now, as `address:expected` keys. */
  #armed = '';
  /** A thread reported a wake-up and sleeps until it is given a set again. */
  #reported = false;
  #scheduled = false;
  /** Words watched with `handOn`: a watcher thread may sleep on one after its waits have ended. */
  readonly #handOn = new Set<bigint>();

  /** Starts watching; `poll` runs at once and after every change. Returns the way to stop. */
  watch(w: Watch): () => void {
    if (w.poll()) return () => {};
    if (w.handOn) this.#handOn.add(w.address);
    this.#watches.add(w);
    this.#schedulePublish();
    return () => {
      if (this.#watches.delete(w)) this.#schedulePublish();
    };
  }

  get pending(): number {
    return this.#watches.size;
  }

  #refresh(): void {
    for (const w of this.#watches) if (w.poll()) this.#watches.delete(w);
    this.#schedulePublish();
  }

  // After the current job's microtasks: a waiter woken here that at once waits again (a
  // ping-pong) then changes the set once instead of twice.
  #schedulePublish(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#publish();
    });
  }

  #publish(): void {
    if (this.#noWaitv) {
      if (this.#watches.size > 0) this.#pollTimer ??= setInterval(() => this.#refresh(), POLL_MS);
      else if (this.#pollTimer) {
        clearInterval(this.#pollTimer);
        this.#pollTimer = undefined;
      }
      return;
    }
    // Waits on the same word for the same value share an entry.
    const distinct = new Map<string, { address: bigint; expected: number }>();
    for (const w of this.#watches) distinct.set(`${w.address}:${w.expected}`, w);
    const pairs = [...distinct.values()];
    const armed = [...distinct.keys()].join(',');
    if (armed === this.#armed && !this.#reported) return; // the threads already sleep on exactly these
    this.#armed = armed;
    this.#reported = false;
    const needed = Math.ceil(pairs.length / PER_THREAD);
    while (this.#threads.length < needed) this.#threads.push(this.#startThread());
    const wake = futex();
    this.#threads.forEach((t, i) => {
      const chunk = pairs.slice(i * PER_THREAD, (i + 1) * PER_THREAD);
      chunk.forEach((p, j) => {
        t.addresses[j] = p.address;
        t.expected[j] = p.expected;
      });
      Atomics.store(t.control, CONTROL.COUNT, chunk.length);
      // Nothing to watch: the thread may sleep on as it is (on words nobody waits for any more, or
      // until it is given a set after its report). Not waking it halves the wake-ups of a
      // ping-pong, where the set goes empty and full again at every round.
      if (chunk.length === 0) return;
      Atomics.add(t.control, CONTROL.GEN, 1);
      wake.wake(t.controlAddress, 1);
    });
  }

  #startThread(): WatcherThread {
    const max = PER_THREAD;
    const buffer = new SharedArrayBuffer(CONTROL.ADDRESSES + 8 * max + 4 * max);
    const control = new Int32Array(buffer, 0, 4);
    const controlAddress = addressOf(control);
    const { EAGAIN, ETIMEDOUT, EINTR, ENOSYS } = os.constants.errno;
    const worker = new Worker(WATCHER_THREAD_SOURCE, {
      eval: true,
      name: 'named-shm futex watcher',
      workerData: {
        koffi: createRequire(import.meta.url).resolve('koffi'),
        control: buffer,
        controlAddress,
        max,
        sliceMs: SLICE_MS,
        SYS_futex,
        SYS_futex_waitv,
        FUTEX_WAIT,
        FUTEX2_SIZE_U32,
        CLOCK_MONOTONIC,
        EAGAIN,
        ETIMEDOUT,
        EINTR,
        ENOSYS,
      },
      // None of this process's flags: `--input-type=module` would make this CommonJS source an
      // ES module, `--import` would load a loader into it.
      execArgv: [],
      // Its own small heap: it allocates almost nothing.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
      stdout: false,
      stderr: false,
    });
    worker.on('message', (m) => {
      if (m === 'ENOSYS') this.#fallBackToPolling();
      else {
        this.#reported = true;
        this.#refresh();
        const woken = (m as { woken?: unknown }).woken;
        if (typeof woken === 'bigint' && this.#handOn.has(woken) && ![...this.#watches].some((w) => w.address === woken)) {
          futex().wake(woken, 1);
        }
      }
    });
    // A watcher thread that fails (no koffi in that thread, say) must not strand the waits.
    worker.on('error', () => {
      thread.failed = true;
      this.#fallBackToPolling();
    });
    const thread: WatcherThread = {
      worker,
      control,
      addresses: new BigUint64Array(buffer, CONTROL.ADDRESSES, max),
      expected: new Uint32Array(buffer, CONTROL.ADDRESSES + 8 * max, max),
      controlAddress,
      failed: false,
    };
    // Never keeps the process alive: pending waits do that (sync/pending-waits.ts). After the
    // listeners: on Node 20 a 'message' listener added to an unreferenced worker references it
    // again, and the process would then never end on its own.
    worker.unref();
    if (!this.#exitHooked) {
      this.#exitHooked = true;
      // Without this, the end of this thread would wait for the watcher's current slice.
      process.once('exit', () => this.#stopThreads(true));
    }
    return thread;
  }

  #fallBackToPolling(): void {
    if (this.#noWaitv) return;
    this.#noWaitv = true;
    this.#stopThreads(false);
    this.#publish();
  }

  #stopThreads(atExit: boolean): void {
    for (const t of this.#threads.splice(0)) {
      // A thread that Node terminates inside koffi's set-up (koffi.load) aborts the process
      // ("napi_throw" is fatal while its environment ends): let it get past that first.
      if (atExit && !t.failed) Atomics.wait(t.control, CONTROL.READY, 0, STARTUP_WAIT_MS);
      Atomics.store(t.control, CONTROL.QUIT, 1);
      Atomics.add(t.control, CONTROL.GEN, 1);
      futex().wake(t.controlAddress, 1);
      t.worker.unref();
    }
  }
}

let watcher: FutexWatcher | undefined;

/** This JavaScript thread's watcher, made on first use. */
export function futexWatcher(): FutexWatcher {
  return (watcher ??= new FutexWatcher());
}
