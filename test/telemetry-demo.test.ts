// The telemetry demo (demo/telemetry.ts, npm run demo:telemetry) does what the README says: a C
// publisher (test/interop/c/telemetry_publisher.c; under Windows its mingw-w64 build) publishes a
// struct 60 times a second and sets a named event, and the Node reader, woken by wait(), reads
// every frame it takes whole through readConsistent, up to the publisher's last frame.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLinux, isWindows } from './helpers.js';

const hasCc = isLinux && spawnSync('cc', ['--version']).status === 0;

describe.runIf(hasCc || isWindows)('the telemetry demo', () => {
  it('reads frames from the C publisher woken by its event, none torn, up to its last frame', () => {
    const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const demo = fileURLToPath(new URL('../demo/telemetry.ts', import.meta.url));
    // 3 seconds at 60 frames a second: 180 frames.
    const r = spawnSync(process.execPath, [tsx, demo, '3'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^frame +\d+ .* Ayrton Senna @ Autodromo Nazionale Monza$/m);
    expect(r.stdout).toMatch(/^telemetry: [1-9]\d* frames read, 0 torn, last frame 180 \(consistent\)$/m);
    expect(r.status).toBe(0);
  }, 150_000);
});
