// What send() accepts: bytes (copied in) or a string (stored as UTF-8), checked before anything
// is written, so a refused message leaves the channel as it was.
import { invalidArgType, invalidArgValue, outOfRange } from '../errors.js';

export interface Message {
  body: Uint8Array | string;
  /** Bytes it takes in the ring, not counting the frame header. */
  length: number;
}

export function checkMessage(message: unknown, largest: number, argName = 'message'): Message {
  let length: number;
  if (typeof message === 'string') {
    if (!message.isWellFormed()) throw invalidArgValue(argName, message, 'must not contain lone surrogates (UTF-8 cannot hold them)');
    length = Buffer.byteLength(message, 'utf8');
  } else if (message instanceof Uint8Array) {
    length = message.length;
  } else {
    throw invalidArgType(argName, 'of type string or an instance of Uint8Array', message);
  }
  if (length > largest) {
    throw outOfRange(`${argName}.length`, `at most ${largest} bytes (what this channel can ever hold)`, length);
  }
  return { body: message, length };
}
