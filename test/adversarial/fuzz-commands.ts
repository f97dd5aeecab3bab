// The commands of the model-based fuzz: each draws its parameters up front, resolves them against
// the model when it runs (which handle, which offset), asks an actor, checks the answer against
// what the model says, then updates the model.
import fc from 'fast-check';
import { expect } from 'vitest';
import type { ActorSpec, Line, World } from './fuzz-world.js';
import { shmObjects } from './fuzz-world.js';
import {
  err,
  modelReadString,
  modelWriteString,
  offsetOk,
  toHex,
  type Expected,
  type Model,
  type ModelHandle,
  type ModelTransferred,
} from './fuzz-model.js';

export interface Setting {
  specs: ActorSpec[];
  processes: number;
  workers: string[];
  canDetach: boolean;
  /** What ran, by command kind (for the figures). */
  counts: Record<string, number>;
}

type Cmd = fc.AsyncCommand<Model, World, false>;

/** NAMED_SHM_FUZZ_TRACE=1 prints each command as it runs, on stderr. */
const TRACE = process.env.NAMED_SHM_FUZZ_TRACE === '1';

/** Answers without messages: the codes, types and values are the contract, the wording is not. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== 'message') out[k] = plain(v);
    return out;
  }
  return value;
}

function pick<T>(list: T[], sel: number): T | undefined {
  return list.length === 0 ? undefined : list[sel % list.length];
}

const SIZES = [1, 2, 3, 7, 64, 100, 4096, 5000] as const;

type OffsetKind = 'in' | 'end' | 'past' | 'neg' | 'frac';
interface OffsetSpec {
  kind: OffsetKind;
  raw: number;
}
const offsetArb: fc.Arbitrary<OffsetSpec> = fc.record({
  kind: fc.constantFrom<OffsetKind>('in', 'in', 'in', 'in', 'in', 'end', 'past', 'neg', 'frac'),
  raw: fc.nat(10_000),
});
function resolveOffset(o: OffsetSpec, room: number): number {
  switch (o.kind) {
    case 'in':
      return o.raw % (room + 1);
    case 'end':
      return room;
    case 'past':
      return room + 1 + (o.raw % 3);
    case 'neg':
      return -1 - (o.raw % 2);
    case 'frac':
      return (o.raw % (room + 1)) + 0.5;
  }
}

/** Units that stress the codec: ASCII, Latin-1, BMP, surrogate halves alone and in pairs, U+0000. */
const unitArb = fc.constantFrom('a', 'Z', '\u00e9', '\u00ff', '\u0100', '\u4e2d', '\ud83d', '\ude00', '\ud83d\ude00', '\uffff', '\u0000');
const textArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(unitArb, { maxLength: 12 }).map((u) => u.join('')) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', 'ab', '\u00e9\ud83d', 'q\u0000'), fc.integer({ min: 1, max: 2600 })).map(([s, n]) => s.repeat(n)) },
);

// ---- Base ---------------------------------------------------------------------------------------

abstract class Base implements Cmd {
  constructor(
    protected readonly s: Setting,
    readonly kind: string,
  ) {}
  abstract check(m: Readonly<Model>): boolean;
  protected abstract act(m: Model, w: World): Promise<void>;
  abstract toString(): string;
  async run(m: Model, w: World): Promise<void> {
    this.s.counts[this.kind] = (this.s.counts[this.kind] ?? 0) + 1;
    const started = Date.now();
    if (TRACE) process.stderr.write(`[fuzz] ${this}\n`);
    await this.act(m, w);
    if (TRACE && Date.now() - started > 1000) process.stderr.write(`[fuzz] slow: ${Date.now() - started} ms\n`);
    const problems = w.problems();
    if (problems.length > 0) throw new Error(`after ${this}: ${problems.join('\n')}`);
  }
  protected spec(actor: number): ActorSpec {
    return this.s.specs[actor]!;
  }
  protected async ask(w: World, actor: number, cmd: Line): Promise<unknown> {
    return plain(await w.send(this.spec(actor), cmd));
  }
  protected same(actual: unknown, expected: unknown, what = ''): void {
    expect(actual, `${this}${what ? `: ${what}` : ''}`).toEqual(plain(expected));
  }
}

