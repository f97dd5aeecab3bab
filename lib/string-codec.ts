// The sample's string contract on a mapped view: a UTF-16LE string at byte 0 ended by U+0000,
// no header. Everything here runs in JavaScript on the view: no FFI call per operation.
//
// How it is fast (figures and the benchmark: docs/BENCHMARKS.md, test/bench/):
// - Short strings: a charCodeAt loop into a Uint16Array writes them, and one String.fromCharCode
//   call with the units as arguments reads them. Both beat a call into Node's buffer binding,
//   which costs ~50 ns whatever the length.
// - Long strings are written by Buffer's ucs2Write (what buf.write(..., 'utf16le') calls), which
//   copies units verbatim, lone surrogates included.
// - Looking for U+0000 in the region: a JavaScript loop over a short prefix, then a WebAssembly
//   routine that tests 64 bytes a turn with SIMD on a copy of the region (4 KiB at a time): about
//   4x faster than TypedArray#indexOf, which runs in C++ a unit at a time. Where WebAssembly is
//   missing (node --jitless), indexOf does it, over windows, so that a small limit never makes
//   it search a large region.
// - A long read is made from that copy. The same pass narrows the units to bytes while every one
//   is at most U+00FF, and then Buffer's latin1Slice makes the string: V8 copies bytes as they
//   are, where from UTF-16 (ucs2Slice) it checks and narrows each unit itself, twice as slowly.
//   Otherwise ucs2Slice, which keeps lone surrogates. TextDecoder('utf-16le') is never used: it
//   is slower and turns lone surrogates into U+FFFD.
// - The text's own U+0000 is found with String#indexOf, which is memchr-fast on V8's one-byte
//   strings but takes ~0.5 ns a unit on two-byte ones; a long text that holds a unit above
//   U+00FF is copied to WebAssembly memory and scanned there instead.
// - Nothing is allocated per call but the string a read returns: every view is made once.
import { doesNotFit, invalidArgType, invalidArgValue } from './errors.js';
import { scanner, type Scanner } from './zero-scan.js';

/** Units a region of `byteLength` bytes holds; an odd last byte is never used. */
export function capacityOf(byteLength: number): number {
  return Math.floor(byteLength / 2);
}

type Ucs2Buffer = Buffer & {
  ucs2Write?(text: string, offset: number, length: number): number;
  ucs2Slice?(start: number, end: number): string;
  latin1Slice?(start: number, end: number): string;
};

const proto = Buffer.prototype as Ucs2Buffer;
// What buf.write(text, o, n, 'utf16le') and buf.toString('utf16le', s, e) call, without their
// argument parsing; the public calls where a Node lacks them.
const ucs2Write: (this: Buffer, text: string, offset: number, length: number) => number =
  typeof proto.ucs2Write === 'function'
    ? proto.ucs2Write
    : function (this: Buffer, text, offset, length) {
        return this.write(text, offset, length, 'utf16le');
      };
const ucs2Slice: (this: Buffer, start: number, end: number) => string =
  typeof proto.ucs2Slice === 'function'
    ? proto.ucs2Slice
    : function (this: Buffer, start, end) {
        return this.toString('utf16le', start, end);
      };
const latin1Slice: (this: Buffer, start: number, end: number) => string =
  typeof proto.latin1Slice === 'function'
    ? proto.latin1Slice
    : function (this: Buffer, start, end) {
        return this.toString('latin1', start, end);
      };
const fromCharCode = String.fromCharCode;

/** Up to this many units, a charCodeAt loop beats a call into the buffer binding. */
const SHORT_WRITE = 32;
/** Units looked at one by one before a faster search takes over. */
const PREFIX = 32;
/** Up to this many units, a read looks for U+0000 one unit at a time. */
const SHORT_SCAN = 128;
/** Units of the region copied and searched at a time. */
const WINDOW = 2048;
/** Units of a region copied to their own place in WebAssembly memory (its first 32 KiB). */
const COPY_UNITS = 16384;
/** Where scan() narrows a string to bytes (at most COPY_UNITS of them). */
const NARROW_AT = 2 * COPY_UNITS;
/** Where windows past COPY_UNITS are copied, in units: after the narrowed bytes. */
const SPARE_AT = (NARROW_AT + COPY_UNITS) / 2;
/** Up to this many units, one String.fromCharCode call builds a string fastest. */
const SHORT_READ = 40;
/** Below this, String#indexOf is fast enough on any text. */
const LONG_TEXT = 256;

/** Whether the WebAssembly scan is in use (it is not under node --jitless, or without SIMD). */
export const accelerated: boolean = scanner !== undefined;
/** Units of a text scanned in WebAssembly memory at most: the memory's 64 KiB. */
const MAX_TEXT_SCAN = scanner ? scanner.units.length : 0;

// ---- Views, made once per buffer or region --------------------------------------------------

/** A Uint16Array over the same bytes as `buf`, for callers that pass none. */
const unitViews = new WeakMap<Buffer, Uint16Array>();
function unitsOf(buf: Buffer): Uint16Array | undefined {
  if (buf.byteOffset % 2 !== 0) return undefined;
  let units = unitViews.get(buf);
  if (units === undefined) {
    units = new Uint16Array(buf.buffer, buf.byteOffset, capacityOf(buf.length));
    unitViews.set(buf, units);
  }
  return units;
}

