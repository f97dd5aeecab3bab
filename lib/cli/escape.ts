// Everything the command prints that it did not write itself (names in /dev/shm, other users'
// command lines, error messages that carry a name) goes through here. A control character in such
// text would act on the terminal of whoever runs the command: ESC [2J clears the screen, ESC ]0;
// retitles the window, U+009B is a CSI of its own, U+202E turns the rest of the line around.

/**
 * Code points shown escaped: controls (C0, DEL, C1), formats (bidi overrides, zero-width),
 * line and paragraph separators, private use, unassigned, and lone surrogates.
 */
export const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]/u;
/** Spaces other than U+0020 look like one but are not: escaped too. */
const ODD_SPACE = /(?! )\p{Zs}/u;
/** What a shell takes as it is, unquoted: letters, digits and a few ASCII signs. */
const PLAIN = /^(?:[A-Za-z0-9_.,:@%+=/-]|[^\0-\x7f])$/u;

/** A code point, or a byte that is no part of a well-formed UTF-8 sequence. */
type Unit = { cp: number } | { byte: number };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function* unitsOf(text: string | Uint8Array): Generator<Unit> {
  if (typeof text !== 'string') {
    yield* isUtf8(text) ? unitsOf(strictUtf8.decode(text)) : utf8Units(text);
    return;
  }
  for (const char of text) yield { cp: char.codePointAt(0)! };
}

/** The well-formed sequences as code points, every other byte on its own. */
function* utf8Units(bytes: Uint8Array): Generator<Unit> {
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i]!;
    const length = lead < 0x80 ? 1 : lead < 0xc2 ? 0 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : lead < 0xf5 ? 4 : 0;
    if (length > 0 && i + length <= bytes.length) {
      try {
        // The strict decoder refuses overlong forms, surrogates and code points past U+10FFFF.
        yield { cp: strictUtf8.decode(bytes.subarray(i, i + length)).codePointAt(0)! };
        i += length;
        continue;
      } catch {
        // not well formed: this byte alone
      }
    }
    yield { byte: lead };
    i++;
  }
}

/** Whether the bytes are well-formed UTF-8 (a name named-shm can open). */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function hex(n: number, digits: number): string {
  return n.toString(16).padStart(digits, '0');
}

/** The escape for a unit that must not be printed as it is; undefined for one that may. */
function escapeOf(u: Unit): string | undefined {
  if ('byte' in u) return `\\x${hex(u.byte, 2)}`;
  const char = String.fromCodePoint(u.cp);
  if (!HIDDEN.test(char) && !ODD_SPACE.test(char)) return undefined;
  if (u.cp === 0x0a) return '\\n';
  if (u.cp === 0x09) return '\\t';
  if (u.cp === 0x0d) return '\\r';
  if (u.cp < 0x80) return `\\x${hex(u.cp, 2)}`;
  return u.cp > 0xffff ? `\\U${hex(u.cp, 8)}` : `\\u${hex(u.cp, 4)}`;
}

/**
 * Text (or bytes) as it would be typed in a shell: as it is when plain, in '...' when it has
 * spaces or shell signs, and in bash's $'...' with \xHH, \uHHHH escapes when it has anything
 * that cannot be printed (controls, invisible characters, bytes that are not UTF-8).
 */
export function shown(text: string | Uint8Array): string {
  const units = [...unitsOf(text)];
  if (units.length === 0) return "''";
  const escapes = units.map(escapeOf);
  const chars = units.map((u) => ('cp' in u ? String.fromCodePoint(u.cp) : ''));
  if (escapes.some((e) => e !== undefined) || chars.includes("'")) {
    const body = units.map((_, i) => escapes[i] ?? (chars[i] === "'" || chars[i] === '\\' ? `\\${chars[i]}` : chars[i]));
    return `$'${body.join('')}'`;
  }
  return chars.every((c) => PLAIN.test(c)) ? chars.join('') : `'${chars.join('')}'`;
}

/** Text with what cannot be printed escaped, and nothing quoted: for messages. */
export function escaped(text: string): string {
  return [...unitsOf(text)].map((u) => escapeOf(u) ?? String.fromCodePoint((u as { cp: number }).cp)).join('');
}

/** C1 controls, invisible and unassigned characters, which JSON.stringify leaves as they are. */
const JSON_HIDDEN = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/gu;

/** JSON.stringify, with every character that could act on a terminal as a \u escape: the same JSON. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(JSON_HIDDEN, (char) =>
    [...Array(char.length).keys()].map((i) => `\\u${hex(char.charCodeAt(i), 4)}`).join(''),
  );
}
