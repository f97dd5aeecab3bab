// FFI only to open, map and close (issue 5's design rule): every writeString, readString and
// bytes access works on the mapped view in JavaScript. This file counts every call into koffi —
// each function a library bound through koffi.load, and koffi's own functions (view, errno,
// decode, encode, ...) — and every call into the region the backend handed over, and fails if a
// read or a write makes one. The counting wraps koffi before the package is loaded again for
// this file alone; the calls still go through to the OS.
import koffi from 'koffi';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { skipUnder } from './runtimes/gates.js';

type Lib = typeof import('../lib/index.js');

const koffiObject = koffi as unknown as Record<string, unknown>;
const saved = new Map<string, unknown>();
let ffiCalls = 0;
let backendCalls = 0;
const seen = new Set<string>();

/** A function that counts, then calls `fn` as it was called (`new` included). */
function counting<F extends (...args: never[]) => unknown>(name: string, fn: F): F {
  const wrapped = function (this: unknown, ...args: unknown[]) {
    ffiCalls++;
    seen.add(name);
    return new.target ? Reflect.construct(fn, args) : Reflect.apply(fn, this, args);
  };
  Object.defineProperties(wrapped, Object.getOwnPropertyDescriptors(fn));
  return wrapped as unknown as F;
}

let lib: Lib;

// Under Bun, koffi's functions have non-configurable own properties that the counting wrapper cannot copy.
const noWrap = skipUnder(['bun'], 'codec-no-ffi.test.ts: Bun 1.4.4 gives koffi’s native functions own properties that cannot be redefined, so the call-counting wrapper cannot be made');

beforeAll(async () => {
  if (noWrap) return;
  for (const [key, value] of Object.entries(koffiObject)) {
    if (typeof value !== 'function' || key === 'LibraryHandle' || key === 'TypeObject' || key === 'Union') continue;
    saved.set(key, value);
    if (key === 'load') {
      const load = value as (...args: unknown[]) => { func(...a: unknown[]): unknown };
      koffiObject.load = counting('load', (...args: unknown[]) => {
        const library = load(...args);
        return new Proxy(library, {
          get(target, property) {
            const member = Reflect.get(target, property) as unknown;
            if (typeof member !== 'function') return member;
            if (property !== 'func') return (member as (...a: unknown[]) => unknown).bind(target);
            return (...declaration: unknown[]) => {
              const bound = (member as (...a: unknown[]) => (...c: unknown[]) => unknown).apply(target, declaration);
              return counting(`func ${String(declaration[0]).slice(0, 40)}`, bound);
            };
          },
        });
      });
    } else {
      koffiObject[key] = counting(key, value as (...args: never[]) => unknown);
    }
  }
  // A fresh copy of the package, whose backend binds its functions through the counting load.
  vi.resetModules();
  const backendModule = await import('../lib/region/os-backend.js');
  const backend = backendModule.backend as unknown as Record<string, (...args: unknown[]) => unknown>;
  const open = backend.open!.bind(backend);
  backend.open = (...args: unknown[]) => {
    const native = open(...args) as Record<string, unknown>;
    for (const method of ['release', 'unmap', 'retire']) {
      const fn = native[method] as (...a: unknown[]) => unknown;
      native[method] = (...a: unknown[]) => {
        backendCalls++;
        return fn(...a);
      };
    }
    return native;
  };
  lib = await import('../lib/index.js');
});

afterAll(() => {
  if (noWrap) return;
  for (const [key, value] of saved) koffiObject[key] = value;
  vi.resetModules();
});

/** Counts of FFI and backend calls made by `fn`, with the names of the koffi functions called. */
function callsDuring(fn: () => void): { ffi: number; backend: number; names: string[] } {
  const ffi0 = ffiCalls;
  const backend0 = backendCalls;
  seen.clear();
  fn();
  return { ffi: ffiCalls - ffi0, backend: backendCalls - backend0, names: [...seen] };
}

const LATIN1 = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(0x20 + (i % 0xdf))).join('');
const OTHER = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(0x400 + (i % 0x3000))).join('');
const NAME = `nshm-noffi-${process.pid}`;

describe.skipIf(noWrap)('no FFI call per operation', () => {
  it('the counting sees the calls that open and close make (so zero below means zero)', () => {
    let region: import('../lib/index.js').SharedMemory | undefined;
    const opening = callsDuring(() => {
      region = lib.SharedMemory.open(NAME, { size: 4096 });
    });
    expect(opening.ffi).toBeGreaterThan(0);
    const closing = callsDuring(() => region!.close());
    expect(closing.ffi + closing.backend).toBeGreaterThan(0);
  });

  it.each([
    ['a 4 KiB region', 4096],
    ['a 1 MiB region', 1024 * 1024],
  ])('writeString, readString and bytes on %s call neither koffi nor the backend', (_label, size) => {
    const region = lib.SharedMemory.open(`${NAME}-${size}`, { size });
    const reader = lib.SharedMemory.openExisting(`${NAME}-${size}`, { access: 'readonly' });
    try {
      const texts = ['', 'This is a test string', 'a\uD800b', LATIN1, OTHER, LATIN1.repeat(200), OTHER.repeat(200), 'x\0y'];
      const during = callsDuring(() => {
        for (let round = 0; round < 50; round++) {
          for (const text of texts) {
            region.writeString(text);
            region.readString();
            region.readString(8);
            region.readString(260);
            reader.readString();
            try {
              region.writeString(text, { strict: true });
            } catch {
              // too long, or holds U+0000: the strict refusal is part of the path
            }
          }
          region.bytes[round] = round;
          region.bytes.set([1, 2, 3], 100);
          void reader.bytes[round];
          void region.size;
          void region.capacity;
          void region.closed;
        }
      });
      expect(during).toEqual({ ffi: 0, backend: 0, names: [] });
    } finally {
      reader.close();
      region.close();
    }
  });
});
