export {
  SharedMemory,
  DEFAULT_NAME,
  DEFAULT_SIZE,
  type Access,
  type OpenOptions,
  type OpenExistingOptions,
  type WriteOptions,
  type ChangeWaitOptions,
  type ChangeWaitSyncOptions,
} from './region/shared-memory.js';
export { NamedEvent, type EventOptions, type WaitOptions } from './sync/named-event.js';
export { NamedMutex, type MutexOptions, type LockOptions } from './sync/named-mutex.js';
export { MutexGuard } from './sync/mutex-guard.js';
export { Channel, type ChannelOptions, type ChannelWaitOptions } from './channel/channel.js';
export { Layout, type FieldSpec, type LayoutField, type LayoutOptions, type StructOf } from './layout/types.js';
export type { ConsistentOptions, WriteConsistentOptions } from './layout/sequence-lock.js';
export type { NewestOptions, TickType } from './layout/newest-buffer.js';
export { AbortError } from './sync/wait-options.js';
export { setSharedMem, getSharedMem, detachSharedMem } from './region/sample.js';
export type { SystemError } from './errors.js';
