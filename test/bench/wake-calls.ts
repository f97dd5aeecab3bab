// The process test/bench/wake.ts runs under `strace -f` to count the system calls of `notify()`
// and `set()` with nobody waiting:
//
//   wake-calls.ts <name prefix> <calls>
//
// It opens a region and an auto-reset event that nobody else holds, warms both calls up (so the
// counted loops run optimized code), then makes <calls> calls of each between two marker system
// calls: an access(2) of a path that does not exist, whose name says where the loop begins and
// ends. The harness counts what strace saw between the markers.
import fs from 'node:fs';
import { NamedEvent, SharedMemory } from '../../lib/index.ts';

const [prefix, callsArg] = process.argv.slice(2);
const calls = Number(callsArg);
if (!prefix || !Number.isInteger(calls) || calls < 1) {
  console.error('usage: wake-calls.ts <name prefix> <calls>');
  process.exit(2);
}

/** One access(2) that strace shows with this path; the file never exists. */
function marker(what: string): void {
  try {
    fs.accessSync(`/nonexistent-named-shm-bench-marker-${what}`);
  } catch {
    // expected: ENOENT
  }
}

const region = SharedMemory.open(`${prefix}-calls`, { size: 4096 });
const event = NamedEvent.open(`${prefix}-calls-event`);
region.notify(); // opens the change counter (a system call or ten, once)
for (let i = 0; i < 20_000; i++) {
  region.notify();
  event.set();
}

let last = 0;
marker('notify-begin');
for (let i = 0; i < calls; i++) last = region.notify();
marker('notify-end');
marker('set-begin');
for (let i = 0; i < calls; i++) event.set();
marker('set-end');

event.close();
region.close();
process.stdout.write(`ok ${last}\n`);
