// A region lives while someone holds it, on every OS: the last close, or the death of the last
// holder, releases it, as a Windows section is released with its last handle.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { exists, isLinux, isPosix, lastJson, runChild, shmPath, startChild, track, uniqueName } from './helpers.js';

describe('lifetime', () => {
  it('the region is gone after its last holder closes it', () => {
    const name = uniqueName();
    const a = SharedMemory.open(name);
    a.writeString('first life');
    a.close();
    expect(() => SharedMemory.openExisting(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    const b = track(SharedMemory.open(name));
    expect(b.created).toBe(true);
    expect(b.readString()).toBe('');
  });

  it('the region stays while another handle in the same process is open', () => {
    const name = uniqueName();
    const a = SharedMemory.open(name);
    const b = track(SharedMemory.open(name));
    a.writeString('still here');
    a.close();
    expect(b.readString()).toBe('still here');
    const c = track(SharedMemory.openExisting(name));
    expect(c.readString()).toBe('still here');
  });

  it('the region stays while another process holds it, and goes when that one exits', async () => {
    const name = uniqueName();
    const holder = startChild('hold', name, '4096', 'kept by the child');
    await holder.first;
    expect(lastJson(runChild('read-existing', name).stdout)).toEqual({ size: 4096, text: 'kept by the child' });
    holder.child.stdin!.end();
    await holder.exit;
    expect(lastJson(runChild('read-existing', name).stdout)).toEqual({ error: 'ENOENT' });
  });

  it('the region is released when its last holder is killed with SIGKILL', async () => {
    const name = uniqueName();
    const holder = startChild('hold', name, '4096', 'doomed');
    expect((await holder.first).created).toBe(true);
    holder.child.kill('SIGKILL');
    await holder.exit;
    const next = track(SharedMemory.open(name));
    expect(next.created).toBe(true);
    expect(next.readString()).toBe('');
  });

  it('openExisting after the last holder was killed fails with ENOENT', async () => {
    const name = uniqueName();
    const holder = startChild('hold', name, '4096', 'doomed');
    await holder.first;
    holder.child.kill('SIGKILL');
    await holder.exit;
    expect(() => SharedMemory.openExisting(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('survivors keep the region when one of two holders is killed', async () => {
    const name = uniqueName();
    const survivor = track(SharedMemory.open(name));
    const victim = startChild('hold', name, '4096', 'written before death');
    await victim.first;
    victim.child.kill('SIGKILL');
    await victim.exit;
    expect(survivor.readString()).toBe('written before death');
    expect(track(SharedMemory.openExisting(name)).readString()).toBe('written before death');
  });
});

describe.runIf(isPosix)('lifetime on POSIX', () => {
  it('the object leaves /dev/shm when the last holder closes', () => {
    const name = uniqueName();
    const a = SharedMemory.open(name);
    expect(exists(shmPath(name))).toBe(true);
    a.close();
    expect(exists(shmPath(name))).toBe(false);
  });

  it('persist keeps the region after the last close, until SharedMemory.unlink', () => {
    const name = uniqueName();
    const a = SharedMemory.open(name, { persist: true });
    a.writeString('kept');
    a.close();
    const b = SharedMemory.openExisting(name);
    expect(b.readString()).toBe('kept');
    b.close();
    expect(exists(shmPath(name))).toBe(true);
    SharedMemory.unlink(name);
    expect(() => SharedMemory.openExisting(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('a kept region survives the death of its last holder', async () => {
    const name = uniqueName();
    const a = SharedMemory.open(name, { persist: true });
    a.writeString('kept across a crash');
    a.close();
    const holder = startChild('hold', name, '4096');
    await holder.first;
    holder.child.kill('SIGKILL');
    await holder.exit;
    expect(track(SharedMemory.openExisting(name)).readString()).toBe('kept across a crash');
  });

  it('opening with persist keeps a region that was created without it', () => {
    const name = uniqueName();
    const a = SharedMemory.open(name);
    a.writeString('made persistent');
    const b = SharedMemory.open(name, { persist: true });
    a.close();
    b.close();
    expect(track(SharedMemory.openExisting(name)).readString()).toBe('made persistent');
  });

  it('unlink removes the name while holders keep their mapping', () => {
    const name = uniqueName();
    const a = track(SharedMemory.open(name));
    a.writeString('orphaned but alive');
    SharedMemory.unlink(name);
    expect(exists(shmPath(name))).toBe(false);
    expect(a.readString()).toBe('orphaned but alive');
    const b = track(SharedMemory.open(name));
    expect(b.created).toBe(true);
  });

  it('unlink of a missing name fails with ENOENT', () => {
    expect(() => SharedMemory.unlink(uniqueName())).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'shm_unlink' }));
  });

  it.runIf(isLinux)('a region that another process never locked is not released by our last close', () => {
    // A peer that is not named-shm (Python, C) made it: we must not remove what it holds.
    const name = uniqueName();
    const fd = fs.openSync(shmPath(name), 'wx', 0o600);
    fs.ftruncateSync(fd, 4096);
    fs.closeSync(fd);
    const a = SharedMemory.open(name);
    expect(a.created).toBe(false);
    a.close();
    expect(exists(shmPath(name))).toBe(true);
  });
});

describe.runIf(!isPosix)('lifetime on Windows', () => {
  it('persist is refused: a section cannot outlive its last handle', () => {
    expect(() => SharedMemory.open(uniqueName(), { persist: true })).toThrow(expect.objectContaining({ code: 'ENOTSUP' }));
  });

  it('unlink is refused with a clear message', () => {
    expect(() => SharedMemory.unlink(uniqueName())).toThrow(/Windows has no unlink/);
  });
});
