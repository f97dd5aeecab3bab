// POSIX backend (Linux glibc, macOS): a named object in /dev/shm (shm_open's folder) mapped with
// mmap, with a lock-based lifetime so that a region is released when its last holder closes it or
// dies, as a Windows section is. The README's "Lifetime" section is the design. This file opens:
// it attaches to what stands at the name, or has create.ts make it; holders.ts has the steps both
// share.
import fs from 'node:fs';
import os from 'node:os';
import type { MemoryCopy, NativeRegion, OpenRequest, RegionBackend } from '../../region/backend.js';
import { systemError, type SharedMemoryErrorFields } from '../../errors.js';
import { MAX_SIZE, type ParsedName } from '../../validate.js';
import { createObject } from './create.js';
import { posixMemoryCopy } from './memory-copy.js';
import { posixHolders } from './holders.js';
import { S_ISVTX } from './libc.js';
import { LAYOUT_VERSION, kindMismatch, kindOf, layoutVersion } from './object-kinds.js';

const { O_RDONLY, O_RDWR } = fs.constants;
const { ENOENT } = os.constants.errno;

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
const UNREADY: BusyReason = { code: 'EINVAL', syscall: 'read', reason: 'the object was never given its header' };
const WRITER: BusyReason = { code: 'ETIMEDOUT', syscall: 'fcntl', reason: 'another process kept the region locked for writing' };

export function posixBackend(): RegionBackend {
  let copy: MemoryCopy | undefined;
  const h = posixHolders();
  const { locks, names, errnoError, fallocate, mapRegion, closeAnd } = h;
  const ownUid = process.geteuid?.() ?? -1;
  const create = (request: OpenRequest, path: string, fields: SharedMemoryErrorFields) => createObject(h, request, path, fields);

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
      const wanted = request.kind ?? 'region';
      let kind = kindOf(fd, st.size);
      if (kind === 'unready') {
        // Zeros where a magic belongs: a foreign creator between its open and its write only for a moment;
        // after that, a region like any other.
        if (wanted !== 'region' && Date.now() - st.mtimeMs < UNSIZED_GRACE_MS) {
          Object.assign(busy, UNREADY);
          return closeAnd(fd, BUSY);
        }
        kind = 'region';
      }
      if (kind !== wanted) throw systemError('EINVAL', 'shm_open', fields, kindMismatch(kind, wanted));
      if (kind !== 'region' && layoutVersion(fd) !== LAYOUT_VERSION) {
        const version = layoutVersion(fd);
        throw systemError('EINVAL', 'shm_open', fields, `the object has layout version ${version}; this named-shm knows version ${LAYOUT_VERSION}`);
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
    return mapRegion(fd, st.size, st.mode, request, path, false, fields);
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
      h.reapOrphans();
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
    memoryCopy: () => (copy ??= posixMemoryCopy()),
  };
}
