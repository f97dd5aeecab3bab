// The model of the model-based fuzz: what every actor must see when it uses the public API.
//
// Objects, not names: an object is one generation of a region (what `/dev/shm/<name>` leads to
// between its creation and its removal). A name leads to at most one object; handles map objects.
// - A name is *held* when its object has a holder: a handle that is open, detached (its memory
//   transferred away but not closed), or dropped without close() and not yet collected. The actor
//   keeps a dropped region reachable until its gc command (fuzz-actor.mjs), so that command is
//   where it is collected: V8 may otherwise collect it at any allocation, and the package then
//   rightly releases it (fuzz-finding-collected-without-gc.test.ts).
// - The last holder to let go (close, a finalizer after gc(), a worker's exit) removes the name.
// - A holder that dies removes nothing: its process was killed (SIGKILL), or its worker thread was
//   terminated (Node closes the worker's descriptors, which drops its locks; no JavaScript runs).
//   An object nobody holds stays at its name, a *leftover*, until the next open/create/
//   openExisting reclaims it: open and create then create (created: true, zeros), openExisting
//   says ENOENT. Only SharedMemory.unlink removes a name otherwise.
// Content is a byte array per object; every read must return it.
import { DEFAULT_SIZE } from '../../lib/index.js';

export type Access = 'readwrite' | 'readonly';

/**
 * - open, detached (transfer bypass), closed: reachable by the actor.
 * - dropped: the actor let go of it without close(); still a holder until the actor's gc().
 * - released: a dropped handle collected, or a worker's handle let go at its exit.
 * - dead: its process was killed, or its worker thread terminated.
 */
export type HandleState = 'open' | 'detached' | 'closed' | 'dropped' | 'released' | 'dead';
const HOLDING: ReadonlySet<HandleState> = new Set(['open', 'detached', 'dropped']);

export interface RegionObject {
  id: number;
  name: string;
  size: number;
  content: Uint8Array;
}

export type ModelBytes = { kind: 'view' } | { kind: 'copy'; data: Uint8Array };

export interface ModelHandle {
  hid: string;
  actor: number;
  incarnation: number;
  obj: RegionObject;
  access: Access;
  created: boolean;
  state: HandleState;
  /** What `bytes` gave, kept by the actor. */
  bytes: ModelBytes | undefined;
  /** Its memory was moved out by ArrayBuffer.prototype.transfer.call (the bypass). */
  transferredAway: boolean;
}

export interface ModelTransferred {
  tid: string;
  actor: number;
  incarnation: number;
  handle: ModelHandle;
}

export type Expected<T> = { ok: true; value: T } | { ok: false; code: string | null; type: string };

export const err = (code: string | null, type = 'Error'): { ok: false; code: string | null; type: string } => ({ ok: false, code, type });

export interface ModelOptions {
  /** Node 22+: ArrayBuffer.prototype.transfer exists, close() detaches `bytes`. */
  canDetach: boolean;
  /** Which actor runs in which process. */
  actorProcs: number[];
}

export class Model {
  /** What each name leads to in /dev/shm. */
  readonly linked = new Map<string, RegionObject | undefined>();
  readonly handles: ModelHandle[] = [];
  readonly transferred: ModelTransferred[] = [];
  readonly incarnation: number[];
  #nextHid = 0;
  #nextObj = 0;
  #nextTid = 0;

  constructor(
    readonly names: string[],
    readonly options: ModelOptions,
  ) {
    this.incarnation = options.actorProcs.map(() => 0);
    for (const n of names) this.linked.set(n, undefined);
  }

  holders(obj: RegionObject): ModelHandle[] {
    return this.handles.filter((h) => h.obj === obj && HOLDING.has(h.state));
  }

  /** The object a name leads to, if someone holds it. */
  heldObject(name: string): RegionObject | undefined {
    const obj = this.linked.get(name);
    return obj && this.holders(obj).length > 0 ? obj : undefined;
  }

