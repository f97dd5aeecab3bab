// Hostile or foreign objects at the name (POSIX), beyond test/posix-hostile.test.ts (0-byte,
// smaller than asked, symlink, FIFO, directory, other owner, read-only mode, stale regions):
// an object sized by its foreign creator while we wait, one that another program keeps locked,
// and one shrunk under a holder, which is the documented limit of what POSIX lets us prevent.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { isLinux, shmPath, track, uniqueName } from '../helpers.js';
import { Worker } from './support.js';

const hasFlock = isLinux && spawnSync('flock', ['--version']).status === 0;

function plant(name: string, size: number, content = ''): void {
  const fd = fs.openSync(shmPath(name), 'wx', 0o600);
  if (size) fs.ftruncateSync(fd, size);
  if (content) fs.writeSync(fd, Buffer.from(`${content}\0`, 'utf16le'));
  fs.fchmodSync(fd, 0o600);
  fs.closeSync(fd);
}

describe.runIf(isLinux)('hostile or foreign objects (Linux)', () => {
  it('a 0-byte object that its creator sizes while we wait is mapped at its full size', () => {
    const name = uniqueName('unsized');
    plant(name, 0);
    // Another program (not named-shm) sizes it a moment later; open() is already waiting then.
    const sizer = spawn('sh', ['-c', `sleep 0.3; truncate -s 8192 '${shmPath(name)}'`], { stdio: 'ignore' });
    const region = track(SharedMemory.open(name, { size: 4096 }));
    expect(region.created).toBe(false);
    expect(region.size).toBe(8192);
    expect(region.bytes.length).toBe(8192);
    expect(region.bytes[8191]).toBe(0); // the last page is there
    sizer.kill();
  });

  /** Runs `body` while another program (util-linux flock) holds an exclusive lock on the object. */
  async function whileLocked(name: string, body: () => void): Promise<void> {
    const locker = spawn('flock', ['-x', shmPath(name), '-c', 'echo locked; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((resolve) => locker.stdout!.once('data', () => resolve()));
      body();
    } finally {
      locker.kill('SIGKILL');
    }
  }

  it.runIf(hasFlock)('an object another program keeps locked gives ETIMEDOUT after a bounded wait and is left as it was', async () => {
    const name = uniqueName('locked');
    plant(name, 4096, 'theirs');
    await whileLocked(name, () => {
      expect(() => SharedMemory.open(name)).toThrow(
        expect.objectContaining({ code: 'ETIMEDOUT', syscall: 'flock', message: expect.stringContaining('kept the region locked') }),
      );
    });
    const left = fs.readFileSync(shmPath(name));
    expect(left.length).toBe(4096);
    expect(left.subarray(0, 12).toString('utf16le')).toBe('theirs');
  });

  it.runIf(hasFlock)('create() over a name another program keeps locked gives EEXIST: the name is taken', async () => {
    const name = uniqueName('locked');
    plant(name, 4096, 'theirs');
    await whileLocked(name, () => {
      expect(() => SharedMemory.create(name)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    });
  });

  it('an object shrunk under a holder by its owner kills that holder with SIGBUS at its next read (the documented limit)', async () => {
    const name = uniqueName('shrunk');
    const holder = new Worker('open-on-cue.mjs', [name]);
    await holder.next();
    holder.send('open');
    expect(await holder.next()).toMatchObject({ created: true, size: 4096 });
    fs.truncateSync(shmPath(name), 0); // what only a process of our own user can do
    holder.send('read');
    expect(await holder.exit).toEqual({ code: null, signal: 'SIGBUS' });
    // The next open finds a 0-byte object nobody holds, takes it for a dead creator's leftover
    // (it carries the managed mark) and starts a new region.
    const next = track(SharedMemory.open(name));
    expect(next.created).toBe(true);
    expect(next.size).toBe(4096);
  });
});
