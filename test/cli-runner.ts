// Runs the built `named-shm` command (dist/cli.js) in a child process, to its end and without
// blocking, so that CLI tests can run side by side.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `node <args>`: its pid, exit code and whole output. */
export function runNodeWithPid(args: string[], timeout = 30_000): Promise<Run & { pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ pid: child.pid!, status, stdout, stderr }));
  });
}

/** `node <args>`: its exit code and whole output. */
export async function runNode(args: string[], timeout = 30_000): Promise<Run> {
  const { status, stdout, stderr } = await runNodeWithPid(args, timeout);
  return { status, stdout, stderr };
}

/** `named-shm <args>`. */
export function cli(...args: string[]): Promise<Run> {
  return runNode([CLI, ...args]);
}

/** `named-shm <args>`, with the pid it ran as. */
export function cliWithPid(...args: string[]): Promise<Run & { pid: number }> {
  return runNodeWithPid([CLI, ...args]);
}