  /** Handles the actor can still reach (including closed ones: use after close is a command too). */
  reachable(actor: number): ModelHandle[] {
    return this.handles.filter(
      (h) => h.actor === actor && h.incarnation === this.incarnation[actor] && (h.state === 'open' || h.state === 'closed' || h.state === 'detached'),
    );
  }

  transfersOf(actor: number): ModelTransferred[] {
    return this.transferred.filter((t) => t.actor === actor && t.incarnation === this.incarnation[actor]);
  }

  newHid(): string {
    return `h${this.#nextHid++}`;
  }

  newTid(): string {
    return `t${this.#nextTid++}`;
  }

  // ---- Opening --------------------------------------------------------------------------------

  /**
   * What open/create/openExisting must give. `size` is the option (undefined: none given),
   * `readonly` the access option.
   */
  expectOpen(
    intent: 'open' | 'create' | 'openExisting',
    name: string,
    size: number | undefined,
    readonly: boolean,
  ): { ok: false; code: string; type: string } | { ok: true; created: boolean; size: number; access: Access; content: Uint8Array } {
    if (intent === 'create' && readonly) return { ok: false, code: 'ERR_INVALID_ARG_VALUE', type: 'TypeError' };
    // A read-only open only opens, and asks for at least the default size unless told otherwise.
    const least = size ?? (intent === 'openExisting' ? undefined : DEFAULT_SIZE);
    const onlyOpens = intent === 'openExisting' || readonly;
    const access: Access = readonly ? 'readonly' : 'readwrite';
    const held = this.heldObject(name);
    if (held) {
      if (intent === 'create') return { ok: false, code: 'EEXIST', type: 'Error' };
      if (least !== undefined && held.size < least) return { ok: false, code: 'EINVAL', type: 'Error' };
      return { ok: true, created: false, size: held.size, access, content: held.content };
    }
    if (onlyOpens) return { ok: false, code: 'ENOENT', type: 'Error' };
    return { ok: true, created: true, size: least!, access, content: new Uint8Array(least!) };
  }

  /** Applies an open's outcome: a leftover at the name is reclaimed by any open that found no holder. */
  applyOpen(
    actor: number,
    hid: string,
    intent: 'open' | 'create' | 'openExisting',
    name: string,
    readonly: boolean,
    outcome: ReturnType<Model['expectOpen']>,
  ): ModelHandle | undefined {
    if (intent === 'create' && readonly) return undefined; // refused before any OS call
    const held = this.heldObject(name);
    if (!held && this.linked.get(name)) this.linked.set(name, undefined); // reclaimed
    if (!outcome.ok) return undefined;
    let obj: RegionObject;
    if (outcome.created) {
      obj = { id: this.#nextObj++, name, size: outcome.size, content: new Uint8Array(outcome.size) };
      this.linked.set(name, obj);
    } else obj = held!;
    const h: ModelHandle = {
      hid,
      actor,
      incarnation: this.incarnation[actor]!,
      obj,
      access: outcome.access,
      created: outcome.created,
      state: 'open',
      bytes: undefined,
      transferredAway: false,
    };
    this.handles.push(h);
    return h;
  }

  // ---- Letting go -----------------------------------------------------------------------------

  /** close(), a finalizer, a worker's exit: the last holder removes the name if it leads to its object. */
  letGo(h: ModelHandle, state: 'closed' | 'released'): void {
    h.state = state;
    if (this.holders(h.obj).length === 0 && this.linked.get(h.obj.name) === h.obj) this.linked.set(h.obj.name, undefined);
  }

  /** A killed holder removes nothing. */
  die(h: ModelHandle): void {
    h.state = 'dead';
  }

  /** The error a member of a handle must throw in its state, or undefined when it works. */
  stateError(h: ModelHandle): { ok: false; code: string; type: string } | undefined {
    if (h.state === 'closed') return { ok: false, code: 'ERR_SHM_CLOSED', type: 'Error' };
    if (h.state === 'detached') return { ok: false, code: 'ERR_SHM_DETACHED', type: 'Error' };
    return undefined;
  }

  /** And for a member that writes. */
  writeError(h: ModelHandle): { ok: false; code: string; type: string } | undefined {
    return this.stateError(h) ?? (h.access === 'readonly' ? { ok: false, code: 'ERR_SHM_READ_ONLY', type: 'Error' } : undefined);
  }

  /** Whether the Uint8Array `bytes` gave still reaches the object's memory. */
  viewLive(h: ModelHandle): boolean {
    if (h.transferredAway) return false; // its ArrayBuffer was moved out: detached
    if (h.state === 'open') return true;
    // Node 22+ detaches it at close(); Node 20 keeps it on the memory until it is garbage.
    return h.state === 'closed' && !this.options.canDetach;
  }

  /** Whether a buffer moved out by the bypass still reaches the object (its handle still holds it). */
  transferShared(t: ModelTransferred): boolean {
    return t.handle.state === 'detached' || t.handle.state === 'dropped';
  }

  // ---- Actors ending --------------------------------------------------------------------------

  #endActor(actor: number, fate: (h: ModelHandle) => void): void {
    for (const h of this.handles) {
      if (h.actor === actor && h.incarnation === this.incarnation[actor] && HOLDING.has(h.state)) fate(h);
    }
    this.incarnation[actor]!++;
  }

