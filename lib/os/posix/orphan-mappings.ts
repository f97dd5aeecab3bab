// Mappings of worker threads that were terminated. A terminated worker runs no JavaScript at its
// end: Node closes the descriptors it opened (which releases its regions: see mappable() in
// region.ts), but nothing unmaps its mappings, and each pins its object's memory until the
// process ends. So every thread that maps records its mappings in a table in a SharedArrayBuffer
// and shows that table to the other threads of the process (a BroadcastChannel); any thread that
// opens a region later unmaps the mappings of threads that are gone.
//
// A thread is known gone when its liveness descriptor is: an unnamed file only it opened (so Node
// closes it at the worker's end), whose device and inode no other file has. Only that thread's
// own code could otherwise close it. The main thread never ends before the process, so it keeps
// no liveness descriptor and is never reaped.
//
// Gone also means the OS thread has ended, not only that Node closed its descriptors: a mapping
// may hold a robust mutex (os/linux/mutex.ts) on the thread's robust list, which the kernel walks
// when the thread exits. Unmapped before that, the mutex would never be marked abandoned.
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { BroadcastChannel, isMainThread } from 'node:worker_threads';
import { O_TMPFILE, type Libc } from './libc.js';
import { SHM_DIR } from './object-names.js';
import { kernelThreadId } from './thread-id.js';

const SLOTS = 256;
const HEADER = 5; // [0] liveness fd (-1: never reaped), [1..2] its dev and ino, [3] reaped flag, [4] OS thread id
const FIELDS = 3; // per slot: state, address, size
const FREE = 0n;
const LIVE = 1n;
const BUSY = 2n;

interface Table {
  /** Tables are told apart by this: each message carries a new view of the same memory. */
  id: string;
  words: BigInt64Array;
}

export interface OrphanMappings {
  /** Records a mapping; returns the forget() to call right before the owner unmaps it. */
  record(address: unknown, size: number): () => boolean;
  /** Unmaps the recorded mappings of threads that are gone. */
  reap(): void;
}

export function orphanMappings(c: Libc): OrphanMappings {
  const tables: Table[] = []; // ours, each of SLOTS slots
  const others = new Map<string, BigInt64Array>();
  // Open from the start, so that this thread hears of the tables of workers that map later.
  const channel = new BroadcastChannel('named-shm/mappings');
  channel.unref();
  channel.onmessage = (event: unknown) => {
    const { id, table } = ((event as { data?: unknown }).data ?? {}) as { id?: unknown; table?: unknown };
    if (typeof id !== 'string' || !(table instanceof BigInt64Array) || others.has(id) || reaped.has(id)) return;
    others.set(id, table);
    for (const t of tables) announce(t); // a newcomer learns ours once; it knows them afterwards
  };
  const reaped = new Set<string>();

  function liveness(): [bigint, bigint, bigint] {
    if (isMainThread) return [-1n, 0n, 0n];
    try {
      const fd = fs.openSync(SHM_DIR, O_TMPFILE | fs.constants.O_RDWR, 0o600);
      const st = fs.fstatSync(fd, { bigint: true });
      return [BigInt(fd), st.dev, st.ino];
    } catch {
      return [-1n, 0n, 0n]; // no O_TMPFILE here: this thread's mappings are never reaped
    }
  }

  function announce(table: Table): void {
    channel.postMessage({ id: table.id, table: table.words });
  }

  function newTable(): Table {
    const words = new BigInt64Array(new SharedArrayBuffer((HEADER + SLOTS * FIELDS) * 8));
    const [fd, dev, ino] = tables.length ? [tables[0]!.words[0]!, tables[0]!.words[1]!, tables[0]!.words[2]!] : liveness();
    words[0] = fd;
    words[1] = dev;
    words[2] = ino;
    words[4] = tables.length ? tables[0]!.words[4]! : BigInt(kernelThreadId());
    const table = { id: randomUUID(), words };
    tables.push(table);
    announce(table);
    return table;
  }

  function gone(words: BigInt64Array): boolean {
    const fd = Number(words[0]);
    if (fd < 0) return false;
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      if (st.dev === words[1] && st.ino === words[2]) return false;
    } catch {
      // closed: the thread has ended or is ending
    }
    // /proc/self/task/<tid> outlives the thread's exit_robust_list() (it goes at release_task).
    return !(words[4]! > 0n && fs.existsSync(`/proc/self/task/${words[4]}`));
  }

  return {
    record(address, size) {
      for (const table of tables.length ? tables : [newTable()]) {
        const w = table.words;
        for (let i = 0; i < SLOTS; i++) {
          const at = HEADER + i * FIELDS;
          if (w[at] !== FREE) continue;
          w[at + 1] = address as bigint;
          w[at + 2] = BigInt(size);
          Atomics.store(w, at, LIVE);
          // The owner takes the slot back before it unmaps; false if a reaper already had it.
          return () => Atomics.compareExchange(w, at, LIVE, BUSY) === LIVE && (Atomics.store(w, at, FREE), true);
        }
      }
      newTable();
      return this.record(address, size);
    },
    reap() {
      for (const [id, words] of others) {
        if (Atomics.load(words, 3) === 0n) {
          if (!gone(words)) continue;
          Atomics.store(words, 3, 1n);
        }
        for (let i = 0; i < SLOTS; i++) {
          const at = HEADER + i * FIELDS;
          if (Atomics.compareExchange(words, at, LIVE, BUSY) !== LIVE) continue;
          c.munmap(words[at + 1], Number(words[at + 2]));
          Atomics.store(words, at, FREE);
        }
        others.delete(id);
        reaped.add(id);
      }
    },
  };
}
