// What a region gives its struct views, sequence locks and tick readers: one DataView, Buffer and
// Int32Array over the mapping, made on first use, none of them handed to the user.
import { invalidArgType, outOfRange } from '../errors.js';
import { Layout } from './layout.js';
import { checkLive, type Place } from './place.js';
import type { Sequenced } from './sequence-lock.js';
import type { Ticked } from './newest-buffer.js';
import { makeStruct } from './struct-view.js';

export interface RegionAccess extends Place, Sequenced, Ticked {}

export function regionAccess(owner: object, name: string, view: ArrayBuffer, size: number, writable: boolean, held: { native: unknown }): RegionAccess {
  const access: RegionAccess = {
    view: new DataView(view, 0, size),
    buf: Buffer.from(view, 0, size),
    words: new Int32Array(view, 0, Math.floor(size / 4)),
    size,
    name,
    writable,
    held,
    owner,
    live: () => checkLive(access),
  };
  return access;
}

export function structAt(a: RegionAccess, layout: unknown, offset: unknown): unknown {
  if (!(layout instanceof Layout)) throw invalidArgType('layout', 'an instance of Layout', layout);
  if (typeof offset !== 'number') throw invalidArgType('offset', 'of type number', offset);
  if (!Number.isInteger(offset) || offset < 0 || offset + layout.size > a.size) {
    throw outOfRange('offset', `an integer >= 0 and <= ${a.size - layout.size} (the layout's ${layout.size} bytes must fit in the region's ${a.size})`, offset);
  }
  return makeStruct(a, offset, layout);
}
