// Crashes: holders killed with SIGKILL at random points of their open / write / close loop
// (TerminateProcess on Windows). Survivors keep working on the same region; when the last holder
// is gone the region is released, whichever step it died in; a region kept with `persist` is never
// released by a death. The kill points are random; each worker records the step it is in, so the
// figures say where the kills landed.
import fs from 'node:fs';
import path from 'node:path';
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { exists, isLinux, isPosix, shmPath, track, uniqueName } from '../helpers.js';
import { TIMEOUT, Worker, tempDir, openElsewhere, randomInt, recordFigures, scale, sleepMs, type Line } from './support.js';

const PHASES = ['starting', 'opening', 'writing', 'closing', 'between cycles'] as const;
const MARKER = 'SURVIVOR';

class Holders {
  readonly phaseFile: string;
  readonly kills: Record<string, number> = Object.fromEntries(PHASES.map((p) => [p, 0]));
  readonly anomalies: Line[] = [];
  readonly workers: Worker[] = [];

  constructor(
    readonly name: string,
    readonly count: number,
    readonly marker: string,
    readonly persist = false,
  ) {
    this.phaseFile = path.join(tempDir(), 'phases');
    fs.writeFileSync(this.phaseFile, Buffer.alloc(count));
  }

  /** Starts the holder in `slot`; resolves once it runs its loop. */
  async start(slot: number): Promise<Worker> {
    // On Linux, odd slots create through shm_open, even ones through O_TMPFILE + linkat.
    const env: Record<string, string> = isLinux && slot % 2 === 1 ? { NAMED_SHM_CREATE_ROUTE: 'shm_open' } : {};
    const args = [this.name, String(slot), this.phaseFile, this.marker, ...(this.persist ? ['persist'] : [])];
    const w = new Worker('crash-worker.mjs', args, env, ['--expose-gc']);
    this.workers[slot] = w;
    await w.next();
    return w;
  }

  async startAll(): Promise<void> {
    await Promise.all(Array.from({ length: this.count }, (_, slot) => this.start(slot)));
  }

  /** Kills the holder in `slot` after a random delay and notes where it was. */
  async kill(slot: number, maxDelayMs: number): Promise<void> {
    const w = this.workers[slot]!;
    await sleepMs(randomInt(maxDelayMs + 1));
    w.kill();
    const { signal } = await w.exit;
    expect(signal).toBe('SIGKILL');
    this.kills[PHASES[fs.readFileSync(this.phaseFile)[slot]!] ?? 'starting']!++;
    this.#collect(w);
  }

  /** Asks every live holder to stop; expects each to end cleanly. */
  async stopAll(): Promise<number> {
    let cycles = 0;
    for (const w of this.workers) w.send('stop');
    for (const w of this.workers) {
      const { code, signal } = await w.exit;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      this.#collect(w);
      cycles += Number(w.lines.find((l) => 'cycles' in l)?.cycles ?? 0);
    }
    return cycles;
  }

  #collect(w: Worker): void {
    for (const line of w.lines) if ('anomaly' in line || 'garbled' in line || 'stderr' in line) this.anomalies.push(line);
  }

  get killCount(): number {
    return Object.values(this.kills).reduce((a, b) => a + b, 0);
  }
}

describe('crashes', () => {
  it(
    'survivors keep working on the same region while other holders are killed at random points',
    async () => {
      const KILLS = scale(40, 400);
      const name = uniqueName('crash');
      const survivor = track(SharedMemory.open(name));
      survivor.bytes.set(Buffer.from(MARKER), survivor.size - 8);
      const counter = new DataView(survivor.bytes.buffer, survivor.size - 12, 4);
      const holders = new Holders(name, 4, MARKER);
      await holders.startAll();
      for (let k = 1; k <= KILLS; k++) {
        const slot = randomInt(holders.count);
        await holders.kill(slot, 20);
        // The survivor writes and reads its region after every death (a counter of its own,
        // just before the marker: the holders write their strings at the start).
        counter.setUint32(0, k, true);
        expect(counter.getUint32(0, true)).toBe(k);
        await holders.start(slot);
      }
      const cycles = await holders.stopAll();
      expect(holders.anomalies).toEqual([]);
      expect(Buffer.from(survivor.bytes.subarray(survivor.size - 8)).toString()).toBe(MARKER);
      // A new process still reaches the survivor's region by its name.
      survivor.writeString('still the same region');
      expect(openElsewhere('openExisting', name)).toMatchObject({ ok: true, created: false, text: 'still the same region' });
      // The survivor is the last holder: its close releases the region.
      survivor.close();
      expect(openElsewhere('openExisting', name)).toMatchObject({ ok: false, code: 'ENOENT' });
      if (isLinux) expect(exists(shmPath(name))).toBe(false);
      recordFigures('crash/survivors', { holders: holders.count, kills: holders.killCount, killedWhile: holders.kills, cyclesOfStoppedHolders: cycles });
    },
    TIMEOUT,
  );

  it(
    'when every holder is killed at random points the region is released',
    async () => {
      const ROUNDS = scale(12, 120);
      const name = uniqueName('crash-all');
      const holders = new Holders(name, 4, '-');
      let leftovers = 0;
      for (let round = 1; round <= ROUNDS; round++) {
        await holders.startAll();
        await Promise.all(holders.workers.map((_, slot) => holders.kill(slot, 30)));
        // A killed holder cannot clean up: on POSIX its object may stay until the next open.
        if (isLinux && exists(shmPath(name))) leftovers++;
        // The next user finds no region (and, on POSIX, removes the dead one's object)...
        expect(openElsewhere('openExisting', name)).toMatchObject({ ok: false, code: 'ENOENT' });
        if (isLinux) expect(exists(shmPath(name))).toBe(false);
        // ...and a new one is created empty.
        expect(openElsewhere('open', name)).toMatchObject({ ok: true, created: true, text: '', zeros: true });
        if (isLinux) expect(exists(shmPath(name))).toBe(false);
      }
      expect(holders.anomalies).toEqual([]);
      recordFigures('crash/all-killed', {
        holders: holders.count,
        rounds: ROUNDS,
        kills: holders.killCount,
        killedWhile: holders.kills,
        objectsLeftByTheDeadThenReclaimed: leftovers,
      });
    },
    TIMEOUT,
  );

  it.runIf(isPosix)(
    'a region kept with persist outlives holders killed at random points, until unlink',
    async () => {
      const ROUNDS = scale(4, 40);
      const name = uniqueName('crash-persist');
      const holders = new Holders(name, 4, '-', true);
      for (let round = 1; round <= ROUNDS; round++) {
        await holders.startAll();
        // Give the first round time to create the region once; later rounds only attach.
        await Promise.all(holders.workers.map((_, slot) => holders.kill(slot, 30)));
        const found = openElsewhere('openExisting', name);
        expect(found).toMatchObject({ ok: true, created: false, size: 4096 });
        expect(found.text).toMatch(/^(holder \d+ cycle \d+ write \d+)?$/);
      }
      expect(holders.anomalies).toEqual([]);
      SharedMemory.unlink(name);
      expect(openElsewhere('openExisting', name)).toMatchObject({ ok: false, code: 'ENOENT' });
      recordFigures('crash/persist', { holders: holders.count, rounds: ROUNDS, kills: holders.killCount, killedWhile: holders.kills });
    },
    TIMEOUT,
  );
});
