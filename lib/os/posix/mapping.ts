// Mapping an object into this process, and letting it go in the two ways the core needs.
import fs from 'node:fs';
import koffi from 'koffi';
import { codeForErrno, systemError, type SharedMemoryErrorFields } from '../../errors.js';
import type { OrphanMappings } from './orphan-mappings.js';
import {
  MAP_ANONYMOUS,
  MAP_FAILED,
  MAP_FIXED,
  MAP_NORESERVE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  type Libc,
} from './libc.js';

export interface Mapping {
  /** None when the caller copies instead (a runtime that refuses external buffers). */
  view: ArrayBuffer | undefined;
  address: bigint;
  /** munmap: only when no JavaScript buffer can reach the memory any more. */
  unmap(): void;
  /**
   * Lets go of the object but keeps the addresses valid: anonymous zero pages replace the mapping
   * in one mmap(MAP_FIXED). For memory a buffer we do not track may still reach (a view moved out
   * by ArrayBuffer.prototype.transfer): that buffer then sees private memory instead of faulting.
   */
  retire(): void;
}

/** Maps `fd` whole; closes it afterwards when it is not `keep` (see mappable() in region.ts). */
export function mapObject(
  c: Libc,
  orphans: OrphanMappings,
  fd: number,
  keep: number,
  size: number,
  readOnly: boolean,
  fields: SharedMemoryErrorFields,
  zeroCopy = true,
): Mapping {
  const prot = readOnly ? PROT_READ : PROT_READ | PROT_WRITE;
  const address = c.mmap(null, size, prot, MAP_SHARED, fd, 0);
  const errno = koffi.errno();
  if (fd !== keep) fs.closeSync(fd);
  if (address === MAP_FAILED || address === null) throw systemError(codeForErrno(errno), 'mmap', fields);
  let view: ArrayBuffer | undefined;
  try {
    if (zeroCopy) view = koffi.view(address, size);
  } catch (e) {
    c.munmap(address, size);
    throw e;
  }
  let gone = false;
  // Recorded for the other threads, which unmap it if this thread is a worker that gets terminated.
  const forget = orphans.record(address, size);
  return {
    view,
    address: BigInt(koffi.address(address)),
    unmap() {
      if (gone) return;
      gone = true;
      if (forget()) c.munmap(address, size);
    },
    retire() {
      if (gone) return;
      gone = true;
      if (!forget()) return;
      // If even this fails, the mapping stays: a leak is better than a buffer that faults.
      c.mmap(address, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    },
  };
}
