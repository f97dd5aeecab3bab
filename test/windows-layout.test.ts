// Layouts match the mingw-w64 C compiler's on Windows, field by field: layout_probe.exe (built from
// test/interop/c/layout_probe.c by scripts/windows/build-c.sh) prints sizeof/offsetof and writes
// and checks records in a section named as Node names it. There `long` is 32 bits (LLP64), so
// WithLong uses int32/uint32 where the Linux build needs int64/uint64, and wchar_t is UTF-16.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isWindows, openTracked, uniqueName } from './helpers.js';
import { makeLayouts, makeValues, plain, recordsHex, REGION_SIZE, STRUCT_NAMES, type Described, regionOfNodeRecords } from './interop/layout/layouts.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const PROBE = path.join(process.env.NAMED_SHM_C_OUT ?? path.join(root, 'build', 'interop'), 'layout_probe.exe');
/** scripts/windows/test.sh builds the C programs and sets NAMED_SHM_INTEROP, so a missing build fails there. */
const hasProbe = process.env.NAMED_SHM_INTEROP === '1' || fs.existsSync(PROBE);

const layouts = makeLayouts(32);
const values = makeValues(32);
const run = (...args: string[]) => spawnSync(PROBE, args, { encoding: 'utf8', timeout: 60_000 });

describe.runIf(isWindows && hasProbe)('layouts against the C compiler (mingw-w64, Windows x64)', () => {
  const described = isWindows && hasProbe ? (JSON.parse(run('describe').stdout) as Described) : ({ structs: [] } as unknown as Described);
  const struct = (name: string) => described.structs.find((s) => s.name === name)!;

  it('C says long is 32 bits here, so WithLong uses int32 for it', () => {
    expect(described.sizeofLong).toBe(4);
    expect([layouts.WithLong.offsetOf('l'), layouts.WithLong.offsetOf('ul'), layouts.WithLong.size]).toEqual([4, 8, 16]);
  });

  for (const name of STRUCT_NAMES) {
    it(`${name}: the same sizeof, alignment and offsetof of every field as mingw-w64`, () => {
      const c = struct(name);
      expect({ size: layouts[name].size, align: layouts[name].align, offsets: c.fields.map((f) => [f.name, layouts[name].offsetOf(f.name)]) }).toEqual({
        size: c.size,
        align: c.align,
        offsets: c.fields.map((f) => [f.name, f.offset]),
      });
    });
  }

  it('Node reads every record the Windows C program wrote', () => {
    const name = uniqueName('lay');
    const region = openTracked(name, { size: REGION_SIZE });
    expect(run('write', name).status).toBe(0);
    for (const s of described.structs) {
      expect({ [s.name]: plain(region.struct(layouts[s.name], s.at).read()) }).toEqual({ [s.name]: values[s.name] });
    }
    expect(region.struct(layouts.WithLong, struct('WithLong').at).l).toBe(-1000000000);
    expect(region.struct(layouts.Strings, struct('Strings').at).label).toBe('Zoë 😀 ✓');
  });

  it('records Node writes are byte for byte the ones the Windows C program writes', () => {
    const fromC = uniqueName('lay');
    openTracked(fromC, { size: REGION_SIZE });
    const cHex = JSON.parse(run('write', fromC).stdout) as Record<string, string>;
    const region = regionOfNodeRecords(described, layouts, values);
    const name = region.name;
    expect(recordsHex(region.read(0, REGION_SIZE), described)).toEqual(cHex);
  });

  it('the Windows C program checks every field of the records Node wrote and finds them right', () => {
    const region = regionOfNodeRecords(described, layouts, values);
    const name = region.name;
    const r = run('check', name);
    expect(r.stdout.trim()).toBe('ok');
    expect(r.status).toBe(0);
  });

  it('the Windows C program names the field when one is wrong: the check can fail', () => {
    const region = regionOfNodeRecords(described, layouts, values);
    const name = region.name;
    region.struct(layouts.WithLong, struct('WithLong').at).ul = 1;
    const r = run('check', name);
    expect(r.stdout.trim()).toMatch(/^mismatch WithLong\.ul want 00286bee got 01000000$/);
    expect(r.status).toBe(1);
  });
});
