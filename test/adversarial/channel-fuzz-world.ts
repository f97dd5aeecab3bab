// The real side of the Channel fuzz: three actor processes (fixtures/channel-fuzz-actor.mjs), the
// first with a worker thread. Actors 0-2 are the processes' main threads, 3 the worker of process
// 0. Answers are matched by id; `part` lines of a command are gathered into its answer's `parts`
// (so that a process killed in the middle of a command still tells what it did). A killed process
// is replaced by a new one.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ACTOR = fileURLToPath(new URL('../fixtures/channel-fuzz-actor.mjs', import.meta.url));

export const PROCESSES = 3;
/** An answer that takes this long is a hang (every command of the fuzz ends in milliseconds). */
const STUCK_MS = 60_000;
export const ACTORS = 4;
/** The process an actor's thread lives in, and which thread. */
export const where = (actor: number) => (actor < PROCESSES ? { proc: actor, thread: 'main' as const } : { proc: actor - PROCESSES, thread: 'worker' as const });

export type Answer = Record<string, unknown> & { ok: boolean; code?: string | null; parts: unknown[] };

interface Proc {
  child: ChildProcess;
  waiting: Map<number, { resolve: (a: Answer) => void; parts: unknown[] }>;
  extra: string[];
  /** Killed or shut down by us. */
  killed?: boolean;
  /** Resolves once the process is gone and its output read to the end. */
  closed: Promise<void>;
}

export class ChannelWorld {
  #procs: Proc[] = [];
  #next = 0;
  kills = 0;
  readonly #problems: string[] = [];

  static async start(): Promise<ChannelWorld> {
    const w = new ChannelWorld();
    for (let i = 0; i < PROCESSES; i++) w.#procs.push(await w.#spawn());
    return w;
  }

  #spawn(): Promise<Proc> {
    const child = spawn(process.execPath, [ACTOR], { stdio: ['pipe', 'pipe', 'pipe'] });
    let closed!: () => void;
    const proc: Proc = { child, waiting: new Map(), extra: [], closed: new Promise((r) => (closed = r)) };
    let out = '';
    return new Promise((resolve, reject) => {
      let ready = false;
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        out += chunk;
        for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
          const text = out.slice(0, nl);
          out = out.slice(nl + 1);
          let line: Answer & { id?: number; ready?: number; part?: unknown };
          try {
            line = JSON.parse(text);
          } catch {
            this.#problems.push(`not JSON from ${child.pid}: ${text}`);
            continue;
          }
          const waiter = typeof line.id === 'number' ? proc.waiting.get(line.id) : undefined;
          if (line.ready) {
            ready = true;
            resolve(proc);
          } else if (line.workerError) this.#problems.push(`worker of ${child.pid}: ${String(line.workerError)}`);
          else if (waiter && 'part' in line) waiter.parts.push(line.part);
          else if (waiter) {
            proc.waiting.delete(line.id!);
            waiter.resolve({ ...line, parts: waiter.parts });
          } else this.#problems.push(`unasked: ${JSON.stringify(line)}`);
        }
      });
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => proc.extra.push(d));
      child.stdin!.on('error', () => {}); // a write to a process that died: its exit says so
      // 'close', not 'exit': every line the process wrote before it died is read by then.
      child.on('close', (code, signal) => {
        if (!proc.killed) this.#problems.push(`actor process ${child.pid} ended by itself (${code ?? signal}): ${proc.extra.join('')}`);
        for (const [, w] of proc.waiting) w.resolve({ ok: false, code: `EXITED ${code ?? signal}`, parts: w.parts });
        proc.waiting.clear();
        closed();
        if (!ready) reject(new Error(`an actor process ended before it was ready (${code ?? signal}): ${proc.extra.join('')}`));
      });
    });
  }

  send(actor: number, cmd: Record<string, unknown>): Promise<Answer> {
    const { proc, thread } = where(actor);
    const p = this.#procs[proc]!;
    const id = ++this.#next;
    return new Promise((resolve) => {
      // Not a check of time: a command that never ends is a hang, named here rather than by the test's timeout.
      const stuck = setTimeout(() => {
        this.#problems.push(`a${actor} never answered ${JSON.stringify(cmd).slice(0, 200)} (pid ${p.child.pid})`);
        p.waiting.delete(id);
        resolve({ ok: false, code: 'STUCK', parts: [] });
      }, STUCK_MS);
      p.waiting.set(id, {
        resolve: (a) => {
          clearTimeout(stuck);
          resolve(a);
        },
        parts: [],
      });
      p.child.stdin!.write(`${JSON.stringify({ ...cmd, id, thread })}\n`);
    });
  }

  /** SIGKILLs a process (its worker with it) and starts a new one in its place. */
  async kill(proc: number): Promise<void> {
    const p = this.#procs[proc]!;
    p.killed = true;
    p.child.kill('SIGKILL');
    await p.closed;
    this.kills++;
    // A spare started beforehand takes its place, so that a kill costs no node start-up.
    this.#procs[proc] = await (this.#spare ?? this.#spawn());
    this.#spare = this.#spawn();
  }

  #spare: Promise<Proc> | undefined;

  /** Starts every process afresh (after a failed run). */
  async reset(): Promise<void> {
    for (let i = 0; i < PROCESSES; i++) await this.kill(i);
  }

  problems(): string[] {
    const stderr = this.#procs.flatMap((p) => p.extra.splice(0)).filter((s) => s.trim());
    return [...this.#problems.splice(0), ...stderr];
  }

  async shutdown(): Promise<void> {
    if (this.#spare) this.#procs.push(await this.#spare);
    this.#spare = undefined;
    await Promise.all(
      this.#procs.map((p) => {
        p.killed = true;
        if (p.child.exitCode !== null || p.child.signalCode !== null) return undefined;
        p.child.stdin!.end();
        setTimeout(() => p.child.kill('SIGKILL'), 5000).unref();
        return p.closed;
      }),
    );
  }
}
