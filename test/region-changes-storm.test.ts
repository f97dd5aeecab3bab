// The storm of issue 10: one process writes an increasing value into a region and notifies after
// each write, 10,000 times; readers in three other processes sleep in waitForChange() and read
// the value after each wake. None may see the value go back, none may be woken with a count it
// already had, and every one must reach the last value: a wait that outlived a change would
// leave its reader asleep for good (the test would time out).
import { describe, expect, it } from 'vitest';
import { startActor, type Actor } from './change-actors.js';
import { isLinux, openTracked, uniqueName } from './helpers.js';

const WRITES = 10_000;
const READERS = 3;

interface Observed {
  counts: number[];
  values: number[];
}

function expectOrderlyReader({ counts, values }: Observed): void {
  expect(counts.length).toBe(values.length);
  for (let i = 0; i < counts.length; i++) {
    // Woken with a count it had not seen (the counter starts at 0 and does not wrap here).
    if (counts[i]! <= (i === 0 ? 0 : counts[i - 1]!)) expect.fail(`wake ${i}: count ${counts[i]} after ${counts[i - 1] ?? 0}`);
    // The value is stored before the notify that made the count, so it is at least the count.
    if (values[i]! < counts[i]!) expect.fail(`wake ${i}: value ${values[i]} older than count ${counts[i]}`);
    if (i > 0 && values[i]! < values[i - 1]!) expect.fail(`wake ${i}: value ${values[i]} after ${values[i - 1]}`);
  }
  expect(values.at(-1)).toBe(WRITES);
}

async function storm(readerMode: 'async' | 'sync'): Promise<void> {
  const name = uniqueName('storm');
  const region = openTracked(name);
  expect(region.changeCount).toBe(0);
  const readers: Actor[] = [];
  for (let i = 0; i < READERS; i++) {
    readers.push(startActor('storm-reader', name, String(WRITES), ...(readerMode === 'sync' ? ['sync'] : [])));
  }
  for (const r of readers) expect(await r.next()).toEqual({ ready: true, count: 0 });
  const writer = startActor('storm-writer', name, String(WRITES));
  expect(await writer.next()).toEqual({ done: WRITES, count: WRITES });
  for (const r of readers) expectOrderlyReader(await r.next<Observed>());
  for (const r of [writer, ...readers]) expect(await r.exit).toBe(0);
  expect(region.changeCount).toBe(WRITES);
}

describe.runIf(isLinux)('the notify storm (Linux)', () => {
  it('readers in three processes, woken by waitForChange(), see the value only grow and all reach the last one', async () => {
    await storm('async');
  }, 180_000);

  it('readers in worker threads of three processes, woken by waitForChangeSync(), see the same', async () => {
    await storm('sync');
  }, 180_000);
});
