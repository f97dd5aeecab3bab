// Checks that the robustness and adversarial suites can fail: for each mutant, copies a snapshot
// of dist/ (taken once, at the start) to a temporary folder, removes one protection from the copy
// (text replacements in the built modules it names: dist/os/posix/*.js, dist/region/*.js), and
// runs the suites that guard it with their fixture processes loading the copy (NAMED_SHM_DIST).
// A mutant must make its suites fail ("killed"); the tests that failed are printed. Each suite
// (with its test filter) is first run once on an unmutated copy, which must pass: a suite that is
// already red would "kill" every mutant (--no-baseline skips this).
//   npm run build && node test/robustness/mutants.mjs [--no-baseline] [--list] [mutant-name ...]
// Every replacement must match its module exactly once, and the mutated module must parse, or the
// run stops before any suite runs (exit code 2): a pattern left behind by a change of the code
// would otherwise test nothing, and a syntax error would fail every suite for nothing.
// Exit code 1 when a mutant survived or could not run. MUTANTS_JSON=file writes the results.
// Linux only (the protections are the POSIX backend's). Not part of `npm test`. Mutants marked
// node: 22 run vitest with a Node 22 binary ($NAMED_SHM_NODE22, or the one cached by
// scripts/node-versions.sh in ~/.cache/named-shm-node/), and are skipped when there is none.
// MUTANTS_VERBOSE=1 prints each run's output.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const REGION = 'os/posix/region.js';
const HOLDERS = 'os/posix/holders.js';
const CREATE = 'os/posix/create.js';
const NAMES = 'os/posix/object-names.js';
const MAPPING = 'os/posix/mapping.js';
const LETTING_GO = 'region/letting-go.js';
const CORE = 'region/shared-memory.js';

const R = 'test/robustness/';
const A = 'test/adversarial/';
const STORM = `${R}storm.test.ts`;
const CRASH = `${R}crash.test.ts`;
const RACES = `${R}last-detach.test.ts`;
const PARKED = `${R}last-detach-parked.test.ts`;
const LEAKS = `${R}leaks.test.ts`;
const OWN_OBJECT = `${A}names-are-removed-only-for-their-own-object.test.ts`;
const FIFO = `${A}open-never-blocks-on-a-fifo-or-device.test.ts`;
const HUGE = `${A}huge-object-is-refused-not-fatal.test.ts`;
const RESERVES = `${A}open-of-an-existing-region-reserves-nothing.test.ts`;
const SPARSE = `${A}sparse-object-never-sigbus-on-readwrite-attach.test.ts`;
const FAILED_MMAP = `${A}failed-mmap-leaves-nothing-behind.test.ts`;
const WORKERS = `${A}workers.test.ts`;
const TRANSFER = `${A}transfer.test.ts`;

/**
 * A suite is a file, or [file, test-name filter (vitest -t)] to run only some of its tests: the
 * huge-object suite runs only its read-only cases, because with the EFBIG check removed a
 * read-write open would posix_fallocate 5 GiB in the machine's real /dev/shm.
 */
const HUGE_READ_ONLY = [HUGE, 'readonly|MAX_LENGTH \\+ 1'];

/**
 * name → { suites, edits: [[module under dist/, text, replacement], ...], naive, node? }
 * `naive` is what an implementation without the protection does.
 */
