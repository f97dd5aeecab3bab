// Shared by the robustness suites: scale (default or NAMED_SHM_HEAVY=1), figures of the last run,
// and long-lived fixture processes that talk in JSON lines.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

/** NAMED_SHM_HEAVY=1 (npm run test:heavy) runs every case at a larger scale, for local runs. */
export const HEAVY = process.env.NAMED_SHM_HEAVY === '1';

/** The default figure, or the heavy one. */
export function scale<T>(normal: T, heavy: T): T {
  return HEAVY ? heavy : normal;
}

/** A per-test timeout that leaves room for the heavy mode. */
export const TIMEOUT = HEAVY ? 3_600_000 : 180_000;

/**
 * Prints what a case measured, and appends it as a JSON line to $NAMED_SHM_FIGURES when that is
 * set (docs/RELIABILITY.md quotes these figures).
 */
export function recordFigures(caseId: string, figures: Record<string, unknown>): void {
  const entry = { case: caseId, heavy: HEAVY, platform: process.platform, node: process.version, ...figures };
  console.log(`[figures] ${JSON.stringify(entry)}`);
  const file = process.env.NAMED_SHM_FIGURES;
  if (file) fs.appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

export function fixture(file: string): string {
  return fileURLToPath(new URL(`../fixtures/${file}`, import.meta.url));
}

export type Line = Record<string, unknown>;

/** Runs a fixture to its end and returns the last JSON line it printed. */
export function runFixture(file: string, ...args: string[]): Line {
  const r = spawnSync(process.execPath, [fixture(file), ...args], { encoding: 'utf8', timeout: 60_000 });
  const lines = r.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]!) as Line;
  } catch {
    return { garbled: r.stdout, stderr: r.stderr, status: r.status, signal: r.signal };
  }
}

/** One call of the package in another process (robust-open.mjs): what a fresh user would get. */
export function openElsewhere(how: 'open' | 'create' | 'openExisting', name: string, options?: object): Line {
  return runFixture('robust-open.mjs', how, name, ...(options ? [JSON.stringify(options)] : []));
}

/** A fixture process: JSON lines in both directions. */
export class Worker {
  readonly child: ChildProcess;
  readonly lines: Line[] = [];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: (() => void)[] = [];
  #read = 0;
  #pending = '';
  #exited = false;

  constructor(file: string, args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) {
    this.child = spawn(process.execPath, [...nodeArgs, fixture(file), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    live.add(this);
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      this.#pending += chunk;
      for (let nl = this.#pending.indexOf('\n'); nl >= 0; nl = this.#pending.indexOf('\n')) {
        const text = this.#pending.slice(0, nl);
        this.#pending = this.#pending.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(text) as Line);
        } catch {
          this.lines.push({ garbled: text });
        }
      }
      this.#wake();
    });
    let stderr = '';
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
    });
    this.child.stdin!.on('error', () => {}); // writing to a killed worker is not an error here
    this.exit = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.#exited = true;
        live.delete(this);
        if (stderr.trim()) this.lines.push({ stderr: stderr.trim() });
        this.#wake();
        resolve({ code, signal });
      });
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** The next line not yet taken; rejects if the process ends first. */
  async next(): Promise<Line> {
    while (this.#read >= this.lines.length) {
      if (this.#exited) {
        // The exit event can come before the last stdout chunk: give it a turn.
        await new Promise((resolve) => setImmediate(resolve));
        if (this.#read < this.lines.length) break;
        throw new Error(`worker ${this.child.pid} ended before answering; its lines: ${JSON.stringify(this.lines)}`);
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.lines[this.#read++]!;
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  end(): void {
    this.child.stdin!.end();
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

const live = new Set<Worker>();
const dirs: string[] = [];

/** A new temporary folder, removed after the test. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-robust-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  const left = [...live];
  for (const w of left) w.kill();
  await Promise.all(left.map((w) => w.exit));
  for (const dir of dirs.splice(0)) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Windows may still see a file of a process that just died as open: the OS cleans tmp
    }
  }
});

export function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function randomInt(below: number): number {
  return Math.floor(Math.random() * below);
}
