// Region names (group A of the reliability catalogue): what a name may be, the errors for what it
// may not be, and which names lead to the same region. The rules are the same on every OS; only the
// length limit is the OS's own.
import fs from 'node:fs';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { MAX_SIZE } from '../lib/validate.js';
import { exists, isLinux, isPosix, isWindows, openTracked, shmPath, track, uniqueName, errorOf } from './helpers.js';

// Names built from a uniqueName() (case and normalisation variants, padded names) are removed
// after each test here, as helpers.ts removes the uniqueName() itself.
const derived: string[] = [];
function cleanedUp(name: string): string {
  derived.push(name);
  return name;
}
afterEach(() => {
  for (const name of derived.splice(0)) {
    if (!isPosix) continue;
    try {
      SharedMemory.unlink(name);
    } catch {
      // gone with its last holder: the usual case
    }
  }
});

/** A fresh name of exactly `total` UTF-8 bytes, padded with `filler` (then 'y' to make it exact). */
function nameOfBytes(total: number, filler = 'x'): string {
  let name = `${uniqueName('len')}-`;
  const width = Buffer.byteLength(filler);
  while (Buffer.byteLength(name) + width <= total) name += filler;
  while (Buffer.byteLength(name) < total) name += 'y';
  expect(Buffer.byteLength(name)).toBe(total);
  return cleanedUp(name);
}

const entryPoints: [string, (name: unknown) => unknown][] = [
  ['open', (name) => SharedMemory.open(name as string)],
  ['create', (name) => SharedMemory.create(name as string)],
  ['openExisting', (name) => SharedMemory.openExisting(name as string)],
  ['unlink', (name) => SharedMemory.unlink(name as string)],
];

