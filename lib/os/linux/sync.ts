// The Linux synchronisation backend: events and change counters as futexes in shm objects that
// the POSIX region backend opens, creates and lets go of like any region.
import type { SyncBackend } from '../../sync/backend.js';
import type { RegionBackend } from '../../region/backend.js';
import { openLinuxChangeCounter } from './change-counter.js';
import { openLinuxEvent } from './event.js';
import { openLinuxMutex } from './mutex.js';
import { bindFutexCalls } from './futex.js';

export function linuxSync(regions: RegionBackend): SyncBackend {
  bindFutexCalls();
  return {
    openEvent: (request) => openLinuxEvent(regions, request),
    openChangeCounter: (request) => openLinuxChangeCounter(regions, request),
    openMutex: (request) => openLinuxMutex(regions, request),
  };
}
