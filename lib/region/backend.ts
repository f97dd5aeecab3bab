// The one interface every OS backend implements. The choice of backend is made apart from it
// (os-backend.ts), so that backends can import these types without importing each other.
import type { ParsedName } from '../validate.js';

export type OpenIntent = 'create' | 'open' | 'open-or-create';

/** What an object is made for. POSIX has one type of object, and tells them apart by content. */
export type ObjectKind = 'region' | 'event' | 'changes' | 'mutex';

export interface OpenRequest {
  name: ParsedName;
  intent: OpenIntent;
  /** Bytes asked for: the size to create, and the least an existing region must hold. */
  size: number | undefined;
  readOnly: boolean;
  /** POSIX permission bits for a new object. */
  mode: number;
  /** POSIX: keep the object after its last holder closes. */
  persist: boolean;
  /** Windows: an SDDL string for the new section's security descriptor. */
  securityDescriptor: string | undefined;
  /** What the object must be; a region unless said. */
  kind?: ObjectKind;
  /** POSIX: bytes at the start of a new object, written before any other process can see it. */
  header?: Uint8Array;
  /** Make a buffer over the mapping (`view`); false where the runtime refuses one. Default true. */
  zeroCopy?: boolean;
}

/** A mapped region as a backend hands it to the core. */
export interface NativeRegion {
  created: boolean;
  /** Bytes the region really holds (may exceed what was asked when it already existed). */
  size: number;
  /** The OS name (`/dllmemfilemap` on POSIX, `dllmemfilemap` on Windows), for messages. */
  path: string;
  /** A zero-copy view over the mapping, exactly `size` bytes; none when the request said `zeroCopy: false`. */
  view: ArrayBuffer | undefined;
  /** Where the mapping starts in this process (for futexes). */
  address: bigint;
  /** POSIX: the object's permission bits (0 on Windows). */
  mode: number;
  /** POSIX: what tells this object from another one under the same name (device and inode). */
  identity?(): string;
  /**
   * Whether a holder other than this one has the region open now (a handle elsewhere, in this
   * process or another); undefined where the OS cannot say. A holder that died is not counted.
   */
  othersHold?(): boolean | undefined;
  /** Drops this process's share of the region (lock, descriptor or handle); keeps the mapping. */
  release(): void;
  /** Unmaps the view. Called once no JavaScript object can reach the view any more. */
  unmap(): void;
  /**
   * Lets go of the memory while its addresses stay valid, for a view that a buffer we cannot see
   * may still reach (moved out by `ArrayBuffer.prototype.transfer`).
   */
  retire(): void;
}

/** Copies between mapped memory (by address) and JavaScript memory, for regions without a view. */
export interface MemoryCopy {
  fromRegion(target: Uint8Array, address: bigint, count: number): void;
  intoRegion(address: bigint, source: Uint8Array, count: number): void;
}

export interface RegionBackend {
  /** Checks what only this OS limits (length of the name as the OS counts it) and opens. */
  open(request: OpenRequest): NativeRegion;
  /** Removes a name now (POSIX); live holders keep their mapping. */
  unlink(name: ParsedName): void;
  /** Made on first use: only regions without a view need it. */
  memoryCopy(): MemoryCopy;
}
