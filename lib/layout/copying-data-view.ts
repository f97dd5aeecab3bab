// A DataView over a region's shadow (copying-memory.ts) that refreshes the bytes it reads from
// the mapping first and stores the bytes it wrote to the mapping afterwards, so struct views and
// scalar tables run unchanged where the runtime refuses a buffer over the mapping.
type Copy = (at: number, count: number) => void;
type Accessor = (this: DataView, at: number, ...rest: unknown[]) => unknown;

/** Each of DataView's get/set pairs, and the bytes one access touches. */
const WIDTHS = { Int8: 1, Uint8: 1, Int16: 2, Uint16: 2, Int32: 4, Uint32: 4, Float32: 4, Float64: 8, BigInt64: 8, BigUint64: 8 };

// Through a plainly typed constructor: extending DataView directly trips the type checker here.
const BaseDataView: new (buffer: ArrayBuffer) => DataView = DataView;

export class CopyingDataView extends BaseDataView {
  readonly #pull: Copy;
  readonly #push: Copy;

  constructor(buffer: ArrayBuffer, pull: Copy, push: Copy) {
    super(buffer);
    this.#pull = pull;
    this.#push = push;
  }

  static {
    const base = DataView.prototype as unknown as Record<string, Accessor>;
    for (const [type, width] of Object.entries(WIDTHS)) {
      const get = base[`get${type}`]!;
      const set = base[`set${type}`]!;
      Object.defineProperty(CopyingDataView.prototype, `get${type}`, {
        value(this: CopyingDataView, at: number, littleEndian?: boolean) {
          // Out of range: no copy, and DataView's own RangeError follows.
          if (at >= 0 && at + width <= this.byteLength) this.#pull(at, width);
          return get.call(this, at, littleEndian);
        },
        writable: true,
        configurable: true,
      });
      Object.defineProperty(CopyingDataView.prototype, `set${type}`, {
        value(this: CopyingDataView, at: number, value: unknown, littleEndian?: boolean) {
          set.call(this, at, value, littleEndian);
          this.#push(at, width);
        },
        writable: true,
        configurable: true,
      });
    }
  }
}
