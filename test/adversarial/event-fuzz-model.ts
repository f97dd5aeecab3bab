// The model of the event fuzz (event-fuzz.test.ts): what every actor must see of named events and
// of regions' change counters, with Win32's semantics for events.
//
// Objects, not names: an object is one generation of what `/dev/shm/<name>` leads to. A name
// leads to at most one object; it is *held* while an open handle of a live actor maps it. The last
// holder to close removes the name; a killed holder removes nothing: its object stays at the name
// (a leftover) until the next open of that name reclaims it (open/create then create, openExisting
// says ENOENT). A region's change counter is its own object, `<name>#changes`, opened by a region
// handle on its first changeCount/notify/waitForChange, and closed with that handle.
//
// Events: set() of an auto-reset event with waits pending releases exactly one of them *at once*
// (Win32: the signal is given to a waiter inside SetEvent, so a reset, a poll or a new wait after
// set() returned cannot take it back); with nobody waiting the event stays signalled until one
// wait or poll takes it. A manual-reset event's set() releases every pending wait and stays
// signalled until reset(). Which waiter an auto-reset set() releases is free: the model keeps such
// releases as a *group* (exactly `releases` of `members` resolve true) until a settle observes it.
// Delivery to a promise takes time: a released wait is `owed` until an actor reports it resolved.

export type HandleState = 'open' | 'closed' | 'dead';
export type WaitStatus = 'pending' | 'owed' | 'done';

export interface EventObject {
  id: number;
  name: string;
  manualReset: boolean;
  signalled: boolean;
  /** Auto-reset releases given to some of these pending waits, not yet observed: which is free. */
  group: { members: Set<EventWait>; releases: number } | undefined;
}

export interface CounterObject {
  id: number;
  name: string;
  count: number;
}

export interface RegionObject {
  id: number;
  name: string;
}

export interface EventHandle {
  kind: 'event';
  hid: string;
  actor: number;
  incarnation: number;
  obj: EventObject;
  state: HandleState;
}

export interface RegionHandle {
  kind: 'region';
  hid: string;
  actor: number;
  incarnation: number;
  obj: RegionObject;
  state: HandleState;
  /** The change counter it opened on first use. */
  counter: CounterObject | undefined;
}

export type Handle = EventHandle | RegionHandle;

export interface EventWait {
  kind: 'event';
  wid: string;
  handle: EventHandle;
  status: WaitStatus;
}

export interface ChangeWait {
  kind: 'change';
  wid: string;
  handle: RegionHandle;
  since: number;
  /** The least count it may resolve with: the count at its start if that differed, else since + 1. */
  least: number;
  status: WaitStatus;
}

export type Wait = EventWait | ChangeWait;

export class Model {
  /** What each name leads to: events at the event names, regions and counters at the region's. */
  readonly linked = new Map<string, EventObject | RegionObject | CounterObject | undefined>();
  readonly handles: Handle[] = [];
  readonly waits: Wait[] = [];
  readonly incarnation: number[];
  #next = 0;

  constructor(
    readonly eventNames: string[],
    readonly regionName: string,
    actors: number,
  ) {
    this.incarnation = Array.from({ length: actors }, () => 0);
    for (const n of this.allNames) this.linked.set(n, undefined);
  }

  get counterName(): string {
    return `${this.regionName}#changes`;
  }

  get allNames(): string[] {
    return [...this.eventNames, this.regionName, this.counterName];
  }

  newId(prefix: string): string {
    return `${prefix}${this.#next++}`;
  }

  live(h: Handle): boolean {
    return h.state === 'open';
  }

  /** Handles the actor can still use, including closed ones (use after close is a command too). */
  reachable(actor: number): Handle[] {
    return this.handles.filter((h) => h.actor === actor && h.incarnation === this.incarnation[actor] && h.state !== 'dead');
  }

  holders(obj: object): Handle[] {
    return this.handles.filter((h) => h.state === 'open' && (h.obj === obj || (h.kind === 'region' && h.counter === obj)));
  }

  held(name: string): EventObject | RegionObject | CounterObject | undefined {
    const obj = this.linked.get(name);
    return obj && this.holders(obj).length > 0 ? obj : undefined;
  }

  /** Any open that finds no holder reclaims a leftover (removes it), whatever it then does. */
  reclaim(name: string): void {
    if (!this.held(name)) this.linked.set(name, undefined);
  }

  // ---- Events -------------------------------------------------------------------------------

  expectEventOpen(
    intent: 'open' | 'create' | 'openExisting',
    name: string,
  ): { ok: false; code: string } | { ok: true; created: boolean; existing: EventObject | undefined } {
    const held = this.held(name);
    if (held && !('manualReset' in held)) return { ok: false, code: 'EINVAL' };
    if (held) return intent === 'create' ? { ok: false, code: 'EEXIST' } : { ok: true, created: false, existing: held as EventObject };
    if (intent === 'openExisting') return { ok: false, code: 'ENOENT' };
    return { ok: true, created: true, existing: undefined };
  }

