// `named-shm dump <name>`: the start of a region as hex and UTF-16LE.
import { SharedMemory } from '../index.js';
import { EXIT_OK, integerOption, type Command } from './command.js';
import { hexdump } from './hexdump.js';

export const DEFAULT_DUMP_BYTES = 256;

export const dump: Command = {
  name: 'dump',
  summary: 'show the start of a region as hex and UTF-16LE',
  positionals: ['name'],
  options: {
    bytes: { type: 'string', arg: 'N', help: `how many bytes to show (default ${DEFAULT_DUMP_BYTES}; at most the region's size)` },
  },
  description: `
Shows the first bytes of the existing region <name>, 16 a line: the offset, the bytes in hex,
and between | | the same bytes read as 8 UTF-16LE units (the string format of the region).
Units that cannot be shown (U+0000, controls, lone surrogates) are '.'; a line equal to the
one before is shown once, followed by '*'; the last line is the offset after the dump. The
region is mapped read-only and never created.`,
  run({ values, positionals }, io) {
    const [name] = positionals as [string];
    const wanted = integerOption(values, 'bytes') ?? DEFAULT_DUMP_BYTES;
    const region = SharedMemory.openExisting(name, { access: 'readonly' });
    let bytes: Uint8Array;
    try {
      // A read-only region's `bytes` is a copy: it stays valid after close().
      bytes = region.bytes.subarray(0, Math.min(wanted, region.size));
    } finally {
      region.close();
    }
    for (const line of hexdump(bytes)) io.out(line);
    return EXIT_OK;
  },
};
