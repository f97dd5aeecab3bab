// The shape of errors: OS failures look like Node's own system errors (fs, net), argument errors
// like Node's own ERR_* errors, so that code written for Node's errors handles these too.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import util from 'node:util';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { isPosix, isWindows, openTracked, uniqueName, errorOf } from './helpers.js';
import { skipUnder } from './runtimes/gates.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The name as the OS sees it. */
const osName = (name: string) => (isWindows ? name : `/${name}`);

describe('system errors', () => {
  describe('ENOENT from openExisting of a missing name', () => {
    it('is a plain Error with code ENOENT', () => {
      const err = errorOf(() => SharedMemory.openExisting(uniqueName()));
      expect(err).toBeInstanceOf(Error);
      expect(err.constructor).toBe(Error);
      expect(err.code).toBe('ENOENT');
    });

    it('has the negative errno Node reports for ENOENT', () => {
      const err = errorOf(() => SharedMemory.openExisting(uniqueName()));
      expect(util.getSystemErrorName(err.errno as number)).toBe('ENOENT');
      if (isPosix) expect(err.errno).toBe(-os.constants.errno.ENOENT);
    });

    it('names the call that failed', () => {
      const err = errorOf(() => SharedMemory.openExisting(uniqueName()));
      expect(err.syscall).toBe(isWindows ? 'OpenFileMappingW' : 'shm_open');
    });

    it('carries the name as given (region) and as the OS saw it (path)', () => {
      const name = uniqueName();
      const err = errorOf(() => SharedMemory.openExisting(name));
      expect(err.region).toBe(name);
      expect(err.path).toBe(osName(name));
    });

    it.runIf(isPosix)('carries a Global\\ prefix in region but not in path, where POSIX strips it', () => {
      const name = uniqueName();
      const err = errorOf(() => SharedMemory.openExisting(`Global\\${name}`));
      expect(err.region).toBe(`Global\\${name}`);
      expect(err.path).toBe(`/${name}`);
    });

    it.runIf(isPosix)("has the message of Node's fs errors: ENOENT: no such file or directory, shm_open '/<name>'", () => {
      const name = uniqueName();
      const err = errorOf(() => SharedMemory.openExisting(name));
      expect(err.message).toBe(`ENOENT: no such file or directory, shm_open '/${name}'`);
      expect(String(err)).toBe(`Error: ENOENT: no such file or directory, shm_open '/${name}'`);
    });

    it.runIf(isWindows)("has the message ENOENT: no such file or directory, OpenFileMappingW '<name>'", () => {
      const name = uniqueName();
      const err = errorOf(() => SharedMemory.openExisting(name));
      expect(err.message).toBe(`ENOENT: no such file or directory, OpenFileMappingW '${name}'`);
      expect(err.winError).toBe(2);
    });

    it.runIf(isPosix)('has no winError on POSIX', () => {
      const err = errorOf(() => SharedMemory.openExisting(uniqueName()));
      expect(Object.hasOwn(err, 'winError')).toBe(false);
    });

    it("has the same message form, errno and fields as Node's own fs error for a missing file", () => {
      const name = uniqueName();
      const missing = path.join(os.tmpdir(), name);
      const ours = errorOf(() => SharedMemory.openExisting(name));
      const nodes = errorOf(() => fs.openSync(missing, 'r'));
      expect(ours.errno).toBe(nodes.errno);
      expect(ours.code).toBe(nodes.code);
      expect(ours.message.replace(/, \S+ '.*'$/, '')).toBe(nodes.message.replace(/, \S+ '.*'$/, ''));
      for (const key of ['code', 'errno', 'syscall', 'path']) expect(Object.hasOwn(ours, key)).toBe(true);
    });

    it('has a stack that starts with its message and runs through the caller', () => {
      const name = uniqueName();
      const err = errorOf(() => SharedMemory.openExisting(name));
      expect(err.stack!.startsWith(`Error: ${err.message}\n`)).toBe(true);
      expect(err.stack).toContain('errors.test.ts');
    });
  });

  describe('EEXIST from create of a taken name', () => {
    it('has code, errno, syscall, region and path', () => {
      const name = uniqueName();
      openTracked(name);
      const err = errorOf(() => SharedMemory.create(name));
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe('EEXIST');
      expect(util.getSystemErrorName(err.errno as number)).toBe('EEXIST');
      if (isPosix) expect(err.errno).toBe(-os.constants.errno.EEXIST);
      expect(err.syscall).toBe(isWindows ? 'CreateFileMappingW' : 'shm_open');
      expect(err.region).toBe(name);
      expect(err.path).toBe(osName(name));
    });

    it.runIf(isPosix)("has the message EEXIST: file already exists, shm_open '/<name>'", () => {
      const name = uniqueName();
      openTracked(name);
      const err = errorOf(() => SharedMemory.create(name));
      expect(err.message).toBe(`EEXIST: file already exists, shm_open '/${name}'`);
    });
  });
});

