// `named-shm rm <name>`: POSIX shm_unlink. Windows has no such thing.
import { SharedMemory } from '../index.js';
import { parseName } from '../validate.js';
import { EXIT_OK, flag, q, type Command } from './command.js';

/** Thrown on Windows: there is nothing to remove a name with. */
function windowsHasNoUnlink(name: string): Error {
  const e = new Error(
    `Windows has no unlink: a section's name goes away when the last handle to it closes (stop the processes that hold ${q(name)}, such as a 'named-shm hold')`,
  ) as Error & { code: string };
  e.code = 'ENOTSUP';
  return e;
}

export const rm: Command = {
  name: 'rm',
  summary: 'remove a region\'s name now (POSIX shm_unlink)',
  positionals: ['name'],
  options: {
    force: { type: 'boolean', short: 'f', help: 'no error when there is no such name' },
  },
  description: `
Removes the name <name> now, as shm_unlink does, whoever holds it: the processes that have it
mapped keep their memory, and the next open of the name creates a new, empty region. This is
also the only way to remove a region kept with --persist, or made by another program.

On Windows there is no such call: a section goes away with the last handle to it, so this
says so and exits 1.`,
  run({ values, positionals }, io) {
    const [name] = positionals as [string];
    if (process.platform === 'win32') {
      parseName(name);
      throw windowsHasNoUnlink(name);
    }
    try {
      SharedMemory.unlink(name);
    } catch (e) {
      if (flag(values, 'force') && (e as { code?: string }).code === 'ENOENT') return EXIT_OK;
      throw e;
    }
    io.out(`removed ${q(name)}`);
    return EXIT_OK;
  },
};
