// Windows backend: a named section backed by the paging file, exactly as the sample's DLL makes
// it (CreateFileMappingW + MapViewOfFile). The section lives while any handle or view holds it.
import koffi, { type LibraryHandle } from 'koffi';

type KoffiFunction = ReturnType<LibraryHandle['func']>;
import type { MemoryCopy, NativeRegion, OpenRequest, RegionBackend } from '../../region/backend.js';
import { windowsMemoryCopy } from './memory-copy.js';
import { systemError, type SharedMemoryErrorFields, type SystemError } from '../../errors.js';
import { MAX_SIZE } from '../../validate.js';

// <winbase.h>, <memoryapi.h>, <handleapi.h>, <errhandlingapi.h>, <winternl.h>, <sddl.h>
const STRUCTS = {
  SECURITY_ATTRIBUTES: { nLength: 'uint32_t', lpSecurityDescriptor: 'void *', bInheritHandle: 'int' },
  MEMORY_BASIC_INFORMATION: {
    BaseAddress: 'void *',
    AllocationBase: 'void *',
    AllocationProtect: 'uint32_t',
    PartitionId: 'uint16_t',
    RegionSize: 'size_t',
    State: 'uint32_t',
    Protect: 'uint32_t',
    Type: 'uint32_t',
  },
  SECTION_BASIC_INFORMATION: { BaseAddress: 'void *', AllocationAttributes: 'uint32_t', MaximumSize: 'int64_t' },
  // <winternl.h> (PUBLIC_OBJECT_BASIC_INFORMATION, with the fields it calls Reserved spelled out)
  OBJECT_BASIC_INFORMATION: {
    Attributes: 'uint32_t',
    GrantedAccess: 'uint32_t',
    HandleCount: 'uint32_t',
    PointerCount: 'uint32_t',
    PagedPoolCharge: 'uint32_t',
    NonPagedPoolCharge: 'uint32_t',
    Reserved0: 'uint32_t',
    Reserved1: 'uint32_t',
    Reserved2: 'uint32_t',
    NameInfoSize: 'uint32_t',
    TypeInfoSize: 'uint32_t',
    SecurityDescriptorSize: 'uint32_t',
    CreationTime: 'int64_t',
  },
} as const;
const KERNEL32 = {
  // hFile is a HANDLE; declared intptr_t so that INVALID_HANDLE_VALUE (-1) can be passed.
  CreateFileMappingW:
    'void *__stdcall CreateFileMappingW(intptr_t hFile, SECURITY_ATTRIBUTES *lpAttributes, uint32_t flProtect, uint32_t dwMaximumSizeHigh, uint32_t dwMaximumSizeLow, const char16_t *lpName)',
  OpenFileMappingW: 'void *__stdcall OpenFileMappingW(uint32_t dwDesiredAccess, int bInheritHandle, const char16_t *lpName)',
  MapViewOfFile:
    'void *__stdcall MapViewOfFile(void *hFileMappingObject, uint32_t dwDesiredAccess, uint32_t dwFileOffsetHigh, uint32_t dwFileOffsetLow, size_t dwNumberOfBytesToMap)',
  UnmapViewOfFile: 'int __stdcall UnmapViewOfFile(void *lpBaseAddress)',
  VirtualAlloc: 'void *__stdcall VirtualAlloc(void *lpAddress, size_t dwSize, uint32_t flAllocationType, uint32_t flProtect)',
  CloseHandle: 'int __stdcall CloseHandle(void *hObject)',
  GetLastError: 'uint32_t __stdcall GetLastError()',
  VirtualQuery: 'size_t __stdcall VirtualQuery(void *lpAddress, _Out_ MEMORY_BASIC_INFORMATION *lpBuffer, size_t dwLength)',
  LocalFree: 'void *__stdcall LocalFree(void *hMem)',
} as const;
const NTDLL = {
  NtQueryObject:
    'int32_t __stdcall NtQueryObject(void *Handle, int ObjectInformationClass, _Out_ OBJECT_BASIC_INFORMATION *ObjectInformation, uint32_t ObjectInformationLength, void *ReturnLength)',
  NtQuerySection:
    'int32_t __stdcall NtQuerySection(void *SectionHandle, int SectionInformationClass, _Out_ SECTION_BASIC_INFORMATION *SectionInformation, size_t Length, void *ResultLength)',
} as const;
const ADVAPI32 = {
  ConvertStringSecurityDescriptorToSecurityDescriptorW:
    'int __stdcall ConvertStringSecurityDescriptorToSecurityDescriptorW(const char16_t *StringSecurityDescriptor, uint32_t StringSDRevision, _Out_ void **SecurityDescriptor, void *SecurityDescriptorSize)',
} as const;

