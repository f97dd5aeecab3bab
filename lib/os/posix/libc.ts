// The C library calls the POSIX backend makes through koffi, declared as the OS headers declare
// them, and the constants they take. Node's fs does what it can (open of /dev/shm names, fstat,
// fchmod, close), so a descriptor is Node's own: a worker that ends closes it, and closing it
// never warns. koffi does the rest.
import fs from 'node:fs';
import koffi, { type LibraryHandle } from 'koffi';

type KoffiFunction = ReturnType<LibraryHandle['func']>;

// <fcntl.h> (Linux, glibc): struct flock for the F_OFD_* record locks.
const STRUCTS = {
  flock: { l_type: 'short', l_whence: 'short', l_start: 'int64_t', l_len: 'int64_t', l_pid: 'int' },
} as const;

// <sys/mman.h>, <fcntl.h>, <unistd.h>
const PROTOTYPES = {
  // Variadic, as macOS declares it: on arm64 the mode must travel as a variadic argument.
  shm_open: 'int shm_open(const char *name, int oflag, ...)',
  shm_unlink: 'int shm_unlink(const char *name)',
  mmap: 'void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)',
  munmap: 'int munmap(void *addr, size_t length)',
  // Linux: the record-lock commands only; declared with the lock as its third argument.
  fcntl: 'int fcntl(int fd, int cmd, _Inout_ flock *lock)',
  // Linux only: returns the error number instead of setting errno.
  posix_fallocate: 'int posix_fallocate(int fd, int64_t offset, int64_t len)',
  linkat: 'int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)',
  close: 'int close(int fd)',
} as const;

export const PROT_NONE = 0x0; // <sys/mman.h>
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
/** Linux 0x20, macOS 0x1000. */
export const MAP_ANONYMOUS = process.platform === 'darwin' ? 0x1000 : 0x20;
/** Linux only: no swap reserved for an anonymous placeholder (0 elsewhere: not needed there). */
export const MAP_NORESERVE = process.platform === 'linux' ? 0x4000 : 0;
/** (void *)-1, which koffi returns as a BigInt. */
export const MAP_FAILED = 0xffffffffffffffffn;
export const F_OFD_GETLK = 36; // Linux <fcntl.h>, since 3.15
export const F_OFD_SETLK = 37; // Linux <fcntl.h>, since 3.15
export const F_RDLCK = 0; // <fcntl.h>
export const F_WRLCK = 1;
export const F_UNLCK = 2;
export const SEEK_SET = 0; // <stdio.h>
export const AT_FDCWD = -100; // Linux <fcntl.h>
export const AT_SYMLINK_FOLLOW = 0x400;
/** Linux <fcntl.h>: __O_TMPFILE | O_DIRECTORY. */
export const O_TMPFILE = 0o20000000 | fs.constants.O_DIRECTORY;
/** <sys/stat.h>: the sticky bit marks an object whose lifetime named-shm manages. */
export const S_ISVTX = 0o1000;

export type Libc = { [K in keyof typeof PROTOTYPES]: KoffiFunction | undefined } & {
  shm_open: KoffiFunction;
  shm_unlink: KoffiFunction;
  mmap: KoffiFunction;
  munmap: KoffiFunction;
  close: KoffiFunction;
};

/** What this OS's libc has of PROTOTYPES; Linux-only calls are undefined on macOS. */
export function bindLibc(): Libc {
  for (const [name, members] of Object.entries(STRUCTS)) koffi.struct(name, members);
  const names = Object.keys(PROTOTYPES) as (keyof typeof PROTOTYPES)[];
  if (process.platform === 'darwin') {
    const linuxOnly = new Set(['posix_fallocate', 'linkat', 'fcntl']);
    const system = koffi.load('libSystem.B.dylib');
    return Object.fromEntries(names.map((n) => [n, linuxOnly.has(n) ? undefined : system.func(PROTOTYPES[n])])) as Libc;
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
