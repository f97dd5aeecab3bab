// Model-based fuzz of the public API across processes and worker threads (fast-check commands).
// Three fixture processes (test/fixtures/fuzz-actor.mjs, loading the built package from dist/) and
// two worker threads inside the first one are the actors. Random sequences of open, create,
// openExisting (read-write and read-only), writeString/readString, write/read of sub-ranges,
// `bytes` and stores through it, the refused and the bypassed transfer of its buffer, close,
// drop without close + gc(), worker.terminate(), process.exit() in a worker, SIGKILL of a process,
// SharedMemory.unlink and /dev/shm checks run against a model (fuzz-model.ts) of what each actor
// must see: `created` exactly when no live holder had the name, the bytes last written, the error
// codes of each state. After each run every actor lets go of everything, and nothing of the
// run's names may be left in /dev/shm. An actor that crashes, or does not answer within 30 s, fails
// the run (a hung one is described: its threads' kernel waits, and a diagnostic report).
// Linux only: the leftovers of killed holders and the /dev/shm checks are POSIX-on-Linux rules.
// The transfer bypass and the touches of moved-out buffers need ArrayBuffer.prototype.transfer:
// Node 22+ (Node 20 runs everything else, and models `bytes` surviving close() there).
//   NAMED_SHM_FUZZ_SEED=<n>     replays a run (the seed is printed, and named on failure)
//   NAMED_SHM_FUZZ_PATH=<path>  with the seed: replays the shrunk counterexample directly
//   NAMED_SHM_FUZZ_RUNS=<n>     how many sequences (default 20; 250 heavy)
//   NAMED_SHM_FUZZ_TRACE=1      prints each command on stderr as it runs
//   NAMED_SHM_HEAVY=1           many more and longer runs (npm run test:heavy)
// Findings so far: fuzz-finding-*.test.ts next to this file.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLinux } from '../helpers.js';
import { TIMEOUT, recordFigures, scale } from '../robustness/support.js';
import { commandArbitraries, modelListing, shmListing, type Setting } from './fuzz-commands.js';
import { Model, toHex } from './fuzz-model.js';
import { World, shmObjects } from './fuzz-world.js';

const PROCESSES = 3;
const WORKERS = 2;
const NUM_RUNS = Number(process.env.NAMED_SHM_FUZZ_RUNS ?? scale(20, 250));
const MAX_COMMANDS = scale(40, 120);
/** Under the test's timeout (support.ts TIMEOUT), with room for a hung answer's 30 s and the reset. */
const TIME_LIMIT_MS = scale(90_000, 3_000_000);

