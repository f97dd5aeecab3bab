// A DataView over a region's shadow (copying-memory.ts) that refreshes the bytes it reads from
// the mapping first and stores the bytes it wrote to the mapping afterwards, so struct views and
// scalar tables run unchanged where the runtime refuses a buffer over the mapping.
type Copy = (at: number, count: number) => void;

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

  #in(at: number, count: number): void {
    if (at < 0 || at + count > this.byteLength) return; // DataView's own RangeError follows
    this.#pull(at, count);
  }

  override getInt8(at: number): number {
    this.#in(at, 1);
    return super.getInt8(at);
  }
  override getUint8(at: number): number {
    this.#in(at, 1);
    return super.getUint8(at);
  }
  override getInt16(at: number, le?: boolean): number {
    this.#in(at, 2);
    return super.getInt16(at, le);
  }
  override getUint16(at: number, le?: boolean): number {
    this.#in(at, 2);
    return super.getUint16(at, le);
  }
  override getInt32(at: number, le?: boolean): number {
    this.#in(at, 4);
    return super.getInt32(at, le);
  }
  override getUint32(at: number, le?: boolean): number {
    this.#in(at, 4);
    return super.getUint32(at, le);
  }
  override getFloat32(at: number, le?: boolean): number {
    this.#in(at, 4);
    return super.getFloat32(at, le);
  }
  override getFloat64(at: number, le?: boolean): number {
    this.#in(at, 8);
    return super.getFloat64(at, le);
  }
  override getBigInt64(at: number, le?: boolean): bigint {
    this.#in(at, 8);
    return super.getBigInt64(at, le);
  }
  override getBigUint64(at: number, le?: boolean): bigint {
    this.#in(at, 8);
    return super.getBigUint64(at, le);
  }

  override setInt8(at: number, value: number): void {
    super.setInt8(at, value);
    this.#push(at, 1);
  }
  override setUint8(at: number, value: number): void {
    super.setUint8(at, value);
    this.#push(at, 1);
  }
  override setInt16(at: number, value: number, le?: boolean): void {
    super.setInt16(at, value, le);
    this.#push(at, 2);
  }
  override setUint16(at: number, value: number, le?: boolean): void {
    super.setUint16(at, value, le);
    this.#push(at, 2);
  }
  override setInt32(at: number, value: number, le?: boolean): void {
    super.setInt32(at, value, le);
    this.#push(at, 4);
  }
  override setUint32(at: number, value: number, le?: boolean): void {
    super.setUint32(at, value, le);
    this.#push(at, 4);
  }
  override setFloat32(at: number, value: number, le?: boolean): void {
    super.setFloat32(at, value, le);
    this.#push(at, 4);
  }
  override setFloat64(at: number, value: number, le?: boolean): void {
    super.setFloat64(at, value, le);
    this.#push(at, 8);
  }
  override setBigInt64(at: number, value: bigint, le?: boolean): void {
    super.setBigInt64(at, value, le);
    this.#push(at, 8);
  }
  override setBigUint64(at: number, value: bigint, le?: boolean): void {
    super.setBigUint64(at, value, le);
    this.#push(at, 8);
  }
}