const MUTANTS = {
  // ---- creation -------------------------------------------------------------------------------
  'no-exclusive-create': {
    suites: [STORM],
    edits: [[CREATE, 'names.open(path, O_RDWR | O_CREAT | O_EXCL, mode)', 'names.open(path, O_RDWR | O_CREAT, mode)']],
    naive: 'shm_open(O_CREAT) without O_EXCL on the shm_open route: every racer takes the region for its own new one',
  },
  'link-before-sized': {
    suites: [STORM],
    edits: [
      [CREATE, 'reserve(fd, size, fields);\n            locks.tryShared(fd, fields);\n            if (c.linkat', 'locks.tryShared(fd, fields);\n            if (c.linkat'],
      [CREATE, 'if (linked)\n            return mapRegion(fd, size, request, path, true, fields);', 'if (linked) {\n            reserve(fd, size, fields);\n            return mapRegion(fd, size, request, path, true, fields);\n        }'],
      [REGION, 'if (st.size === 0) {\n                Object.assign(busy, UNSIZED);', 'if (false) {\n                Object.assign(busy, UNSIZED);'],
      [REGION, 'if (request.size !== undefined && st.size < request.size) {', 'if (false) {'],
      [REGION, 'return mapRegion(fd, st.size, request, path, false, fields);', 'return mapRegion(fd, Math.max(st.size, request.size ?? 0), request, path, false, fields);'],
    ],
    naive: 'the O_TMPFILE object gets its name before its size, and openers map the size they asked for',
  },
  'map-before-sized': {
    suites: [STORM],
    edits: [
      [CREATE, 'for (let alone = locks.tryExclusive(fd, false, fields); locks.supported && !alone; alone = locks.tryExclusive(fd, false, fields)) {', 'for (; false;) {'],
      [REGION, 'if (managed && st.size === 0 && Date.now() - st.ctimeMs < UNSIZED_GRACE_MS) {', 'if (false) {'],
      [REGION, 'if (managed) {', 'if (managed && st.size !== 0) {'],
      [REGION, 'if (st.size === 0) {\n                Object.assign(busy, UNSIZED);', 'if (false) {\n                Object.assign(busy, UNSIZED);'],
      [REGION, 'if (request.size !== undefined && st.size < request.size) {', 'if (false) {'],
      [REGION, 'return mapRegion(fd, st.size, request, path, false, fields);', 'return mapRegion(fd, Math.max(st.size, request.size ?? 0), request, path, false, fields);'],
    ],
    naive: 'the shm_open creator sizes the object without holding the write lock, and openers map the size they asked for',
  },
  // ---- opening while the last holder closes ---------------------------------------------------
  'no-recheck-after-exclusive': {
    suites: [PARKED, RACES, OWN_OBJECT],
    edits: [[REGION, 'if (st.nlink === 0 || !names.leadsTo(path, fd)) {\n                    alone.end();\n                    return closeAnd(fd, GONE);\n                }', '']],
    naive: 'an opener that finds no other holder does not check that the name still leads to its object (st_nlink, dev/ino): it reclaims or attaches an object the name left',
  },
  'no-recheck-after-shared': {
    suites: [PARKED, RACES],
    edits: [[REGION, 'if (st.nlink === 0 || !names.leadsTo(path, fd))\n                    return closeAnd(fd, GONE);', '']],
    naive: 'an opener that got its read lock keeps an object the last holder unlinked between its two lock attempts',
  },
  // Both re-checks removed, against the racing processes alone: they have no gdb to walk into the
  // window, so they kill this mutant often but not on every run (the parked suite always does).
  'no-recheck-stochastic': {
    suites: [RACES],
    edits: [
      [REGION, 'if (st.nlink === 0 || !names.leadsTo(path, fd)) {\n                    alone.end();\n                    return closeAnd(fd, GONE);\n                }', ''],
      [REGION, 'if (st.nlink === 0 || !names.leadsTo(path, fd))\n                    return closeAnd(fd, GONE);', ''],
    ],
    naive: 'no re-check at all after locking, caught by processes racing (no gdb)',
  },
  // The two defences of a reclaim removed together (the re-check after the write lock, and the
  // dev/ino comparison before shm_unlink): each alone is covered by the other in the parked case.
  'reclaim-unchecked': {
    suites: [PARKED],
    edits: [
      [REGION, 'if (st.nlink === 0 || !names.leadsTo(path, fd)) {\n                    alone.end();\n                    return closeAnd(fd, GONE);\n                }', ''],
      [NAMES, 'unlinkIfLeadsTo(path, fd, fields) {\n            if (names.leadsTo(path, fd))\n                names.unlink(path, fields, true);', 'unlinkIfLeadsTo(path, fd, fields) {\n            names.unlink(path, fields, true);'],
    ],
    naive: 'an opener that finds no other holder takes the released object for a dead one and removes whatever the name leads to now',
  },
  // ---- release and reclaim --------------------------------------------------------------------
  'no-stale-reclaim': {
    suites: [CRASH],
    edits: [[REGION, 'if (managed) {', 'if (false) {']],
    naive: 'a region whose holders all died is never released (as plain POSIX shm)',
  },
  'reclaim-unmanaged': {
    suites: [CRASH],
    edits: [[REGION, 'if (managed) {', 'if (true) {']],
    naive: 'any object nobody holds is taken for a dead region and removed, persistent or foreign ones too',
  },
  'unlink-on-every-close': {
    suites: [CRASH, RACES],
    edits: [[HOLDERS, 'const alone = locks.tryExclusive(fd, readOnly, fields);', 'const alone = locks.tryExclusive(fd, readOnly, fields) ?? { end() { } };']],
    naive: 'every close removes the name, not only the last one',
  },
  'no-unlock-before-exclusive': {
    suites: [STORM, PARKED],
    edits: [[HOLDERS, 'locks.unlock(fd);\n            const alone = locks.tryExclusive(fd, readOnly, fields);', 'const alone = locks.tryExclusive(fd, readOnly, fields);']],
    naive: 'a closer upgrades its read lock to the write lock in place: holders that close together refuse each other, and the name stays behind',
  },
  'unlink-any-object': {
    suites: [OWN_OBJECT],
    edits: [[NAMES, 'unlinkIfLeadsTo(path, fd, fields) {\n            if (names.leadsTo(path, fd))\n                names.unlink(path, fields, true);', 'unlinkIfLeadsTo(path, fd, fields) {\n            names.unlink(path, fields, true);']],
    naive: 'the last close (and a reclaim) removes whatever the name leads to now, not only its own object (dev/ino)',
  },
  // ---- what stands at the name ----------------------------------------------------------------
  'open-name-blocking': {
    suites: [FIFO],
    edits: [[NAMES, 'const handle = fs.openSync(full, O_PATH | O_NOFOLLOW);', 'const handle = fs.openSync(full, flags | O_NOFOLLOW | O_NOCTTY);']],
    naive: 'an existing name is opened for real, as shm_open does, and looked at afterwards: a read-only open of a FIFO planted at the name blocks until a writer comes',
  },
  'open-name-nonblocking': {
    suites: [FIFO],
    edits: [[NAMES, 'const handle = fs.openSync(full, O_PATH | O_NOFOLLOW);', 'const handle = fs.openSync(full, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);']],
    naive: "an existing name is opened for real with O_NONBLOCK, then looked at: nothing blocks, but the open releases a writer waiting at a FIFO (its data lost) and runs a device's driver",
  },
  'no-look-before-open': {
    suites: [FIFO],
    edits: [[NAMES, 'if (!st.isFile())\n                            return { notFile: true };\n', '']],
    naive: 'the O_PATH handle is reopened whatever stands at the name: a FIFO or device is opened for real before attach() refuses it',
  },
  'no-efbig-check': {
    suites: [HUGE_READ_ONLY],
    edits: [[REGION, 'if (st.size > MAX_SIZE) {', 'if (false) {']],
    naive: 'an object larger than this Node can view is mapped anyway (Node 20: the view of 5 GiB ends the process)',
  },
  'no-fallocate-on-sparse-attach': {
    suites: [SPARSE],
    edits: [[REGION, 'if (!request.readOnly && st.blocks * 512 < st.size) {', 'if (false) {']],
    naive: 'a read-write attach maps a sparse object as it is: on a full tmpfs its first write is a SIGBUS',
  },
  'create-before-attach': {
    suites: [RESERVES],
    edits: [[REGION, "if (request.intent !== 'create') {\n                    const found = attach(", "if (request.intent === 'open' || (request.intent !== 'create' && gone > 0)) {\n                    const found = attach("]],
    naive: 'open() first makes (and posix_fallocates) a new object, and attaches only when the name turns out to exist: ENOSPC for an existing region on a nearly full tmpfs',
  },
  // ---- mapping, and failed mappings -----------------------------------------------------------
  'map-from-holder-fd': {
    suites: [WORKERS],
    edits: [[HOLDERS, 'mapping = mapObject(c, orphans, mappable(fd, request.readOnly), fd, size, request.readOnly, fields);', 'mapping = mapObject(c, orphans, fd, fd, size, request.readOnly, fields);']],
    naive: "the mapping is made from the holder's own descriptor: the mapping keeps that file description, and its lock, alive after a terminated worker's descriptors are closed",
  },
  'failed-mmap-keeps-name': {
    suites: [FAILED_MMAP],
    edits: [[HOLDERS, 'if (created)\n                letGo(fd, path, false, fields);\n            else\n                names.close(fd);', 'names.close(fd);']],
    naive: 'a create whose mmap fails after linkat closes its descriptor and leaves the named, reserved object behind',
  },
  'failed-mmap-keeps-mapping-fd': {
    suites: [FAILED_MMAP],
    edits: [[MAPPING, "    if (fd !== keep)\n        fs.closeSync(fd);\n    if (address === MAP_FAILED || address === null)\n        throw systemError(codeForErrno(errno), 'mmap', fields);", "    if (address === MAP_FAILED || address === null)\n        throw systemError(codeForErrno(errno), 'mmap', fields);\n    if (fd !== keep)\n        fs.closeSync(fd);"]],
    naive: 'the descriptor opened to map from is closed only after a successful mmap: a failed one leaks it',
  },
  // ---- leaks ----------------------------------------------------------------------------------
  'no-munmap': {
    suites: [LEAKS],
    edits: [[MAPPING, 'gone = true;\n            if (forget())\n                c.munmap(address, size);', 'gone = true;\n            forget();']],
    naive: 'close never unmaps the region',
  },
  'no-close-fd': {
    suites: [LEAKS],
    edits: [[HOLDERS, '        finally {\n            names.close(fd);\n        }\n    }', '    }']],
    naive: "close keeps the holder's descriptor open",
  },
  'no-close-mapping-fd': {
    suites: [LEAKS],
    edits: [[MAPPING, '    if (fd !== keep)\n        fs.closeSync(fd);\n', '']],
    naive: 'the second descriptor each mapping is made from is never closed',
  },
  'dropped-never-released': {
    suites: [LEAKS],
    edits: [[LETTING_GO, "new FinalizationRegistry((held) => letGo(held, 'dropped'));", 'new FinalizationRegistry((held) => void held);']],
    naive: 'a region dropped without close() keeps its descriptor and mapping forever',
  },
  'closed-regions-kept': {
    suites: [LEAKS],
    edits: [[CORE, 'this.#held = holdRegion(this, native);', 'this.#held = holdRegion(this, native);\n        (globalThis.__regions ??= new Set()).add(this);']],
    naive: 'a table of regions that never forgets closed ones (JavaScript memory grows)',
  },
  'live-set-never-forgets': {
    suites: [LEAKS],
    edits: [[LETTING_GO, '    held.native = undefined;\n    live.delete(held);\n', '    held.native = undefined;\n']],
    naive: "the table of live regions (kept for workers' exit) never forgets one that was let go",
  },
  // ---- worker threads -------------------------------------------------------------------------
  'no-orphan-reap': {
    suites: [WORKERS],
    edits: [[REGION, '            h.reapOrphans();\n', '']],
    naive: "nothing unmaps what a terminated worker mapped (it runs no JavaScript at its end): each mapping pins its object's memory until the process ends",
  },
  'no-worker-exit-hook': {
    suites: [WORKERS],
    edits: [[LETTING_GO, 'if (!isMainThread) {', 'if (false) {']],
    naive: 'a worker that ends without close() lets go of nothing (no finalizer runs at its end): names and mappings stay',
  },
  // ---- transfer() (Node 22+: Node 20 has no ArrayBuffer.prototype.transfer) -----------------
  'transferable-bytes': {
    suites: [TRANSFER],
    node: 22,
    edits: [[CORE, 'Object.defineProperty(native.view, method, { value: refuse, enumerable: false });', 'void refuse;']],
    naive: 'bytes.buffer.transfer() is allowed: the mapping moves into a buffer named-shm does not track',
  },
  'unmap-moved-view': {
    suites: [TRANSFER],
    node: 22,
    edits: [[LETTING_GO, 'if (isDetached(native.view))\n        native.retire();', 'if (isDetached(native.view))\n        native.unmap();']],
    naive: 'close() unmaps a view that was moved out through the prototype: the moved buffer then touches unmapped memory',
  },
  'unmap-dropped-view': {
    suites: [TRANSFER],
    node: 22,
    edits: [[LETTING_GO, 'unmapWhenViewIsGarbage(native.view, canDetach ? native.retire : native.unmap, native.retire);', 'unmapWhenViewIsGarbage(native.view, native.unmap, native.retire);']],
    naive: 'a dropped region is unmapped once its view is garbage, although on Node 22 the memory may have been moved out first',
  },
};