const INVALID_HANDLE_VALUE = -1; // <handleapi.h>
const PAGE_READWRITE = 0x04; // <winnt.h>
const SECTION_QUERY = 0x0001;
const MEM_COMMIT = 0x1000; // <winnt.h>
const MEM_RESERVE = 0x2000;
const FILE_MAP_WRITE = 0x0002; // <memoryapi.h>
const FILE_MAP_READ = 0x0004;
const SectionBasicInformation = 0; // <winternl.h> SECTION_INFORMATION_CLASS
const ObjectBasicInformation = 0; // <winternl.h> OBJECT_INFORMATION_CLASS
const SDDL_REVISION_1 = 1; // <sddl.h>
const ERROR_ALREADY_EXISTS = 183; // <winerror.h>
const ERROR_INVALID_HANDLE = 6;

/** Win32 errors as the POSIX-style codes Node uses, where one fits (libuv maps most the same way). */
const CODES: Record<number, string> = {
  2: 'ENOENT', // ERROR_FILE_NOT_FOUND
  3: 'ENOENT', // ERROR_PATH_NOT_FOUND
  5: 'EACCES', // ERROR_ACCESS_DENIED
  6: 'EINVAL', // ERROR_INVALID_HANDLE: the name belongs to a mutex, event or other object
  8: 'ENOMEM', // ERROR_NOT_ENOUGH_MEMORY
  14: 'ENOMEM', // ERROR_OUTOFMEMORY
  87: 'EINVAL', // ERROR_INVALID_PARAMETER
  112: 'ENOSPC', // ERROR_DISK_FULL
  123: 'EINVAL', // ERROR_INVALID_NAME
  161: 'EINVAL', // ERROR_BAD_PATHNAME
  183: 'EEXIST', // ERROR_ALREADY_EXISTS
  206: 'ENAMETOOLONG', // ERROR_FILENAME_EXCED_RANGE
  1314: 'EPERM', // ERROR_PRIVILEGE_NOT_HELD
  1455: 'ENOMEM', // ERROR_COMMITMENT_LIMIT
};

/** Object names live under `\Sessions\N\BaseNamedObjects\`, inside a 32767-unit UNICODE_STRING. */
export const MAX_NAME_UNITS = 32767 - '\\Sessions\\4294967295\\BaseNamedObjects\\'.length;

/** `kind`: what the caller asked for, named in the message when the name belongs to another type of object. */
export function winError(winErr: number, syscall: string, fields: SharedMemoryErrorFields, kind = 'a file mapping'): SystemError {
  const detail = winErr === ERROR_INVALID_HANDLE ? `the name belongs to an object that is not ${kind}` : undefined;
  return systemError(CODES[winErr] ?? 'UNKNOWN', syscall, { ...fields, winError: winErr }, detail);
}

/** Splits a byte count into the DWORD pair Win32 takes; shifts would wrap at 32 bits. */
export function splitSize(size: number): { high: number; low: number } {
  return { high: Math.floor(size / 2 ** 32), low: size % 2 ** 32 };
}

export type Functions<T> = { [K in keyof T]: KoffiFunction };

export function bind<T extends Record<string, string>>(library: string, prototypes: T): Functions<T> {
  const lib = koffi.load(library);
  return Object.fromEntries(Object.entries(prototypes).map(([n, p]) => [n, lib.func(p)])) as Functions<T>;
}

