// Where no backend exists yet (macOS: no futex, and its wait-on-address calls are not wired up;
// 32-bit or big-endian Linux: other system call numbers, timespecs and byte order),
// every use says so instead of failing later in some other way.
import { systemError } from '../errors.js';
import type { SyncBackend } from './backend.js';

export function unsupportedSync(): SyncBackend {
  const refuse = (syscall: string, name: string): never => {
    throw systemError('ENOSYS', syscall, { region: name, path: name }, `named events, mutexes and change notifications are not implemented on ${process.platform} ${process.arch} yet`);
  };
  return {
    openEvent: (request) => refuse('open', request.name.full),
    openChangeCounter: (request) => refuse('open', request.name.full),
    openMutex: (request) => refuse('open', request.name.full),
  };
}
