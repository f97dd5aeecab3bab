// What users get: the `npm pack` tarball installed into an empty project, then used from an ES
// module, a CommonJS file, TypeScript files checked with the project's tsc, and the command line.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPosix, isWindows, uniqueName } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
const npm = isWindows ? 'npm.cmd' : 'npm';
// The Windows suite runs node.exe under Wine without npm: there, this file is skipped. Everywhere
// else npm comes with Node, and its absence is a failure.
const hasNpm = !isWindows || spawnSync(npm, ['--version'], { shell: true, stdio: 'ignore' }).status === 0;
const quiet = { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' };

let work: string;
let project: string;
let tarball: string;
let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };

function node(args: string[], cwd = project) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}

/** The installed `named-shm` command: the .bin link npm made (a .cmd shim on Windows). */
function namedShm(...args: string[]) {
  if (isWindows) return node([path.join(project, 'node_modules', 'named-shm', 'dist', 'cli.js'), ...args]);
  const r = spawnSync(path.join(project, 'node_modules', '.bin', 'named-shm'), args, { cwd: project, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}

beforeAll(() => {
  if (!hasNpm) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-pack-'));
  // dist/ is built by `npm test` (pretest); --ignore-scripts keeps prepack from rebuilding it
  // while other test files import it.
  const out = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
    cwd: root,
    encoding: 'utf8',
    env: quiet,
    shell: isWindows,
  });
  packed = (JSON.parse(out) as (typeof packed)[])[0]!;
  tarball = path.join(work, packed.filename);
  project = path.join(work, 'consumer');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync(npm, ['install', '--no-package-lock', '--prefer-offline', '--loglevel=error', tarball], {
    cwd: project,
    env: quiet,
    stdio: ['ignore', 'ignore', 'pipe'],
    shell: isWindows,
  });
}, 180_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!hasNpm)('the npm pack tarball', () => {
  it('holds only what users need, and stays small', () => {
    const files = packed.files.map((f) => f.path).sort();
    expect(files).toContain('package.json');
    expect(files).toContain('README.md');
    expect(files).toContain('LICENSE');
    expect(files).toContain('CHANGELOG.md');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/cli.js');
    for (const file of files) {
      expect(file).toMatch(/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/.+\.(js|d\.ts))$/);
      expect(file).not.toMatch(/^dist\/cli(\/.*)?\.d\.ts$/); // the command line has no API
    }
    // 0.1.0 packed to about 40 KiB; events and change notification on two OSes add about 55, the
    // mutex about 30, the channel about 10, and layouts, the copy path and their README sections
    // about 30 (164 KiB at issue 14). A stray folder (tests, source maps) would be far more.
    expect(packed.size).toBeLessThan(192 * 1024);
  });

  it('installs with its dependency and its command', () => {
    const installed = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', 'named-shm', 'package.json'), 'utf8'));
    expect(installed.version).toBe(pkg.version);
    expect(fs.existsSync(path.join(project, 'node_modules', 'koffi'))).toBe(true);
    const bin = path.join(project, 'node_modules', '.bin', isWindows ? 'named-shm.cmd' : 'named-shm');
    expect(fs.existsSync(bin)).toBe(true);
    const cli = fs.readFileSync(path.join(project, 'node_modules', 'named-shm', 'dist', 'cli.js'), 'utf8');
    expect(cli.startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('works from an ES module', () => {
    const name = uniqueName('pack');
    fs.writeFileSync(
      path.join(project, 'esm.mjs'),
      `import { SharedMemory, DEFAULT_NAME, DEFAULT_SIZE } from 'named-shm';
import * as all from 'named-shm';
const region = SharedMemory.open(process.argv[2]);
region.writeString('from ESM');
console.log(JSON.stringify({ text: region.readString(), created: region.created, DEFAULT_NAME, DEFAULT_SIZE, exports: Object.keys(all).sort() }));
region.close();
`,
    );
    const r = node(['esm.mjs', name]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      text: 'from ESM',
      created: true,
      DEFAULT_NAME: 'dllmemfilemap',
      DEFAULT_SIZE: 4096,
      exports: ['AbortError', 'Channel', 'DEFAULT_NAME', 'DEFAULT_SIZE', 'Layout', 'MutexGuard', 'NamedEvent', 'NamedMutex', 'SharedMemory', 'detachSharedMem', 'getSharedMem', 'setSharedMem'],
    });
  });

  it('works from CommonJS through require()', () => {
    const name = uniqueName('pack');
    fs.writeFileSync(
      path.join(project, 'cjs.cjs'),
      `const { SharedMemory, setSharedMem, getSharedMem } = require('named-shm');
const region = SharedMemory.open(process.argv[2]);
region.writeString('from CommonJS');
console.log(JSON.stringify({ text: region.readString(), fns: [typeof setSharedMem, typeof getSharedMem] }));
region.close();
`,
    );
    const r = node(['cjs.cjs', name]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ text: 'from CommonJS', fns: ['function', 'function'] });
  });

  it('type-checks from TypeScript (ESM and CommonJS files) with the project’s tsc, and runs', () => {
    fs.writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [path.join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['check.mts', 'check.cts'],
      }),
    );
    fs.writeFileSync(
      path.join(project, 'check.mts'),
      `import { SharedMemory, setSharedMem, getSharedMem, type OpenOptions, type SystemError } from 'named-shm';
const options: OpenOptions = { size: 4096, access: 'readwrite', mode: 0o600 };
const region = SharedMemory.open(process.argv[2]!, options);
const stored: number = region.writeString('typed', { strict: true });
const text: string = region.readString(260);
const bytes: Uint8Array = region.bytes;
const access: 'readwrite' | 'readonly' = region.access;
const setUnits: number = setSharedMem('x');
const got: string = getSharedMem();
// Wrong uses, which tsc must refuse (never called: they would throw).
export function wrongUses(region: SharedMemory): void {
  // @ts-expect-error: a text must be a string
  region.writeString(42);
  // @ts-expect-error: no such access
  SharedMemory.open('x', { access: 'write' });
  // @ts-expect-error: create cannot be read-only
  SharedMemory.create('x', { access: 'readonly' });
  // @ts-expect-error: size is a number
  SharedMemory.openExisting('x', { size: '4096' });
}
try { SharedMemory.openExisting(process.argv[2]! + '-none'); } catch (e) { const code: string = (e as SystemError).code; void code; }
console.log(JSON.stringify({ stored, text, bytes: bytes.length, access, setUnits: typeof setUnits, got: typeof got }));
region.close();
`,
    );
    fs.writeFileSync(
      path.join(project, 'check.cts'),
      `import shm = require('named-shm');
export function write(name: string): number {
  // A region is Disposable (only type-checked here: \`using\` needs Node 24 to run).
  using region = shm.SharedMemory.open(name);
  return region.writeString('cjs');
}
const region: shm.SharedMemory = shm.SharedMemory.open('x');
const units: number = region.writeString('cjs');
// @ts-expect-error: readString's limit is a number
region.readString('5');
export { units };
`,
    );
    const tsc = node([path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    // The ESM file also runs as it is, with Node's type stripping where it has it (22.18+).
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    if (major > 22 || (major === 22 && minor >= 18)) {
      const name = uniqueName('pack');
      const r = node(['check.mts', name]);
      expect(r.stderr.replace(/^.*(ExperimentalWarning|--trace-warnings).*\n/gm, '')).toBe('');
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ stored: 5, text: 'typed', bytes: 4096, access: 'readwrite' });
    }
  });

  it('runs its command line: every command, with hold in one process and read in another', async () => {
    expect(namedShm('--version').stdout).toBe(`${pkg.version}\n`);
    for (const command of ['write', 'read', 'info', 'dump', 'hold', 'rm', 'list']) {
      const help = namedShm(command, '--help');
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: named-shm ${command}`));
    }
    const name = uniqueName('pack');
    const holdArgs = ['hold', name];
    const holder = isWindows
      ? spawn(process.execPath, [path.join(project, 'node_modules', 'named-shm', 'dist', 'cli.js'), ...holdArgs], { cwd: project })
      : spawn(path.join(project, 'node_modules', '.bin', 'named-shm'), holdArgs, { cwd: project });
    try {
      const ready = await new Promise<string>((resolve, reject) => {
        let out = '';
        holder.stdout!.setEncoding('utf8');
        holder.stdout!.on('data', (chunk: string) => {
          out += chunk;
          if (out.includes('\n')) resolve(out);
        });
        holder.on('exit', (code) => reject(new Error(`hold exited with ${code}: ${out}`)));
      });
      expect(ready).toContain(`holding '${name}'`);
      expect(namedShm('write', name, 'packed and held').status).toBe(0);
      expect(namedShm('read', name).stdout).toBe('packed and held\n');
      expect(JSON.parse(namedShm('read', name, '--json').stdout)).toEqual({ name, size: 4096, text: 'packed and held', units: 15 });
      expect(namedShm('info', name).stdout).toContain('size:      4096 bytes (2048 UTF-16 units)');
      expect(namedShm('dump', name, '--bytes', '16').stdout).toBe(
        '00000000  70 00 61 00 63 00 6b 00  65 00 64 00 20 00 61 00  |packed a|\n00000010\n',
      );
      if (process.platform === 'linux') expect(namedShm('list').stdout).toMatch(new RegExp(`^${name} +4096 `, 'm'));
      if (isPosix) {
        const rm = namedShm('rm', name);
        expect(rm.status).toBe(0);
        expect(namedShm('read', name).status).toBe(1);
      } else {
        expect(namedShm('rm', name).status).toBe(1);
      }
    } finally {
      const exited = new Promise((resolve) => holder.on('close', resolve));
      holder.kill(isWindows ? undefined : 'SIGTERM');
      await exited;
    }
  });
});
