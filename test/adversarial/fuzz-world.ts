// The real side of the model-based fuzz: fixture processes (test/fixtures/fuzz-actor.mjs) and
// worker threads inside the first of them, each an actor that runs commands on the built package
// and answers in JSON. Every process runs on process.execPath (scripts/node-versions.sh puts
// another node first on PATH), with --expose-gc.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type Line = Record<string, unknown>;

const ACTOR = fileURLToPath(new URL('../fixtures/fuzz-actor.mjs', import.meta.url));
/** Where a hung actor's diagnostic report goes. */
const REPORTS = path.join(os.tmpdir(), 'nshm-fuzz-reports');
fs.mkdirSync(REPORTS, { recursive: true });
/** An answer slower than this means a hung actor (an open waits at most 2 s for a creator). */
const ANSWER_MS = 30_000;

/** An actor: a process's main thread, or one of its worker threads. */
export interface ActorSpec {
  /** `p0`, `p1`, `w0`... */
  id: string;
  /** Index of the process it runs in. */
  proc: number;
  /** The worker thread's id inside that process; none for a main thread. */
  wid?: string;
}

/** 3 processes; 2 worker threads inside p0. */
export function actorSpecs(processes: number, workers: number): ActorSpec[] {
  const specs: ActorSpec[] = [];
  for (let p = 0; p < processes; p++) specs.push({ id: `p${p}`, proc: p });
  for (let w = 0; w < workers; w++) specs.push({ id: `w${w}`, proc: 0, wid: `w${w}` });
  return specs;
}

class ActorProcess {
  readonly child: ChildProcess;
  exited!: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Lines without an id (worker crashes), garbled output, stderr, a death nobody asked for. */
  readonly problems: string[] = [];
  stderr = '';
  killing = false;
  ending = false;
  #pending = new Map<number, { resolve: (l: Line) => void; reject: (e: Error) => void }>();
  #ready: Promise<void>;
  #out = '';
  #dead = false;

  constructor(
    readonly index: number,
    env: Record<string, string>,
  ) {
    // SIGUSR2 makes it write a diagnostic report (stacks) into REPORTS: see #diagnose().
    this.child = spawn(process.execPath, ['--expose-gc', '--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${REPORTS}`, ACTOR], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let markReady!: () => void;
    this.#ready = new Promise((resolve) => (markReady = resolve));
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
          this.problems.push(`p${index}: garbled output ${JSON.stringify(text)}`);
          continue;
        }
        if ('ready' in line) markReady();
        else if (typeof line.id === 'number' && this.#pending.has(line.id)) {
          const p = this.#pending.get(line.id)!;
          this.#pending.delete(line.id);
          p.resolve(line);
        } else this.problems.push(`p${index}: ${JSON.stringify(line)}`);
      }
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.#watchExit();
  }

  /** Where the current run's output starts (see World.beginRun). */
  stderrFrom = 0;
  problemsFrom = 0;

  /** What it printed on stderr besides the diagnostic reports we asked for: warnings, errors. */
  get stderrProblems(): string[] {
    const lines = this.stderr
      .slice(this.stderrFrom)
      .split('\n')
      .filter((l) => l.trim() && !/Node\.js report/.test(l));
    return lines.length > 0 ? [`p${this.index} (pid ${this.child.pid}) stderr: ${lines.join('\n')}`] : [];
  }

