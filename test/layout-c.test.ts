// Layouts match the C compiler's, field by field: test/interop/c/layout_probe.c, built with `cc`,
// prints sizeof/offsetof of its structs and writes and checks records in a named region; Node
// describes the same structs with Layout (test/interop/layout/layouts.ts) and must agree on
// every size and offset, read every value C wrote, and write records C reads back. koffi's own
// C layouts (koffi.struct, koffi.pack) agree with Layout too.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { beforeAll, describe, expect, it } from 'vitest';
import { Layout } from '../lib/index.js';
import { isLinux, openTracked, uniqueName } from './helpers.js';
import {
  makeLayouts, makeValues, plain, recordsHex, REGION_SIZE, STRUCT_NAMES, type Described, regionOfNodeRecords } from './interop/layout/layouts.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const hasCc = isLinux && spawnSync('cc', ['--version']).status === 0;
if (isLinux && !hasCc) console.warn('layout-c.test.ts: skipped, no `cc` on PATH to build test/interop/c/layout_probe.c');

const layouts = makeLayouts(64);
const values = makeValues(64);

describe.runIf(hasCc)('layouts against the C compiler (cc, Linux x86-64)', () => {
  let probe = '';
  let described: Described;
  beforeAll(() => {
    probe = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-layout-')), 'layout_probe');
    const cc = spawnSync('cc', ['-O2', '-Wall', '-o', probe, path.join(root, 'test/interop/c/layout_probe.c'), '-lrt'], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    expect(cc.status).toBe(0);
    described = JSON.parse(run('describe').stdout) as Described;
  });

  function run(...args: string[]) {
    return spawnSync(probe, args, { encoding: 'utf8', timeout: 30_000 });
  }

  const struct = (name: string) => described.structs.find((s) => s.name === name)!;

  it('C says long is 64 bits here, so WithLong uses int64 for it', () => {
    expect(described.sizeofLong).toBe(8);
    expect(layouts.WithLong.offsetOf('l')).toBe(8);
    expect(layouts.WithLong.size).toBe(32);
  });

  for (const name of STRUCT_NAMES) {
    it(`${name}: the same sizeof and alignment as C`, () => {
      expect({ size: layouts[name].size, align: layouts[name].align }).toEqual({ size: struct(name).size, align: struct(name).align });
    });

    it(`${name}: the same offsetof for every field, nested members by dotted path`, () => {
      const ours = struct(name).fields.map((f) => ({ name: f.name, offset: layouts[name].offsetOf(f.name) }));
      expect(ours).toEqual(struct(name).fields.map((f) => ({ name: f.name, offset: f.offset })));
    });
  }

  it('the top-level fields list gives C offsetof and sizeof', () => {
    for (const name of STRUCT_NAMES) {
      const c = struct(name).fields.filter((f) => !f.name.includes('.'));
      const ours = layouts[name].fields.filter((f) => c.some((g) => g.name === f.name));
      expect(ours.map((f) => ({ name: f.name, offset: f.offset, size: f.size }))).toEqual(c);
    }
  });

  it('Node reads with read() every record C wrote', () => {
    const name = uniqueName('lay');
    const region = openTracked(name, { size: REGION_SIZE });
    const w = run('write', name);
    expect(w.status).toBe(0);
    for (const s of described.structs) {
      expect({ [s.name]: plain(region.struct(layouts[s.name], s.at).read()) }).toEqual({ [s.name]: values[s.name] });
    }
  });

  it('Node reads C-written values through the property getters', () => {
    const name = uniqueName('lay');
    const region = openTracked(name, { size: REGION_SIZE });
    expect(run('write', name).status).toBe(0);
    const at = (n: string) => struct(n).at;
    const natural = region.struct(layouts.Natural, at('Natural'));
    expect([natural.big, natural.q, natural.d, natural.f, natural.b, natural.i8]).toEqual([
      0xfedcba9876543210n, -1234567890123456789n, 3.141592653589793, -2.25, true, -128,
    ]);
    const pack1 = region.struct(layouts.Pack1, at('Pack1'));
    expect([pack1.d, pack1.big, pack1.v.z, pack1.inner.b]).toEqual([-0.1, 0xfedcba9876543210n, 3.125, 6.02214076e23]);
    const nested = region.struct(layouts.Nested, at('Nested'));
    expect([nested.wheels[2].z, nested.counts[4], nested.speeds.length, nested.ticks[1], nested.inners[1].a]).toEqual([
      -9, 2147483647, 3, 0xfedcba9876543210n, 32767,
    ]);
    const strings = region.struct(layouts.Strings, at('Strings'));
    expect([strings.name, strings.label, strings.latin, strings.full]).toEqual(['Ayrton Señna ✓', 'Zoë 😀 ✓', 'café', 'ABC']);
    expect(region.struct(layouts.WithLong, at('WithLong')).l).toBe(-1000000000n);
  });

  it('records Node writes are byte for byte the ones C writes, padding included', () => {
    const fromC = uniqueName('lay');
    openTracked(fromC, { size: REGION_SIZE });
    const cHex = JSON.parse(run('write', fromC).stdout) as Record<string, string>;
    const region = regionOfNodeRecords(described, layouts, values);
    const name = region.name;
    expect(recordsHex(region.read(0, REGION_SIZE), described)).toEqual(cHex);
  });

  it('C checks every field of the records Node wrote and finds them right', () => {
    const region = regionOfNodeRecords(described, layouts, values);
    const name = region.name;
    const r = run('check', name);
    expect(r.stdout.trim()).toBe('ok');
    expect(r.status).toBe(0);
  });

  it('C names the field when one is wrong: the check can fail', () => {
    const region = regionOfNodeRecords(described, layouts, values);
    const name = region.name;
    region.struct(layouts.Nested, struct('Nested').at).wheels[3].y = 0.625;
    const r = run('check', name);
    expect(r.stdout).toMatch(/^mismatch Nested\.wheels want /m);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(1);
  });
});

describe('layouts against koffi', () => {
  const Vec3 = koffi.struct({ x: 'float', y: 'float', z: 'float' });
  const Inner = koffi.struct({ a: 'int16_t', b: 'double', c: 'int8_t' });
  const naturalFields = {
    c: 'int8_t', d: 'double', s: 'int16_t', i: 'int32_t', q: 'int64_t', u8: 'uint8_t',
    big: 'uint64_t', f: 'float', b: 'bool', u16: 'uint16_t', i8: 'int8_t', u32: 'uint32_t',
  };

  function agree(layout: Layout, type: ReturnType<typeof koffi.struct>, names: string[]) {
    expect({ size: layout.size, align: layout.align }).toEqual({ size: koffi.sizeof(type), align: koffi.alignof(type) });
    expect(names.map((n) => layout.offsetOf(n))).toEqual(names.map((n) => koffi.offsetof(type, n)));
  }

  it('a natural struct: the same size, alignment and offsets as koffi.struct', () => {
    agree(layouts.Natural, koffi.struct(naturalFields), Object.keys(naturalFields));
  });

  it('a #pragma pack(1) struct with nested structs: the same as koffi.pack', () => {
    const type = koffi.pack({ c: 'int8_t', d: 'double', s: 'int16_t', i: 'int32_t', big: 'uint64_t', b: 'bool', f: 'float', v: Vec3, inner: Inner });
    agree(layouts.Pack1, type, ['c', 'd', 's', 'i', 'big', 'b', 'f', 'v', 'inner']);
  });

  it('nested structs and arrays: the same as koffi.struct with koffi.array', () => {
    const type = koffi.struct({
      tag: 'int8_t', inner: Inner, pos: Vec3, wheels: koffi.array(Vec3, 4), counts: koffi.array('int32_t', 5),
      speeds: koffi.array('double', 3), flags: koffi.array('bool', 3), ticks: koffi.array('uint64_t', 2),
      small: koffi.array('int8_t', 3), inners: koffi.array(Inner, 2),
    });
    agree(layouts.Nested, type, ['tag', 'inner', 'pos', 'wheels', 'counts', 'speeds', 'flags', 'ticks', 'small', 'inners']);
  });

  it('koffi.decode reads the record Node wrote as Layout says', () => {
    const bytes = new Uint8Array(layouts.Natural.size);
    const name = uniqueName('lay');
    const region = openTracked(name, { size: REGION_SIZE });
    region.struct(layouts.Natural, 0).write(values.Natural!);
    bytes.set(region.read(0, layouts.Natural.size));
    expect(koffi.decode(bytes, koffi.struct(naturalFields))).toEqual({ ...values.Natural, b: true });
  });
});
