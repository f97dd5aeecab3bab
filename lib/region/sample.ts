// The sample DLL's two exports, for code ported from it: one process-wide region, attached on
// first use (the DLL's DLL_PROCESS_ATTACH) and detached at exit (DLL_PROCESS_DETACH).
import { checkLimit } from '../validate.js';
import { DEFAULT_NAME, DEFAULT_SIZE, SharedMemory } from './shared-memory.js';

let region: SharedMemory | undefined;
let detachAtExit = false;

function attached(): SharedMemory {
  if (!region || region.closed) {
    region = SharedMemory.open(DEFAULT_NAME, { size: DEFAULT_SIZE });
    if (!detachAtExit) {
      detachAtExit = true; // one listener for the process, however often it attaches again
      process.once('exit', detachSharedMem);
    }
  }
  return region;
}

/** `SetSharedMem`: stores `text` in `dllmemfilemap`; returns the units stored (2047 at most). */
export function setSharedMem(text: string): number {
  return attached().writeString(text);
}

/** `GetSharedMem`: at most `cchSize - 1` units of `dllmemfilemap` (by default the whole region). */
export function getSharedMem(cchSize?: number): string {
  if (cchSize !== undefined) checkLimit(cchSize, 'cchSize');
  return attached().readString(cchSize);
}

/** Detaches now instead of at exit; the next call attaches again. */
export function detachSharedMem(): void {
  region?.close();
  region = undefined;
}