describe('names that are not strings', () => {
  const notStrings: [string, unknown][] = [
    ['null', null],
    ['42', 42],
    ['Symbol()', Symbol()],
    ['{}', {}],
    ["new String('x')", new String('x')],
    ['42n', 42n],
    ["['x']", ['x']],
  ];
  const cases = entryPoints.flatMap(([call, fn]) => notStrings.map(([shown, value]) => [call, shown, fn, value] as const));

  it.each(cases)('%s(%s) throws TypeError ERR_INVALID_ARG_TYPE from the package', (_call, _shown, fn, value) => {
    const err = errorOf(() => fn(value));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(err.message).toMatch(/^The "name" argument must be of type string\. Received /);
  });

  it('unlink(undefined) is a type error: only the open calls have a default name', () => {
    const err = errorOf(() => SharedMemory.unlink(undefined as never));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('undefined means the default name', () => {
  // dllmemfilemap is machine-wide and sample.test.ts uses it in parallel with this file: this test
  // neither creates nor removes it. Asking for more bytes than any region can hold fails either
  // way (ENOENT when it is absent, EINVAL when it exists), and the error names the object the OS
  // was asked for.
  it('openExisting(undefined) addresses dllmemfilemap', () => {
    const err = errorOf(() => SharedMemory.openExisting(undefined, { size: MAX_SIZE }));
    expect(['ENOENT', 'EINVAL']).toContain(err.code);
    expect(err.region).toBe('dllmemfilemap');
    expect(err.path).toBe(isWindows ? 'dllmemfilemap' : '/dllmemfilemap');
  });
});

describe('names that are refused before any system call', () => {
  const refused: [string, string][] = [
    ['the empty name', ''],
    ['a U+0000 inside', 'a\0b'],
    ['a U+0000 at the end', 'a\0'],
    ['a slash inside', 'a/b'],
    ['a trailing slash', 'a/'],
    ['a leading slash', '/x'],
    ['two leading slashes', '//x'],
    ['a slash alone', '/'],
    ['a backslash inside', 'a\\b'],
    ['a leading backslash', '\\x'],
    ['a backslash after Global\\', 'Global\\a\\b'],
    ['a backslash after Local\\', 'Local\\a\\b'],
    ['a lower-case global\\ (not a namespace prefix)', 'global\\x'],
    ['another Windows namespace', 'Session\\1\\x'],
    ['Global\\ with nothing after it', 'Global\\'],
    ['Local\\ with nothing after it', 'Local\\'],
    ['a slash after Global\\', 'Global\\/x'],
    ["'.'", '.'],
    ["'..'", '..'],
    ["'.' after Global\\", 'Global\\.'],
    ["'..' after Local\\", 'Local\\..'],
    ['a lone high surrogate', '\uD800x'],
    ['a lone low surrogate', 'x\uDFFF'],
    ['a surrogate pair in the wrong order', 'x\uDC00\uD800'],
    ['a lone surrogate after Global\\', 'Global\\\uD800'],
  ];
  const cases = entryPoints.flatMap(([call, fn]) => refused.map(([what, value]) => [call, what, fn, value] as const));

  it.each(cases)('%s refuses %s with ERR_INVALID_ARG_VALUE', (_call, _what, fn, value) => {
    const err = errorOf(() => fn(value));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(err.message).toMatch(/^The argument 'name' /);
  });

  it.runIf(isLinux)('a name cut at U+0000 never creates the part before it', () => {
    const head = uniqueName('nul');
    expect(() => SharedMemory.open(`${head}\0b`)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(exists(shmPath(head))).toBe(false);
  });

  it.runIf(isLinux)('a name with a lone surrogate never creates its U+FFFD spelling', () => {
    const head = uniqueName('sur');
    expect(() => SharedMemory.open(`${head}\uD800`)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(exists(shmPath(`${head}\uFFFD`))).toBe(false);
    expect(fs.readdirSync('/dev/shm').some((entry) => entry.startsWith(head))).toBe(false);
  });

  it.runIf(isLinux)('a name with a slash inside never creates the part before it', () => {
    const head = uniqueName('slash');
    expect(() => SharedMemory.open(`${head}/b`)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(exists(shmPath(head))).toBe(false);
  });
});

describe('distinct names are distinct regions', () => {
  it("'Name' and 'name' are two regions: names are case-sensitive", () => {
    const base = uniqueName('case');
    const upper = track(SharedMemory.create(cleanedUp(`${base}-Name`)));
    const lower = track(SharedMemory.create(cleanedUp(`${base}-name`)));
    upper.writeString('upper');
    lower.writeString('lower');
    expect(upper.readString()).toBe('upper');
    expect(lower.readString()).toBe('lower');
  });

  it('NFC and NFD spellings of é are two regions: names are never normalised', () => {
    const base = uniqueName('norm');
    const nfc = `${base}-\u00e9`;
    const nfd = `${base}-e\u0301`;
    expect(nfc.normalize('NFD')).toBe(nfd);
    const composed = track(SharedMemory.create(cleanedUp(nfc)));
    const decomposed = track(SharedMemory.create(cleanedUp(nfd)));
    composed.writeString('composed');
    decomposed.writeString('decomposed');
    expect(composed.readString()).toBe('composed');
    expect(decomposed.readString()).toBe('decomposed');
    expect(composed.name).toBe(nfc);
    expect(decomposed.name).toBe(nfd);
  });

  it.runIf(isLinux)('NFC and NFD names are two objects in /dev/shm', () => {
    const base = uniqueName('norm');
    track(SharedMemory.create(cleanedUp(`${base}-\u00e9`)));
    track(SharedMemory.create(cleanedUp(`${base}-e\u0301`)));
    expect(exists(shmPath(`${base}-\u00e9`))).toBe(true);
    expect(exists(shmPath(`${base}-e\u0301`))).toBe(true);
  });
});

describe.runIf(isPosix)('Windows namespace prefixes on POSIX', () => {
  // POSIX has one namespace per machine: the prefix is stripped (documented in the README).
  it.each(['Global\\', 'Local\\'])('%sx is the same region as x', (prefix) => {
    const name = uniqueName('ns');
    const plain = openTracked(name);
    plain.writeString('one region');
    const prefixed = openTracked(`${prefix}${name}`);
    expect(prefixed.created).toBe(false);
    expect(prefixed.readString()).toBe('one region');
    expect(prefixed.name).toBe(`${prefix}${name}`);
  });

  it('Global\\x and Local\\x are the same region', () => {
    const name = uniqueName('ns');
    const global = openTracked(`Global\\${name}`);
    expect(global.created).toBe(true);
    global.writeString('both');
    const local = openTracked(`Local\\${name}`);
    expect(local.created).toBe(false);
    expect(local.readString()).toBe('both');
  });

  it('create(Global\\x) fails with EEXIST while x is held', () => {
    const name = uniqueName('ns');
    openTracked(name);
    expect(() => SharedMemory.create(`Global\\${name}`)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });

  it('unlink(Global\\x) removes x', () => {
    const name = uniqueName('ns');
    openTracked(name, { persist: true });
    SharedMemory.unlink(`Global\\${name}`);
    expect(() => SharedMemory.openExisting(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it.runIf(isLinux)('the prefix never reaches /dev/shm', () => {
    const name = uniqueName('ns');
    openTracked(`Global\\${name}`);
    expect(exists(shmPath(name))).toBe(true);
    expect(exists(shmPath(`Global\\${name}`))).toBe(false);
  });
});

describe.runIf(isLinux)('name length on Linux: 255 bytes of UTF-8 (NAME_MAX of /dev/shm)', () => {
  it('a name of 255 bytes opens', () => {
    const name = nameOfBytes(255);
    const region = openTracked(name);
    expect(region.created).toBe(true);
    expect(exists(shmPath(name))).toBe(true);
  });

  it('a name of 256 bytes fails with ENAMETOOLONG from shm_open and creates nothing', () => {
    const name = nameOfBytes(256);
    const err = errorOf(() => SharedMemory.open(name));
    expect(err).toMatchObject({
      code: 'ENAMETOOLONG',
      errno: -os.constants.errno.ENAMETOOLONG,
      syscall: 'shm_open',
      region: name,
      path: `/${name}`,
    });
    // Not even a shortened spelling of it.
    expect(fs.readdirSync('/dev/shm').some((entry) => entry.startsWith(name.slice(0, 40)))).toBe(false);
  });

  it('a name is counted in UTF-8 bytes: 255 bytes of é (under 255 units) opens', () => {
    const name = nameOfBytes(255, '\u00e9');
    expect(name.length).toBeLessThan(200);
    expect(openTracked(name).created).toBe(true);
  });

  it('a name is counted in UTF-8 bytes: 256 bytes of é (under 255 units) fails with ENAMETOOLONG', () => {
    const name = nameOfBytes(256, '\u00e9');
    expect(name.length).toBeLessThan(200);
    expect(() => SharedMemory.open(name)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG', syscall: 'shm_open' }));
  });

  it('an astral character counts 4 bytes', () => {
    const name = nameOfBytes(256, '\u{1F600}');
    expect(() => SharedMemory.open(name)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
  });

  it('a Global\\ prefix does not count: it is stripped before the OS sees the name', () => {
    const name = nameOfBytes(255);
    const region = openTracked(`Global\\${name}`);
    expect(region.created).toBe(true);
    expect(exists(shmPath(name))).toBe(true);
  });

  it('every entry point checks the length the same way', () => {
    const name = nameOfBytes(256);
    for (const [, fn] of entryPoints) {
      expect(() => fn(name)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG', syscall: 'shm_open' }));
    }
  });
});

describe.runIf(process.platform === 'darwin')('name length on macOS: 30 bytes (PSHMNAMLEN less the slash)', () => {
  it('a name of 30 bytes opens', () => {
    const name = `n${Date.now().toString(36)}${process.pid}`.padEnd(30, 'x');
    cleanedUp(name);
    expect(openTracked(name).created).toBe(true);
  });

  it('a name of 31 bytes fails with ENAMETOOLONG from shm_open', () => {
    const name = `n${Date.now().toString(36)}${process.pid}`.padEnd(31, 'x');
    expect(() => SharedMemory.open(name)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG', syscall: 'shm_open' }));
  });
});
