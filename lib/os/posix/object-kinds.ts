// What a POSIX shm object holds, where the OS has only one type of object: a named event and a
// region's change counter are 32-byte objects that begin with a magic string (the layout is in
// the README, for C and Python programs). Everything else is a region.
import fs from 'node:fs';
import type { ObjectKind } from '../../region/backend.js';

/** Bytes of an event or change-counter object. */
export const SYNC_OBJECT_BYTES = 32;

const MAGIC: Record<Exclude<ObjectKind, 'region'>, Buffer> = {
  event: Buffer.from('nshmevt\0', 'latin1'),
  changes: Buffer.from('nshmchg\0', 'latin1'),
};

/** The header of a new event or change-counter object: magic, version 1, and the given words. */
export function syncHeader(kind: Exclude<ObjectKind, 'region'>, flags: number, word: number): Uint8Array {
  const header = Buffer.alloc(SYNC_OBJECT_BYTES);
  MAGIC[kind].copy(header, 0);
  header.writeUInt32LE(1, 8); // version
  header.writeUInt32LE(flags, 12);
  header.writeUInt32LE(word, 16);
  return header;
}

/**
 * The kind of the object at `fd` of `size` bytes; `unready` for a 32-byte object still all zeros
 * at its start (a foreign creator between its open and its write).
 */
export function kindOf(fd: number, size: number): ObjectKind | 'unready' {
  if (size !== SYNC_OBJECT_BYTES) return 'region';
  const head = Buffer.alloc(8);
  if (fs.readSync(fd, head, 0, 8, 0) !== 8) return 'region';
  if (head.equals(MAGIC.event)) return 'event';
  if (head.equals(MAGIC.changes)) return 'changes';
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
};

/** Why an object of kind `found` cannot be opened as `wanted`. */
export function kindMismatch(found: ObjectKind, wanted: ObjectKind): string {
  return `the name belongs to ${WHAT[found]}, not ${WHAT[wanted]}`;
}
