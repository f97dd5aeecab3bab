// Errors shaped like Node's own (lib/internal/errors.js): system errors carry `code`, a negative
// `errno` as Node reports it, `syscall` and `path`; argument errors carry Node's ERR_* codes.
import os from 'node:os';
import { getSystemErrorMap, inspect } from 'node:util';

// Codes libuv has no entry for, with their Linux numbers (<errno.h>) where os.constants lacks them.
const LINUX_ONLY: Record<string, number> = { EOWNERDEAD: 130, ENOTRECOVERABLE: 131 };

export interface SharedMemoryErrorFields {
  /** The region's name as the caller gave it. */
  region?: string;
  /** The name as the OS saw it (`/dllmemfilemap` on POSIX). */
  path?: string;
  /** The Win32 error number, on Windows. */
  winError?: number;
}

/** An OS failure, shaped like Node's `SystemError` (`fs`/`net` errors). */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  region?: string;
  winError?: number;
}

let errnoByCode: Map<string, { errno: number; message: string }> | undefined;

/** Node's errno and description for a code such as `ENOENT`, from libuv's table for this OS. */
function describe(code: string): { errno: number; message: string } | undefined {
  if (!errnoByCode) {
    errnoByCode = new Map();
    for (const [errno, [name, message]] of getSystemErrorMap()) errnoByCode.set(name, { errno, message });
  }
  const known = errnoByCode.get(code);
  if (known) return known;
  // Not a libuv error (EDEADLK, EOWNERDEAD): the OS's own number, negative as Node reports it.
  const errno = (os.constants.errno as Record<string, number>)[code] ?? (process.platform === 'linux' ? LINUX_ONLY[code] : undefined);
  return errno === undefined ? undefined : { errno: -errno, message: DESCRIPTIONS[code] ?? code };
}

const DESCRIPTIONS: Record<string, string> = {
  EDEADLK: 'resource deadlock avoided',
  EOWNERDEAD: 'owner died',
  ENOTRECOVERABLE: 'state not recoverable',
};

/** Node's code (`ENOENT`) for a positive C errno of this OS. */
export function codeForErrno(errno: number): string {
  // libuv reports POSIX errors as -errno, so its table is keyed by the negative number.
  const entry = getSystemErrorMap().get(-errno);
  if (entry) return entry[0];
  for (const [code, n] of Object.entries(os.constants.errno)) if (n === errno) return code;
  if (process.platform === 'linux') for (const [code, n] of Object.entries(LINUX_ONLY)) if (n === errno) return code;
  return `Unknown system error ${errno}`;
}

export function systemError(
  code: string,
  syscall: string,
  fields: SharedMemoryErrorFields = {},
  detail?: string,
): SystemError {
  const known = describe(code);
  const description = detail ?? known?.message ?? 'unknown error';
  const where = fields.path === undefined ? syscall : `${syscall} '${fields.path}'`;
  const err = new Error(`${code}: ${description}, ${where}`) as SystemError;
  err.code = code;
  err.errno = known ? known.errno : 0;
  err.syscall = syscall;
  if (fields.path !== undefined) err.path = fields.path;
  if (fields.region !== undefined) err.region = fields.region;
  if (fields.winError !== undefined) err.winError = fields.winError;
  Error.captureStackTrace(err, systemError);
  return err;
}

type ArgErrorCode = 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE';

export function withCode<E extends Error>(err: E, code: ArgErrorCode | string): E & { code: string } {
  const coded = err as E & { code: string };
  coded.code = code;
  // Node prints these as `TypeError [ERR_INVALID_ARG_TYPE]: ...` in the stack, and keeps `name`.
  Object.defineProperty(coded, 'name', { value: `${err.name} [${code}]`, configurable: true, writable: true });
  void coded.stack;
  delete (coded as { name?: string }).name;
  // As Node's own errors: `String(err)` is `TypeError [ERR_INVALID_ARG_TYPE]: ...` too.
  Object.defineProperty(coded, 'toString', {
    value(this: Error & { code: string }) {
      return `${this.name} [${this.code}]: ${this.message}`;
    },
    configurable: true,
    writable: true,
  });
  return coded;
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name;
    return ctor ? `an instance of ${ctor}` : 'an object';
  }
  if (typeof value === 'bigint') return `type bigint (${value}n)`;
  if (typeof value === 'symbol') return `type symbol (${String(value)})`;
  let shown = inspect(value);
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

export function invalidArgType(argName: string, expected: string, actual: unknown): TypeError & { code: string } {
  return withCode(
    new TypeError(`The "${argName}" argument must be ${expected}. Received ${describeValue(actual)}`),
    'ERR_INVALID_ARG_TYPE',
  );
}

export function invalidArgValue(argName: string, value: unknown, reason: string): TypeError & { code: string } {
  let shown = inspect(value);
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return withCode(new TypeError(`The argument '${argName}' ${reason}. Received ${shown}`), 'ERR_INVALID_ARG_VALUE');
}

export function outOfRange(argName: string, range: string, value: unknown): RangeError & { code: string } {
  const shown = typeof value === 'number' || typeof value === 'bigint' ? String(value) : describeValue(value);
  return withCode(
    new RangeError(`The value of "${argName}" is out of range. It must be ${range}. Received ${shown}`),
    'ERR_OUT_OF_RANGE',
  );
}

/** Use of a region (or of another object: `what`) after `close()`. */
export function closedError(region: string, what = 'Shared memory region'): Error & { code: string } {
  return withCode(new Error(`${what} '${region}' is closed`), 'ERR_SHM_CLOSED');
}

/** A write through a read-only mapping. */
export function readOnlyError(region: string): Error & { code: string } {
  return withCode(new Error(`Shared memory region '${region}' is mapped read-only`), 'ERR_SHM_READ_ONLY');
}

/** `1 UTF-16 unit`, `2 UTF-16 units`. */
export function unitCount(n: number): string {
  return `${n} UTF-16 ${n === 1 ? 'unit' : 'units'}`;
}

/** A string that does not fit, when the caller refused a cut. */
export function doesNotFit(units: number, capacity: number): RangeError & { code: string } {
  const room =
    capacity === 0
      ? 'the region has room for no unit, not even the terminating U+0000'
      : `the region holds ${unitCount(capacity - 1)} plus the terminating U+0000`;
  return withCode(
    new RangeError(`The string does not fit: it has ${unitCount(units)} and ${room}. Nothing was written`),
    'ERR_OUT_OF_RANGE',
  );
}

/** Use of a region whose view was moved out from under it (`ArrayBuffer.prototype.transfer`). */
export function detachedError(region: string): Error & { code: string } {
  return withCode(
    new Error(
      `Shared memory region '${region}' has lost its memory: its ArrayBuffer was transferred away. Close it and open it again`,
    ),
    'ERR_SHM_DETACHED',
  );
}

/** A transfer of the memory of a region, which would let it outlive the mapping. */
export function notTransferable(region: string): TypeError & { code: string } {
  return withCode(
    new TypeError(
      `The ArrayBuffer of shared memory region '${region}' cannot be transferred: it is the mapping itself. Copy it with slice() or region.read()`,
    ),
    'ERR_SHM_NOT_TRANSFERABLE',
  );
}
