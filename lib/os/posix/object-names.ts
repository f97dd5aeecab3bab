// Opening, identifying and removing the object behind a name. On Linux the names live in
// /dev/shm and are opened with Node's fs (what glibc's shm_open does, plus O_NONBLOCK so that a
// FIFO planted at the name cannot block the open); on macOS they are reached only by shm_open.
import fs from 'node:fs';
import os from 'node:os';
import koffi from 'koffi';
import { codeForErrno, systemError, type SharedMemoryErrorFields } from '../../errors.js';
import type { Libc } from './libc.js';

/** glibc keeps shm objects here. */
export const SHM_DIR = '/dev/shm';
const { O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = fs.constants;
const { EINTR } = os.constants.errno;
const viaFs = process.platform === 'linux';

export interface ObjectNames {
  /** The object's descriptor, or the positive errno of the failed open. */
  open(path: string, flags: number, mode: number): { fd: number } | { errno: number };
  close(fd: number): void;
  /** Whether `path` still names the object open at `fd` (same device and inode). */
  leadsTo(path: string, fd: number): boolean;
  /** Removes `path` if it still names the object at `fd`; never somebody else's object. */
  unlinkIfLeadsTo(path: string, fd: number, fields: SharedMemoryErrorFields): void;
  /** Removes `path`; a missing name is an error only when `ignoreMissing` is false. */
  unlink(path: string, fields: SharedMemoryErrorFields, ignoreMissing?: boolean): void;
}

export function objectNames(c: Libc): ObjectNames {
  function sameFile(a: fs.BigIntStats, b: fs.BigIntStats): boolean {
    return a.dev === b.dev && a.ino === b.ino;
  }
  const names: ObjectNames = {
    open(path, flags, mode) {
      if (viaFs) {
        try {
          return { fd: fs.openSync(`${SHM_DIR}${path}`, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, mode) };
        } catch (e) {
          return { errno: -((e as { errno?: number }).errno ?? 0) || os.constants.errno.EIO };
        }
      }
      for (;;) {
        const fd = c.shm_open(path, flags | O_NOFOLLOW, 'int', mode) as number;
        if (fd >= 0) return { fd };
        const errno = koffi.errno();
        if (errno !== EINTR) return { errno };
      }
    },
    close(fd) {
      try {
        if (viaFs) fs.closeSync(fd);
        else c.close(fd);
      } catch {
        // Ours and open: nothing a caller could do about a failed close.
      }
    },
    leadsTo(path, fd) {
      if (!viaFs) return true; // macOS has no way to look a name up without opening it
      try {
        return sameFile(fs.lstatSync(`${SHM_DIR}${path}`, { bigint: true }), fs.fstatSync(fd, { bigint: true }));
      } catch {
        return false;
      }
    },
    unlinkIfLeadsTo(path, fd, fields) {
      if (names.leadsTo(path, fd)) names.unlink(path, fields, true);
    },
    unlink(path, fields, ignoreMissing = true) {
      if (c.shm_unlink(path) === 0) return;
      const errno = koffi.errno();
      if (ignoreMissing && errno === os.constants.errno.ENOENT) return;
      throw systemError(codeForErrno(errno), 'shm_unlink', fields);
    },
  };
  return names;
}
