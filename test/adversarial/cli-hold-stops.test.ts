// Review finding: `npx named-shm hold x &` then `kill $!` kills npm, whose shell dies with it, and
// leaves the holder running with no one to stop it. `hold` says which process to kill, and that
// kill, or a `kill $!` of the installed command started without npx, releases the region.
// Both run the command as users get it: the packed tarball installed into an empty project.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLinux, shmPath, uniqueName } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const quiet = { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' };
let work: string;
let project: string;
const started: number[] = [];

beforeAll(() => {
  if (!isLinux) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-hold-'));
  // dist/ is built by pretest; --ignore-scripts keeps prepack from rebuilding it under other tests.
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8', env: quiet });
  const tarball = path.join(work, (JSON.parse(out) as { filename: string }[])[0]!.filename);
  project = path.join(work, 'app');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-package-lock', '--prefer-offline', '--loglevel=error', tarball], {
    cwd: project,
    env: quiet,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}, 180_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

afterEach(() => {
  // A holder a failed test left running: killed here, never left behind.
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `start` in bash in the background, waits for the holder's first line, runs `stop` (with
 * $holder: the pid that line names, $bg: the shell's $!), waits for $bg, and prints what it saw.
 */
function script(start: string, stop: string): { holder: number; bgExit: number; out: string; stdout: string; stderr: string } {
  const out = path.join(work, `${uniqueName('out')}.txt`);
  const r = spawnSync(
    'bash',
    [
      '-c',
      // set -m: the job gets a process group of its own, so that whatever a failed stop leaves
      // running (npm, its shell, the holder) is killed at the end, not left behind.
      `set -m
${start} > '${out}' 2>&1 &
bg=$!
for _ in $(seq 300); do grep -q '^holding' '${out}' && break; sleep 0.1; done
holder=$(sed -n "s/^holding .* in process \\([0-9]*\\): Ctrl-C or 'kill \\1' releases it$/\\1/p" '${out}')
echo "holder=$holder"
if [ -n "$holder" ]; then ${stop}; fi
for _ in $(seq 100); do kill -0 "$bg" 2>/dev/null || break; sleep 0.1; done
kill -KILL -- -"$bg" 2>/dev/null
wait "$bg"; echo "bg=$?"`,
    ],
    { cwd: project, encoding: 'utf8', timeout: 60_000, env: quiet },
  );
  const holder = Number(/^holder=(\d*)$/m.exec(r.stdout)?.[1] || 0);
  if (holder) started.push(holder);
  return { holder, bgExit: Number(/^bg=(\d+)$/m.exec(r.stdout)?.[1] ?? -1), out: fs.readFileSync(out, 'utf8'), stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!isLinux)('named-shm hold is stopped the documented way', () => {
  it("under npx, the 'kill PID' that hold prints stops the holder itself and releases the region; npx ends with it", () => {
    const name = uniqueName('cli');
    const r = script(`npx named-shm hold ${name}`, 'kill "$holder"');
    expect(r.holder, `${r.out}${r.stderr}`).toBeGreaterThan(0);
    expect(r.out).toContain(`released '${name}' (SIGTERM)`);
    expect(r.bgExit).toBe(0); // npx ended as its holder did, which exited 0
    expect(alive(r.holder)).toBe(false);
    expect(fs.existsSync(shmPath(name))).toBe(false);
  });

  it('started as node_modules/.bin/named-shm, kill $! is the holder itself and releases the region', () => {
    const name = uniqueName('cli');
    const r = script(`node_modules/.bin/named-shm hold ${name}`, 'echo "same=$([ "$bg" = "$holder" ] && echo yes)"; kill "$bg"');
    expect(r.holder, `${r.out}${r.stderr}`).toBeGreaterThan(0);
    expect(r.stdout).toContain('same=yes'); // the pid hold prints is $!
    expect(r.out).toContain(`released '${name}' (SIGTERM)`);
    expect(r.bgExit).toBe(0);
    expect(alive(r.holder)).toBe(false);
    expect(fs.existsSync(shmPath(name))).toBe(false);
  });
});
