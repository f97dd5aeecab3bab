// The WebAssembly routines the string codec uses to find U+0000 in a region: SIMD, 64 bytes a
// turn, about 4x faster than TypedArray#indexOf (figures: docs/BENCHMARKS.md). Built from bytes
// in this file, so nothing is compiled or downloaded at install time.

// ---- Two WebAssembly routines: find a 16-bit zero; find it while narrowing units to bytes -----
//
// (module
//   (memory (export "memory") 1)
//   ;; Byte offset of the first 16-bit zero in [$p, $end), both even, or $end.
//   (func $zero16 (export "zero16") (param $p i32) (param $end i32) (result i32)
//     (local $m i32) (local $e64 i32)
//     (local.set $e64 (i32.sub (local.get $end) (i32.const 64)))
//     (block $tail (loop $big                                  ;; 64 bytes a turn
//       (br_if $tail (i32.gt_s (local.get $p) (local.get $e64)))
//       (if (v128.any_true (v128.or (v128.or (i16x8.eq (v128.load offset=0 (local.get $p)) ZERO)
//                                            (i16x8.eq (v128.load offset=16 (local.get $p)) ZERO))
//                                   (v128.or (i16x8.eq (v128.load offset=32 (local.get $p)) ZERO)
//                                            (i16x8.eq (v128.load offset=48 (local.get $p)) ZERO))))
//         (then (br $tail)))
//       (local.set $p (i32.add (local.get $p) (i32.const 64)))
//       (br $big)))
//     (block $small (loop $l16                                 ;; 16 bytes a turn
//       (br_if $small (i32.gt_s (local.get $p) (i32.sub (local.get $end) (i32.const 16))))
//       (local.set $m (i8x16.bitmask (i16x8.eq (v128.load (local.get $p)) ZERO)))
//       (if (local.get $m) (then (return (i32.add (local.get $p) (i32.ctz (local.get $m))))))
//       (local.set $p (i32.add (local.get $p) (i32.const 16)))
//       (br $l16)))
//     (block $done (loop $l2                                   ;; the rest, a unit a turn
//       (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
//       (if (i32.eqz (i32.load16_u (local.get $p))) (then (return (local.get $p))))
//       (local.set $p (i32.add (local.get $p) (i32.const 2)))
//       (br $l2)))
//     (local.get $end))
//   ;; The same search, narrowing the units before the zero to bytes at $dst while they are all at
//   ;; most 0xFF: returns the zero's byte offset (or $end), plus 1 when all of them were narrowed.
//   (func (export "scan") (param $p i32) (param $end i32) (param $dst i32) (result i32)
//     (local $u i32) (local $a v128) (local $b v128) (local $c v128) (local $d v128)
//     (block $wide
//       (block $tail (loop $l64                                ;; 64 bytes a turn, one test
//         (br_if $tail (i32.gt_s (i32.add (local.get $p) (i32.const 64)) (local.get $end)))
//         (local.set $a (v128.load (local.get $p)))
//         (local.set $b (v128.load offset=16 (local.get $p)))
//         (local.set $c (v128.load offset=32 (local.get $p)))
//         (local.set $d (v128.load offset=48 (local.get $p)))
//         (br_if $tail (v128.any_true (v128.or
//           (v128.or (v128.or (i16x8.eq (local.get $a) ZERO) (i16x8.eq (local.get $b) ZERO))
//                    (v128.or (i16x8.eq (local.get $c) ZERO) (i16x8.eq (local.get $d) ZERO)))
//           (v128.and (v128.or (v128.or (local.get $a) (local.get $b))
//                              (v128.or (local.get $c) (local.get $d))) HIGH_BYTES))))
//         (v128.store (local.get $dst) (i8x16.narrow_i16x8_u (local.get $a) (local.get $b)))
//         (v128.store offset=16 (local.get $dst) (i8x16.narrow_i16x8_u (local.get $c) (local.get $d)))
//         (local.set $p (i32.add (local.get $p) (i32.const 64)))
//         (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
//         (br $l64)))
//       (loop $l2                                              ;; a zero or a wide unit is near
//         (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.or (local.get $p) (i32.const 1)))))
//         (local.set $u (i32.load16_u (local.get $p)))
//         (if (i32.eqz (local.get $u)) (then (return (i32.or (local.get $p) (i32.const 1)))))
//         (br_if $wide (i32.gt_u (local.get $u) (i32.const 255)))
//         (i32.store8 (local.get $dst) (local.get $u))
//         (local.set $p (i32.add (local.get $p) (i32.const 2)))
//         (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
//         (br $l2)))
//     (call $zero16 (local.get $p) (local.get $end))))          ;; a wide unit: only search on
// ZERO is (v128.const i64x2 0 0), HIGH_BYTES (v128.const i16x8 0xff00 ...x8). Every load and store
// is unaligned (align=1). The bytes below are that module, assembled by hand; wabt's wat2wasm
// gives the same bytes.

const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, VOID = 0x40, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, RETURN = 0x0f;
const CALL = 0x10, GET = 0x20, SET = 0x21, I32_LOAD16_U = 0x2f, I32_STORE8 = 0x3a, I32_CONST = 0x41;
const I32_EQZ = 0x45, I32_GT_S = 0x4a, I32_GT_U = 0x4b, I32_GE_U = 0x4f, I32_CTZ = 0x68, I32_ADD = 0x6a;
const I32_SUB = 0x6b, I32_OR = 0x72, I32 = 0x7f, V128 = 0x7b;
const SIMD = 0xfd, V128_LOAD = 0x00, V128_STORE = 0x0b, V128_CONST = 0x0c, I16X8_EQ = 0x2d, V128_AND = 0x4e;
const V128_OR = 0x50, V128_ANY_TRUE = 0x53, I8X16_BITMASK = 0x64, I8X16_NARROW_I16X8_U = 0x66;
const ZERO = [SIMD, V128_CONST, ...new Array<number>(16).fill(0)];
const HIGH_BYTES = [SIMD, V128_CONST, ...Array.from({ length: 16 }, (_, i) => (i % 2 === 1 ? 0xff : 0x00))];
const SIXTY_FOUR = [I32_CONST, 0xc0, 0x00]; // i32.const 64, as a signed LEB128