/**
 * A command on one of the handles that some actor can reach, chosen when it runs (`sel` among
 * all of them, so that few commands find nothing to act on); the actor is the handle's.
 */
abstract class OnHandle extends Base {
  #actor = -1;
  constructor(
    s: Setting,
    kind: string,
    readonly sel: number,
  ) {
    super(s, kind);
  }
  protected fits(_h: ModelHandle, _m: Readonly<Model>): boolean {
    return true;
  }
  protected target(m: Readonly<Model>): ModelHandle | undefined {
    const all = this.s.specs.flatMap((_, a) => m.reachable(a)).filter((h) => this.fits(h, m));
    const h = pick(all, this.sel);
    if (h) this.#actor = h.actor;
    return h;
  }
  /** The actor of the handle `target` chose last. */
  protected get actor(): number {
    return this.#actor;
  }
  check(m: Readonly<Model>): boolean {
    return this.target(m) !== undefined;
  }
  protected who(): string {
    return this.#actor < 0 ? `handle #${this.sel}` : `${this.s.specs[this.#actor]!.id}: handle #${this.sel}`;
  }
}

// ---- Opening ------------------------------------------------------------------------------------

type Intent = 'open' | 'create' | 'openExisting';

class OpenCmd extends Base {
  constructor(
    s: Setting,
    readonly actor: number,
    readonly nameIx: number,
    readonly intent: Intent,
    readonly size: number | undefined,
    readonly readonly: boolean,
  ) {
    super(s, `${intent}${readonly ? '(readonly)' : ''}`);
  }
  check(): boolean {
    return true;
  }
  async act(m: Model, w: World): Promise<void> {
    const name = m.names[this.nameIx]!;
    const hid = m.newHid();
    const options: Record<string, unknown> = {};
    if (this.size !== undefined) options.size = this.size;
    if (this.readonly) options.access = 'readonly';
    const expected = m.expectOpen(this.intent, name, this.size, this.readonly);
    const answer = await this.ask(w, this.actor, {
      op: this.intent,
      hid,
      name,
      options: Object.keys(options).length > 0 ? options : undefined,
    });
    if (expected.ok) {
      this.same(answer, {
        ok: true,
        created: expected.created,
        size: expected.size,
        capacity: Math.floor(expected.size / 2),
        access: expected.access,
        closed: false,
        name,
        content: toHex(expected.content),
      });
    } else this.same(answer, expected);
    m.applyOpen(this.actor, hid, this.intent, name, this.readonly, expected);
  }
  toString(): string {
    const o = [this.size === undefined ? '' : `size ${this.size}`, this.readonly ? 'readonly' : ''].filter(Boolean).join(', ');
    return `${this.s.specs[this.actor]!.id}: ${this.intent}(n${this.nameIx}${o ? `, {${o}}` : ''})`;
  }
}

class UnlinkCmd extends Base {
  constructor(
    s: Setting,
    readonly actor: number,
    readonly nameIx: number,
  ) {
    super(s, 'unlink');
  }
  check(): boolean {
    return true;
  }
  async act(m: Model, w: World): Promise<void> {
    const name = m.names[this.nameIx]!;
    const answer = await this.ask(w, this.actor, { op: 'unlink', name });
    this.same(answer, m.linked.get(name) ? { ok: true } : err('ENOENT'));
    m.linked.set(name, undefined);
  }
  toString(): string {
    return `${this.s.specs[this.actor]!.id}: SharedMemory.unlink(n${this.nameIx})`;
  }
}

// ---- Closing and dropping -----------------------------------------------------------------------