export function windowsBackend(): RegionBackend {
  let copy: MemoryCopy | undefined;
  for (const [name, members] of Object.entries(STRUCTS)) koffi.struct(name, members);
  const k32 = bind('kernel32.dll', KERNEL32);
  const nt = bind('ntdll.dll', NTDLL);
  let advapi: Functions<typeof ADVAPI32> | undefined;

  function securityAttributes(sddl: string | undefined, fields: SharedMemoryErrorFields) {
    if (sddl === undefined) return { attributes: null, free() {} };
    advapi ??= bind('advapi32.dll', ADVAPI32);
    const out: unknown[] = [null];
    if (!advapi.ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, out, null)) {
      throw winError(k32.GetLastError() as number, 'ConvertStringSecurityDescriptorToSecurityDescriptorW', fields);
    }
    const descriptor = out[0];
    return {
      attributes: { nLength: koffi.sizeof('SECURITY_ATTRIBUTES'), lpSecurityDescriptor: descriptor, bInheritHandle: 0 },
      free: () => k32.LocalFree(descriptor),
    };
  }

  /** The section's own size (NtQuerySection); VirtualQuery's page-rounded view size if that fails. */
  function sectionSize(handle: unknown, address: unknown): number {
    const info: { MaximumSize?: number | bigint } = {};
    if (nt.NtQuerySection(handle, SectionBasicInformation, info, koffi.sizeof('SECTION_BASIC_INFORMATION'), null) === 0) {
      return Number(info.MaximumSize);
    }
    const mbi: { RegionSize?: number | bigint } = {};
    k32.VirtualQuery(address, mbi, koffi.sizeof('MEMORY_BASIC_INFORMATION'));
    return Number(mbi.RegionSize);
  }

  return {
    open(request: OpenRequest): NativeRegion {
      const name = request.name.full;
      const fields = { region: name, path: name };
      const syscall = request.intent === 'open' ? 'OpenFileMappingW' : 'CreateFileMappingW';
      if (request.persist) {
        throw systemError('ENOTSUP', syscall, fields, 'a Windows section cannot outlive its last handle; keep one open');
      }
      if (name.length > MAX_NAME_UNITS) {
        throw systemError('ENAMETOOLONG', syscall, fields, `name too long: ${name.length} units, Windows allows ${MAX_NAME_UNITS}`);
      }
      const access = request.readOnly ? FILE_MAP_READ : FILE_MAP_READ | FILE_MAP_WRITE;
      let handle: unknown;
      let created = false;
      if (request.intent === 'open') {
        handle = k32.OpenFileMappingW(access | SECTION_QUERY, 0, name);
        if (handle === null) throw winError(k32.GetLastError() as number, syscall, fields);
      } else {
        const { high, low } = splitSize(request.size!);
        const security = securityAttributes(request.securityDescriptor, fields);
        let lastError: number;
        try {
          handle = k32.CreateFileMappingW(INVALID_HANDLE_VALUE, security.attributes, PAGE_READWRITE, high, low, name);
          // Read at once: it tells "created" from "opened", and any later call may overwrite it.
          lastError = k32.GetLastError() as number;
        } finally {
          security.free();
        }
        if (handle === null) throw winError(lastError, syscall, fields);
        created = lastError !== ERROR_ALREADY_EXISTS;
        if (!created && request.intent === 'create') {
          k32.CloseHandle(handle);
          throw winError(ERROR_ALREADY_EXISTS, syscall, fields);
        }
      }
      const address = k32.MapViewOfFile(handle, access, 0, 0, 0);
      if (address === null) {
        const err = winError(k32.GetLastError() as number, 'MapViewOfFile', fields);
        k32.CloseHandle(handle);
        throw err;
      }
      const size = created ? request.size! : sectionSize(handle, address);
      if (size > MAX_SIZE) {
        k32.UnmapViewOfFile(address);
        k32.CloseHandle(handle);
        throw systemError('EFBIG', 'MapViewOfFile', fields, `the region has ${size} bytes, more than this runtime can view (${MAX_SIZE})`);
      }
      if (request.size !== undefined && size < request.size) {
        k32.UnmapViewOfFile(address);
        k32.CloseHandle(handle);
        throw systemError(
          'EINVAL',
          'MapViewOfFile',
          fields,
          `the region exists with ${size} bytes, fewer than the ${request.size} asked for`,
        );
      }
      let view: ArrayBuffer | undefined;
      try {
        if (request.zeroCopy !== false) view = koffi.view(address, size);
      } catch (e) {
        k32.UnmapViewOfFile(address);
        k32.CloseHandle(handle);
        throw e;
      }
      let released = false;
      let mapped = true;
      return {
        created,
        size,
        path: name,
        view,
        address: BigInt(koffi.address(address)),
        mode: 0,
        // Every holder keeps its handle; the kernel closes those of a process that ends.
        othersHold() {
          if (released) return undefined;
          const info: { HandleCount?: number } = {};
          const size = koffi.sizeof('OBJECT_BASIC_INFORMATION');
          if (nt.NtQueryObject(handle, ObjectBasicInformation, info, size, null) !== 0) return undefined;
          return info.HandleCount! > 1;
        },
        release() {
          if (released) return;
          released = true;
          k32.CloseHandle(handle);
        },
        unmap() {
          if (!mapped) return;
          mapped = false;
          k32.UnmapViewOfFile(address);
        },
        retire() {
          if (!mapped) return;
          mapped = false;
          // Windows cannot replace a view in place: the addresses are taken back at once as
          // private memory. Only if another thread took them in between would a buffer that
          // still reaches them fault, so that is the one case this cannot rule out.
          k32.UnmapViewOfFile(address);
          k32.VirtualAlloc(address, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        },
      };
    },
    unlink(name) {
      throw systemError(
        'ENOTSUP',
        'shm_unlink',
        { region: name.full, path: name.full },
        'Windows has no unlink: a section goes away with its last handle',
      );
    },
    memoryCopy: () => (copy ??= windowsMemoryCopy()),
  };
}
