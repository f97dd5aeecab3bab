// Where a struct view reads and writes: the mapping of one region, and how to tell that it is
// still there. Every access looks first, so a view outliving close() throws instead of touching
// unmapped memory (on Node 20 nothing detaches a view over foreign memory).
import { closedError, readOnlyError } from '../errors.js';

export interface Place {
  readonly view: DataView;
  readonly buf: Buffer;
  readonly name: string;
  readonly writable: boolean;
  /** Undefined once the region is closed. */
  readonly held: { native: unknown };
  /** The region itself, kept reachable so that its finalizer cannot unmap under a live view. */
  readonly owner: object;
}

export function checkLive(p: Place): void {
  if (p.held.native === undefined) throw closedError(p.name);
}

export function checkWritable(p: Place): void {
  if (p.held.native === undefined) throw closedError(p.name);
  if (!p.writable) throw readOnlyError(p.name);
}
