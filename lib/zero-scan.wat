;; The WebAssembly routines the string codec (lib/string-codec.ts, through lib/zero-scan.ts) uses to
;; find U+0000 in a region: SIMD, 64 bytes a turn, about 4x faster than TypedArray#indexOf
;; (figures: docs/BENCHMARKS.md).
;;
;; This text is the source. scripts/build-wasm.mjs assembles it with wabt (the npm package `wabt`,
;; SIMD enabled) into lib/zero-scan.wasm.ts, on `npm install`/`npm ci` (prepare), `npm run build`
;; and `npm run typecheck`; test/zero-scan-build.test.ts checks that the two agree.
;;
;; Every load and store is unaligned (align=1): the offsets the codec passes are only even.

(module
  (memory (export "memory") 1)

  ;; Byte offset of the first 16-bit zero in [$p, $end), both even, or $end.
  (func $zero16 (export "zero16") (param $p i32) (param $end i32) (result i32)
    (local $m i32) (local $e64 i32)
    (local.set $e64 (i32.sub (local.get $end) (i32.const 64)))
    (block $tail (loop $big                                    ;; 64 bytes a turn
      (br_if $tail (i32.gt_s (local.get $p) (local.get $e64)))
      (if (v128.any_true
            (v128.or
              (v128.or (i16x8.eq (v128.load offset=0 align=1 (local.get $p)) (v128.const i64x2 0 0))
                       (i16x8.eq (v128.load offset=16 align=1 (local.get $p)) (v128.const i64x2 0 0)))
              (v128.or (i16x8.eq (v128.load offset=32 align=1 (local.get $p)) (v128.const i64x2 0 0))
                       (i16x8.eq (v128.load offset=48 align=1 (local.get $p)) (v128.const i64x2 0 0)))))
        (then (br $tail)))
      (local.set $p (i32.add (local.get $p) (i32.const 64)))
      (br $big)))
    (block $small (loop $l16                                   ;; 16 bytes a turn
      (br_if $small (i32.gt_s (local.get $p) (i32.sub (local.get $end) (i32.const 16))))
      (local.set $m (i8x16.bitmask
        (i16x8.eq (v128.load offset=0 align=1 (local.get $p)) (v128.const i64x2 0 0))))
      (if (local.get $m) (then (return (i32.add (local.get $p) (i32.ctz (local.get $m))))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $l16)))
    (block $done (loop $l2                                     ;; the rest, a unit a turn
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (if (i32.eqz (i32.load16_u align=1 (local.get $p))) (then (return (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (br $l2)))
    (local.get $end))

  ;; The same search, narrowing the units before the zero to bytes at $dst while they are all at
  ;; most 0xFF: returns the zero's byte offset (or $end), plus 1 when all of them were narrowed.
  (func (export "scan") (param $p i32) (param $end i32) (param $dst i32) (result i32)
    (local $u i32) (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (block $wide
      (block $tail (loop $l64                                  ;; 64 bytes a turn, one test
        (br_if $tail (i32.gt_s (i32.add (local.get $p) (i32.const 64)) (local.get $end)))
        (local.set $a (v128.load offset=0 align=1 (local.get $p)))
        (local.set $b (v128.load offset=16 align=1 (local.get $p)))
        (local.set $c (v128.load offset=32 align=1 (local.get $p)))
        (local.set $d (v128.load offset=48 align=1 (local.get $p)))
        ;; leave for the unit loop when a unit is zero or above 0xFF (a high byte set)
        (br_if $tail (v128.any_true (v128.or
          (v128.or (v128.or (i16x8.eq (local.get $a) (v128.const i64x2 0 0))
                            (i16x8.eq (local.get $b) (v128.const i64x2 0 0)))
                   (v128.or (i16x8.eq (local.get $c) (v128.const i64x2 0 0))
                            (i16x8.eq (local.get $d) (v128.const i64x2 0 0))))
          (v128.and (v128.or (v128.or (local.get $a) (local.get $b))
                             (v128.or (local.get $c) (local.get $d)))
                    (v128.const i16x8 0xff00 0xff00 0xff00 0xff00 0xff00 0xff00 0xff00 0xff00)))))
        (v128.store offset=0 align=1 (local.get $dst) (i8x16.narrow_i16x8_u (local.get $a) (local.get $b)))
        (v128.store offset=16 align=1 (local.get $dst) (i8x16.narrow_i16x8_u (local.get $c) (local.get $d)))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $l64)))
      (loop $l2                                                ;; a zero or a wide unit is near
        (if (i32.ge_u (local.get $p) (local.get $end))
          (then (return (i32.or (local.get $p) (i32.const 1)))))
        (local.set $u (i32.load16_u align=1 (local.get $p)))
        (if (i32.eqz (local.get $u)) (then (return (i32.or (local.get $p) (i32.const 1)))))
        (br_if $wide (i32.gt_u (local.get $u) (i32.const 255)))
        (i32.store8 align=1 (local.get $dst) (local.get $u))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (br $l2)))
    (call $zero16 (local.get $p) (local.get $end)))            ;; a wide unit: only search on
)
