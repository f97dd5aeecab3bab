// Misuse gives a clear error or a defined result, never a crash of the process.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { copyForced, NEEDS_ZERO_COPY, openTracked, track, uniqueName } from './helpers.js';

const canDetach = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

describe('close', () => {
  it('close twice does not throw', () => {
    const region = SharedMemory.open(uniqueName());
    region.close();
    expect(() => region.close()).not.toThrow();
    expect(region.closed).toBe(true);
  });

  it('a using declaration closes the region at the end of its block', () => {
    const name = uniqueName();
    let seen: SharedMemory;
    {
      using region = SharedMemory.open(name);
      seen = region;
      expect(region.closed).toBe(false);
    }
    expect(seen.closed).toBe(true);
  });

  it.each([
    ['readString', (r: SharedMemory) => r.readString()],
    ['writeString', (r: SharedMemory) => r.writeString('x')],
    ['size', (r: SharedMemory) => r.size],
    ['capacity', (r: SharedMemory) => r.capacity],
    ['bytes', (r: SharedMemory) => r.bytes],
  ])('%s after close throws ERR_SHM_CLOSED', (_what, use) => {
    const region = SharedMemory.open(uniqueName());
    region.close();
    expect(() => use(region)).toThrow(expect.objectContaining({ code: 'ERR_SHM_CLOSED' }));
  });

  // These two are about the bytes view, which a copying region does not hand out.
  it.runIf(canDetach && !copyForced)(`a bytes view taken before close is detached by close (${NEEDS_ZERO_COPY})`, () => {
    const region = SharedMemory.open(uniqueName());
    const bytes = region.bytes;
    bytes[0] = 1;
    region.close();
    expect(bytes.length).toBe(0);
    bytes[0] = 2; // a store past the end of a detached array is ignored, and touches nothing
    expect(bytes[0]).toBeUndefined();
  });

  it.runIf(!canDetach && !copyForced)(`on Node 20 a bytes view taken before close stays usable memory until it is garbage (${NEEDS_ZERO_COPY})`, () => {
    const name = uniqueName();
    const region = SharedMemory.open(name);
    const other = track(SharedMemory.open(name));
    const bytes = region.bytes;
    region.close();
    bytes[0] = 0x41; // still mapped, so this lands in the region instead of crashing
    expect(other.readString()).toBe('A');
  });
});

const fixture = (file: string) => fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));

// The fixtures keep a bytes view past close() and past the region's garbage collection.
describe.skipIf(copyForced)(`memory safety in a separate process (${NEEDS_ZERO_COPY})`, () => {
  // Run where a crash would show as a signal instead of taking the test runner down.
  it('writing through bytes after close never crashes the process', () => {
    const r = spawnSync(process.execPath, [fixture('after-close.mjs'), uniqueName()], { encoding: 'utf8' });
    expect(r.signal).toBeNull();
    expect(r.stdout.trim()).toBe('survived');
    expect(r.status).toBe(0);
  });

  it('dropping a region while its bytes are still in use survives garbage collection', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', fixture('gc-view.mjs'), uniqueName()], { encoding: 'utf8' });
    expect(r.signal).toBeNull();
    expect(r.stdout.trim()).toBe('survived');
    expect(r.status).toBe(0);
  });
});

describe('read-only mapping', () => {
  it('reads what a writer stored', () => {
    const name = uniqueName();
    openTracked(name).writeString('for readers');
    const reader = track(SharedMemory.openExisting(name, { access: 'readonly' }));
    expect(reader.access).toBe('readonly');
    expect(reader.readString()).toBe('for readers');
  });

  it('writeString throws ERR_SHM_READ_ONLY and changes nothing', () => {
    const name = uniqueName();
    const writer = openTracked(name);
    writer.writeString('unchanged');
    const reader = track(SharedMemory.open(name, { access: 'readonly' }));
    expect(() => reader.writeString('changed')).toThrow(expect.objectContaining({ code: 'ERR_SHM_READ_ONLY' }));
    expect(writer.readString()).toBe('unchanged');
  });

  it.skipIf(copyForced)(`bytes of a read-only region is a copy: storing into it cannot fault or change the region (${NEEDS_ZERO_COPY})`, () => {
    const name = uniqueName();
    const writer = openTracked(name);
    writer.writeString('AB');
    const reader = track(SharedMemory.openExisting(name, { access: 'readonly' }));
    const copy = reader.bytes;
    copy[0] = 0x5a;
    expect(writer.readString()).toBe('AB');
    expect(reader.bytes[0]).toBe(0x41);
  });

  it('a read-only open does not create a missing region', () => {
    expect(() => SharedMemory.open(uniqueName(), { access: 'readonly' })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('create with access readonly is an argument error', () => {
    expect(() => SharedMemory.create(uniqueName(), { access: 'readonly' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('an unknown access is an argument error', () => {
    expect(() => SharedMemory.open(uniqueName(), { access: 'rw' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});

describe.skipIf(copyForced)(`bytes (${NEEDS_ZERO_COPY})`, () => {
  it('is a zero-copy view: a store is seen by another handle', () => {
    const name = uniqueName();
    const a = openTracked(name);
    const b = track(SharedMemory.openExisting(name));
    a.bytes.set([0x48, 0, 0x69, 0]);
    expect(b.readString()).toBe('Hi');
    expect(a.bytes).toBe(a.bytes);
    expect(a.bytes.length).toBe(4096);
  });
});
