// The real side of the mutex fuzz: three actor processes (fixtures/mutex-fuzz-actor.mjs), each
// with a worker thread on demand. Actors 0-2 are the processes' main threads, 3 and 4 the workers
// of processes 0 and 1. Answers are matched by id; a killed process is replaced by a new one.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ACTOR = fileURLToPath(new URL('../fixtures/mutex-fuzz-actor.mjs', import.meta.url));

export const PROCESSES = 3;
export const ACTORS = 5;
/** The process an actor's thread lives in, and which thread. */
export const where = (actor: number) => (actor < PROCESSES ? { proc: actor, thread: 'main' as const } : { proc: actor - PROCESSES, thread: 'worker' as const });

export type Answer = Record<string, unknown> & { ok: boolean; code?: string | null };

interface Proc {
  child: ChildProcess;
  waiting: Map<number, (a: Answer) => void>;
  extra: string[];
  /** Killed or shut down by us. */
  killed?: boolean;
}

export class MutexWorld {
  #procs: Proc[] = [];
  #next = 0;
  kills = 0;
  terminations = 0;
  readonly #problems: string[] = [];

  static async start(): Promise<MutexWorld> {
    const w = new MutexWorld();
    for (let i = 0; i < PROCESSES; i++) w.#procs.push(await w.#spawn());
    return w;
  }

  #spawn(): Promise<Proc> {
    const child = spawn(process.execPath, [ACTOR], { stdio: ['pipe', 'pipe', 'pipe'] });
    const proc: Proc = { child, waiting: new Map(), extra: [] };
    let out = '';
    return new Promise((resolve) => {
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        out += chunk;
        for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
          const line = JSON.parse(out.slice(0, nl)) as Answer & { id?: number; ready?: number };
          out = out.slice(nl + 1);
          if (line.ready) resolve(proc);
          else if (typeof line.id === 'number' && proc.waiting.has(line.id)) {
            proc.waiting.get(line.id)!(line);
            proc.waiting.delete(line.id);
          } else this.#problems.push(`unasked: ${JSON.stringify(line)}`);
        }
      });
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => proc.extra.push(d));
      child.stdin!.on('error', () => {}); // a write to a process that died: its exit says so
      child.on('exit', (code, signal) => {
        if (!proc.killed) this.#problems.push(`actor process ${child.pid} ended by itself (${code ?? signal}): ${proc.extra.join('')}`);
        for (const [, r] of proc.waiting) r({ ok: false, code: `EXITED ${code ?? signal}` });
        proc.waiting.clear();
      });
    });
  }

  send(actor: number, cmd: Record<string, unknown>): Promise<Answer> {
    const { proc, thread } = where(actor);
    const p = this.#procs[proc]!;
    const id = ++this.#next;
    return new Promise((resolve) => {
      p.waiting.set(id, resolve);
      p.child.stdin!.write(`${JSON.stringify({ ...cmd, id, thread })}\n`);
    });
  }

  /** SIGKILLs a process (its worker with it) and starts a new one in its place. */
  async kill(proc: number): Promise<void> {
    const p = this.#procs[proc]!;
    p.killed = true;
    const gone = p.child.exitCode !== null || p.child.signalCode !== null ? undefined : new Promise((r) => p.child.once('exit', r));
    p.child.kill('SIGKILL');
    await gone;
    this.kills++;
    // A spare started beforehand takes its place, so that a kill costs no node start-up.
    this.#procs[proc] = await (this.#spare ?? this.#spawn());
    this.#spare = this.#spawn();
  }

  #spare: Promise<Proc> | undefined;

  async terminate(proc: number): Promise<Answer> {
    this.terminations++;
    const id = ++this.#next;
    const p = this.#procs[proc]!;
    return new Promise((resolve) => {
      p.waiting.set(id, resolve);
      p.child.stdin!.write(`${JSON.stringify({ op: 'terminate', id })}\n`);
    });
  }

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
        const gone = new Promise((r) => p.child.once('exit', r));
        p.child.stdin!.end();
        setTimeout(() => p.child.kill('SIGKILL'), 5000).unref();
        return gone;
      }),
    );
  }
}
