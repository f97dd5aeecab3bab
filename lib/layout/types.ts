// The types users see of layouts and struct views, apart from the code that makes them.
export { Layout, type FieldSpec, type LayoutField, type LayoutOptions } from './layout.js';
import type { Layout } from './layout.js';

/** A struct view: one property per field (numbers, bigints for 64-bit fields, booleans, strings, array-likes, nested views). */
export type StructOf<L extends Layout = Layout> = { [field: string]: any } & {
  /** Copies the whole record into a plain object. */
  read(): Record<string, unknown>;
  /** Stores the given fields; every one is checked before any is stored. */
  write(partial: Record<string, unknown>): void;
} & { readonly __layout?: L };
