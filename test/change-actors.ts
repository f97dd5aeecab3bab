// Real processes for the change-notification and futex interop suites: the actor fixture
// (fixtures/change-actor.mjs, through the built package) or any program that prints lines, read
// one line at a time. Every process started here is killed after its test if still running.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

export const CHANGE_ACTOR = fileURLToPath(new URL('./fixtures/change-actor.mjs', import.meta.url));

export interface Actor {
  child: ChildProcess;
  /** The next line the process prints (JSON-parsed for the actor fixture). */
  next<T = Record<string, unknown>>(): Promise<T>;
  /** Writes a line to its stdin. */
  send(line: string): void;
  /** Its exit code (or the signal that ended it). */
  exit: Promise<number | string | null>;
}

const started: ChildProcess[] = [];

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts `command args`; its stdout lines are handed out in order by `next()`. */
export function startProgram(command: string, args: string[], parse: (line: string) => unknown = (l) => l): Actor {
  // Kernel sleeps of 2 minutes, not 500 ms: a lost cross-process wake-up must show as a hang.
  const env = { ...process.env, NAMED_SHM_SLEEP_SLICE_MS: '120000' };
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'], env });
  started.push(child);
  const lines: unknown[] = [];
  const waiting: Array<{ resolve: (v: unknown) => void; reject: (e: Error) => void }> = [];
  let out = '';
  let ended = false;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    out += chunk;
    for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
      const line = parse(out.slice(0, nl));
      out = out.slice(nl + 1);
      const w = waiting.shift();
      if (w) w.resolve(line);
      else lines.push(line);
    }
  });
  const exit = new Promise<number | string | null>((resolve) => {
    child.on('close', (code, signal) => {
      ended = true;
      for (const w of waiting.splice(0)) w.reject(new Error(`${command} ended (${code ?? signal}) before printing the line awaited`));
      resolve(code ?? signal);
    });
  });
  return {
    child,
    next<T>() {
      if (lines.length > 0) return Promise.resolve(lines.shift() as T);
      if (ended) return Promise.reject(new Error(`${command} ended before printing the line awaited`));
      return new Promise<T>((resolve, reject) => waiting.push({ resolve: resolve as (v: unknown) => void, reject }));
    },
    send(line: string) {
      child.stdin!.write(`${line}\n`);
    },
    exit,
  };
}

/** Starts the actor fixture: `change-actor.mjs <action> <name> [args]`. */
export function startActor(...args: string[]): Actor {
  return startProgram(process.execPath, [CHANGE_ACTOR, ...args], (line) => JSON.parse(line));
}

/** The actor fixture under Node options of its own (`--expose-gc`). */
export function startActorWith(nodeOptions: string[], ...args: string[]): Actor {
  return startProgram(process.execPath, [...nodeOptions, CHANGE_ACTOR, ...args], (line) => JSON.parse(line));
}

/** The change counter's object beside region `name` in /dev/shm. */
export function changesPath(name: string): string {
  return `/dev/shm/${name}#changes`;
}

/** The u32 word `index` (native-endian) of a 32-byte event or change-counter object, read through its file. */
export function wordOf(path: string, index: number): number {
  const buf = Buffer.alloc(4);
  const fd = fs.openSync(path, 'r');
  try {
    fs.readSync(fd, buf, 0, 4, index * 4);
  } finally {
    fs.closeSync(fd);
  }
  return os.endianness() === 'LE' ? buf.readUInt32LE(0) : buf.readUInt32BE(0);
}

/** Writes the u32 word `index` of such an object through its file. */
export function setWord(path: string, index: number, value: number): void {
  const buf = Buffer.alloc(4);
  if (os.endianness() === 'LE') buf.writeUInt32LE(value >>> 0, 0);
  else buf.writeUInt32BE(value >>> 0, 0);
  const fd = fs.openSync(path, 'r+');
  try {
    fs.writeSync(fd, buf, 0, 4, index * 4);
  } finally {
    fs.closeSync(fd);
  }
}

/** Word indexes of the documented layout. */
export const COUNT_WORD = 4;
export const WAITERS_WORD = 5;
export const STATE_WORD = 4;
