// Argument checks that run before any OS call: koffi coerces bad numbers silently (-1 becomes
// 2^64-1, NaN 0, 1.5 1) and encodes names holding U+0000 or lone surrogates into other names,
// so nothing unchecked may reach a backend.
import { constants as bufferConstants } from 'node:buffer';
import { invalidArgType, invalidArgValue, outOfRange } from './errors.js';

/** The Windows namespace prefixes a name may start with; they select the kernel namespace there. */
export const NAMESPACE_PREFIXES = ['Global\\', 'Local\\'] as const;

/** The largest region a JavaScript view can cover on this Node. */
export const MAX_SIZE = Math.min(bufferConstants.MAX_LENGTH, Number.MAX_SAFE_INTEGER);

export interface ParsedName {
  /** The name as the caller gave it. */
  full: string;
  /** `Global\` or `Local\`, or '' when none was given. */
  prefix: string;
  /** The name without its prefix. */
  base: string;
}

/** Splits off a `Global\`/`Local\` prefix and checks what is left: the rules are the same on every OS. */
export function parseName(name: unknown, argName = 'name'): ParsedName {
  if (typeof name !== 'string') throw invalidArgType(argName, 'of type string', name);
  if (name === '') throw invalidArgValue(argName, name, 'must not be empty');
  const prefix = NAMESPACE_PREFIXES.find((p) => name.startsWith(p)) ?? '';
  const base = name.slice(prefix.length);
  if (base === '') throw invalidArgValue(argName, name, `must have a name after '${prefix}'`);
  if (base.includes('\0')) throw invalidArgValue(argName, name, 'must not contain U+0000 (NUL)');
  if (base.includes('/')) throw invalidArgValue(argName, name, "must not contain '/'");
  if (base.includes('\\')) {
    throw invalidArgValue(argName, name, "must not contain '\\' other than a leading 'Global\\' or 'Local\\'");
  }
  if (base === '.' || base === '..') throw invalidArgValue(argName, name, "must not be '.' or '..'");
  if (!name.isWellFormed()) throw invalidArgValue(argName, name, 'must not contain lone surrogates');
  return { full: name, prefix, base };
}

/** A region size in bytes: a positive safe integer no larger than a view can cover. */
export function checkSize(size: unknown, argName = 'options.size'): number {
  if (typeof size !== 'number') throw invalidArgType(argName, 'of type number', size);
  if (!Number.isInteger(size) || size < 1 || size > MAX_SIZE) {
    throw outOfRange(argName, `an integer >= 1 and <= ${MAX_SIZE}`, size);
  }
  return size;
}

/** `readString`'s limit: the original's `cchSize`, at least 1 (it counts the terminating U+0000). */
export function checkLimit(limit: unknown, argName = 'limit'): number {
  if (typeof limit !== 'number') throw invalidArgType(argName, 'of type number', limit);
  if (limit === Infinity) return limit;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw outOfRange(argName, 'an integer >= 1 (it counts the terminating U+0000), or Infinity', limit);
  }
  return limit;
}

/** POSIX permission bits for a new object: 0 to 0o777. */
export function checkMode(mode: unknown, argName = 'options.mode'): number {
  if (typeof mode !== 'number') throw invalidArgType(argName, 'of type number', mode);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw outOfRange(argName, 'an integer from 0 to 0o777 (permission bits)', mode);
  }
  return mode;
}

/** POSIX permission bits of a new object (region, event, mutex, channel): owner only (0o600) unless given. */
export function modeOrOwnerOnly(mode: unknown, argName = 'options.mode'): number {
  return mode === undefined ? 0o600 : checkMode(mode, argName);
}

/** Windows: an SDDL string for a new object's security descriptor, or undefined for the default. */
export function checkSecurityDescriptor(value: unknown, argName = 'options.securityDescriptor'): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw invalidArgType(argName, 'of type string', value);
  return value;
}

export function checkBoolean(value: unknown, argName: string): boolean {
  if (typeof value !== 'boolean') throw invalidArgType(argName, 'of type boolean', value);
  return value;
}

/**
 * An options object (or undefined). With `known`, a key outside it is an error rather than
 * silently ignored: `{ sise: 100 }` would otherwise create a region of the default size.
 */
export function checkOptionsObject(options: unknown, argName = 'options', known?: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgType(argName, 'of type object', options);
  }
  if (known) {
    for (const key of Object.keys(options)) {
      if (!known.includes(key)) {
        throw invalidArgValue(`${argName}.${key}`, (options as Record<string, unknown>)[key], `is not an option here (known: ${known.join(', ')})`);
      }
    }
  }
  return options as Record<string, unknown>;
}

/** A byte offset into a region of `size` bytes: an integer from 0 to `size`. */
export function checkOffset(offset: unknown, size: number, argName = 'offset'): number {
  if (typeof offset !== 'number') throw invalidArgType(argName, 'of type number', offset);
  if (!Number.isInteger(offset) || offset < 0 || offset > size) throw outOfRange(argName, `an integer >= 0 and <= ${size}`, offset);
  return offset;
}