  /** worker.terminate(): no JavaScript runs at its end; Node closes its descriptors, as a death. */
  terminateWorker(actor: number): void {
    this.#endActor(actor, (h) => this.die(h));
  }

  /** process.exit() in a worker: the package lets go of everything the worker held. */
  exitWorker(actor: number): void {
    this.#endActor(actor, (h) => this.letGo(h, 'released'));
  }

  /** SIGKILL of a process: the holders of all its threads die. */
  killProcess(proc: number): void {
    this.options.actorProcs.forEach((p, actor) => {
      if (p === proc) this.#endActor(actor, (h) => this.die(h));
    });
  }

  /** gc() in an actor: every region it dropped is finalized, which lets go of it. */
  collect(actor: number): void {
    for (const h of this.handles) {
      if (h.actor === actor && h.incarnation === this.incarnation[actor] && h.state === 'dropped') this.letGo(h, 'released');
    }
  }
}

// ---- The string contract --------------------------------------------------------------------

/** writeString on a model object: the units stored, or the error. */
export function modelWriteString(content: Uint8Array, text: string, strict: boolean): Expected<number> {
  const capacity = Math.floor(content.length / 2);
  const zero = text.indexOf('\0');
  let count = zero < 0 ? text.length : zero;
  if (strict) {
    if (zero >= 0) return err('ERR_INVALID_ARG_VALUE', 'TypeError');
    if (count > capacity - 1) return err('ERR_OUT_OF_RANGE', 'RangeError');
  }
  if (capacity === 0) return { ok: true, value: 0 };
  if (count > capacity - 1) count = capacity - 1;
  for (let i = 0; i < count; i++) {
    const unit = text.charCodeAt(i);
    content[2 * i] = unit & 0xff;
    content[2 * i + 1] = unit >> 8;
  }
  content[2 * count] = 0;
  content[2 * count + 1] = 0;
  return { ok: true, value: count };
}

/** readString(limit) on a model object. */
export function modelReadString(content: Uint8Array, limit: number | undefined): Expected<string> {
  if (limit !== undefined && limit !== Infinity && (!Number.isSafeInteger(limit) || limit < 1)) return err('ERR_OUT_OF_RANGE', 'RangeError');
  const capacity = Math.floor(content.length / 2);
  const max = limit === undefined ? capacity : Math.min(limit - 1, capacity);
  let text = '';
  for (let i = 0; i < max; i++) {
    const unit = content[2 * i]! | (content[2 * i + 1]! << 8);
    if (unit === 0) break;
    text += String.fromCharCode(unit);
  }
  return { ok: true, value: text };
}

/** An offset check as the package makes it: an integer from 0 to `size`. */
export function offsetOk(offset: number, size: number): boolean {
  return Number.isInteger(offset) && offset >= 0 && offset <= size;
}

export const toHex = (u8: Uint8Array): string => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('hex');
