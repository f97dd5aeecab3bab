// Attach during the last detach, walked through on purpose: an opener is parked (gdb) at the exact
// point of its open where the last holder's close can slip in, the last holder closes, a new
// region is created under the name, and the opener goes on. It must end up on the new region,
// not on the one the name no longer reaches (the st_nlink re-check after locking), and must not
// remove the new region's name either.
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { track, uniqueName } from '../helpers.js';
import { Park, canPark } from './park.js';
import { Worker, recordFigures } from './support.js';

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;

async function openerParkedAt(name: string, flockOperation: number) {
  const opener = new Worker('open-on-cue.mjs', [name]);
  const { ready } = await opener.next();
  const park = await Park.arm(Number(ready), 'flock', flockOperation);
  opener.send('open');
  await park.parked();
  return { opener, park };
}

describe.runIf(canPark)('attach during the last detach, with the opener parked (Linux, gdb)', () => {
  const cases = [
    ['before its first lock attempt', LOCK_EX | LOCK_NB],
    ['after its exclusive attempt was refused, before its shared lock', LOCK_SH | LOCK_NB],
  ] as const;

  it.each(cases)('an opener parked %s gets the region created after the last close', async (_where, operation) => {
    const name = uniqueName('parked');
    const first = SharedMemory.open(name);
    first.writeString('first generation');
    const { opener, park } = await openerParkedAt(name, operation);
    // The opener holds a descriptor to the first region and no lock: this close is the last one.
    first.close();
    const second = track(SharedMemory.open(name));
    expect(second.created).toBe(true);
    second.writeString('second generation');
    await park.release();
    const got = await opener.next();
    expect(got).toEqual({ created: false, size: 4096, text: 'second generation' });
    // The name still leads to the second region, for the opener and for anyone else.
    expect(track(SharedMemory.openExisting(name)).readString()).toBe('second generation');
    second.writeString('seen by both');
    opener.send('read');
    expect(await opener.next()).toEqual({ text: 'seen by both' });
    opener.end();
    await opener.exit;
    recordFigures(`last-detach-parked/${operation === (LOCK_SH | LOCK_NB) ? 'shared' : 'exclusive'}`, { parkedOpens: 1, splitBrains: 0 });
  });
});
