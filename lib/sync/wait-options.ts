// The checks every wait shares: a timeout in milliseconds and an AbortSignal, checked as Node
// checks its own (timers/promises, events.once).
import { invalidArgType, outOfRange } from '../errors.js';

/** Milliseconds from 0 up, or Infinity (the default) to wait without limit. */
export function checkTimeout(timeout: unknown, argName = 'options.timeout'): number {
  if (timeout === undefined) return Infinity;
  if (typeof timeout !== 'number') throw invalidArgType(argName, 'of type number', timeout);
  if (Number.isNaN(timeout) || timeout < 0) throw outOfRange(argName, 'a number of milliseconds >= 0, or Infinity', timeout);
  return timeout;
}

export function checkSignal(signal: unknown, argName = 'options.signal'): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (signal === null || typeof signal !== 'object' || !('aborted' in signal) || !(signal instanceof AbortSignal)) {
    throw invalidArgType(argName, 'an instance of AbortSignal', signal);
  }
  return signal;
}

/** A change count: what `changeCount` returns, an unsigned 32-bit integer. */
export function checkCount(value: unknown, argName = 'options.since'): number {
  if (typeof value !== 'number') throw invalidArgType(argName, 'of type number', value);
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw outOfRange(argName, 'an integer >= 0 and <= 4294967295', value);
  return value;
}

/** Node's AbortError (as timers/promises and fs reject with), with the signal's reason as cause. */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}
