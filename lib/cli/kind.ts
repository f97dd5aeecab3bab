// What a /dev/shm object is, for `list`: read without any effect on it (no lock, no mapping).
// Opened first with O_PATH, which runs no driver and releases no FIFO writer, and read only if
// that turns out to be a regular file: a FIFO swapped in after list's stat is never opened.
import fs from 'node:fs';
import type { ObjectKind } from '../region/backend.js';
import { SYNC_SIZES, kindOf } from '../os/posix/object-kinds.js';

/** Linux <fcntl.h> (Node's fs.constants has no O_PATH). */
const O_PATH = 0o10000000;
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = fs.constants;

export function kindAt(path: Buffer, size: number): ObjectKind {
  if (!SYNC_SIZES.includes(size)) return 'region';
  const fds: number[] = [];
  try {
    fds.push(fs.openSync(path, O_PATH | O_NOFOLLOW));
    if (!fs.fstatSync(fds[0]!).isFile()) return 'region';
    fds.push(fs.openSync(`/proc/self/fd/${fds[0]}`, O_RDONLY | O_NONBLOCK | O_NOCTTY));
    const kind = kindOf(fds[1]!, size);
    return kind === 'unready' ? 'region' : kind;
  } catch {
    return 'region'; // unreadable (another user's 0600 object) or gone: say nothing more
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}
