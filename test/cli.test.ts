// The `named-shm` command line, run for real from the built dist/cli.js in child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as bufferConstants } from 'node:buffer';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { hexdump } from '../lib/cli/hexdump.js';
import { CLI, cli, cliWithPid, type Run } from './cli-runner.js';
import { isLinux, isPosix, isWindows, openTracked, shmPath, uniqueName } from './helpers.js';
import { skipUnder } from './runtimes/gates.js';

const PKG = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const COMMANDS = ['write', 'read', 'info', 'dump', 'hold', 'rm', 'list'];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A failed run: the exit code, nothing on stdout, and one line on stderr naming the command. */
function expectError(r: Run, status: number, command: string, pattern: RegExp): void {
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(new RegExp(`^named-shm${command ? ` ${command}` : ''}: `));
  expect(r.stderr).toMatch(pattern);
  expect(r.status).toBe(status);
}

const holders: ChildProcess[] = [];
afterEach(() => {
  for (const child of holders.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface Holder {
  child: ChildProcess;
  /** The line it printed once it held the region. */
  ready: Promise<string>;
  /** Everything it printed, once it exited, and its exit code. */
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** `named-shm hold <args>` in a process of its own. */
function startHold(...args: string[]): Holder {
  const child = spawn(process.execPath, [CLI, 'hold', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  holders.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      const nl = stdout.indexOf('\n');
      if (nl >= 0) resolve(stdout.slice(0, nl));
    });
    child.on('exit', (code) => reject(new Error(`hold exited (${code}) before it held: ${stdout}${stderr}`)));
  });
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  return { child, ready, done };
}

// Nothing here opens a region, so these run side by side.
describe.concurrent('named-shm: help, version, usage errors', () => {
  it('prints the list of commands for --help, -h and help, on stdout with exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = await cli(...args);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^Usage: named-shm <command>/);
      for (const command of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
      expect(r.stdout).toContain('Exit codes: 0 ok, 1 OS error, 2 usage error.');
    }
  });

  it('without a command prints the same help on stderr and exits 2', async () => {
    const r = await cli();
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: named-shm <command>/);
  });

  it.each(COMMANDS)('%s --help, -h and `help <command>` describe the command', async (command) => {
    const outputs = [await cli(command, '--help'), await cli(command, '-h'), await cli('help', command), await cli(command, 'x', '--help')];
    for (const r of outputs) {
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^Usage: named-shm ${command}`));
      expect(r.stdout).toContain('-h, --help');
      expect(r.stdout).toContain('Exit codes: 0 ok, 1 OS error, 2 usage error.');
      expect(r.stdout).toBe(outputs[0]!.stdout);
    }
  });

  it('--version prints the package version', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await cli(flag);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${PKG.version}\n`);
    }
  });

  it.each([
    [['nope'], '', /unknown command 'nope'/],
    [['--nope'], '', /unknown option '--nope'/],
    [['write'], 'write', /missing <name>/],
    [['write', 'x'], 'write', /missing <text>/],
    [['write', 'x', 'two', 'words'], 'write', /unexpected argument 'words' \(quote a text that has spaces\)/],
    [['write', 'x', 'y', '--bogus'], 'write', /Unknown option '--bogus'/],
    [['write', 'x', 'y', '--size'], 'write', /--size/],
    [['write', 'x', 'y', '--size', '0'], 'write', /--size must be a whole number >= 1, not '0'/],
    [['write', 'x', 'y', '--size', '4k'], 'write', /--size must be a whole number >= 1, not '4k'/],
    [['write', 'x', 'y', '--size', '1e3'], 'write', /--size must be a whole number/],
    [['read', 'x', '--limit', '0'], 'read', /--limit must be a whole number >= 1/],
    [['read', 'x', '--limit', '-1'], 'read', /--limit/],
    [['dump', 'x', '--bytes', 'all'], 'dump', /--bytes must be a whole number/],
    [['read'], 'read', /missing <name>/],
    [['list', 'extra'], 'list', /unexpected argument 'extra'/],
    [['rm', 'a', 'b'], 'rm', /unexpected argument 'b'/],
    [['hold', 'x', '--strict'], 'hold', /Unknown option '--strict'/],
  ])('%j is a usage error: exit 2, one line on stderr', async (args, command, pattern) => {
    const r = await cli(...args);
    expectError(r, 2, command, pattern);
    if (command) expect(r.stderr).toContain(`(see 'named-shm ${command} --help')`);
  });

  it.each([
    ['write', 'a/b', 'x'],
    ['read', 'a/b'],
    ['info', '..'],
    ['dump', ''],
    ['hold', 'Global\\'],
    ['rm', 'a\\b'],
  ])('a name the library refuses is a usage error (%s %j)', async (command, ...args) => {
    expectError(await cli(command, ...args), 2, command, /The argument 'name' must/);
  });

  it('a size beyond what a view can cover is a usage error; one the OS refuses is an OS error', async () => {
    const name = uniqueName();
    if (Number.isSafeInteger(bufferConstants.MAX_LENGTH + 1)) {
      // Node 20: views stop at 4 GiB, and the library says so before any OS call.
      expectError(await cli('write', name, 'x', '--size', String(bufferConstants.MAX_LENGTH + 1)), 2, 'write', /out of range/);
    }
    // Node 22+: a view may be 2^53-1 bytes long; no machine has them.
    if (bufferConstants.MAX_LENGTH >= 2 ** 53 - 1) {
      expectError(await cli('write', name, 'x', '--size', String(2 ** 53 - 1)), 1, 'write', /^named-shm write: E[A-Z]+: /);
    }
  });
});

