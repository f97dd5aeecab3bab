// Finding 2: an object larger than this Node can view (`truncate -s 5G /dev/shm/x`: sparse, it
// costs nothing) must give a clear error, never abort the process. On Node 20
// buffer.constants.MAX_LENGTH is 2^32, so a 5 GiB object cannot be viewed: EFBIG (syscall fstat).
// On Node 22+ (MAX_LENGTH 2^53-1) it maps, and its last byte reads.
//
// Every open runs in a child process, so an abort shows as the child's signal or exit code, not
// as a dead suite. The object is our own (owned by this uid, mode 0600), because the package
// refuses other users' objects before it looks at their size.
//
// Guards `if (st.size > MAX_SIZE) throw systemError('EFBIG', 'fstat', …)` in attach()
// (lib/os/posix/region.ts), and its place before the posix_fallocate of sparse objects.
import { spawnSync } from 'node:child_process';
import { constants as bufferConstants } from 'node:buffer';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isLinux, shmPath, uniqueName } from '../helpers.js';

const STEPS = fileURLToPath(new URL('../fixtures/adv-steps.mjs', import.meta.url));
const HUGE = 5 * 2 ** 30;
const tooBigHere = bufferConstants.MAX_LENGTH < HUGE;

type Answer = { op: string; ok: boolean; code?: string; syscall?: string; message?: string; [k: string]: unknown };

/** Runs the steps in a child; it must end by itself, normally (no signal, exit code 0). */
function stepsInChild(steps: object[]): Answer[] {
  const r = spawnSync(process.execPath, [STEPS, JSON.stringify(steps)], { encoding: 'utf8', timeout: 60_000 });
  expect(r.signal, `the child died of ${r.signal}: ${r.stderr}`).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Answer);
}

const planted: string[] = [];
afterEach(() => {
  for (const path of planted.splice(0)) fs.rmSync(path, { force: true });
});

/** A sparse object of `size` bytes, ours, mode 0600, with no memory behind it. */
function plantHuge(name: string, size = HUGE): string {
  const path = shmPath(name);
  const fd = fs.openSync(path, 'wx', 0o600);
  planted.push(path);
  fs.ftruncateSync(fd, size);
  fs.fchmodSync(fd, 0o600);
  fs.closeSync(fd);
  return path;
}

const opens = [
  ['openExisting', undefined],
  ['open', undefined],
  ['openExisting', { access: 'readonly' }],
  ['open', { access: 'readonly' }],
  ['open', { size: 4096 }],
] as const;

describe.runIf(isLinux && tooBigHere)(`an object larger than MAX_LENGTH (${bufferConstants.MAX_LENGTH}) of this Node`, () => {
  it.each(opens)('%s(name, %j) of a 5 GiB object gives EFBIG, and the process lives on', (op, options) => {
    const name = uniqueName('huge');
    plantHuge(name);
    const [answer, after] = stepsInChild([{ op, name, options }, { op: 'open', name: uniqueName('after') }, { op: 'close' }]);
    expect(answer).toMatchObject({
      ok: false,
      code: 'EFBIG',
      syscall: 'fstat',
      message: expect.stringContaining(`${HUGE} bytes, more than this runtime can view`),
    });
    expect(after).toMatchObject({ ok: true, created: true }); // still a working process
  });

  it('a refused read-write open gives the sparse object no memory: the size is checked before posix_fallocate', () => {
    const name = uniqueName('huge');
    const path = plantHuge(name);
    const before = fs.statSync(path);
    const [answer] = stepsInChild([{ op: 'openExisting', name }]);
    expect(answer).toMatchObject({ ok: false, code: 'EFBIG' });
    const after = fs.statSync(path);
    expect(after.blocks).toBe(before.blocks);
    expect(after.size).toBe(HUGE);
  });

  it('create() over a 5 GiB object says EEXIST and leaves it as it was', () => {
    const name = uniqueName('huge');
    const path = plantHuge(name);
    expect(stepsInChild([{ op: 'create', name }])[0]).toMatchObject({ ok: false, code: 'EEXIST' });
    expect(fs.statSync(path).size).toBe(HUGE);
  });

  it('an object of exactly MAX_LENGTH + 1 bytes is refused the same way', () => {
    const name = uniqueName('huge');
    plantHuge(name, bufferConstants.MAX_LENGTH + 1);
    expect(stepsInChild([{ op: 'openExisting', name, options: { access: 'readonly' } }])[0]).toMatchObject({
      ok: false,
      code: 'EFBIG',
      syscall: 'fstat',
    });
  });
});

describe.runIf(isLinux && !tooBigHere)(`a 5 GiB object on a Node that can view it (MAX_LENGTH ${bufferConstants.MAX_LENGTH})`, () => {
  // Read-only: a read-write attach would give the sparse object its 5 GiB of memory (posix_fallocate).
  it('openExisting(name, {access: readonly}) maps it whole, and its last byte reads as 0', () => {
    const name = uniqueName('huge');
    plantHuge(name);
    const [opened, last] = stepsInChild([
      { op: 'openExisting', name, options: { access: 'readonly' } },
      { op: 'read', offset: HUGE - 1, length: 1 },
      { op: 'close' },
    ]);
    expect(opened).toMatchObject({ ok: true, created: false, size: HUGE, access: 'readonly' });
    expect(last).toMatchObject({ ok: true, hex: '00' });
  });

  it('open(name, {access: readonly, size: 4096}) attaches the 5 GiB object at its real size', () => {
    const name = uniqueName('huge');
    plantHuge(name);
    const [opened] = stepsInChild([{ op: 'open', name, options: { access: 'readonly', size: 4096 } }, { op: 'close' }]);
    expect(opened).toMatchObject({ ok: true, created: false, size: HUGE });
  });
});
