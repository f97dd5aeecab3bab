// Hostile or foreign objects at the name (POSIX), beyond test/posix-hostile.test.ts (0-byte,
// smaller than asked, symlink, FIFO, directory, other owner, read-only mode, stale regions):
// an object sized by its foreign creator while we wait, one that another program keeps locked
// (a write lock, which needs write access, blocks; a flock, which read access allows, does not),
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

  /**
   * Runs `body` while another program holds a lock on the object: a POSIX record write lock
   * (python's lockf, which needs the object open for writing), or util-linux flock.
   */
  async function whileLocked(name: string, how: 'write lock' | 'flock -x', body: () => void): Promise<void> {
    const locker =
      how === 'write lock'
        ? spawn('python3', ['-c', `import fcntl,os,sys,time\nfd=os.open(sys.argv[1], os.O_RDWR)\nfcntl.lockf(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)`, shmPath(name)], { stdio: ['ignore', 'pipe', 'ignore'] })
        : spawn('flock', ['-x', shmPath(name), '-c', 'echo locked; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((resolve) => locker.stdout!.once('data', () => resolve()));
      body();
    } finally {
      locker.kill('SIGKILL');
    }
  }

  it('an object another program keeps write-locked gives ETIMEDOUT after a bounded wait and is left as it was', async () => {
    const name = uniqueName('locked');
    plant(name, 4096, 'theirs');
    await whileLocked(name, 'write lock', () => {
      expect(() => SharedMemory.open(name)).toThrow(
        expect.objectContaining({ code: 'ETIMEDOUT', syscall: 'fcntl', message: expect.stringContaining('kept the region locked for writing') }),
      );
    });
    const left = fs.readFileSync(shmPath(name));
    expect(left.length).toBe(4096);
    expect(left.subarray(0, 12).toString('utf16le')).toBe('theirs');
  });

  it('create() over a name another program keeps write-locked gives EEXIST: the name is taken', async () => {
    const name = uniqueName('locked');
    plant(name, 4096, 'theirs');
    await whileLocked(name, 'write lock', () => {
      expect(() => SharedMemory.create(name)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    });
  });

  it.runIf(hasFlock)('a flock lock, which read access alone allows, neither blocks an open nor counts as a holder', async () => {
    const name = uniqueName('flocked');
    const region = SharedMemory.create(name);
    region.writeString('ours');
    await whileLocked(name, 'flock -x', () => {
      const again = SharedMemory.openExisting(name);
      expect(again.readString()).toBe('ours');
      again.close();
      region.close();
      // The flock holder is no holder of ours: the last close removed the name.
      expect(fs.existsSync(shmPath(name))).toBe(false);
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