class CloseCmd extends OnHandle {
  constructor(s: Setting, sel: number, readonly twice: boolean) {
    super(s, 'close', sel);
  }
  async act(m: Model, w: World): Promise<void> {
    const h = this.target(m)!;
    const answer = await this.ask(w, this.actor, { op: 'close', hid: h.hid, twice: this.twice });
    this.same(answer, { ok: true, first: { ok: true }, ...(this.twice ? { second: { ok: true } } : {}), closed: true });
    if (h.state !== 'closed') m.letGo(h, 'closed');
  }
  toString(): string {
    return `${this.who()}: close()${this.twice ? ' twice' : ''}`;
  }
}

class DropCmd extends OnHandle {
  constructor(s: Setting, sel: number) {
    super(s, 'drop', sel);
  }
  protected fits(h: ModelHandle): boolean {
    return h.state === 'open' || h.state === 'detached';
  }
  async act(m: Model, w: World): Promise<void> {
    const h = this.target(m)!;
    this.same(await this.ask(w, this.actor, { op: 'drop', hid: h.hid }), { ok: true });
    h.state = 'dropped';
  }
  toString(): string {
    return `${this.who()}: drop without close()`;
  }
}

class GcCmd extends Base {
  constructor(
    s: Setting,
    readonly actor: number,
  ) {
    super(s, 'gc');
  }
  check(): boolean {
    return true;
  }
  async act(m: Model, w: World): Promise<void> {
    const answer = (await this.ask(w, this.actor, { op: 'gc' })) as { ok: boolean; pending: string[] };
    this.same({ ok: answer.ok, pending: answer.pending }, { ok: true, pending: [] }, 'every dropped region collected');
    m.collect(this.actor);
  }
  toString(): string {
    return `${this.s.specs[this.actor]!.id}: gc()`;
  }
}

// ---- Strings ------------------------------------------------------------------------------------

class WriteStringCmd extends OnHandle {
  constructor(s: Setting, sel: number, readonly text: string, readonly strict: boolean | undefined) {
    super(s, 'writeString', sel);
  }
  async act(m: Model, w: World): Promise<void> {
    const h = this.target(m)!;
    const answer = await this.ask(w, this.actor, { op: 'writeString', hid: h.hid, text: this.text, strict: this.strict });
    const refused = m.writeError(h);
    const result = refused ?? modelWriteString(h.obj.content, this.text, this.strict === true);
    this.same(answer, { ...result, after: m.stateError(h) ?? { ok: true, value: toHex(h.obj.content) } });
  }
  toString(): string {
    const shown = this.text.length > 16 ? `${JSON.stringify(this.text.slice(0, 16))}... (${this.text.length} units)` : JSON.stringify(this.text);
    return `${this.who()}: writeString(${shown}${this.strict === undefined ? '' : `, { strict: ${this.strict} }`})`;
  }
}

const LIMITS = [undefined, 1, 2, 3, 8, 100, 'Infinity', 0, -1, 2.5] as const;

class ReadStringCmd extends OnHandle {
  constructor(s: Setting, sel: number, readonly limit: (typeof LIMITS)[number]) {
    super(s, 'readString', sel);
  }
  async act(m: Model, w: World): Promise<void> {
    const h = this.target(m)!;
    const answer = await this.ask(w, this.actor, { op: 'readString', hid: h.hid, limit: this.limit });
    const limit = this.limit === 'Infinity' ? Infinity : this.limit;
    this.same(answer, m.stateError(h) ?? modelReadString(h.obj.content, limit));
  }
  toString(): string {
    return `${this.who()}: readString(${this.limit ?? ''})`;
  }
}

// ---- Sub-ranges ---------------------------------------------------------------------------------

const DATA_KINDS = ['uint8array', 'buffer', 'arraybuffer', 'dataview', 'subarray'] as const;

