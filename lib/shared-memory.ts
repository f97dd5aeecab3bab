// The platform-neutral core: argument checks, the string contract and the safety of `bytes`.
// Everything OS-specific sits behind `backend`.
import { backend, type NativeRegion, type OpenIntent, type OpenRequest } from './backend.js';
import { closedError, invalidArgType, invalidArgValue, readOnlyError } from './errors.js';
import { capacityOf, readUnits, writeUnits } from './string-codec.js';
import { checkBoolean, checkLimit, checkMode, checkOptionsObject, checkSize, parseName } from './validate.js';

/** The sample's region: its name and size. */
export const DEFAULT_NAME = 'dllmemfilemap';
export const DEFAULT_SIZE = 4096;

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
}

export interface OpenExistingOptions {
  /** The least the region must hold; by default any size. */
  size?: number;
  access?: Access;
  persist?: boolean;
}

export interface WriteOptions {
  /** Throw a `RangeError` and write nothing, instead of cutting, when the string does not fit. */
  strict?: boolean;
}

// Node 22+ can detach a view over foreign memory; Node 20 cannot (see `close`).
const canDetach = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

/** Unmaps a view once no JavaScript object can reach it any more. */
const unmapWhenUnreachable = new FinalizationRegistry<() => void>((unmap) => unmap());

interface Held {
  native: NativeRegion | undefined;
  handedOut: boolean;
}

/** Releases what a SharedMemory dropped without `close()` held; never unmaps under a live view. */
const releaseWhenDropped = new FinalizationRegistry<Held>((held) => {
  const native = held.native;
  if (!native) return;
  try {
    native.release();
  } catch {
    // Nobody is left to tell: an exception here would be uncaught and end the process.
  }
  if (held.handedOut) unmapWhenUnreachable.register(native.view, native.unmap);
  else native.unmap();
});

function buildRequest(name: unknown, options: unknown, intent: OpenIntent): OpenRequest {
  const parsed = parseName(name);
  const o = checkOptionsObject(options);
  let readOnly = false;
  if (o.access !== undefined) {
    if (o.access !== 'readwrite' && o.access !== 'readonly') {
      if (typeof o.access !== 'string') throw invalidArgType('options.access', 'of type string', o.access);
      throw invalidArgValue('options.access', o.access, "must be 'readwrite' or 'readonly'");
    }
    readOnly = o.access === 'readonly';
  }
  if (readOnly && intent === 'create') {
    throw invalidArgValue('options.access', o.access, 'cannot be readonly when creating a region');
  }
  const size = o.size === undefined ? (intent === 'open' ? undefined : DEFAULT_SIZE) : checkSize(o.size);
  const securityDescriptor = o.securityDescriptor;
  if (securityDescriptor !== undefined && typeof securityDescriptor !== 'string') {
    throw invalidArgType('options.securityDescriptor', 'of type string', securityDescriptor);
  }
  return {
    name: parsed,
    // A read-only mapping of a region nobody wrote would only ever hold zeros: open only.
    intent: readOnly ? 'open' : intent,
    size,
    readOnly,
    mode: o.mode === undefined ? 0o600 : checkMode(o.mode),
    persist: o.persist === undefined ? false : checkBoolean(o.persist, 'options.persist'),
    securityDescriptor,
  };
}

/** A named shared-memory region mapped into this process. */
export class SharedMemory implements Disposable {
  /** The name as given (`dllmemfilemap`, or with a `Global\`/`Local\` prefix). */
  readonly name: string;
  /** True only for the process that created the region; its bytes were all zero then. */
  readonly created: boolean;
  /** `'readwrite'` or `'readonly'`. */
  readonly access: Access;
  readonly #size: number;
  readonly #held: Held;
  #buf: Buffer | undefined;
  #units: Uint16Array | undefined;
  #bytes: Uint8Array | undefined;

  private constructor(name: string, access: Access, native: NativeRegion) {
    this.name = name;
    this.access = access;
    this.created = native.created;
    this.#size = native.size;
    this.#held = { native, handedOut: false };
    this.#buf = Buffer.from(native.view, 0, native.size);
    this.#units = new Uint16Array(native.view, 0, capacityOf(native.size));
    releaseWhenDropped.register(this, this.#held, this.#held);
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

  #live(): NativeRegion {
    const native = this.#held.native;
    if (!native) throw closedError(this.name);
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

  get closed(): boolean {
    return this.#held.native === undefined;
  }

  /**
   * A zero-copy view of the region (the same object each time). `close()` detaches it on Node 22+
   * (its length becomes 0); on Node 20 the memory stays mapped until the view is garbage. A
   * read-only region gives a copy instead, because a store into read-only memory kills the process.
   */
  get bytes(): Uint8Array {
    const native = this.#live();
    if (this.access === 'readonly') return new Uint8Array(this.#buf!);
    this.#held.handedOut = true;
    return (this.#bytes ??= new Uint8Array(native.view, 0, this.#size));
  }

  /**
   * Stores `text` up to its first U+0000, at most `capacity - 1` units, then U+0000, and returns
   * how many units it stored: fewer than `text.length` means it was cut.
   */
  writeString(text: string, options?: WriteOptions): number {
    this.#live();
    if (this.access === 'readonly') throw readOnlyError(this.name);
    const o = checkOptionsObject(options);
    const strict = o.strict === undefined ? false : checkBoolean(o.strict, 'options.strict');
    return writeUnits(this.#buf!, text, strict, this.#units);
  }

  /**
   * Reads at most `limit - 1` units (the original's `cchSize`, which counts the terminator),
   * stopping at the first U+0000 and at the end of the region. By default, the whole region.
   */
  readString(limit?: number): string {
    this.#live();
    return readUnits(this.#buf!, this.#units!, limit === undefined ? Infinity : checkLimit(limit));
  }

  /** Unmaps and lets go of the region; the last holder's close releases it. Safe to call again. */
  close(): void {
    const native = this.#held.native;
    if (!native) return;
    this.#held.native = undefined;
    releaseWhenDropped.unregister(this.#held);
    this.#buf = this.#units = this.#bytes = undefined;
    try {
      native.release();
    } finally {
      if (!this.#held.handedOut) native.unmap();
      else if (canDetach) {
        // Every Uint8Array over the view now has length 0, so none can touch unmapped memory.
        (native.view as ArrayBuffer & { transfer(n: number): ArrayBuffer }).transfer(0);
        native.unmap();
      } else unmapWhenUnreachable.register(native.view, native.unmap);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
