// `named-shm info <name>`: what a region is, and on Linux who has it mapped.
import type { Access } from '../index.js';
import { EXIT_OK, flag, type Command } from './command.js';
import { safeJson, shown } from './escape.js';
import { lookAt, openToInspect } from './open.js';
import { hasShmDir, lifetimeOf, objectPath, octal, statObject, type ShmObject } from './object.js';
import { scanMaps, type Mapper } from './proc.js';

interface Info {
  name: string;
  size: number;
  capacity: number;
  /** What this user may do with it; absent for a leftover, which is not opened. */
  access?: Access;
  /** Linux: a managed object whose holders are all gone, looked at without opening it. */
  leftover?: boolean;
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
may write it (access readwrite) or only read it (readonly). It is never created, and nothing
is changed: the region is mapped read-only.

On Linux it also shows its object in /dev/shm (mode, owner, and whether it goes away with its
last holder or persists), and which other processes have it mapped, from /proc/*/maps: all of
them for root, only this user's own otherwise (the others are counted as not readable). A
leftover (an object named-shm manages whose holders are all gone) is shown as such without
being opened, so it stays; the next open of the name removes it.`,
  run({ values, positionals }, io) {
    const [name] = positionals as [string];
    const looked = lookAt(name);
    let result: Info;
    if (looked?.leftover) {
      // Opening it would remove it.
      result = { name, size: looked.size, capacity: Math.floor(looked.size / 2), leftover: true };
      describeObject(result, looked.path, looked);
    } else {
      const { region, access } = openToInspect(name, hasShmDir ? objectPath(name) : undefined);
      try {
        result = { name, size: region.size, capacity: region.capacity, access };
        if (hasShmDir) {
          result.leftover = false;
          let object: ShmObject | undefined;
          try {
            object = statObject(objectPath(name));
          } catch {
            // removed by name meanwhile (rm): what we mapped has no name any more
          }
          if (object) describeObject(result, objectPath(name), object);
        }
      } finally {
        region.close();
      }
    }
    if (flag(values, 'json')) {
      io.out(safeJson(result));
      return EXIT_OK;
    }
    for (const [key, value] of rows(result)) io.out(`${`${key}:`.padEnd(11)}${value}`);
    return EXIT_OK;
  },
};

function describeObject(result: Info, path: string, object: ShmObject): void {
  result.object = { path, mode: octal(object.mode), uid: object.uid, managed: object.managed };
  const scan = scanMaps(new Set([object.key]));
  result.mappedBy = scan.mappers.get(object.key) ?? [];
  result.unreadable = scan.unreadable;
}

/** The text form; every string from outside (the name, command lines) is escaped. */
function rows(result: Info): [string, string][] {
  const rows: [string, string][] = [
    ['name', shown(result.name)],
    ['size', `${result.size} bytes (${result.capacity} UTF-16 units)`],
    ['access', result.access ?? 'not known: a leftover is not opened'],
  ];
  if (result.object) {
    const o = result.object;
    rows.push(['object', `${shown(o.path)}, mode ${o.mode}, uid ${o.uid}`]);
    rows.push(['lifetime', lifetimeOf({ managed: o.managed, leftover: result.leftover === true })]);
  }
  if (result.mappedBy) {
    // Commands are escaped already (commandOf); cutting one leaves no control character whole.
    const list = result.mappedBy.map((m) => `${m.pid} (${cut(m.command, 80)})`);
    let text = list.length ? list.join(', ') : 'no other process';
    if (result.unreadable) text += `; ${result.unreadable} ${result.unreadable === 1 ? 'process' : 'processes'} not readable`;
    rows.push(['mapped by', text]);
  } else {
    rows.push(['mapped by', hasShmDir ? 'not known: no object at the name' : `not known on ${process.platform}`]);
  }
  return rows;
}

/** At most `max` code points (a pair is never split), with ... when cut. */
function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 3).join('')}...` : text;
}