class WriteCmd extends OnHandle {
  constructor(
    s: Setting,
    sel: number,
    readonly offset: OffsetSpec,
    readonly data: Uint8Array,
    readonly over: boolean,
    readonly dataKind: (typeof DATA_KINDS)[number],
  ) {
    super(s, 'write', sel);
  }
  async act(m: Model, w: World): Promise<void> {
    const h = this.target(m)!;
    const size = h.obj.size;
    const offset = resolveOffset(this.offset, size);
    let data = this.data;
    if (offsetOk(offset, size)) {
      const room = size - offset;
      if (!this.over) data = data.slice(0, room);
      else {
        // One byte too many, or a few: nothing may be written. (Bytes unlike a fresh region's
        // zeros, so that a partial write would show.)
        const want = room + 1 + (this.data.length % 3);
        const pattern = this.data.length > 0 ? this.data : Uint8Array.of(0);
        data = Uint8Array.from({ length: want }, (_, i) => pattern[i % pattern.length]! ^ 0xa5);
      }
    }
    const answer = await this.ask(w, this.actor, { op: 'write', hid: h.hid, offset, data: toHex(data), kind: this.dataKind });
    let expected: Expected<number>;
    const refused = m.writeError(h);
    if (refused) expected = refused;
    else if (!offsetOk(offset, size) || data.length > size - offset) expected = err('ERR_OUT_OF_RANGE', 'RangeError');
    else {
      h.obj.content.set(data, offset);
      expected = { ok: true, value: data.length };
    }
    this.same(answer, { ...expected, after: m.stateError(h) ?? { ok: true, value: toHex(h.obj.content) } });
  }
  toString(): string {
    return `${this.who()}: write(${this.offset.kind}:${this.offset.raw}, ${this.data.length} bytes${this.over ? ', too many' : ''} as ${this.dataKind})`;
  }
}

type LengthKind = 'default' | 'in' | 'over' | 'neg';
type TargetKind = 'none' | 'exact' | 'larger' | 'short';

class ReadCmd extends OnHandle {
  constructor(
    s: Setting,
    sel: number,
    readonly offset: OffsetSpec | undefined,
    readonly lengthKind: LengthKind,
    readonly lengthRaw: number,
    readonly targetKind: TargetKind,
  ) {
    super(s, 'read', sel);
  }
  async act(m: Model, w: World): Promise<void> {
    const h = this.target(m)!;
    const size = h.obj.size;
    const offset = this.offset === undefined ? 0 : resolveOffset(this.offset, size);
    const rest = offsetOk(offset, size) ? size - offset : 0;
    // A target needs an explicit length before it (JSON would turn an undefined one into null).
    // read() with no arguments reads it all: no length, no target then.
    const lengthKind = this.offset === undefined ? 'default' : this.targetKind !== 'none' && this.lengthKind === 'default' ? 'in' : this.lengthKind;
    let length: number | undefined;
    if (lengthKind === 'in') length = this.lengthRaw % (rest + 1);
    else if (lengthKind === 'over') length = rest + 1 + (this.lengthRaw % 2);
    else if (lengthKind === 'neg') length = -1;
    const count = length ?? rest;
    let target: number | undefined;
    if (this.offset === undefined) target = undefined;
    else if (this.targetKind === 'exact') target = Math.max(0, count);
    else if (this.targetKind === 'larger') target = Math.max(0, count + 3);
    else if (this.targetKind === 'short') target = Math.max(0, count - 1 - (this.lengthRaw % 2));
    const args = this.offset === undefined ? [] : length === undefined ? [offset] : [offset, length];
    const answer = await this.ask(w, this.actor, { op: 'read', hid: h.hid, args, target });

    let expected: unknown;
    const refused = m.stateError(h);
    const lengthOk = length === undefined || offsetOk(length, rest);
    if (refused) expected = refused;
    else if (!offsetOk(offset, size) || !lengthOk) expected = err('ERR_OUT_OF_RANGE', 'RangeError');
    else if (target !== undefined && target < count) expected = err('ERR_OUT_OF_RANGE', 'RangeError');
    else {
      const got = h.obj.content.slice(offset, offset + count);
      if (target === undefined) expected = { ok: true, hex: toHex(got), same: null };
      else {
        const filled = new Uint8Array(target).fill(0xee);
        filled.set(got);
        expected = { ok: true, hex: toHex(filled), same: true };
      }
    }
    this.same(answer, expected);
  }
  toString(): string {
    const o = this.offset === undefined ? 'default' : `${this.offset.kind}:${this.offset.raw}`;
    return `${this.who()}: read(${o}, length ${this.lengthKind}:${this.lengthRaw}, target ${this.targetKind})`;
  }
}

