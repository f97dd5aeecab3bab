// POSIX backend (Linux glibc, macOS): a named object in /dev/shm (shm_open's folder) mapped with
// mmap, with a lock-based lifetime so that a region is released when its last holder closes it or
// dies, as a Windows section is. The README's "Lifetime" section is the design; every step below
// names the finding of docs/RELIABILITY.md it answers where one applies.
import fs from 'node:fs';
import os from 'node:os';
import koffi from 'koffi';
import type { NativeRegion, OpenRequest, RegionBackend } from '../../region/backend.js';
import { codeForErrno, systemError, type SharedMemoryErrorFields } from '../../errors.js';
import { MAX_SIZE, type ParsedName } from '../../validate.js';
import { AT_FDCWD, AT_SYMLINK_FOLLOW, O_TMPFILE, S_ISVTX, bindLibc } from './libc.js';
import { mapObject } from './mapping.js';
import { orphanMappings } from './orphan-mappings.js';
import { SHM_DIR, objectNames } from './object-names.js';
import { recordLocks } from './record-locks.js';

const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL } = fs.constants;
const { EEXIST, ENOENT, EINTR, EOPNOTSUPP, EINVAL } = os.constants.errno;

/** macOS: PSHMNAMLEN is 31 with the slash; Linux: NAME_MAX in /dev/shm. */
const MAX_NAME_BYTES = process.platform === 'darwin' ? 30 : 255;
/** How long an opener waits for a region that is being created or released by another process. */
const WAIT_MS = 2000;
/** How long an unsized managed object may sit before it counts as its dead creator's leftover. */
const UNSIZED_GRACE_MS = 1000;
/** How often an open may find the name removed or replaced under it before giving up. */
const MAX_ATTEMPTS = 100;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

const GONE = Symbol('gone');
const BUSY = Symbol('busy');
type BusyReason = { reason: string; code: string; syscall: string };
const UNSIZED: BusyReason = { code: 'EINVAL', syscall: 'fstat', reason: 'the object has 0 bytes: its creator never sized it' };
const WRITER: BusyReason = { code: 'ETIMEDOUT', syscall: 'fcntl', reason: 'another process kept the region locked for writing' };

