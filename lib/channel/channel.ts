// A message channel over a named region: any number of senders in any processes and threads,
// one receiver at a time. Senders take turns through a robust named mutex while they copy a
// frame in, so a sender killed mid-send leaves no half frame: the tail moves only after its frame
// is whole, and the next sender is told the lock was abandoned. The waiting is the change
// counters' (no threadpool thread is held); the byte layout is in layout.ts.
import { closedError, systemError } from '../errors.js';
import type { NativeMutex } from '../sync/backend.js';
import { PendingWaits } from '../sync/pending-waits.js';
import { AbortError, checkSignal, checkTimeout } from '../sync/wait-options.js';
import { checkOptionsObject } from '../validate.js';
import { othersHold } from '../region/shared-memory.js';
import { CHANNEL_OPTIONS, openChannelParts, type ChannelOptions, type ChannelParts } from './channel-parts.js';
import { WORD, largestMessage } from './layout.js';
import { checkMessage } from './message.js';
import { copyOut, decodeOut } from './ring.js';
import { lockSync, ringError, tookLock, writeAndUnlock } from './send-lock.js';
import { forgetAtExit, letGoAtExit } from './handles.js';
import { RECHECK_MS, sleepUntil } from './sleep.js';

export type { ChannelOptions };

export interface ChannelWaitOptions {
  /** Milliseconds; `Infinity` (the default) waits without limit. */
  timeout?: number;
  /** Rejects with an `AbortError` when aborted. */
  signal?: AbortSignal;
}

const WAIT_OPTIONS = ['timeout', 'signal'];


/** How long trySend() waits for another sender to finish its copy. */
const TRY_LOCK_MS = 100;

/** How long receiveSync() looks for a message before it sleeps. */
const SYNC_SPIN_MS = 0.05;

type Take<T> = (data: Uint8Array, offset: number, first: number, rest: number) => T;

const dropped = new FinalizationRegistry<ChannelParts>((parts) => letGo(parts));

function letGo(parts: ChannelParts): void {
  forgetAtExit(parts);
  if (parts.receiving) {
    parts.receiving = false;
    parts.receive.unlock();
  }
  Atomics.sub(parts.ring.words, WORD.handles, 1);
  // A receiver waiting for the last sender to go is told.
  try {
    parts.data.notify();
  } catch {
    // nothing more to tell
  }
  parts.data.close(() => closedError(parts.path, 'Channel'));
  parts.space.close(() => closedError(parts.path, 'Channel'));
  parts.send.close();
  parts.receive.close();
  parts.region.close();
}

export class Channel implements Disposable, AsyncIterable<Uint8Array> {
  readonly name: string;
  /** True only for the call that created the channel. */
  readonly created: boolean;
  /** Bytes of message space in the ring. */
  readonly capacity: number;
  /** The largest message this channel can hold, in bytes (`capacity - 8`). */
  readonly maxMessageBytes: number;
  #parts: ChannelParts | undefined;
  /** Whether some other handle was ever seen (so that the iterator may end when none is left). */
  #sawSender = false;
  readonly #openedAt: number;
  readonly #waits = new PendingWaits();

  private constructor(parts: ChannelParts) {
    this.name = parts.path;
    this.created = parts.region.created;
    this.capacity = parts.ring.capacity;
    this.maxMessageBytes = largestMessage(this.capacity);
    this.#parts = parts;
    const words = parts.ring.words;
    this.#sawSender = Atomics.add(words, WORD.handles, 1) > 0;
    this.#openedAt = (Atomics.add(words, WORD.opened, 1) + 1) | 0;
    letGoAtExit(parts, () => letGo(parts));
    dropped.register(this, parts, this);
  }

  /** Opens the channel, creating it when it does not exist. */
  static open(name: string, options?: ChannelOptions): Channel {
    return new Channel(openChannelParts(name, options, 'open-or-create', CHANNEL_OPTIONS));
  }

  /** Creates the channel; throws `EEXIST` when the name is taken. */
  static create(name: string, options?: ChannelOptions): Channel {
    return new Channel(openChannelParts(name, options, 'create', CHANNEL_OPTIONS));
  }

