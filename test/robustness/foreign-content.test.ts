// Regions written by others: a process that fills a region without the string API leaves no
// U+0000 anywhere. Reading such a region stops at its end, never past it, here and in a third
// process. (The same byte images written in-process, and the fuzzed contract against a model of
// the sample's loops, are in test/strings.test.ts.)
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { isWindows, lastJson, runChild, track, uniqueName } from '../helpers.js';
import { runFixture } from './support.js';

/** The size another process sees: Windows reports an existing section in whole pages. */
const seenByAnother = (size: number) => (isWindows ? Math.ceil(size / 4096) * 4096 : size);

/** A region of `size` bytes that another process filled with `byte` (all that it sees). */
function filledByAnother(size: number, byte: number): SharedMemory {
  const name = uniqueName('foreign');
  const region = track(SharedMemory.open(name, { size }));
  expect(runFixture('fill-region.mjs', name, String(byte))).toEqual({ size: seenByAnother(size), filled: byte });
  return region;
}

describe('regions written by others', () => {
  it.each([4096, 4097, 65_535])('a %i-byte region full of non-zero units reads up to its end and no further', (size) => {
    const region = filledByAnother(size, 0x41);
    const units = Math.floor(size / 2);
    // Every unit is U+4141; the odd last byte (0x41) would make one more unit with the zero
    // beyond the region if a reader went past the end.
    expect(region.readString()).toBe('\u4141'.repeat(units));
    expect(region.readString(Infinity)).toBe('\u4141'.repeat(units));
    expect(region.readString(units + 100)).toBe('\u4141'.repeat(units));
    expect(region.readString(11)).toBe('\u4141'.repeat(10));
  });

  it('another process reads a region with no terminator up to its end and no further', () => {
    const region = filledByAnother(4097, 0x42);
    const size = seenByAnother(4097);
    expect(lastJson(runChild('read-existing', region.name).stdout)).toEqual({ size, text: '\u4242'.repeat(Math.floor(size / 2)) });
  });

  it('a region of lone surrogates written by another process reads back unit for unit', () => {
    // 0xD8 0xD8 is the unit U+D8D8: a high surrogate with no low one after it, everywhere.
    const region = filledByAnother(4096, 0xd8);
    const text = region.readString();
    expect(text.length).toBe(2048);
    expect([...text].every((c) => c === '\ud8d8')).toBe(true);
  });
});
