// What the creation and attach paths share: the libc calls, the holder locks, the names, and
// the steps that make a descriptor a mapped region and let it go again.
import fs from 'node:fs';
import os from 'node:os';
import type { NativeRegion, OpenRequest } from '../../region/backend.js';
import { codeForErrno, systemError, type SharedMemoryErrorFields } from '../../errors.js';
import { S_ISVTX, bindLibc, type Libc } from './libc.js';
import { mapObject } from './mapping.js';
import { orphanMappings } from './orphan-mappings.js';
import { objectNames, type ObjectNames } from './object-names.js';
import { recordLocks, type RecordLocks } from './record-locks.js';

const { O_RDONLY, O_RDWR } = fs.constants;
const { EINTR, EOPNOTSUPP, EINVAL } = os.constants.errno;

export interface Holders {
  c: Libc;
  locks: RecordLocks;
  names: ObjectNames;
  /** Unmaps what terminated workers mapped (see orphan-mappings.ts). */
  reapOrphans(): void;
  errnoError(errno: number, syscall: string, fields: SharedMemoryErrorFields, detail?: string): Error;
  /** posix_fallocate, retried on EINTR; false where the file system cannot reserve. */
  fallocate(fd: number, size: number, fields: SharedMemoryErrorFields, detail?: string): boolean;
  /** Gives a new object its bytes now, so a full tmpfs says ENOSPC here instead of SIGBUS later. */
  reserve(fd: number, size: number, fields: SharedMemoryErrorFields): void;
  /** Drops this holder's share; the last holder removes the name. Closes `fd`. */
  letGo(fd: number, path: string, readOnly: boolean, fields: SharedMemoryErrorFields): void;
  /** Maps the object held at `fd`; a failed mapping lets go of what it was given. */
  mapRegion(fd: number, size: number, mode: number, request: OpenRequest, path: string, created: boolean, fields: SharedMemoryErrorFields): NativeRegion;
  closeAnd<T>(fd: number, result: T): T;
}

export function posixHolders(): Holders {
  const c = bindLibc();
  const locks = recordLocks(c);
  const names = objectNames(c);
  const orphans = orphanMappings(c);

  const errnoError = (errno: number, syscall: string, fields: SharedMemoryErrorFields, detail?: string) =>
    systemError(codeForErrno(errno), syscall, fields, detail);

  function fallocate(fd: number, size: number, fields: SharedMemoryErrorFields, detail?: string): boolean {
    if (!c.posix_fallocate) return false;
    for (;;) {
      const err = c.posix_fallocate(fd, 0, size) as number;
      if (err === 0) return true;
      if (err === EINTR) continue;
      if (err === EOPNOTSUPP || err === EINVAL) return false;
      throw errnoError(err, 'posix_fallocate', fields, detail);
    }
  }

  function reserve(fd: number, size: number, fields: SharedMemoryErrorFields): void {
    if (fallocate(fd, size, fields)) return;
    try {
      fs.ftruncateSync(fd, size);
    } catch (e) {
      throw errnoError(-((e as { errno?: number }).errno ?? 0), 'ftruncate', fields);
    }
  }

  /**
   * The last holder (the only one that can take the write lock) removes the name, unless the
   * region is kept, or the name no longer leads to this object (moved, or replaced after a rename:
   * removing it then would take another generation's name away).
   */
  function letGo(fd: number, path: string, readOnly: boolean, fields: SharedMemoryErrorFields): void {
    try {
      // Unlock first, then try for the write lock: of holders that close at the same moment, the
      // last to unlock then finds no other lock (an atomic upgrade would leave every one of them
      // refused by the others' read locks, and the name behind).
      locks.unlock(fd);
      const alone = locks.tryExclusive(fd, readOnly, fields);
      if (alone) {
        try {
          const st = fs.fstatSync(fd);
          if (st.nlink > 0 && (st.mode & S_ISVTX) !== 0) names.unlinkIfLeadsTo(path, fd, fields);
        } finally {
          alone.end();
        }
      }
    } catch {
      // Another process removed or replaced it meanwhile: nothing of ours is left to remove.
    } finally {
      names.close(fd);
    }
  }

  /**
   * A second open file description to map from, closed once mapped. A mapping keeps its file
   * description alive, and with it any lock on it: mapped from the holder's own descriptor, a
   * region held by a worker that was terminated (Node closes the worker's descriptors, nothing
   * unmaps) would stay locked, so held, until the process ends. macOS (no /proc) maps from `fd`.
   */
  function mappable(fd: number, readOnly: boolean): number {
    if (process.platform !== 'linux') return fd;
    return fs.openSync(`/proc/self/fd/${fd}`, (readOnly ? O_RDONLY : O_RDWR) | fs.constants.O_NONBLOCK);
  }

  function mapRegion(fd: number, size: number, mode: number, request: OpenRequest, path: string, created: boolean, fields: SharedMemoryErrorFields): NativeRegion {
    let mapping;
    try {
      mapping = mapObject(c, orphans, mappable(fd, request.readOnly), fd, size, request.readOnly, fields, request.zeroCopy !== false);
    } catch (e) {
      // Nothing a failed call made may stay: a new object goes with the name it was given.
      if (created) letGo(fd, path, false, fields);
      else names.close(fd);
      throw e;
    }
    let released = false;
    return {
      created,
      size,
      path,
      view: mapping.view,
      address: mapping.address,
      mode: mode & 0o777,
      identity() {
        const st = fs.fstatSync(fd);
        return `${st.dev}:${st.ino}`;
      },
      othersHold: () => (released ? undefined : locks.othersHold(fd)),
      release() {
        if (released) return;
        released = true;
        letGo(fd, path, request.readOnly, fields);
      },
      unmap: mapping.unmap,
      retire: mapping.retire,
    };
  }

  function closeAnd<T>(fd: number, result: T): T {
    names.close(fd);
    return result;
  }

  return { c, locks, names, reapOrphans: () => orphans.reap(), errnoError, fallocate, reserve, letGo, mapRegion, closeAnd };
}
