// The real side of the event fuzz: actor processes (test/fixtures/event-fuzz-actor.mjs, on the
// built package) that answer JSON lines, a spare per slot so that a killed one is replaced at once.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Line = Record<string, unknown>;

const ACTOR = fileURLToPath(new URL('../fixtures/event-fuzz-actor.mjs', import.meta.url));
/** An answer slower than this means a hung actor (an open waits at most 2 s for a creator). */
const ANSWER_MS = 20_000;

class Actor {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly ready: Promise<void>;
  readonly problems: string[] = [];
  stderr = '';
  killing = false;
  #pending = new Map<number, { resolve: (l: Line) => void; reject: (e: Error) => void }>();
  #out = '';

  constructor(readonly slot: number) {
    this.child = spawn(process.execPath, [ACTOR], { stdio: ['pipe', 'pipe', 'pipe'] });
    let markReady!: () => void;
    let notReady!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => ((markReady = resolve), (notReady = reject)));
    this.ready.catch(() => {});
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      this.#out += chunk;
      for (let nl = this.#out.indexOf('\n'); nl >= 0; nl = this.#out.indexOf('\n')) {
        const text = this.#out.slice(0, nl);
        this.#out = this.#out.slice(nl + 1);
        let line: Line;
        try {
          line = JSON.parse(text) as Line;
        } catch {
          this.problems.push(`p${slot}: garbled output ${JSON.stringify(text)}`);
          continue;
        }
        const waiting = typeof line.id === 'number' ? this.#pending.get(line.id) : undefined;
        if ('ready' in line) markReady();
        else if (waiting) {
          this.#pending.delete(line.id as number);
          waiting.resolve(line);
        } else this.problems.push(`p${slot}: unasked ${text}`);
      }
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => (this.stderr += chunk));
    this.child.stdin!.on('error', () => {}); // a killed process's pipe
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': by then stderr has been read to its end.
      this.child.on('close', (code, signal) => {
        if (!this.killing) this.problems.push(`p${slot} (pid ${this.child.pid}) ended by itself: code ${code}, signal ${signal}; ${this.stderr.trim()}`);
        const why = new Error(`p${slot} ended (code ${code}, signal ${signal}) before answering; ${this.stderr.trim()}`);
        for (const p of this.#pending.values()) p.reject(why);
        this.#pending.clear();
        notReady(why);
        resolve({ code, signal });
      });
    });
  }

  request(id: number, cmd: Line): Promise<Line> {
    return new Promise<Line>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`p${this.slot} (pid ${this.child.pid}) gave no answer to ${JSON.stringify(cmd)} in ${ANSWER_MS} ms`));
      }, ANSWER_MS);
      const done = <T>(f: (v: T) => void) => (v: T) => (clearTimeout(timer), f(v));
      this.#pending.set(id, { resolve: done(resolve), reject: done(reject) });
      this.child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }
}

export class World {
  actors: Actor[] = [];
  #spares: Actor[] = [];
  readonly #past: string[] = [];
  #nextId = 1;
  kills = 0;

  static async start(count: number): Promise<World> {
    const w = new World();
    w.actors = await Promise.all(Array.from({ length: count }, (_, i) => World.#ready(new Actor(i))));
    w.#spares = Array.from({ length: count }, (_, i) => new Actor(i));
    return w;
  }

  /** Runs one command in an actor; an answer marked `harness` is a fault of the fixture. */
  async send(actor: number, cmd: Line): Promise<Line> {
    const { id: _id, ...answer } = await this.actors[actor]!.request(this.#nextId++, cmd);
    if (answer.harness) throw new Error(`p${actor}: harness error for ${JSON.stringify(cmd)}: ${JSON.stringify(answer)}`);
    return answer;
  }

  /** SIGKILL, then the slot's spare in its place (and a new spare behind it). */
  async kill(slot: number): Promise<NodeJS.Signals | null> {
    const a = this.actors[slot]!;
    a.killing = true;
    a.child.kill('SIGKILL');
    const { signal } = await a.exited;
    this.kills++;
    this.#past.push(...a.problems, ...(a.stderr.trim() ? [`p${slot} stderr: ${a.stderr.trim()}`] : []));
    this.actors[slot] = await World.#ready(this.#spares[slot]!);
    this.#spares[slot] = new Actor(slot);
    return signal;
  }

  /**
   * The actor once ready. One that could not load the package is started again, a few times:
   * another session's `tsc` rewriting dist/ makes a process that starts meanwhile see half a build.
   */
  static async #ready(first: Actor): Promise<Actor> {
    let actor = first;
    for (let attempt = 1; ; attempt++) {
      try {
        await actor.ready;
        return actor;
      } catch (e) {
        if (attempt >= 10 || !/SyntaxError|ERR_MODULE_NOT_FOUND|Cannot find module/.test(actor.stderr)) throw e;
        await new Promise((r) => setTimeout(r, 1000));
        actor = new Actor(actor.slot);
      }
    }
  }

  /** Crashes, stray lines, stderr output: what went wrong outside the answers. */
  problems(): string[] {
    return [...this.#past, ...this.actors.flatMap((a) => [...a.problems, ...(a.stderr.trim() ? [`p${a.slot} stderr: ${a.stderr.trim()}`] : [])])];
  }

  /** After a failed run: every actor replaced, the run's names removed. */
  async reset(names: string[]): Promise<void> {
    try {
      for (let slot = 0; slot < this.actors.length; slot++) await this.kill(slot);
    } finally {
      this.#past.length = 0;
      for (const name of names) fs.rmSync(`/dev/shm/${name}`, { force: true });
    }
  }

  /** Ends every process through its stdin; returns those that did not exit with 0. */
  async shutdown(): Promise<string[]> {
    const bad: string[] = [];
    await Promise.all(
      [...this.actors, ...this.#spares].map(async (a) => {
        a.killing = true;
        a.child.stdin!.end();
        const timer = setTimeout(() => a.child.kill('SIGKILL'), 10_000);
        const { code, signal } = await a.exited;
        clearTimeout(timer);
        if (code !== 0) bad.push(`p${a.slot} exited with code ${code}, signal ${signal}: ${a.stderr.trim()}`);
      }),
    );
    return bad;
  }
}

/** The run's names in /dev/shm: size and mode, by name. */
export function shmListing(names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    try {
      const st = fs.lstatSync(`/dev/shm/${name}`);
      out[name] = `${st.size} bytes, mode ${(st.mode & 0o7777).toString(8)}`;
    } catch {
      // not there
    }
  }
  return out;
}
