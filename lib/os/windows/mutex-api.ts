// The Win32 named mutex, bound once per thread: open or create one by name, try it, wait for it in
// slices, release it. Handles are declared as intptr_t (their value as a number), so that the
// owner thread (mutex-owner-thread.ts) can be given a handle's value.
import { systemError, type SharedMemoryErrorFields } from '../../errors.js';
import type { OpenIntent } from '../../region/backend.js';
import type { LockAttempt } from '../../sync/backend.js';
import { api, securityAttributes, SYNCHRONIZE } from './event-api.js';
import { bind, MAX_NAME_UNITS, winError, type Functions } from './region.js';

// <synchapi.h>, <handleapi.h>, <errhandlingapi.h>, <processthreadsapi.h>
const KERNEL32 = {
  // HANDLE CreateMutexExW(LPSECURITY_ATTRIBUTES lpMutexAttributes, LPCWSTR lpName, DWORD dwFlags, DWORD dwDesiredAccess)
  CreateMutexExW:
    'intptr_t __stdcall CreateMutexExW(EVENT_SECURITY_ATTRIBUTES *lpMutexAttributes, const char16_t *lpName, uint32_t dwFlags, uint32_t dwDesiredAccess)',
  // HANDLE OpenMutexW(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCWSTR lpName)
  OpenMutexW: 'intptr_t __stdcall OpenMutexW(uint32_t dwDesiredAccess, int bInheritHandle, const char16_t *lpName)',
  ReleaseMutex: 'int __stdcall ReleaseMutex(intptr_t hMutex)',
  WaitForSingleObject: 'uint32_t __stdcall WaitForSingleObject(intptr_t hHandle, uint32_t dwMilliseconds)',
  CloseHandle: 'int __stdcall CloseHandle(intptr_t hObject)',
  GetLastError: 'uint32_t __stdcall GetLastError()',
  // For the owner thread: its control event (unnamed, auto reset), and each request's own handle.
  CreateEventW:
    'intptr_t __stdcall CreateEventW(void *lpEventAttributes, int bManualReset, int bInitialState, const char16_t *lpName)',
  SetEvent: 'int __stdcall SetEvent(intptr_t hEvent)',
  DuplicateHandle:
    'int __stdcall DuplicateHandle(intptr_t hSourceProcessHandle, intptr_t hSourceHandle, intptr_t hTargetProcessHandle, _Out_ intptr_t *lpTargetHandle, uint32_t dwDesiredAccess, int bInheritHandle, uint32_t dwOptions)',
} as const;

const MUTEX_MODIFY_STATE = 0x0001; // <winnt.h> (the same bit as MUTANT_QUERY_STATE)
/** What every handle of ours may do: wait (lock) and release. */
const MUTEX_ACCESS = MUTEX_MODIFY_STATE | SYNCHRONIZE;
export const WAIT_OBJECT_0 = 0x00000000; // <winbase.h>
export const WAIT_ABANDONED_0 = 0x00000080; // <winbase.h>
export const WAIT_TIMEOUT = 0x00000102; // <winerror.h>
export const WAIT_FAILED = 0xffffffff; // <winbase.h>
const ERROR_ALREADY_EXISTS = 183; // <winerror.h>
export const ERROR_NOT_OWNER = 288; // <winerror.h>: "Attempt to release mutex not owned by caller."
/** The longest one wait sleeps: see MAX_SLEEP_MS in event-api.ts (worker.terminate() must still end a waiting worker). */
export const CURRENT_PROCESS = -1; // GetCurrentProcess()'s pseudo-handle <processthreadsapi.h>
export const DUPLICATE_SAME_ACCESS = 0x00000002; // <winnt.h>
export const MAX_SLEEP_MS = 500;
export const OBJECT_KIND = 'a mutex';

let bound: Functions<typeof KERNEL32> | undefined;

/** kernel32's mutex functions, bound at the first use in this thread. */
export function mutexApi(): Functions<typeof KERNEL32> {
  if (!bound) {
    api(); // declares EVENT_SECURITY_ATTRIBUTES
    bound = bind('kernel32.dll', KERNEL32);
  }
  return bound;
}

/**
 * Opens or creates a named mutex, never owned at creation (CREATE_MUTEX_INITIAL_OWNER is not
 * asked: the creator locks it as anyone else, so `abandoned` and deadlock tracking see one path).
 * A name held by a section, event or other type of object fails with ERROR_INVALID_HANDLE (EINVAL).
 */
export function openNamedMutex(
  name: string,
  intent: OpenIntent,
  securityDescriptor: string | undefined,
): { handle: number; created: boolean } {
  const k32 = mutexApi();
  const fields: SharedMemoryErrorFields = { region: name, path: name };
  const syscall = intent === 'open' ? 'OpenMutexW' : 'CreateMutexExW';
  if (name.length > MAX_NAME_UNITS) {
    throw systemError('ENAMETOOLONG', syscall, fields, `name too long: ${name.length} units, Windows allows ${MAX_NAME_UNITS}`);
  }
  if (intent === 'open') {
    const handle = Number(k32.OpenMutexW(MUTEX_ACCESS, 0, name));
    if (handle === 0) throw winError(k32.GetLastError() as number, syscall, fields, OBJECT_KIND);
    return { handle, created: false };
  }
  const security = securityAttributes(securityDescriptor, fields);
  let handle: number;
  let lastError: number;
  try {
    handle = Number(k32.CreateMutexExW(security.attributes, name, 0, MUTEX_ACCESS));
    // Read at once: it tells "created" from "opened", and any later call may overwrite it.
    lastError = k32.GetLastError() as number;
  } finally {
    security.free();
  }
  if (handle === 0) throw winError(lastError, syscall, fields, OBJECT_KIND);
  const created = lastError !== ERROR_ALREADY_EXISTS;
  if (!created && intent === 'create') {
    k32.CloseHandle(handle);
    throw winError(ERROR_ALREADY_EXISTS, syscall, fields, OBJECT_KIND);
  }
  return { handle, created };
}

/** A WaitForSingleObject result as a lock attempt; throws on WAIT_FAILED. */
export function attempt(result: number, fields: SharedMemoryErrorFields): LockAttempt {
  if (result === WAIT_OBJECT_0) return 'locked';
  if (result === WAIT_ABANDONED_0) return 'abandoned';
  if (result === WAIT_TIMEOUT) return 'busy';
  if (result === WAIT_FAILED) throw winError(mutexApi().GetLastError() as number, 'WaitForSingleObject', fields, OBJECT_KIND);
  throw systemError('UNKNOWN', 'WaitForSingleObject', fields, `unexpected result ${result}`);
}

/** Blocks this thread until it owns the mutex or `timeoutMs` passed ('busy'), sleeping at most MAX_SLEEP_MS at a time. */
export function waitForMutex(handle: number, timeoutMs: number, fields: SharedMemoryErrorFields): LockAttempt {
  const k32 = mutexApi();
  const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
  let left = timeoutMs;
  for (;;) {
    const piece = Math.max(0, Math.min(Math.ceil(left), MAX_SLEEP_MS));
    const outcome = attempt(k32.WaitForSingleObject(handle, piece) as number, fields);
    if (outcome !== 'busy') return outcome;
    left = deadline - performance.now();
    if (left <= 0) return 'busy';
  }
}

/** The error of an unlock by a thread that does not hold the lock: EPERM, with Win32's ERROR_NOT_OWNER. */
export function notOwner(fields: SharedMemoryErrorFields, detail: string): Error {
  return systemError('EPERM', 'ReleaseMutex', { ...fields, winError: ERROR_NOT_OWNER }, detail);
}
