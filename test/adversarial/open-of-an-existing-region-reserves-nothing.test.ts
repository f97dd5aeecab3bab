// Finding 3: opening a region that exists must attach to it as it is, without first reserving
// memory for a new one. The bug was an open-or-create that made (and posix_fallocate'd) a new
// object before it looked at the name: on a tmpfs with less room than the region's size, opening
// an existing 900 KiB region failed with ENOSPC, and so did setSharedMem() on a nearly full
// /dev/shm although dllmemfilemap was there. And a create that cannot have its bytes must leave
// nothing behind.
//
// Each case runs in a private tmpfs mounted on /dev/shm in new user, mount and PID namespaces
// (`unshare -Urmpf`; as root without user namespaces, `unshare -mpf`), so filling it harms no one
// and everything started there dies with the namespace.
//
// Guards, in the posix backend's open() (lib/os/posix/region.ts): `if (request.intent !==
// 'create') { const found = attach(…) … }` before `create(…)`; and, for the leftovers, the
// cleanup of create() on both routes (`names.close(fd)` of the O_TMPFILE object never linked,
// `names.unlinkIfLeadsTo` of the shm_open route's object).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLinux } from '../helpers.js';
import { privateShmFlags } from './private-shm.js';

const STEPS = fileURLToPath(new URL('../fixtures/adv-steps.mjs', import.meta.url));
const KIB = 1024;
const BIG = 900 * KIB;

const nsFlags = privateShmFlags;

type Answer = { op: string; ok: boolean; code?: string; syscall?: string; [k: string]: unknown };

/**
 * Runs `script` (sh) in the namespaces, after mounting a tmpfs of `size` on /dev/shm. The script
 * sees $NODE and $STEPS, and `hold` (a function): `hold '<steps>' N` starts a process that runs
 * those steps, then holds what it opened until the namespace ends, and waits for its N answers.
 * Returns the JSON lines printed, the holder's first.
 */
function inPrivateShm(size: string, script: string, env: Record<string, string> = {}): Answer[] {
  const prelude = `
    mount -t tmpfs -o size=${size} t /dev/shm || exit 99
    held=$(mktemp)
    hold() {
      sleep 120 | "$NODE" "$STEPS" "$1" - > "$held" &
      i=0
      until [ "$(wc -l < "$held")" -ge "$2" ] || [ $i -gt 1000 ]; do i=$((i+1)); sleep 0.02; done
      cat "$held"
    }
  `;
  const r = spawnSync('unshare', [...nsFlags!, 'sh', '-c', `${prelude}\n${script}\nrm -f "$held"`], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NODE: process.execPath, STEPS, ...env },
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.signal).toBeNull();
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Answer);
}

const q = (steps: object[]) => `'${JSON.stringify(steps)}'`;

describe.runIf(nsFlags !== null)('opening an existing region reserves no memory for a new one (private 1 MiB tmpfs)', () => {
  it('another process opens an existing 900 KiB region with open(name, {size}) on a 1 MiB tmpfs, where a second one would not fit', () => {
    const answers = inPrivateShm(
      '1m',
      `hold ${q([
        { op: 'create', name: 'big', options: { size: BIG } },
        { op: 'writeString', text: 'first' },
      ])} 2
      "$NODE" "$STEPS" ${q([
        { op: 'open', name: 'big', options: { size: BIG } },
        { op: 'readString' },
        { op: 'create', name: 'second', options: { size: BIG } },
        { op: 'ls' },
      ])}`,
    );
    const [made, wrote, opened, read, second, ls] = answers;
    expect(made).toMatchObject({ ok: true, created: true, size: BIG });
    expect(wrote).toMatchObject({ ok: true });
    expect(opened).toMatchObject({ ok: true, created: false, size: BIG, access: 'readwrite' });
    expect(read).toMatchObject({ text: 'first' });
    // The room a new region would need really is not there:
    expect(second).toMatchObject({ ok: false, code: 'ENOSPC', syscall: 'posix_fallocate' });
    expect(ls).toMatchObject({ entries: ['big'] });
  });

  it('open(name, {size}) by a second handle in the same process attaches too', () => {
    const [made, opened, read] = inPrivateShm(
      '1m',
      `"$NODE" "$STEPS" ${q([
        { op: 'open', name: 'big', options: { size: BIG }, as: 'a' },
        { op: 'open', name: 'big', options: { size: BIG }, as: 'b' },
        { op: 'readString', as: 'b' },
      ])}`,
    );
    expect(made).toMatchObject({ ok: true, created: true });
    expect(opened).toMatchObject({ ok: true, created: false, size: BIG });
    expect(read).toMatchObject({ ok: true, text: '' });
  });

  it('setSharedMem() works on a /dev/shm with less than 4 KiB free when dllmemfilemap exists', () => {
    const answers = inPrivateShm(
      '1m',
      `hold ${q([
        { op: 'open', name: 'dllmemfilemap' },
        { op: 'fill', path: '/dev/shm/filler' },
      ])} 2
      "$NODE" "$STEPS" ${q([{ op: 'statfs' }, { op: 'setSharedMem', text: 'set on a full tmpfs' }, { op: 'getSharedMem' }])}`,
    );
    const [held, filled, statfs, set, get] = answers;
    expect(held).toMatchObject({ ok: true, created: true, size: 4096 });
    expect(filled).toMatchObject({ ok: true, code: 'ENOSPC' });
    expect(statfs!.free as number).toBeLessThan(4096);
    expect(set).toMatchObject({ ok: true, units: 19 });
    expect(get).toMatchObject({ ok: true, text: 'set on a full tmpfs' });
  });

  it.each([
    ['O_TMPFILE + linkat', {}],
    ['shm_open(O_CREAT | O_EXCL)', { NAMED_SHM_CREATE_ROUTE: 'shm_open' }],
  ])('create() on a full tmpfs gives ENOSPC and leaves no object and no descriptor (%s)', (_route, env) => {
    const answers = inPrivateShm(
      '1m',
      `"$NODE" "$STEPS" ${q([
        { op: 'fill', path: '/dev/shm/filler' },
        { op: 'create', name: 'new', options: { size: 4096 } },
        { op: 'open', name: 'new2', options: { size: 4096 } },
        { op: 'ls' },
        { op: 'shmFds' },
      ])}`,
      env,
    );
    const [filled, created, opened, ls, fds] = answers;
    expect(filled).toMatchObject({ ok: true, code: 'ENOSPC' });
    expect(created).toMatchObject({ ok: false, code: 'ENOSPC', syscall: 'posix_fallocate' });
    expect(opened).toMatchObject({ ok: false, code: 'ENOSPC', syscall: 'posix_fallocate' });
    expect(ls).toMatchObject({ entries: ['filler'] });
    expect(fds).toMatchObject({ fds: [], maps: [] });
  });
});
