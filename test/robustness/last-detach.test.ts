// Attach during the last detach: "closer" processes open and close one name in a loop, so the
// region keeps being created and released, while "opener" processes keep opening it and check
// what they got. Nobody may end up on an object the name no longer reaches (a split brain: two
// holders of "the same" name writing to different memory), and nothing may throw that a user
// could not act on (openExisting may say ENOENT between two generations of the region: true).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { exists, isLinux, shmPath, uniqueName } from '../helpers.js';
import { TIMEOUT, Worker, tempDir, recordFigures, scale, type Line } from './support.js';

const CLOSERS = 4;
const OPENERS = scale(2, 4);
const ITERATIONS = scale(10_000, 100_000);

function sum(reports: Line[], key: string): number {
  return reports.reduce((n, r) => n + Number(r[key] ?? 0), 0);
}

describe('attach during the last detach', () => {
  it(
    'processes opening a name while its last holder closes it never get an object the name no longer reaches',
    async () => {
      const name = uniqueName('churn');
      const go = path.join(tempDir(), 'go');
      const spawnAs = (role: string, i: number) =>
        new Worker(
          'churn-worker.mjs',
          [role, name, String(i), String(ITERATIONS), go],
          // On Linux, half of each role creates through shm_open, half through O_TMPFILE + linkat.
          isLinux && i % 2 === 1 ? { NAMED_SHM_CREATE_ROUTE: 'shm_open' } : {},
          ['--expose-gc'],
        );
      const closers = Array.from({ length: CLOSERS }, (_, i) => spawnAs('closer', i));
      const openers = Array.from({ length: OPENERS }, (_, i) => spawnAs('opener', CLOSERS + i));
      const all = [...closers, ...openers];
      await Promise.all(all.map((w) => w.next())); // ready
      fs.writeFileSync(go, '');
      const openerReports = await Promise.all(openers.map((w) => w.next()));
      fs.rmSync(go); // the closers stop
      const closerReports = await Promise.all(closers.map((w) => w.next()));
      const exits = await Promise.all(all.map((w) => w.exit));
      const reports = [...closerReports, ...openerReports];

      const errors: Record<string, number> = {};
      for (const r of reports) {
        for (const [code, n] of Object.entries((r.errors ?? {}) as Record<string, number>)) errors[code] = (errors[code] ?? 0) + n;
      }
      recordFigures('last-detach', {
        closers: CLOSERS,
        openers: OPENERS,
        opensPerOpener: ITERATIONS,
        checkedHolds: sum(openerReports, 'held'),
        closerCycles: sum(closerReports, 'cycles'),
        regionGenerations: sum(reports, 'created'),
        absentBetweenGenerations: sum(openerReports, 'absent'),
        orphans: sum(openerReports, 'orphans'),
        errors,
      });
      expect(openerReports.flatMap((r) => r.firstOrphans as unknown[])).toEqual([]);
      expect(sum(openerReports, 'orphans')).toBe(0);
      expect(errors).toEqual({});
      expect(exits.every((e) => e.code === 0 && e.signal === null)).toBe(true);
      // The region really went through many generations, each ended by a last close.
      expect(sum(reports, 'created')).toBeGreaterThan(1);
      expect(() => SharedMemory.openExisting(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      if (isLinux) expect(exists(shmPath(name))).toBe(false);
    },
    TIMEOUT,
  );
});
