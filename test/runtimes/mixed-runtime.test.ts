// Mixed runtimes (issue 14): Bun and Deno processes share regions, mutexes, events and channels
// with Node ones, and a user's `import ... from 'named-shm'` works under each. Runs under Node;
// the Bun and Deno binaries are the pinned ones that scripts/runtimes.sh fetches into its cache
// (or NAMED_SHM_BUN / NAMED_SHM_DENO), and each part shows as skipped when its binary is missing.
// Every child must end with exit code 0 and nothing on stderr: a runtime that crashes at exit
// (as Bun 1.3.13-1.3.14 did in koffi's finalizers) fails here.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, NamedEvent, NamedMutex, SharedMemory } from '../../lib/index.js';
import { startProgram } from '../change-actors.js';
import { errorOf, isLinux, shmPath, track, uniqueName } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ACTOR = fileURLToPath(new URL('./actor.mjs', import.meta.url));
const CLI = path.join(ROOT, 'dist/cli.js');
const REPLY_AT = 2048;

/** The version scripts/runtimes.sh pins for `runtime` (BUN_VERSION=..., DENO_VERSION=...). */
function pinned(runtime: 'bun' | 'deno'): string {
  const script = fs.readFileSync(path.join(ROOT, 'scripts/runtimes.sh'), 'utf8');
  return new RegExp(`^${runtime.toUpperCase()}_VERSION=(\\S+)$`, 'm').exec(script)![1]!;
}

/** The binary to use: $NAMED_SHM_BUN / $NAMED_SHM_DENO, else the cached pinned one; undefined when absent. */
function binary(runtime: 'bun' | 'deno'): string | undefined {
  const given = process.env[`NAMED_SHM_${runtime.toUpperCase()}`];
  const cache = process.env.NAMED_SHM_RUNTIME_CACHE ?? path.join(os.homedir(), '.cache/named-shm-runtimes');
  const file = given || path.join(cache, `${runtime}-${pinned(runtime)}`, runtime);
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return file;
  } catch {
    return undefined;
  }
}

const BUN = binary('bun');
const DENO = binary('deno');
for (const [runtime, bin] of [['bun', BUN], ['deno', DENO]] as const) {
  if (!bin) console.log(`[skip node] mixed-runtime.test.ts: no ${runtime} binary (scripts/runtimes.sh fetch ${runtime}, or NAMED_SHM_${runtime.toUpperCase()})`);
}

/**
 * Deno needs all permissions on Linux (-A, or every --allow-* flag): named-shm opens
 * /dev/shm/<name> with node:fs, and Deno asks for all permissions for any path under /dev (see the
 * last Deno test).
 */
const DENO_RUN = ['run', '-A'];

type Line = Record<string, unknown>;

/** `command args` to its end: exit code, signal, stderr and its last JSON line. */
function runToEnd(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = ROOT) {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000, env, cwd });
  const last = r.stdout.trim().split('\n').at(-1);
  return { status: r.status, signal: r.signal, stderr: r.stderr, stdout: r.stdout, line: last ? (JSON.parse(last) as Line) : undefined };
}

/** Whether the name is still in /dev/shm (the region lives while someone holds it). */
const present = (name: string) => fs.existsSync(shmPath(name));

const channels: Channel[] = [];
const mutexes: NamedMutex[] = [];
const events: NamedEvent[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) c.close();
  for (const m of mutexes.splice(0)) m.close();
  for (const e of events.splice(0)) e.close();
});

