// Processes update one shared record under a NamedMutex. The first is killed in the middle of an
// update, holding the lock; then two more update it at the same time. The first of them to lock
// gets the lock at once, is told it was abandoned, and repairs the half-written record; no update
// of the two is lost. Run: npx tsx demo/mutex-record.ts
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NamedMutex, SharedMemory } from '../lib/index.js';

const RECORD = 'Local\\DemoAccount'; // entries (u32) and balance (u32): balance = 100 * entries
const LOCK = 'Local\\DemoAccountLock';
const UPDATES = 1000;

function openRecord(): { region: SharedMemory; entries: () => number; balance: () => number; set(e: number, b: number): void } {
  const region = SharedMemory.open(RECORD, { size: 8 });
  const words = new Uint32Array(region.bytes.buffer, region.bytes.byteOffset, 2);
  return {
    region,
    entries: () => words[0]!,
    balance: () => words[1]!,
    set(e, b) {
      words[0] = e;
      words[1] = b;
    },
  };
}

async function updater(crashAt: number): Promise<void> {
  const record = openRecord();
  const mutex = NamedMutex.open(LOCK);
  for (let i = 1; i <= UPDATES; i++) {
    await mutex.withLock((guard) => {
      if (guard.abandoned) {
        // The last holder died inside its update: the record may be half-written. Repair it.
        console.log(`pid ${process.pid}: lock abandoned by a dead holder; repairing the record (entries ${record.entries()}, balance ${record.balance()})`);
        record.set(record.entries(), record.entries() * 100);
      }
      const entries = record.entries() + 1;
      record.set(entries, record.balance()); // half of the update...
      if (i === crashAt) process.kill(process.pid, 'SIGKILL'); // ...and this process dies holding the lock
      record.set(entries, record.balance() + 100);
    });
  }
  mutex.close();
  record.region.close();
}

async function parent(): Promise<void> {
  // Held here, so that the record and the mutex outlive the children: as on Windows, a mutex whose
  // last holder dies goes away with it, and the next open makes a new one.
  const record = openRecord();
  const mutex = NamedMutex.open(LOCK);
  const self = fileURLToPath(import.meta.url);
  const run = (crashAt: number) =>
    new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, self, String(crashAt)], { stdio: 'inherit' });
      child.on('exit', (code, signal) => resolve(signal ?? `exit code ${code}`));
    });
  console.log(`first updater: ${await run(300)}`);
  const [b, c] = await Promise.all([run(0), run(0)]);
  console.log(`second and third updaters: ${b}, ${c}`);
  // 299 whole updates and one half-written by the first, 1000 by each of the others.
  const consistent = record.balance() === record.entries() * 100 && record.entries() === 300 + 2 * UPDATES;
  console.log(`record: ${record.entries()} entries, balance ${record.balance()} (${consistent ? 'consistent' : 'INCONSISTENT'})`);
  record.region.close();
  mutex.close();
  if (!consistent) process.exitCode = 1;
}

const crashAt = process.argv[2];
if (crashAt === undefined) await parent();
else await updater(Number(crashAt));