// ---------------------------------------------------------------------------------------------

const args = process.argv.slice(2);
const baselineWanted = !args.includes('--no-baseline');
const listOnly = args.includes('--list');
const wanted = args.filter((a) => !a.startsWith('--'));
for (const name of wanted) if (!(name in MUTANTS)) fail(`no mutant named ${name}`);
const selected = Object.entries(MUTANTS).filter(([name]) => !wanted.length || wanted.includes(name));

function fail(message) {
  console.error(`mutants: ${message}`);
  process.exit(2);
}

const suiteFile = (s) => (Array.isArray(s) ? s[0] : s);
const suiteFilter = (s) => (Array.isArray(s) ? s[1] : undefined);
const suiteLabel = (s) => (Array.isArray(s) ? `${path.basename(s[0], '.test.ts')} (-t /${s[1]}/)` : path.basename(s, '.test.ts'));

/** Applies `edits` to the modules under `dist`; every text must be there exactly once. */
function mutate(name, dist, edits) {
  for (const [module, from, to] of edits) {
    const file = path.join(dist, module);
    if (!fs.existsSync(file)) fail(`mutant ${name}: dist/${module} does not exist (npm run build?)`);
    const code = fs.readFileSync(file, 'utf8');
    const count = code.split(from).length - 1;
    if (count !== 1) fail(`mutant ${name}: dist/${module} contains ${count === 0 ? 'no' : count} copies of ${JSON.stringify(from)} (exactly 1 wanted)`);
    fs.writeFileSync(file, code.replace(from, () => to));
  }
  // A mutant that does not parse would fail every suite and count as killed for nothing.
  for (const module of new Set(edits.map(([m]) => m))) {
    const copy = path.join(dist, `${module.replaceAll('/', '_')}.check.mjs`); // parsed as a module for sure
    fs.copyFileSync(path.join(dist, module), copy);
    const check = spawnSync(process.execPath, ['--check', copy], { encoding: 'utf8' });
    fs.rmSync(copy);
    if (check.status !== 0) fail(`mutant ${name}: dist/${module} no longer parses once mutated:\n${check.stderr}`);
  }
}