describe('named-shm write and read, with hold keeping the region alive', () => {
  const denoExit = 'cli.test.ts: Deno 2.9.6 node:child_process reports a child sent kill(signal) as ended by that signal even when it caught the signal and exited 0 (see test/runtimes/README.md); test/runtimes/mixed-runtime.test.ts checks hold under Deno from a Node parent';
  it.skipIf(skipUnder(['deno'], denoExit))('hold in one process, write in another, read in a third; SIGTERM releases it', async () => {
    const name = uniqueName('cli');
    const holder = startHold(name);
    const ready = await holder.ready;
    expect(ready).toMatch(new RegExp(`^holding '${name}' \\(4096 bytes, created\\) in process (\\d+): Ctrl-C or '(?:kill|taskkill /F /PID) \\1' releases it$`));
    expect(ready).toContain(`in process ${holder.child.pid}:`);

    const w = await cli('write', name, 'Hello from another process');
    expect(w).toEqual({ status: 0, stdout: `stored 26 UTF-16 units in '${name}' (4096 bytes)\n`, stderr: '' });

    expect(await cli('read', name)).toEqual({ status: 0, stdout: 'Hello from another process\n', stderr: '' });
    const json = await cli('read', name, '--json');
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ name, size: 4096, text: 'Hello from another process', units: 26 });
    expect((await cli('read', name, '--limit', '6')).stdout).toBe('Hello\n');
    expect((await cli('read', name, '--limit', '1')).stdout).toBe('\n');

    if (isWindows) {
      // No SIGTERM to catch on Windows: kill() ends the process, and its handle with it.
      holder.child.kill();
      await holder.done;
    } else {
      holder.child.kill('SIGTERM');
      const end = await holder.done;
      expect(end.status).toBe(0);
      expect(end.stderr).toBe('');
      expect(end.stdout.trimEnd().split('\n').at(-1)).toBe(`released '${name}' (SIGTERM)`);
      if (isPosix) expect(fs.existsSync(shmPath(name))).toBe(false);
    }
    // The last holder is gone, so is the region.
    expectError(await cli('read', name), 1, 'read', /ENOENT/);
  });

  it.skipIf(isWindows || skipUnder(['deno'], denoExit))('Ctrl-C (SIGINT) and SIGHUP release it too; a second holder keeps it', async () => {
    const name = uniqueName('cli');
    const first = startHold(name, '--size', '8192');
    expect(await first.ready).toContain('(8192 bytes, created)');
    const second = startHold(name);
    expect(await second.ready).toContain('(8192 bytes, opened)');
    expect((await cli('write', name, 'kept')).status).toBe(0);

    first.child.kill('SIGINT');
    expect((await first.done).stdout).toContain(`released '${name}' (SIGINT)`);
    expect((await cli('read', name)).stdout).toBe('kept\n');

    second.child.kill('SIGHUP');
    const end = await second.done;
    expect(end.status).toBe(0);
    expect(end.stdout).toContain(`released '${name}' (SIGHUP)`);
    expectError(await cli('read', name), 1, 'read', /ENOENT/);
  });

  it('reads what the library wrote, and the library reads what write stored', async () => {
    const name = uniqueName('cli');
    const region = openTracked(name);
    region.writeString('from the library');
    expect((await cli('read', name)).stdout).toBe('from the library\n');
    expect((await cli('write', name, 'from the command line')).status).toBe(0);
    expect(region.readString()).toBe('from the command line');
  });

  it('keeps every UTF-16 unit: lone surrogates come back exactly through --json', async () => {
    const name = uniqueName('cli');
    const region = openTracked(name);
    const text = 'a\uD800b\uDFFFc \u{1F600} é';
    region.writeString(text);
    const out = JSON.parse((await cli('read', name, '--json')).stdout) as { text: string; units: number };
    expect(out.text).toBe(text);
    expect(out.units).toBe(text.length);
    // Plain output is UTF-8: a lone surrogate has no encoding there.
    expect((await cli('read', name)).stdout).toBe('a\uFFFDb\uFFFDc \u{1F600} é\n');
    expect((await cli('write', name, '--', '-starts with a dash')).status).toBe(0);
    expect(region.readString()).toBe('-starts with a dash');
  });

  it('cuts a text that does not fit, says so on stderr, and exits 0', async () => {
    const name = uniqueName('cli');
    const region = openTracked(name);
    const r = await cli('write', name, 'x'.repeat(3000));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`stored 2047 UTF-16 units in '${name}' (4096 bytes)\n`);
    expect(r.stderr).toBe(
      'named-shm write: warning: the text was cut: 2047 of 3000 UTF-16 units stored (the region holds 2047 plus U+0000; --strict refuses to cut)\n',
    );
    expect(region.readString()).toBe('x'.repeat(2047));
  });

  it('--strict refuses to cut: exit 2, and the region is left as it was', async () => {
    const name = uniqueName('cli');
    const region = openTracked(name);
    region.writeString('before');
    expectError(await cli('write', name, 'x'.repeat(2048), '--strict'), 2, 'write', /does not fit.*Nothing was written/);
    expect(region.readString()).toBe('before');
    const fits = await cli('write', name, 'y'.repeat(2047), '--strict');
    expect(fits.status).toBe(0);
    expect(fits.stderr).toBe('');
    expect(region.readString()).toBe('y'.repeat(2047));
  });

  it('warns when nobody else holds the region: it went away with the command', async () => {
    const name = uniqueName('cli');
    const r = await cli('write', name, 'short-lived', '--size', '64');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`stored 11 UTF-16 units in '${name}' (64 bytes, created)\n`);
    expect(r.stderr).toBe(
      `named-shm write: note: no other process holds '${name}', so it went away as this command ended; keep it with 'named-shm hold ${name}'\n`,
    );
    expectError(await cli('read', name), 1, 'read', /ENOENT/);
  });

  // Skipped on Windows, where another process sees a section's size rounded up to whole pages.
  it.skipIf(isWindows)('without --size uses a region of any size; with --size it must hold that much (exit 1)', async () => {
    const name = uniqueName('cli');
    const region = openTracked(name, { size: 100 });
    expect((await cli('write', name, 'fits')).stdout).toBe(`stored 4 UTF-16 units in '${name}' (100 bytes)\n`);
    expect(region.readString()).toBe('fits');
    expectError(await cli('write', name, 'x', '--size', '4096'), 1, 'write', /EINVAL/);
  });

  it('read, info and dump of a name nobody holds: exit 1, ENOENT, and nothing is created', async () => {
    for (const command of ['read', 'info', 'dump']) {
      const name = uniqueName('cli');
      expectError(await cli(command, name), 1, command, /^named-shm \w+: ENOENT: /);
      if (isPosix) expect(fs.existsSync(shmPath(name))).toBe(false);
    }
  });
});

