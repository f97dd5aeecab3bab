// Opening, identifying and removing the object behind a name. On Linux the names live in
// /dev/shm and are opened with Node's fs, as glibc's shm_open opens them; on macOS they are
// reached only by shm_open. An existing name is first opened with O_PATH and looked at: opening a
// FIFO for real would release (and lose the data of) a writer waiting at it, and opening a device
// runs its driver's open (ENXIO for a terminal, side effects for others). Only a regular file is
// then opened, through /proc/self/fd, which reaches the same inode whatever the name does.
import fs from 'node:fs';
import os from 'node:os';
import koffi from 'koffi';
import { codeForErrno, systemError, type SharedMemoryErrorFields } from '../../errors.js';
import type { Libc } from './libc.js';

/** glibc keeps shm objects here. */
export const SHM_DIR = '/dev/shm';
const { O_NOFOLLOW, O_NONBLOCK, O_NOCTTY, O_CREAT } = fs.constants;
const O_PATH = 0o10000000; // Linux <fcntl.h>
const { EINTR } = os.constants.errno;
const viaFs = process.platform === 'linux';

export interface ObjectNames {
  /**
   * The object's descriptor, the positive errno of the failed open, or `notFile` when something
   * other than a regular file stands at the name (it is not opened).
   */
  open(path: string, flags: number, mode: number): { fd: number } | { errno: number } | { notFile: true };
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
        const full = `${SHM_DIR}${path}`;
        try {
          if ((flags & O_CREAT) !== 0) return { fd: fs.openSync(full, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, mode) };
          const handle = fs.openSync(full, O_PATH | O_NOFOLLOW);
          try {
            const st = fs.fstatSync(handle);
            // With O_PATH, O_NOFOLLOW opens a symbolic link itself instead of failing: say ELOOP
            // as a plain open would.
            if (st.isSymbolicLink()) return { errno: os.constants.errno.ELOOP };
            if (!st.isFile()) return { notFile: true };
            return { fd: fs.openSync(`/proc/self/fd/${handle}`, flags | O_NONBLOCK | O_NOCTTY) };
          } finally {
            fs.closeSync(handle);
          }
        } catch (e) {
          // Not an OS error: a runtime that refused the call itself (Deno without --allow-all says
          // NotCapable for anything under /dev). Its own message says what to do; an errno would not.
          const errno = (e as { errno?: unknown }).errno;
          if (typeof errno !== 'number' || errno === 0) throw e;
          return { errno: Math.abs(errno) }; // Node reports -errno; take either sign
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