describe.runIf(isLinux && BUN)('Bun and Node processes', () => {
  it('a Bun writer and a Node reader share one region, zero-copy on both sides, and it goes with its last holder', async () => {
    const name = uniqueName('mixb');
    const writer = startProgram(BUN!, [ACTOR, 'write', name, 'written by Bun, read by Node'], (l) => JSON.parse(l));
    expect(await writer.next()).toEqual({ runtime: 'bun', created: true, zeroCopy: true, ready: true });

    // A Node process: the string, and the byte Bun stored through its `bytes` view.
    const reader = runToEnd(process.execPath, [ACTOR, 'read', name]);
    expect(reader).toMatchObject({ status: 0, stderr: '' });
    expect(reader.line).toEqual({ runtime: 'node', text: 'written by Bun, read by Node', marker: 0xa5, zeroCopy: true, created: false });

    // This process (Node) sees the reply the reader wrote, while Bun still holds the region.
    const here = track(SharedMemory.openExisting(name));
    expect(new TextDecoder().decode(here.read(REPLY_AT, 15))).toBe('reply from node');
    here.bytes[4001] = 0x5a;

    writer.child.stdin!.end();
    expect(await writer.next()).toEqual({ runtime: 'bun', closed: true });
    expect(await writer.exit).toBe(0);
    expect(present(name)).toBe(true); // this process still holds it
    here.close();
    expect(present(name)).toBe(false);
  });

  it('a Bun process holding a NamedMutex excludes Node until it unlocks', async () => {
    const name = uniqueName('mixm');
    const holder = startProgram(BUN!, [ACTOR, 'lock', name], (l) => JSON.parse(l));
    expect(await holder.next()).toEqual({ runtime: 'bun', locked: true });
    const mutex = NamedMutex.open(name);
    mutexes.push(mutex);
    expect(mutex.tryLock()).toBeNull();
    const waiting = mutex.lock({ timeout: 20_000 });
    holder.child.stdin!.end();
    const guard = await waiting;
    expect(guard.abandoned).toBe(false);
    expect(await holder.next()).toEqual({ runtime: 'bun', unlocked: true });
    expect(await holder.exit).toBe(0);
    guard.unlock();
  });

  it('a Bun process sets a NamedEvent that Node waits on', async () => {
    const name = uniqueName('mixe');
    const event = NamedEvent.create(name);
    events.push(event);
    const woken = event.wait({ timeout: 20_000 });
    const setter = runToEnd(BUN!, [ACTOR, 'set', name]);
    expect(setter).toMatchObject({ status: 0, stderr: '', line: { runtime: 'bun', set: true } });
    expect(await woken).toBe(true);
  });

  it('a user imports it by name under Bun: import { SharedMemory } from "named-shm"', () => {
    const { dir, actor } = userProject();
    const r = runToEnd(BUN!, [actor, 'read', seededRegion('from node to bun')], { ...process.env, NAMED_SHM_IMPORT: 'named-shm' }, dir);
    expect(r).toMatchObject({ status: 0, stderr: '', line: { runtime: 'bun', text: 'from node to bun' } });
  });
});

describe.runIf(isLinux && DENO)('Deno and Node processes', () => {
  it('a Deno parent and its Node child share one region both ways; it goes with the parent', () => {
    const name = uniqueName('mixd');
    const parent = runToEnd(DENO!, [...DENO_RUN, ACTOR, 'parent', name, process.execPath]);
    expect(parent).toMatchObject({ status: 0, stderr: '' });
    expect(parent.line).toEqual({
      runtime: 'deno',
      child: { status: 0, signal: null, stderr: '', line: { runtime: 'node', text: 'from deno', marker: 0, zeroCopy: true, created: false } },
      reply: 'reply from node',
    });
    expect(present(name)).toBe(false);
  });

  it('a Deno writer keeps its bytes view zero-copy: a Node reader sees a byte stored through it', async () => {
    const name = uniqueName('mixd');
    const writer = startProgram(DENO!, [...DENO_RUN, ACTOR, 'write', name, 'written by Deno'], (l) => JSON.parse(l));
    expect(await writer.next()).toEqual({ runtime: 'deno', created: true, zeroCopy: true, ready: true });
    const reader = runToEnd(process.execPath, [ACTOR, 'read', name]);
    expect(reader).toMatchObject({ status: 0, stderr: '', line: { runtime: 'node', text: 'written by Deno', marker: 0xa5 } });
    writer.child.stdin!.end();
    expect(await writer.next()).toEqual({ runtime: 'deno', closed: true });
    expect(await writer.exit).toBe(0);
    expect(present(name)).toBe(false);
  });

  it('a channel ends for its Node receiver when its last sender, a Deno process, is killed', async () => {
    const name = uniqueName('mixc');
    const receiver = Channel.open(name, { capacity: 64 });
    channels.push(receiver);
    const sender = startProgram(DENO!, [...DENO_RUN, ACTOR, 'send', name, 'last words'], (l) => JSON.parse(l));
    expect(await sender.next()).toEqual({ runtime: 'deno', sent: true });
    const got: string[] = [];
    const loop = (async () => {
      for await (const m of receiver) got.push(new TextDecoder().decode(m));
    })();
    sender.child.kill('SIGKILL');
    expect(await sender.exit).toBe('SIGKILL');
    await loop;
    expect(got).toEqual(['last words']);
  });

  it('`named-shm hold` under Deno releases the region on SIGTERM and exits 0', async () => {
    // Under Deno's own node:child_process the exit reads as SIGTERM (see test/runtimes/README.md): a Node parent here.
    const name = uniqueName('mixh');
    const holder = spawn(DENO!, [...DENO_RUN, CLI, 'hold', name], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    holder.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const ended = new Promise<[number | null, string | null]>((resolve) => holder.on('close', (code, signal) => resolve([code, signal])));
    await new Promise<void>((resolve) =>
      holder.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (out.includes('\n')) resolve();
      }),
    );
    expect(out).toMatch(new RegExp(`^holding '${name}' \\(4096 bytes, created\\) in process ${holder.pid}`));
    expect(present(name)).toBe(true);
    holder.kill('SIGTERM');
    expect(await ended).toEqual([0, null]);
    expect(err).toBe('');
    expect(out.trimEnd().split('\n').at(-1)).toBe(`released '${name}' (SIGTERM)`);
    expect(present(name)).toBe(false);
  });

  it('a user imports it under Deno as "named-shm" and as "npm:named-shm", from the project’s node_modules', () => {
    const { dir, actor } = userProject();
    for (const specifier of ['named-shm', 'npm:named-shm']) {
      const r = runToEnd(DENO!, [...DENO_RUN, actor, 'read', seededRegion(`for ${specifier}`)], { ...process.env, NAMED_SHM_IMPORT: specifier }, dir);
      expect(r, specifier).toMatchObject({ status: 0, stderr: '', line: { runtime: 'deno', text: `for ${specifier}` } });
    }
  });

  it('Deno needs every permission: one flag short of all of them (here --allow-import), opening a region fails', () => {
    // Deno asks for all permissions for any path under /dev, and named-shm opens /dev/shm/<name> through node:fs.
    const name = uniqueName('mixp');
    seededRegion('all granted', name);
    const all = ['--allow-ffi', '--allow-read', '--allow-write', '--allow-env', '--allow-sys', '--allow-run', '--allow-net', '--allow-import'];
    const short = runToEnd(DENO!, ['run', ...all.slice(0, -1), '--no-prompt', ACTOR, 'read', name]);
    expect(short.status).not.toBe(0);
    // Deno's own refusal, passed on as it is: it says what to do, where an errno would mislead.
    expect(short.stderr).toMatch(new RegExp(`NotCapable: Requires all access to "/dev/shm/${name}", run again with the --allow-all flag`));
    expect(short.stderr).not.toMatch(/\bEIO\b/);
    // Every flag given one by one is all of them, as -A is.
    const every = runToEnd(DENO!, ['run', ...all, '--no-prompt', ACTOR, 'read', name]);
    expect(every).toMatchObject({ status: 0, stderr: '', line: { runtime: 'deno', text: 'all granted' } });
  });
});