describe.skipIf(isWindows)('named-shm write --persist and rm (POSIX)', () => {
  it('--persist keeps a region after its last holder, until rm removes it', async () => {
    const name = uniqueName('cli');
    const w = await cli('write', name, 'still here', '--persist');
    expect(w.status).toBe(0);
    expect(w.stderr).toBe('');
    expect((await cli('read', name)).stdout).toBe('still here\n');
    expect(await cli('rm', name)).toEqual({ status: 0, stdout: `removed '${name}'\n`, stderr: '' });
    expectError(await cli('read', name), 1, 'read', /ENOENT/);
  });

  it('rm removes the name under a live holder, which keeps its memory', async () => {
    const name = uniqueName('cli');
    const region = openTracked(name);
    region.writeString('mine');
    expect((await cli('rm', name)).status).toBe(0);
    expect(fs.existsSync(shmPath(name))).toBe(false);
    expect(region.readString()).toBe('mine');
    expectError(await cli('rm', name), 1, 'rm', /ENOENT: no such file or directory, shm_unlink/);
    expect(await cli('rm', '-f', name)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await cli('rm', '--force', name)).status).toBe(0);
  });
});

describe.skipIf(!isWindows)('named-shm on Windows', () => {
  it('rm says that Windows has no unlink, and exits 1', async () => {
    expectError(await cli('rm', uniqueName()), 1, 'rm', /Windows has no unlink/);
  });

  it('list says it is not supported, and exits 1', async () => {
    expectError(await cli('list'), 1, 'list', /not supported on Windows/);
  });
});

