// For the NamedEvent and NamedMutex suites: child processes and worker threads that use named
// events (fixtures/event-actor.mjs) or mutexes (fixtures/mutex-actor.mjs) through the built
// package, and objects closed after each test.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach } from 'vitest';
import type { NamedEvent, NamedMutex } from '../lib/index.js';

export const EVENT_ACTOR = fileURLToPath(new URL('./fixtures/event-actor.mjs', import.meta.url));
export const MUTEX_ACTOR = fileURLToPath(new URL('./fixtures/mutex-actor.mjs', import.meta.url));
export const DIST = new URL('../dist/index.js', import.meta.url).href;

export type Line = Record<string, unknown> & { op: string; tag?: string; ok: boolean };

const actors: EventActor[] = [];
const events: (NamedEvent | NamedMutex)[] = [];
const workers: Worker[] = [];

/** Closes after the test. */
export function trackEvent<T extends NamedEvent | NamedMutex>(ev: T): T {
  events.push(ev);
  return ev;
}

afterEach(async () => {
  for (const ev of events.splice(0)) ev.close();
  for (const a of actors.splice(0)) a.kill();
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

/** A child process running event-actor.mjs, or another actor fixture (`fixture`). */
export class EventActor {
  readonly child: ChildProcess;
  readonly lines: Line[] = [];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #listeners: (() => void)[] = [];
  #stderr = '';

  /** With no `script`, it takes commands on stdin; with one, it runs them and ends. */
  constructor(script: object[] = [], options: { command?: string[]; env?: NodeJS.ProcessEnv; fixture?: string } = {}) {
    const argv = [options.fixture ?? EVENT_ACTOR, ...script.map((c) => JSON.stringify(c))];
    const [cmd, ...pre] = options.command ?? [process.execPath];
    this.child = spawn(cmd!, [...pre, ...(options.command ? [process.execPath] : []), ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    actors.push(this);
    let out = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        this.lines.push(JSON.parse(out.slice(0, nl)) as Line);
        out = out.slice(nl + 1);
      }
      for (const l of this.#listeners.slice()) l();
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => (this.#stderr += chunk));
    this.exit = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    this.exit.then(() => {
      for (const l of this.#listeners.slice()) l();
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  send(cmd: object): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  /** The first line (printed so far or later) that matches; rejects if the child ends first. */
  next(match: (l: Line) => boolean): Promise<Line> {
    return new Promise((resolve, reject) => {
      const look = () => {
        const found = this.lines.find(match);
        if (found) {
          this.#listeners = this.#listeners.filter((l) => l !== look);
          resolve(found);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          this.#listeners = this.#listeners.filter((l) => l !== look);
          reject(new Error(`actor ended (${this.child.exitCode ?? this.child.signalCode}) without that line: ${JSON.stringify(this.lines)} ${this.#stderr}`));
        }
      };
      this.#listeners.push(look);
      look();
    });
  }

  /** Sends a command and resolves with its answer (the line of the same op and tag). */
  request(cmd: { op: string; tag?: string } & Record<string, unknown>): Promise<Line> {
    const tag = cmd.tag ?? `${cmd.op}-${this.lines.length}-${Math.random()}`;
    this.send({ ...cmd, tag });
    return this.next((l) => l.op === cmd.op && l.tag === tag);
  }

  /** Starts a wait ('wait' or 'waitSync', 'lock' or 'lockSync'); resolves once the child said it started, with the answer to come. */
  async startWait(op: 'wait' | 'waitSync' | 'lock' | 'lockSync', timeout?: number, id?: string): Promise<{ result: Promise<Line>; tag: string }> {
    const tag = `${op}-${Math.random()}`;
    this.send({ op, timeout, id, tag });
    await this.next((l) => l.op === 'started' && l.tag === tag);
    const result = this.next((l) => l.op === op && l.tag === tag);
    result.catch(() => {}); // a wait of an actor that is killed is never answered; only an awaited one fails
    return { tag, result };
  }

  /** Lines with this op and tag printed so far. */
  has(op: string, tag: string): boolean {
    return this.lines.some((l) => l.op === op && l.tag === tag);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

/** Opens an event (or with `fixture` MUTEX_ACTOR, a mutex) in a new actor; resolves once it is open. */
export async function actorWith(name: string, options?: object, how = 'open', fixture = EVENT_ACTOR): Promise<EventActor> {
  const a = new EventActor([], { fixture });
  const opened = await a.request({ op: 'open', how, name, options });
  if (!opened.ok) throw new Error(`actor could not open ${name}: ${JSON.stringify(opened)}`);
  return a;
}

/**
 * A worker thread that loads the built package and runs `body` (an async function body with
 * NamedEvent, NamedMutex, SharedMemory, workerData and say(message) in scope); terminated after
 * the test if still running.
 */
export function eventWorker(body: string, data: Record<string, unknown>): { worker: Worker; messages: unknown[]; next: () => Promise<unknown> } {
  const source = `const { parentPort, workerData } = require('node:worker_threads');
const say = (m) => parentPort.postMessage(m);
import(workerData.dist).then(async ({ NamedEvent, NamedMutex, SharedMemory }) => { ${body} }).catch((e) => say({ error: String(e && e.stack || e), code: e && e.code }));`;
  const worker = new Worker(source, { eval: true, workerData: { ...data, dist: DIST } });
  workers.push(worker);
  const messages: unknown[] = [];
  let taken = 0;
  let wake: (() => void) | undefined;
  worker.on('message', (m) => {
    messages.push(m);
    wake?.();
  });
  const next = async (): Promise<unknown> => {
    while (messages.length <= taken) await new Promise<void>((r) => (wake = r));
    return messages[taken++];
  };
  return { worker, messages, next };
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
