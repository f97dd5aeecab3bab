// Finding 8: the last close, and the reclaim of a dead region, remove a name only if it still
// leads to THEIR object (same device and inode), never to another generation's. Otherwise a
// rename or a hard link in /dev/shm gives two live regions under one name (a split brain): a
// holder's close removes the name of the region that another process created there after the
// rename, and the next opener creates a third one instead of reaching it.
//
// Holders and openers are child processes (test/fixtures/adv-steps.mjs, loading dist/); the test
// itself only renames, links and removes names, as an administrator or another program could.
//
// Guards (lib/os/posix/object-names.ts and lib/os/posix/region.ts):
// - names.unlinkIfLeadsTo() comparing (dev, ino) of the name with the descriptor's, used by
//   letGo() at the last close and by attach() when it reclaims a dead region;
// - attach(), after it found itself alone: `if (st.nlink === 0 || !names.leadsTo(path, fd))`
//   → GONE, so an opener whose object was moved away or replaced looks at the name again.
// The last test shows the one window POSIX leaves open: between that comparison and shm_unlink
// there is no "unlink if it is still this inode", so an object renamed onto the name in that
// instant loses its name (as when someone runs `rm /dev/shm/x`, which the README documents).
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isLinux, shmPath, uniqueName } from '../helpers.js';
import { Park, canPark } from '../robustness/park.js';
import { Worker, type Line } from '../robustness/support.js';

const F_OFD_SETLK = 37; // <fcntl.h>
const F_WRLCK = 1;

const extraNames: string[] = [];
afterEach(() => {
  for (const path of extraNames.splice(0)) fs.rmSync(path, { force: true });
});

/** A path we make in /dev/shm (a rename or link target), removed after the test. */
function extra(name: string, suffix: string): string {
  const path = `${shmPath(name)}.${suffix}`;
  extraNames.push(path);
  return path;
}

/** A child process that runs `steps`, answers them, and then takes more steps on stdin. */
async function actor(steps: object[]): Promise<{ w: Worker; answers: Line[] }> {
  const w = new Worker('adv-steps.mjs', [JSON.stringify(steps), '-']);
  const answers: Line[] = [];
  for (let i = 0; i < steps.length; i++) answers.push(await w.next());
  return { w, answers };
}

async function step(w: Worker, s: object): Promise<Line> {
  w.send(JSON.stringify(s));
  return w.next();
}

/** A region of `text` created at `name` by a child that holds it. */
async function generation(name: string, text: string): Promise<Worker> {
  const { w, answers } = await actor([
    { op: 'create', name },
    { op: 'writeString', text },
  ]);
  expect(answers[0]).toMatchObject({ ok: true, created: true });
  return w;
}

/** What a fresh process gets from open(name): {created, text}. */
async function freshOpen(name: string): Promise<Line> {
  const { w, answers } = await actor([{ op: 'open', name }, { op: 'readString' }, { op: 'close' }]);
  w.end();
  await w.exit;
  return { created: answers[0]!.created, text: answers[1]!.text };
}

/** A managed region at `name` whose only holder was killed: a dead region's leftover. */
async function deadRegion(name: string, text: string): Promise<void> {
  const w = await generation(name, text);
  w.kill();
  await w.exit;
  expect(fs.existsSync(shmPath(name))).toBe(true);
}

describe.runIf(isLinux)('the last close removes only its own object', () => {
  it("after a rename, the last close of generation 1 leaves the name to generation 2", async () => {
    const name = uniqueName('split');
    const a = await generation(name, 'gen1');
    fs.renameSync(shmPath(name), extra(name, 'moved'));
    const b = await generation(name, 'gen2');
    expect(await step(a, { op: 'close' })).toMatchObject({ ok: true });
    expect(fs.existsSync(shmPath(name))).toBe(true);
    expect(await freshOpen(name)).toEqual({ created: false, text: 'gen2' });
    b.end();
  });

  it('after a hard link and the removal of the name, the last close of generation 1 leaves the name to generation 2', async () => {
    // The hard link keeps generation 1's st_nlink at 1, so a check of st_nlink alone would let
    // its close remove the name, which now leads to generation 2: only (dev, ino) tells them apart.
    const name = uniqueName('split');
    const a = await generation(name, 'gen1');
    fs.linkSync(shmPath(name), extra(name, 'link'));
    fs.unlinkSync(shmPath(name));
    const b = await generation(name, 'gen2');
    expect(fs.statSync(extra(name, 'link')).nlink).toBe(1);
    expect(await step(a, { op: 'close' })).toMatchObject({ ok: true });
    expect(fs.existsSync(shmPath(name))).toBe(true);
    expect(await freshOpen(name)).toEqual({ created: false, text: 'gen2' });
    b.end();
  });

  it("generation 2's holder and a later opener share one region after generation 1 closed", async () => {
    const name = uniqueName('split');
    const a = await generation(name, 'gen1');
    fs.renameSync(shmPath(name), extra(name, 'moved'));
    const b = await generation(name, 'gen2');
    await step(a, { op: 'close' });
    const { w: c, answers } = await actor([{ op: 'open', name }]);
    expect(answers[0]).toMatchObject({ ok: true, created: false });
    await step(b, { op: 'writeString', text: 'seen by both' });
    expect(await step(c, { op: 'readString' })).toMatchObject({ text: 'seen by both' });
    b.end();
    c.end();
  });
});

