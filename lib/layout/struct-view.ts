// A struct view: an object whose properties read and write one record of the mapping in place.
// Each layout gets a class whose prototype has one accessor per field, so a property read is a
// check that the region is open and one DataView call, with no allocation for numbers.
import { invalidArgType, outOfRange } from '../errors.js';
import type { Layout, LayoutField } from './layout.js';
import { checkLive, checkWritable, type Place } from './place.js';
import { SCALARS, type ScalarType } from './scalar-types.js';
import { planField, planRecord, readRecord } from './field-values.js';
import { readText, type TextField } from './text-fields.js';

/** The record of `layout` at `base`, read and written in place. */
export class StructView {
  readonly #p: Place;
  readonly #base: number;
  readonly #layout: Layout;
  readonly #children = new Map<string, unknown>();

  constructor(p: Place, base: number, layout: Layout) {
    this.#p = p;
    this.#base = base;
    this.#layout = layout;
  }

  /** Copies the whole record into a plain object. */
  read(): Record<string, unknown> {
    checkLive(this.#p);
    return readRecord(this.#p, this.#base, this.#layout);
  }

  /** Stores the fields of `partial` (nested ones may be partial too): all are checked before any is stored. */
  write(partial: Record<string, unknown>): void {
    checkWritable(this.#p);
    planRecord(this.#layout, partial, 'partial')(this.#p, this.#base);
  }

  static accessor(f: LayoutField): PropertyDescriptor {
    const at = f.offset;
    const name = f.name;
    const store = function (this: StructView, value: unknown) {
      checkWritable(this.#p);
      planField(f, value, name)(this.#p, this.#base);
    };
    switch (f.kind) {
      case 'scalar': {
        const s = SCALARS[f.type as ScalarType];
        if (f.type === 'float64') {
          // The hot case of telemetry, written out so that it inlines as a hand-written DataView read.
          return {
            get(this: StructView) {
              const p = this.#p;
              if (p.held.native === undefined) checkLive(p);
              return p.view.getFloat64(this.#base + at, true);
            },
            set(this: StructView, value: unknown) {
              const p = this.#p;
              if (typeof value !== 'number' || p.held.native === undefined || !p.writable) return store.call(this, value);
              p.view.setFloat64(this.#base + at, value, true);
            },
            enumerable: true,
          };
        }
        return {
          get(this: StructView) {
            checkLive(this.#p);
            return s.get(this.#p.view, this.#base + at);
          },
          set(this: StructView, value: unknown) {
            checkWritable(this.#p);
            s.set(this.#p.view, this.#base + at, s.check(value, name) as never);
          },
          enumerable: true,
        };
      }
      case 'string':
        return {
          get(this: StructView) {
            const p = this.#p;
            checkLive(p);
            p.pull?.(this.#base + at, f.size);
            return readText(p.buf, this.#base + at, f as TextField);
          },
          set: store,
          enumerable: true,
        };
      case 'struct':
      case 'array': {
        // A nested view or array-like, made once per view on first use.
        const make = f.kind === 'struct' ? (p: Place, base: number) => makeStruct(p, base, f.type as Layout) : (p: Place, base: number) => makeArray(p, base, f);
        return {
          get(this: StructView) {
            checkLive(this.#p);
            let child = this.#children.get(name);
            if (!child) this.#children.set(name, (child = make(this.#p, this.#base + at)));
            return child;
          },
          set: store,
          enumerable: true,
        };
      }
    }
  }
}

const classes = new WeakMap<Layout, new (p: Place, base: number, layout: Layout) => StructView>();

export function makeStruct(p: Place, base: number, layout: Layout): StructView {
  let View = classes.get(layout);
  if (!View) {
    View = class extends StructView {};
    for (const f of layout.fields) Object.defineProperty(View.prototype, f.name, StructView.accessor(f));
    classes.set(layout, View);
  }
  return new View(p, base, layout);
}

const INDEX = /^(0|[1-9]\d*)$/;

/** A fixed array in the mapping, as an array-like: `a[i]`, `a.length`, iteration, `toArray()`. Stores are checked as fields are. */
class ArrayView {
  readonly length: number;
  constructor(
    readonly p: Place,
    readonly base: number,
    readonly field: LayoutField,
    readonly items: unknown[],
  ) {
    this.length = field.length!;
  }

  element(i: number): LayoutField {
    const stride = this.field.size / this.length;
    const kind = typeof this.field.type === 'object' ? 'struct' : 'scalar';
    return { ...this.field, kind, offset: i * stride, size: stride };
  }

  at(i: number): unknown {
    checkLive(this.p);
    if (typeof this.field.type === 'object') {
      return (this.items[i] ??= makeStruct(this.p, this.base + (i * this.field.size) / this.length, this.field.type));
    }
    return SCALARS[this.field.type as ScalarType].get(this.p.view, this.base + (i * this.field.size) / this.length);
  }

  put(i: number, value: unknown): void {
    checkWritable(this.p);
    planField(this.element(i), value, `${this.field.name}[${i}]`)(this.p, this.base);
  }

  /** A copy: a typed array for numbers, an array for booleans and nested records. */
  toArray(): unknown {
    checkLive(this.p);
    return readRecord(this.p, this.base - this.field.offset, { fields: [this.field] } as unknown as Layout)[this.field.name];
  }

  *[Symbol.iterator](): IterableIterator<unknown> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}

function makeArray(p: Place, base: number, field: LayoutField): unknown {
  const target = new ArrayView(p, base, field, []);
  return new Proxy(target, {
    get(t, key) {
      if (typeof key === 'string' && INDEX.test(key)) {
        const i = Number(key);
        return i < t.length ? t.at(i) : undefined;
      }
      // Only the array-like surface: the target's own fields lead to the mapping's ArrayBuffer.
      if (key === 'length') return t.length;
      if (key === 'toArray') return () => t.toArray();
      if (key === Symbol.iterator) return () => t[Symbol.iterator]();
      return undefined;
    },
    set(t, key, value) {
      if (typeof key === 'string' && INDEX.test(key)) {
        const i = Number(key);
        if (i >= t.length) throw outOfRange(`${field.name} index`, `an integer >= 0 and < ${t.length}`, i);
        t.put(i, value);
        return true;
      }
      throw invalidArgType(`${field.name}.${String(key)}`, 'an element index', value);
    },
    has(t, key) {
      return typeof key === 'string' && INDEX.test(key) ? Number(key) < t.length : Reflect.has(t, key);
    },
  });
}
