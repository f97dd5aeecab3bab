// Finding 6: a user who may only READ a region (created with {mode: 0o644}) must not be able to
// block it. Holders lock with Linux OFD record locks (F_OFD_SETLK), which flock(2) does not touch,
// and a write lock needs a descriptor open for writing, which a reader cannot get. So:
// - `flock -x` or `flock -s` held by another user (nobody, 65534, through setpriv) changes
//   nothing: opens attach at once, and the last close still removes the name;
// - an OFD write lock is impossible for them (EBADF on their read-only descriptor);
// - what remains, documented: their OFD READ lock keeps the region alive past our last close
//   (the name stays while they hold it); once they let go, the next open reclaims it.
// (With holders locking by flock, as before, `flock -x` made every open fail with ETIMEDOUT after
// the bounded wait, and `flock -s` kept the name forever: the first two groups guard that.)
//
// Root only: the other user is a child dropped to uid 65534 with setpriv.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { errorOf, isLinux, shmPath, track, uniqueName } from '../helpers.js';

const NOBODY = 65534;
const isRoot = process.geteuid?.() === 0;
const asNobody = ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups'];
const canDrop = isLinux && isRoot && spawnSync('setpriv', [...asNobody, 'true']).status === 0;
const hasFlock = canDrop && spawnSync('setpriv', [...asNobody, 'flock', '--version']).status === 0;
/** python3 as nobody finds it on PATH (not a shim under root's home, which nobody cannot run). */
const python = canDrop ? spawnSync('setpriv', [...asNobody, 'sh', '-c', 'command -v python3'], { encoding: 'utf8' }).stdout.trim() : '';
const hasPython = python !== '' && spawnSync('setpriv', [...asNobody, python, '-c', 'pass']).status === 0;

/**
 * Another user's program, holding a lock on the object until we end it: it prints one line once
 * it holds (or failed), and is killed with its process group after the test.
 */
const others: ChildProcess[] = [];
afterEach(async () => {
  for (const child of others.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid!, 'SIGKILL'); // its group: flock and the sleep it runs
    await gone;
  }
});

function startAsNobody(command: string[]): { child: ChildProcess; line: Promise<string> } {
  const child = spawn('setpriv', [...asNobody, ...command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  others.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const line = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`the other user's program ended (${code}) before it said anything: ${err}`)));
  });
  return { child, line };
}

/** `flock -x|-s` of the object by nobody, holding it until killed. */
async function flockAsNobody(name: string, how: '-x' | '-s'): Promise<void> {
  const { line } = startAsNobody(['flock', how, '-o', shmPath(name), 'sh', '-c', 'echo locked; exec sleep 60']);
  expect(await line).toBe('locked');
}

/** Python as nobody: opens the object read-only, tries an OFD write lock, then takes an OFD read lock. */
const OFD_LOCKER = `
import errno, fcntl, os, struct, sys
F_OFD_SETLK = 37
def lock(fd, kind):
    try:
        fcntl.fcntl(fd, F_OFD_SETLK, struct.pack('hhqqi4x', kind, 0, 0, 0, 0))
        return 'ok'
    except OSError as e:
        return errno.errorcode[e.errno]
try:
    os.open(sys.argv[1], os.O_RDWR)
    rw = 'opened'
except OSError as e:
    rw = errno.errorcode[e.errno]
fd = os.open(sys.argv[1], os.O_RDONLY)
print(rw, lock(fd, fcntl.F_WRLCK), lock(fd, fcntl.F_RDLCK), flush=True)
sys.stdin.read()  # holds the read lock until we close its stdin
`;

async function ofdReaderAsNobody(name: string): Promise<{ child: ChildProcess; said: string }> {
  const { child, line } = startAsNobody([python, '-c', OFD_LOCKER, shmPath(name)]);
  return { child, said: await line };
}

async function letGo(child: ChildProcess): Promise<void> {
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.stdin!.end();
  await gone;
}

