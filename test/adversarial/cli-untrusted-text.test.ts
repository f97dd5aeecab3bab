// Review finding: `named-shm info` printed other users' command lines raw, so a process that maps a
// region under an argv[0] of ESC [2J ESC ]0;owned BEL cleared the screen and retitled the
// terminal of whoever looked at the region; and `list` skipped names that are not UTF-8. Text
// from outside the command (names, command lines) must come out escaped, and every object listed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { shown } from '../../lib/cli/escape.js';
import { SharedMemory } from '../../lib/index.js';
import { cli } from '../cli-runner.js';
import { CHILD, isLinux, shmPath, uniqueName } from '../helpers.js';

/** What a terminal acts on: C0 controls but the newline, DEL, C1, bidi controls; U+FFFD (a byte lost). */
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]/u;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

describe.skipIf(!isLinux)('named-shm prints what others control only escaped', () => {
  it("info shows a mapper's command line and the region's name escaped, never acting on the terminal", async () => {
    // A name with a terminal title sequence in it: the library takes any name without / \ NUL.
    const base = uniqueName('cli');
    const name = `${base}\x1b]0;x\x07`;
    cleanups.push(() => {
      try {
        SharedMemory.unlink(name);
      } catch {
        // released with its holder, as it should be
      }
    });
    // The mapper's argv[0]: clear screen, retitle, a C1 CSI (U+009B), a right-to-left override
    // (U+202E), and a byte that is no UTF-8. bash's exec -a sets it byte for byte.
    const argv0 = String.raw`$'\e[2J\e]0;owned\a\xc2\x9b31m\xe2\x80\xae\xff'`;
    const mapper = spawn('bash', ['-c', `exec -a ${argv0} "$@"`, 'bash', process.execPath, CHILD, 'hold', name, '4096'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    cleanups.push(() => mapper.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      mapper.stdout!.once('data', () => resolve());
      mapper.once('exit', (code) => reject(new Error(`the mapper exited (${code}) before it held the region`)));
    });
    const cmdline = fs.readFileSync(`/proc/${mapper.pid}/cmdline`);
    expect(cmdline.subarray(0, 4)).toEqual(Buffer.from([0x1b, 0x5b, 0x32, 0x4a])); // the argv[0] took

    const shownArgv0 = String.raw`$'\x1b[2J\x1b]0;owned\x07\u009b31m\u202e\xff'`;
    const shownName = String.raw`$'${base}\x1b]0;x\x07'`;
    const text = await cli('info', name);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).not.toMatch(RAW);
    expect(text.stdout).toContain(`name:      ${shownName}\n`);
    expect(text.stdout.split('\n').find((line) => line.startsWith('mapped by: '))).toContain(`${mapper.pid} (${shownArgv0} `);

    const json = await cli('info', name, '--json');
    expect(json.status, json.stderr).toBe(0);
    expect(json.stdout).not.toMatch(RAW);
    const info = JSON.parse(json.stdout) as { name: string; mappedBy: { pid: number; command: string }[] };
    expect(info.name).toBe(name); // exact in JSON, escaped as JSON
    expect(info.mappedBy.find((m) => m.pid === mapper.pid)?.command).toBe(`${shownArgv0} ${shown(CHILD)} hold ${shownName} 4096`);

    mapper.stdin!.end(); // lets go: the region goes with it
    await new Promise((resolve) => mapper.once('exit', resolve));
  });

  it('list shows a name that is not UTF-8, escaped byte for byte, and says no region name leads to it', async () => {
    const base = uniqueName('cli');
    // ff: no UTF-8; ESC [2J: would clear the screen.
    const bad = Buffer.concat([Buffer.from(`/dev/shm/${base}-bad-`), Buffer.from([0xff, 0x1b]), Buffer.from('[2J')]);
    fs.writeFileSync(bad, 'abc', { mode: 0o600 });
    cleanups.push(() => fs.rmSync(bad, { force: true }));
    const shownName = String.raw`$'${base}-bad-\xff\x1b[2J'`;

    const text = await cli('list');
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).not.toMatch(RAW);
    const row = text.stdout.split('\n').find((line) => line.startsWith(`${shownName} `));
    expect(row).toMatch(/^\S+ +3 +0600 +\d+ +- +name not UTF-8: no region name leads to it$/);
    expect(text.stdout.split('\n')[0]).toMatch(/ NOTE$/);

    const json = await cli('list', '--json');
    expect(json.stdout).not.toMatch(RAW);
    const rows = JSON.parse(json.stdout) as { name: string }[];
    expect(rows.find((r) => r.name === shownName)).toMatchObject({ size: 3, mode: '0600', utf8: false, leftover: false, pids: [] });
  });
});
