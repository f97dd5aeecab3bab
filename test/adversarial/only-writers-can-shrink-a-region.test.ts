// Finding 5: who can kill a region's holders with SIGBUS. Anyone who may write the object can
// shrink it (ftruncate; `truncate -s 0`), and the next access of a holder to the lost pages is a
// SIGBUS: POSIX has no way to prevent that. The owner check of the package keeps other users from
// handing us THEIR objects; it does not keep them out of OURS when its mode lets them write.
// So: created with {mode: 0o666}, another user (nobody, 65534, through setpriv) shrinks it and
// the holder dies of SIGBUS at its next touch — the OS limit, shown truthfully. With the default
// mode 0600 (and with 0644, read for others), the other user cannot even open it for writing.
//
// Root only (setpriv drops to uid 65534); the holder is a child process of our uid.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isLinux, shmPath, uniqueName } from '../helpers.js';
import { Worker } from '../robustness/support.js';

const NOBODY = 65534;
const isRoot = process.geteuid?.() === 0;
const asNobody = ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups'];
const canDrop = isLinux && isRoot && spawnSync('setpriv', [...asNobody, 'truncate', '--version']).status === 0;
const SIZE = 64 * 1024;

/** A child of ours that creates the region with `mode`, writes to it, and holds it. */
async function holder(name: string, mode?: number): Promise<Worker> {
  const w = new Worker('adv-steps.mjs', [
    JSON.stringify([
      { op: 'create', name, options: { size: SIZE, ...(mode === undefined ? {} : { mode }) } },
      { op: 'touch' },
    ]),
    '-',
  ]);
  expect(await w.next()).toMatchObject({ ok: true, created: true, size: SIZE });
  expect(await w.next()).toMatchObject({ ok: true, pages: SIZE / 4096 });
  return w;
}

/** `truncate -s 0` of the object, run as nobody. */
function shrinkAsNobody(name: string): { status: number | null; stderr: string } {
  const r = spawnSync('setpriv', [...asNobody, 'truncate', '-s', '0', shmPath(name)], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

describe.runIf(canDrop)('another user shrinking a region under its holder (Linux, root, setpriv)', () => {
  it('with mode 0o666 another user can shrink the region, and the holder dies of SIGBUS at its next touch (the OS limit)', async () => {
    const name = uniqueName('shrink');
    const w = await holder(name, 0o666);
    expect(fs.statSync(shmPath(name)).uid).toBe(process.geteuid!()); // ours, not theirs
    expect(shrinkAsNobody(name)).toMatchObject({ status: 0 });
    expect(fs.statSync(shmPath(name)).size).toBe(0);
    w.send(JSON.stringify({ op: 'touch' }));
    expect(await w.exit).toEqual({ code: null, signal: 'SIGBUS' });
  });

  it.each([
    ['the default mode (0600)', undefined],
    ['mode 0o644 (others may read)', 0o644],
  ])('with %s another user cannot open the region for writing: truncate gets EACCES', async (_mode, mode) => {
    const name = uniqueName('shrink');
    const w = await holder(name, mode);
    const r = shrinkAsNobody(name);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Permission denied');
    expect(fs.statSync(shmPath(name)).size).toBe(SIZE);
    w.send(JSON.stringify({ op: 'touch' }));
    expect(await w.next()).toMatchObject({ ok: true, pages: SIZE / 4096 });
    w.end();
    expect(await w.exit).toEqual({ code: 0, signal: null });
  });
});
