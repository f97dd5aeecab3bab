// The C scalar types a layout may hold, with their size (x86-64 and arm64, Linux and Windows:
// every type's alignment is its size) and the checks a stored value must pass: koffi and DataView
// both wrap or round out-of-range numbers silently, so nothing unchecked reaches the mapping.
import { invalidArgType, outOfRange } from '../errors.js';

export type ScalarType =
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'float32' | 'float64' | 'bool';

export interface Scalar {
  readonly size: number;
  /** Reads the value at `at` (little-endian, the byte order of every OS this package supports). */
  get(view: DataView, at: number): number | bigint | boolean;
  set(view: DataView, at: number, value: never): void;
  /** The value as it will be stored, or an argument error naming `path`. */
  check(value: unknown, path: string): number | bigint | boolean;
}

// FLT_MAX <float.h>: larger finite numbers would become Infinity in a float32.
const FLT_MAX = 3.4028234663852886e38;

function integer(size: number, min: number, max: number, get: (v: DataView, at: number) => number, set: (v: DataView, at: number, x: number) => void): Scalar {
  return {
    size,
    get,
    set: set as Scalar['set'],
    check(value, path) {
      if (typeof value !== 'number') throw invalidArgType(path, 'of type number', value);
      if (!Number.isInteger(value) || value < min || value > max) throw outOfRange(path, `an integer >= ${min} and <= ${max}`, value);
      return value;
    },
  };
}

function bigInteger(min: bigint, max: bigint, get: (v: DataView, at: number) => bigint, set: (v: DataView, at: number, x: bigint) => void): Scalar {
  return {
    size: 8,
    get,
    set: set as Scalar['set'],
    check(value, path) {
      let big: bigint;
      if (typeof value === 'bigint') big = value;
      else if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value);
      else if (typeof value === 'number') throw outOfRange(path, `a bigint (or a safe integer) >= ${min} and <= ${max}`, value);
      else throw invalidArgType(path, 'of type bigint or number', value);
      if (big < min || big > max) throw outOfRange(path, `>= ${min} and <= ${max}`, big);
      return big;
    },
  };
}

export const SCALARS: Readonly<Record<ScalarType, Scalar>> = {
  int8: integer(1, -128, 127, (v, at) => v.getInt8(at), (v, at, x) => v.setInt8(at, x)),
  uint8: integer(1, 0, 255, (v, at) => v.getUint8(at), (v, at, x) => v.setUint8(at, x)),
  int16: integer(2, -32768, 32767, (v, at) => v.getInt16(at, true), (v, at, x) => v.setInt16(at, x, true)),
  uint16: integer(2, 0, 65535, (v, at) => v.getUint16(at, true), (v, at, x) => v.setUint16(at, x, true)),
  int32: integer(4, -2147483648, 2147483647, (v, at) => v.getInt32(at, true), (v, at, x) => v.setInt32(at, x, true)),
  uint32: integer(4, 0, 4294967295, (v, at) => v.getUint32(at, true), (v, at, x) => v.setUint32(at, x, true)),
  int64: bigInteger(-(2n ** 63n), 2n ** 63n - 1n, (v, at) => v.getBigInt64(at, true), (v, at, x) => v.setBigInt64(at, x, true)),
  uint64: bigInteger(0n, 2n ** 64n - 1n, (v, at) => v.getBigUint64(at, true), (v, at, x) => v.setBigUint64(at, x, true)),
  float32: {
    size: 4,
    get: (v, at) => v.getFloat32(at, true),
    set: ((v: DataView, at: number, x: number) => v.setFloat32(at, x, true)) as Scalar['set'],
    check(value, path) {
      if (typeof value !== 'number') throw invalidArgType(path, 'of type number', value);
      if (Number.isFinite(value) && Math.abs(value) > FLT_MAX) throw outOfRange(path, `a number a float32 holds (|x| <= ${FLT_MAX}), NaN or ±Infinity`, value);
      return value;
    },
  },
  float64: {
    size: 8,
    get: (v, at) => v.getFloat64(at, true),
    set: ((v: DataView, at: number, x: number) => v.setFloat64(at, x, true)) as Scalar['set'],
    check(value, path) {
      if (typeof value !== 'number') throw invalidArgType(path, 'of type number', value);
      return value;
    },
  },
  // C's bool (<stdbool.h>, _Bool): one byte, any non-zero byte reads as true.
  bool: {
    size: 1,
    get: (v, at) => v.getUint8(at) !== 0,
    set: ((v: DataView, at: number, x: boolean) => v.setUint8(at, x ? 1 : 0)) as Scalar['set'],
    check(value, path) {
      if (typeof value !== 'boolean') throw invalidArgType(path, 'of type boolean', value);
      return value;
    },
  },
};

export function isScalarType(name: string): name is ScalarType {
  return Object.hasOwn(SCALARS, name);
}
