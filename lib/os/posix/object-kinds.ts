// What a POSIX shm object holds, where the OS has only one type of object: a named event and a
// region's change counter are 32-byte objects, and a named mutex a 64-byte one, that begin with a
// magic string (the layouts are in the README, for C and Python programs). Everything else is a
// region.
import fs from 'node:fs';
import type { ObjectKind } from '../../region/backend.js';

/** Bytes of an event or change-counter object. */
export const SYNC_OBJECT_BYTES = 32;
/** Bytes of a mutex object: the header, then glibc's pthread_mutex_t at MUTEX_OFFSET. */
export const MUTEX_OBJECT_BYTES = 64;
export const MUTEX_OFFSET = 16;

type SyncKind = Exclude<ObjectKind, 'region'>;

const MAGIC: Record<SyncKind, Buffer> = {
  event: Buffer.from('nshmevt\0', 'latin1'),
  changes: Buffer.from('nshmchg\0', 'latin1'),
  mutex: Buffer.from('nshmmtx\0', 'latin1'),
};

const SIZE: Record<SyncKind, number> = { event: SYNC_OBJECT_BYTES, changes: SYNC_OBJECT_BYTES, mutex: MUTEX_OBJECT_BYTES };

/** Sizes that an object other than a region has. */
export const SYNC_SIZES: readonly number[] = [SYNC_OBJECT_BYTES, MUTEX_OBJECT_BYTES];

/** The header of a new mutex object: magic, version 1, no flags, and the initialised mutex. */
export function mutexHeader(mutex: Uint8Array): Uint8Array {
  const header = Buffer.alloc(MUTEX_OBJECT_BYTES);
  MAGIC.mutex.copy(header, 0);
  header.writeUInt32LE(1, 8); // version
  header.set(mutex, MUTEX_OFFSET);
  return header;
}

/** The header of a new event or change-counter object: magic, version 1, and the given words. */
export function syncHeader(kind: Exclude<SyncKind, 'mutex'>, flags: number, word: number): Uint8Array {
  const header = Buffer.alloc(SYNC_OBJECT_BYTES);
  MAGIC[kind].copy(header, 0);
  header.writeUInt32LE(1, 8); // version
  header.writeUInt32LE(flags, 12);
  header.writeUInt32LE(word, 16);
  return header;
}

/**
 * The kind of the object at `fd` of `size` bytes; `unready` for an object of an event's or a
 * mutex's size still all zeros at its start (a foreign creator between its open and its write).
 */
export function kindOf(fd: number, size: number): ObjectKind | 'unready' {
  if (!SYNC_SIZES.includes(size)) return 'region';
  const head = Buffer.alloc(8);
  if (fs.readSync(fd, head, 0, 8, 0) !== 8) return 'region';
  for (const kind of Object.keys(MAGIC) as SyncKind[]) {
    if (head.equals(MAGIC[kind])) return SIZE[kind] === size ? kind : 'region';
  }
  return head.every((b) => b === 0) ? 'unready' : 'region';
}

/** The layout version this code knows (word [2]). */
export const LAYOUT_VERSION = 1;

/** The layout version of an event or change counter at `fd` (word [2]). */
export function layoutVersion(fd: number): number {
  const word = Buffer.alloc(4);
  fs.readSync(fd, word, 0, 4, 8);
  return word.readUInt32LE(0);
}

const WHAT: Record<ObjectKind, string> = {
  region: 'a shared memory region',
  event: 'a named event',
  changes: "a region's change counter",
  mutex: 'a named mutex',
};

/** Why an object of kind `found` cannot be opened as `wanted`. */
export function kindMismatch(found: ObjectKind, wanted: ObjectKind): string {
  return `the name belongs to ${WHAT[found]}, not ${WHAT[wanted]}`;
}
