// A sender's turn: the send lock, the frame written under it, and what a dead sender left. Every
// call that takes the lock lets go of it before it returns, whatever happens: the lock is never
// held across an await (a close() in between would unmap the ring under the write).
import { systemError, type SharedMemoryErrorFields } from '../errors.js';
import type { ChannelParts } from './channel-parts.js';
import type { Message } from './message.js';
import { CorruptRing } from './ring.js';

/** The error for a ring that someone wrote outside the protocol. */
export function ringError(e: unknown, syscall: string, fields: SharedMemoryErrorFields): Error {
  if (e instanceof CorruptRing) return systemError('EBADMSG', syscall, fields, `the channel's ring was written outside its protocol: ${e.message}`);
  return e as Error;
}

/** Called with the send lock held: writes the frame if it fits, wakes the receiver, and unlocks. */
export function writeAndUnlock(parts: ChannelParts, message: Message, fields: SharedMemoryErrorFields): boolean {
  let written: boolean;
  try {
    written = parts.ring.tryWrite(message.body, message.length);
  } catch (e) {
    parts.send.unlock();
    throw ringError(e, 'send', fields);
  }
  if (written) parts.data.notify();
  parts.send.unlock();
  return written;
}

/** After an attempt at the send lock: true when it is ours. A sender that died holding it may have left a peer unwoken. */
export function tookLock(parts: ChannelParts, outcome: string, fields: SharedMemoryErrorFields): boolean {
  if (outcome === 'busy') return false;
  if (outcome === 'deadlock') throw systemError('EDEADLK', 'send', fields, 'this thread holds the send lock already');
  if (outcome === 'abandoned') {
    parts.data.notify();
    parts.space.notify();
  }
  return true;
}

/** Takes the send lock, blocking this thread for at most `timeoutMs`; false at the timeout. */
export function lockSync(parts: ChannelParts, timeoutMs: number, fields: SharedMemoryErrorFields): boolean {
  const outcome = parts.send.tryLock();
  return tookLock(parts, outcome === 'busy' ? parts.send.lockSync(timeoutMs) : outcome, fields);
}
