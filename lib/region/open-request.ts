// Turns what a caller passed to open/create/openExisting into the request a backend acts on,
// checking every value first: nothing unchecked may reach the OS.
import type { OpenIntent, OpenRequest } from './backend.js';
import { invalidArgType, invalidArgValue } from '../errors.js';
import { zeroCopyAvailable, zeroCopyRequired } from './zero-copy.js';
import { checkBoolean, checkOptionsObject, checkSecurityDescriptor, checkSize, modeOrOwnerOnly, parseName } from '../validate.js';

/** The sample's region: its name and size. */
export const DEFAULT_NAME = 'dllmemfilemap';
export const DEFAULT_SIZE = 4096;

const KNOWN_OPTIONS: Record<OpenIntent, readonly string[]> = {
  'open-or-create': ['size', 'access', 'mode', 'persist', 'securityDescriptor', 'zeroCopy'],
  create: ['size', 'access', 'mode', 'persist', 'securityDescriptor', 'zeroCopy'],
  open: ['size', 'access', 'persist', 'zeroCopy'],
};

export function buildRequest(name: unknown, options: unknown, intent: OpenIntent): OpenRequest {
  const parsed = parseName(name);
  const o = checkOptionsObject(options, 'options', KNOWN_OPTIONS[intent]);
  let readOnly = false;
  if (o.access !== undefined) {
    if (o.access !== 'readwrite' && o.access !== 'readonly') {
      if (typeof o.access !== 'string') throw invalidArgType('options.access', 'of type string', o.access);
      throw invalidArgValue('options.access', o.access, "must be 'readwrite' or 'readonly'");
    }
    readOnly = o.access === 'readonly';
  }
  if (readOnly && intent === 'create') {
    throw invalidArgValue('options.access', o.access, 'cannot be readonly when creating a region');
  }
  const size = o.size === undefined ? (intent === 'open' ? undefined : DEFAULT_SIZE) : checkSize(o.size);
  const securityDescriptor = checkSecurityDescriptor(o.securityDescriptor);
  const zeroCopy = o.zeroCopy === undefined ? zeroCopyAvailable() : checkBoolean(o.zeroCopy, 'options.zeroCopy');
  if (zeroCopy && !zeroCopyAvailable()) throw zeroCopyRequired('{ zeroCopy: true }', '{ zeroCopy: false }, or no zeroCopy option');
  return {
    name: parsed,
    // A read-only mapping of a region nobody wrote would only ever hold zeros: open only.
    intent: readOnly ? 'open' : intent,
    size,
    readOnly,
    mode: modeOrOwnerOnly(o.mode),
    persist: o.persist === undefined ? false : checkBoolean(o.persist, 'options.persist'),
    securityDescriptor,
    zeroCopy,
  };
}