// ---- bytes --------------------------------------------------------------------------------------

class TakeBytesCmd extends OnHandle {
  constructor(s: Setting, sel: number) {
    super(s, 'takeBytes', sel);
  }
  async act(m: Model, w: World): Promise<void> {
    const h = this.target(m)!;
    const answer = await this.ask(w, this.actor, { op: 'takeBytes', hid: h.hid });
    const refused = m.stateError(h);
    if (refused) return this.same(answer, refused);
    const rw = h.access === 'readwrite';
    // A read-only region gives a new copy each time; a read-write one the same view.
    this.same(answer, { ok: true, length: h.obj.size, same: rw, content: toHex(h.obj.content) });
    h.bytes = rw ? { kind: 'view' } : { kind: 'copy', data: h.obj.content.slice() };
  }
  toString(): string {
    return `${this.who()}: take bytes`;
  }
}

/** Where a `bytes` store or load lands: the object's memory, a copy, or nowhere (detached). */
function bytesTarget(m: Readonly<Model>, h: ModelHandle): Uint8Array | undefined {
  if (h.bytes?.kind === 'copy') return h.bytes.data;
  return m.viewLive(h) ? h.obj.content : undefined;
}

class BytesWriteCmd extends OnHandle {
  constructor(s: Setting, sel: number, readonly offsetRaw: number, readonly data: Uint8Array) {
    super(s, 'bytes write', sel);
  }
  protected fits(h: ModelHandle): boolean {
    return h.bytes !== undefined;
  }
  async act(m: Model, w: World): Promise<void> {
    const h = this.target(m)!;
    const offset = this.offsetRaw % h.obj.size;
    const data = this.data.slice(0, h.obj.size - offset);
    const answer = await this.ask(w, this.actor, { op: 'bytesWrite', hid: h.hid, offset, data: toHex(data) });
    const into = bytesTarget(m, h);
    this.same(answer, { ok: true, length: into ? into.length : 0 });
    into?.set(data, offset);
  }
  toString(): string {
    return `${this.who()}: bytes[${this.offsetRaw}...] = ${this.data.length} bytes`;
  }
}

class BytesReadCmd extends OnHandle {
  constructor(s: Setting, sel: number, readonly offsetRaw: number, readonly length: number) {
    super(s, 'bytes read', sel);
  }
  protected fits(h: ModelHandle): boolean {
    return h.bytes !== undefined;
  }
  async act(m: Model, w: World): Promise<void> {
    const h = this.target(m)!;
    const offset = this.offsetRaw % h.obj.size;
    const answer = await this.ask(w, this.actor, { op: 'bytesRead', hid: h.hid, offset, length: this.length });
    const from = bytesTarget(m, h);
    const values = Array.from({ length: this.length }, (_, i) => from?.[offset + i] ?? null);
    this.same(answer, { ok: true, length: from ? from.length : 0, values });
  }
  toString(): string {
    return `${this.who()}: read bytes[${this.offsetRaw}...+${this.length}]`;
  }
}

