// Shared by the suites: unique region names, cleanup, and real child processes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { SharedMemory, type OpenOptions } from '../lib/index.js';

export const isWindows = process.platform === 'win32';
export const isPosix = !isWindows;
export const isLinux = process.platform === 'linux';

const opened: SharedMemory[] = [];
const names: string[] = [];

/** A name no other test or run uses; removed after the test on POSIX. */
export function uniqueName(tag = 't'): string {
  const name = `nshm-${tag}-${process.pid}-${randomBytes(4).toString('hex')}`;
  names.push(name);
  return name;
}

/** Opens through the public API and closes after the test. */
export function track<T extends SharedMemory>(region: T): T {
  opened.push(region);
  return region;
}

export function openTracked(name: string, options?: OpenOptions): SharedMemory {
  return track(SharedMemory.open(name, options));
}

export function shmPath(name: string): string {
  return `/dev/shm/${name}`;
}

afterEach(() => {
  for (const region of opened.splice(0)) region.close();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (isPosix) {
    for (const name of names.splice(0)) {
      try {
        SharedMemory.unlink(name);
      } catch {
        // already gone: the usual case
      }
    }
  }
});

export const CHILD = fileURLToPath(new URL('./fixtures/child.mjs', import.meta.url));

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the fixture child to completion: `child.mjs <action> <name> [...]`. */
export function runChild(...args: string[]): ChildResult {
  const r = spawnSync(process.execPath, [CHILD, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON line a child printed last. */
export function lastJson<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

const children: ChildProcess[] = [];

/** A long-lived child; resolves with its first JSON line once it printed it. */
export function startChild(...args: string[]): StartedChild {
  return startChildWith({}, ...args);
}

export interface StartedChild {
  child: ChildProcess;
  first: Promise<Record<string, unknown>>;
  exit: Promise<number | null>;
}

/** As startChild, with extra environment variables. */
export function startChildWith(env: Record<string, string>, ...args: string[]): StartedChild {
  const child = spawn(process.execPath, [CHILD, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  const first = new Promise<Record<string, unknown>>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as Record<string, unknown>);
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before it printed: ${out}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, first, exit };
}

export function exists(path: string): boolean {
  return fs.existsSync(path);
}

/** The error `fn` throws; fails the test when it throws nothing. */
export function errorOf(fn: () => unknown): Error & Record<string, unknown> {
  try {
    fn();
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected a throw, but the call returned');
}

/**
 * `NAMED_SHM_ZERO_COPY=0` (scripts/copy-path.sh) runs the suite as a runtime that refuses external
 * buffers would (Electron): every region is reached by copies. Tests of what needs the mapping in
 * place (`bytes`, the sequence lock, events, mutexes, change notification, channels) skip there.
 */
export const copyForced = process.env.NAMED_SHM_ZERO_COPY === '0';
export const NEEDS_ZERO_COPY = 'needs zero-copy access (skipped under NAMED_SHM_ZERO_COPY=0)';