describe('named-shm info', () => {
  it('shows the size, the access and (Linux) the object and who maps it', async () => {
    const name = uniqueName('cli');
    openTracked(name, { size: 8192 });
    const r = await cli('info', name);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([`name:      ${name}`, 'size:      8192 bytes (4096 UTF-16 units)', 'access:    readwrite']);
    if (isLinux) {
      expect(lines).toContain(`object:    /dev/shm/${name}, mode 1600, uid ${process.getuid!()}`);
      expect(lines).toContain('lifetime:  released with its last holder');
      expect(lines.find((l) => l.startsWith('mapped by: '))).toMatch(new RegExp(`\\b${process.pid} \\(`));
    } else {
      expect(lines.at(-1)).toMatch(/^mapped by: not known on /);
    }
  });

  it('--json: the same as data; the mappers include a hold in another process', async () => {
    const name = uniqueName('cli');
    // --persist (POSIX) makes it an object named-shm does not remove; Windows has no such thing.
    const holder = isWindows ? startHold(name) : startHold(name, '--persist');
    await holder.ready;
    const r = await cliWithPid('info', name, '--json');
    expect(r.status).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, unknown> & { mappedBy?: { pid: number; command: string }[] };
    expect(info).toMatchObject({ name, size: 4096, capacity: 2048, access: 'readwrite' });
    if (isLinux) {
      expect(info.object).toEqual({ path: `/dev/shm/${name}`, mode: '0600', uid: process.getuid!(), managed: false });
      expect(info.mappedBy).toContainEqual({ pid: holder.child.pid, command: expect.stringContaining(`hold ${name} --persist`) });
      expect(info.mappedBy!.map((m) => m.pid)).not.toContain(r.pid); // never itself
      expect((await cli('info', name)).stdout).toContain("lifetime:  persistent: stays until 'named-shm rm'");
    }
    holder.child.kill();
    await holder.done;
  });

  it.skipIf(!isPosix || isRoot)('reports readonly when this user may only read the region', async () => {
    const name = uniqueName('cli');
    const region = openTracked(name);
    region.writeString('look, do not touch');
    fs.chmodSync(shmPath(name), 0o1400);
    expect(JSON.parse((await cli('info', name, '--json')).stdout)).toMatchObject({ access: 'readonly' });
    expect((await cli('read', name)).stdout).toBe('look, do not touch\n');
    fs.chmodSync(shmPath(name), 0o1600);
  });
});

