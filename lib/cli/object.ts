// Linux: a region's object in /dev/shm, as `stat` sees it. Other systems have no such folder
// (macOS keeps POSIX shared memory out of the file system, Windows in the object manager).
import fs from 'node:fs';
import { parseName } from '../validate.js';

export const SHM_DIR = '/dev/shm';
/** named-shm marks the objects whose lifetime it manages with the sticky bit (see the README). */
const S_ISVTX = 0o1000;

export interface ShmObject {
  path: string;
  size: number;
  /** Permission bits and the sticky bit: `0o1600` for a region named-shm created. */
  mode: number;
  uid: number;
  /** Made by named-shm and not kept with persist: removed with its last holder. */
  managed: boolean;
  /** `major:minor:inode`, as /proc/PID/maps and /proc/locks name a file. */
  key: string;
}

export const hasShmDir = process.platform === 'linux';

/** `/dev/shm/<name>` for a region name (a `Global\`/`Local\` prefix is dropped, as on open). */
export function objectPath(name: string): string {
  return `${SHM_DIR}/${parseName(name).base}`;
}

export function statObject(path: string): ShmObject {
  const st = fs.lstatSync(path, { bigint: true });
  const mode = Number(st.mode & 0o7777n);
  return {
    path,
    size: Number(st.size),
    mode,
    uid: Number(st.uid),
    managed: (mode & S_ISVTX) !== 0,
    key: fileKey(st.dev, st.ino),
  };
}

/** glibc's `major`/`minor` of a `dev_t`, and the inode: the way the kernel prints a file. */
export function fileKey(dev: bigint, ino: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}:${ino}`;
}

export function lifetimeOf(o: { managed: boolean }): string {
  return o.managed ? 'released with its last holder' : "persistent: stays until 'named-shm rm'";
}

export function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