describe('argument errors', () => {
  const cases: [string, string, typeof TypeError | typeof RangeError, () => unknown][] = [
    ['a name that is not a string', 'ERR_INVALID_ARG_TYPE', TypeError, () => SharedMemory.open(42 as never)],
    ['an empty name', 'ERR_INVALID_ARG_VALUE', TypeError, () => SharedMemory.open('')],
    ['a size of 0', 'ERR_OUT_OF_RANGE', RangeError, () => SharedMemory.open(uniqueName(), { size: 0 })],
    ['a readString limit of 0', 'ERR_OUT_OF_RANGE', RangeError, () => openTracked(uniqueName()).readString(0)],
    ['writeString of a number', 'ERR_INVALID_ARG_TYPE', TypeError, () => openTracked(uniqueName()).writeString(42 as never)],
  ];

  it.each(cases)('%s gives %s, an instance of the right built-in class', (_what, code, Class, fn) => {
    const err = errorOf(fn);
    expect(err).toBeInstanceOf(Class);
    expect(err.constructor).toBe(Class);
    expect(err.code).toBe(code);
  });

  it.each(cases)('%s keeps name plain, as Node does: %s stays out of name', (_what, _code, Class, fn) => {
    const err = errorOf(fn);
    expect(err.name).toBe(Class.name);
    expect(Object.hasOwn(err, 'name')).toBe(false);
  });

  it.each(cases)('%s: String(err) starts with the class name and the code, as Node\'s own errors', (_what, code, Class, fn) => {
    const err = errorOf(fn);
    expect(String(err).startsWith(`${Class.name} [${code}]: `)).toBe(true);
  });

  it.each(cases)('%s: the stack starts with "Class [%s]: message", as Node prints its own', (_what, code, Class, fn) => {
    const err = errorOf(fn);
    expect(err.stack!.startsWith(`${Class.name} [${code}]: ${err.message}\n`)).toBe(true);
  });

  it.each(cases)('%s has code as its only own enumerable property, as Node’s errors', (_what, _code, _Class, fn) => {
    expect(Object.keys(errorOf(fn))).toEqual(['code']);
  });

  it.skipIf(
    skipUnder(['bun', 'deno'], 'errors.test.ts: compares with Node’s own Buffer.alloc error in `node --input-type=module -e`; Bun’s own error stack starts `TypeError:` without the code, and Deno 2.9.6 runs that -e as a script (SyntaxError)'),
  )('the stack of an argument error starts as Node’s own ERR_INVALID_ARG_TYPE does, outside the test runner', () => {
    // Vitest installs its own stack formatting, which drops the code from Node's own errors; a
    // plain Node process shows both as Node prints them.
    const script = [
      "import { SharedMemory } from './dist/index.js';",
      'const head = (f) => { try { f(); } catch (e) { return e.stack.split(": ")[0]; } };',
      'console.log(JSON.stringify({ ours: head(() => SharedMemory.open(42)), nodes: head(() => Buffer.alloc("x")) }));',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ ours: 'TypeError [ERR_INVALID_ARG_TYPE]', nodes: 'TypeError [ERR_INVALID_ARG_TYPE]' });
  });

  it('a type error says which argument and what it got, in Node’s words', () => {
    const err = errorOf(() => SharedMemory.open(42 as never));
    expect(err.message).toBe('The "name" argument must be of type string. Received type number (42)');
  });

  it('a range error says which argument, the range and what it got, in Node’s words', () => {
    const err = errorOf(() => SharedMemory.open(uniqueName(), { size: -1 }));
    expect(err.message).toMatch(/^The value of "options\.size" is out of range\. It must be .+\. Received -1$/);
  });
});
