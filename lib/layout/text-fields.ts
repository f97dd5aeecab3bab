// Strings in fixed room, as C's char name[N] and wchar_t name[N] (UTF-16, Windows' wchar_t):
// read up to the first NUL or the end of the room, never past it; written whole with a NUL
// after (at most N - 1 units, as writeString does), the rest of the room zeroed as strncpy does.
// A string that does not fit is an error and nothing is written: a struct's setter has no return
// value that could tell a caller the string was cut.
import { invalidArgType, invalidArgValue, outOfRange } from '../errors.js';
import type { TextEncoding } from './layout.js';

export interface TextField {
  readonly offset: number;
  /** Room in units: bytes for char, UTF-16 units for wchar. */
  readonly length: number;
  readonly encoding: TextEncoding;
}

export function readText(buf: Buffer, at: number, f: TextField): string {
  if (f.encoding === 'utf16le') {
    let n = 0;
    while (n < f.length && (buf[at + 2 * n]! | buf[at + 2 * n + 1]!) !== 0) n++;
    return buf.toString('utf16le', at, at + 2 * n);
  }
  let end = buf.indexOf(0, at);
  if (end < 0 || end > at + f.length) end = at + f.length;
  return buf.toString(f.encoding, at, end);
}

/** The bytes `text` stores as (without its NUL), checked against the room; the error names `path`. */
export function encodeText(text: unknown, f: TextField, path: string): Buffer {
  if (typeof text !== 'string') throw invalidArgType(path, 'of type string', text);
  const nul = text.indexOf('\0');
  const s = nul < 0 ? text : text.slice(0, nul);
  if (f.encoding !== 'latin1' && !s.isWellFormed()) throw invalidArgValue(path, text, 'must not contain lone surrogates');
  if (f.encoding === 'latin1' && /[^\u0000-\u00ff]/.test(s)) throw invalidArgValue(path, text, 'must hold only Latin-1 characters (U+0000 to U+00FF)');
  const bytes = Buffer.from(s, f.encoding);
  const unit = f.encoding === 'utf16le' ? 2 : 1;
  if (bytes.length / unit > f.length - 1) {
    const what = unit === 2 ? 'UTF-16 units' : f.encoding === 'utf8' ? 'UTF-8 bytes' : 'bytes';
    throw outOfRange(`${path} length`, `<= ${f.length - 1} ${what} (room for ${f.length} with the terminating NUL); nothing was written`, bytes.length / unit);
  }
  return bytes;
}

export function storeText(buf: Buffer, at: number, f: TextField, bytes: Buffer): void {
  const unit = f.encoding === 'utf16le' ? 2 : 1;
  bytes.copy(buf, at);
  buf.fill(0, at + bytes.length, at + f.length * unit);
}
