// What users get: the built package, imported by name from ESM and required from CommonJS.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { uniqueName } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function run(args: string[]) {
  return spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
}

describe('the built package', () => {
  it('imports by name from an ES module', () => {
    const name = uniqueName();
    const r = run([
      '--input-type=module',
      '-e',
      `import { SharedMemory } from 'named-shm'; const r = SharedMemory.open('${name}'); r.writeString('esm'); console.log(r.readString()); r.close();`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('esm');
  });

  it('requires by name from CommonJS (Node’s require of ES modules)', () => {
    const name = uniqueName();
    const r = run([
      '--input-type=commonjs',
      '-e',
      `const { SharedMemory, setSharedMem, getSharedMem } = require('named-shm'); const r = SharedMemory.open('${name}'); r.writeString('cjs'); console.log(r.readString(), typeof setSharedMem, typeof getSharedMem); r.close();`,
    ]);
    expect(r.stdout.trim()).toBe('cjs function function');
    expect(r.status).toBe(0);
  });

  it('ships type declarations for its entry point', () => {
    const r = run(['-e', `console.log(require.resolve('named-shm/package.json'), require('named-shm/package.json').types)`]);
    expect(r.stdout).toContain('./dist/index.d.ts');
  });
});
