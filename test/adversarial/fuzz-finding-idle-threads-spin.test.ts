// Finding of the model-based fuzz (fuzz.test.ts), fixed in e4f8032: once two threads of one
// process had each mapped a region, the threads never went idle again (the fuzz's actors stopped
// answering). Kept as its regression test. lib/os/posix/orphan-mappings.ts shows each
// thread's table of mappings to the others over a BroadcastChannel; a thread that hears a table
// it has not seen answers with its own tables. It recognised tables by object identity
// (`others.has(theirs)`), but every message carries a new BigInt64Array (structured clone makes
// a new view of the SharedArrayBuffer each time), so every table always looked new: each message
// was answered, forever. Between two threads that is one message bouncing at full speed (a core
// busy for nothing); with three or more each message is answered by every other thread, so the
// messages multiply until the event loops starve: timers fired seconds late, a worker took
// seconds to answer a postMessage, and the fuzz's actors did not answer within 30 s.
// `others` also grew by one entry per message.
//
// The fixture opens a region in the main thread and in 1 or 2 workers, lets them settle, then
// measures one idle second. Expected: next to no CPU, a timer on time, a prompt answer.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isLinux, uniqueName } from '../helpers.js';
import { fixture } from '../robustness/support.js';

describe.runIf(isLinux)('threads that each hold a region go idle', () => {
  it.each([1, 2])('main thread + %i worker(s): threads that are idle send each other no messages', (workers) => {
    const prefix = uniqueName('fz-idle');
    const r = spawnSync(process.execPath, [fixture('fuzz-idle-threads.mjs'), prefix, String(workers)], { encoding: 'utf8', timeout: 60_000 });
    for (const f of fs.readdirSync('/dev/shm')) if (f.startsWith(prefix)) fs.rmSync(`/dev/shm/${f}`, { force: true });
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
    const line = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    // On this project's machine the bug gave, for 1 worker: ~750 ms of CPU and ~29,000 messages
    // in the idle second; for 2: ~2,700 ms of CPU, the timer 3.7 s late, the answer after 8 s.
    // Tests do not assert on time (the figures are printed); the messages the channel carried in
    // the idle second are a count: a few announcements at most, where the bug gave thousands.
    console.log(`[figures] ${JSON.stringify({ case: 'fuzz-finding/idle-threads', ...line })}`);
    expect(line.channelMessages, JSON.stringify(line)).toBeLessThan(50);
  });
});
