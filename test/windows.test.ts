// What only Windows has: namespaces in names, ERROR_ALREADY_EXISTS, names shared with other
// kinds of kernel object, page-rounded sections, and security descriptors.
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { isWindows, openTracked, track, uniqueName } from './helpers.js';

describe.runIf(isWindows)('Windows sections', () => {
  it('Local\\ and the bare name are the same section in this session', () => {
    const name = uniqueName();
    const local = openTracked(`Local\\${name}`);
    local.writeString('session-local');
    const bare = track(SharedMemory.openExisting(name));
    expect(bare.readString()).toBe('session-local');
  });

  it('Global\\ names pass through to the global namespace', () => {
    const name = uniqueName();
    const global = openTracked(`Global\\${name}`);
    expect(global.created).toBe(true);
    expect(track(SharedMemory.openExisting(`Global\\${name}`)).created).toBe(false);
  });

  it('create() of an existing name fails with EEXIST and keeps ERROR_ALREADY_EXISTS as winError', () => {
    const name = uniqueName();
    openTracked(name);
    expect(() => SharedMemory.create(name)).toThrow(
      expect.objectContaining({ code: 'EEXIST', winError: 183, syscall: 'CreateFileMappingW' }),
    );
  });

  it('openExisting of a missing name fails with ENOENT and winError 2', () => {
    expect(() => SharedMemory.openExisting(uniqueName())).toThrow(
      expect.objectContaining({ code: 'ENOENT', winError: 2, syscall: 'OpenFileMappingW' }),
    );
  });

  it('a name held by a mutex gives EINVAL with winError 6', () => {
    const name = uniqueName();
    const k32 = koffi.load('kernel32.dll');
    const CreateMutexW = k32.func('void *__stdcall CreateMutexW(void *attributes, int initialOwner, const char16_t *name)');
    const CloseHandle = k32.func('int __stdcall CloseHandle(void *handle)');
    const mutex = CreateMutexW(null, 0, name);
    expect(mutex).not.toBeNull();
    try {
      expect(() => SharedMemory.open(name)).toThrow(
        expect.objectContaining({ code: 'EINVAL', winError: 6, message: expect.stringContaining('not a file mapping') }),
      );
    } finally {
      CloseHandle(mutex);
    }
  });

  it('an existing section is reported at the size Windows gives it: whole pages', () => {
    const name = uniqueName();
    const creator = openTracked(name, { size: 4097 });
    expect(creator.size).toBe(4097);
    const opener = track(SharedMemory.openExisting(name));
    expect(opener.size % 4096).toBe(0);
    expect(opener.size).toBeGreaterThanOrEqual(4097);
  });

  it('a security descriptor in SDDL is applied to a new section', () => {
    const name = uniqueName();
    const region = openTracked(name, { securityDescriptor: 'D:P(A;;GA;;;WD)' });
    expect(region.created).toBe(true);
    region.writeString('guarded');
    expect(track(SharedMemory.openExisting(name)).readString()).toBe('guarded');
  });

  it('a malformed security descriptor is an error naming the conversion, and nothing is created', () => {
    const name = uniqueName();
    expect(() => SharedMemory.open(name, { securityDescriptor: 'not sddl' })).toThrow(
      expect.objectContaining({ syscall: 'ConvertStringSecurityDescriptorToSecurityDescriptorW' }),
    );
    expect(() => SharedMemory.openExisting(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
