// A hex dump with a UTF-16LE column, like `hexdump -C` with units instead of bytes:
//   00000000  48 00 69 00 00 00 6c 00  6f 00 00 00 00 00 00 00  |Hi.lo...|
// 16 bytes (8 units) a line; a line equal to the one before is shown once, then `*`.
import { HIDDEN } from './escape.js';

const BYTES_PER_LINE = 16;

function hex(bytes: Uint8Array): string {
  const cells: string[] = [];
  for (let i = 0; i < BYTES_PER_LINE; i++) {
    cells.push(i < bytes.length ? bytes[i]!.toString(16).padStart(2, '0') : '  ');
  }
  return `${cells.slice(0, 8).join(' ')}  ${cells.slice(8).join(' ')}`;
}

/** The line's whole units as text; an odd last byte has no unit. */
function utf16(bytes: Uint8Array): string {
  let text = '';
  const units = Math.floor(bytes.length / 2);
  for (let i = 0; i < units; i++) {
    const unit = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < units) {
      const next = bytes[2 * i + 2]! | (bytes[2 * i + 3]! << 8);
      if (next >= 0xdc00 && next <= 0xdfff) {
        const pair = String.fromCharCode(unit, next);
        text += HIDDEN.test(pair) ? '..' : pair;
        i++;
        continue;
      }
    }
    const char = String.fromCharCode(unit);
    // A lone surrogate cannot be printed; the others must not move the cursor or the text.
    text += (unit >= 0xd800 && unit <= 0xdfff) || HIDDEN.test(char) ? '.' : char;
  }
  return text;
}

/** The dump of `bytes` as lines, numbered from `offset`, ending with the offset after them. */
export function hexdump(bytes: Uint8Array, offset = 0): string[] {
  const lines: string[] = [];
  let previous: string | undefined;
  let squeezed = false;
  for (let at = 0; at < bytes.length; at += BYTES_PER_LINE) {
    const chunk = bytes.subarray(at, at + BYTES_PER_LINE);
    const body = `${hex(chunk)}  |${utf16(chunk)}|`;
    if (body === previous && chunk.length === BYTES_PER_LINE) {
      if (!squeezed) lines.push('*');
      squeezed = true;
      continue;
    }
    previous = body;
    squeezed = false;
    lines.push(`${(offset + at).toString(16).padStart(8, '0')}  ${body}`);
  }
  lines.push((offset + bytes.length).toString(16).padStart(8, '0'));
  return lines;
}
