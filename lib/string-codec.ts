// The sample's string contract on a mapped view: a UTF-16LE string at byte 0 ended by U+0000,
// no header. Everything here runs in JavaScript on the view: no FFI call per operation.
import { doesNotFit, invalidArgType, invalidArgValue } from './errors.js';

/** Units a region of `byteLength` bytes holds; an odd last byte is never used. */
export function capacityOf(byteLength: number): number {
  return Math.floor(byteLength / 2);
}

/**
 * Stores the units of `text` up to its first U+0000, at most `capacity - 1` of them, then U+0000,
 * and returns how many units it stored. At capacity 0 it stores nothing, not even the terminator.
 * A cut is per unit, as in the original's loop: it can split a surrogate pair, and the returned
 * count shows it. With `strict`, a string that would lose anything throws and nothing is written.
 * Bytes after the terminator are left as they were, as the original leaves them.
 */
export function writeUnits(buf: Buffer, text: unknown, strict: boolean): number {
  if (typeof text !== 'string') throw invalidArgType('text', 'of type string', text);
  const capacity = capacityOf(buf.length);
  let units = text.indexOf('\0');
  if (units < 0) units = text.length;
  if (strict) {
    if (units < text.length) {
      throw invalidArgValue('text', text, `contains U+0000 at index ${units}, so only ${units} units would be stored`);
    }
    if (units > capacity - 1) throw doesNotFit(units, capacity);
  }
  if (capacity === 0) return 0;
  const count = Math.min(units, capacity - 1);
  if (count > 0) buf.write(text, 0, count * 2, 'utf16le');
  buf[count * 2] = 0;
  buf[count * 2 + 1] = 0;
  return count;
}

/**
 * Reads at most `limit - 1` units (the original's `cchSize` counts the terminator), stopping at
 * the first U+0000 and at the end of the region. Lone surrogates come back as they were stored.
 */
export function readUnits(buf: Buffer, units: Uint16Array, limit: number): string {
  const max = Math.min(limit - 1, units.length);
  let end = units.indexOf(0);
  if (end < 0 || end > max) end = max;
  return end === 0 ? '' : buf.toString('utf16le', 0, end * 2);
}