const P = 0, END_ = 1, M = 2, E64 = 3; // zero16's locals: the two parameters, then $m and $e64
/** v128.load at $p + offset (alignment hint 1), compared lane by lane with zero. */
const eqZeroAt = (offset: number) => [GET, P, SIMD, V128_LOAD, 0, offset, ...ZERO, SIMD, I16X8_EQ];
const zero16 = [
  1, 2, I32, // locals: one run of 2 x i32 ($m, $e64)
  GET, END_, ...SIXTY_FOUR, I32_SUB, SET, E64,
  BLOCK, VOID, LOOP, VOID,
  GET, P, GET, E64, I32_GT_S, BR_IF, 1,
  ...eqZeroAt(0), ...eqZeroAt(16), SIMD, V128_OR, ...eqZeroAt(32), ...eqZeroAt(48), SIMD, V128_OR, SIMD, V128_OR,
  SIMD, V128_ANY_TRUE, IF, VOID, BR, 2, END,
  GET, P, ...SIXTY_FOUR, I32_ADD, SET, P, BR, 0,
  END, END,
  BLOCK, VOID, LOOP, VOID,
  GET, P, GET, END_, I32_CONST, 16, I32_SUB, I32_GT_S, BR_IF, 1,
  ...eqZeroAt(0), SIMD, I8X16_BITMASK, SET, M,
  GET, M, IF, VOID, GET, P, GET, M, I32_CTZ, I32_ADD, RETURN, END,
  GET, P, I32_CONST, 16, I32_ADD, SET, P, BR, 0,
  END, END,
  BLOCK, VOID, LOOP, VOID,
  GET, P, GET, END_, I32_GE_U, BR_IF, 1,
  GET, P, I32_LOAD16_U, 0, 0, I32_EQZ, IF, VOID, GET, P, RETURN, END,
  GET, P, I32_CONST, 2, I32_ADD, SET, P, BR, 0,
  END, END,
  GET, END_,
  END,
];

const DST = 2, U = 3, A = 4, B = 5, C = 6, D = 7; // scan's locals after $p and $end
const load = (offset: number, local: number) => [GET, P, SIMD, V128_LOAD, 0, offset, SET, local];
const eqZero = (local: number) => [GET, local, ...ZERO, SIMD, I16X8_EQ];
const scan = [
  2, 1, I32, 4, V128, // locals: $u, then 4 x v128 ($a, $b, $c, $d)
  BLOCK, VOID, BLOCK, VOID, LOOP, VOID,
  GET, P, ...SIXTY_FOUR, I32_ADD, GET, END_, I32_GT_S, BR_IF, 1,
  ...load(0, A), ...load(16, B), ...load(32, C), ...load(48, D),
  ...eqZero(A), ...eqZero(B), SIMD, V128_OR, ...eqZero(C), ...eqZero(D), SIMD, V128_OR, SIMD, V128_OR,
  GET, A, GET, B, SIMD, V128_OR, GET, C, GET, D, SIMD, V128_OR, SIMD, V128_OR,
  ...HIGH_BYTES, SIMD, V128_AND, SIMD, V128_OR, SIMD, V128_ANY_TRUE, BR_IF, 1,
  GET, DST, GET, A, GET, B, SIMD, I8X16_NARROW_I16X8_U, SIMD, V128_STORE, 0, 0,
  GET, DST, GET, C, GET, D, SIMD, I8X16_NARROW_I16X8_U, SIMD, V128_STORE, 0, 16,
  GET, P, ...SIXTY_FOUR, I32_ADD, SET, P,
  GET, DST, I32_CONST, 32, I32_ADD, SET, DST, BR, 0,
  END, END,
  LOOP, VOID,
  GET, P, GET, END_, I32_GE_U, IF, VOID, GET, P, I32_CONST, 1, I32_OR, RETURN, END,
  GET, P, I32_LOAD16_U, 0, 0, SET, U,
  GET, U, I32_EQZ, IF, VOID, GET, P, I32_CONST, 1, I32_OR, RETURN, END,
  GET, U, I32_CONST, 0xff, 0x01, I32_GT_U, BR_IF, 1,
  GET, DST, GET, U, I32_STORE8, 0, 0,
  GET, P, I32_CONST, 2, I32_ADD, SET, P,
  GET, DST, I32_CONST, 1, I32_ADD, SET, DST, BR, 0,
  END, END,
  GET, P, GET, END_, CALL, 0,
  END,
];

/** Unsigned LEB128, as section and body sizes are written. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n === 0 ? byte : byte | 0x80);
  } while (n !== 0);
  return out;
}
const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
const WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
  // two types: (i32, i32) -> i32 and (i32, i32, i32) -> i32
  ...section(1, [2, 0x60, 2, I32, I32, 1, I32, 0x60, 3, I32, I32, I32, 1, I32]),
  ...section(3, [2, 0, 1]), // two functions, of those types
  ...section(5, [1, 0x00, 1]), // one memory: 1 page (64 KiB), no maximum
  ...section(7, [3, ...name('memory'), 0x02, 0, ...name('zero16'), 0x00, 0, ...name('scan'), 0x00, 1]),
  ...section(10, [2, ...leb(zero16.length), ...zero16, ...leb(scan.length), ...scan]),
]);

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