const canDetach = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
const seed = process.env.NAMED_SHM_FUZZ_SEED ? Number(process.env.NAMED_SHM_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const replayPath = process.env.NAMED_SHM_FUZZ_PATH;

let runCounter = 0;
function freshNames(): string[] {
  runCounter++;
  const tag = Math.floor(Math.random() * 2 ** 32).toString(16);
  return [0, 1, 2].map((i) => `nshm-fz-${process.pid}-${tag}-${runCounter}-${i}`);
}

/** The end of a run: every actor lets go of everything; the name space must be as the model says, then empty. */
async function finish(m: Model, w: World, s: Setting): Promise<void> {
  const actors = s.specs.map((_, a) => a);
  for (const a of actors) {
    if (!m.handles.some((h) => h.actor === a && h.incarnation === m.incarnation[a] && h.state === 'dropped')) continue;
    const gc = (await w.send(s.specs[a]!, { op: 'gc' })) as { pending: string[] };
    expect(gc.pending, `finish: ${s.specs[a]!.id} collects what it dropped`).toEqual([]);
    m.collect(a);
  }
  for (const a of actors) {
    // Every handle still holds what the model says, before it is closed.
    const { contents } = (await w.send(s.specs[a]!, { op: 'contents' })) as { contents: Record<string, unknown> };
    const expected: Record<string, unknown> = {};
    for (const h of m.reachable(a)) {
      const refused = m.stateError(h);
      expected[h.hid] = refused ? { ok: false, code: refused.code, type: refused.type } : { ok: true, value: toHex(h.obj.content) };
    }
    const got = Object.fromEntries(Object.entries(contents).map(([hid, r]) => [hid, { ...(r as object), message: undefined }]));
    expect(got, `finish: what ${s.specs[a]!.id}'s handles read`).toEqual(expected);
    const closed = (await w.send(s.specs[a]!, { op: 'closeAll' })) as { errors: unknown[] };
    expect(closed.errors, `finish: ${s.specs[a]!.id} closes everything`).toEqual([]);
    for (const h of m.reachable(a)) if (h.state !== 'closed') m.letGo(h, 'closed');
  }
  // Buffers moved out by the bypass, touched once their region is closed and collected.
  for (const a of actors) {
    if (m.transfersOf(a).length === 0) {
      await w.send(s.specs[a]!, { op: 'forget' });
      continue;
    }
    await w.send(s.specs[a]!, { op: 'gc' });
    const touched = (await w.send(s.specs[a]!, { op: 'touchAll' })) as { touched: { tid: string; byteLength: number; first: number; last: number }[] };
    const expected = m.transfersOf(a).map((t) => ({ tid: t.tid, byteLength: t.handle.obj.size, first: 0x5a, last: 0xa5 }));
    expect(touched.touched, `finish: ${s.specs[a]!.id} touches its transferred buffers after close + gc`).toEqual(expected);
    await w.send(s.specs[a]!, { op: 'forget' });
  }
  for (const [name, obj] of m.linked) {
    if (obj) expect(m.holders(obj), `finish: nobody holds ${name}`).toEqual([]);
  }
  // What is left are the leftovers of killed holders, exactly; the next openExisting reclaims each.
  expect(shmListing(m.names), 'finish: /dev/shm holds the leftovers of killed holders').toEqual(modelListing(m));
  for (const [name, obj] of m.linked) {
    if (!obj) continue;
    const answer = await w.send(s.specs[1 % s.specs.length]!, { op: 'openExisting', hid: 'reclaim', name });
    expect(answer, `finish: openExisting(${name}) of a leftover`).toMatchObject({ ok: false, code: 'ENOENT' });
    m.linked.set(name, undefined);
  }
  expect([...shmObjects(m.names).keys()], 'finish: nothing of the run is left in /dev/shm').toEqual([]);
  const problems = w.problems();
  expect(problems, 'finish: no actor crashed or said anything unasked').toEqual([]);
}

describe.skipIf(!isLinux)('model-based fuzz across processes and worker threads', () => {
  let world: World | undefined;
  beforeAll(async () => {
    world = await World.start(PROCESSES, WORKERS);
  }, 60_000);
  afterAll(async () => {
    if (!world) return;
    const bad = await world.shutdown();
    expect(bad, 'every actor process ends with code 0').toEqual([]);
  });

  it(
    'every actor sees what the model says, through every sequence',
    async () => {
      const w = world!;
      const s: Setting = {
        specs: w.specs,
        processes: PROCESSES,
        workers: w.specs.filter((sp) => sp.wid).map((sp) => sp.wid!),
        canDetach,
        counts: {},
      };
      const actorProcs = w.specs.map((sp) => sp.proc);
      console.log(`[fuzz] seed ${seed} (NAMED_SHM_FUZZ_SEED=${seed} replays it); ${NUM_RUNS} runs of up to ${MAX_COMMANDS} commands; ${process.version}`);
      const started = Date.now();
      let runs = 0;
      let commands = 0;
      let failedRuns = 0;
      const property = fc.asyncProperty(fc.commands(commandArbitraries(s), { maxCommands: MAX_COMMANDS, size: 'max' }), async (cmds) => {
        runs++;
        w.beginRun();
        const names = freshNames();
        const model = new Model(names, { canDetach, actorProcs });
        const before = Object.values(s.counts).reduce((a, b) => a + b, 0);
        try {
          await fc.asyncModelRun(() => ({ model, real: w }), cmds);
          await finish(model, w, s);
        } catch (e) {
          failedRuns++;
          await w.reset(names);
          throw e;
        } finally {
          commands += Object.values(s.counts).reduce((a, b) => a + b, 0) - before;
        }
      });
      const details = await fc.check(property, {
        seed,
        numRuns: NUM_RUNS,
        // A loaded machine runs fewer sequences rather than failing on time (a hang still fails:
        // each answer has its own deadline in fuzz-world.ts).
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        ...(replayPath ? { path: replayPath, endOnFailure: true } : {}),
      });
      const figures = {
        seed,
        interrupted: details.interrupted,
        runs,
        commands,
        failedRuns,
        processes: PROCESSES,
        workers: WORKERS,
        kills: w.kills,
        ms: Date.now() - started,
        counts: s.counts,
      };
      recordFigures('adversarial/model-fuzz', figures);
      if (details.failed) {
        throw new Error(
          `model-based fuzz failed: replay with NAMED_SHM_FUZZ_SEED=${seed} NAMED_SHM_FUZZ_PATH=${JSON.stringify(details.counterexamplePath)}\n` +
            `${fc.defaultReportMessage(details)}\n${String((details.errorInstance as Error | undefined)?.stack ?? details.errorInstance)}`,
        );
      }
    },
    TIMEOUT,
  );
});
