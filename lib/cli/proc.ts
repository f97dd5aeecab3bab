// Linux: which processes have a file mapped, from /proc/PID/maps (only the processes whose maps
// this user may read: all of them for root, the user's own otherwise).
import fs from 'node:fs';

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

/** The process's command line (arguments joined by spaces); its `comm` when that is not readable. */
export function commandOf(pid: number): string {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/[\0\s]+/g, ' ').trim();
    if (cmdline) return cmdline;
  } catch {
    // fall back to comm
  }
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}
