// Model-based fuzz of NamedMutex across 3 processes and 2 worker threads (fast-check commands).
// Actors (test/fixtures/mutex-fuzz-actor.mjs, on the built package) run random sequences on one
// name per run: open/create/openExisting, close (with the lock held, or a lock() pending),
// tryLock, lock({timeout}), lockSync(timeout), withLock, unlock, a lock() left pending that a
// release must hand the lock to, SIGKILL of a process (holder or not, with its worker), and
// worker.terminate(). The model (mutex-fuzz-model.ts) says who holds the lock and whether the next
// acquirer must be told `abandoned`. After each run every actor closes; /dev/shm may then hold
// only a killed holder's leftover, which the next openExisting reclaims (ENOENT), and then nothing.
// Linux only (/dev/shm and SIGKILL rules).
//   NAMED_SHM_FUZZ_SEED=<n>     replays a run (the seed is printed, and named on failure)
//   NAMED_SHM_FUZZ_PATH=<path>  with the seed: replays the shrunk counterexample directly
//   NAMED_SHM_FUZZ_RUNS=<n>     how many sequences (default 15; 200 heavy)
//   NAMED_SHM_FUZZ_TRACE=1      prints each command on stderr as it runs
//   NAMED_SHM_HEAVY=1           many more and longer runs
import fs from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NamedMutex } from '../../lib/index.js';
import { isLinux } from '../helpers.js';
import { TIMEOUT, recordFigures, scale } from '../robustness/support.js';
import { Model, commandArbitraries, finish } from './mutex-fuzz-model.js';
import { MutexWorld } from './mutex-fuzz-world.js';

const NUM_RUNS = Number(process.env.NAMED_SHM_FUZZ_RUNS ?? scale(15, 200));
const MAX_COMMANDS = scale(100, 300);
/** A loaded machine runs fewer sequences rather than failing on time. */
const TIME_LIMIT_MS = scale(15_000, 3_000_000);
const seed = process.env.NAMED_SHM_FUZZ_SEED ? Number(process.env.NAMED_SHM_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const replayPath = process.env.NAMED_SHM_FUZZ_PATH;
const PREFIX = `nshm-mxfz-${process.pid}-`;

let runCounter = 0;

describe.runIf(isLinux)('model-based fuzz of NamedMutex across processes and worker threads', () => {
  let world: MutexWorld | undefined;
  beforeAll(async () => {
    world = await MutexWorld.start();
  }, 60_000);
  afterAll(async () => {
    await world?.shutdown();
    for (const f of fs.readdirSync('/dev/shm')) if (f.startsWith(PREFIX)) fs.rmSync(`/dev/shm/${f}`, { force: true });
  });

  it(
    'every actor sees what the model says, through every sequence, and nothing is left behind',
    async () => {
      const w = world!;
      const log: string[] = [];
      console.log(`[mutex-fuzz] seed ${seed} (NAMED_SHM_FUZZ_SEED=${seed} replays it); ${NUM_RUNS} runs of up to ${MAX_COMMANDS} commands; ${process.version}`);
      const started = Date.now();
      let runs = 0;
      let commands = 0;
      const property = fc.asyncProperty(fc.commands(commandArbitraries(log), { maxCommands: MAX_COMMANDS, size: 'max' }), async (cmds) => {
        runs++;
        log.length = 0;
        const model = new Model(`${PREFIX}${++runCounter}`, log);
        try {
          await fc.asyncModelRun(() => ({ model, real: w }), cmds);
          await finish(model, w);
          commands += log.length;
          const path = `/dev/shm/${model.name}`;
          if (fs.existsSync(path)) {
            // Only a holder killed while it was the last one leaves the object; openExisting reclaims it.
            expect(log.some((c) => c.endsWith('.SIGKILL') || c.endsWith('.terminate')), 'finish: a leftover without a kill').toBe(true);
            let code: string | undefined;
            try {
              NamedMutex.openExisting(model.name).close();
            } catch (e) {
              code = (e as { code?: string }).code;
            }
            expect(code, 'finish: openExisting of a leftover').toBe('ENOENT');
          }
          expect(fs.existsSync(path), 'finish: nothing of the run is left in /dev/shm').toBe(false);
          const problems = w.problems();
          expect(problems, `finish: no actor crashed or said anything unasked: ${JSON.stringify(problems)}`).toEqual([]);
        } catch (e) {
          if (e instanceof Error) e.message += `\nthe failing run's commands, as they ran:\n  ${log.join('\n  ')}`;
          await w.reset();
          throw e;
        }
      });
      const details = await fc.check(property, {
        seed,
        numRuns: NUM_RUNS,
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        ...(replayPath ? { path: replayPath, endOnFailure: true } : {}),
      });
      recordFigures('adversarial/mutex-fuzz', { seed, interrupted: details.interrupted, runs, commands, kills: w.kills, terminations: w.terminations, ms: Date.now() - started });
      if (details.failed) {
        throw new Error(
          `mutex fuzz failed: replay with NAMED_SHM_FUZZ_SEED=${seed} NAMED_SHM_FUZZ_PATH=${JSON.stringify(details.counterexamplePath)}\n` +
            `${fc.defaultReportMessage(details)}\n${String((details.errorInstance as Error | undefined)?.stack ?? details.errorInstance)}`,
        );
      }
    },
    TIMEOUT,
  );
});
