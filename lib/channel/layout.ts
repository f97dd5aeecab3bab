// The byte layout of a channel's region, which C and Python peers follow too (README: "Channel
// layout"). Every field is little-endian. The region `<name>` holds:
//
//   offset  size  field
//   0       8     magic: ASCII "nshmchn" and a NUL byte
//   8       4     version: 1
//   12      4     capacity: bytes of the ring (a multiple of 8, from 64 to 2^30)
//   16      4     handles: Channel handles open now (senders and the receiver)
//   20      4     opened: Channel handles ever opened (wraps at 2^32)
//   24      40    reserved: 0
//   64      4     tail: where the next message goes, as a position (see below); senders write it
//   68      60    reserved: 0 (tail and head sit on cache lines of their own)
//   128     4     head: where the next message to receive is; the receiver writes it
//   132     60    reserved: 0
//   192     capacity  the ring
//
// Positions run from 0 to 2 * capacity - 1 and wrap there, so that an empty ring (tail == head)
// and a full one (tail - head == capacity) differ; position p is byte p % capacity of the ring.
// Used bytes: (tail - head) mod (2 * capacity). A message is a frame: a u32 length L, a u32 0,
// then L bytes, then 0 to 7 bytes of padding to a multiple of 8. Frames start at multiples of 8, so
// the 8-byte frame header never straddles the ring's end, but the message bytes may: they go on at
// byte 0 of the ring. The largest message is capacity - 8 bytes.
//
// Memory order: a sender writes the frame, then stores tail (release); the receiver loads tail
// (acquire) before it reads frames below it, and stores head (release) once it has copied a frame
// out; a sender loads head (acquire) before it reuses space below it.
export const MAGIC = Buffer.from('nshmchn\0', 'latin1');
export const VERSION = 1;
export const HEADER_BYTES = 192;
export const FRAME_HEADER_BYTES = 8;
export const MIN_CAPACITY = 64;
export const MAX_CAPACITY = 2 ** 30;
export const DEFAULT_CAPACITY = 2 ** 20;

/** Indexes of the header's u32 words. */
export const WORD = {
  magicLo: 0,
  magicHi: 1,
  version: 2,
  capacity: 3,
  handles: 4,
  opened: 5,
  tail: 16,
  head: 32,
} as const;

export const MAGIC_WORDS = new Int32Array(new Uint8Array(MAGIC).buffer);

/** The bytes a frame of `length` message bytes takes in the ring. */
export function frameBytes(length: number): number {
  return FRAME_HEADER_BYTES + ((length + 7) & ~7);
}

/** The largest message a ring of `capacity` bytes holds. */
export function largestMessage(capacity: number): number {
  return capacity - FRAME_HEADER_BYTES;
}