  openEvent(actor: number, hid: string, name: string, existing: EventObject | undefined, manualReset: boolean, initialState: boolean): EventHandle {
    this.reclaim(name);
    let obj = existing;
    if (!obj) {
      obj = { id: this.#next++, name, manualReset, signalled: initialState, group: undefined };
      this.linked.set(name, obj);
    }
    const h: EventHandle = { kind: 'event', hid, actor, incarnation: this.incarnation[actor]!, obj, state: 'open' };
    this.handles.push(h);
    return h;
  }

  pendingOn(obj: EventObject): EventWait[] {
    return this.waits.filter((w): w is EventWait => w.kind === 'event' && w.handle.obj === obj && w.status === 'pending');
  }

  /** Pending waits outside the object's unobserved group. */
  free(obj: EventObject): EventWait[] {
    return this.pendingOn(obj).filter((w) => !obj.group?.members.has(w));
  }

  /** A set() the model cannot follow without a settle first: a new wait beside an unobserved group. */
  setNeedsSettle(obj: EventObject): boolean {
    return !obj.manualReset && obj.group !== undefined && this.free(obj).length > 0;
  }

  set(obj: EventObject): void {
    if (obj.manualReset) {
      obj.signalled = true;
      for (const w of this.pendingOn(obj)) w.status = 'owed';
      return;
    }
    const free = this.free(obj);
    if (obj.group) {
      obj.group.releases++;
      if (obj.group.releases === obj.group.members.size) {
        for (const w of obj.group.members) w.status = 'owed';
        obj.group = undefined;
      }
    } else if (free.length === 1) free[0]!.status = 'owed';
    else if (free.length > 1) obj.group = { members: new Set(free), releases: 1 };
    else obj.signalled = true;
  }

  reset(obj: EventObject): void {
    obj.signalled = false;
  }

  /** waitSync(0), wait({ timeout: 0 }): the state, taken if auto-reset. */
  poll(obj: EventObject): boolean {
    const was = obj.signalled;
    if (!obj.manualReset) obj.signalled = false;
    return was;
  }

  startEventWait(h: EventHandle, wid: string): EventWait {
    const w: EventWait = { kind: 'event', wid, handle: h, status: 'pending' };
    if (this.poll(h.obj)) w.status = 'owed';
    this.waits.push(w);
    return w;
  }

  /** Whether a wait's fate is still open in the model (released but not seen, or in a group). */
  unobserved(w: Wait): boolean {
    return w.status === 'owed' || (w.kind === 'event' && w.status === 'pending' && w.handle.obj.group?.members.has(w) === true);
  }

  // ---- Regions and change counters ----------------------------------------------------------

  expectRegionOpen(name: string): { ok: false; code: string } | { ok: true; created: boolean; existing: RegionObject | undefined } {
    const held = this.held(name);
    if (held && ('manualReset' in held || 'count' in held)) return { ok: false, code: 'EINVAL' };
    return held ? { ok: true, created: false, existing: held as RegionObject } : { ok: true, created: true, existing: undefined };
  }

  openRegion(actor: number, hid: string, name: string, existing: RegionObject | undefined): RegionHandle {
    this.reclaim(name);
    let obj = existing;
    if (!obj) {
      obj = { id: this.#next++, name };
      this.linked.set(name, obj);
    }
    const h: RegionHandle = { kind: 'region', hid, actor, incarnation: this.incarnation[actor]!, obj, state: 'open', counter: undefined };
    this.handles.push(h);
    return h;
  }

  /** The counter a region handle uses: opened (or created, count 0) on its first use. */
  counterOf(h: RegionHandle): CounterObject {
    if (h.counter) return h.counter;
    const held = this.held(this.counterName) as CounterObject | undefined;
    this.reclaim(this.counterName);
    h.counter = held ?? { id: this.#next++, name: this.counterName, count: 0 };
    this.linked.set(this.counterName, h.counter);
    return h.counter;
  }

  notify(h: RegionHandle): number {
    const c = this.counterOf(h);
    c.count = (c.count + 1) >>> 0;
    for (const w of this.waits) if (w.kind === 'change' && w.status === 'pending' && w.handle.counter === c) w.status = 'owed';
    return c.count;
  }

  startChangeWait(h: RegionHandle, wid: string, since: number): ChangeWait {
    const c = this.counterOf(h);
    const moved = c.count !== since;
    const w: ChangeWait = { kind: 'change', wid, handle: h, since, least: moved ? c.count : since + 1, status: moved ? 'owed' : 'pending' };
    this.waits.push(w);
    return w;
  }

  // ---- Letting go ---------------------------------------------------------------------------

  /** close(): its pending waits reject; the last holder of an object removes its name. */
  close(h: Handle): Wait[] {
    if (h.state !== 'open') return []; // closing again does nothing
    const rejected = this.waits.filter((w) => w.handle === h && w.status !== 'done');
    for (const w of rejected) w.status = 'done';
    h.state = 'closed';
    for (const obj of [h.obj, h.kind === 'region' ? h.counter : undefined]) {
      if (obj && this.holders(obj).length === 0 && this.linked.get(obj.name) === obj) this.linked.set(obj.name, undefined);
    }
    return rejected;
  }

  /** SIGKILL: its handles die without removing anything; its waits are gone. */
  kill(actor: number): void {
    for (const h of this.handles) if (h.actor === actor && h.incarnation === this.incarnation[actor] && h.state === 'open') h.state = 'dead';
    for (const w of this.waits) if (w.handle.actor === actor && w.handle.incarnation === this.incarnation[actor]) w.status = 'done';
    this.incarnation[actor]!++;
  }

  /** The waits an actor still has, as the model sees them. */
  waitsOf(actor: number): Wait[] {
    return this.waits.filter((w) => w.handle.actor === actor && w.handle.incarnation === this.incarnation[actor] && w.status !== 'done');
  }
}