  #watchExit(): void {
    this.child.stdin!.on('error', () => {}); // a killed process's pipe
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.#dead = true;
        const index = this.index;
        if (!this.killing && !(this.ending && code === 0)) {
          this.problems.push(`p${index} (pid ${this.child.pid}) ended by itself: code ${code}, signal ${signal}; stderr: ${this.stderr.trim()}`);
        }
        for (const p of this.#pending.values()) p.reject(new Error(`p${index} ended (code ${code}, signal ${signal}) before answering; stderr: ${this.stderr.trim()}`));
        this.#pending.clear();
        resolve({ code, signal });
      });
    });
  }

  /** A hung actor: its diagnostic report (Node's --report-on-signal), where its threads are stuck. */
  async #diagnose(): Promise<string> {
    const pid = this.child.pid;
    // Each thread's state and the kernel call it waits in (a report needs JavaScript to run).
    let threads = '';
    try {
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
        const read = (f: string) => {
          try {
            return fs.readFileSync(`/proc/${pid}/task/${tid}/${f}`, 'utf8').trim();
          } catch {
            return '?';
          }
        };
        const state = read('stat').replace(/^.*\) /, '').split(' ')[0];
        threads += `\n    ${tid} ${read('comm')} state ${state} wchan ${read('wchan')} syscall ${read('syscall').split(' ')[0]}`;
      }
    } catch {
      threads = ' (no /proc)';
    }
    const where = `threads:${threads}`;
    const before = new Set(fs.readdirSync(REPORTS));
    this.child.kill('SIGUSR2');
    for (let i = 0; i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const file = fs.readdirSync(REPORTS).find((f) => !before.has(f) && f.includes(`.${pid}.`));
      if (!file) continue;
      await new Promise((resolve) => setTimeout(resolve, 300)); // let it finish writing
      const full = path.join(REPORTS, file);
      try {
        const report = JSON.parse(fs.readFileSync(full, 'utf8')) as { javascriptStack?: { stack?: string[] }; nativeStack?: { symbol?: string }[] };
        const js = report.javascriptStack?.stack?.slice(0, 12).join('\n    ') ?? '(none)';
        const native = (report.nativeStack ?? []).slice(0, 16).map((f) => f.symbol).join('\n    ');
        return `${where}\nreport ${full}\n  main thread JavaScript stack:\n    ${js}\n  native stack:\n    ${native}`;
      } catch {
        return `${where}\nreport ${full} (unreadable)`;
      }
    }
    return `${where}\nit wrote no diagnostic report in 5 s`;
  }

  ready(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.#ready.finally(() => clearTimeout(timer)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`p${this.index} was not ready in ${ANSWER_MS} ms: ${this.stderr.trim()}`)), ANSWER_MS);
        timer.unref();
      }),
      this.exited.then(({ code, signal }) => {
        throw new Error(`p${this.index} ended (code ${code}, signal ${signal}) before it was ready: ${this.stderr.trim()}`);
      }),
    ]);
  }

  request(id: number, cmd: Line): Promise<Line> {
    if (this.#dead) return Promise.reject(new Error(`p${this.index} is dead`));
    return new Promise<Line>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        void this.#diagnose().then((report) =>
          reject(new Error(`p${this.index} (pid ${this.child.pid}) gave no answer to ${JSON.stringify(cmd)} in ${ANSWER_MS} ms; ${report}`)),
        );
      }, ANSWER_MS);
      this.#pending.set(id, {
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }
}

export class World {
  readonly specs: ActorSpec[];
  procs: ActorProcess[] = [];
  /** Problems of processes that were replaced (killed on purpose, or after a failed run). */
  readonly pastProblems: string[] = [];
  kills = 0;
  #nextId = 1;

  private constructor(
    readonly processes: number,
    readonly workers: number,
  ) {
    this.specs = actorSpecs(processes, workers);
  }

