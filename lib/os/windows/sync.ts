// The Windows synchronisation backend: native named events (event.ts) and region change counters
// in companion sections (change-counter.ts), both waited on asynchronously through the Windows
// thread pool (async-wait.ts).
import type { SyncBackend } from '../../sync/backend.js';
import { systemError } from '../../errors.js';
import { openWindowsChangeCounter } from './change-counter.js';
import { openWindowsEvent } from './event.js';

export function windowsSync(): SyncBackend {
  return {
    openEvent: openWindowsEvent,
    openChangeCounter: openWindowsChangeCounter,
    openMutex: (request) => {
      throw systemError('ENOSYS', 'CreateMutexExW', { region: request.name.full, path: request.name.full }, 'named mutexes are not implemented on Windows yet');
    },
  };
}
