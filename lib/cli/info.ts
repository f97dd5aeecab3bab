// `named-shm info <name>`: what a region is, and on Linux who has it mapped.
import type { Access } from '../index.js';
import { EXIT_OK, flag, type Command } from './command.js';
import { openWithBestAccess } from './open.js';
import { hasShmDir, lifetimeOf, objectPath, octal, statObject, type ShmObject } from './object.js';
import { scanMaps, type Mapper } from './proc.js';

interface Info {
  name: string;
  size: number;
  capacity: number;
  /** What this user may do with it: read-write when a read-write open works. */
  access: Access;
  /** Linux: the object in /dev/shm. */
  object?: { path: string; mode: string; uid: number; managed: boolean };
  /** Linux: other processes that map it; undefined elsewhere. */
  mappedBy?: Mapper[];
  /** Linux: processes whose maps this user could not read. */
  unreadable?: number;
}

export const info: Command = {
  name: 'info',
  summary: 'show a region: size, access and (Linux) the processes that map it',
  positionals: ['name'],
  options: {
    json: { type: 'boolean', help: 'print the same as one line of JSON' },
  },
  description: `
Shows the existing region <name>: its size in bytes and UTF-16 units, and whether this user
may write it (access readwrite) or only read it (readonly). It is never created.

On Linux it also shows its object in /dev/shm (mode, owner, and whether it goes away with its
last holder or persists), and which other processes have it mapped, from /proc/*/maps: all of
them for root, only this user's own otherwise (the others are counted as not readable).`,
  run({ values, positionals }, io) {
    const [name] = positionals as [string];
    const region = openWithBestAccess(name);
    let result: Info;
    try {
      result = { name, size: region.size, capacity: region.capacity, access: region.access };
      if (hasShmDir) {
        let object: ShmObject | undefined;
        try {
          object = statObject(objectPath(name));
        } catch {
          // removed by name meanwhile (rm): what we mapped has no name any more
        }
        if (object) {
          result.object = { path: object.path, mode: octal(object.mode), uid: object.uid, managed: object.managed };
          const scan = scanMaps(new Set([object.key]));
          result.mappedBy = scan.mappers.get(object.key) ?? [];
          result.unreadable = scan.unreadable;
        }
      }
    } finally {
      region.close();
    }
    if (flag(values, 'json')) {
      io.out(JSON.stringify(result));
      return EXIT_OK;
    }
    const rows: [string, string][] = [
      ['name', name],
      ['size', `${result.size} bytes (${result.capacity} UTF-16 units)`],
      ['access', result.access],
    ];
    if (result.object) {
      const o = result.object;
      rows.push(['object', `${o.path}, mode ${o.mode}, uid ${o.uid}`]);
      rows.push(['lifetime', lifetimeOf(o)]);
    }
    if (result.mappedBy) {
      const list = result.mappedBy.map((m) => `${m.pid} (${m.command.length > 80 ? `${m.command.slice(0, 77)}...` : m.command})`);
      let text = list.length ? list.join(', ') : 'no other process';
      if (result.unreadable) text += `; ${result.unreadable} ${result.unreadable === 1 ? 'process' : 'processes'} not readable`;
      rows.push(['mapped by', text]);
    } else {
      rows.push(['mapped by', hasShmDir ? 'not known: no object at the name' : `not known on ${process.platform}`]);
    }
    for (const [key, value] of rows) io.out(`${`${key}:`.padEnd(11)}${value}`);
    return EXIT_OK;
  },
};
