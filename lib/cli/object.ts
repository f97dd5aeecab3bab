// Linux: a region's object in /dev/shm, as `stat` sees it. Other systems have no such folder
// (macOS keeps POSIX shared memory out of the file system, Windows in the object manager).
import fs from 'node:fs';
import { parseName } from '../validate.js';

export const SHM_DIR = '/dev/shm';
/** named-shm marks the objects whose lifetime it manages with the sticky bit (see the README). */
const S_ISVTX = 0o1000;
/** As the core: a managed object that has no bytes yet may be a creator's, for this long. */
const UNSIZED_GRACE_MS = 1000;

export interface ShmObject {
  size: number;
  /** Permission bits and the sticky bit: `0o1600` for a region named-shm created. */
  mode: number;
  uid: number;
  /** Made by named-shm and not kept with persist: removed with its last holder. */
  managed: boolean;
  /** `major:minor:inode`, as /proc/PID/maps and /proc/locks name a file. */
  key: string;
  ctimeMs: number;
}

export const hasShmDir = process.platform === 'linux';

/** `/dev/shm/<name>` for a region name (a `Global\`/`Local\` prefix is dropped, as on open). */
export function objectPath(name: string): string {
  return `${SHM_DIR}/${parseName(name).base}`;
}

/** The object at `path` (a string, or bytes for a name that is not UTF-8); undefined for no file. */
export function statObject(path: string | Buffer): ShmObject | undefined {
  const st = fs.lstatSync(path, { bigint: true });
  if (!st.isFile()) return undefined;
  const mode = Number(st.mode & 0o7777n);
  return {
    size: Number(st.size),
    mode,
    uid: Number(st.uid),
    managed: (mode & S_ISVTX) !== 0,
    key: fileKey(st.dev, st.ino),
    ctimeMs: Number(st.ctimeMs),
  };
}

/**
 * A leftover: a managed object none of whose holders is alive (none holds its lock). The next
 * open of its name removes it; until then it is only looked at. A managed object that has no
 * bytes yet counts as its creator's for a moment, as the core counts it.
 */
export function isLeftover(o: ShmObject, held: ReadonlySet<string>): boolean {
  if (!o.managed || held.has(o.key)) return false;
  return !(o.size === 0 && Date.now() - o.ctimeMs < UNSIZED_GRACE_MS);
}

/** glibc's `major`/`minor` of a `dev_t`, and the inode: the way the kernel prints a file. */
export function fileKey(dev: bigint, ino: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}:${ino}`;
}

export const LEFTOVER = 'leftover: released, its holders are gone (the next open of the name removes it)';

export function lifetimeOf(o: { managed: boolean; leftover?: boolean }): string {
  if (o.leftover) return LEFTOVER;
  return o.managed ? 'released with its last holder' : "persistent: stays until 'named-shm rm'";
}

export function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
