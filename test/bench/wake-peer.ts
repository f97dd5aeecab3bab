// One Node side of the wake-up ping-pong (test/bench/wake.ts starts it under `taskset`):
//
//   wake-peer.ts <sync|async|ipc> <a|b> <warm-up> <timed> <event 1> <event 2> [cpu list of b]
//
// sync and async: two auto-reset named events; side a sets event 1 and waits on event 2, side b
// waits on event 1 and sets event 2, with `waitSync` or `await wait()` on both sides.
// ipc: side a forks side b (under `taskset -c <cpu list of b>` when given) and sends it a short
// string that b sends straight back with `process.send`.
// Side a times every round trip with process.hrtime and prints "ok" and the nanoseconds of the
// timed round trips. A side that hears nothing for 30 s gives up.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NamedEvent } from '../../lib/index.ts';

const PATIENCE_MS = 30_000;
const [mode, side, warmArg, timedArg, name1, name2, cpuB] = process.argv.slice(2);
const warm = Number(warmArg);
const timed = Number(timedArg);
const total = warm + timed;

function fail(why: string): never {
  console.error(`wake-peer ${mode} ${side}: ${why}`);
  process.exit(3);
}

function report(ns: Float64Array): void {
  process.stdout.write(`ok ${Array.from(ns, (v) => v.toFixed(0)).join(' ')}\n`);
}

async function events(): Promise<void> {
  // Open-or-create on both sides: whichever starts first makes them. An auto-reset event set
  // before its waiter came stays signalled, so the first round trip waits for the slower start.
  const e1 = NamedEvent.open(name1!);
  const e2 = NamedEvent.open(name2!);
  const sync = mode === 'sync';
  // Two loops per side, so the waitSync path has no `await` (a microtask turn per wait).
  const syncWait = (e: NamedEvent) => e.waitSync(PATIENCE_MS) || fail('no answer');
  const waitOptions = { timeout: PATIENCE_MS };
  if (side === 'b') {
    if (sync) {
      for (let i = 0; i < total; i++) {
        syncWait(e1);
        e2.set();
      }
    } else {
      for (let i = 0; i < total; i++) {
        if (!(await e1.wait(waitOptions))) fail('no answer');
        e2.set();
      }
    }
  } else {
    for (let i = 0; i < warm; i++) {
      e1.set();
      if (sync) syncWait(e2);
      else if (!(await e2.wait(waitOptions))) fail('no answer');
    }
    const ns = new Float64Array(timed);
    if (sync) {
      for (let i = 0; i < timed; i++) {
        const t0 = process.hrtime.bigint();
        e1.set();
        syncWait(e2);
        ns[i] = Number(process.hrtime.bigint() - t0);
      }
    } else {
      for (let i = 0; i < timed; i++) {
        const t0 = process.hrtime.bigint();
        e1.set();
        if (!(await e2.wait(waitOptions))) fail('no answer');
        ns[i] = Number(process.hrtime.bigint() - t0);
      }
    }
    report(ns);
  }
  e1.close();
  e2.close();
}

function ipcB(): void {
  process.on('message', (m) => process.send!(m));
  process.once('disconnect', () => process.exit(0));
}

async function ipcA(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const options = cpuB
    ? { execPath: 'taskset', execArgv: ['-c', cpuB, process.execPath, ...process.execArgv] }
    : {};
  const child = fork(self, ['ipc', 'b', warmArg!, timedArg!], { ...options, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let answer: (() => void) | undefined;
  child.on('message', () => answer?.());
  child.on('exit', (code) => code !== 0 && fail(`side b exited (${code})`));
  const roundTrip = () =>
    new Promise<void>((resolve) => {
      answer = resolve;
      child.send('This is a test string');
    });
  const watchdog = setTimeout(() => fail('no answer'), PATIENCE_MS * 4);
  for (let i = 0; i < warm; i++) await roundTrip();
  const ns = new Float64Array(timed);
  for (let i = 0; i < timed; i++) {
    const t0 = process.hrtime.bigint();
    await roundTrip();
    ns[i] = Number(process.hrtime.bigint() - t0);
  }
  clearTimeout(watchdog);
  report(ns);
  child.disconnect();
}

if (mode === 'ipc') {
  if (side === 'b') ipcB();
  else await ipcA();
} else if (mode === 'sync' || mode === 'async') {
  await events();
} else {
  fail('usage: wake-peer.ts <sync|async|ipc> <a|b> <warm-up> <timed> <event 1> <event 2> [cpu list of b]');
}
