// The WebAssembly routines the string codec uses to find U+0000 in a region: SIMD, 64 bytes a
// turn, about 4x faster than TypedArray#indexOf (figures: docs/BENCHMARKS.md). Their source is
// lib/zero-scan.wat; scripts/build-wasm.mjs assembles it with wabt into lib/zero-scan.wasm.ts
// (at build time, and on npm ci/install), so nothing is compiled or downloaded when users install.
//   zero16(p, end)      byte offset of the first 16-bit zero in [p, end), both even; or end
//   scan(p, end, dst)   the same, narrowing the units before the zero to bytes at dst while all
//                       are <= 0xFF: the zero's offset (or end), plus 1 when all were narrowed

import { WASM } from './zero-scan.wasm.js';

export interface Scanner {
  /** Byte offset of the first 16-bit zero in wasm memory [start, end), both even; or end. */
  zero16(start: number, end: number): number;
  /**
   * zero16, narrowing the units before the zero to bytes at `dst` while all are <= 0xFF: the
   * zero's byte offset (or end), plus 1 when every one of them was narrowed.
   */
  scan(start: number, end: number, dst: number): number;
  /** The routine's memory, as units and as a Buffer (64 KiB: WINDOW units fit many times). */
  units: Uint16Array;
  buf: Buffer;
}

/** The part of the WebAssembly API used here (the project's TypeScript libs declare no DOM). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
}

function makeScanner(): Scanner | undefined {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  try {
    if (typeof wasm !== 'object' || !wasm.validate(WASM)) return undefined;
    const exports = new wasm.Instance(new wasm.Module(WASM)).exports as {
      zero16(start: number, end: number): number;
      scan(start: number, end: number, dst: number): number;
      memory: { buffer: ArrayBuffer };
    };
    const memory = exports.memory.buffer;
    return { zero16: exports.zero16, scan: exports.scan, units: new Uint16Array(memory), buf: Buffer.from(memory) };
  } catch {
    return undefined; // no WebAssembly (node --jitless) or no SIMD: the JavaScript paths do it all
  }
}
export const scanner = makeScanner();
