// `npm run lint:package` packs the package to lint it: it must do so away from the user's files.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isWindows } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

// The Windows suite runs under Wine without npm.
describe.skipIf(isWindows)('npm run lint:package', () => {
  it("leaves a named-shm-<version>.tgz the user built in the project root as it was", () => {
    // The very name `npm pack` gives its tarball, which `attw --pack .` overwrote and then deleted.
    const mine = path.join(root, `named-shm-${pkg.version}.tgz`);
    const planted = !fs.existsSync(mine);
    if (planted) fs.writeFileSync(mine, `the user's own tarball ${randomBytes(8).toString('hex')}`);
    const before = fs.readFileSync(mine);
    try {
      const r = spawnSync('npm', ['run', 'lint:package'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 180_000,
        // dist/ is built by pretest: no prepack rebuild under the other test files' feet.
        env: { ...process.env, npm_config_ignore_scripts: 'true', npm_config_update_notifier: 'false' },
      });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(fs.existsSync(mine)).toBe(true);
      expect(fs.readFileSync(mine).equals(before)).toBe(true);
    } finally {
      if (planted) fs.rmSync(mine, { force: true });
    }
  }, 200_000);
});
