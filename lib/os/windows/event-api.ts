// The Win32 named event, bound once for the whole process: open or create one by name, wait on
// it, and ask an existing one whether it resets by itself. event.ts, change-counter.ts and
// async-wait.ts build on these.
import koffi from 'koffi';
import { systemError, type SharedMemoryErrorFields } from '../../errors.js';
import type { OpenIntent } from '../../region/backend.js';
import { bind, MAX_NAME_UNITS, winError, type Functions } from './region.js';

// <synchapi.h>, <handleapi.h>, <errhandlingapi.h>, <winbase.h> (RegisterWaitForSingleObject),
// <winternl.h> / ntddk (NtQueryEvent), <sddl.h>
const STRUCTS = {
  // SECURITY_ATTRIBUTES under a name of its own: region.ts declares that struct when its backend is
  // made, and koffi refuses a type name twice.
  EVENT_SECURITY_ATTRIBUTES: { nLength: 'uint32_t', lpSecurityDescriptor: 'void *', bInheritHandle: 'int' },
  // EVENT_TYPE EventType; LONG EventState;
  EVENT_BASIC_INFORMATION: { EventType: 'int', EventState: 'int32_t' },
} as const;
const PROTOTYPES = {
  // VOID CALLBACK WaitOrTimerCallback(PVOID lpParameter, BOOLEAN TimerOrWaitFired)
  // lpParameter is declared intptr_t: it carries a number (the wait's id), never a pointer.
  WAITORTIMERCALLBACK: 'void __stdcall WAITORTIMERCALLBACK(intptr_t lpParameter, uint8_t TimerOrWaitFired)',
} as const;
const KERNEL32 = {
  CreateEventExW:
    'void *__stdcall CreateEventExW(EVENT_SECURITY_ATTRIBUTES *lpEventAttributes, const char16_t *lpName, uint32_t dwFlags, uint32_t dwDesiredAccess)',
  OpenEventW: 'void *__stdcall OpenEventW(uint32_t dwDesiredAccess, int bInheritHandle, const char16_t *lpName)',
  SetEvent: 'int __stdcall SetEvent(void *hEvent)',
  ResetEvent: 'int __stdcall ResetEvent(void *hEvent)',
  WaitForSingleObject: 'uint32_t __stdcall WaitForSingleObject(void *hHandle, uint32_t dwMilliseconds)',
  CloseHandle: 'int __stdcall CloseHandle(void *hObject)',
  GetLastError: 'uint32_t __stdcall GetLastError()',
  LocalFree: 'void *__stdcall LocalFree(void *hMem)',
  RegisterWaitForSingleObject:
    'int __stdcall RegisterWaitForSingleObject(_Out_ void **phNewWaitObject, void *hObject, WAITORTIMERCALLBACK *Callback, intptr_t Context, uint32_t dwMilliseconds, uint32_t dwFlags)',
  // CompletionEvent is a HANDLE; declared intptr_t so that NULL (0) is passed as a number.
  UnregisterWaitEx: 'int __stdcall UnregisterWaitEx(void *WaitHandle, intptr_t CompletionEvent)',
  // The same function, given a native function (not a koffi callback) and a pointer-sized context:
  // see the worker guard in async-wait.ts.
  RegisterWaitNative:
    'int __stdcall RegisterWaitForSingleObject(_Out_ void **phNewWaitObject, void *hObject, void *Callback, void *Context, uint32_t dwMilliseconds, uint32_t dwFlags)',
  GetCurrentThreadId: 'uint32_t __stdcall GetCurrentThreadId()',
  OpenThread: 'void *__stdcall OpenThread(uint32_t dwDesiredAccess, int bInheritHandle, uint32_t dwThreadId)',
  GetModuleHandleW: 'void *__stdcall GetModuleHandleW(const char16_t *lpModuleName)',
  GetProcAddress: 'void *__stdcall GetProcAddress(void *hModule, const char *lpProcName)',
} as const;
const NTDLL = {
  NtQueryEvent:
    'int32_t __stdcall NtQueryEvent(void *EventHandle, int EventInformationClass, _Out_ EVENT_BASIC_INFORMATION *EventInformation, uint32_t EventInformationLength, void *ReturnLength)',
} as const;
const ADVAPI32 = {
  ConvertStringSecurityDescriptorToSecurityDescriptorW:
    'int __stdcall ConvertStringSecurityDescriptorToSecurityDescriptorW(const char16_t *StringSecurityDescriptor, uint32_t StringSDRevision, _Out_ void **SecurityDescriptor, void *SecurityDescriptorSize)',
} as const;

