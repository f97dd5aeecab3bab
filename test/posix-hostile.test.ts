// Objects at the name that named-shm did not make, or made by someone else: each gives a clear
// error or a documented, safe result, never a crash or a write outside the region.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { exists, isLinux, lastJson, shmPath, track, uniqueName } from './helpers.js';

const TRY_OPEN = fileURLToPath(new URL('./fixtures/try-open.mjs', import.meta.url));
const NOBODY = 65534;
const isRoot = process.geteuid?.() === 0;
const hasSetpriv = isLinux && spawnSync('setpriv', ['--version']).status === 0;
/** Whether a process of uid `nobody` can load the built package from here (a 0700 checkout cannot). */
const nobodyCanRun =
  isRoot && hasSetpriv && spawnSync('setpriv', asNobody(['test', '-r', TRY_OPEN])).status === 0;

function asNobody(command: string[], uid = NOBODY): string[] {
  return [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...command];
}

function plantObject(name: string, size: number, mode = 0o600): void {
  const fd = fs.openSync(shmPath(name), 'wx', mode);
  if (size) fs.ftruncateSync(fd, size);
  fs.fchmodSync(fd, mode);
  fs.closeSync(fd);
}

function tryOpenAs(uid: number, how: string, name: string, options?: object): Record<string, unknown> {
  const r = spawnSync('setpriv', asNobody([process.execPath, TRY_OPEN, how, name, JSON.stringify(options ?? {})], uid), {
    encoding: 'utf8',
  });
  expect(r.signal).toBeNull();
  return lastJson(r.stdout);
}

describe.runIf(isLinux)('foreign and broken objects (Linux)', () => {
  it('an existing 0-byte object gives EINVAL after a bounded wait, never a mapping of 0 bytes', () => {
    const name = uniqueName();
    plantObject(name, 0);
    expect(() => SharedMemory.open(name)).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('0 bytes') }),
    );
    expect(fs.statSync(shmPath(name)).size).toBe(0);
  });

  it('an object smaller than asked gives EINVAL naming both sizes', () => {
    const name = uniqueName();
    plantObject(name, 100);
    expect(() => SharedMemory.open(name, { size: 4096 })).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: expect.stringMatching(/100 bytes.*4096/) }),
    );
  });

  it('openExisting maps a small object at its real size and bounds every write to it', () => {
    const name = uniqueName();
    plantObject(name, 100);
    const region = track(SharedMemory.openExisting(name));
    expect(region.size).toBe(100);
    expect(region.writeString('x'.repeat(500))).toBe(49);
    expect(fs.readFileSync(shmPath(name)).length).toBe(100);
    expect(region.readString()).toBe('x'.repeat(49));
  });

  it('a symlink at the name gives ELOOP and its target is never touched', () => {
    const name = uniqueName();
    const target = `${fs.mkdtempSync('/tmp/nshm-')}/victim`;
    fs.writeFileSync(target, 'precious');
    fs.symlinkSync(target, shmPath(name));
    try {
      expect(() => SharedMemory.open(name)).toThrow(expect.objectContaining({ code: 'ELOOP' }));
      expect(fs.readFileSync(target, 'utf8')).toBe('precious');
    } finally {
      fs.unlinkSync(shmPath(name));
    }
  });

  it('a FIFO at the name gives EINVAL', () => {
    const name = uniqueName();
    expect(spawnSync('mkfifo', [shmPath(name)]).status).toBe(0);
    try {
      expect(() => SharedMemory.open(name)).toThrow(
        expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('not a shared memory object') }),
      );
    } finally {
      fs.unlinkSync(shmPath(name));
    }
  });

  it('a directory at the name gives an error and create() gives EEXIST', () => {
    const name = uniqueName();
    fs.mkdirSync(shmPath(name));
    try {
      expect(() => SharedMemory.open(name)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^E/) }));
      expect(() => SharedMemory.create(name)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    } finally {
      fs.rmdirSync(shmPath(name));
    }
  });

  it('a new object has exactly mode 0600 whatever the umask', () => {
    const old = process.umask(0);
    try {
      const name = uniqueName();
      track(SharedMemory.open(name));
      expect(fs.statSync(shmPath(name)).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  it('the mode option sets the permission bits of a new object', () => {
    const name = uniqueName();
    track(SharedMemory.open(name, { mode: 0o640 }));
    expect(fs.statSync(shmPath(name)).mode & 0o777).toBe(0o640);
  });

  it.each([[-1], [0o1000], [1.5], ['0600']])('mode %s is refused', (mode) => {
    expect(() => SharedMemory.open(uniqueName(), { mode: mode as number })).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^ERR_(OUT_OF_RANGE|INVALID_ARG_TYPE)$/) }),
    );
  });

  it('the name appears in /dev/shm already at its full size', () => {
    const name = uniqueName();
    track(SharedMemory.open(name, { size: 12345 }));
    expect(fs.statSync(shmPath(name)).size).toBe(12345);
  });

  it('a child process does not inherit the descriptor', () => {
    const name = uniqueName();
    track(SharedMemory.open(name));
    const r = spawnSync('sh', ['-c', 'ls -l /proc/self/fd'], { encoding: 'utf8' });
    expect(r.stdout).not.toContain(name);
  });

  it('a full /dev/shm gives ENOSPC at create, leaves no object, and a smaller region still fits', () => {
    const probe = spawnSync('unshare', ['-Urm', 'true']);
    if (probe.status !== 0) return expect(probe.status).not.toBe(0); // no user namespaces here
    const script = `mount -t tmpfs -o size=64k t /dev/shm && "${process.execPath}" "${TRY_OPEN}" open big '{"size":1048576}' && ls -A /dev/shm && "${process.execPath}" "${TRY_OPEN}" open small '{"size":4096}'`;
    const r = spawnSync('unshare', ['-Urm', 'sh', '-c', script], { encoding: 'utf8' });
    const lines = r.stdout.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ ok: false, code: 'ENOSPC', syscall: 'posix_fallocate' });
    expect(lines[1]).toMatch(/^\{/); // `ls -A` printed nothing: the half-made object is gone
    expect(JSON.parse(lines[1]!)).toMatchObject({ ok: true, created: true });
  });
});