describe('named-shm dump', () => {
  it('shows the bytes as hex and UTF-16LE, 256 by default, squeezing repeated lines', async () => {
    const name = uniqueName('cli');
    const region = openTracked(name);
    region.writeString('hello');
    region.writeString('Hi');
    const r = await cli('dump', name);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        '00000000  48 00 69 00 00 00 6c 00  6f 00 00 00 00 00 00 00  |Hi.lo...|',
        '00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |........|',
        '*',
        '00000100',
        '',
      ].join('\n'),
    );
  });

  it('--bytes N shows N bytes, at most the region; an odd last byte has no unit', async () => {
    const name = uniqueName('cli');
    const region = openTracked(name, { size: 21 });
    region.write(0, Uint8Array.of(0x41, 0, 0x42, 0, 0x43));
    region.write(20, Uint8Array.of(0xff));
    expect((await cli('dump', name, '--bytes', '5')).stdout).toBe('00000000  41 00 42 00 43                                    |AB|\n00000005\n');
    // Another process sees a Windows section rounded up to whole pages.
    if (isWindows) return;
    expect((await cli('dump', name, '--bytes', '4096')).stdout).toBe(
      [
        '00000000  41 00 42 00 43 00 00 00  00 00 00 00 00 00 00 00  |ABC.....|',
        '00000010  00 00 00 00 ff                                    |..|',
        '00000015',
        '',
      ].join('\n'),
    );
  });

  it('formats units: pairs joined, lone surrogates and invisible ones as dots', async () => {
    const units = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf16le'));
    expect(hexdump(units('\u{1F600}x\uD800y\u202Ez\n\u00e9'))).toEqual([
      '00000000  3d d8 00 de 78 00 00 d8  79 00 2e 20 7a 00 0a 00  |\u{1F600}x.y.z.|',
      '00000010  e9 00                                             |\u00e9|',
      '00000012',
    ]);
    expect(hexdump(new Uint8Array(0))).toEqual(['00000000']);
    expect(hexdump(new Uint8Array(64))).toEqual([
      '00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |........|',
      '*',
      '00000040',
    ]);
  });
});

describe('named-shm list', () => {
  it.skipIf(!isLinux)('lists the objects in /dev/shm with their size, mode, owner and mappers', async () => {
    const name = uniqueName('cli');
    openTracked(name, { size: 12345 });
    const r = await cli('list');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    // NOTE only when some object has one (a leftover, a name that is not UTF-8).
    expect(lines[0]).toMatch(/^NAME +SIZE +MODE +UID +MAPPED BY( +NOTE)?$/);
    const row = lines.find((l) => l.startsWith(`${name} `));
    expect(row).toMatch(new RegExp(`^${name} +12345 +1600 +${process.getuid!()} +([0-9]+,)*${process.pid}(,[0-9]+)*$`));

    const rows = JSON.parse((await cli('list', '--json')).stdout) as { name: string }[];
    expect(rows.find((o) => o.name === name)).toEqual({
      name,
      size: 12345,
      mode: '1600',
      uid: process.getuid!(),
      managed: true,
      leftover: false,
      utf8: true,
      kind: 'region',
      pids: expect.arrayContaining([process.pid]),
    });
    const names = rows.map((o) => o.name);
    expect(names).toEqual([...names].sort());
  });

  it.skipIf(!isLinux)('shows objects other programs made (not managed, nobody mapping them)', async () => {
    const name = uniqueName('cli');
    fs.writeFileSync(shmPath(name), 'abc', { mode: 0o644 });
    fs.chmodSync(shmPath(name), 0o644);
    const rows = JSON.parse((await cli('list', '--json')).stdout) as { name: string }[];
    expect(rows.find((o) => o.name === name)).toEqual({ name, size: 3, mode: '0644', uid: process.getuid!(), managed: false, leftover: false, utf8: true, kind: 'region', pids: [] });
    expect((await cli('list')).stdout).toMatch(new RegExp(`^${name} +3 +0644 +\\d+ +-$`, 'm'));
    // A name with a space or a control character is shown quoted, as it has to be typed in bash.
    const odd = `${name} tab\there`;
    fs.writeFileSync(shmPath(odd), '');
    try {
      expect((await cli('list')).stdout).toContain(`\n$'${name} tab\\there'  `);
    } finally {
      fs.rmSync(shmPath(odd));
    }
  });

  it.skipIf(isLinux || isWindows)('is not supported where POSIX objects are no files', async () => {
    expectError(await cli('list'), 1, 'list', /not supported/);
  });
});
