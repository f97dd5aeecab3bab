// Shared by the Windows event and change-counter suites: the built C tool, a child process whose
// JSON (or plain) lines are read one at a time, and events closed after each test.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { NamedEvent, type EventOptions } from '../lib/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = process.env.NAMED_SHM_C_OUT ?? path.join(root, 'build', 'interop');
export const EVENT_TOOL = path.join(built, 'event_tool.exe');
/** scripts/windows/test.sh builds the C programs and sets this, so a missing build fails there. */
export const hasEventTool = process.env.NAMED_SHM_INTEROP === '1' || fs.existsSync(EVENT_TOOL);
export const SYNC_CHILD = fileURLToPath(new URL('./fixtures/windows-sync-child.mjs', import.meta.url));

const events: NamedEvent[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const event of events.splice(0)) event.close();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill();
});

export function trackEvent(event: NamedEvent): NamedEvent {
  events.push(event);
  return event;
}

export function openEvent(name: string, options?: EventOptions): NamedEvent {
  return trackEvent(NamedEvent.open(name, options));
}

export interface LineChild {
  child: ChildProcess;
  /** The next line the child prints (JSON-parsed when it is JSON); rejects if it exits first. */
  next(): Promise<any>;
  /** Sends a line to its stdin. */
  send(line: string): void;
  exit: Promise<number | null>;
}

/** Starts `command args` with piped stdio and reads its stdout line by line. */
export function startLines(command: string, args: string[]): LineChild {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  const readers: Array<(line: string | undefined) => void> = [];
  let buffered = '';
  let stderr = '';
  let ended = false;
  const push = (line: string | undefined) => {
    const reader = readers.shift();
    if (reader) reader(line);
    else if (line !== undefined) lines.push(line);
  };
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      push(buffered.slice(0, nl).replace(/\r$/, ''));
      buffered = buffered.slice(nl + 1);
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      ended = true;
      while (readers.length) push(undefined);
      resolve(code);
    }),
  );
  return {
    child,
    exit,
    send: (line) => child.stdin!.write(`${line}\n`),
    next() {
      const line = lines.shift();
      const parse = (l: string | undefined) => {
        if (l === undefined) throw new Error(`${path.basename(command)} exited without a line; stderr: ${stderr}`);
        return l.startsWith('{') ? JSON.parse(l) : l;
      };
      if (line !== undefined || ended) return Promise.resolve(line).then(parse);
      return new Promise<string | undefined>((resolve) => readers.push(resolve)).then(parse);
    },
  };
}

/** The JS fixture child (`windows-sync-child.mjs <action> ...`) in a Node process of its own. */
export function startSyncChild(...args: string[]): LineChild {
  return startLines(process.execPath, [SYNC_CHILD, ...args]);
}

/** Resolves after `ms`; for "nothing happened in this time" checks. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Which of these promises settled within `ms` (indexes). */
export async function settledWithin(promises: Promise<unknown>[], ms: number): Promise<number[]> {
  const done = new Set<number>();
  promises.forEach((p, i) => void p.then(() => done.add(i), () => done.add(i)));
  await sleep(ms);
  return [...done].sort();
}