/** A region of ours that others may read: mode 0644, with some text. */
function readableRegion(name: string): SharedMemory {
  const region = track(SharedMemory.create(name, { mode: 0o644 }));
  region.writeString('ours');
  expect(fs.statSync(shmPath(name)).mode & 0o777).toBe(0o644);
  return region;
}

describe.runIf(hasFlock)('flock(1) by another user who may read the region (Linux, root, setpriv)', () => {
  it.each(['-x', '-s'] as const)('while they hold flock %s, open and openExisting attach at once, and create says EEXIST', async (how) => {
    const name = uniqueName('flock');
    readableRegion(name);
    await flockAsNobody(name, how);
    const opened = track(SharedMemory.open(name));
    expect([opened.created, opened.readString()]).toEqual([false, 'ours']);
    const existing = track(SharedMemory.openExisting(name));
    expect([existing.created, existing.readString()]).toEqual([false, 'ours']);
    const readOnly = track(SharedMemory.openExisting(name, { access: 'readonly' }));
    expect(readOnly.readString()).toBe('ours');
    expect(errorOf(() => SharedMemory.create(name))).toMatchObject({ code: 'EEXIST', syscall: 'shm_open' });
  });

  it.each(['-x', '-s'] as const)('while they hold flock %s, our last close removes the name and the next open creates afresh', async (how) => {
    const name = uniqueName('flock');
    const region = readableRegion(name);
    await flockAsNobody(name, how);
    region.close();
    expect(fs.existsSync(shmPath(name))).toBe(false);
    const next = track(SharedMemory.open(name));
    expect([next.created, next.readString()]).toEqual([true, '']);
  });
});

describe.runIf(hasPython)('OFD record locks by another user who may read the region (Linux, root, setpriv)', () => {
  it('they cannot open it for writing (EACCES) nor take an OFD write lock on their read-only descriptor (EBADF)', async () => {
    const name = uniqueName('ofd');
    readableRegion(name);
    const { said } = await ofdReaderAsNobody(name);
    const [rw, writeLock] = said.split(' ');
    expect(rw).toBe('EACCES');
    expect(writeLock).toBe('EBADF');
  });

  it('their OFD read lock does not block: open, openExisting and a read-only open attach at once', async () => {
    const name = uniqueName('ofd');
    readableRegion(name);
    const { said } = await ofdReaderAsNobody(name);
    expect(said.split(' ')[2]).toBe('ok'); // they hold a read lock now
    expect(track(SharedMemory.open(name)).created).toBe(false);
    expect(track(SharedMemory.openExisting(name)).readString()).toBe('ours');
    expect(track(SharedMemory.openExisting(name, { access: 'readonly' })).readString()).toBe('ours');
  });

  it('their OFD read lock keeps the name past our last close (the documented pin), with its content', async () => {
    const name = uniqueName('ofd');
    const region = readableRegion(name);
    const { said } = await ofdReaderAsNobody(name);
    expect(said.split(' ')[2]).toBe('ok');
    region.close();
    expect(fs.existsSync(shmPath(name))).toBe(true);
    const again = track(SharedMemory.openExisting(name));
    expect([again.created, again.readString()]).toEqual([false, 'ours']);
  });

  it('once they let go of a pinned region, the next open reclaims it: created, all zeros', async () => {
    const name = uniqueName('ofd');
    const region = readableRegion(name);
    const { child } = await ofdReaderAsNobody(name);
    region.close();
    expect(fs.existsSync(shmPath(name))).toBe(true);
    await letGo(child);
    const next = track(SharedMemory.open(name));
    expect(next.created).toBe(true);
    expect(next.bytes.every((b) => b === 0)).toBe(true);
  });

  it('once they let go of a pinned region, openExisting says ENOENT and removes the leftover', async () => {
    const name = uniqueName('ofd');
    const region = readableRegion(name);
    const { child } = await ofdReaderAsNobody(name);
    region.close();
    await letGo(child);
    expect(errorOf(() => SharedMemory.openExisting(name))).toMatchObject({ code: 'ENOENT', syscall: 'shm_open' });
    expect(fs.existsSync(shmPath(name))).toBe(false);
  });
});
