// A C struct's layout, computed as a C compiler does: each field at the next multiple of
// min(its alignment, pack), the struct's alignment the largest of those, its size rounded up to
// it. koffi computes the same for natural alignment and pack(1) (test/layout-c.test.ts checks
// that they agree) but has no pack(2|4|8) nor explicit offsets, which foreign headers need, so
// one algorithm here serves every case.
import { invalidArgType, invalidArgValue, outOfRange } from '../errors.js';
import { checkOptionsObject } from '../validate.js';
import { SCALARS, isScalarType, type ScalarType } from './scalar-types.js';

export type TextEncoding = 'utf8' | 'latin1' | 'utf16le';

/** What a field is: a scalar, a fixed array, a string of fixed room, or a nested layout. */
export type FieldSpec =
  | string
  | Layout
  | { type: string | Layout; length?: number; offset?: number }
  | { char: number; encoding?: 'utf8' | 'latin1'; offset?: number }
  | { wchar: number; offset?: number };

export interface LayoutOptions {
  /** As `#pragma pack(n)`: no field is aligned to more than `n` bytes. Default: natural alignment. */
  pack?: 1 | 2 | 4 | 8;
  /** The struct's size when a foreign header declares more than its fields reach. */
  size?: number;
}

export interface LayoutField {
  readonly name: string;
  readonly kind: 'scalar' | 'array' | 'string' | 'struct';
  /** A scalar type, `'char'`/`'wchar'` for strings, or the nested Layout. */
  readonly type: ScalarType | 'char' | 'wchar' | Layout;
  readonly offset: number;
  /** Bytes the whole field takes, as C's sizeof. */
  readonly size: number;
  readonly align: number;
  /** Elements of an array, or the room of a string in units (bytes for char, UTF-16 units for wchar). */
  readonly length?: number;
  readonly encoding?: TextEncoding;
}

// Names a struct view gives its own methods, and names that would make it look like something else.
const RESERVED = new Set(['read', 'write', 'constructor', '__proto__', 'then', 'toJSON']);
const SHAPE = /^([a-z0-9]+)(?:\[(\d+)\])?$/;

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function checkCount(value: unknown, path: string): number {
  if (typeof value !== 'number') throw invalidArgType(path, 'of type number', value);
  if (!Number.isSafeInteger(value) || value < 1) throw outOfRange(path, 'an integer >= 1', value);
  return value;
}

interface Parsed {
  kind: LayoutField['kind'];
  type: LayoutField['type'];
  length?: number;
  encoding?: TextEncoding;
  offset?: number;
}

function parseSpec(spec: unknown, path: string): Parsed {
  if (spec instanceof Layout) return { kind: 'struct', type: spec };
  if (typeof spec === 'string') {
    const m = SHAPE.exec(spec);
    const base = m?.[1];
    const count = m?.[2] === undefined ? undefined : Number(m[2]);
    if (base === 'char' || base === 'wchar') {
      if (count === undefined || count < 1) throw invalidArgValue(path, spec, `must give its room, as '${base}[32]'`);
      return { kind: 'string', type: base, length: count, encoding: base === 'char' ? 'utf8' : 'utf16le' };
    }
    if (base === undefined || !isScalarType(base)) {
      throw invalidArgValue(path, spec, 'must be int8…int64, uint8…uint64, float32, float64, bool, char[N] or wchar[N], optionally as an array T[N]');
    }
    if (count === undefined) return { kind: 'scalar', type: base };
    if (count < 1) throw outOfRange(`${path} length`, 'an integer >= 1', count);
    return { kind: 'array', type: base, length: count };
  }
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw invalidArgType(path, 'a type name, a Layout or a field object', spec);
  }
  const o = spec as Record<string, unknown>;
  const offset = o.offset === undefined ? undefined : checkOffsetField(o.offset, `${path}.offset`);
  if ('char' in o || 'wchar' in o) {
    const wide = 'wchar' in o;
    checkOptionsObject(o, path, wide ? ['wchar', 'offset'] : ['char', 'encoding', 'offset']);
    const length = checkCount(wide ? o.wchar : o.char, `${path}.${wide ? 'wchar' : 'char'}`);
    let encoding: TextEncoding = wide ? 'utf16le' : 'utf8';
    if (!wide && o.encoding !== undefined) {
      if (o.encoding !== 'utf8' && o.encoding !== 'latin1') throw invalidArgValue(`${path}.encoding`, o.encoding, "must be 'utf8' or 'latin1'");
      encoding = o.encoding;
    }
    return { kind: 'string', type: wide ? 'wchar' : 'char', length, encoding, offset };
  }
  checkOptionsObject(o, path, ['type', 'length', 'offset']);
  const inner = parseSpec(o.type, `${path}.type`);
  if (o.length === undefined) return { ...inner, offset };
  if (inner.kind === 'array' || inner.kind === 'string') {
    throw invalidArgValue(`${path}.type`, o.type, 'must be a scalar type or a Layout when a length is given (arrays of arrays are not supported)');
  }
  return { kind: 'array', type: inner.type, length: checkCount(o.length, `${path}.length`), offset };
}

