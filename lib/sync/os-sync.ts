// The synchronisation backend of this OS, chosen once at load, as region/os-backend.ts chooses
// the region backend. Each is built only on its own OS.
import type { SyncBackend } from './backend.js';
import { backend as regions } from '../region/os-backend.js';
import { linuxSync } from '../os/linux/sync.js';
import { FUTEX_ARCHES } from '../os/linux/futex.js';
import { windowsSync } from '../os/windows/sync.js';
import { unsupportedSync } from './unsupported.js';

let chosen: SyncBackend | undefined;

/** Made on first use, so that loading the package binds nothing it does not need. */
export function syncBackend(): SyncBackend {
  return (chosen ??=
    process.platform === 'win32'
      ? windowsSync()
      : process.platform === 'linux' && FUTEX_ARCHES.includes(process.arch)
        ? linuxSync(regions)
        : unsupportedSync());
}
