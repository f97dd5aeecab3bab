// The process test/bench/mutex.ts runs under `strace -f` to count the system calls of an
// uncontended `tryLock()` + `guard.unlock()`:
//
//   mutex-calls.ts <mutex name> <pairs>
//
// It opens a mutex nobody else holds, warms the pair up (so the counted loop runs optimized code),
// then makes <pairs> pairs between two marker system calls: an access(2) of a path that does not
// exist, whose name says where the loop begins and ends. The harness counts what strace saw
// between the markers.
import fs from 'node:fs';
import { NamedMutex } from '../../lib/index.ts';

const [name, pairsArg] = process.argv.slice(2);
const pairs = Number(pairsArg);
if (!name || !Number.isInteger(pairs) || pairs < 1) {
  console.error('usage: mutex-calls.ts <mutex name> <pairs>');
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

const mutex = NamedMutex.create(name);
for (let i = 0; i < 20_000; i++) mutex.tryLock()!.unlock();

let got = 0;
marker('trylock-begin');
for (let i = 0; i < pairs; i++) {
  const guard = mutex.tryLock();
  if (guard) {
    got++;
    guard.unlock();
  }
}
marker('trylock-end');

mutex.close();
process.stdout.write(`ok ${got}\n`);
