// Layouts match Python's ctypes.Structure (with _pack_ for packed structs), field by field:
// test/fixtures/layout_ctypes.py describes the structs of test/interop/c/layout_probe.c, writes
// records into the region through mmap of /dev/shm/NAME and checks the records Node wrote.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLinux, openTracked, uniqueName } from './helpers.js';
import { makeLayouts, makeValues, plain, recordsHex, REGION_SIZE, STRUCT_NAMES, type Described, regionOfNodeRecords } from './interop/layout/layouts.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/layout_ctypes.py', import.meta.url));
const hasPython = isLinux && spawnSync('python3', ['-c', 'import ctypes, mmap'], { encoding: 'utf8' }).status === 0;
if (isLinux && !hasPython) console.warn('layout-python.test.ts: skipped, no python3 with ctypes on PATH');

const layouts = makeLayouts(64);
const values = makeValues(64);
const python = (...args: string[]) => spawnSync('python3', [SCRIPT, ...args], { encoding: 'utf8', timeout: 30_000 });

describe.runIf(hasPython)('layouts against Python ctypes (Linux x86-64)', () => {
  const described = hasPython ? (JSON.parse(python('describe').stdout) as Described) : ({ structs: [] } as unknown as Described);
  const struct = (name: string) => described.structs.find((s) => s.name === name)!;

  it('ctypes says c_long is 64 bits here, as WithLong assumes', () => {
    expect(described.sizeofLong).toBe(8);
  });

  for (const name of STRUCT_NAMES) {
    it(`${name}: the same size, alignment and field offsets as ctypes`, () => {
      const c = struct(name);
      expect({ size: layouts[name].size, align: layouts[name].align, offsets: c.fields.map((f) => [f.name, layouts[name].offsetOf(f.name)]) }).toEqual({
        size: c.size,
        align: c.align,
        offsets: c.fields.map((f) => [f.name, f.offset]),
      });
    });
  }

  it('Node reads every record Python wrote', () => {
    const name = uniqueName('lay');
    const region = openTracked(name, { size: REGION_SIZE });
    expect(python('write', name).status).toBe(0);
    for (const s of described.structs) {
      expect({ [s.name]: plain(region.struct(layouts[s.name], s.at).read()) }).toEqual({ [s.name]: values[s.name] });
    }
  });

  it('records Node writes are byte for byte the ones Python writes', () => {
    const fromPython = uniqueName('lay');
    openTracked(fromPython, { size: REGION_SIZE });
    const pyHex = JSON.parse(python('write', fromPython).stdout) as Record<string, string>;
    const region = regionOfNodeRecords(described, layouts, values);
    const name = region.name;
    expect(recordsHex(region.read(0, REGION_SIZE), described)).toEqual(pyHex);
  });

  it('Python checks every field of the records Node wrote and finds them right', () => {
    const region = regionOfNodeRecords(described, layouts, values);
    const name = region.name;
    const r = python('check', name);
    expect(r.stdout.trim()).toBe('ok');
    expect(r.status).toBe(0);
  });

  it('Python names the field when one is wrong: the check can fail', () => {
    const region = regionOfNodeRecords(described, layouts, values);
    const name = region.name;
    region.struct(layouts.Pack4, struct('Pack4').at).q = 1n;
    const r = python('check', name);
    expect(r.stdout.trim()).toMatch(/^mismatch Pack4\.q want ffffffffffffff7f got 0100000000000000$/);
    expect(r.status).toBe(1);
  });
});
