// How the commands open a region.
import { SharedMemory } from '../index.js';

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

/** `info`: read-write when this user may, read-only otherwise; never creates. */
export function openWithBestAccess(name: string): SharedMemory {
  try {
    return SharedMemory.openExisting(name);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EACCES') throw e;
    return SharedMemory.openExisting(name, { access: 'readonly' });
  }
}
