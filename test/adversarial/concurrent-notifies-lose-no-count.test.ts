// notify() is an atomic increment of a word that several processes share: two processes that
// notify at the same moment lose none of each other's counts (a plain load-add-store would).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openTracked, uniqueName } from '../helpers.js';

const BURST = fileURLToPath(new URL('../fixtures/notify-burst.mjs', import.meta.url));
const PER_PROCESS = 200_000;
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function untilLine(child: ChildProcessWithoutNullStreams, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split('\n').includes(line)) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before "${line}"`)));
  });
}

describe('notify() from several processes at once', () => {
  it('counts every notify of two processes that notify at the same moment', async () => {
    const name = uniqueName('burst');
    const region = openTracked(name);
    const start = region.changeCount;
    for (let i = 0; i < 2; i++) children.push(spawn(process.execPath, [BURST, name, String(PER_PROCESS)]));
    await Promise.all(children.map((c) => untilLine(c, 'ready')));
    for (const c of children) c.stdin.write('go\n');
    await Promise.all(children.map((c) => untilLine(c, 'done')));
    expect(region.changeCount).toBe(start + 2 * PER_PROCESS);
  });
});
