// Review findings: the commands that only look at a region changed it. `info`, `read` and `dump`
// opened a leftover (a managed object whose holders are all dead), and that open removed it;
// `dump` copied a whole read-only region (through `bytes`) to show 256 bytes of it; and `info`
// attached read-write, which gives a sparse object's pages memory. A look changes nothing.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { CLI, cli, runNode, type Run } from '../cli-runner.js';
import { errorOf, isLinux, shmPath, startChild, uniqueName } from '../helpers.js';

/** Reports the process's peak resident memory (KiB) on stderr as it exits. */
const PEAK_RSS = `data:text/javascript,${encodeURIComponent(
  "import fs from 'node:fs'; process.on('exit', () => fs.writeSync(2, `maxRSS ${process.resourceUsage().maxRSS}\\n`));",
)}`;

function run(args: string[]): Promise<Run> {
  return runNode(args, 60_000);
}

/** `named-shm <args>` with its peak resident memory in bytes. */
async function measured(...args: string[]): Promise<Run & { peak: number }> {
  const r = await run(['--import', PEAK_RSS, CLI, ...args]);
  const peak = /^maxRSS (\d+)$/m.exec(r.stderr);
  expect(peak, r.stderr).not.toBeNull();
  return { ...r, stderr: r.stderr.replace(/^maxRSS \d+\n/m, ''), peak: Number(peak![1]) * 1024 };
}

describe.skipIf(!isLinux)('named-shm info, read, dump and list change nothing they look at', () => {
  it('a leftover stays in /dev/shm through info, read, dump and list, which report it as a leftover', async () => {
    const name = uniqueName('cli');
    const holder = startChild('hold', name, '4096', 'last words');
    await holder.first;
    const liveRows = JSON.parse((await cli('list', '--json')).stdout) as { name: string; leftover: boolean }[];
    expect(liveRows.find((r) => r.name === name)?.leftover).toBe(false);
    expect(JSON.parse((await cli('info', name, '--json')).stdout)).toMatchObject({ leftover: false });

    holder.child.kill('SIGKILL'); // dies holding it: its object stays behind, a leftover
    await holder.exit;
    expect(fs.existsSync(shmPath(name))).toBe(true);

    const info = await cli('info', name);
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toContain('\nlifetime:  leftover: released, its holders are gone (the next open of the name removes it)\n');
    expect(info.stdout).toContain('\naccess:    not known: a leftover is not opened\n');
    expect(info.stdout).toContain('\nmapped by: no other process');
    const json = JSON.parse((await cli('info', name, '--json')).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ name, size: 4096, capacity: 2048, leftover: true, mappedBy: [] });
    expect(json.object).toMatchObject({ path: shmPath(name), mode: '1600', managed: true });
    expect(json).not.toHaveProperty('access');

    for (const command of ['read', 'dump']) {
      const r = await cli(command, name);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^named-shm ${command}: ENOENT: no such region: its holders are gone, .* shm_open '/${name}'\\n$`));
      expect(r.status).toBe(1);
    }

    const table = await cli('list');
    expect(table.stdout.split('\n').find((l) => l.startsWith(`${name} `))).toMatch(/^\S+ +4096 +1600 +\d+ +- +leftover: released, holders gone$/);
    const rows = JSON.parse((await cli('list', '--json')).stdout) as { name: string }[];
    expect(rows.find((r) => r.name === name)).toMatchObject({ managed: true, leftover: true, pids: [] });

    expect(fs.existsSync(shmPath(name))).toBe(true); // still there after every look
    // The library's next open is what removes it, as before.
    expect(errorOf(() => SharedMemory.openExisting(name)).code).toBe('ENOENT');
    expect(fs.existsSync(shmPath(name))).toBe(false);
  });

  it('dump of a huge sparse region copies only the bytes it shows, and info gives it no memory', async () => {
    const name = uniqueName('cli');
    const size = 2 ** 30; // sparse: a page exists only once written
    const fd = fs.openSync(shmPath(name), 'wx', 0o600);
    try {
      fs.ftruncateSync(fd, size);
      fs.writeSync(fd, Buffer.from('end', 'utf16le'), 0, 6, size - 16);
    } finally {
      fs.closeSync(fd);
    }
    const allocated = () => fs.statSync(shmPath(name)).blocks * 512;
    const before = allocated();

    const start = await measured('dump', name);
    expect(start.status, start.stderr).toBe(0);
    expect(start.stdout).toBe(`00000000  ${'00 '.repeat(8)} ${'00 '.repeat(7)}00  |........|\n*\n00000100\n`);
    // Node itself takes some tens of MiB; a copy of the region would take a GiB more.
    expect(start.peak).toBeLessThan(size / 4);

    const end = await measured('dump', name, '--offset', String(size - 16), '--bytes', '64');
    expect(end.status, end.stderr).toBe(0);
    expect(end.stdout).toBe(`3ffffff0  65 00 6e 00 64 00 00 00  00 00 00 00 00 00 00 00  |end.....|\n40000000\n`);
    expect(end.peak).toBeLessThan(size / 4);
    expect((await cli('dump', name, '--offset', String(size + 1))).status).toBe(2);

    const info = await cli('info', name, '--json');
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ size, access: 'readwrite', leftover: false });
    // A read-write attach would have given every page memory (posix_fallocate).
    expect(allocated()).toBeLessThan(before + 2 ** 20);
  });
});
