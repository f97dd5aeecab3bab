// POSIX backend (Linux glibc, macOS): shm_open + mmap, with a flock-based lifetime so that a
// region is released when its last holder closes it or dies, as a Windows section is.
// Node's fs does what it can (fstat, fchmod, ftruncate, close, open of an O_TMPFILE); koffi
// does the rest.
import fs from 'node:fs';
import os from 'node:os';
import koffi, { type LibraryHandle } from 'koffi';

type KoffiFunction = ReturnType<LibraryHandle['func']>;
import type { Backend, NativeRegion, OpenRequest } from './backend.js';
import { codeForErrno, systemError, type SharedMemoryErrorFields } from './errors.js';
import type { ParsedName } from './validate.js';

// <sys/mman.h>, <sys/file.h>, <fcntl.h>, <unistd.h>
const PROTOTYPES = {
  // Variadic, as macOS declares it: on arm64 the mode must travel as a variadic argument.
  shm_open: 'int shm_open(const char *name, int oflag, ...)',
  shm_unlink: 'int shm_unlink(const char *name)',
  mmap: 'void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)',
  munmap: 'int munmap(void *addr, size_t length)',
  flock: 'int flock(int fd, int operation)',
  // Linux only: returns the error number instead of setting errno.
  posix_fallocate: 'int posix_fallocate(int fd, int64_t offset, int64_t len)',
  linkat: 'int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)',
} as const;

const PROT_READ = 0x1; // <sys/mman.h>
const PROT_WRITE = 0x2;
const MAP_SHARED = 0x1;
const MAP_FAILED = 0xffffffffffffffffn; // (void *)-1, which koffi returns as a BigInt
const LOCK_SH = 1; // <sys/file.h>
const LOCK_EX = 2;
const LOCK_NB = 4;
const AT_FDCWD = -100; // Linux <fcntl.h>
const AT_SYMLINK_FOLLOW = 0x400;
const O_TMPFILE = 0o20000000 | fs.constants.O_DIRECTORY; // Linux <fcntl.h>: __O_TMPFILE | O_DIRECTORY
const S_ISVTX = 0o1000; // <sys/stat.h>: marks an object whose lifetime named-shm manages
const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const { EEXIST, ENOENT, EINTR, EWOULDBLOCK, EOPNOTSUPP, ENOTSUP, EINVAL, ENOSYS } = os.constants.errno;

/** glibc keeps shm objects here; O_TMPFILE + linkat creates them already sized. */
const SHM_DIR = '/dev/shm';
/** macOS: PSHMNAMLEN is 31 with the slash; Linux: NAME_MAX in /dev/shm. */
const MAX_NAME_BYTES = process.platform === 'darwin' ? 30 : 255;
/** How long an opener waits for a region that is being created or released by another process. */
const WAIT_MS = 2000;
/** How long an unsized managed object may sit before it counts as its dead creator's leftover. */
const UNSIZED_GRACE_MS = 1000;
/** How often an open may find the name removed or replaced under it before giving up. */
const MAX_ATTEMPTS = 100;

type Libc = { [K in keyof typeof PROTOTYPES]: KoffiFunction };

