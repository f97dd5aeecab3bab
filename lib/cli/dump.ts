// `named-shm dump <name>`: part of a region as hex and UTF-16LE.
import { EXIT_OK, UsageError, integerOption, type Command } from './command.js';
import { hexdump } from './hexdump.js';
import { openToLook } from './open.js';

export const DEFAULT_DUMP_BYTES = 256;

export const dump: Command = {
  name: 'dump',
  summary: 'show the start of a region (or any part) as hex and UTF-16LE',
  positionals: ['name'],
  options: {
    bytes: { type: 'string', arg: 'N', help: `how many bytes to show (default ${DEFAULT_DUMP_BYTES}; at most up to the region's end)` },
    offset: { type: 'string', arg: 'N', help: 'the byte to start at (default 0; at most the region\'s size)' },
  },
  description: `
Shows bytes of the existing region <name>, from --offset (0) on, 16 a line: the offset, the
bytes in hex, and between | | the same bytes read as 8 UTF-16LE units (the string format of
the region). Units that cannot be shown (U+0000, controls, lone surrogates) are '.'; a line
equal to the one before is shown once, followed by '*'; the last line is the offset after the
dump. The region is mapped read-only and never created, and only the bytes shown are copied,
however large it is. A leftover (a region whose holders are all gone) is not opened: ENOENT.`,
  run({ values, positionals }, io) {
    const [name] = positionals as [string];
    const wanted = integerOption(values, 'bytes') ?? DEFAULT_DUMP_BYTES;
    const offset = integerOption(values, 'offset', 0) ?? 0;
    const region = openToLook(name);
    let bytes: Uint8Array;
    try {
      const size = region.size;
      if (offset > size) throw new UsageError(`--offset ${offset} is past the end of the region (${size} bytes)`);
      // A copy of what is shown only: `bytes` of a read-only region would copy all of it.
      bytes = region.read(offset, Math.min(wanted, size - offset));
    } finally {
      region.close();
    }
    for (const line of hexdump(bytes, offset)) io.out(line);
    return EXIT_OK;
  },
};