const CREATE_EVENT_MANUAL_RESET = 0x1; // <synchapi.h>
const CREATE_EVENT_INITIAL_SET = 0x2;
const EVENT_QUERY_STATE = 0x0001; // <winnt.h>
const EVENT_MODIFY_STATE = 0x0002;
export const SYNCHRONIZE = 0x00100000;
/** What every handle of ours may do: set, reset, wait, and ask the kind. */
export const EVENT_ACCESS = EVENT_QUERY_STATE | EVENT_MODIFY_STATE | SYNCHRONIZE;
export const INFINITE = 0xffffffff; // <winbase.h>
export const WT_EXECUTEINWAITTHREAD = 0x00000004; // <winnt.h>
export const WT_EXECUTEONLYONCE = 0x00000008;
const WAIT_OBJECT_0 = 0x00000000; // <winbase.h>
const WAIT_TIMEOUT = 0x00000102; // <winerror.h>
const WAIT_FAILED = 0xffffffff; // <winbase.h>
export const ERROR_IO_PENDING = 997; // <winerror.h>
const ERROR_ALREADY_EXISTS = 183;
const EventBasicInformation = 0; // EVENT_INFORMATION_CLASS
const NotificationEvent = 0; // EVENT_TYPE: manual reset (SynchronizationEvent = 1: auto reset)
const SDDL_REVISION_1 = 1; // <sddl.h>
/**
 * The longest one WaitForSingleObject sleeps. A thread inside a system call cannot be stopped: a
 * worker in waitSync(Infinity) would make worker.terminate(), and process.exit() (which
 * terminates every worker), wait until someone set the event. waitForHandle loops until its own
 * deadline, and V8 ends a terminated worker in that loop, between two sleeps (as on Linux).
 */
const MAX_SLEEP_MS = 500;

export type Kernel32 = Functions<typeof KERNEL32>;
export const OBJECT_KIND = 'an event';

let bound: { k32: Kernel32; nt: Functions<typeof NTDLL>; callbackType: unknown } | undefined;
let advapi: Functions<typeof ADVAPI32> | undefined;

/** kernel32 and ntdll, bound at the first use in this process. */
export function api(): { k32: Kernel32; nt: Functions<typeof NTDLL>; callbackType: unknown } {
  if (!bound) {
    for (const [name, members] of Object.entries(STRUCTS)) koffi.struct(name, members);
    const callbackType = koffi.proto(PROTOTYPES.WAITORTIMERCALLBACK);
    bound = { k32: bind('kernel32.dll', KERNEL32), nt: bind('ntdll.dll', NTDLL), callbackType };
  }
  return bound;
}

export interface OpenedEvent {
  handle: unknown;
  created: boolean;
}

export interface EventSpec {
  /** The full OS name (`Local\foo`). */
  name: string;
  intent: OpenIntent;
  manualReset: boolean;
  initialState: boolean;
  securityDescriptor: string | undefined;
}

/**
 * Opens or creates a named event with EVENT_ACCESS. A name held by a section, mutex or other type
 * of object fails with ERROR_INVALID_HANDLE, reported as EINVAL.
 */