/** Windows of WINDOW units over a region larger than one window. */
const windowViews = new WeakMap<Uint16Array, Uint16Array[]>();
function windowsOf(units: Uint16Array): Uint16Array[] {
  let windows = windowViews.get(units);
  if (windows === undefined) {
    windows = [];
    for (let start = 0; start < units.length; start += WINDOW) {
      windows.push(units.subarray(start, Math.min(start + WINDOW, units.length)));
    }
    windowViews.set(units, windows);
  }
  return windows;
}

// ---- Writing --------------------------------------------------------------------------------

/** The index of the text's first U+0000, or its length. */
function textZero(text: string): number {
  const length = text.length;
  if (
    scanner !== undefined &&
    length >= LONG_TEXT &&
    length <= MAX_TEXT_SCAN &&
    // A unit above U+00FF means V8 keeps the text two-byte, where String#indexOf is slow.
    (text.charCodeAt(0) > 0xff || text.charCodeAt(length >> 1) > 0xff || text.charCodeAt(length - 1) > 0xff)
  ) {
    ucs2Write.call(scanner.buf, text, 0, length * 2);
    return scanner.zero16(0, length * 2) >> 1;
  }
  const at = text.indexOf('\0');
  return at < 0 ? length : at;
}

/**
 * Stores the units of `text` up to its first U+0000, at most `capacity - 1` of them, then U+0000,
 * and returns how many units it stored. At capacity 0 it stores nothing, not even the terminator.
 * A cut is per unit, as in the original's loop: it can split a surrogate pair, and the returned
 * count shows it. With `strict`, a string that would lose anything throws and nothing is written.
 * Bytes after the terminator are left as they were, as the original leaves them.
 * `units`, when given, is a Uint16Array over the same bytes as `buf` (the core keeps one).
 */
export function writeUnits(buf: Buffer, text: unknown, strict: boolean, units?: Uint16Array): number {
  if (typeof text !== 'string') throw invalidArgType('text', 'of type string', text);
  const capacity = capacityOf(buf.length);
  const length = text.length;
  const u = units ?? unitsOf(buf);
  if (!strict && length <= SHORT_WRITE && u !== undefined && capacity > length) {
    // Copies up to the first U+0000 in one pass: the units before it are what the contract
    // stores, so writing them as they come is the same as finding it first.
    let i = 0;
    for (; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0) break;
      u[i] = c;
    }
    u[i] = 0;
    return i;
  }
  let count: number;
  if (strict || length <= 4 * capacity) {
    count = textZero(text);
    if (strict) {
      if (count < length) {
        throw invalidArgValue('text', text, `contains U+0000 at index ${count}, so only ${count} units would be stored`);
      }
      if (count > capacity - 1) throw doesNotFit(count, capacity);
    }
  } else {
    // A text far longer than the region: only a U+0000 among the units that fit matters, so
    // the text is not searched to its end.
    count = capacity - 1;
    if (count > 0 && text.lastIndexOf('\0', count - 1) >= 0) count = text.indexOf('\0');
  }
  if (capacity === 0) return 0;
  if (count > capacity - 1) count = capacity - 1;
  if (u === undefined) {
    // A buffer at an odd address: no Uint16Array fits it.
    if (count > 0) buf.write(text, 0, count * 2, 'utf16le');
    buf[count * 2] = 0;
    buf[count * 2 + 1] = 0;
    return count;
  }
  if (count <= SHORT_WRITE) {
    for (let i = 0; i < count; i++) u[i] = text.charCodeAt(i);
  } else {
    ucs2Write.call(buf, text, 0, count * 2);
  }
  u[count] = 0;
  return count;
}

// ---- Reading --------------------------------------------------------------------------------

/**
 * Reads at most `limit - 1` units (the original's `cchSize` counts the terminator), stopping at
 * the first U+0000 and at the end of the region. Lone surrogates come back as they were stored.
 * `units` is a Uint16Array over the same bytes as `buf`.
 */
export function readUnits(buf: Buffer, units: Uint16Array, limit: number): string {
  const capacity = units.length;
  const max = limit - 1 < capacity ? limit - 1 : capacity;
  const prefix = max <= SHORT_SCAN ? max : PREFIX;
  // Each unit is read from the region once, and the string is made from what was read: another
  // process writing meanwhile can tear the string, but never slip a U+0000 into it.
  const seen = prefixUnits;
  let end = 0;
  for (; end < prefix; end++) {
    const unit = units[end]!;
    if (unit === 0) break;
    seen[end] = unit;
  }
  if (end === prefix && end < max) {
    if (scanner !== undefined) return readCopy(scanner, buf, units, max);
    return upToZero(decode(buf, units, findZeroJs(units, end, max)));
  }
  return decode(prefixBuf, seen, end);
}

/** The units of a read's prefix, as it read them. */
const prefixUnits = new Uint16Array(SHORT_SCAN);
const prefixBuf = Buffer.from(prefixUnits.buffer);

