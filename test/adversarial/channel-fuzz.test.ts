// Model-based fuzz of Channel across 3 processes and a worker thread (fast-check commands), the
// net under the other Channel tests. Actors (test/fixtures/channel-fuzz-actor.mjs, on the built
// package) run random sequences on one 256-byte channel per run: open, close, trySend, sendSync
// and send (short timeouts) of 9 to 128-byte messages that carry their sender, a per-sender
// sequence number and a checksum; tryReceive, receiveSync, receive and a drain (EBUSY everywhere
// but at the one live handle that holds the receiving end); SIGKILL of a process when idle, in the
// middle of a burst of sends, and in the middle of taking every message. The model
// (channel-fuzz-model.ts) checks that each message arrives whole, once, in its sender's order,
// that only a killed sender's last message or a killed receiver's one message goes missing, that
// trySend says full and a send times out exactly when the ring has no room for the frame, and
// that a receive gets exactly the oldest message whenever nothing uncertain happened since the ring
// was last seen empty. After each run every actor closes; with no kill in the run, nothing of the
// channel is left in /dev/shm. Linux only (/dev/shm and SIGKILL rules).
//   NAMED_SHM_FUZZ_SEED=<n>     replays a run (the seed is printed, and named on failure)
//   NAMED_SHM_FUZZ_PATH=<path>  with the seed: replays the shrunk counterexample directly
//   NAMED_SHM_FUZZ_RUNS=<n>     how many sequences (default 50; 300 heavy)
//   NAMED_SHM_FUZZ_TRACE=1      prints each command on stderr as it runs
//   NAMED_SHM_HEAVY=1           many more and longer runs
import fs from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLinux } from '../helpers.js';
import { TIMEOUT, recordFigures, scale } from '../robustness/support.js';
import { Model, commandArbitraries, finish } from './channel-fuzz-model.js';
import { ChannelWorld } from './channel-fuzz-world.js';

const NUM_RUNS = Number(process.env.NAMED_SHM_FUZZ_RUNS ?? scale(50, 300));
const MAX_COMMANDS = scale(150, 400);
/** A loaded machine runs fewer sequences rather than failing on time. */
const TIME_LIMIT_MS = scale(30_000, 3_000_000);
const seed = process.env.NAMED_SHM_FUZZ_SEED ? Number(process.env.NAMED_SHM_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const replayPath = process.env.NAMED_SHM_FUZZ_PATH;
const PREFIX = `nshm-chfz-${process.pid}-`;

let runCounter = 0;

const leftovers = (name: string) => fs.readdirSync('/dev/shm').filter((f) => f === name || f.startsWith(`${name}#`) || f.startsWith(`${name}.`));

describe.runIf(isLinux)('model-based fuzz of Channel across processes and a worker thread', () => {
  let world: ChannelWorld | undefined;
  beforeAll(async () => {
    world = await ChannelWorld.start();
  }, 60_000);
  afterAll(async () => {
    await world?.shutdown();
    for (const f of fs.readdirSync('/dev/shm')) if (f.startsWith(PREFIX)) fs.rmSync(`/dev/shm/${f}`, { force: true });
  });

  it(
    'every message arrives whole, once, in its sender\'s order, as the model says, through every sequence',
    async () => {
      const w = world!;
      const log: string[] = [];
      console.log(`[channel-fuzz] seed ${seed} (NAMED_SHM_FUZZ_SEED=${seed} replays it); ${NUM_RUNS} runs of up to ${MAX_COMMANDS} commands; ${process.version}`);
      const started = Date.now();
      let runs = 0;
      let commands = 0;
      let received = 0;
      const property = fc.asyncProperty(fc.commands(commandArbitraries(log), { maxCommands: MAX_COMMANDS, size: 'max' }), async (cmds) => {
        runs++;
        log.length = 0;
        const model = new Model(`${PREFIX}${++runCounter}`, log);
        try {
          await fc.asyncModelRun(() => ({ model, real: w }), cmds);
          await finish(model, w);
          commands += log.length;
          received += model.received;
          const problems = w.problems();
          expect(problems, `finish: no actor crashed or said anything unasked: ${JSON.stringify(problems)}`).toEqual([]);
          const killed = log.some((c) => c.includes('SIGKILL'));
          const left = leftovers(model.name);
          if (!killed) expect(left, 'finish: nothing of the channel is left in /dev/shm').toEqual([]);
          for (const f of left) fs.rmSync(`/dev/shm/${f}`, { force: true });
        } catch (e) {
          if (e instanceof Error) e.message += `\nthe failing run's commands, as they ran:\n  ${log.join('\n  ')}`;
          await w.reset();
          w.problems();
          throw e;
        }
      });
      const details = await fc.check(property, {
        seed,
        numRuns: NUM_RUNS,
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        ...(replayPath ? { path: replayPath, endOnFailure: true } : {}),
      });
      recordFigures('adversarial/channel-fuzz', { seed, interrupted: details.interrupted, runs, commands, received, kills: w.kills, ms: Date.now() - started });
      if (details.failed) {
        throw new Error(
          `channel fuzz failed: replay with NAMED_SHM_FUZZ_SEED=${seed} NAMED_SHM_FUZZ_PATH=${JSON.stringify(details.counterexamplePath)}\n` +
            `${fc.defaultReportMessage(details)}\n${String((details.errorInstance as Error | undefined)?.stack ?? details.errorInstance)}`,
        );
      }
    },
    TIMEOUT,
  );
});
