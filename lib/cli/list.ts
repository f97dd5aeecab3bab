// `named-shm list`: the POSIX shared memory objects in /dev/shm (Linux).
import fs from 'node:fs';
import { EXIT_OK, flag, type Command } from './command.js';
import { isUtf8, safeJson, shown } from './escape.js';
import { SHM_DIR, hasShmDir, isLeftover, octal, statObject, type ShmObject } from './object.js';
import { heldKeys, scanMaps } from './proc.js';
import { kindAt } from './kind.js';

function unsupported(): Error {
  const why =
    process.platform === 'win32'
      ? "not supported on Windows: named sections live in the object manager's BaseNamedObjects directory, which named-shm does not read (it would take ntdll's NtQueryDirectoryObject)"
      : `not supported on ${process.platform}: only Linux shows its POSIX shared memory objects as files (in ${SHM_DIR})`;
  const e = new Error(why) as Error & { code: string };
  e.code = 'ENOTSUP';
  return e;
}

interface Row {
  /** The name; for one that is not UTF-8 (utf8 false), as `shown` writes it ($'...\xff'). */
  name: string;
  size: number;
  mode: string;
  uid: number;
  managed: boolean;
  /** Managed, and none of its holders is alive: the next open of the name removes it. */
  leftover: boolean;
  /** False for a name that is not UTF-8: no region name leads to it. */
  utf8: boolean;
  /** 'region', or a named event's or a region's change counter's object. */
  kind: 'region' | 'event' | 'changes' | 'mutex';
  pids: number[];
}

export const list: Command = {
  name: 'list',
  summary: 'list the POSIX shared memory objects in /dev/shm (Linux)',
  positionals: [],
  options: {
    json: { type: 'boolean', help: 'print an array of {"name","size","mode","uid","managed","leftover","utf8","kind","pids"}' },
  },
  description: `
Lists the POSIX shared memory objects in ${SHM_DIR}, whoever made them, sorted by name: the name
to give the other commands, the size in bytes, the mode (1600: a region named-shm created,
removed with its last holder; no 1000 bit: persistent), the owner's uid, and the processes
that have it mapped (from /proc/*/maps: all of them for root, only this user's otherwise).

A name with spaces or signs is shown quoted, and one with characters that cannot be printed
(or bytes that are not UTF-8) in bash's $'...' form, with escapes. A NOTE column appears
when an object is a leftover (named-shm manages it and its holders are all gone: the next
open of the name removes it; list leaves it alone), has a name that is not UTF-8, which no
region name leads to (remove it with rm(1), as list shows it), or is not a region: a named
event, or the change counter that region.notify() keeps beside a region (NAME#changes).

Linux only: macOS keeps POSIX shared memory out of the file system, and on Windows named
sections are not listed (exit 1 on both).`,
  run({ values }, io) {
    if (!hasShmDir) throw unsupported();
    // As bytes: a name that is not UTF-8 would otherwise come back changed, and stat would miss it.
    const objects: (ShmObject & { name: Buffer })[] = [];
    for (const name of fs.readdirSync(SHM_DIR, { encoding: 'buffer' })) {
      try {
        const object = statObject(Buffer.concat([Buffer.from(`${SHM_DIR}/`), name]));
        if (object) objects.push({ ...object, name });
      } catch {
        // removed meanwhile
      }
    }
    const held = heldKeys();
    const scan = scanMaps(new Set(objects.map((o) => o.key)));
    const rows: Row[] = objects.map((o) => {
      const utf8 = isUtf8(o.name);
      return {
        name: utf8 ? o.name.toString('utf8') : shown(o.name),
        size: o.size,
        mode: octal(o.mode),
        uid: o.uid,
        managed: o.managed,
        leftover: held !== undefined && isLeftover(o, held),
        utf8,
        kind: kindAt(Buffer.concat([Buffer.from(`${SHM_DIR}/`), o.name]), o.size),
        pids: (scan.mappers.get(o.key) ?? []).map((m) => m.pid),
      };
    });
    rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (flag(values, 'json')) {
      io.out(safeJson(rows));
      return EXIT_OK;
    }
    for (const line of table(rows)) io.out(line);
    return EXIT_OK;
  },
};

function noteOf(r: Row): string {
  const notes: string[] = [];
  if (!r.utf8) notes.push('name not UTF-8: no region name leads to it');
  if (r.leftover) notes.push('leftover: released, holders gone');
  if (r.kind === 'event') notes.push('named event');
  if (r.kind === 'changes') notes.push("a region's change counter");
  if (r.kind === 'mutex') notes.push('named mutex');
  return notes.join('; ');
}

function table(rows: Row[]): string[] {
  const head = ['NAME', 'SIZE', 'MODE', 'UID', 'MAPPED BY'];
  const cells = rows.map((r) => [r.utf8 ? shown(r.name) : r.name, String(r.size), r.mode, String(r.uid), r.pids.join(',') || '-', noteOf(r)]);
  // The NOTE column only when some object has a note: the usual table stays as it was.
  const columns = cells.some((c) => c[5]) ? 6 : 5;
  const table = [[...head, 'NOTE'].slice(0, columns), ...cells.map((c) => c.slice(0, columns))];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((c) => c[i]!.length)));
  return table.map((c) =>
    c
      .map((cell, i) => (i === columns - 1 ? cell : i === 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
