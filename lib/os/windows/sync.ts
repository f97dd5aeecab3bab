// The Windows synchronisation backend: native named events (event.ts) and region change counters
// in companion sections (change-counter.ts), both waited on asynchronously through the Windows
// thread pool (async-wait.ts), and native named mutexes (mutex.ts), waited on by an owner thread.
import type { SyncBackend } from '../../sync/backend.js';
import { openWindowsChangeCounter } from './change-counter.js';
import { openWindowsEvent } from './event.js';
import { openWindowsMutex } from './mutex.js';

export function windowsSync(): SyncBackend {
  return {
    openEvent: openWindowsEvent,
    openChangeCounter: openWindowsChangeCounter,
    openMutex: openWindowsMutex,
  };
}
