// The sample's parent process: writes the string, starts the child and waits for it while it
// keeps the region open, so the child finds the string (a region lives while someone holds it).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setSharedMem } from '../lib/index.js';

const defaultChild = fileURLToPath(new URL('./child.ts', import.meta.url));
const [command = defaultChild, ...args] = process.argv.slice(2);

/** A script runs with this Node and its loaders (tsx for .ts); anything else runs as a program. */
function childCommand(): [string, string[]] {
  if (/\.(ts|mts|js|mjs|cjs)$/.test(command)) return [process.execPath, [...process.execArgv, command, ...args]];
  return [command, args];
}

console.log('\nProcess is writing to shared memory...\n');
setSharedMem('This is a test string');

const [file, argv] = childCommand();
const child = spawn(file, argv, { stdio: 'inherit' });
child.on('error', (err) => {
  console.error(`CreateProcess failed (${err.message})`);
  process.exitCode = 1;
});
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
