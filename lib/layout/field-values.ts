// Reading a field into a plain value, and checking a value before anything is stored, so that a
// struct.write() that fails writes nothing.
import { invalidArgType, invalidArgValue, outOfRange } from '../errors.js';
import type { Layout, LayoutField } from './layout.js';
import { SCALARS, type ScalarType } from './scalar-types.js';
import { encodeText, readText, storeText, type TextField } from './text-fields.js';
import type { Place } from './place.js';

export type Store = (p: Place, base: number) => void;

const TYPED = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array, float32: Float32Array, float64: Float64Array,
} as const;

/** A copy of every field of `layout` at `base`: numbers, bigints, booleans, strings, typed arrays. */
export function readRecord(p: Place, base: number, layout: Layout): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of layout.fields) out[f.name] = readField(p, base + f.offset, f);
  return out;
}

function readField(p: Place, at: number, f: LayoutField): unknown {
  switch (f.kind) {
    case 'scalar':
      return SCALARS[f.type as ScalarType].get(p.view, at);
    case 'string':
      p.pull?.(at, f.size);
      return readText(p.buf, at, f as TextField);
    case 'struct':
      return readRecord(p, at, f.type as Layout);
    case 'array': {
      if (f.type === 'bool') return Array.from({ length: f.length! }, (_, i) => p.view.getUint8(at + i) !== 0);
      if (typeof f.type === 'object') {
        const inner = f.type;
        return Array.from({ length: f.length! }, (_, i) => readRecord(p, at + i * inner.size, inner));
      }
      // A byte copy then a typed view of it: one memcpy, whatever the field's alignment.
      const Typed = TYPED[f.type as Exclude<ScalarType, 'bool'>];
      p.pull?.(at, f.size);
      return new Typed((p.view.buffer as ArrayBuffer).slice(p.view.byteOffset + at, p.view.byteOffset + at + f.size));
    }
  }
}

/** Checks `value` for field `f` and returns what stores it, or throws an argument error naming `path`. */
export function planField(f: LayoutField, value: unknown, path: string): Store {
  const at = f.offset;
  switch (f.kind) {
    case 'scalar': {
      const s = SCALARS[f.type as ScalarType];
      const v = s.check(value, path);
      return (p, base) => s.set(p.view, base + at, v as never);
    }
    case 'string': {
      const bytes = encodeText(value, f as TextField, path);
      return (p, base) => {
        storeText(p.buf, base + at, f as TextField, bytes);
        p.push?.(base + at, f.size);
      };
    }
    case 'struct': {
      const inner = planRecord(f.type as Layout, value, path);
      return (p, base) => inner(p, base + at);
    }
    case 'array': {
      if (value === null || typeof value !== 'object' || typeof (value as { length?: unknown }).length !== 'number') {
        throw invalidArgType(path, 'an array or typed array', value);
      }
      const items = value as ArrayLike<unknown>;
      if (items.length !== f.length) throw outOfRange(`${path}.length`, `${f.length} (the field's length)`, items.length);
      const stride = f.size / f.length!;
      const stores: Store[] = [];
      for (let i = 0; i < items.length; i++) {
        const element: LayoutField = typeof f.type === 'object'
          ? { ...f, kind: 'struct', offset: at + i * stride, size: stride }
          : { ...f, kind: 'scalar', offset: at + i * stride, size: stride };
        stores.push(planField(element, items[i], `${path}[${i}]`));
      }
      return (p, base) => { for (const s of stores) s(p, base); };
    }
  }
}

/** Checks a partial record (any subset of the fields, nested ones partial too) and returns its store. */
export function planRecord(layout: Layout, value: unknown, path: string): Store {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArgType(path, 'of type object', value);
  const stores: Store[] = [];
  for (const key of Object.keys(value)) {
    const f = layout.fields.find((x) => x.name === key);
    if (!f) throw invalidArgValue(`${path}.${key}`, (value as Record<string, unknown>)[key], `is not a field of the layout (fields: ${layout.fields.map((x) => x.name).join(', ')})`);
    stores.push(planField(f, (value as Record<string, unknown>)[key], `${path}.${key}`));
  }
  return (p, base) => { for (const s of stores) s(p, base); };
}