const copies = new Set();
process.on('exit', () => {
  for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true });
});

// One snapshot of dist/, taken now: every copy comes from it, so a build made meanwhile (other
// work in the same tree) cannot change the code under test halfway through a run.
const snapshot = fs.mkdtempSync(path.join(os.tmpdir(), 'nshm-mutant-snapshot-'));
copies.add(snapshot);
fs.cpSync(path.join(root, 'dist'), snapshot, { recursive: true });
const stale = staleModules(path.join(root, 'lib'));
if (stale.length) console.warn(`mutants: WARNING: dist/ is older than ${stale.join(', ')}: run npm run build first`);

/** lib/ files newer than the dist/ module built from them. */
function staleModules(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const source = path.join(entry.parentPath ?? entry.path, entry.name);
    const built = path.join(root, 'dist', path.relative(path.join(root, 'lib'), source)).replace(/\.ts$/, '.js');
    if (fs.existsSync(built) && fs.statSync(source).mtimeMs > fs.statSync(built).mtimeMs) out.push(path.relative(root, source));
  }
  return out;
}

/** A copy of the dist/ snapshot (with node_modules, so that it resolves koffi as dist/ does), mutated. */
function copyOfDist(name, edits) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nshm-mutant-${name}-`));
  copies.add(dir);
  fs.cpSync(snapshot, path.join(dir, 'dist'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  mutate(name, path.join(dir, 'dist'), edits);
  return dir;
}

function node22() {
  if (process.env.NAMED_SHM_NODE22) return process.env.NAMED_SHM_NODE22;
  if (process.version.startsWith('v22.')) return process.execPath;
  const cache = path.join(os.homedir(), '.cache', 'named-shm-node');
  const found = fs.existsSync(cache) ? fs.readdirSync(cache).filter((d) => d.startsWith('node-v22')).sort().pop() : undefined;
  const bin = found && path.join(cache, found, 'bin', 'node');
  return bin && fs.existsSync(bin) ? bin : undefined;
}

/** Runs the suites with NAMED_SHM_DIST at `dir`'s copy: {passed, failed: ['file > test', ...], seconds}. */
function runSuites(suites, dir, node) {
  const groups = new Map(); // filter → files (vitest takes one -t per run)
  for (const s of suites) {
    const key = suiteFilter(s) ?? '';
    groups.set(key, [...(groups.get(key) ?? []), suiteFile(s)]);
  }
  const started = Date.now();
  const failed = [];
  let passed = true;
  for (const [filter, files] of groups) {
    const report = path.join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
    const vitest = [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...files, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
    if (filter) vitest.push('-t', filter);
    const r = spawnSync(node, vitest, {
      cwd: root,
      encoding: 'utf8',
      timeout: 30 * 60_000,
      killSignal: 'SIGKILL',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, NAMED_SHM_DIST: path.join(dir, 'dist', 'index.js') },
    });
    if (process.env.MUTANTS_VERBOSE) console.log(r.stdout, r.stderr);
    if (r.status === 0) continue;
    passed = false;
    let named = 0;
    try {
      const json = JSON.parse(fs.readFileSync(report, 'utf8'));
      for (const file of json.testResults ?? []) {
        const failures = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
        for (const t of failures) failed.push(`${path.basename(file.name, '.test.ts')} > ${t.title}`);
        if (!failures.length && file.status === 'failed') failed.push(`${path.basename(file.name, '.test.ts')}: ${String(file.message ?? 'failed').split('\n')[0]}`);
        named += failures.length || (file.status === 'failed' ? 1 : 0);
      }
    } catch {
      // no report: vitest itself died or was killed
    }
    if (!named) failed.push(r.signal ? `vitest ended by ${r.signal} (timeout?)` : `vitest exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  }
  return { passed, failed, seconds: Math.round((Date.now() - started) / 1000) };
}

