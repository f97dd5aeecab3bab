// Finding 4: an object made by another program with ftruncate (python3 here) has a size but no
// pages: on tmpfs each page gets its memory only when first touched, and on a full tmpfs that
// first touch is a SIGBUS that kills the process. A read-write attach (open, openExisting) must
// therefore give the object its pages at once (posix_fallocate) and say ENOSPC when there is no
// room, or work: never die with SIGBUS while writing the region afterwards, even when the tmpfs
// fills up after the attach.
//
// The residual, documented by the last two tests: a READ-ONLY attach reserves nothing (it may not
// write, and posix_fallocate needs write access), and reading a hole through a shared tmpfs
// mapping takes a page too: on a full tmpfs, a read-only reader of a sparse object dies with
// SIGBUS at its first read of a page that the owner never wrote.
//
// Every case runs in a private tmpfs on /dev/shm (new user, mount and PID namespaces; as root
// without user namespaces, `unshare -mpf`), so the tmpfs can be filled to the last page.
//
// Guards, in attach() (lib/os/posix/region.ts):
//   if (!request.readOnly && st.blocks * 512 < st.size) fallocate(fd, st.size, …)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLinux } from '../helpers.js';
import { privateShmFlags } from './private-shm.js';

const STEPS = fileURLToPath(new URL('../fixtures/adv-steps.mjs', import.meta.url));
const KIB = 1024;
const OBJECT = 256 * KIB;
const SIGBUS_STATUS = 128 + 7; // how sh reports a child killed by SIGBUS (7 on Linux)

const nsFlags = privateShmFlags;
const hasPython = isLinux && spawnSync('python3', ['-c', 'pass']).status === 0;

/**
 * Another program's object: /dev/shm/sparse, OBJECT bytes by ftruncate (no pages), mode 0600,
 * ours. Then, if `leave` >= 0, a filler file takes all the room but `leave` bytes.
 */
const PLANT = `
import os, sys
size, leave = int(sys.argv[1]), int(sys.argv[2])
fd = os.open('/dev/shm/sparse', os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
os.ftruncate(fd, size)
os.close(fd)
if leave >= 0:
    fd = os.open('/dev/shm/filler', os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, bytes(4096))
    except OSError:
        pass
    os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave))
    os.close(fd)
`;

type Answer = { op: string; ok?: boolean; code?: string; syscall?: string; status?: number; [k: string]: unknown };

/**
 * In a private 1 MiB tmpfs: plants the sparse object (leaving `leave` bytes free, or all if -1),
 * runs the steps in one node process, and adds its exit status as a last {op: 'exit'} line.
 */
function attackSparse(leave: number, steps: object[]): Answer[] {
  const script = `
    mount -t tmpfs -o size=1m t /dev/shm || exit 99
    python3 -c "$PLANT" ${OBJECT} ${leave} || exit 98
    "$NODE" "$STEPS" "$JSON"
    echo "{\\"op\\":\\"exit\\",\\"status\\":$?}"
  `;
  const r = spawnSync('unshare', [...nsFlags!, 'sh', '-c', script], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NODE: process.execPath, STEPS, PLANT, JSON: JSON.stringify(steps) },
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Answer);
}

const stat = { op: 'stat', path: '/dev/shm/sparse' };

describe.runIf(nsFlags !== null && hasPython)('a sparse object of another program, on a tmpfs with no room (read-write attach)', () => {
  it.each(['openExisting', 'open'])('%s() gives ENOSPC from posix_fallocate and the process lives on', (op) => {
    const answers = attackSparse(0, [{ op, name: 'sparse' }, { op: 'touch' }, { op: 'ls' }]);
    expect(answers[0]).toMatchObject({
      ok: false,
      code: 'ENOSPC',
      syscall: 'posix_fallocate',
      message: expect.stringContaining('pages without memory behind them'),
    });
    expect(answers[2]).toMatchObject({ ok: true, entries: ['filler', 'sparse'] }); // nothing new at the name
    expect(answers.at(-1)).toEqual({ op: 'exit', status: 0 });
  });

  it('a refused attach leaves the object as it was and gives back what the failed reservation took', () => {
    // 64 KiB free: posix_fallocate gets some of the 256 KiB, fails, and tmpfs undoes it.
    const [before, opened, after, object] = attackSparse(64 * KIB, [{ op: 'statfs' }, { op: 'openExisting', name: 'sparse' }, { op: 'statfs' }, stat]);
    expect(before).toMatchObject({ free: 64 * KIB });
    expect(opened).toMatchObject({ ok: false, code: 'ENOSPC', syscall: 'posix_fallocate' });
    expect(after).toMatchObject({ free: 64 * KIB });
    expect(object).toMatchObject({ size: OBJECT, blocks: 0, mode: 0o100600 });
  });

  it('with room at the attach, writing every page after the tmpfs filled up never raises SIGBUS', () => {
    const answers = attackSparse(-1, [
      { op: 'openExisting', name: 'sparse' },
      stat,
      { op: 'fill', path: '/dev/shm/filler' }, // another file takes every page left
      { op: 'touch' },
      { op: 'readPages' },
    ]);
    const [opened, object, filled, touched, read, exit] = answers;
    expect(opened).toMatchObject({ ok: true, created: false, size: OBJECT, access: 'readwrite' });
    expect((object!.blocks as number) * 512).toBe(OBJECT); // every page has its memory now
    expect(filled).toMatchObject({ ok: true, code: 'ENOSPC' });
    expect(touched).toMatchObject({ ok: true, pages: OBJECT / 4096 });
    expect(read).toMatchObject({ ok: true, pages: OBJECT / 4096, nonZero: OBJECT / 4096 });
    expect(exit).toEqual({ op: 'exit', status: 0 });
  });
});

describe.runIf(nsFlags !== null && hasPython)('a sparse object read through a read-only attach (the documented residual)', () => {
  it('on a full tmpfs a read-only attach succeeds, and its first read of a hole dies with SIGBUS', () => {
    const answers = attackSparse(0, [{ op: 'openExisting', name: 'sparse', options: { access: 'readonly' } }, { op: 'readPages' }]);
    expect(answers[0]).toMatchObject({ ok: true, created: false, size: OBJECT, access: 'readonly' });
    // No answer for readPages: the process died of SIGBUS while reading.
    expect(answers.slice(1)).toEqual([{ op: 'exit', status: SIGBUS_STATUS }]);
  });

  it('a read-only reader takes a tmpfs page for every hole it reads (why a full tmpfs kills it)', () => {
    const [before, opened, read, after, object] = attackSparse(-1, [
      { op: 'statfs' },
      { op: 'openExisting', name: 'sparse', options: { access: 'readonly' } },
      { op: 'readPages' },
      { op: 'statfs' },
      stat,
    ]);
    expect(opened).toMatchObject({ ok: true, access: 'readonly' });
    expect(read).toMatchObject({ ok: true, pages: OBJECT / 4096, nonZero: 0 });
    expect((before!.free as number) - (after!.free as number)).toBe(OBJECT);
    expect((object!.blocks as number) * 512).toBe(OBJECT);
  });
});
