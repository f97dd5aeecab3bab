// The platform-neutral core of a region: argument checks, the string contract, copies of
// sub-ranges, and the safety of `bytes`. Everything OS-specific sits behind `backend`.
import type { NativeRegion, OpenIntent } from './backend.js';
import { backend } from './os-backend.js';
import { closedError, detachedError, invalidArgType, notTransferable, outOfRange, readOnlyError } from '../errors.js';
import { capacityOf } from '../string-codec.js';
import { checkBoolean, checkLimit, checkOffset, checkOptionsObject, parseName } from '../validate.js';
import { buildRequest, DEFAULT_NAME } from './open-request.js';
import { holdRegion, isDetached, letGo, type Held } from './letting-go.js';
import { RegionChanges, letGoWhenDropped, type ChangeWaitOptions, type ChangeWaitSyncOptions } from './changes.js';
import type { Layout, StructOf } from '../layout/types.js';
import { structAt, type RegionAccess } from '../layout/region-access.js';
import type { RegionMemory } from './region-memory.js';
import { MappedMemory } from './mapped-memory.js';
import { copyingMemory } from './copying-memory.js';
import { zeroCopyRequired } from './zero-copy.js';
import { readConsistent, writeConsistent, type ConsistentOptions, type WriteConsistentOptions } from '../layout/sequence-lock.js';
import { readNewest, type NewestOptions } from '../layout/newest-buffer.js';

export { DEFAULT_NAME, DEFAULT_SIZE } from './open-request.js';
export type { ChangeWaitOptions, ChangeWaitSyncOptions } from './changes.js';

export type Access = 'readwrite' | 'readonly';

export interface OpenOptions {
  /**
   * Bytes to create (default 4096). When the region already exists, the least it must hold:
   * a smaller one is an error, a larger one is mapped whole.
   */
  size?: number;
  /** `'readonly'` maps the region read-only and only opens an existing one. Default `'readwrite'`. */
  access?: Access;
  /** POSIX: permission bits of a new object. Default `0o600` (owner only). Ignored on Windows. */
  mode?: number;
  /** POSIX: keep the region after its last holder closes or dies, until `SharedMemory.unlink`. */
  persist?: boolean;
  /** Windows: the new section's security descriptor, as an SDDL string. */
  securityDescriptor?: string;
  /**
   * `false` reaches the region by copies instead of a buffer over the mapping: what runtimes that
   * refuse external buffers (Electron) get by default. `bytes`, the sequence lock, change
   * notification and channels then throw `ERR_SHM_ZERO_COPY_REQUIRED`.
   */
  zeroCopy?: boolean;
}

export interface OpenExistingOptions {
  /** The least the region must hold; by default any size. */
  size?: number;
  access?: Access;
  persist?: boolean;
  /** See OpenOptions.zeroCopy. */
  zeroCopy?: boolean;
}

export interface WriteOptions {
  /** Throw a `RangeError` and write nothing, instead of cutting, when the string does not fit. */
  strict?: boolean;
}

const WRITE_OPTIONS = ['strict'];

/**
 * Whether another holder has `region` open now; undefined where the OS cannot say or once it is
 * closed. For the package's own use (a channel's receiver asks it), not exported to users.
 */
export let othersHold: (region: SharedMemory) => boolean | undefined;

/** A named shared-memory region mapped into this process. */
export class SharedMemory implements Disposable {
  static {
    othersHold = (region) => region.#held.native?.othersHold?.();
  }

  /** The name as given (`dllmemfilemap`, or with a `Global\`/`Local\` prefix). */
  readonly name: string;
  /** True only for the process that created the region; its bytes were all zero then. */
  readonly created: boolean;
  /** `'readwrite'` or `'readonly'`. */
  readonly access: Access;
  readonly #size: number;
  readonly #held: Held;
  readonly #memory: RegionMemory;
  #bytes: Uint8Array | undefined;
  readonly #mode: number;
  /** Made on the first use of change notification: most regions never need it. */
  #changes: RegionChanges | undefined;
  #changesDropped: { forget(): void } | undefined;
  #access: RegionAccess | undefined;

  private constructor(name: string, access: Access, native: NativeRegion) {
    this.name = name;
    this.access = access;
    this.created = native.created;
    this.#size = native.size;
    this.#memory = native.view ? new MappedMemory(native.view, native.size) : copyingMemory(backend.memoryCopy(), native.address, native.size);
    this.#held = holdRegion(this, native);
    this.#mode = native.mode;
  }

