// `named-shm write <name> <text>`: setSharedMem from the command line.
import { EXIT_OK, flag, integerOption, q, type Command } from './command.js';
import { shown } from './escape.js';
import { openOrCreate } from './open.js';

export const write: Command = {
  name: 'write',
  summary: 'store a text in a region (as setSharedMem), creating the region when missing',
  positionals: ['name', 'text'],
  options: {
    size: { type: 'string', arg: 'N', help: 'bytes of a new region (default 4096); an existing one must hold at least N' },
    strict: { type: 'boolean', help: 'refuse to cut: write nothing and exit 2 when <text> does not fit' },
    persist: { type: 'boolean', help: 'POSIX: keep the region after its last holder, until `named-shm rm`' },
  },
  description: `
Stores <text> as UTF-16LE at byte 0 of the region <name>, ended by U+0000, and prints how many
UTF-16 units it stored. A text longer than the region holds (capacity - 1 units) is cut, and
a warning on stderr says so; a U+0000 inside <text> ends it there. With --strict nothing is
cut: such a text is refused (exit 2) and the region is left as it was.

A region lives while some process holds it. When no other process does (the command created
it), it goes away as this command exits: keep one with \`named-shm hold <name>\` (or, on POSIX,
write with --persist). Put -- before a text that starts with '-'.`,
  run({ values, positionals }, io) {
    const [name, text] = positionals as [string, string];
    const size = integerOption(values, 'size');
    const persist = flag(values, 'persist');
    const region = openOrCreate(name, size, persist);
    const { created } = region;
    let stored: number;
    let bytes: number;
    let capacity: number;
    try {
      bytes = region.size;
      capacity = region.capacity;
      stored = region.writeString(text, { strict: flag(values, 'strict') });
    } finally {
      region.close();
    }
    io.out(`stored ${stored} UTF-16 units in ${q(name)} (${bytes} bytes${created ? ', created' : ''})`);
    if (stored < text.length) {
      const nul = text.indexOf('\0');
      io.err(
        nul >= 0 && nul === stored
          ? `named-shm write: warning: the text ends at its U+0000 (unit ${nul}): ${stored} of ${text.length} units stored`
          : `named-shm write: warning: the text was cut: ${stored} of ${text.length} UTF-16 units stored (${room(capacity)}; --strict refuses to cut)`,
      );
    }
    if (created && !persist) {
      io.err(
        `named-shm write: note: no other process holds ${q(name)}, so it went away as this command ended; keep it with 'named-shm hold ${shown(name)}'`,
      );
    }
    return EXIT_OK;
  },
};

function room(capacity: number): string {
  return capacity === 0 ? 'a 1-byte region holds no unit, not even U+0000' : `the region holds ${capacity - 1} plus U+0000`;
}
