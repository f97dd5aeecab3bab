// `named-shm list` tells regions from the objects that events and change notification keep in
// /dev/shm, by their header, without opening them as regions or changing them.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { NamedEvent } from '../lib/index.js';
import { cli } from './cli-runner.js';
import { copyForced, isLinux, NEEDS_ZERO_COPY, openTracked, uniqueName } from './helpers.js';

interface ListRow {
  name: string;
  kind: string;
  size: number;
}

const events: NamedEvent[] = [];
afterEach(() => {
  for (const e of events.splice(0)) e.close();
});

async function rows(): Promise<ListRow[]> {
  const run = await cli('list', '--json');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as ListRow[];
}

describe.runIf(isLinux)('named-shm list: kinds of objects', () => {
  // Named events and change notification open only on zero-copy regions.
  it.skipIf(copyForced)(`marks a named event, a change counter and a region, each by its own kind (${NEEDS_ZERO_COPY})`, async () => {
    const eventName = uniqueName('lkev');
    const regionName = uniqueName('lkrg');
    events.push(NamedEvent.open(eventName));
    openTracked(regionName).notify();
    const byName = new Map((await rows()).map((r) => [r.name, r]));
    expect(byName.get(eventName)?.kind).toBe('event');
    expect(byName.get(`${regionName}#changes`)?.kind).toBe('changes');
    expect(byName.get(regionName)?.kind).toBe('region');
  });

  it.skipIf(copyForced)(`shows the kind in the NOTE column of the table (${NEEDS_ZERO_COPY})`, async () => {
    const eventName = uniqueName('lknote');
    events.push(NamedEvent.open(eventName));
    const run = await cli('list');
    const line = run.stdout.split('\n').find((l) => l.startsWith(eventName));
    expect(line).toMatch(/named event/);
  });

  it('takes a 32-byte region whose bytes are not a header for a region, and leaves it unchanged', async () => {
    const name = uniqueName('lk32');
    const region = openTracked(name, { size: 32 });
    region.write(0, Buffer.from('nshmevtX and more bytes here....'));
    const before = fs.readFileSync(`/dev/shm/${name}`);
    const row = (await rows()).find((r) => r.name === name);
    expect(row?.kind).toBe('region');
    expect(fs.readFileSync(`/dev/shm/${name}`)).toEqual(before);
  });
});