  static #attach(name: unknown, options: unknown, intent: OpenIntent): SharedMemory {
    const request = buildRequest(name, options, intent);
    return new SharedMemory(request.name.full, request.readOnly ? 'readonly' : 'readwrite', backend.open(request));
  }

  /** Opens the region, creating it when it does not exist, as `CreateFileMapping` does. */
  static open(name: string = DEFAULT_NAME, options?: OpenOptions): SharedMemory {
    return SharedMemory.#attach(name, options, 'open-or-create');
  }

  /** Creates the region; throws `EEXIST` when the name is taken. */
  static create(name: string = DEFAULT_NAME, options?: Omit<OpenOptions, 'access'>): SharedMemory {
    return SharedMemory.#attach(name, options, 'create');
  }

  /** Opens an existing region; throws `ENOENT` when there is none. */
  static openExisting(name: string = DEFAULT_NAME, options?: OpenExistingOptions): SharedMemory {
    return SharedMemory.#attach(name, options, 'open');
  }

  /** POSIX: removes the name now; holders keep their mapping. Windows has no such call and throws. */
  static unlink(name: string): void {
    backend.unlink(parseName(name));
  }

  /** The mapping, or the error that says why there is none any more. */
  #live(): NativeRegion {
    const native = this.#held.native;
    if (!native) throw closedError(this.name);
    if (native.view && isDetached(native.view)) throw detachedError(this.name);
    return native;
  }

  #writable(): NativeRegion {
    const native = this.#live();
    if (this.access === 'readonly') throw readOnlyError(this.name);
    return native;
  }

  /** Bytes really mapped: the region's size, which may exceed what was asked when it existed. */
  get size(): number {
    this.#live();
    return this.#size;
  }

  /** UTF-16 units the region holds: `floor(size / 2)`. */
  get capacity(): number {
    return capacityOf(this.size);
  }

  /**
   * Whether the region is reached in place (`bytes` works), or by copies: the `zeroCopy` option,
   * false by default where the runtime refuses external buffers (Electron).
   */
  get zeroCopy(): boolean {
    return this.#memory.view !== undefined;
  }

  get closed(): boolean {
    return this.#held.native === undefined;
  }

  /**
   * A zero-copy view of the region (the same object each time). `close()` detaches it on Node 22+
   * (its length becomes 0); on Node 20 the memory stays mapped until the view is garbage. Its
   * buffer refuses `transfer()`: moved out, it could outlive the mapping. A read-only region gives
   * a copy of the whole region instead, because a store into read-only memory kills the process:
   * `read()` copies only the part you need.
   */
  get bytes(): Uint8Array {
    const native = this.#live();
    if (!native.view) throw zeroCopyRequired('bytes', 'read(offset, length, target), write(offset, data), readString() or writeString(), which copy');
    if (this.access === 'readonly') return this.read();
    if (!this.#bytes) {
      const region = this.name;
      const refuse = () => {
        throw notTransferable(region);
      };
      for (const method of ['transfer', 'transferToFixedLength']) {
        Object.defineProperty(native.view, method, { value: refuse, enumerable: false });
      }
      this.#held.handedOut = true;
      this.#bytes = new Uint8Array(native.view, 0, this.#size);
    }
    return this.#bytes;
  }

  /**
   * Copies `length` bytes from `offset` (by default all of them from there to the end) into
   * `target`, or into a new Uint8Array, and returns it. Works on every access mode.
   */
  read(offset = 0, length?: number, target?: Uint8Array): Uint8Array {
    this.#live();
    const start = checkOffset(offset, this.#size);
    const count = length === undefined ? this.#size - start : checkOffset(length, this.#size - start, 'length');
    if (target === undefined) target = new Uint8Array(count);
    else if (!(target instanceof Uint8Array)) throw invalidArgType('target', 'an instance of Uint8Array', target);
    else if (target.length < count) throw outOfRange('target.length', `>= ${count} (the bytes to read)`, target.length);
    this.#memory.read(start, count, target);
    return target;
  }

  /**
   * Copies all of `data` into the region at `offset` and returns the bytes written. Data that
   * does not fit is a RangeError, and nothing is written.
   */
  write(offset: number, data: ArrayBufferView | ArrayBuffer): number {
    this.#writable();
    const start = checkOffset(offset, this.#size);
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else throw invalidArgType('data', 'an instance of ArrayBuffer, Buffer, TypedArray or DataView', data);
    if (bytes.length > this.#size - start) {
      throw outOfRange('data.byteLength', `<= ${this.#size - start} (the bytes from offset ${start} to the end)`, bytes.length);
    }
    this.#memory.write(start, bytes);
    return bytes.length;
  }

  /**
   * Stores `text` up to its first U+0000, at most `capacity - 1` units, then U+0000, and returns
   * how many units it stored: fewer than `text.length` means it was cut.
   */
  writeString(text: string, options?: WriteOptions): number {
    this.#writable();
    const o = checkOptionsObject(options, 'options', WRITE_OPTIONS);
    const strict = o.strict === undefined ? false : checkBoolean(o.strict, 'options.strict');
    return this.#memory.writeString(text, strict);
  }

  /**
   * Reads at most `limit - 1` units (the original's `cchSize`, which counts the terminator),
   * stopping at the first U+0000 and at the end of the region. By default, the whole region.
   */
  readString(limit?: number): string {
    this.#live();
    return this.#memory.readString(limit === undefined ? Infinity : checkLimit(limit));
  }

  #accessOf(): RegionAccess {
    this.#live();
    return (this.#access ??= this.#memory.access(this, this.name, this.access === 'readwrite', this.#held));
  }

  /** The sequence lock and tick reads use atomic operations on the mapping itself. */
  #atomicAccess(feature: string): RegionAccess {
    if (!this.#live().view) throw zeroCopyRequired(feature);
    return this.#accessOf();
  }

  /**
   * A view of the C struct `layout` at `offset`, whose properties read and write the mapping in
   * place. The layout must fit in the region (a RangeError otherwise).
   */
  struct<L extends Layout>(layout: L, offset = 0): StructOf<L> {
    return structAt(this.#accessOf(), layout, offset) as StructOf<L>;
  }

  /** Calls `fn` until it ran while no `writeConsistent` writer wrote (a sequence lock), and returns its result. */
  readConsistent<T>(fn: () => T, options?: ConsistentOptions): T {
    return readConsistent(this.#atomicAccess('readConsistent()'), fn, options);
  }

  /** Calls `fn` with the sequence odd, so that `readConsistent` readers never keep a half-written record. */
  writeConsistent<T>(fn: () => T, options?: WriteConsistentOptions): T {
    this.#writable();
    return writeConsistent(this.#atomicAccess('writeConsistent()'), fn, options);
  }

  /** Of buffers each with a tick at `tickOffsets`, calls `fn` with the newest's index, again if its tick moved meanwhile. */
  readNewest<T>(tickOffsets: readonly number[], fn: (index: number) => T, options?: NewestOptions): T {
    return readNewest(this.#atomicAccess('readNewest()'), tickOffsets, fn, options);
  }

  #changesOf(): RegionChanges {
    if (!this.#changes) {
      this.#changes = new RegionChanges(parseName(this.name), this.#mode);
      this.#changesDropped = letGoWhenDropped(this, this.#changes);
    }
    return this.#changes;
  }

  /**
   * The region's change counter now: an unsigned 32-bit count of `notify()` calls by every
   * process, kept beside the region (never in it). It wraps to 0 after 4294967295.
   */
  get changeCount(): number {
    this.#live();
    return this.#changesOf().count();
  }

  /**
   * Tells every process waiting in `waitForChange()` that the region changed: adds one to the
   * change counter and returns the new count. Makes no system call when nobody waits.
   */
  notify(): number {
    this.#writable();
    return this.#changesOf().notify();
  }

  /**
   * Resolves with the change count as soon as it differs from `since` (at once if it already
   * does, so a change made between a read and this call is never missed), or with the unchanged
   * count at the timeout. Never blocks the event loop nor holds a libuv threadpool thread.
   */
  waitForChange(options?: ChangeWaitOptions): Promise<number> {
    try {
      this.#live();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#changesOf().wait(options, this);
  }

  /** `waitForChange()` that blocks this thread: for workers and scripts. */
  waitForChangeSync(options?: ChangeWaitSyncOptions): number {
    this.#live();
    return this.#changesOf().waitSync(options);
  }

  /** Unmaps and lets go of the region; the last holder's close releases it. Safe to call again. */
  close(): void {
    if (!this.#held.native) return;
    this.#bytes = undefined;
    this.#access = undefined;
    this.#changesDropped?.forget();
    this.#changes?.close(() => closedError(this.name));
    letGo(this.#held, 'close');
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
