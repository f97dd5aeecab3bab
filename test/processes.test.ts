// Two or more real processes sharing one region by name.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { isLinux, lastJson, openTracked, runChild, startChild, startChildWith, uniqueName } from './helpers.js';

describe('sharing between processes', () => {
  it('a child reads what the parent wrote while the parent holds the region', () => {
    const name = uniqueName();
    const region = openTracked(name);
    region.writeString('This is a test string');
    const result = lastJson(runChild('read', name).stdout);
    expect(result).toEqual({ created: false, size: 4096, text: 'This is a test string' });
  });

  it('the parent reads what a child wrote', async () => {
    const name = uniqueName();
    const region = openTracked(name);
    const out = runChild('write', name, 'from', 'the', 'child');
    expect(lastJson(out.stdout)).toEqual({ created: false, units: 14 });
    expect(region.readString()).toBe('from the child');
  });

  it('a child that opens first is the creator, and the parent then is not', async () => {
    const name = uniqueName();
    const holder = startChild('hold', name, '4096', 'held by child');
    expect(await holder.first).toEqual({ created: true, size: 4096 });
    const region = openTracked(name);
    expect(region.created).toBe(false);
    expect(region.readString()).toBe('held by child');
    holder.child.stdin!.end();
    await holder.exit;
  });

  const routes = isLinux ? ['O_TMPFILE + linkat', 'shm_open'] : ['default'];
  it.each(routes)('exactly one of several processes opening a new name at once is the creator (%s)', async (route) => {
    const name = uniqueName();
    const go = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-')), 'go');
    const env: Record<string, string> = route === 'shm_open' ? { NAMED_SHM_CREATE_ROUTE: 'shm_open' } : {};
    const racers = Array.from({ length: 6 }, () => startChildWith(env, 'race', name, go));
    fs.writeFileSync(go, '');
    const results = await Promise.all(racers.map((r) => r.first));
    const creators = results.filter((r) => r.created === true);
    expect(creators).toHaveLength(1);
    expect(creators[0]!.zeros).toBe(true);
    expect(results.every((r) => r.size === 4096)).toBe(true);
    const region = openTracked(name);
    expect(region.readString()).toMatch(/^creator \d+$/);
    for (const r of racers) r.child.stdin!.end();
    await Promise.all(racers.map((r) => r.exit));
  });

  it('a new region reads as the empty string in another process', () => {
    const name = uniqueName();
    const region = openTracked(name);
    expect(region.created).toBe(true);
    expect(lastJson(runChild('read', name).stdout).text).toBe('');
  });

  it('create() in a second process fails with EEXIST while the first holds the name', () => {
    const name = uniqueName();
    openTracked(name);
    expect(() => SharedMemory.create(name)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });
});
