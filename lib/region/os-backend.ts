// The backend of this OS, chosen once at load. Neither backend binds its OS library before it is
// chosen, so neither touches the other's DLLs or shared objects.
import type { RegionBackend } from './backend.js';
import { posixBackend } from '../os/posix/region.js';
import { windowsBackend } from '../os/windows/region.js';

export const backend: RegionBackend = process.platform === 'win32' ? windowsBackend() : posixBackend();
