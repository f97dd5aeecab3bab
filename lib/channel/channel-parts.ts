// What a Channel is made of, opened together: the region with the ring, the region's change
// counter (the data counter: senders notify it after each message), a second counter the
// receiver notifies when it frees space (`<name>#space`), the send lock (`<name>#send`), a
// robust named mutex that a sender holds while it writes a frame, and the receive lock
// (`<name>#receive`), held by the receiver for as long as it is the receiver.
import type { OpenIntent } from '../region/backend.js';
import { SharedMemory } from '../region/shared-memory.js';
import { RegionChanges } from '../region/changes.js';
import { invalidArgType, outOfRange, systemError } from '../errors.js';
import { checkOptionsObject, checkSecurityDescriptor, modeOrOwnerOnly, parseName } from '../validate.js';
import type { NativeMutex } from '../sync/backend.js';
import { syncBackend } from '../sync/os-sync.js';
import { requireZeroCopy } from '../region/zero-copy.js';
import { DEFAULT_CAPACITY, HEADER_BYTES, MAGIC_WORDS, MAX_CAPACITY, MIN_CAPACITY, VERSION, WORD } from './layout.js';
import { Ring } from './ring.js';

export interface ChannelOptions {
  /** Bytes of message space, rounded up to a multiple of 8; default 1 MiB. An existing channel keeps its own, which must be at least this. */
  capacity?: number;
  /** POSIX: permission bits of the channel's objects. Default `0o600` (owner only). */
  mode?: number;
  /** Windows: the security descriptor of a new channel's objects, as an SDDL string. */
  securityDescriptor?: string;
}

export const CHANNEL_OPTIONS = ['capacity', 'mode', 'securityDescriptor'];

export interface ChannelParts {
  region: SharedMemory;
  ring: Ring;
  data: RegionChanges;
  space: RegionChanges;
  send: NativeMutex;
  receive: NativeMutex;
  /** True while this handle holds the receive lock. */
  receiving: boolean;
  path: string;
}

/** How long an opener waits for a channel's creator to write its header (another process between two calls). */
const HEADER_WAIT_MS = 2000;
const pause = new Int32Array(new SharedArrayBuffer(4));

function checkCapacity(value: unknown): number {
  if (typeof value !== 'number') throw invalidArgType('options.capacity', 'of type number', value);
  if (!Number.isInteger(value) || value < MIN_CAPACITY || value > MAX_CAPACITY) {
    throw outOfRange('options.capacity', `an integer >= ${MIN_CAPACITY} and <= ${MAX_CAPACITY}`, value);
  }
  return (value + 7) & ~7;
}

export function openChannelParts(name: unknown, options: unknown, intent: OpenIntent, known: readonly string[]): ChannelParts {
  const parsed = parseName(name);
  const o = checkOptionsObject(options, 'options', known);
  const asked = o.capacity === undefined ? (intent === 'open' ? undefined : DEFAULT_CAPACITY) : checkCapacity(o.capacity);
  const mode = modeOrOwnerOnly(o.mode);
  const sddl = checkSecurityDescriptor(o.securityDescriptor);
  requireZeroCopy('Channel (its ring and cursors are read and written in place, with atomic operations)');

  const size = asked === undefined ? undefined : HEADER_BYTES + asked;
  const regionOptions = { mode, ...(sddl === undefined ? {} : { securityDescriptor: sddl }), ...(size === undefined ? {} : { size }) };
  const region = openRegion(parsed.full, intent, o.capacity !== undefined, regionOptions);
  const opened: Array<{ close(): void }> = [region];
  try {
    const bytes = region.bytes;
    const path = parsed.full;
    const capacity = region.created ? writeHeader(bytes, asked!) : checkHeader(bytes, region.size, path);
    if (o.capacity !== undefined && capacity < asked!) {
      throw systemError('EINVAL', 'open', { region: path, path }, `the channel exists with a capacity of ${capacity} bytes, less than the ${asked} asked for`);
    }
    const sync = syncBackend();
    const mutex = (suffix: string) => {
      const m = sync.openMutex({ name: parseName(parsed.full + suffix), intent: 'open-or-create', mode, securityDescriptor: sddl });
      opened.push(m);
      return m;
    };
    const send = mutex('#send');
    const receive = mutex('#receive');
    const ring = new Ring(bytes, capacity);
    const data = new RegionChanges(parsed, mode);
    const space = new RegionChanges(parseName(parsed.full + '#space'), mode);
    opened.push({ close: () => data.letGo() }, { close: () => space.letGo() });
    // Opened now, not at first use: a C or Python peer finds both counters once a channel is open.
    data.count();
    space.count();
    return {
      region,
      ring,
      data,
      space,
      send,
      receive,
      receiving: false,
      path,
    };
  } catch (e) {
    for (const part of opened.reverse()) part.close();
    throw e;
  }
}

/**
 * The region. Without a capacity, `open` opens an existing channel whatever its size, and
 * creates one of the default size otherwise (a region's own `open` would ask the existing one
 * for at least that size).
 */
function openRegion(name: string, intent: OpenIntent, sized: boolean, options: { mode: number; size?: number }): SharedMemory {
  if (intent === 'create') return SharedMemory.create(name, options);
  if (intent === 'open') return SharedMemory.openExisting(name);
  if (sized) return SharedMemory.open(name, options);
  for (;;) {
    try {
      return SharedMemory.create(name, options);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
    try {
      return SharedMemory.openExisting(name);
    } catch (e) {
      // Its last holder let it go between the two calls: create it again.
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
    }
  }
}

function writeHeader(bytes: Uint8Array, capacity: number): number {
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, HEADER_BYTES / 4);
  Atomics.store(words, WORD.version, VERSION);
  Atomics.store(words, WORD.capacity, capacity);
  // The magic last: an opener that sees it sees the rest.
  Atomics.store(words, WORD.magicHi, MAGIC_WORDS[1]!);
  Atomics.store(words, WORD.magicLo, MAGIC_WORDS[0]!);
  return capacity;
}

function checkHeader(bytes: Uint8Array, size: number, path: string): number {
  const notAChannel = (why: string) => systemError('EINVAL', 'open', { region: path, path }, `'${path}' is not a channel: ${why}`);
  if (size < HEADER_BYTES + MIN_CAPACITY) throw notAChannel(`it has ${size} bytes`);
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, HEADER_BYTES / 4);
  // A creator in another process may be between its open and its header.
  const deadline = Date.now() + HEADER_WAIT_MS;
  while (Atomics.load(words, WORD.magicLo) === 0 && Atomics.load(words, WORD.magicHi) === 0 && Date.now() < deadline) {
    Atomics.wait(pause, 0, 0, 1);
  }
  if (Atomics.load(words, WORD.magicLo) !== MAGIC_WORDS[0] || Atomics.load(words, WORD.magicHi) !== MAGIC_WORDS[1]) {
    throw notAChannel('it does not start with the channel magic');
  }
  const version = Atomics.load(words, WORD.version);
  if (version !== VERSION) throw notAChannel(`layout version ${version}; this named-shm knows version ${VERSION}`);
  const capacity = Atomics.load(words, WORD.capacity);
  if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || capacity % 8 !== 0 || HEADER_BYTES + capacity > size) {
    throw notAChannel(`its capacity word says ${capacity >>> 0} in a region of ${size} bytes`);
  }
  return capacity;
}
