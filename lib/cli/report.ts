// Turns what a command threw into one line on stderr and an exit code: 1 for an OS error, 2 for a
// usage error (a bad option, a bad name or size, a text that --strict refuses).
import { EXIT_OS_ERROR, EXIT_USAGE, UsageError } from './command.js';
import { escaped } from './escape.js';

/** Argument errors the library throws before any OS call: the command line was wrong. */
const USAGE_CODES = new Set(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE']);

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT_USAGE;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && USAGE_CODES.has(code)) return EXIT_USAGE;
  return EXIT_OS_ERROR;
}

/** The error's message on one line, escaped (it may quote a name), with a pointer to --help for a usage error. */
export function errorLine(command: string | undefined, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const where = command ? `named-shm ${command}` : 'named-shm';
  let line = `${where}: ${escaped(message.replace(/\s*[\r\n]+\s*/g, ' ').trim())}`;
  if (error instanceof UsageError) line += ` (see '${where} --help')`;
  return line;
}