describe.runIf(isLinux && isRoot && hasSetpriv)('objects of other users (Linux, dropping privileges)', () => {
  function plantAs(uid: number, name: string, mode: number): void {
    const r = spawnSync(
      'setpriv',
      asNobody(
        [
          process.execPath,
          '-e',
          `const fs = require('fs'); const fd = fs.openSync('${shmPath(name)}', 'wx+', ${mode}); fs.ftruncateSync(fd, 4096); fs.fchmodSync(fd, ${mode});`,
        ],
        uid,
      ),
    );
    expect(r.status).toBe(0);
  }

  it('a squatter of another uid with mode 0666 is refused with EACCES naming the owner', () => {
    const name = uniqueName();
    plantAs(NOBODY, name, 0o666);
    expect(() => SharedMemory.open(name)).toThrow(
      expect.objectContaining({ code: 'EACCES', message: expect.stringContaining(`uid ${NOBODY}`) }),
    );
    expect(fs.readFileSync(shmPath(name)).every((b) => b === 0)).toBe(true);
  });

  it('create() over a squatter gives EEXIST, never created', () => {
    const name = uniqueName();
    plantAs(NOBODY, name, 0o666);
    expect(() => SharedMemory.create(name)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });

  it.runIf(nobodyCanRun)("another user's 0600 object gives EACCES from shm_open", () => {
    const name = uniqueName();
    plantAs(NOBODY, name, 0o600);
    expect(tryOpenAs(NOBODY - 1, 'open', name)).toMatchObject({ ok: false, code: 'EACCES', syscall: 'shm_open' });
  });

  it.runIf(nobodyCanRun)('an own object of mode 0400 opens read-only, and read-write gives EACCES', () => {
    const name = uniqueName();
    plantAs(NOBODY, name, 0o400);
    expect(tryOpenAs(NOBODY, 'openExisting', name)).toMatchObject({ ok: false, code: 'EACCES' });
    expect(tryOpenAs(NOBODY, 'openExisting', name, { access: 'readonly' })).toMatchObject({ ok: true, text: '' });
  });
});

describe.runIf(isLinux)('stale regions', () => {
  it('a managed region whose holders all died is reclaimed on the next open', () => {
    // A sized object with the managed mark and no holder: its last holder was killed.
    const name = uniqueName();
    plantObject(name, 4096, 0o1600);
    const fd = fs.openSync(shmPath(name), 'r+');
    fs.writeSync(fd, Buffer.from('old content', 'utf16le'));
    fs.closeSync(fd);
    const region = track(SharedMemory.open(name));
    expect(region.created).toBe(true);
    expect(region.readString()).toBe('');
  });

  it('an unsized managed object is reclaimed once its creator is known dead', () => {
    // A 0-byte object with the managed mark and no holder: its creator died before sizing it.
    const name = uniqueName();
    plantObject(name, 0, 0o1600);
    const region = track(SharedMemory.open(name));
    expect(region.created).toBe(true);
    expect(region.size).toBe(4096);
  });

  it('a region unlinked under its holders keeps working for them', () => {
    const name = uniqueName();
    const a = track(SharedMemory.open(name));
    fs.unlinkSync(shmPath(name));
    a.writeString('still mapped');
    expect(a.readString()).toBe('still mapped');
    expect(exists(shmPath(name))).toBe(false);
  });
});
