// `npm run lint:package`: publint and attw on the tarball that `npm pack` makes, packed into a
// temporary folder. (`attw --pack .` packed into the project root and deleted the tarball
// afterwards, so a named-shm-<version>.tgz the user had built there went with it.)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const windows = process.platform === 'win32';

/** Runs a command with the output shown; its exit code (1 when it could not start). */
function run(command, args) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: windows });
  if (r.error) console.error(`lint:package: ${command}: ${r.error.message}`);
  return r.status ?? 1;
}

/** A tool of devDependencies, by the link npm made for it. */
function bin(name) {
  return path.join(root, 'node_modules', '.bin', windows ? `${name}.cmd` : name);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'named-shm-lint-'));
let status;
try {
  // prepack builds dist first, unless scripts are turned off (npm_config_ignore_scripts).
  status = run(windows ? 'npm.cmd' : 'npm', ['pack', '--pack-destination', work]);
  const tarballs = fs.readdirSync(work).filter((f) => f.endsWith('.tgz'));
  if (status === 0 && tarballs.length !== 1) {
    console.error(`lint:package: expected one tarball in ${work}, found ${tarballs.length}`);
    status = 1;
  }
  if (status === 0) {
    const tarball = path.join(work, tarballs[0]);
    const publint = run(bin('publint'), ['run', '--strict', tarball]);
    const attw = run(bin('attw'), [tarball, '--ignore-rules', 'cjs-resolves-to-esm']);
    status = publint || attw;
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
process.exitCode = status;
