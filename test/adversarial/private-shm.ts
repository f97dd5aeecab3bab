// A private /dev/shm for full-tmpfs attacks: a tmpfs mounted in a new mount namespace (and user
// namespace where the kernel allows it), so that filling it disturbs nobody else.
import { spawnSync } from 'node:child_process';
import { isLinux } from '../helpers.js';

/** unshare flags that give a private /dev/shm here, or null (then the suites that need one skip). */
export const privateShmFlags = ((): string[] | null => {
  if (!isLinux) return null;
  for (const flags of [['-Urmpf'], ['-mpf']]) {
    const r = spawnSync('unshare', [...flags, 'sh', '-c', 'mount -t tmpfs -o size=64k t /dev/shm'], { stdio: 'ignore' });
    if (r.status === 0) return flags;
  }
  return null;
})();
