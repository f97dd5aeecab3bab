// `named-shm list`: the POSIX shared memory objects in /dev/shm (Linux).
import fs from 'node:fs';
import { EXIT_OK, flag, type Command } from './command.js';
import { SHM_DIR, hasShmDir, octal, statObject, type ShmObject } from './object.js';
import { scanMaps } from './proc.js';

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
  name: string;
  size: number;
  mode: string;
  uid: number;
  managed: boolean;
  pids: number[];
}

export const list: Command = {
  name: 'list',
  summary: 'list the POSIX shared memory objects in /dev/shm (Linux)',
  positionals: [],
  options: {
    json: { type: 'boolean', help: 'print an array of {"name","size","mode","uid","managed","pids"}' },
  },
  description: `
Lists the POSIX shared memory objects in ${SHM_DIR}, whoever made them, sorted by name: the name
to give the other commands, the size in bytes, the mode (1600: a region named-shm created,
removed with its last holder; no 1000 bit: persistent), the owner's uid, and the processes
that have it mapped (from /proc/*/maps: all of them for root, only this user's otherwise).

Linux only: macOS keeps POSIX shared memory out of the file system, and on Windows named
sections are not listed (exit 1 on both).`,
  run({ values }, io) {
    if (!hasShmDir) throw unsupported();
    const objects: (ShmObject & { name: string })[] = [];
    for (const entry of fs.readdirSync(SHM_DIR, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      try {
        objects.push({ ...statObject(`${SHM_DIR}/${entry.name}`), name: entry.name });
      } catch {
        // removed meanwhile
      }
    }
    objects.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const scan = scanMaps(new Set(objects.map((o) => o.key)));
    const rows: Row[] = objects.map((o) => ({
      name: o.name,
      size: o.size,
      mode: octal(o.mode),
      uid: o.uid,
      managed: o.managed,
      pids: (scan.mappers.get(o.key) ?? []).map((m) => m.pid),
    }));
    if (flag(values, 'json')) {
      io.out(JSON.stringify(rows));
      return EXIT_OK;
    }
    const table = [['NAME', 'SIZE', 'MODE', 'UID', 'MAPPED BY'], ...rows.map((r) => [shown(r.name), String(r.size), r.mode, String(r.uid), r.pids.join(',') || '-'])];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((cells) => cells[i]!.length)));
    for (const cells of table) {
      io.out(
        cells
          .map((cell, i) => (i === cells.length - 1 ? cell : i === 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
          .join('  '),
      );
    }
    return EXIT_OK;
  },
};

/** A name as it can be typed: quoted with escapes when it holds a control or invisible character. */
function shown(name: string): string {
  return /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]/u.test(name) ? JSON.stringify(name) : name;
}