  /** Opens an existing channel; throws `ENOENT` when there is none. */
  static openExisting(name: string): Channel {
    return new Channel(openChannelParts(name, undefined, 'open', []));
  }

  get closed(): boolean {
    return this.#parts === undefined;
  }

  /** True once this handle holds the receiving end (from its first receive until close()). */
  get receiving(): boolean {
    return this.#parts?.receiving ?? false;
  }

  #fields() {
    return { region: this.name, path: this.name };
  }

  #live(): ChannelParts {
    if (!this.#parts) throw closedError(this.name, 'Channel');
    return this.#parts;
  }

  // ---- sending ----

  /**
   * Sends the message if there is room now; false when the channel is full. Never waits for room.
   * Waits for the send lock, which other senders hold only while they copy a message in, for at
   * most TRY_LOCK_MS: a holder that is stopped (SIGSTOP, a debugger) then makes it false too.
   */
  trySend(message: Uint8Array | string): boolean {
    const parts = this.#live();
    const m = checkMessage(message, this.maxMessageBytes);
    if (!lockSync(parts, TRY_LOCK_MS, this.#fields())) return false;
    return writeAndUnlock(parts, m, this.#fields());
  }

  /** Sends the message, blocking this thread while the channel is full: for workers and scripts. */
  sendSync(message: Uint8Array | string, timeout?: number): void {
    const timeoutMs = checkTimeout(timeout, 'timeout');
    const parts = this.#live();
    const m = checkMessage(message, this.maxMessageBytes);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const since = parts.space.count();
      if (!lockSync(parts, Math.max(0, deadline - performance.now()), this.#fields())) break;
      if (writeAndUnlock(parts, m, this.#fields())) return;
      const left = deadline - performance.now();
      if (left <= 0) break;
      parts.space.waitSync({ since, timeout: Math.min(left, RECHECK_MS) });
      this.#live();
    }
    throw systemError('ETIMEDOUT', 'send', this.#fields(), 'the channel stayed full');
  }

  /** Sends the message, waiting while the channel is full (backpressure). */
  async send(message: Uint8Array | string, options?: ChannelWaitOptions): Promise<void> {
    const o = checkOptionsObject(options, 'options', WAIT_OPTIONS);
    const timeoutMs = checkTimeout(o.timeout);
    const signal = checkSignal(o.signal);
    let parts = this.#live();
    const m = checkMessage(message, this.maxMessageBytes);
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const since = parts.space.count();
      // The lock is never held across an await: a close() in between would unmap the ring under it.
      if (tookLock(parts, parts.send.tryLock(), this.#fields())) {
        if (writeAndUnlock(parts, m, this.#fields())) return;
      } else {
        const send: NativeMutex = parts.send;
        const locked = parts;
        const outcome = await this.#waits.start<string | Error>({
          begin: (done) =>
            send.lockAsync((got) => {
              if (got instanceof Error) return done(got);
              // Written here, on the callback's own turn, while the lock is ours.
              try {
                tookLock(locked, got, this.#fields());
                done(writeAndUnlock(locked, m, this.#fields()) ? 'sent' : 'full');
              } catch (e) {
                done(e as Error);
              }
            }),
          timeoutMs: Math.max(0, deadline - performance.now()),
          atTimeout: () => 'busy',
          signal,
        });
        if (outcome instanceof Error) throw outcome;
        if (outcome === 'sent') return;
        if (outcome === 'busy') break;
      }
      const left = deadline - performance.now();
      if (left <= 0) break;
      await sleepUntil(parts.space, since, left, signal, () => parts.ring.fits(m.length), this);
      parts = this.#live();
    }
    throw systemError('ETIMEDOUT', 'send', this.#fields(), 'the channel stayed full');
  }

  // ---- receiving ----

  /** Takes the receiving end for this handle, or says who has it. */
  #receiver(): ChannelParts {
    const parts = this.#live();
    if (parts.receiving) return parts;
    const outcome = parts.receive.tryLock();
    if (outcome === 'busy' || outcome === 'deadlock') {
      const who = outcome === 'busy' ? 'another receiver' : 'another handle of this thread';
      throw systemError('EBUSY', 'receive', this.#fields(), `${who} holds the receiving end of this channel`);
    }
    parts.receiving = true;
    return parts;
  }

  #take<T>(parts: ChannelParts, take: Take<T>): T | null {
    try {
      const got = parts.ring.tryRead(take);
      if (got !== null) {
        this.#sawSender = true;
        parts.space.notify();
      }
      return got;
    } catch (e) {
      throw ringError(e, 'receive', this.#fields());
    }
  }

  /** The oldest message, or null when there is none now. Never waits. */
  tryReceive(): Uint8Array | null {
    return this.#take(this.#receiver(), copyOut);
  }

  /** `tryReceive()` decoded from UTF-8. */
  tryReceiveString(): string | null {
    return this.#take(this.#receiver(), decodeOut);
  }

  #receiveSync<T>(take: Take<T>, timeout: unknown): T {
    const timeoutMs = checkTimeout(timeout, 'timeout');
    const parts = this.#receiver();
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const since = parts.data.count();
      const got = this.#take(parts, take);
      if (got !== null) return got;
      const left = deadline - performance.now();
      if (left <= 0) throw systemError('ETIMEDOUT', 'receive', this.#fields(), 'no message came');
      // A busy sender's next message is usually microseconds away: look for it before sleeping,
      // which costs a system call on each side and tens of microseconds.
      const spinUntil = performance.now() + Math.min(SYNC_SPIN_MS, left);
      while (!parts.ring.hasMessage() && performance.now() < spinUntil);
      if (parts.ring.hasMessage()) continue;
      parts.data.waitSync({ since, timeout: Math.min(left, RECHECK_MS) });
      this.#live();
    }
  }

  /** The oldest message, blocking this thread until one comes: for workers and scripts. */
  receiveSync(timeout?: number): Uint8Array {
    return this.#receiveSync(copyOut, timeout);
  }

  receiveStringSync(timeout?: number): string {
    return this.#receiveSync(decodeOut, timeout);
  }

  async #receive<T>(take: Take<T>, options: unknown, orEnd = false): Promise<T | null> {
    const o = checkOptionsObject(options, 'options', WAIT_OPTIONS);
    const timeoutMs = checkTimeout(o.timeout);
    const signal = checkSignal(o.signal);
    const parts = this.#receiver();
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const since = parts.data.count();
      const got = this.#take(parts, take);
      if (got !== null) return got;
      if (orEnd && this.#sendersGone(parts)) return null;
      const left = deadline - performance.now();
      if (left <= 0) throw systemError('ETIMEDOUT', 'receive', this.#fields(), 'no message came');
      await sleepUntil(parts.data, since, left, signal, () => parts.ring.hasMessage() || (orEnd && this.#sendersGone(parts)), this);
      this.#live();
    }
  }

  /**
   * True when no other handle is open and one was: every sender closed. The OS says who holds the
   * region where it can (a killed holder is not counted); elsewhere the header's count of open
   * handles, which a killed process leaves high, is all there is.
   */
  #sendersGone(parts: ChannelParts): boolean {
    const words = parts.ring.words;
    const held = othersHold(parts.region);
    const others = held ?? Atomics.load(words, WORD.handles) > 1;
    if (others || Atomics.load(words, WORD.opened) !== this.#openedAt) this.#sawSender = true;
    return !others && this.#sawSender;
  }

  /** The oldest message, waiting until one comes. Never blocks the event loop. */
  receive(options?: ChannelWaitOptions): Promise<Uint8Array> {
    return this.#receive(copyOut, options) as Promise<Uint8Array>;
  }

  /** `receive()` decoded from UTF-8 (bad sequences become U+FFFD). */
  receiveString(options?: ChannelWaitOptions): Promise<string> {
    return this.#receive(decodeOut, options) as Promise<string>;
  }

  /**
   * Messages as they come, until every other handle of the channel has closed and the ring is
   * empty, or the loop is left. Holds the receiving end.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      const message = await this.#receive(copyOut, undefined, true);
      if (message === null) return;
      yield message;
    }
  }

  /** Lets go of the channel (and of the receiving end, if held); pending calls reject with ERR_SHM_CLOSED. */
  close(): void {
    const parts = this.#parts;
    if (!parts) return;
    this.#parts = undefined;
    dropped.unregister(this);
    this.#waits.rejectAll(() => closedError(this.name, 'Channel'));
    letGo(parts);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
