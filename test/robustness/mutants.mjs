// Checks that the robustness suites can fail: for each mutant, copies dist/ to a temporary folder,
// removes one protection from the copy's posix.js, and runs the suite that guards it with its
// fixtures loading the copy (NAMED_SHM_DIST). A mutant must make its suite fail ("killed").
//   npm run build && node test/robustness/mutants.mjs [mutant-name ...]
// Linux only (the protections are the POSIX backend's). Not part of `npm test`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** name → [suites, [[text in dist/<module>, replacement, module = 'posix.js'], ...], what it models] */
const MUTANTS = {
  'no-nlink-recheck-after-exclusive': [
    ['test/robustness/last-detach-parked.test.ts', 'test/robustness/last-detach.test.ts'],
    [['if (st.nlink === 0)\n                    return closeAnd(fd, GONE);\n                if (flockWorks', 'if (flockWorks']],
    'an opener that finds no holder takes the region for a dead one and unlinks whatever the name leads to now',
  ],
  'no-nlink-recheck-after-shared': [
    ['test/robustness/last-detach-parked.test.ts', 'test/robustness/last-detach.test.ts'],
    [['if (st.nlink === 0)\n                    return closeAnd(fd, GONE);\n            }', '}']],
    'an opener keeps an object the last holder unlinked between its two lock attempts',
  ],
  // Both re-checks removed, against the stochastic suite alone: it has no gdb to walk into the
  // window, so it kills this mutant often but not on every run (the parked suite always does).
  'no-nlink-recheck-stochastic': [
    ['test/robustness/last-detach.test.ts'],
    [
      ['if (st.nlink === 0)\n                    return closeAnd(fd, GONE);\n                if (flockWorks', 'if (flockWorks'],
      ['if (st.nlink === 0)\n                    return closeAnd(fd, GONE);\n            }', '}'],
    ],
    'no st_nlink re-check at all, caught by processes racing (no gdb)',
  ],
  'no-exclusive-create': [
    ['test/robustness/storm.test.ts'],
    [['O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW', 'O_RDWR | O_CREAT | O_NOFOLLOW']],
    'shm_open(O_CREAT) without O_EXCL: every racer thinks it created the region',
  ],
  'link-before-sized': [
    ['test/robustness/storm.test.ts'],
    [
      ['reserve(fd, size, fields);\n                tryLock(fd, LOCK_SH, fields);', 'tryLock(fd, LOCK_SH, fields);'],
      ['return mapRegion(fd, size, request, path, true, fields);', 'reserve(fd, size, fields);\n                return mapRegion(fd, size, request, path, true, fields);'],
      ['if (st.size === 0) {', 'if (false) {'],
      ['return mapRegion(fd, st.size, request, path, false, fields);', 'return mapRegion(fd, Math.max(st.size, request.size ?? 0), request, path, false, fields);'],
    ],
    'the name appears before the object is sized, and openers map the size they asked for',
  ],
  'map-before-sized': [
    ['test/robustness/storm.test.ts'],
    [
      ['while (!tryLock(fd, LOCK_EX | LOCK_NB, fields))', 'while (false)'],
      ['if (flockWorks && (st.mode & S_ISVTX) !== 0) {', 'if (flockWorks && (st.mode & S_ISVTX) !== 0 && st.size !== 0) {'],
      ['if (st.size === 0) {', 'if (false) {'],
      ['return mapRegion(fd, st.size, request, path, false, fields);', 'return mapRegion(fd, Math.max(st.size, request.size ?? 0), request, path, false, fields);'],
    ],
    'openers map the size they asked for, whether or not the creator has sized the object yet',
  ],
  'no-stale-reclaim': [
    ['test/robustness/crash.test.ts'],
    [['if (flockWorks && (st.mode & S_ISVTX) !== 0) {', 'if (false) {']],
    'a region whose holders all died is never released (as plain POSIX shm)',
  ],
  'reclaim-unmanaged': [
    ['test/robustness/crash.test.ts'],
    [['if (flockWorks && (st.mode & S_ISVTX) !== 0) {', 'if (flockWorks) {']],
    'any object nobody holds is taken for a dead region and removed, persistent or foreign ones too',
  ],
  'unlink-on-every-close': [
    ['test/robustness/crash.test.ts', 'test/robustness/last-detach.test.ts'],
    [['if (flockWorks && tryLock(fd, LOCK_EX | LOCK_NB, fields)) {', 'if (flockWorks && (tryLock(fd, LOCK_EX | LOCK_NB, fields) || true)) {']],
    'every close removes the name, not only the last one',
  ],
  'no-munmap': [
    ['test/robustness/leaks.test.ts'],
    [['c.munmap(address, size);', 'void address;']],
    'close never unmaps the region',
  ],
  'no-close-fd': [
    ['test/robustness/leaks.test.ts'],
    [['                closeQuietly(fd);\n            },\n            unmap() {', '            },\n            unmap() {']],
    'close keeps the descriptor open',
  ],
  'dropped-never-released': [
    ['test/robustness/leaks.test.ts'],
    [['    const native = held.native;\n    if (!native)\n        return;', '    const native = undefined;\n    if (!native)\n        return;', 'shared-memory.js']],
    'a region dropped without close() keeps its descriptor and mapping forever',
  ],
  'closed-regions-kept': [
    ['test/robustness/leaks.test.ts'],
    [['releaseWhenDropped.register(this, this.#held, this.#held);', 'releaseWhenDropped.register(this, this.#held, this.#held);\n        (globalThis.__regions ??= new Set()).add(this);', 'shared-memory.js']],
    'a table of regions that never forgets closed ones (JavaScript memory grows)',
  ],
};

const wanted = process.argv.slice(2);
let survived = 0;
for (const [name, [suites, edits, naive]] of Object.entries(MUTANTS)) {
  if (wanted.length && !wanted.includes(name)) continue;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nshm-mutant-${name}-`));
  fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  // The copy must resolve koffi as the real dist does.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  for (const [from, to, module = 'posix.js'] of edits) {
    const file = path.join(dir, 'dist', module);
    const code = fs.readFileSync(file, 'utf8');
    if (!code.includes(from)) throw new Error(`mutant ${name}: dist/${module} no longer contains ${JSON.stringify(from)}`);
    fs.writeFileSync(file, code.replace(from, to));
  }
  const r = spawnSync('npx', ['vitest', 'run', ...suites], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NAMED_SHM_DIST: path.join(dir, 'dist', 'index.js') },
  });
  const killed = r.status !== 0;
  if (!killed) survived++;
  console.log(`${killed ? 'killed  ' : 'SURVIVED'} ${name}: ${naive} (${suites.join(', ')})`);
  if (process.env.MUTANTS_VERBOSE) console.log(r.stdout, r.stderr);
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(survived ? 1 : 0);