  static async start(processes: number, workers: number): Promise<World> {
    const world = new World(processes, workers);
    world.procs = await Promise.all(Array.from({ length: processes }, (_, p) => world.#launch(p)));
    for (let p = 0; p < processes; p++) world.#spares[p] = world.#launch(p);
    await Promise.all(world.#spares);
    return world;
  }

  /** A spare process for each slot, started ahead: a replacement is ready when one is killed. */
  #spares: Promise<ActorProcess>[] = [];

  /** Every other process creates through shm_open(O_EXCL), the rest through O_TMPFILE + linkat. */
  async #launch(p: number): Promise<ActorProcess> {
    const env: Record<string, string> = p % 2 === 1 ? { NAMED_SHM_CREATE_ROUTE: 'shm_open' } : {};
    const proc = new ActorProcess(p, env);
    await proc.ready();
    for (const spec of this.specs) {
      if (spec.proc === p && spec.wid) await this.#control(proc, { op: 'spawnWorker', wid: spec.wid });
    }
    return proc;
  }

  /** The slot's spare, and a new spare started behind it. */
  async #replace(p: number): Promise<void> {
    const next = this.#spares[p] ?? this.#launch(p);
    this.#spares[p] = this.#launch(p);
    this.#spares[p]!.catch(() => {}); // reported when it is taken
    this.procs[p] = await next;
  }

  async #control(proc: ActorProcess, cmd: Line): Promise<Line> {
    const answer = await proc.request(this.#nextId++, cmd);
    if (answer.harness) throw new Error(`actor harness error for ${JSON.stringify(cmd)} in p${proc.index}: ${JSON.stringify(answer)}`);
    return answer;
  }

  /** Runs one command in an actor; an answer marked `harness` is a fault of the fixture, not of the package. */
  async send(actor: ActorSpec, cmd: Line): Promise<Line> {
    const answer = await this.procs[actor.proc]!.request(this.#nextId++, actor.wid ? { ...cmd, to: actor.wid } : cmd);
    if (answer.harness) throw new Error(`actor ${actor.id}: harness error for ${JSON.stringify(cmd)}: ${JSON.stringify(answer)}`);
    const { id: _id, ...rest } = answer;
    return rest;
  }

  /** SIGKILL, then a fresh process (and its worker threads) in its place. */
  async killProcess(p: number): Promise<{ signal: NodeJS.Signals | null }> {
    const proc = this.procs[p]!;
    proc.killing = true;
    proc.child.kill('SIGKILL');
    const { signal } = await proc.exited;
    this.kills++;
    this.pastProblems.push(...proc.problems.slice(proc.problemsFrom), ...proc.stderrProblems);
    await this.#replace(p);
    return { signal };
  }

  async terminateWorker(wid: string): Promise<Line> {
    const spec = this.specs.find((s) => s.wid === wid)!;
    const proc = this.procs[spec.proc]!;
    const { id: _id, ...answer } = await this.#control(proc, { op: 'terminateWorker', wid });
    await this.#control(proc, { op: 'spawnWorker', wid });
    return answer;
  }

  async exitWorker(wid: string): Promise<Line> {
    const spec = this.specs.find((s) => s.wid === wid)!;
    const proc = this.procs[spec.proc]!;
    const { id: _id, ...answer } = await this.#control(proc, { op: 'exitWorker', wid });
    await this.#control(proc, { op: 'spawnWorker', wid });
    return answer;
  }

  /** What went wrong outside the answers: crashes, stray lines. */
  problems(): string[] {
    return [...this.pastProblems, ...this.procs.flatMap((p) => [...p.problems.slice(p.problemsFrom), ...p.stderrProblems])];
  }

  /** Problems are told per run: a run starts with none, so that one run's fault is not the next's. */
  beginRun(): void {
    this.pastProblems.length = 0;
    for (const p of this.procs) {
      p.stderrFrom = p.stderr.length;
      p.problemsFrom = p.problems.length;
    }
  }

  /** After a failed run: every process replaced, the run's names removed. */
  async reset(names: string[]): Promise<void> {
    for (let p = 0; p < this.procs.length; p++) {
      const proc = this.procs[p]!;
      proc.killing = true;
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    for (const name of names) fs.rmSync(`/dev/shm/${name}`, { force: true });
    for (let p = 0; p < this.processes; p++) await this.#replace(p);
  }

  /** Ends every process through its stdin; each must exit with 0. */
  async shutdown(): Promise<string[]> {
    const bad: string[] = [];
    const spares = await Promise.allSettled(this.#spares);
    const all = [...this.procs, ...spares.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
    for (const r of spares) if (r.status === 'rejected') bad.push(`a spare process did not start: ${String(r.reason)}`);
    await Promise.all(
      all.map(async (proc) => {
        proc.ending = true;
        proc.child.stdin!.end();
        const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
        const { code, signal } = await proc.exited;
        clearTimeout(timer);
        if (code !== 0) bad.push(`p${proc.index} exited with code ${code}, signal ${signal}: ${proc.stderr.trim()}`);
      }),
    );
    return bad;
  }
}

/** Linux: the objects at the run's names in /dev/shm, with their size and mode. */
export function shmObjects(names: string[]): Map<string, { size: number; mode: number }> {
  const found = new Map<string, { size: number; mode: number }>();
  for (const name of names) {
    try {
      const st = fs.lstatSync(`/dev/shm/${name}`);
      found.set(name, { size: st.size, mode: st.mode });
    } catch {
      // not there
    }
  }
  return found;
}
