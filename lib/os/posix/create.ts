// Creating an object: on Linux unnamed first (O_TMPFILE), sized, locked, then named with linkat,
// so the name never shows an unsized object and linkat's EEXIST decides who created it; where
// that is unavailable, an exclusive open of the name, held for writing until it is sized.
import fs from 'node:fs';
import os from 'node:os';
import koffi from 'koffi';
import type { NativeRegion, OpenRequest } from '../../region/backend.js';
import { systemError, type SharedMemoryErrorFields } from '../../errors.js';
import type { Holders } from './holders.js';
import { AT_FDCWD, AT_SYMLINK_FOLLOW, O_TMPFILE, S_ISVTX } from './libc.js';
import { SHM_DIR } from './object-names.js';

const { O_RDWR, O_CREAT, O_EXCL } = fs.constants;
const { EEXIST, ENOENT } = os.constants.errno;

/** How long a creator on the exclusive route waits for a reclaimer's write lock to go. */
const WAIT_MS = 2000;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

// NAMED_SHM_CREATE_ROUTE=shm_open forces the exclusive route, so tests can cover it on Linux too.
let tmpfileRoute = process.platform === 'linux' && process.env.NAMED_SHM_CREATE_ROUTE !== 'shm_open';

export function createObject(h: Holders, request: OpenRequest, path: string, fields: SharedMemoryErrorFields): NativeRegion | null {
  const { c, locks, names, errnoError, reserve, mapRegion, closeAnd } = h;
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
      return createObject(h, request, path, fields);
    }
    let linked = false;
    try {
      fs.fchmodSync(fd, mode); // exactly the mode asked, whatever the umask
      reserve(fd, size, fields);
      writeHeader(fd, request);
      locks.tryShared(fd, fields);
      if (c.linkat!(AT_FDCWD, `/proc/self/fd/${fd}`, AT_FDCWD, `${SHM_DIR}${path}`, AT_SYMLINK_FOLLOW) !== 0) {
        const errno = koffi.errno();
        if (errno === EEXIST) return closeAnd(fd, null);
        if (errno === ENOENT) {
          // No /proc to name the descriptor by: open the name exclusively from now on.
          names.close(fd);
          tmpfileRoute = false;
          return createObject(h, request, path, fields);
        }
        throw errnoError(errno, 'linkat', fields);
      }
      linked = true;
    } catch (e) {
      names.close(fd); // never linked: the object goes with its descriptor
      throw e;
    }
    if (linked) return mapRegion(fd, size, request.mode, request, path, true, fields);
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
    writeHeader(fd, request);
    locks.tryShared(fd, fields);
  } catch (e) {
    names.unlinkIfLeadsTo(path, fd, fields); // ours: created above and never shown sized
    names.close(fd);
    throw e;
  }
  return mapRegion(fd, size, request.mode, request, path, true, fields);
}

/** An event's or change counter's header goes in before anyone can open the object. */
function writeHeader(fd: number, request: OpenRequest): void {
  if (request.header) fs.writeSync(fd, request.header, 0, request.header.length, 0);
}
