// Attacks on a Channel at its names (Linux): things planted where its objects go, another user,
// a full /dev/shm, and a writer of the region changing the header under a live channel. Each
// open that fails must leave nothing behind, and nothing may crash or hang.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, SharedMemory } from '../lib/index.js';
import { DIST } from './events-actor.js';
import { errorOf, isLinux, shmPath, uniqueName } from './helpers.js';
import { privateShmFlags } from './adversarial/private-shm.js';

const NOBODY = 65534;
const isRoot = process.geteuid?.() === 0;
const asNobody = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
const nobodyCanRun = isLinux && isRoot && spawnSync(asNobody[0]!, [...asNobody.slice(1), 'test', '-r', DIST.replace('file://', '')]).status === 0;
const PARTS = ['', '#changes', '#space#changes', '#send', '#receive'];

const planted: string[] = [];
const opened: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of opened.splice(0)) o.close();
  for (const p of planted.splice(0)) fs.rmSync(p, { recursive: true, force: true });
});
const leftOf = (name: string) => PARTS.map((s) => name + s).filter((n) => fs.existsSync(shmPath(n)));

describe.runIf(isLinux)('things planted where a channel goes', () => {
  it('a FIFO at the name gives EINVAL at once and creates none of the other objects', () => {
    const name = uniqueName('chh');
    planted.push(shmPath(name));
    expect(spawnSync('mkfifo', [shmPath(name)]).status).toBe(0);
    expect(errorOf(() => Channel.open(name))).toMatchObject({ code: 'EINVAL' });
    expect(leftOf(name)).toEqual([name]);
  });

  it('a symlink at the name gives ELOOP and its target is never touched', () => {
    const name = uniqueName('chh');
    const dir = fs.mkdtempSync('/tmp/nshm-ch-');
    planted.push(dir, shmPath(name));
    fs.writeFileSync(`${dir}/victim`, 'precious');
    fs.symlinkSync(`${dir}/victim`, shmPath(name));
    expect(errorOf(() => Channel.open(name))).toMatchObject({ code: 'ELOOP' });
    expect(fs.readFileSync(`${dir}/victim`, 'utf8')).toBe('precious');
  });

  it('a region where the send lock goes makes open() fail with EINVAL, and the new channel goes with it', () => {
    const name = uniqueName('chh');
    const squatter = SharedMemory.open(`${name}#send`, { size: 64 });
    opened.push(squatter);
    expect(errorOf(() => Channel.open(name, { capacity: 64 }))).toMatchObject({ code: 'EINVAL' });
    expect(leftOf(name)).toEqual([`${name}#send`]);
  });

  it('an event where a counter goes makes open() fail with EINVAL, and leaves nothing of the channel', async () => {
    const { NamedEvent } = await import('../lib/index.js');
    const name = uniqueName('chh');
    opened.push(NamedEvent.open(`${name}#space#changes`));
    expect(errorOf(() => Channel.open(name, { capacity: 64 }))).toMatchObject({ code: 'EINVAL' });
    expect(leftOf(name)).toEqual([`${name}#space#changes`]);
  });

  it('a sparse object of 1 TiB at the name is refused, and given no memory', () => {
    const name = uniqueName('chh');
    planted.push(shmPath(name));
    const fd = fs.openSync(shmPath(name), 'w', 0o600);
    fs.ftruncateSync(fd, 2 ** 40);
    fs.closeSync(fd);
    // Node 20 cannot view it at all (EFBIG); newer Node lines could, and the region layer then
    // finds no memory for its pages (ENOSPC) before it maps anything.
    expect(['EFBIG', 'ENOSPC']).toContain(errorOf(() => Channel.open(name)).code);
    expect(fs.statSync(shmPath(name)).blocks).toBe(0);
    expect(leftOf(name)).toEqual([name]);
  });
});

