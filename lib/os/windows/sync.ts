// The Windows synchronisation backend: native named events (event.ts) and region change counters
// in companion sections (change-counter.ts), both waited on asynchronously through the Windows
// thread pool (async-wait.ts).
import type { SyncBackend } from '../../sync/backend.js';
import { openWindowsChangeCounter } from './change-counter.js';
import { openWindowsEvent } from './event.js';

export function windowsSync(): SyncBackend {
  return {
    openEvent: openWindowsEvent,
    openChangeCounter: openWindowsChangeCounter,
  };
}