/** `text` up to its first U+0000: a string made from the region itself may hold one another process just wrote. */
function upToZero(text: string): string {
  const at = text.indexOf('\0');
  return at < 0 ? text : text.slice(0, at);
}

/**
 * A read past the prefix: the region is copied to WebAssembly memory (window by window, to their
 * own place while they fit in COPY_UNITS) and searched there, and the string is made from that
 * copy, so from the very units the search saw: as bytes when every unit is at most U+00FF, since V8 then copies them as they are, where
 * from UTF-16 it would check each unit and narrow it itself, twice as slowly.
 */
function readCopy(s: Scanner, buf: Buffer, units: Uint16Array, max: number): string {
  let end = max;
  let narrowed = true;
  if (units.length <= WINDOW) {
    s.units.set(units);
    const r = s.scan(0, max * 2, NARROW_AT);
    end = r >> 1;
    narrowed = (r & 1) === 1;
  } else {
    const windows = windowsOf(units);
    for (let w = 0; w * WINDOW < max; w++) {
      const start = w * WINDOW;
      const window = windows[w]!;
      const stop = max - start < window.length ? max - start : window.length;
      if (start + window.length <= COPY_UNITS) {
        s.units.set(window, start);
        const r: number = narrowed ? s.scan(start * 2, (start + stop) * 2, NARROW_AT + start) : s.zero16(start * 2, (start + stop) * 2);
        narrowed = (r & 1) === 1;
        if (r >> 1 < start + stop) {
          end = r >> 1;
          break;
        }
      } else {
        narrowed = false;
        s.units.set(window, SPARE_AT);
        const at = (s.zero16(SPARE_AT * 2, (SPARE_AT + stop) * 2) >> 1) - SPARE_AT;
        if (at < stop) {
          end = start + at;
          break;
        }
      }
    }
  }
  if (end <= SHORT_READ) return decode(s.buf, s.units, end);
  // Longer than the copy keeps in place: made from the region, so looked over for a U+0000.
  if (end > COPY_UNITS) return upToZero(ucs2Slice.call(buf, 0, end * 2));
  if (narrowed) return latin1Slice.call(s.buf, NARROW_AT, NARROW_AT + end);
  return ucs2Slice.call(s.buf, 0, end * 2);
}

/** The same with TypedArray#indexOf, where WebAssembly is missing. */
function findZeroJs(units: Uint16Array, from: number, max: number): number {
  if (units.length <= WINDOW) {
    const at = units.indexOf(0, from);
    return at < 0 || at > max ? max : at;
  }
  const windows = windowsOf(units);
  for (let w = Math.floor(from / WINDOW); w * WINDOW < max; w++) {
    const start = w * WINDOW;
    const at = windows[w]!.indexOf(0, from > start ? from - start : 0);
    if (at >= 0) return start + at > max ? max : start + at;
  }
  return max;
}

/** The first `n` units as a string. */
function decode(buf: Buffer, u: Uint16Array, n: number): string {
  switch (n) {
    case 0:
      return '';
    case 1:
      return fromCharCode(u[0]);
    case 2:
      return fromCharCode(u[0], u[1]);
    case 3:
      return fromCharCode(u[0], u[1], u[2]);
    case 4:
      return fromCharCode(u[0], u[1], u[2], u[3]);
    case 5:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4]);
    case 6:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5]);
    case 7:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6]);
    case 8:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7]);
    case 9:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8]);
    case 10:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9]);
    case 11:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10]);
    case 12:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11]);
    case 13:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12]);
    case 14:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13]);
    case 15:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14]);
    case 16:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    case 17:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16]);
    case 18:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17]);
    case 19:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18]);
    case 20:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19]);
    case 21:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20]);
    case 22:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21]);
    case 23:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22]);
    case 24:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23]);
    case 25:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24]);
    case 26:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25]);
    case 27:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26]);
    case 28:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27]);
    case 29:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27], u[28]);
    case 30:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27], u[28], u[29]);
    case 31:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27], u[28], u[29], u[30]);
    case 32:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27], u[28], u[29], u[30], u[31]);
    case 33:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27], u[28], u[29], u[30], u[31], u[32]);
    case 34:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27], u[28], u[29], u[30], u[31], u[32], u[33]);
    case 35:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27], u[28], u[29], u[30], u[31], u[32], u[33], u[34]);
    case 36:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27], u[28], u[29], u[30], u[31], u[32], u[33], u[34], u[35]);
    case 37:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27], u[28], u[29], u[30], u[31], u[32], u[33], u[34], u[35], u[36]);
    case 38:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27], u[28], u[29], u[30], u[31], u[32], u[33], u[34], u[35], u[36], u[37]);
    case 39:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27], u[28], u[29], u[30], u[31], u[32], u[33], u[34], u[35], u[36], u[37], u[38]);
    case 40:
      return fromCharCode(u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26], u[27], u[28], u[29], u[30], u[31], u[32], u[33], u[34], u[35], u[36], u[37], u[38], u[39]);
    default:
      return ucs2Slice.call(buf, 0, n * 2);
  }
}
