// How the commands open a region. The commands that only look (read, dump, info) never create
// one, and never remove anything: on Linux they first look at the object in /dev/shm, because
// opening a leftover (a managed object whose holders are all gone) removes it.
import fs from 'node:fs';
import { SharedMemory, type Access } from '../index.js';
import { systemError } from '../errors.js';
import { parseName } from '../validate.js';
import { SHM_DIR, hasShmDir, isLeftover, objectPath, statObject, type ShmObject } from './object.js';
import { heldKeys } from './proc.js';

/**
 * `write` and `hold`: the region, created with `size` (default 4096) when missing. Without
 * `size`, an existing region of any size is used as it is (`open` would want 4096 at least).
 */
export function openOrCreate(name: string, size: number | undefined, persist: boolean): SharedMemory {
  const keep = persist ? { persist } : {};
  if (size === undefined) {
    try {
      return SharedMemory.openExisting(name, keep);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
    }
  }
  return SharedMemory.open(name, { ...keep, ...(size === undefined ? {} : { size }) });
}

export type LookedAt = ShmObject & { path: string; leftover: boolean };

/**
 * Linux: the object at the name, and whether it is a leftover, from stat and /proc/locks alone.
 * Undefined elsewhere, when there is no file at the name (the open then says why), and leftover
 * false when /proc/locks cannot be read (nothing tells a leftover then, as for the core).
 */
export function lookAt(name: string): LookedAt | undefined {
  if (!hasShmDir) return undefined;
  const path = objectPath(name); // a name the library refuses is a usage error before anything
  let object: ShmObject | undefined;
  try {
    object = statObject(path);
  } catch {
    return undefined;
  }
  if (!object) return undefined;
  const held = heldKeys();
  return { ...object, path, leftover: held !== undefined && isLeftover(object, held) };
}

/** What `read` and `dump` say of a leftover: no region, as the library would, but nothing removed. */
function leftoverError(name: string): Error {
  const path = `/${parseName(name).base}`;
  return systemError(
    'ENOENT',
    'shm_open',
    { region: name, path },
    `no such region: its holders are gone, and what they left in ${SHM_DIR} is left as it is (the next open of the name removes it)`,
  );
}

/**
 * `read` and `dump`: the region mapped read-only. (Between the look and the open its last holder
 * may die: the open then removes the leftover, as any open of the library would.)
 */
export function openToLook(name: string): SharedMemory {
  if (lookAt(name)?.leftover) throw leftoverError(name);
  return SharedMemory.openExisting(name, { access: 'readonly' });
}

/**
 * `info`: the region mapped read-only, with what this user may do with it. On Linux the access
 * comes from the object's permissions: a read-write attach of a sparse object would give its
 * pages memory, and a look must not change anything. Elsewhere a read-write open tells.
 */
export function openToInspect(name: string, path: string | undefined): { region: SharedMemory; access: Access } {
  if (path !== undefined) {
    const region = SharedMemory.openExisting(name, { access: 'readonly' });
    try {
      fs.accessSync(path, fs.constants.W_OK);
      return { region, access: 'readwrite' };
    } catch {
      return { region, access: 'readonly' };
    }
  }
  try {
    return { region: SharedMemory.openExisting(name), access: 'readwrite' };
  } catch (e) {
    if ((e as { code?: string }).code !== 'EACCES') throw e;
    return { region: SharedMemory.openExisting(name, { access: 'readonly' }), access: 'readonly' };
  }
}