class TransferRefusedCmd extends OnHandle {
  constructor(s: Setting, sel: number) {
    super(s, 'transfer refused', sel);
  }
  protected fits(h: ModelHandle): boolean {
    return h.state === 'open' && h.access === 'readwrite';
  }
  async act(m: Model, w: World): Promise<void> {
    const h = this.target(m)!;
    const answer = await this.ask(w, this.actor, { op: 'transferRefused', hid: h.hid });
    const refused = err('ERR_SHM_NOT_TRANSFERABLE', 'TypeError');
    this.same(answer, { ok: true, transfer: refused, fixed: refused, length: h.obj.size });
    h.bytes = { kind: 'view' };
  }
  toString(): string {
    return `${this.who()}: bytes.buffer.transfer()`;
  }
}

class BypassCmd extends OnHandle {
  constructor(s: Setting, sel: number) {
    super(s, 'transfer bypass', sel);
  }
  protected fits(h: ModelHandle): boolean {
    return h.state === 'open' && h.access === 'readwrite';
  }
  async act(m: Model, w: World): Promise<void> {
    const h = this.target(m)!;
    const tid = m.newTid();
    const answer = await this.ask(w, this.actor, { op: 'bypass', hid: h.hid, tid });
    this.same(answer, { ok: true, byteLength: h.obj.size, viewLength: 0 });
    h.state = 'detached';
    h.transferredAway = true;
    h.bytes = { kind: 'view' };
    m.transferred.push({ tid, actor: this.actor, incarnation: m.incarnation[this.actor]!, handle: h });
    // At once, every member says so (close() is a command of its own: it must not throw).
    const detached = err('ERR_SHM_DETACHED');
    this.same(await this.ask(w, this.actor, { op: 'probe', hid: h.hid, writeString: true }), {
      ok: true,
      closed: false,
      access: 'readwrite',
      created: h.created,
      size: detached,
      capacity: detached,
      bytes: detached,
      read: detached,
      readString: detached,
      write: detached,
      writeString: detached,
    }, 'every member after the bypass');
  }
  toString(): string {
    return `${this.who()}: ArrayBuffer.prototype.transfer.call(bytes.buffer)`;
  }
}

class PokeCmd extends Base {
  constructor(
    s: Setting,
    readonly sel: number,
    readonly offsetRaw: number,
    readonly data: Uint8Array,
  ) {
    super(s, 'touch transferred');
  }
  get actor(): number {
    return this.#chosen?.actor ?? -1;
  }
  #chosen: ModelTransferred | undefined;
  #target(m: Readonly<Model>): ModelTransferred | undefined {
    this.#chosen = pick(
      this.s.specs.flatMap((_, a) => m.transfersOf(a)),
      this.sel,
    );
    return this.#chosen;
  }
  check(m: Readonly<Model>): boolean {
    return this.#target(m) !== undefined;
  }
  async act(m: Model, w: World): Promise<void> {
    const t = this.#target(m)!;
    const size = t.handle.obj.size;
    const offset = this.offsetRaw % size;
    const data = this.data.slice(0, size - offset);
    const answer = (await this.ask(w, this.actor, { op: 'poke', tid: t.tid, offset, data: toHex(data) })) as Record<string, unknown>;
    if (m.transferShared(t)) {
      // Its handle still holds the region: the moved buffer is still the shared memory.
      this.same(answer, { ok: true, byteLength: size, before: toHex(t.handle.obj.content.subarray(offset, offset + data.length)), after: toHex(data) });
      t.handle.obj.content.set(data, offset);
    } else {
      // Let go: private memory in its place, which keeps what is stored into it.
      this.same({ ...answer, before: undefined }, { ok: true, byteLength: size, after: toHex(data) });
    }
  }
  toString(): string {
    return `${this.s.specs[this.actor]?.id ?? '?'}: transferred buffer #${this.sel}[${this.offsetRaw}...] = ${this.data.length} bytes`;
  }
}

// ---- Probes -------------------------------------------------------------------------------------