describe.runIf(isLinux && BUN && DENO)('Bun and Deno processes', () => {
  it('a Bun writer and a Deno reader share one region', async () => {
    const name = uniqueName('mixbd');
    const writer = startProgram(BUN!, [ACTOR, 'write', name, 'Bun to Deno'], (l) => JSON.parse(l));
    expect(await writer.next()).toMatchObject({ runtime: 'bun', ready: true });
    const reader = runToEnd(DENO!, [...DENO_RUN, ACTOR, 'read', name]);
    expect(reader).toMatchObject({ status: 0, stderr: '', line: { runtime: 'deno', text: 'Bun to Deno', marker: 0xa5, zeroCopy: true } });
    writer.child.stdin!.end();
    expect(await writer.exit).toBe(0);
    expect(present(name)).toBe(false);
  });
});

describe.runIf(isLinux)('a process that exits holding everything, without close()', () => {
  it.each([
    ['bun', BUN, []],
    ['deno', DENO, DENO_RUN],
  ] as const)('under %s ends cleanly; its mutex goes to Node as abandoned, its message stays, its region goes with it', async (runtime, bin, args) => {
    if (!bin) return void console.log(`[skip node] mixed-runtime.test.ts: no ${runtime} binary`);
    const name = uniqueName('mixx');
    const event = NamedEvent.create(`${name}-e`);
    events.push(event);
    const receiver = Channel.open(`${name}-c`, { capacity: 64 });
    channels.push(receiver);
    const mutex = NamedMutex.create(`${name}-m`);
    mutexes.push(mutex);
    const r = runToEnd(bin, [...args, ACTOR, 'exit-holding', name]);
    // No crash at exit (koffi's finalizers, the futex watcher threads, pending waits).
    expect(r).toMatchObject({ status: 0, signal: null, stderr: '', line: { runtime, holding: true, locked: true } });
    const guard = mutex.tryLock();
    expect(guard?.abandoned).toBe(true);
    guard!.unlock();
    expect(receiver.tryReceiveString()).toBe(`sent by ${runtime}`);
    // It was the region's only holder: its death released it.
    expect(errorOf(() => SharedMemory.openExisting(name)).code).toBe('ENOENT');
  });
});

/** A region holding `text`, kept by this process for the test; returns its name. */
function seededRegion(text: string, name = uniqueName('mixu')): string {
  const region = track(SharedMemory.create(name));
  region.writeString(text);
  return name;
}

/**
 * A user's project: a package.json, node_modules/named-shm and a copy of the actor importing it, here a link to this repository (what
 * `npm install <path>` makes; the package is not published). Deno resolves both 'named-shm' and
 * 'npm:named-shm' from it, since a package.json turns its node_modules on.
 */
function userProject(): { dir: string; actor: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-user-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'named-shm'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', dependencies: { 'named-shm': '*' } }));
  // The actor is copied in: from its own place, 'named-shm' would resolve to this package itself.
  const actor = path.join(dir, 'user.mjs');
  fs.copyFileSync(ACTOR, actor);
  projects.push(dir);
  return { dir, actor };
}
const projects: string[] = [];
afterEach(() => {
  for (const dir of projects.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
