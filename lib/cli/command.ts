// What every command of the `named-shm` command line shares: its description, its help text, and
// argument parsing with node:util parseArgs. Exit codes: 0 ok, 1 OS error, 2 usage error.
import { parseArgs } from 'node:util';
import { shown } from './escape.js';

export const EXIT_OK = 0;
export const EXIT_OS_ERROR = 1;
export const EXIT_USAGE = 2;

/** A command line that cannot be run as given: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in the help, for a string option (`N`). */
  arg?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** Names of the positional arguments, all required, in order (`<name>`, `<text>`). */
  positionals: readonly string[];
  options: Readonly<Record<string, OptionSpec>>;
  /** What the command does, for its --help. */
  description: string;
}

export type Values = Readonly<Record<string, string | boolean | undefined>>;

export interface Parsed {
  values: Values;
  positionals: string[];
}

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export interface Command extends CommandSpec {
  /** Runs the parsed command line; resolves with the exit code. Throws on errors. */
  run(parsed: Parsed, io: Io): number | Promise<number>;
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };

export function usageLine(spec: CommandSpec): string {
  const parts = ['named-shm', spec.name, ...spec.positionals.map((p) => `<${p}>`)];
  for (const [long, o] of Object.entries(spec.options)) {
    parts.push(o.type === 'string' ? `[--${long} ${o.arg ?? 'VALUE'}]` : `[--${long}]`);
  }
  return parts.join(' ');
}

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, help: HELP }).map(([long, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${long}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    return [flag, o.help] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    `Usage: ${usageLine(spec)}`,
    '',
    spec.description.trim(),
    '',
    'Options:',
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`),
    '',
    'Exit codes: 0 ok, 1 OS error, 2 usage error.',
  ].join('\n');
}

/** Parses `argv` (the words after the command's name); `null` when --help was asked for. */
export function parseCommand(spec: CommandSpec, argv: string[]): Parsed | null {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [long, o] of Object.entries({ ...spec.options, help: HELP })) {
    options[long] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true }));
  } catch (e) {
    // ERR_PARSE_ARGS_UNKNOWN_OPTION, ERR_PARSE_ARGS_INVALID_OPTION_VALUE, ...
    throw new UsageError((e as Error).message);
  }
  if (values.help === true) return null;
  const wanted = spec.positionals;
  if (positionals.length < wanted.length) {
    throw new UsageError(`missing <${wanted[positionals.length]}>`);
  }
  if (positionals.length > wanted.length) {
    const extra = positionals[wanted.length]!;
    const hint = wanted.includes('text') ? ' (quote a text that has spaces)' : '';
    throw new UsageError(`unexpected argument '${extra}'${hint}`);
  }
  return { values, positionals };
}

/** A whole number option such as `--size 4096`, at least `min`; undefined when absent. */
export function integerOption(values: Values, long: string, min = 1): number | undefined {
  const raw = values[long];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^[0-9]+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < min) {
    throw new UsageError(`--${long} must be a whole number >= ${min}, not '${String(raw)}'`);
  }
  return Number(raw);
}

export function flag(values: Values, long: string): boolean {
  return values[long] === true;
}

/** Quotes a region's name for messages, escaped as `shown` escapes it (names come from anyone). */
export function q(name: string): string {
  const text = shown(name);
  return text.startsWith("'") || text.startsWith("$'") ? text : `'${text}'`;
}
