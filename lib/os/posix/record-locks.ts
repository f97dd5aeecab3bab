// The holder locks of the lifetime design: Linux open-file-description record locks (F_OFD_*).
// Every holder keeps a read lock on the whole object; the one that can turn it into a write lock
// is the last holder. Unlike flock, a write lock needs a descriptor opened for writing, so a user
// who may only read a region cannot block its holders (they can still keep it alive: README).
// OFD locks belong to the descriptor, as flock's do, so two handles in one process count twice,
// and closing one never drops the other's lock (classic fcntl locks would).
import fs from 'node:fs';
import os from 'node:os';
import koffi from 'koffi';
import { F_OFD_GETLK, F_OFD_SETLK, F_RDLCK, F_UNLCK, F_WRLCK, SEEK_SET, type Libc } from './libc.js';
import { systemError, codeForErrno, type SharedMemoryErrorFields } from '../../errors.js';

const { EINTR, EAGAIN, EACCES, EINVAL, ENOSYS, EOPNOTSUPP } = os.constants.errno;

/** A write lock held on some descriptor of the object, until `end()`. */
export interface ExclusiveLock {
  /** Back to a read lock on the holder's own descriptor, as every holder keeps; false if lost. */
  toShared(): boolean;
  /** Drops the write lock (and the sibling descriptor a read-only holder needed for it). */
  end(): void;
}

export interface RecordLocks {
  /** False where the OS has no OFD locks (macOS, Linux before 3.15): regions then persist. */
  readonly supported: boolean;
  /** Takes or keeps a read lock without waiting; false when a writer holds the object. */
  tryShared(fd: number, fields: SharedMemoryErrorFields): boolean;
  /**
   * Takes the write lock without waiting; null when any other descriptor holds a lock, or when a
   * read-only holder cannot open the object for writing (then it never counts as alone). A
   * read-only descriptor must hold no lock of its own when it asks.
   */
  tryExclusive(fd: number, readOnly: boolean, fields: SharedMemoryErrorFields): ExclusiveLock | null;
  /** Drops this descriptor's lock. */
  unlock(fd: number): void;
  /** Whether another descriptor holds a lock on the object (another holder); undefined where unknown. */
  othersHold(fd: number): boolean | undefined;
}

export function recordLocks(c: Libc): RecordLocks {
  const fcntl = c.fcntl;
  let supported = process.platform === 'linux' && fcntl !== undefined;

  /** F_OFD_SETLK of the whole object; false on a conflict. */
  function set(fd: number, type: number, fields: SharedMemoryErrorFields): boolean {
    const lock = { l_type: type, l_whence: SEEK_SET, l_start: 0, l_len: 0, l_pid: 0 };
    for (;;) {
      if (fcntl!(fd, F_OFD_SETLK, lock) === 0) return true;
      const errno = koffi.errno();
      if (errno === EINTR) continue;
      if (errno === EAGAIN || errno === EACCES) return false;
      if (errno === EINVAL || errno === ENOSYS || errno === EOPNOTSUPP) {
        supported = false; // a kernel without OFD locks: no lifetime management here
        return true;
      }
      throw systemError(codeForErrno(errno), 'fcntl', fields);
    }
  }

  function exclusiveOn(lockFd: number, holderFd: number, sibling: boolean): ExclusiveLock {
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (sibling) fs.closeSync(lockFd);
      else set(lockFd, F_UNLCK, {});
    };
    return {
      toShared() {
        if (!sibling) {
          ended = true;
          return set(holderFd, F_RDLCK, {}); // an atomic downgrade: no opener can slip in between
        }
        // Two descriptors cannot hold both locks: a writer may come between (callers only do this
        // for objects no closer removes, and retry when the read lock is refused).
        end();
        return set(holderFd, F_RDLCK, {});
      },
      end,
    };
  }

  return {
    get supported() {
      return supported;
    },
    tryShared(fd, fields) {
      return !supported || set(fd, F_RDLCK, fields);
    },
    tryExclusive(fd, readOnly, fields) {
      if (!supported) return null;
      if (!readOnly) return set(fd, F_WRLCK, fields) ? exclusiveOn(fd, fd, false) : null;
      // A write lock needs a descriptor open for writing: the owner reopens its own object.
      let sibling: number;
      try {
        sibling = fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
      } catch {
        return null;
      }
      // (The read-only descriptor must hold no lock now: it would conflict with the sibling's.)
      if (set(sibling, F_WRLCK, fields)) return exclusiveOn(sibling, fd, true);
      fs.closeSync(sibling);
      return null;
    },
    unlock(fd) {
      if (supported) set(fd, F_UNLCK, {});
    },
    othersHold(fd) {
      if (!supported) return undefined;
      // Asks which lock a write lock would conflict with; this descriptor's own never conflicts.
      const lock = { l_type: F_WRLCK, l_whence: SEEK_SET, l_start: 0, l_len: 0, l_pid: 0 };
      for (;;) {
        if (fcntl!(fd, F_OFD_GETLK, lock) === 0) return lock.l_type !== F_UNLCK;
        if (koffi.errno() !== EINTR) return undefined;
      }
    },
  };
}
