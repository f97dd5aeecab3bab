export {
  SharedMemory,
  DEFAULT_NAME,
  DEFAULT_SIZE,
  type Access,
  type OpenOptions,
  type OpenExistingOptions,
  type WriteOptions,
} from './region/shared-memory.js';
export { setSharedMem, getSharedMem, detachSharedMem } from './region/sample.js';
export type { SystemError } from './errors.js';
