// Finding 15 (docs/RELIABILITY.md): messages that said what is not so, and options that were
// silently ignored.
import { describe, expect, it } from 'vitest';
import { SharedMemory, getSharedMem } from '../../lib/index.js';
import { errorOf, openTracked, uniqueName } from '../helpers.js';

describe('what errors say', () => {
  it('a strict write to a 1-byte region says it has room for no unit, not even the terminator', () => {
    const region = openTracked(uniqueName('tiny'), { size: 1 });
    const err = errorOf(() => region.writeString('a', { strict: true }));
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
    expect(err.message).toBe(
      'The string does not fit: it has 1 UTF-16 unit and the region has room for no unit, not even the terminating U+0000. Nothing was written',
    );
  });

  it('counts of one unit are singular', () => {
    const region = openTracked(uniqueName('four'), { size: 4 });
    expect(errorOf(() => region.writeString('ab', { strict: true })).message).toContain('the region holds 1 UTF-16 unit plus the terminating U+0000');
  });

  it('getSharedMem(0) names the parameter cchSize, as the sample does', () => {
    const err = errorOf(() => getSharedMem(0));
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
    expect(err.message).toContain('"cchSize"');
  });
});

describe('unknown options', () => {
  it.each([
    ['open', () => SharedMemory.open(uniqueName('opt'), { sise: 100 } as never), 'options.sise'],
    ['create', () => SharedMemory.create(uniqueName('opt'), { presist: true } as never), 'options.presist'],
    ['openExisting', () => SharedMemory.openExisting(uniqueName('opt'), { mode: 0o600 } as never), 'options.mode'],
  ])('%s rejects an unknown option key with ERR_INVALID_ARG_VALUE before touching the OS', (_how, call, key) => {
    const err = errorOf(call);
    expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(err.message).toContain(`'${key}'`);
  });

  it('writeString rejects an unknown option key and writes nothing', () => {
    const region = openTracked(uniqueName('opt'));
    region.writeString('kept');
    expect(errorOf(() => region.writeString('lost', { strickt: true } as never)).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(region.readString()).toBe('kept');
  });
});