class ProbeCmd extends OnHandle {
  constructor(s: Setting, sel: number) {
    super(s, 'probe', sel);
  }
  async act(m: Model, w: World): Promise<void> {
    const h = this.target(m)!;
    const refused = m.stateError(h);
    const writeRefused = m.writeError(h);
    const answer = await this.ask(w, this.actor, { op: 'probe', hid: h.hid, writeString: writeRefused !== undefined });
    const size = h.obj.size;
    const expected: Record<string, unknown> = {
      ok: true,
      closed: h.state === 'closed',
      access: h.access,
      created: h.created,
      size: refused ?? { ok: true, value: size },
      capacity: refused ?? { ok: true, value: Math.floor(size / 2) },
      bytes: refused ?? { ok: true, value: size },
      read: refused ?? { ok: true, value: toHex(h.obj.content) },
      readString: refused ?? { ok: true, value: '' },
      write: writeRefused ?? { ok: true, value: 0 },
    };
    if (writeRefused) expected.writeString = writeRefused;
    this.same(answer, expected);
  }
  toString(): string {
    return `${this.who()}: probe every member`;
  }
}

class ShmCheckCmd extends Base {
  constructor(s: Setting) {
    super(s, '/dev/shm check');
  }
  check(): boolean {
    return true;
  }
  async act(m: Model): Promise<void> {
    this.same(shmListing(m.names), modelListing(m));
  }
  toString(): string {
    return `check /dev/shm`;
  }
}

/** The run's names in /dev/shm: size, and the managed mark (sticky bit, mode 01600). */
export function shmListing(names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, st] of shmObjects(names)) out[names.indexOf(name)] = `${st.size} bytes, mode ${(st.mode & 0o7777).toString(8)}`;
  return out;
}

export function modelListing(m: Readonly<Model>): Record<string, string> {
  const out: Record<string, string> = {};
  m.names.forEach((name, i) => {
    const obj = m.linked.get(name);
    if (obj) out[i] = `${obj.size} bytes, mode 1600`;
  });
  return out;
}

// ---- Actors ending ------------------------------------------------------------------------------

class TerminateWorkerCmd extends Base {
  constructor(
    s: Setting,
    readonly wix: number,
  ) {
    super(s, 'terminate worker');
  }
  check(): boolean {
    return this.s.workers.length > 0;
  }
  async act(m: Model, w: World): Promise<void> {
    const wid = this.s.workers[this.wix % this.s.workers.length]!;
    const answer = await w.terminateWorker(wid);
    expect(answer, `${this}`).toMatchObject({ ok: true });
    m.terminateWorker(this.s.specs.findIndex((sp) => sp.wid === wid));
  }
  toString(): string {
    return `worker.terminate() of w${this.wix % Math.max(1, this.s.workers.length)}, then a new one`;
  }
}

class ExitWorkerCmd extends Base {
  constructor(
    s: Setting,
    readonly wix: number,
  ) {
    super(s, 'worker exits');
  }
  check(): boolean {
    return this.s.workers.length > 0;
  }
  async act(m: Model, w: World): Promise<void> {
    const wid = this.s.workers[this.wix % this.s.workers.length]!;
    this.same(await w.exitWorker(wid), { ok: true, code: 0 });
    m.exitWorker(this.s.specs.findIndex((sp) => sp.wid === wid));
  }
  toString(): string {
    return `process.exit() in w${this.wix % Math.max(1, this.s.workers.length)}, then a new one`;
  }
}

class KillCmd extends Base {
  constructor(
    s: Setting,
    readonly proc: number,
  ) {
    super(s, 'SIGKILL');
  }
  check(): boolean {
    return true;
  }
  async act(m: Model, w: World): Promise<void> {
    const p = this.proc % this.s.processes;
    this.same(await w.killProcess(p), { signal: 'SIGKILL' });
    m.killProcess(p);
  }
  toString(): string {
    return `SIGKILL p${this.proc % this.s.processes}, then a new one`;
  }
}

// ---- The mix ------------------------------------------------------------------------------------

