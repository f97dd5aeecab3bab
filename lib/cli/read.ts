// `named-shm read <name>`: getSharedMem from the command line.
import { EXIT_OK, flag, integerOption, type Command } from './command.js';
import { safeJson } from './escape.js';
import { openToLook } from './open.js';

export const read: Command = {
  name: 'read',
  summary: 'print the text in a region (as getSharedMem)',
  positionals: ['name'],
  options: {
    limit: { type: 'string', arg: 'N', help: 'read at most N - 1 units (N counts the U+0000, as cchSize does)' },
    json: { type: 'boolean', help: 'print {"name","size","text","units"} as one line of JSON' },
  },
  description: `
Prints the string at byte 0 of the existing region <name>: its UTF-16 units up to the first
U+0000, at most N - 1 of them with --limit N, and never past the end of the region. The region
is mapped read-only and is never created: a name nobody holds is an error (ENOENT, exit 1),
and so is a leftover (a region whose holders are all gone), which is left as it is.

The text is printed as UTF-8 followed by a newline; a lone surrogate prints as U+FFFD. --json
keeps every unit exactly (lone surrogates as \\uXXXX escapes), and "units" is the text's
length in UTF-16 units.`,
  run({ values, positionals }, io) {
    const [name] = positionals as [string];
    const limit = integerOption(values, 'limit');
    const region = openToLook(name);
    let text: string;
    let size: number;
    try {
      size = region.size;
      text = region.readString(limit);
    } finally {
      region.close();
    }
    io.out(flag(values, 'json') ? safeJson({ name, size, text, units: text.length }) : text);
    return EXIT_OK;
  },
};