// Every pattern is checked against the current build before anything runs.
for (const [name, m] of selected) fs.rmSync(copyOfDist(name, m.edits), { recursive: true, force: true });
if (listOnly) {
  for (const [name, m] of selected) console.log(`${name}${m.node ? ` (Node ${m.node})` : ''}: ${m.suites.map(suiteLabel).join(', ')}: ${m.naive}`);
  process.exit(0);
}

const started = Date.now();
const baseline = new Map(); // `${node} ${suite}` → result on the unmutated copy
let survived = 0;
let notRun = 0;
const results = [];
for (const [name, m] of selected) {
  const node = m.node === 22 ? node22() : process.execPath;
  if (!node) {
    notRun++;
    console.log(`skipped  ${name}: no Node ${m.node} binary (set NAMED_SHM_NODE22)`);
    results.push({ name, result: 'skipped' });
    continue;
  }
  if (baselineWanted) {
    const red = [];
    for (const s of m.suites) {
      const key = `${node} ${JSON.stringify(s)}`;
      if (!baseline.has(key)) {
        const dir = copyOfDist('baseline', []);
        baseline.set(key, runSuites([s], dir, node));
        fs.rmSync(dir, { recursive: true, force: true });
        const b = baseline.get(key);
        console.log(`baseline ${suiteLabel(s)}${m.node ? ` (Node ${m.node})` : ''}: ${b.passed ? 'green' : `RED: ${b.failed.join('; ')}`} (${b.seconds} s)`);
      }
      if (!baseline.get(key).passed) red.push(suiteLabel(s));
    }
    if (red.length) {
      notRun++;
      console.log(`NOT RUN  ${name}: its suite fails without any mutation (${red.join(', ')})`);
      results.push({ name, result: 'baseline red' });
      continue;
    }
  }
  const dir = copyOfDist(name, m.edits);
  const r = runSuites(m.suites, dir, node);
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.passed) survived++;
  const by = r.passed ? '' : ` — killed by ${r.failed.slice(0, 4).join('; ')}${r.failed.length > 4 ? `; +${r.failed.length - 4} more` : ''}`;
  console.log(`${r.passed ? 'SURVIVED' : 'killed  '} ${name}: ${m.naive} [${m.suites.map(suiteLabel).join(', ')}, ${r.seconds} s]${by}`);
  results.push({ name, result: r.passed ? 'survived' : 'killed', seconds: r.seconds, failed: r.failed });
}
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
console.log(`${results.filter((r) => r.result === 'killed').length} killed, ${survived} survived, ${notRun} not run, in ${minutes} min (Node ${process.version}, ${os.cpus().length} cores)`);
if (process.env.MUTANTS_JSON) fs.writeFileSync(process.env.MUTANTS_JSON, JSON.stringify(results, null, 2));
process.exit(survived || notRun ? 1 : 0);