export function commandArbitraries(s: Setting): fc.Arbitrary<Cmd>[] {
  const actor = fc.nat(s.specs.length - 1);
  const sel = fc.nat(31);
  const nameIx = fc.nat(2);
  const size = fc.option(fc.constantFrom(...SIZES), { freq: 3 });
  const bytes = fc.uint8Array({ maxLength: 24 });
  const intent = fc.constantFrom<Intent>('open', 'open', 'create', 'openExisting');
  const weighted = <T>(n: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T>[] => Array.from({ length: n }, () => arb);
  const arbs: fc.Arbitrary<Cmd>[] = [
    ...weighted(
      6,
      fc
        .tuple(actor, nameIx, intent, size, fc.nat(9))
        .map(([a, n, i, z, r]) => new OpenCmd(s, a, n, i, z ?? undefined, i === 'create' ? r === 0 : r < 3)),
    ),
    ...weighted(3, fc.tuple(sel, fc.boolean()).map(([h, t]) => new CloseCmd(s, h, t))),
    ...weighted(
      2,
      fc.tuple(sel, textArb, fc.constantFrom(undefined, undefined, false, true)).map(([h, t, st]) => new WriteStringCmd(s, h, t, st)),
    ),
    ...weighted(2, fc.tuple(sel, fc.constantFrom(...LIMITS)).map(([h, l]) => new ReadStringCmd(s, h, l))),
    ...weighted(
      3,
      fc
        .tuple(sel, offsetArb, bytes, fc.nat(3), fc.constantFrom(...DATA_KINDS))
        .map(([h, o, d, over, k]) => new WriteCmd(s, h, o, d, over === 0, k)),
    ),
    ...weighted(
      3,
      fc
        .tuple(
          sel,
          fc.option(offsetArb, { freq: 4 }),
          fc.constantFrom<LengthKind>('default', 'in', 'in', 'in', 'over', 'neg'),
          fc.nat(10_000),
          fc.constantFrom<TargetKind>('none', 'none', 'none', 'exact', 'larger', 'short'),
        )
        .map(([h, o, lk, lr, tk]) => new ReadCmd(s, h, o ?? undefined, lk, lr, tk)),
    ),
    ...weighted(2, sel.map((h) => new TakeBytesCmd(s, h))),
    ...weighted(2, fc.tuple(sel, fc.nat(10_000), fc.uint8Array({ maxLength: 16 })).map(([h, o, d]) => new BytesWriteCmd(s, h, o, d))),
    ...weighted(2, fc.tuple(sel, fc.nat(10_000), fc.integer({ min: 1, max: 16 })).map(([h, o, n]) => new BytesReadCmd(s, h, o, n))),
    sel.map((h) => new TransferRefusedCmd(s, h)),
    ...weighted(2, sel.map((h) => new ProbeCmd(s, h))),
    ...weighted(2, sel.map((h) => new DropCmd(s, h))),
    ...weighted(2, actor.map((a) => new GcCmd(s, a))),
    fc.tuple(actor, nameIx).map(([a, n]) => new UnlinkCmd(s, a, n)),
    fc.constant(null).map(() => new ShmCheckCmd(s)),
    fc.nat(s.processes - 1).map((p) => new KillCmd(s, p)),
  ];
  if (s.workers.length > 0) {
    arbs.push(fc.nat(s.workers.length - 1).map((x) => new TerminateWorkerCmd(s, x)));
    arbs.push(fc.nat(s.workers.length - 1).map((x) => new ExitWorkerCmd(s, x)));
  }
  if (s.canDetach) {
    // Node 22+ only: Node 20 has no ArrayBuffer.prototype.transfer.
    arbs.push(sel.map((h) => new BypassCmd(s, h)));
    arbs.push(...weighted(2, fc.tuple(fc.nat(7), fc.nat(10_000), bytes).map(([t, o, d]) => new PokeCmd(s, t, o, d))));
  }
  return arbs;
}
