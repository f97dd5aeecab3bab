// Reading while another process writes, and writing while another process reads: there is no
// synchronisation (as in the sample), so a read may see a string half-written by the other side,
// but every result is defined: a string, within the limit and the region, made only of units a
// writer stored. Never a crash, a throw, or a byte from outside the region.
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { track, uniqueName } from '../helpers.js';
import { TIMEOUT, Worker, randomInt, recordFigures, scale } from './support.js';

const OPERATIONS = scale(1_000_000, 10_000_000);
const SIZE = 4096;
/** The fixture writes at most this many units, keeping clear of the stop flag in the last byte. */
const MAX_UNITS = Math.floor((SIZE - 16) / 2) - 1;

/** What a read may give while an 'A…' / 'B…' writer runs; undefined when it is fine. */
function problemWith(text: unknown, limit: number, capacity: number): string | undefined {
  if (typeof text !== 'string') return 'not a string';
  if (text.length > Math.min(limit - 1, capacity)) return `longer than allowed: ${text.length}`;
  if (!/^[AB]*$/.test(text)) return `foreign units: ${JSON.stringify(text.replace(/[AB]+/g, '…').slice(0, 40))}`;
  return undefined;
}

async function withPeer(role: 'writer' | 'reader') {
  const name = uniqueName('torn');
  const region = track(SharedMemory.open(name, { size: SIZE }));
  const peer = new Worker('torn-io.mjs', [role, name]);
  await peer.next(); // ready: it runs its loop now
  return { region, peer, stop: () => (region.bytes[SIZE - 1] = 1) };
}

describe('reading and writing at the same time in two processes', () => {
  it(
    'reads while another process writes give a string within the limit, made only of written units',
    async () => {
      const { region, peer, stop } = await withPeer('writer');
      let torn = 0;
      const problems = new Map<string, number>();
      for (let i = 0; i < OPERATIONS; i++) {
        // No limit, a small one, or any up to past the region, by turns (as torn-io.mjs does).
        const limit = i % 3 === 0 ? Infinity : 1 + randomInt(i % 3 === 1 ? 160 : MAX_UNITS + 8);
        const text = region.readString(limit);
        const problem = problemWith(text, limit, region.capacity);
        if (problem) problems.set(problem, (problems.get(problem) ?? 0) + 1);
        if (text.includes('A') && text.includes('B')) torn++;
      }
      stop();
      const { writes } = await peer.next();
      expect(await peer.exit).toEqual({ code: 0, signal: null });
      recordFigures('concurrent-io/read-while-written', { reads: OPERATIONS, writesMeanwhile: writes, tornReads: torn, problems: [...problems] });
      expect([...problems]).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'writes while another process reads leave it only defined results',
    async () => {
      const { region, peer, stop } = await withPeer('reader');
      // Mostly short strings (reads of them take other paths than long ones), else any length.
      for (let i = 0; i < OPERATIONS; i++) {
        region.writeString((i % 2 ? 'B' : 'A').repeat(randomInt(Math.random() < 0.75 ? 48 : MAX_UNITS)));
      }
      stop();
      const report = await peer.next();
      expect(await peer.exit).toEqual({ code: 0, signal: null });
      recordFigures('concurrent-io/write-while-read', { writes: OPERATIONS, readsMeanwhile: report.reads, tornReads: report.torn, bad: report.bad });
      expect(report).toMatchObject({ bad: 0 });
    },
    TIMEOUT,
  );
});
