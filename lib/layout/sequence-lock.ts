// A sequence lock in the region, so that a reader gets a record whole while another process
// writes it, and C programs can take part. The sequence is a native-endian uint32 at a 4-aligned
// offset of the region. A writer moves it from even s to odd s + 1 (compare-and-swap, so writers
// exclude each other), writes, then stores s + 2. A reader reads it (s1, retried while odd),
// reads the record, reads it again (s2), and keeps its copy only when s1 === s2.
import { invalidArgType, invalidArgValue, outOfRange, systemError } from '../errors.js';
import { checkBoolean, checkOptionsObject } from '../validate.js';

export interface ConsistentOptions {
  /** Byte offset of the uint32 sequence in the region; a multiple of 4. Default 0. */
  sequenceOffset?: number;
  /** Milliseconds to keep retrying before ETIMEDOUT. Default 1000. */
  timeout?: number;
}

export interface WriteConsistentOptions extends ConsistentOptions {
  /** After `timeout` ms of an odd sequence that does not move (a writer died mid-write), take it over instead of throwing. */
  takeOver?: boolean;
}

export interface Sequenced {
  /** Int32 view of the region's whole words. */
  readonly words: Int32Array;
  readonly size: number;
  readonly name: string;
  /** Throws when the region is closed (checked before each look at the sequence). */
  live(): void;
}

const backoff = new Int32Array(new SharedArrayBuffer(4));

/** Spins first (a writer holds the sequence for microseconds), then sleeps 50 µs between looks. */
function pause(spins: number): void {
  if (spins > 200) Atomics.wait(backoff, 0, 0, 0.05);
}

function parse(options: unknown, size: number, keys: string[]): { index: number; offset: number; timeout: number; takeOver: boolean } {
  const o = checkOptionsObject(options, 'options', keys);
  let offset = 0;
  if (o.sequenceOffset !== undefined) {
    if (typeof o.sequenceOffset !== 'number') throw invalidArgType('options.sequenceOffset', 'of type number', o.sequenceOffset);
    offset = o.sequenceOffset;
  }
  if (!Number.isInteger(offset) || offset < 0 || offset % 4 !== 0 || offset + 4 > size) {
    throw outOfRange('options.sequenceOffset', `a multiple of 4 from 0 to ${size - 4}`, offset);
  }
  let timeout = 1000;
  if (o.timeout !== undefined) {
    if (typeof o.timeout !== 'number') throw invalidArgType('options.timeout', 'of type number', o.timeout);
    if (Number.isNaN(o.timeout) || o.timeout < 0) throw outOfRange('options.timeout', '>= 0 (milliseconds) or Infinity', o.timeout);
    timeout = o.timeout;
  }
  const takeOver = o.takeOver === undefined ? false : checkBoolean(o.takeOver, 'options.takeOver');
  return { index: offset / 4, offset, timeout, takeOver };
}

function checkFn(fn: unknown): asserts fn is (...args: never[]) => unknown {
  if (typeof fn !== 'function') throw invalidArgType('fn', 'of type function', fn);
}

function refuseAsync(result: unknown): void {
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    throw invalidArgValue('fn', result, 'must be synchronous: a promise would read or write after the sequence was checked');
  }
}

function timedOut(r: Sequenced, syscall: string, detail: string): Error {
  return systemError('ETIMEDOUT', syscall, { region: r.name }, detail);
}

export function readConsistent<T>(r: Sequenced, fn: () => T, options?: ConsistentOptions): T {
  checkFn(fn);
  const { index, offset, timeout } = parse(options, r.size, ['sequenceOffset', 'timeout']);
  const deadline = performance.now() + timeout;
  for (let spins = 0; ; spins++) {
    r.live();
    const s1 = Atomics.load(r.words, index);
    if ((s1 & 1) === 0) {
      let result: T | undefined;
      let failure: unknown;
      let failed = false;
      try {
        result = fn();
      } catch (e) {
        failed = true;
        failure = e;
      }
      r.live();
      if (Atomics.load(r.words, index) === s1) {
        if (failed) throw failure;
        refuseAsync(result);
        return result as T;
      }
    }
    if (spins % 16 === 15 && performance.now() > deadline) {
      throw timedOut(r, 'readConsistent', `the sequence at offset ${offset} stayed odd or kept changing for ${timeout} ms (a writer stopped or died while writing?)`);
    }
    pause(spins);
  }
}

export function writeConsistent<T>(r: Sequenced, fn: () => T, options?: WriteConsistentOptions): T {
  checkFn(fn);
  const { index, offset, timeout, takeOver } = parse(options, r.size, ['sequenceOffset', 'timeout', 'takeOver']);
  let deadline = performance.now() + timeout;
  let seen = -1;
  let mine: number;
  for (let spins = 0; ; spins++) {
    r.live();
    const s = Atomics.load(r.words, index);
    if ((s & 1) === 0 && Atomics.compareExchange(r.words, index, s, (s + 1) | 0) === s) {
      mine = (s + 1) | 0;
      break;
    }
    // Another writer is writing; the deadline runs from the last move of the sequence.
    if (s !== seen) {
      seen = s;
      deadline = performance.now() + timeout;
    } else if (spins % 16 === 15 && performance.now() > deadline) {
      if (takeOver && (s & 1) === 1 && Atomics.compareExchange(r.words, index, s, (s + 2) | 0) === s) {
        mine = (s + 2) | 0;
        break;
      }
      if (!takeOver) {
        throw timedOut(r, 'writeConsistent', `the sequence at offset ${offset} stayed odd for ${timeout} ms: a writer stopped or died while writing (options.takeOver lets this one go on)`);
      }
    }
    pause(spins);
  }
  let result: T;
  try {
    result = fn();
  } finally {
    r.live();
    Atomics.store(r.words, index, (mine + 1) | 0);
  }
  refuseAsync(result);
  return result;
}
