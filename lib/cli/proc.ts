// Linux: which processes have a file mapped, from /proc/PID/maps (only the processes whose maps
// this user may read: all of them for root, the user's own otherwise), and which files some
// process holds a lock on, from /proc/locks (every process's).
import fs from 'node:fs';
import { shown } from './escape.js';

export interface Mapper {
  pid: number;
  command: string;
}

export interface MapScan {
  /** For each wanted file key (`major:minor:inode`), the processes that map it. */
  mappers: Map<string, Mapper[]>;
  /** Processes whose maps could not be read (another user's, without privileges). */
  unreadable: number;
}

/** Scans every process but this one for mappings of the files named by `keys`. */
export function scanMaps(keys: ReadonlySet<string>): MapScan {
  const mappers = new Map<string, Mapper[]>();
  let unreadable = 0;
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((entry) => /^[0-9]+$/.test(entry));
  } catch {
    return { mappers, unreadable };
  }
  for (const entry of pids) {
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let maps: string;
    try {
      maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
    } catch (e) {
      // ENOENT/ESRCH: it exited meanwhile. EACCES/EPERM: someone else's.
      const code = (e as { code?: string }).code;
      if (code === 'EACCES' || code === 'EPERM') unreadable++;
      continue;
    }
    const seen = new Set<string>();
    for (const line of maps.split('\n')) {
      // address perms offset dev inode [path]
      const fields = line.split(/\s+/, 5);
      if (fields.length < 5 || fields[4] === '0') continue;
      const [major, minor] = fields[3]!.split(':').map((hex) => Number.parseInt(hex, 16));
      const key = `${major}:${minor}:${fields[4]}`;
      if (!keys.has(key) || seen.has(key)) continue;
      seen.add(key);
      const list = mappers.get(key) ?? [];
      list.push({ pid, command: commandOf(pid) });
      mappers.set(key, list);
    }
  }
  return { mappers, unreadable };
}

/**
 * The process's command line, each argument as a shell would take it (escaped: anyone may name
 * their process `\e[2J...`); its `comm` when the command line is empty (a zombie, a kernel thread).
 */
export function commandOf(pid: number): string {
  try {
    const args = splitNul(fs.readFileSync(`/proc/${pid}/cmdline`));
    if (args.length) return args.map(shown).join(' ');
  } catch {
    // fall back to comm
  }
  try {
    const comm = fs.readFileSync(`/proc/${pid}/comm`);
    return shown(comm.subarray(0, comm.at(-1) === 0x0a ? -1 : comm.length));
  } catch {
    return '?';
  }
}

/** The arguments of a NUL-separated command line, as bytes (they need not be UTF-8). */
function splitNul(bytes: Buffer): Buffer[] {
  const args: Buffer[] = [];
  for (let start = 0; start < bytes.length; ) {
    const end = bytes.indexOf(0, start);
    args.push(bytes.subarray(start, end < 0 ? bytes.length : end));
    start = end < 0 ? bytes.length : end + 1;
  }
  return args;
}

/**
 * The files (`major:minor:inode`) on which some descriptor holds a record lock, from /proc/locks:
 * a holder of a region keeps an OFD read lock on its object for as long as it holds it. Classic
 * POSIX locks count too, as they keep an opener from finding itself alone; flock does not, as
 * it never conflicts with record locks. Undefined when /proc/locks cannot be read.
 */
export function heldKeys(): Set<string> | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/locks', 'utf8');
  } catch {
    return undefined;
  }
  const held = new Set<string>();
  // `1: OFDLCK ADVISORY  READ -1 00:1a:558982 0 EOF`; a `1: -> ...` line waits, it holds nothing.
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== 'OFDLCK' && fields[1] !== 'POSIX') continue;
    const [major, minor, inode] = (fields[5] ?? '').split(':');
    if (inode === undefined) continue;
    held.add(`${Number.parseInt(major!, 16)}:${Number.parseInt(minor!, 16)}:${inode}`);
  }
  return held;
}