describe.runIf(canPark)('reclaim with the opener parked between its open and its lock (Linux, gdb)', () => {
  /** A child that opens `name` when told, parked by gdb at its first write-lock attempt. */
  async function parkedOpener(name: string, where: 'lock' | 'unlink'): Promise<{ c: Worker; park: Park }> {
    const { w: c, answers } = await actor([{ op: 'pid' }]);
    const pid = Number(answers[0]!.pid);
    const park = where === 'lock' ? await Park.armLock(pid, F_OFD_SETLK, F_WRLCK) : await Park.armWhen(pid, 'shm_unlink', '1');
    c.send(JSON.stringify({ op: 'open', name }));
    await park.parked();
    return { c, park };
  }

  it('a live region renamed onto a dead one after the opener opened it is attached, not removed', async () => {
    const name = uniqueName('parked');
    await deadRegion(name, 'dead');
    const { c, park } = await parkedOpener(name, 'lock'); // it holds a descriptor of the dead region
    const live = extra(name, 'live');
    const b = await generation(`${name}.live`, 'live');
    fs.renameSync(live, shmPath(name)); // the dead region loses its last name
    const ino = fs.statSync(shmPath(name)).ino;
    await park.release();
    expect(await c.next()).toMatchObject({ ok: true, created: false });
    expect(await step(c, { op: 'readString' })).toMatchObject({ text: 'live' });
    expect(fs.statSync(shmPath(name)).ino).toBe(ino);
    b.end();
    c.end();
  });

  it('a kept (unmanaged) region moved away after the opener opened it is not attached: the opener gets the region at the name', async () => {
    // No holder and no managed mark: an opener alone on it would attach it as it is, so only
    // the (dev, ino) check after locking keeps it from holding an object the name left.
    const name = uniqueName('parked');
    const { w: k, answers } = await actor([
      { op: 'create', name, options: { persist: true } },
      { op: 'writeString', text: 'kept' },
      { op: 'close' },
    ]);
    expect(answers[0]).toMatchObject({ ok: true, created: true });
    k.end();
    const { c, park } = await parkedOpener(name, 'lock');
    fs.renameSync(shmPath(name), extra(name, 'moved'));
    const b = await generation(name, 'gen2');
    await park.release();
    expect(await c.next()).toMatchObject({ ok: true, created: false });
    expect(await step(c, { op: 'readString' })).toMatchObject({ text: 'gen2' });
    b.end();
    c.end();
  });

  // The OS limit, shown as it is: the reclaimer compared the name with its object and is about
  // to call shm_unlink; a live region renamed onto the name in that instant loses its name, and
  // the reclaimer then creates a new region there. No POSIX call removes a name only if it still
  // leads to a given inode, so this window cannot be closed; only an outside rename can open it
  // (named-shm never renames, and its own openers and creators wait while the reclaimer holds the
  // write lock).
  it('the window POSIX leaves: a region renamed onto the name between the check and shm_unlink loses its name', async () => {
    const name = uniqueName('parked');
    await deadRegion(name, 'dead');
    const { c, park } = await parkedOpener(name, 'unlink'); // checked: the name leads to the dead region
    const live = extra(name, 'live');
    const b = await generation(`${name}.live`, 'live');
    fs.renameSync(live, shmPath(name));
    await park.release();
    // shm_unlink removed the live region's new name; the reclaimer found the name free and made a
    // new, empty region there, while b still holds 'live' under no name.
    expect(await c.next()).toMatchObject({ ok: true, created: true });
    expect(await step(c, { op: 'readString' })).toMatchObject({ text: '' });
    expect(await step(b, { op: 'readString' })).toMatchObject({ text: 'live' });
    b.end();
    c.end();
  });
});