export function openNamedEvent(spec: EventSpec): OpenedEvent {
  const { k32 } = api();
  const fields: SharedMemoryErrorFields = { region: spec.name, path: spec.name };
  const syscall = spec.intent === 'open' ? 'OpenEventW' : 'CreateEventExW';
  if (spec.name.length > MAX_NAME_UNITS) {
    throw systemError('ENAMETOOLONG', syscall, fields, `name too long: ${spec.name.length} units, Windows allows ${MAX_NAME_UNITS}`);
  }
  if (spec.intent === 'open') {
    const handle = k32.OpenEventW(EVENT_ACCESS, 0, spec.name);
    if (handle === null) throw winError(k32.GetLastError() as number, syscall, fields, OBJECT_KIND);
    return { handle, created: false };
  }
  const flags = (spec.manualReset ? CREATE_EVENT_MANUAL_RESET : 0) | (spec.initialState ? CREATE_EVENT_INITIAL_SET : 0);
  const security = securityAttributes(spec.securityDescriptor, fields);
  let handle: unknown;
  let lastError: number;
  try {
    handle = k32.CreateEventExW(security.attributes, spec.name, flags, EVENT_ACCESS);
    // Read at once: it tells "created" from "opened", and any later call may overwrite it.
    lastError = k32.GetLastError() as number;
  } finally {
    security.free();
  }
  if (handle === null) throw winError(lastError, syscall, fields, OBJECT_KIND);
  const created = lastError !== ERROR_ALREADY_EXISTS;
  if (!created && spec.intent === 'create') {
    k32.CloseHandle(handle);
    throw winError(ERROR_ALREADY_EXISTS, syscall, fields, OBJECT_KIND);
  }
  return { handle, created };
}

/** Opens an existing event only to set it (no security descriptor, no query); null when there is none. */
export function openEventIfAny(name: string): unknown {
  return api().k32.OpenEventW(EVENT_MODIFY_STATE, 0, name);
}

/** Whether an existing event resets by hand (NtQueryEvent); `fallback` when Windows will not say. */
export function isManualReset(handle: unknown, fallback: boolean): boolean {
  const info: { EventType?: number } = {};
  const status = api().nt.NtQueryEvent(handle, EventBasicInformation, info, koffi.sizeof('EVENT_BASIC_INFORMATION'), null);
  return status === 0 ? info.EventType === NotificationEvent : fallback;
}

/**
 * Blocks this thread until `handle` is signalled (true) or `timeoutMs` passed (false), sleeping at
 * most MAX_SLEEP_MS at a time.
 */
export function waitForHandle(handle: unknown, timeoutMs: number, fields: SharedMemoryErrorFields): boolean {
  const { k32 } = api();
  const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
  let left = timeoutMs;
  for (;;) {
    const piece = Math.min(Math.ceil(left), MAX_SLEEP_MS);
    const result = k32.WaitForSingleObject(handle, piece) as number;
    if (result === WAIT_OBJECT_0) return true;
    if (result === WAIT_FAILED) throw winError(k32.GetLastError() as number, 'WaitForSingleObject', fields, OBJECT_KIND);
    if (result !== WAIT_TIMEOUT) throw systemError('UNKNOWN', 'WaitForSingleObject', fields, `unexpected result ${result}`);
    left = deadline - performance.now();
    if (left <= 0) return false;
  }
}

/** Throws the last Win32 error when `ok` is false (a BOOL result). */
export function check(ok: unknown, syscall: string, fields: SharedMemoryErrorFields): void {
  if (!ok) throw winError(api().k32.GetLastError() as number, syscall, fields, OBJECT_KIND);
}

/** SECURITY_ATTRIBUTES for an SDDL string (null without one); call `free` once the object is made. Shared with mutex-api.ts. */
export function securityAttributes(sddl: string | undefined, fields: SharedMemoryErrorFields) {
  if (sddl === undefined) return { attributes: null, free() {} };
  const { k32 } = api();
  advapi ??= bind('advapi32.dll', ADVAPI32);
  const out: unknown[] = [null];
  if (!advapi.ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, out, null)) {
    throw winError(k32.GetLastError() as number, 'ConvertStringSecurityDescriptorToSecurityDescriptorW', fields);
  }
  const descriptor = out[0];
  return {
    attributes: { nLength: koffi.sizeof('EVENT_SECURITY_ATTRIBUTES'), lpSecurityDescriptor: descriptor, bInheritHandle: 0 },
    free: () => k32.LocalFree(descriptor),
  };
}
