#!/usr/bin/env node
// The `named-shm` command line: look into, write and hold named shared memory regions.
//   named-shm <command> [arguments]     named-shm <command> --help
// Exit codes: 0 ok, 1 OS error, 2 usage error; errors go to stderr as one line.
import fs from 'node:fs';
import { EXIT_OK, EXIT_USAGE, UsageError, helpText, parseCommand, type Command, type Io } from './cli/command.js';
import { dump } from './cli/dump.js';
import { hold } from './cli/hold.js';
import { info } from './cli/info.js';
import { list } from './cli/list.js';
import { read } from './cli/read.js';
import { errorLine, exitCodeFor } from './cli/report.js';
import { rm } from './cli/rm.js';
import { write } from './cli/write.js';

const COMMANDS: readonly Command[] = [write, read, info, dump, hold, rm, list];

const io: Io = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: named-shm <command> [arguments]',
    '',
    'Named shared memory from the command line: the regions that named-shm, and the Win32 sample',
    'it follows, use (a UTF-16LE string at byte 0 ended by U+0000; 4096 bytes by default).',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "'named-shm <command> --help' (or 'named-shm help <command>') describes a command.",
    "'named-shm --version' prints the version.",
    '',
    'Exit codes: 0 ok, 1 OS error, 2 usage error.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.err(mainHelp());
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h') {
    io.out(mainHelp());
    return EXIT_OK;
  }
  if (first === '--version' || first === '-v') {
    io.out(version());
    return EXIT_OK;
  }
  let name = first;
  let args = rest;
  if (first === 'help') {
    if (rest.length === 0) {
      io.out(mainHelp());
      return EXIT_OK;
    }
    name = rest[0]!;
    args = ['--help'];
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) {
      throw new UsageError(
        name.startsWith('-') ? `unknown option '${name}' before the command` : `unknown command '${name}'`,
      );
    }
    const parsed = parseCommand(command, args);
    if (!parsed) {
      io.out(helpText(command));
      return EXIT_OK;
    }
    return await command.run(parsed, io);
  } catch (error) {
    io.err(errorLine(command?.name, error));
    return exitCodeFor(error);
  }
}

// `named-shm list | head -1`: a reader that went away is no error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? EXIT_OK);
});

process.exitCode = await main(process.argv.slice(2));
