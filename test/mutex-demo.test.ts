// The README's mutex example (demo/mutex-record.ts) does what the README says: a holder killed in
// the middle of an update, the next locker told so, and the record whole at the end.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLinux, isWindows } from './helpers.js';

describe.runIf(isLinux || isWindows)('the mutex demo', () => {
  it('reports the abandoned lock once and ends with a consistent record', () => {
    const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const demo = fileURLToPath(new URL('../demo/mutex-record.ts', import.meta.url));
    const r = spawnSync(process.execPath, [tsx, demo], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.match(/lock abandoned by a dead holder/g)).toHaveLength(1);
    expect(r.stdout).toMatch(isWindows ? /^first updater: (SIGKILL|exit code 1)$/m : /^first updater: SIGKILL$/m);
    expect(r.stdout).toMatch(/^record: 2300 entries, balance 230000 \(consistent\)$/m);
  }, 150_000);
});
