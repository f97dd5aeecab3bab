// The settle of the event fuzz: asynchronous deliveries take time, so the actors are asked for
// their waits' outcomes until these match the model (up to SETTLE_MS), and an outcome that no
// delay can explain (two waits released by one auto-reset set(), a wait released by nothing)
// fails at once.
import type { Model, Wait } from './event-fuzz-model.js';
import type { World } from './event-fuzz-world.js';

export interface Setting {
  actors: number;
  /** What ran, by command kind (for the figures). */
  counts: Record<string, number>;
  settles: { calls: number; retries: number };
  /** The current run's commands as they ran (with the handles and waits they resolved to). */
  log: string[];
}

/** How long deliveries may take to reach the model's count. */
const SETTLE_MS = 5_000;

/** Answers without messages: codes and values are the contract, the wording is not. */
export function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'message' && k !== 'type').map(([k, x]) => [k, plain(x)]));
  return v;
}
export const pick = <T>(list: T[], sel: number): T | undefined => (list.length === 0 ? undefined : list[sel % list.length]);

/** Why the actors' outcomes do not (yet) match the model; `final` when waiting cannot fix it. */
function mismatch(m: Model, got: Map<string, unknown>): { final: boolean; why: string } | undefined {
  const groups = new Map<object, number>();
  for (const w of m.waits.filter((x) => x.status !== 'done')) {
    const o = got.get(w.wid);
    const inGroup = w.kind === 'event' && w.status === 'pending' ? w.handle.obj.group : undefined;
    const says = `${w.wid} (${w.kind} wait of p${w.handle.actor} on ${w.handle.hid}) is ${JSON.stringify(o)}`;
    if (inGroup?.members.has(w as never)) {
      if (o === true) groups.set(inGroup, (groups.get(inGroup) ?? 0) + 1);
      else if (o !== 'pending') return { final: true, why: says };
    } else if (w.status === 'pending') {
      if (o !== 'pending') return { final: true, why: `${says}, but nothing released it (overshoot)` };
    } else if (w.kind === 'event') {
      if (o === 'pending') return { final: false, why: `${says}, but it was released` };
      if (o !== true) return { final: true, why: says };
    } else {
      const count = w.handle.counter!.count;
      if (o === 'pending') return { final: false, why: `${says}, but the count moved from ${w.since} to ${count}` };
      if (typeof o !== 'number' || o < w.least || o > count) return { final: true, why: `${says}, not a count in ${w.least}..${count}` };
    }
  }
  for (const w of m.waits) {
    const g = w.kind === 'event' && w.status === 'pending' ? w.handle.obj.group : undefined;
    if (g && !groups.has(g)) groups.set(g, 0);
  }
  for (const [g, n] of groups as Map<{ releases: number; members: Set<Wait> }, number>) {
    const who = [...g.members].map((w) => w.wid).join(', ');
    if (n > g.releases) return { final: true, why: `${n} of ${who} resolved true, but ${g.releases} set() released them (overshoot)` };
    if (n < g.releases) return { final: false, why: `${n} of ${who} resolved true, but ${g.releases} set() released them` };
  }
  return undefined;
}

/** Asks every actor for its waits' outcomes until they match the model, then records them. */
export async function settle(m: Model, w: World, s: Setting, context: string): Promise<void> {
  s.settles.calls++;
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const got = new Map<string, unknown>();
    for (let a = 0; a < s.actors; a++) {
      const wids = m.waitsOf(a).map((x) => x.wid);
      if (wids.length === 0) continue;
      const { outcomes } = (await w.send(a, { op: 'outcomes', wids })) as { outcomes: Record<string, unknown> };
      for (const [wid, o] of Object.entries(outcomes)) got.set(wid, plain(o));
    }
    const bad = mismatch(m, got);
    if (!bad) {
      for (const x of m.waits) {
        if (x.status === 'owed' || (x.status === 'pending' && got.get(x.wid) === true)) x.status = 'done';
        if (x.kind === 'event') x.handle.obj.group = undefined;
      }
      return;
    }
    if (bad.final || Date.now() > deadline) throw new Error(`${context}: settle: ${bad.why}${bad.final ? '' : ` after ${SETTLE_MS} ms`}`);
    s.settles.retries++;
    await new Promise((r) => setTimeout(r, 10));
  }
}

