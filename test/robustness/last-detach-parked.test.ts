// Attach during the last detach, walked through on purpose: an opener is parked (gdb) at the exact
// point of its open where the last holder's close can slip in, the last holder closes, a new
// region is created under the name, and the opener goes on. It must end up on the new region,
// not on the one the name no longer reaches (the st_nlink re-check after locking), and must not
// remove the new region's name either. Holders lock with fcntl(F_OFD_SETLK): the opener first asks
// for the write lock (to learn whether it is alone), then, refused, for the read lock.
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib/index.js';
import { exists, shmPath, track, uniqueName } from '../helpers.js';
import { Park, canPark } from './park.js';
import { Worker, recordFigures } from './support.js';

const F_OFD_SETLK = 37; // <fcntl.h>
const F_RDLCK = 0;
const F_WRLCK = 1;

async function openerParkedAt(name: string, lockType: number) {
  const opener = new Worker('open-on-cue.mjs', [name]);
  const { ready } = await opener.next();
  const park = await Park.armLock(Number(ready), F_OFD_SETLK, lockType);
  opener.send('open');
  await park.parked();
  return { opener, park };
}

describe.runIf(canPark)('attach during the last detach, with the opener parked (Linux, gdb)', () => {
  const cases = [
    ['before its first lock attempt', F_WRLCK],
    ['after its exclusive attempt was refused, before its shared lock', F_RDLCK],
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
    recordFigures(`last-detach-parked/${operation === F_RDLCK ? 'shared' : 'exclusive'}`, { parkedOpens: 1, splitBrains: 0 });
  });
});

describe.runIf(canPark)('two last holders closing at the same moment (Linux, gdb)', () => {
  it('a holder parked after its write-lock request was refused does not keep the other from removing the name', async () => {
    const name = uniqueName('parked-close');
    const mine = SharedMemory.open(name);
    const other = new Worker('open-on-cue.mjs', [name]);
    const { ready } = await other.next();
    other.send('open');
    expect(await other.next()).toMatchObject({ created: false });
    // The other holder's close asks for the write lock, which our read lock refuses, and is parked
    // right after that refusal. Only if it dropped its read lock before asking can our close, now,
    // find no other lock and remove the name.
    const park = await Park.armLock(Number(ready), F_OFD_SETLK, F_WRLCK);
    other.send('close');
    await park.parked();
    await park.finish();
    mine.close();
    await park.release();
    expect(await other.next()).toEqual({ closed: true });
    other.end();
    await other.exit;
    expect(exists(shmPath(name))).toBe(false);
  });
});
