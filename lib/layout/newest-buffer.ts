// The multi-buffer pattern of foreign publishers (iRacing's varBuf[], for one): several copies
// of a record, each with a tick count that the publisher raises after writing it. A reader picks
// the buffer with the highest tick, copies it, and reads that tick again: unchanged, the copy is
// whole; changed, the publisher came round to that buffer meanwhile, so it starts over.
import { invalidArgType, invalidArgValue, outOfRange, systemError } from '../errors.js';
import { checkOptionsObject } from '../validate.js';

export type TickType = 'int32' | 'uint32' | 'int64' | 'uint64';

export interface NewestOptions {
  /** How each tick is stored. Default `'int32'` (iRacing's `int tickCount`). */
  tickType?: TickType;
  /** Milliseconds to keep retrying before ETIMEDOUT. Default 1000. */
  timeout?: number;
}

const READ: Record<TickType, (v: DataView, at: number) => number | bigint> = {
  int32: (v, at) => v.getInt32(at, true),
  uint32: (v, at) => v.getUint32(at, true),
  int64: (v, at) => v.getBigInt64(at, true),
  uint64: (v, at) => v.getBigUint64(at, true),
};

export interface Ticked {
  readonly view: DataView;
  readonly size: number;
  readonly name: string;
  live(): void;
}

export function readNewest<T>(r: Ticked, tickOffsets: readonly number[], fn: (index: number) => T, options?: NewestOptions): T {
  if (!Array.isArray(tickOffsets)) throw invalidArgType('tickOffsets', 'an array of byte offsets', tickOffsets);
  if (tickOffsets.length === 0) throw invalidArgValue('tickOffsets', tickOffsets, 'must name at least one buffer');
  if (typeof fn !== 'function') throw invalidArgType('fn', 'of type function', fn);
  const o = checkOptionsObject(options, 'options', ['tickType', 'timeout']);
  const tickType = (o.tickType ?? 'int32') as TickType;
  if (!Object.hasOwn(READ, tickType)) throw invalidArgValue('options.tickType', o.tickType, "must be 'int32', 'uint32', 'int64' or 'uint64'");
  const width = tickType.endsWith('64') ? 8 : 4;
  tickOffsets.forEach((at, i) => {
    if (typeof at !== 'number') throw invalidArgType(`tickOffsets[${i}]`, 'of type number', at);
    if (!Number.isInteger(at) || at < 0 || at + width > r.size) throw outOfRange(`tickOffsets[${i}]`, `an integer from 0 to ${r.size - width}`, at);
  });
  const timeout = o.timeout === undefined ? 1000 : (o.timeout as number);
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) throw outOfRange('options.timeout', '>= 0 (milliseconds) or Infinity', timeout);
  const read = READ[tickType];
  const deadline = performance.now() + timeout;
  for (;;) {
    r.live();
    let best = 0;
    let bestTick = read(r.view, tickOffsets[0]!);
    for (let i = 1; i < tickOffsets.length; i++) {
      const t = read(r.view, tickOffsets[i]!);
      if (t > bestTick) {
        best = i;
        bestTick = t;
      }
    }
    const result = fn(best);
    r.live();
    if (read(r.view, tickOffsets[best]!) === bestTick) return result;
    if (performance.now() > deadline) {
      throw systemError('ETIMEDOUT', 'readNewest', { region: r.name }, `the newest buffer kept changing under the copy for ${timeout} ms`);
    }
  }
}