describe.runIf(isLinux)('a writer of the region', () => {
  it('changing the capacity word under a live channel changes nothing for its handles: they keep the capacity they read', () => {
    const name = uniqueName('chh');
    const ch = Channel.open(name, { capacity: 64 });
    opened.push(ch);
    const region = SharedMemory.openExisting(name);
    opened.push(region);
    new DataView(region.bytes.buffer, region.bytes.byteOffset).setUint32(12, 2 ** 30, true);
    expect(ch.trySend(new Uint8Array(56))).toBe(true);
    expect(ch.tryReceive()!.length).toBe(56);
    // A new handle reads the forged word and refuses the channel instead of reading past the region.
    expect(errorOf(() => Channel.openExisting(name))).toMatchObject({ code: 'EINVAL' });
  });

  it('a frame header forged to claim the whole ring is EBADMSG for the receiver, and the ring is not read past', () => {
    const name = uniqueName('chh');
    const ch = Channel.open(name, { capacity: 64 });
    opened.push(ch);
    const region = SharedMemory.openExisting(name);
    opened.push(region);
    ch.trySend('a');
    new DataView(region.bytes.buffer, region.bytes.byteOffset).setUint32(192, 0xffffffff, true);
    expect(errorOf(() => ch.tryReceive())).toMatchObject({ code: 'EBADMSG' });
  });
});

describe.runIf(nobodyCanRun)('another user', () => {
  it('cannot open an owner-only channel (EACCES), nor send to it', () => {
    const name = uniqueName('chh');
    const ch = Channel.open(name, { capacity: 64 });
    opened.push(ch);
    const r = spawnSync(asNobody[0]!, [...asNobody.slice(1), process.execPath, '--input-type=module', '-e', `
      const { Channel } = await import(process.env.DIST);
      try { Channel.openExisting(process.env.NAME).trySend('x'); console.log('sent'); } catch (e) { console.log(e.code); }`], {
      encoding: 'utf8',
      env: { ...process.env, DIST, NAME: name },
      timeout: 30_000,
    });
    expect(r.stdout.trim()).toBe('EACCES');
    expect(ch.tryReceive()).toBeNull();
  });
});

describe.runIf(privateShmFlags !== null)('a full /dev/shm (private tmpfs)', () => {
  it('open() gives ENOSPC and leaves nothing at any of the names', () => {
    const script = `
      mount -t tmpfs -o size=64k t /dev/shm || exit 99
      dd if=/dev/zero of=/dev/shm/filler bs=4k count=1000 2>/dev/null
      "$NODE" --input-type=module -e '
        const { Channel } = await import(process.env.DIST);
        const fs = await import("node:fs");
        const out = {};
        try { Channel.open("full", { capacity: 4096 }).close(); out.open = "opened"; } catch (e) { out.open = e.code; }
        out.left = fs.readdirSync("/dev/shm").filter((f) => f !== "filler");
        console.log(JSON.stringify(out));'
    `;
    const r = spawnSync('unshare', [...privateShmFlags!, 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE: process.execPath, DIST } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ open: 'ENOSPC', left: [] });
  });

  it('a channel that exists keeps sending and receiving when /dev/shm fills up (nothing is allocated per message)', () => {
    const script = `
      mount -t tmpfs -o size=64k t /dev/shm || exit 99
      "$NODE" --input-type=module -e '
        const { Channel } = await import(process.env.DIST);
        const { execSync } = await import("node:child_process");
        const ch = Channel.open("full-live", { capacity: 4096 });
        execSync("dd if=/dev/zero of=/dev/shm/filler bs=4k count=1000 2>/dev/null || true");
        let ok = 0;
        for (let i = 0; i < 1000; i++) { ch.trySend("m" + i); if (ch.tryReceiveString() === "m" + i) ok++; }
        ch.close();
        console.log(JSON.stringify({ ok }));'
    `;
    const r = spawnSync('unshare', [...privateShmFlags!, 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE: process.execPath, DIST } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ ok: 1000 });
  });
});