function bindLibc(): Libc {
  const names = Object.keys(PROTOTYPES) as (keyof typeof PROTOTYPES)[];
  if (process.platform === 'darwin') {
    const system = koffi.load('libSystem.B.dylib');
    return Object.fromEntries(
      names.map((n) => [n, n === 'posix_fallocate' || n === 'linkat' ? undefined : system.func(PROTOTYPES[n])]),
    ) as Libc;
  }
  const libc = koffi.load('libc.so.6');
  let rt = libc;
  try {
    libc.func(PROTOTYPES.shm_open);
  } catch {
    rt = koffi.load('librt.so.1'); // glibc before 2.34 keeps shm_open in librt
  }
  return Object.fromEntries(
    names.map((n) => [n, (n === 'shm_open' || n === 'shm_unlink' ? rt : libc).func(PROTOTYPES[n])]),
  ) as Libc;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

export function posixBackend(): Backend {
  const c = bindLibc();
  const ownUid = process.geteuid?.() ?? -1;
  // Linux creates through O_TMPFILE + linkat, so the name appears only once the object is sized
  // and locked; where that is unavailable, creation falls back to shm_open(O_CREAT | O_EXCL).
  // NAMED_SHM_CREATE_ROUTE=shm_open forces the other route, so tests can cover it on Linux too.
  let tmpfileRoute = process.platform === 'linux' && process.env.NAMED_SHM_CREATE_ROUTE !== 'shm_open';
  let flockWorks = true;

  /** Throws the error for the call that just failed. Nothing may run between the call and this. */
  function fail(syscall: string, fields: SharedMemoryErrorFields, detail?: string): never {
    const errno = koffi.errno();
    throw systemError(codeForErrno(errno), syscall, fields, detail);
  }

  function errnoError(errno: number, syscall: string, fields: SharedMemoryErrorFields, detail?: string) {
    return systemError(codeForErrno(errno), syscall, fields, detail);
  }

  /** flock, retried on EINTR; false when it would block (or flock is unsupported: see flockWorks). */
  function tryLock(fd: number, op: number, fields: SharedMemoryErrorFields): boolean {
    for (;;) {
      if (c.flock(fd, op) === 0) return true;
      const errno = koffi.errno();
      if (errno === EINTR) continue;
      if (errno === EWOULDBLOCK) return false;
      if (errno === EOPNOTSUPP || errno === ENOTSUP || errno === EINVAL || errno === ENOSYS) {
        // macOS: no flock on shm descriptors. Regions there are kept until unlinked.
        flockWorks = false;
        return true;
      }
      throw errnoError(errno, 'flock', fields);
    }
  }

  function closeQuietly(fd: number): void {
    try {
      fs.closeSync(fd);
    } catch {
      // The descriptor is ours and open; closing it cannot fail in a way a caller can act on.
    }
  }

  function unlinkName(path: string, fields: SharedMemoryErrorFields, ignoreMissing: boolean): void {
    if (c.shm_unlink(path) === 0) return;
    const errno = koffi.errno();
    if (ignoreMissing && errno === ENOENT) return;
    throw errnoError(errno, 'shm_unlink', fields);
  }

  /** Gives the object its bytes now, so a full tmpfs says ENOSPC here instead of SIGBUS later. */
  function reserve(fd: number, size: number, fields: SharedMemoryErrorFields): void {
    if (c.posix_fallocate) {
      for (;;) {
        const err = c.posix_fallocate(fd, 0, size) as number;
        if (err === 0) return;
        if (err === EINTR) continue;
        if (err === EOPNOTSUPP || err === EINVAL) break; // the filesystem cannot reserve: size it only
        throw errnoError(err, 'posix_fallocate', fields);
      }
    }
    try {
      fs.ftruncateSync(fd, size);
    } catch (e) {
      const errno = -((e as { errno?: number }).errno ?? 0);
      throw errnoError(errno, 'ftruncate', fields);
    }
  }

  function mapRegion(
    fd: number,
    size: number,
    request: OpenRequest,
    path: string,
    created: boolean,
    fields: SharedMemoryErrorFields,
  ): NativeRegion {
    const prot = request.readOnly ? PROT_READ : PROT_READ | PROT_WRITE;
    const address = c.mmap(null, size, prot, MAP_SHARED, fd, 0);
    if (address === MAP_FAILED || address === null) fail('mmap', fields);
    const view = koffi.view(address, size);
    let released = false;
    return {
      created,
      size,
      path,
      view,
      release() {
        if (released) return;
        released = true;
        // The last holder (the only one that can take the lock exclusive) removes the name,
        // unless the region is kept or the name already leads elsewhere (st_nlink == 0).
        if (flockWorks && tryLock(fd, LOCK_EX | LOCK_NB, fields)) {
          const st = fs.fstatSync(fd);
          if (st.nlink > 0 && (st.mode & S_ISVTX) !== 0) {
            try {
              unlinkName(path, fields, true);
            } catch {
              // Another process removed or replaced it; nothing of ours is left to remove.
            }
          }
        }
        closeQuietly(fd);
      },
      unmap() {
        c.munmap(address, size);
      },
    };
  }

  /** Creates the object, or returns null when the name exists. */
  function create(request: OpenRequest, path: string, fields: SharedMemoryErrorFields): NativeRegion | null {
    const size = request.size!;
    const mode = request.mode | (request.persist ? 0 : S_ISVTX);
    if (tmpfileRoute) {
      let fd: number;
      try {
        fd = fs.openSync(SHM_DIR, O_TMPFILE | O_RDWR, 0o600);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== 'EISDIR' && code !== 'EOPNOTSUPP' && code !== 'ENOENT' && code !== 'EINVAL') {
          throw systemError(code ?? 'UNKNOWN', 'open', { ...fields, path: SHM_DIR });
        }
        tmpfileRoute = false; // no tmpfs with O_TMPFILE here: use shm_open
        return create(request, path, fields);
      }
      try {
        fs.fchmodSync(fd, mode); // exactly the mode asked, whatever the umask
        reserve(fd, size, fields);
        tryLock(fd, LOCK_SH, fields);
        if (c.linkat(AT_FDCWD, `/proc/self/fd/${fd}`, AT_FDCWD, `${SHM_DIR}${path}`, AT_SYMLINK_FOLLOW) !== 0) {
          const errno = koffi.errno();
          if (errno === EEXIST) {
            closeQuietly(fd);
            return null;
          }
          if (errno === ENOENT) {
            // No /proc to name the descriptor by: use shm_open from now on.
            closeQuietly(fd);
            tmpfileRoute = false;
            return create(request, path, fields);
          }
          throw errnoError(errno, 'linkat', fields);
        }
        return mapRegion(fd, size, request, path, true, fields);
      } catch (e) {
        closeQuietly(fd);
        throw e;
      }
    }
    let fd: number;
    for (;;) {
      fd = c.shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 'int', mode) as number;
      if (fd >= 0) break;
      const errno = koffi.errno();
      if (errno === EINTR) continue;
      if (errno === EEXIST) return null;
      throw errnoError(errno, 'shm_open', fields);
    }
    try {
      // Held exclusive until the object is sized: openers wait on it instead of seeing 0 bytes.
      const deadline = Date.now() + WAIT_MS;
      while (!tryLock(fd, LOCK_EX | LOCK_NB, fields)) {
        if (Date.now() > deadline) throw systemError('ETIMEDOUT', 'flock', fields, 'timed out');
        sleep(1);
      }
      if (fs.fstatSync(fd).nlink === 0) {
        // Taken for a dead creator's leftover and removed before we locked it: start again.
        closeQuietly(fd);
        return null;
      }
      try {
        fs.fchmodSync(fd, mode);
      } catch {
        // macOS may refuse fchmod on shm descriptors; shm_open already applied the mode.
      }
      reserve(fd, size, fields);
      tryLock(fd, LOCK_SH, fields);
      return mapRegion(fd, size, request, path, true, fields);
    } catch (e) {
      unlinkName(path, fields, true); // ours: created above and never shown sized
      closeQuietly(fd);
      throw e;
    }
  }

  const GONE = Symbol('gone');
  const BUSY = Symbol('busy');
  type BusyReason = { reason: string; code: string; syscall: string };
  const UNSIZED: BusyReason = { code: 'EINVAL', syscall: 'fstat', reason: 'the object has 0 bytes: its creator never sized it' };

  /** Attaches to the existing object, or says why not yet. */
  function attach(
    request: OpenRequest,
    path: string,
    fields: SharedMemoryErrorFields,
    busy: BusyReason,
  ): NativeRegion | typeof GONE | typeof BUSY {
    const createOnly = request.intent === 'create';
    let fd: number;
    for (;;) {
      fd = c.shm_open(path, (request.readOnly ? O_RDONLY : O_RDWR) | O_NOFOLLOW, 'int', 0) as number;
      if (fd >= 0) break;
      const errno = koffi.errno();
      if (errno === EINTR) continue;
      if (errno === ENOENT) return GONE;
      if (createOnly) throw systemError('EEXIST', 'shm_open', fields);
      throw errnoError(errno, 'shm_open', fields);
    }
    try {
      let st = fs.fstatSync(fd);
      if (!st.isFile()) {
        throw systemError('EINVAL', 'shm_open', fields, 'the name is taken by something that is not a shared memory object');
      }
      if (st.uid !== ownUid && ownUid !== -1) {
        throw systemError('EACCES', 'shm_open', fields, `permission denied: the object is owned by uid ${st.uid}`);
      }
      if (tryLock(fd, LOCK_EX | LOCK_NB, fields)) {
        // No other holder: a managed region whose holders all died is released now, as
        // Windows releases a section when its last handle goes.
        st = fs.fstatSync(fd);
        if (st.nlink === 0) return closeAnd(fd, GONE);
        if (flockWorks && (st.mode & S_ISVTX) !== 0) {
          // An unsized object may be a live creator between shm_open and its lock (the
          // shm_open route): only once it stays unsized for a while is its creator known dead.
          if (st.size === 0 && Date.now() - st.ctimeMs < UNSIZED_GRACE_MS) {
            Object.assign(busy, UNSIZED);
            return closeAnd(fd, BUSY);
          }
          unlinkName(path, fields, true);
          return closeAnd(fd, GONE);
        }
        tryLock(fd, LOCK_SH, fields);
      } else {
        if (!tryLock(fd, LOCK_SH | LOCK_NB, fields)) {
          Object.assign(busy, { code: 'ETIMEDOUT', syscall: 'flock', reason: 'another process kept the region locked' });
          return closeAnd(fd, BUSY);
        }
        st = fs.fstatSync(fd);
        // The last holder removed the name while we opened it: that object is on its way out.
        if (st.nlink === 0) return closeAnd(fd, GONE);
      }
      if (createOnly) throw systemError('EEXIST', 'shm_open', fields);
      if (st.size === 0) {
        Object.assign(busy, UNSIZED);
        return closeAnd(fd, BUSY);
      }
      if (request.size !== undefined && st.size < request.size) {
        throw systemError(
          'EINVAL',
          'fstat',
          fields,
          `the region exists with ${st.size} bytes, fewer than the ${request.size} asked for`,
        );
      }
      if (request.persist && (st.mode & S_ISVTX) !== 0) fs.fchmodSync(fd, st.mode & 0o777);
      return mapRegion(fd, st.size, request, path, false, fields);
    } catch (e) {
      closeQuietly(fd);
      // Whatever stands at the name, a create-only call reports that the name is taken.
      if (createOnly && (e as { code?: string }).code !== 'EEXIST') throw systemError('EEXIST', 'shm_open', fields);
      throw e;
    }
  }

  function closeAnd<T>(fd: number, result: T): T {
    closeQuietly(fd);
    return result;
  }

  function osPath(name: ParsedName): string {
    // One namespace per machine on POSIX: a Windows `Global\`/`Local\` prefix selects nothing here.
    const path = `/${name.base}`;
    if (Buffer.byteLength(name.base) > MAX_NAME_BYTES) {
      throw systemError(
        'ENAMETOOLONG',
        'shm_open',
        { region: name.full, path },
        `name too long: ${Buffer.byteLength(name.base)} bytes, this OS allows ${MAX_NAME_BYTES}`,
      );
    }
    return path;
  }

  return {
    open(request) {
      const path = osPath(request.name);
      const fields = { region: request.name.full, path };
      const deadline = Date.now() + WAIT_MS;
      const busy: BusyReason = { reason: '', code: '', syscall: '' };
      for (let gone = 0, pause = 0; ; ) {
        if (request.intent !== 'open') {
          const made = create(request, path, fields);
          if (made) return made;
        }
        const found = attach(request, path, fields, busy);
        if (found === GONE) {
          if (request.intent === 'open') throw systemError('ENOENT', 'shm_open', fields);
          if (++gone > MAX_ATTEMPTS) {
            throw systemError('EAGAIN', 'shm_open', fields, 'the name kept being removed and created by other processes');
          }
          continue;
        }
        if (found === BUSY) {
          // Someone holds the name (locked, or not sized yet): it exists, which is all create() asks.
          if (request.intent === 'create') throw systemError('EEXIST', 'shm_open', fields);
          if (Date.now() > deadline) throw systemError(busy.code, busy.syscall, fields, busy.reason);
          sleep((pause = Math.min(pause + 1, 10)));
          continue;
        }
        return found;
      }
    },
    unlink(name) {
      const path = osPath(name);
      unlinkName(path, { region: name.full, path }, false);
    },
  };
}
