// Finding 2 on Windows (docs/RELIABILITY.md): a section larger than the biggest buffer this Node
// can view must be refused with EFBIG before a view is made (koffi.view aborts the process on
// Node 20 otherwise). The section is made by kernel32 directly, as another program would.
import koffi from 'koffi';
import { constants } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { errorOf, isWindows, uniqueName } from '../helpers.js';

const HUGE = 5 * 2 ** 30;

describe.runIf(isWindows && constants.MAX_LENGTH < HUGE)('a section larger than a view can cover (Windows, Node 20)', () => {
  it('openExisting and open give EFBIG instead of ending the process', () => {
    const k32 = koffi.load('kernel32.dll');
    const create = k32.func(
      'void *__stdcall CreateFileMappingW(intptr_t hFile, void *sa, uint32_t prot, uint32_t high, uint32_t low, const char16_t *name)',
    );
    const close = k32.func('int __stdcall CloseHandle(void *h)');
    const name = uniqueName('huge');
    const handle = create(-1, null, 0x04 /* PAGE_READWRITE */, Math.floor(HUGE / 2 ** 32), HUGE % 2 ** 32, name);
    expect(handle).not.toBeNull();
    try {
      expect(errorOf(() => SharedMemory.openExisting(name))).toMatchObject({ code: 'EFBIG', syscall: 'MapViewOfFile' });
      expect(errorOf(() => SharedMemory.open(name))).toMatchObject({ code: 'EFBIG' });
    } finally {
      close(handle);
    }
  });
});
