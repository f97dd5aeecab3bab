// Attach storm: 32 processes open the same new name at the same moment, round after round.
// Each round must have exactly one creator, every mapping must be as large as asked (a view over
// an object not yet sized would be short, or die with SIGBUS at its last byte), everyone must
// read the creator's token once it is written, and the name must be gone after the last close.
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { exists, isLinux, isPosix, isWindows, shmPath, uniqueName } from '../helpers.js';
import { TIMEOUT, Worker, randomInt, recordFigures, scale, type Line } from './support.js';

const PROCESSES = 32;
const ROUNDS = scale(100, 1000);
/** Odd, page-sized, and larger than a page, so a short mapping cannot hide in a page's slack. */
const SIZES = [64, 4095, 4096, 4097, 65_537, 1 << 20];

type Route = 'O_TMPFILE + linkat' | 'shm_open' | 'mixed' | 'default';
const routes: Route[] = isLinux ? ['O_TMPFILE + linkat', 'shm_open', 'mixed'] : ['default'];

function envFor(route: Route, index: number): Record<string, string> {
  const viaShmOpen = route === 'shm_open' || (route === 'mixed' && index % 2 === 1);
  return viaShmOpen ? { NAMED_SHM_CREATE_ROUTE: 'shm_open' } : {};
}

async function broadcast(workers: Worker[], line: string): Promise<Line[]> {
  for (const w of workers) w.send(line);
  return Promise.all(workers.map((w) => w.next()));
}

describe('attach storm', () => {
  it.each(routes)(
    `${PROCESSES} processes opening one new name at once: one creator, full size, one content, then gone (%s)`,
    async (route) => {
      const workers = Array.from(
        { length: PROCESSES },
        (_, i) => new Worker('storm-worker.mjs', [], envFor(route, i), ['--expose-gc']),
      );
      await Promise.all(workers.map((w) => w.next())); // each says it is ready
      const problems: unknown[] = [];
      let rounds = 0;
      let opens = 0;
      let sawEmptyBeforeToken = 0;
      for (let r = 1; r <= ROUNDS && problems.length === 0; r++) {
        const name = uniqueName('storm');
        const size = SIZES[randomInt(SIZES.length)]!;
        const opened = await broadcast(workers, `open ${r} ${name} ${size}`);
        opens += opened.length;
        const failed = opened.filter((o) => o.error);
        if (failed.length) problems.push({ round: r, size, failed });
        const creators = opened.filter((o) => o.created === true);
        if (creators.length !== 1) problems.push({ round: r, size, creators: creators.length });
        for (const o of opened) {
          if (o.error) continue;
          // Windows reports an existing section in whole pages (README, "Windows"); the creator,
          // and everyone on POSIX, gets exactly the size asked.
          const expected = isWindows && o.created === false ? Math.ceil(size / 4096) * 4096 : size;
          if (o.size !== expected || o.view !== expected) problems.push({ round: r, asked: size, expected, got: o });
          if (o.created === true && o.zeros !== true) problems.push({ round: r, creatorSawNonZero: o });
        }
        const token = creators[0]?.token as string | undefined;
        for (const o of opened) {
          if (o.created !== false || token === undefined) continue;
          // Read before or while the creator wrote: a prefix of its token (empty included), never
          // anything else.
          if (!token.startsWith(o.seen as string)) problems.push({ round: r, token, seen: o.seen });
          if (o.seen === '') sawEmptyBeforeToken++;
        }
        const checked = await broadcast(workers, `check ${r}`);
        for (const c of checked) if (c.text !== token) problems.push({ round: r, token, read: c });
        const closed = await broadcast(workers, `close ${r}`);
        for (const c of closed) if (c.closed !== true) problems.push({ round: r, close: c });
        let reopened: string | undefined;
        try {
          SharedMemory.openExisting(name).close();
          reopened = 'opened';
        } catch (e) {
          reopened = (e as { code?: string }).code;
        }
        if (reopened !== 'ENOENT') problems.push({ round: r, afterLastClose: reopened });
        if (isPosix && isLinux && exists(shmPath(name))) problems.push({ round: r, leftInDevShm: name });
        rounds = r;
      }
      for (const w of workers) w.end();
      const exits = await Promise.all(workers.map((w) => w.exit));
      const crashed = exits.filter((e) => e.code !== 0 || e.signal !== null);
      recordFigures(`storm/${route}`, {
        processes: PROCESSES,
        rounds,
        opens,
        creatorsPerRound: problems.length === 0 ? 1 : 'see problems',
        readBeforeCreatorWrote: sawEmptyBeforeToken,
        problems: problems.length,
        crashed: crashed.length,
      });
      expect(problems).toEqual([]);
      expect(crashed).toEqual([]);
      expect(rounds).toBe(ROUNDS);
    },
    TIMEOUT,
  );
});
