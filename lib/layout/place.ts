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
  /**
   * Where the region is reached by copies (copying-memory.ts), `view` and `buf` are over a shadow:
   * `pull` refreshes its bytes from the mapping before a read, `push` stores them after a write.
   * `view` does so itself for numbers; text and typed arrays call these. Absent in place.
   */
  readonly pull?: (at: number, count: number) => void;
  readonly push?: (at: number, count: number) => void;
}

export function checkLive(p: Place): void {
  if (p.held.native === undefined) throw closedError(p.name);
}

export function checkWritable(p: Place): void {
  if (p.held.native === undefined) throw closedError(p.name);
  if (!p.writable) throw readOnlyError(p.name);
}
