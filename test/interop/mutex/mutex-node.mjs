// The Node side of the mutex interop suite (test/interop-mutex.test.ts), a real process using the
// built package as a user's program would, printing one JSON line per step:
//   hold NAME                 lock(); prints {held, abandoned}; waits for a stdin line; unlocks;
//                             prints {unlocked}. The suite SIGKILLs it while it holds, too.
//   count NAME REGION N MODE  prints {ready}, waits for a stdin line, then N times: lock (MODE
//                             `async`: await lock(); `sync`: lockSync()); read the u32 at byte 0
//                             of REGION, (async: let a macrotask turn run), write
//                             it + 1; unlock. Prints {done, abandoned}.
import { createInterface } from 'node:readline';
import { setImmediate as turn } from 'node:timers/promises';
import { NamedMutex, SharedMemory } from '../../../dist/index.js';

const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const nextLine = () => lines.next();

const [action, name, regionName, nArg, mode] = process.argv.slice(2);
const mutex = NamedMutex.openExisting(name);

if (action === 'hold') {
  const guard = await mutex.lock();
  say({ held: true, abandoned: guard.abandoned });
  await nextLine();
  guard.unlock();
  say({ unlocked: true });
} else if (action === 'count') {
  const region = SharedMemory.openExisting(regionName);
  const word = new Uint32Array(region.bytes.buffer, region.bytes.byteOffset, 1);
  const n = Number(nArg);
  say({ ready: true });
  await nextLine();
  let abandoned = 0;
  for (let i = 0; i < n; i++) {
    const guard = mode === 'sync' ? mutex.lockSync() : await mutex.lock();
    if (guard.abandoned) abandoned++;
    const v = word[0];
    if (mode !== 'sync') await turn();
    word[0] = v + 1;
    guard.unlock();
  }
  region.close();
  say({ done: n, abandoned });
} else {
  console.error(`mutex-node: unknown action ${action}`);
  process.exit(2);
}
mutex.close();
process.exit(0);