function checkOffsetField(value: unknown, path: string): number {
  if (typeof value !== 'number') throw invalidArgType(path, 'of type number', value);
  if (!Number.isSafeInteger(value) || value < 0) throw outOfRange(path, 'an integer >= 0', value);
  return value;
}

function elementSize(p: Parsed): { size: number; align: number } {
  if (p.type instanceof Layout) return { size: p.type.size, align: p.type.align };
  if (p.type === 'char') return { size: 1, align: 1 };
  if (p.type === 'wchar') return { size: 2, align: 2 };
  const size = SCALARS[p.type].size;
  return { size, align: size };
}

/** The layout of a C struct: its fields' offsets, its size and alignment. */
export class Layout {
  readonly size: number;
  readonly align: number;
  readonly pack: number | undefined;
  readonly fields: readonly LayoutField[];
  readonly #byName = new Map<string, LayoutField>();

  constructor(fields: Record<string, FieldSpec>, options?: LayoutOptions) {
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) throw invalidArgType('fields', 'of type object', fields);
    const o = checkOptionsObject(options, 'options', ['pack', 'size']);
    if (o.pack !== undefined && ![1, 2, 4, 8].includes(o.pack as number)) throw invalidArgValue('options.pack', o.pack, 'must be 1, 2, 4 or 8');
    this.pack = o.pack as number | undefined;
    const names = Object.keys(fields);
    if (names.length === 0) throw invalidArgValue('fields', fields, 'must have at least one field');
    const list: LayoutField[] = [];
    let cursor = 0;
    let end = 0;
    let align = 1;
    for (const name of names) {
      // Integer-like keys come first in a JavaScript object whatever their written order.
      if (/^(0|[1-9]\d*)$/.test(name)) throw invalidArgValue(`fields.${name}`, name, 'must not be an integer: JavaScript would reorder it');
      if (RESERVED.has(name)) throw invalidArgValue(`fields.${name}`, name, `is reserved (${[...RESERVED].join(', ')})`);
      const p = parseSpec((fields as Record<string, unknown>)[name], `fields.${name}`);
      const one = elementSize(p);
      const fieldAlign = Math.min(one.align, this.pack ?? Infinity);
      const size = one.size * (p.kind === 'array' || p.kind === 'string' ? p.length! : 1);
      const offset = p.offset ?? roundUp(cursor, fieldAlign);
      // Past 2^53 offsets lose their exactness; no region is that large anyway.
      if (!Number.isSafeInteger(offset + size)) throw outOfRange(`fields.${name}`, `a field that ends below ${Number.MAX_SAFE_INTEGER} bytes`, offset + size);
      const field: LayoutField = { name, kind: p.kind, type: p.type, offset, size, align: fieldAlign };
      if (p.length !== undefined) Object.assign(field, { length: p.length });
      if (p.encoding !== undefined) Object.assign(field, { encoding: p.encoding });
      list.push(Object.freeze(field));
      this.#byName.set(name, field);
      cursor = offset + size;
      end = Math.max(end, cursor);
      align = Math.max(align, fieldAlign);
    }
    this.align = align;
    const natural = roundUp(end, align);
    if (o.size !== undefined) {
      if (typeof o.size !== 'number') throw invalidArgType('options.size', 'of type number', o.size);
      if (!Number.isSafeInteger(o.size) || o.size < end) throw outOfRange('options.size', `an integer >= ${end} (where the last field ends)`, o.size);
      this.size = o.size;
    } else this.size = natural;
    this.fields = Object.freeze(list);
    Object.freeze(this);
  }

  /** The field named `name`, or the nested one at a dotted path such as `'pos.x'`. */
  field(name: string): LayoutField {
    if (typeof name !== 'string') throw invalidArgType('field', 'of type string', name);
    const [head, ...rest] = name.split('.');
    const f = this.#byName.get(head!);
    if (!f) throw invalidArgValue('field', name, `is not a field of this layout (fields: ${[...this.#byName.keys()].join(', ')})`);
    if (rest.length === 0) return f;
    if (f.kind !== 'struct') throw invalidArgValue('field', name, `goes into '${head}', which is not a nested layout`);
    const inner = (f.type as Layout).field(rest.join('.'));
    return { ...inner, name, offset: f.offset + inner.offset };
  }

  /** The byte offset of a field from the struct's start, as C's offsetof; dotted paths reach nested fields. */
  offsetOf(field: string): number {
    return this.field(field).offset;
  }
}
