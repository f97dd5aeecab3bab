// Type tests for the public API: `npm run typecheck` (tsc) checks these assertions, so an
// accidental `any`, a lost overload or a widened option type fails the build. At run time
// expectTypeOf does nothing; the tests still run so vitest lists them.
import { describe, expectTypeOf, it } from 'vitest';
import * as api from '../lib/index.js';
import {
  DEFAULT_NAME,
  DEFAULT_SIZE,
  AbortError,
  NamedEvent,
  NamedMutex,
  MutexGuard,
  type MutexOptions,
  type LockOptions,
  SharedMemory,
  detachSharedMem,
  getSharedMem,
  setSharedMem,
  type Access,
  type ChangeWaitOptions,
  type ChangeWaitSyncOptions,
  type EventOptions,
  type OpenExistingOptions,
  type OpenOptions,
  type SystemError,
  type WaitOptions,
  type WriteOptions,
} from '../lib/index.js';

describe('public types', () => {
  it('exports exactly the documented values', () => {
    expectTypeOf<keyof typeof api>().toEqualTypeOf<
      | 'SharedMemory'
      | 'DEFAULT_NAME'
      | 'DEFAULT_SIZE'
      | 'setSharedMem'
      | 'getSharedMem'
      | 'detachSharedMem'
      | 'NamedEvent'
      | 'NamedMutex'
      | 'Layout'
      | 'MutexGuard'
      | 'Channel'
      | 'AbortError'
    >();
    expectTypeOf<typeof DEFAULT_NAME>().toEqualTypeOf<'dllmemfilemap'>();
    expectTypeOf<typeof DEFAULT_SIZE>().toEqualTypeOf<4096>();
  });

  it('opens with a name and options, and nothing else', () => {
    for (const open of [SharedMemory.open, SharedMemory.openExisting]) {
      expectTypeOf(open).returns.toEqualTypeOf<SharedMemory>();
      expectTypeOf(open).parameter(0).toEqualTypeOf<string | undefined>();
    }
    expectTypeOf(SharedMemory.create).returns.toEqualTypeOf<SharedMemory>();
    expectTypeOf(SharedMemory.open).parameter(1).toEqualTypeOf<OpenOptions | undefined>();
    expectTypeOf(SharedMemory.openExisting).parameter(1).toEqualTypeOf<OpenExistingOptions | undefined>();
    expectTypeOf(SharedMemory.create).parameter(1).toEqualTypeOf<Omit<OpenOptions, 'access'> | undefined>();
    expectTypeOf(SharedMemory.unlink).toEqualTypeOf<(name: string) => void>();
    expectTypeOf(SharedMemory.open).toBeCallableWith();
    expectTypeOf(SharedMemory.open).toBeCallableWith('x', { size: 8192, access: 'readonly', mode: 0o644, persist: true });
    expectTypeOf(SharedMemory.open).toBeCallableWith('Global\\x', { securityDescriptor: 'D:P(A;;GA;;;OW)' });
    // @ts-expect-error: a name is a string
    expectTypeOf(SharedMemory.open).toBeCallableWith(42);
    // @ts-expect-error: sizes are numbers
    expectTypeOf(SharedMemory.open).toBeCallableWith('x', { size: '4096' });
    // @ts-expect-error: BigInt sizes are not accepted
    expectTypeOf(SharedMemory.open).toBeCallableWith('x', { size: 4096n });
    // @ts-expect-error: only 'readwrite' and 'readonly'
    expectTypeOf(SharedMemory.open).toBeCallableWith('x', { access: 'write' });
    // @ts-expect-error: a created region is writable
    expectTypeOf(SharedMemory.create).toBeCallableWith('x', { access: 'readonly' });
    // @ts-expect-error: openExisting creates nothing, so it has no mode
    expectTypeOf(SharedMemory.openExisting).toBeCallableWith('x', { mode: 0o600 });
    // @ts-expect-error: no unknown options
    expectTypeOf(SharedMemory.open).toBeCallableWith('x', { sise: 4096 });
  });

  it('option types are exact', () => {
    expectTypeOf<Access>().toEqualTypeOf<'readwrite' | 'readonly'>();
    expectTypeOf<OpenOptions>().toEqualTypeOf<{
      size?: number;
      access?: Access;
      mode?: number;
      persist?: boolean;
      securityDescriptor?: string;
      zeroCopy?: boolean;
    }>();
    expectTypeOf<OpenExistingOptions>().toEqualTypeOf<{ size?: number; access?: Access; persist?: boolean; zeroCopy?: boolean }>();
    expectTypeOf<WriteOptions>().toEqualTypeOf<{ strict?: boolean }>();
  });

  it('a region: read-only fields, string methods, disposal', () => {
    expectTypeOf<SharedMemory['name']>().toEqualTypeOf<string>();
    expectTypeOf<SharedMemory['created']>().toEqualTypeOf<boolean>();
    expectTypeOf<SharedMemory['access']>().toEqualTypeOf<Access>();
    expectTypeOf<SharedMemory['size']>().toEqualTypeOf<number>();
    expectTypeOf<SharedMemory['capacity']>().toEqualTypeOf<number>();
    expectTypeOf<SharedMemory['closed']>().toEqualTypeOf<boolean>();
    expectTypeOf<SharedMemory['zeroCopy']>().toEqualTypeOf<boolean>();
    expectTypeOf<SharedMemory['bytes']>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<SharedMemory['writeString']>().toEqualTypeOf<(text: string, options?: WriteOptions) => number>();
    expectTypeOf<SharedMemory['readString']>().toEqualTypeOf<(limit?: number) => string>();
    expectTypeOf<SharedMemory['close']>().toEqualTypeOf<() => void>();
    expectTypeOf<SharedMemory>().toExtend<Disposable>();
    // `name`, `created` and `access` cannot be assigned, nor can the getters.
    const assign = (region: SharedMemory) => {
      // @ts-expect-error: read-only
      region.name = 'other';
      // @ts-expect-error: read-only
      region.created = true;
      // @ts-expect-error: a getter without a setter
      region.size = 1;
    };
    void assign;
    // @ts-expect-error: the constructor is private: regions come from open/create/openExisting
    expectTypeOf(SharedMemory).toBeConstructibleWith('x');
  });

  it('a region: change notification', () => {
    expectTypeOf<SharedMemory['changeCount']>().toEqualTypeOf<number>();
    expectTypeOf<SharedMemory['notify']>().toEqualTypeOf<() => number>();
    expectTypeOf<SharedMemory['waitForChange']>().toEqualTypeOf<(options?: ChangeWaitOptions) => Promise<number>>();
    expectTypeOf<SharedMemory['waitForChangeSync']>().toEqualTypeOf<(options?: ChangeWaitSyncOptions) => number>();
    expectTypeOf<ChangeWaitOptions>().toEqualTypeOf<{ since?: number; timeout?: number; signal?: AbortSignal }>();
    expectTypeOf<ChangeWaitSyncOptions>().toEqualTypeOf<{ since?: number; timeout?: number }>();
  });

  it('a named event: open, set, wait, dispose', () => {
    for (const open of [NamedEvent.open, NamedEvent.create]) {
      expectTypeOf(open).toEqualTypeOf<(name: string, options?: EventOptions) => NamedEvent>();
    }
    expectTypeOf(NamedEvent.openExisting).toEqualTypeOf<(name: string) => NamedEvent>();
    expectTypeOf<EventOptions>().toEqualTypeOf<{
      manualReset?: boolean;
      initialState?: boolean;
      mode?: number;
      securityDescriptor?: string;
    }>();
    expectTypeOf<WaitOptions>().toEqualTypeOf<{ timeout?: number; signal?: AbortSignal }>();
    expectTypeOf<NamedEvent['wait']>().toEqualTypeOf<(options?: WaitOptions) => Promise<boolean>>();
    expectTypeOf<NamedEvent['waitSync']>().toEqualTypeOf<(timeout?: number) => boolean>();
    expectTypeOf<NamedEvent['set']>().toEqualTypeOf<() => void>();
    expectTypeOf<NamedEvent['reset']>().toEqualTypeOf<() => void>();
    expectTypeOf<NamedEvent['manualReset']>().toEqualTypeOf<boolean>();
    expectTypeOf<NamedEvent['created']>().toEqualTypeOf<boolean>();
    expectTypeOf<NamedEvent>().toExtend<Disposable>();
    // @ts-expect-error: a name is required: events have no default name
    expectTypeOf(NamedEvent.open).toBeCallableWith();
    // @ts-expect-error: no unknown options
    expectTypeOf(NamedEvent.open).toBeCallableWith('x', { manual: true });
    expectTypeOf<AbortError>().toExtend<Error>();
  });

  it('a named mutex: open, lock with a guard, dispose', () => {
    for (const open of [NamedMutex.open, NamedMutex.create]) {
      expectTypeOf(open).toEqualTypeOf<(name: string, options?: MutexOptions) => NamedMutex>();
    }
    expectTypeOf(NamedMutex.openExisting).toEqualTypeOf<(name: string) => NamedMutex>();
    expectTypeOf<MutexOptions>().toEqualTypeOf<{ mode?: number; securityDescriptor?: string }>();
    expectTypeOf<LockOptions>().toEqualTypeOf<{ timeout?: number; signal?: AbortSignal }>();
    expectTypeOf<NamedMutex['lock']>().toEqualTypeOf<(options?: LockOptions) => Promise<MutexGuard>>();
    expectTypeOf<NamedMutex['tryLock']>().toEqualTypeOf<() => MutexGuard | null>();
    expectTypeOf<NamedMutex['lockSync']>().toEqualTypeOf<(timeout?: number) => MutexGuard>();
    expectTypeOf<NamedMutex['withLock']>().toEqualTypeOf<<T>(fn: (guard: MutexGuard) => T | Promise<T>, options?: LockOptions) => Promise<T>>();
    expectTypeOf<NamedMutex['created']>().toEqualTypeOf<boolean>();
    expectTypeOf<MutexGuard['abandoned']>().toEqualTypeOf<boolean>();
    expectTypeOf<MutexGuard['unlock']>().toEqualTypeOf<() => void>();
    expectTypeOf<NamedMutex>().toExtend<Disposable>();
    expectTypeOf<MutexGuard>().toExtend<Disposable>();
    // @ts-expect-error: no unknown options
    expectTypeOf(NamedMutex.open).toBeCallableWith('x', { recursive: true });
  });

  it('the sample API', () => {
    expectTypeOf(setSharedMem).toEqualTypeOf<(text: string) => number>();
    expectTypeOf(getSharedMem).toEqualTypeOf<(cchSize?: number) => string>();
    expectTypeOf(detachSharedMem).toEqualTypeOf<() => void>();
  });

  it('system errors', () => {
    expectTypeOf<SystemError>().toExtend<Error>();
    expectTypeOf<SystemError['code']>().toEqualTypeOf<string>();
    expectTypeOf<SystemError['errno']>().toEqualTypeOf<number>();
    expectTypeOf<SystemError['syscall']>().toEqualTypeOf<string>();
    expectTypeOf<SystemError['path']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<SystemError['region']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<SystemError['winError']>().toEqualTypeOf<number | undefined>();
  });
});
