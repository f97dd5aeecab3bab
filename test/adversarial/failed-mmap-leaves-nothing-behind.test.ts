// Finding 7: a create whose mmap fails after the object got its bytes (posix_fallocate) and its
// name must leave nothing behind: no object at the name, no descriptor, no memory reserved.
//
// The attack: a process whose address space is limited (`prlimit --as`) to what node needs plus
// 96 MiB creates a 256 MiB region. posix_fallocate succeeds (tmpfs memory is not address space),
// the name is given, and mmap fails with ENOMEM: the error's syscall is 'mmap', not
// 'posix_fallocate', which shows the failure came after the reservation. The limit is node's
// measured VmPeak (node reserves about 11 GiB of address space for V8 and WebAssembly here) plus
// the margin, so node runs but cannot map 256 MiB.
//
// It runs in a private 512 MiB tmpfs on /dev/shm (new user, mount and PID namespaces; as root
// without user namespaces, `unshare -mpf`), so the free space before and after can be compared.
//
// Guards, in mapRegion() (lib/os/posix/region.ts): `if (created) letGo(fd, path, false, fields)`
// on a failed mapObject(), and mapObject() closing the mapping's own descriptor before it throws
// (lib/os/posix/mapping.ts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { privateShmFlags } from './private-shm.js';

const STEPS = fileURLToPath(new URL('../fixtures/adv-steps.mjs', import.meta.url));
const MIB = 1024 * 1024;
const BIG = 256 * MIB;
const MARGIN = 96 * MIB;

const nsFlags = privateShmFlags;

type Answer = { op: string; ok?: boolean; code?: string; syscall?: string; status?: number; [k: string]: unknown };

/**
 * In a private 512 MiB tmpfs: `before` steps run unlimited (a holder, kept until the namespace
 * ends), then `steps` run in a node that first limits its own address space (RLIMIT_AS) to what
 * it uses now + MARGIN. Set from inside, after start-up: V8 sizes its reservations by the limit
 * it starts under (prlimit from outside left Node 24 room for 256 MiB more).
 */
function underLimit(steps: object[], env: Record<string, string> = {}, before: object[] = []): Answer[] {
  const script = `
    mount -t tmpfs -o size=512m t /dev/shm || exit 99
    held=$(mktemp)
    if [ "$BEFORE" != "[]" ]; then
      sleep 120 | "$NODE" "$STEPS" "$BEFORE" - > "$held" &
      i=0
      until [ "$(wc -l < "$held")" -ge "$HELD_LINES" ] || [ $i -gt 1000 ]; do i=$((i+1)); sleep 0.02; done
      cat "$held"
    fi
    "$NODE" "$STEPS" "$JSON"
    echo "{\\"op\\":\\"exit\\",\\"status\\":$?}"
    rm -f "$held"
  `;
  const r = spawnSync('unshare', [...nsFlags!, 'sh', '-c', script], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NODE: process.execPath, STEPS, JSON: JSON.stringify([{ op: 'limitAs', margin: MARGIN }, ...steps]), BEFORE: JSON.stringify(before), HELD_LINES: String(before.length), ...env },
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Answer)
    .filter((a) => {
      if (a.op !== 'limitAs') return true;
      expect(a.ok, JSON.stringify(a)).toBe(true);
      return false;
    });
}

const routes = [
  ['O_TMPFILE + linkat', {}],
  ['shm_open(O_CREAT | O_EXCL)', { NAMED_SHM_CREATE_ROUTE: 'shm_open' }],
] as const;

describe.runIf(nsFlags !== null)('a create whose mmap fails (RLIMIT_AS, private tmpfs)', () => {
  it.each(routes)('create() of 256 MiB gives ENOMEM from mmap and leaves no object, descriptor or reserved memory (%s)', (_route, env) => {
    const answers = underLimit(
      [
        { op: 'statfs' },
        { op: 'create', name: 'big', options: { size: BIG } },
        { op: 'statfs' },
        { op: 'ls' },
        { op: 'shmFds' },
        { op: 'create', name: 'small' }, // and the process goes on working
        { op: 'close' },
      ],
      env,
    );
    const [before, created, after, ls, fds, small, , exit] = answers;
    expect(created).toMatchObject({ ok: false, code: 'ENOMEM', syscall: 'mmap' });
    expect(after!.free).toBe(before!.free);
    expect(ls).toMatchObject({ entries: [] });
    expect(fds).toMatchObject({ fds: [], maps: [] });
    expect(small).toMatchObject({ ok: true, created: true });
    expect(exit).toEqual({ op: 'exit', status: 0 });
  });

  it('open() of a new 256 MiB name gives ENOMEM from mmap and leaves nothing either', () => {
    const [before, opened, after, ls, fds] = underLimit([
      { op: 'statfs' },
      { op: 'open', name: 'big', options: { size: BIG } },
      { op: 'statfs' },
      { op: 'ls' },
      { op: 'shmFds' },
    ]);
    expect(opened).toMatchObject({ ok: false, code: 'ENOMEM', syscall: 'mmap' });
    expect(after!.free).toBe(before!.free);
    expect(ls).toMatchObject({ entries: [] });
    expect(fds).toMatchObject({ fds: [], maps: [] });
  });

  it('a failed mmap of an existing 256 MiB region leaves it to its holder, content and all, and keeps no descriptor', () => {
    const answers = underLimit(
      [{ op: 'openExisting', name: 'big' }, { op: 'shmFds' }, { op: 'ls' }, { op: 'stat', path: '/dev/shm/big' }],
      {},
      [
        { op: 'create', name: 'big', options: { size: BIG } },
        { op: 'writeString', text: 'held' },
      ],
    );
    const [made, , attached, fds, ls, stat] = answers;
    expect(made).toMatchObject({ ok: true, created: true, size: BIG });
    expect(attached).toMatchObject({ ok: false, code: 'ENOMEM', syscall: 'mmap' });
    expect(fds).toMatchObject({ fds: [], maps: [] });
    expect(ls).toMatchObject({ entries: ['big'] });
    expect(stat).toMatchObject({ size: BIG, blocks: BIG / 512 });
  });
});