export function posixBackend(): RegionBackend {
  const c = bindLibc();
  const locks = recordLocks(c);
  const names = objectNames(c);
  const orphans = orphanMappings(c);
  const ownUid = process.geteuid?.() ?? -1;
  // Linux creates through O_TMPFILE + linkat, so the name appears only once the object is sized
  // and locked; where that is unavailable, creation falls back to an exclusive open of the name.
  // NAMED_SHM_CREATE_ROUTE=shm_open forces the other route, so tests can cover it on Linux too.
  let tmpfileRoute = process.platform === 'linux' && process.env.NAMED_SHM_CREATE_ROUTE !== 'shm_open';

  const errnoError = (errno: number, syscall: string, fields: SharedMemoryErrorFields, detail?: string) =>
    systemError(codeForErrno(errno), syscall, fields, detail);

  /** posix_fallocate, retried on EINTR; false where the file system cannot reserve. */
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

  /** Gives a new object its bytes now, so a full tmpfs says ENOSPC here instead of SIGBUS later. */
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

  function mapRegion(fd: number, size: number, request: OpenRequest, path: string, created: boolean, fields: SharedMemoryErrorFields): NativeRegion {
    let mapping;
    try {
      mapping = mapObject(c, orphans, mappable(fd, request.readOnly), fd, size, request.readOnly, fields);
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
      release() {
        if (released) return;
        released = true;
        letGo(fd, path, request.readOnly, fields);
      },
      unmap: mapping.unmap,
      retire: mapping.retire,
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
        tmpfileRoute = false; // no tmpfs with O_TMPFILE here
        return create(request, path, fields);
      }
      let linked = false;
      try {
        fs.fchmodSync(fd, mode); // exactly the mode asked, whatever the umask
        reserve(fd, size, fields);
        locks.tryShared(fd, fields);
        if (c.linkat!(AT_FDCWD, `/proc/self/fd/${fd}`, AT_FDCWD, `${SHM_DIR}${path}`, AT_SYMLINK_FOLLOW) !== 0) {
          const errno = koffi.errno();
          if (errno === EEXIST) return closeAnd(fd, null);
          if (errno === ENOENT) {
            // No /proc to name the descriptor by: open the name exclusively from now on.
            names.close(fd);
            tmpfileRoute = false;
            return create(request, path, fields);
          }
          throw errnoError(errno, 'linkat', fields);
        }
        linked = true;
      } catch (e) {
        names.close(fd); // never linked: the object goes with its descriptor
        throw e;
      }
      if (linked) return mapRegion(fd, size, request, path, true, fields);
    }
    const opened = names.open(path, O_RDWR | O_CREAT | O_EXCL, mode);
    if ('notFile' in opened) return null; // not returned for O_CREAT: for the type checker
    if ('errno' in opened) {
      if (opened.errno === EEXIST) return null;
      throw errnoError(opened.errno, 'shm_open', fields);
    }
    const fd = opened.fd;
    try {
      // Held for writing until the object is sized: openers wait on it instead of seeing 0 bytes.
      const deadline = Date.now() + WAIT_MS;
      for (let alone = locks.tryExclusive(fd, false, fields); locks.supported && !alone; alone = locks.tryExclusive(fd, false, fields)) {
        if (Date.now() > deadline) throw systemError('ETIMEDOUT', 'fcntl', fields, 'timed out');
        sleep(1);
      }
      if (fs.fstatSync(fd).nlink === 0) {
        // Taken for a dead creator's leftover and removed before we locked it: start again.
        return closeAnd(fd, null);
      }
      try {
        fs.fchmodSync(fd, mode);
      } catch {
        // macOS may refuse fchmod on shm descriptors; the open already applied the mode.
      }
      reserve(fd, size, fields);
      locks.tryShared(fd, fields);
    } catch (e) {
      names.unlinkIfLeadsTo(path, fd, fields); // ours: created above and never shown sized
      names.close(fd);
      throw e;
    }
    return mapRegion(fd, size, request, path, true, fields);
  }

  function closeAnd<T>(fd: number, result: T): T {
    names.close(fd);
    return result;
  }

  /** Attaches to the existing object, or says why not yet. */
  function attach(request: OpenRequest, path: string, fields: SharedMemoryErrorFields, busy: BusyReason): NativeRegion | typeof GONE | typeof BUSY {
    const createOnly = request.intent === 'create';
    const opened = names.open(path, request.readOnly ? O_RDONLY : O_RDWR, 0);
    if ('notFile' in opened) {
      if (createOnly) throw systemError('EEXIST', 'shm_open', fields);
      throw systemError('EINVAL', 'shm_open', fields, 'the name is taken by something that is not a shared memory object');
    }
    if ('errno' in opened) {
      if (opened.errno === ENOENT) return GONE;
      if (createOnly) throw systemError('EEXIST', 'shm_open', fields);
      throw errnoError(opened.errno, 'shm_open', fields);
    }
    const fd = opened.fd;
    let st: fs.Stats;
    try {
      st = fs.fstatSync(fd);
      if (!st.isFile()) {
        throw systemError('EINVAL', 'shm_open', fields, 'the name is taken by something that is not a shared memory object');
      }
      if (st.uid !== ownUid && ownUid !== -1) {
        throw systemError('EACCES', 'shm_open', fields, `permission denied: the object is owned by uid ${st.uid}`);
      }
      const alone = locks.tryExclusive(fd, request.readOnly, fields);
      if (alone) {
        // No other holder. The name must still lead here: a rename or hard link elsewhere
        // would otherwise let us remove or use another generation's object.
        st = fs.fstatSync(fd);
        const managed = (st.mode & S_ISVTX) !== 0;
        if (st.nlink === 0 || !names.leadsTo(path, fd)) {
          alone.end();
          return closeAnd(fd, GONE);
        }
        if (managed && st.size === 0 && Date.now() - st.ctimeMs < UNSIZED_GRACE_MS) {
          // An unsized object may be a live creator between its open and its lock (the
          // exclusive route): only once it stays unsized for a while is its creator known dead.
          alone.end();
          Object.assign(busy, UNSIZED);
          return closeAnd(fd, BUSY);
        }
        if (managed) {
          // A managed region whose holders all died is released now, as Windows releases a
          // section when its last handle goes.
          try {
            names.unlinkIfLeadsTo(path, fd, fields);
          } finally {
            alone.end();
          }
          return closeAnd(fd, GONE);
        }
        if (!alone.toShared()) {
          Object.assign(busy, WRITER);
          return closeAnd(fd, BUSY);
        }
      } else {
        if (!locks.tryShared(fd, fields)) {
          Object.assign(busy, WRITER);
          return closeAnd(fd, BUSY);
        }
        st = fs.fstatSync(fd);
        // The last holder removed or moved the name while we opened it: that object is on its way out.
        if (st.nlink === 0 || !names.leadsTo(path, fd)) return closeAnd(fd, GONE);
      }
      if (createOnly) throw systemError('EEXIST', 'shm_open', fields);
      if (st.size === 0) {
        Object.assign(busy, UNSIZED);
        return closeAnd(fd, BUSY);
      }
      if (request.size !== undefined && st.size < request.size) {
        throw systemError('EINVAL', 'fstat', fields, `the region exists with ${st.size} bytes, fewer than the ${request.size} asked for`);
      }
      if (st.size > MAX_SIZE) {
        throw systemError('EFBIG', 'fstat', fields, `the region has ${st.size} bytes, more than this runtime can view (${MAX_SIZE})`);
      }
      // A sparse object (made with ftruncate by another program) has pages that exist only once
      // written; on a full tmpfs that first write is a SIGBUS. Give them memory now, or ENOSPC.
      if (!request.readOnly && st.blocks * 512 < st.size) {
        fallocate(fd, st.size, fields, 'the region has pages without memory behind them, and there is no room to give them any');
      }
      if (request.persist && (st.mode & S_ISVTX) !== 0) fs.fchmodSync(fd, st.mode & 0o777);
    } catch (e) {
      names.close(fd);
      // Whatever stands at the name, a create-only call reports that the name is taken.
      if (createOnly && (e as { code?: string }).code !== 'EEXIST') throw systemError('EEXIST', 'shm_open', fields);
      throw e;
    }
    return mapRegion(fd, st.size, request, path, false, fields);
  }

  function osPath(name: ParsedName): string {
    // One namespace per machine on POSIX: a Windows `Global\`/`Local\` prefix selects nothing here.
    const path = `/${name.base}`;
    const bytes = Buffer.byteLength(name.base);
    if (bytes > MAX_NAME_BYTES) {
      throw systemError('ENAMETOOLONG', 'shm_open', { region: name.full, path }, `name too long: ${bytes} bytes, this OS allows ${MAX_NAME_BYTES}`);
    }
    return path;
  }

  return {
    open(request) {
      orphans.reap();
      const path = osPath(request.name);
      const fields = { region: request.name.full, path };
      const deadline = Date.now() + WAIT_MS;
      const busy: BusyReason = { reason: '', code: '', syscall: '' };
      for (let gone = 0, pause = 0; ; ) {
        // An existing region is attached as it is, with no memory reserved for a new one first.
        if (request.intent !== 'create') {
          const found = attach(request, path, fields, busy);
          if (found === BUSY) {
            if (Date.now() > deadline) throw systemError(busy.code, busy.syscall, fields, busy.reason);
            sleep((pause = Math.min(pause + 1, 10)));
            continue;
          }
          if (found !== GONE) return found;
          if (request.intent === 'open') throw systemError('ENOENT', 'shm_open', fields);
        }
        const made = create(request, path, fields);
        if (made) return made;
        if (request.intent === 'create') {
          // The name is taken; only a dead region's leftover (reclaimed here) lets create go on.
          if (attach(request, path, fields, busy) !== GONE) throw systemError('EEXIST', 'shm_open', fields);
        }
        if (++gone > MAX_ATTEMPTS) {
          throw systemError('EAGAIN', 'shm_open', fields, 'the name kept being removed and created by other processes');
        }
      }
    },
    unlink(name) {
      const path = osPath(name);
      names.unlink(path, { region: name.full, path }, false);
    },
  };
}
