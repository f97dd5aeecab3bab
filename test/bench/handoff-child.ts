// The other process of the hand-off cases, forked by test/bench/run.ts (with its execArgv, so tsx
// loads this file). Two jobs:
// - a string message is sent straight back (the `child_process.fork` + `process.send` reference);
// - `{ type: 'spin' }` opens two regions and answers every request the parent posts in the flag
//   region, by reading the string and writing it back (the named-shm hand-off), until the parent
//   posts -1 or nothing comes for a while.
import { SharedMemory } from '../../lib/index.ts';

const MAX_PATH = 260;
/** A spinning child with no request for this long gives up, so a dead parent never leaves it. */
const IDLE_MS = 20_000;

interface SpinRequest {
  type: 'spin';
  data: string;
  flag: string;
}

function spin(request: SpinRequest): number {
  const data = SharedMemory.openExisting(request.data);
  const flagRegion = SharedMemory.openExisting(request.flag);
  const bytes = flagRegion.bytes;
  const flag = new Int32Array(bytes.buffer, bytes.byteOffset, 1);
  let last = 0;
  let answered = 0;
  let spins = 0;
  let seen = 0;
  let since = Date.now();
  try {
    process.send!({ type: 'spinning' });
    for (;;) {
      const v = Atomics.load(flag, 0);
      if (v === -1) break;
      if ((v & 1) === 1 && v !== last) {
        data.writeString(data.readString(MAX_PATH));
        last = v;
        answered++;
        Atomics.store(flag, 0, v + 1);
        continue;
      }
      // Now and then (never on the answering path), see whether the parent has gone quiet.
      if ((++spins & 0xfffff) === 0) {
        const now = Date.now();
        if (answered !== seen) {
          seen = answered;
          since = now;
        } else if (now - since > IDLE_MS) break;
      }
    }
  } finally {
    data.close();
    flagRegion.close();
  }
  return answered;
}

process.on('message', (message: unknown) => {
  if (typeof message === 'string') {
    process.send!(message);
    return;
  }
  const request = message as { type?: string };
  if (request.type === 'spin') {
    const answered = spin(message as SpinRequest);
    process.send!({ type: 'spun', answered });
  } else if (request.type === 'exit') {
    process.disconnect();
  }
});
process.send!({ type: 'ready' });
