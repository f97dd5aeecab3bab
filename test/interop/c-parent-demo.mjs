// The sample's demo the other way round: the C parent (build/interop/parent.exe, through the C
// DLL) writes, and starts the named-shm demo child, which reads. Run with Windows Node.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const at = (p) => fileURLToPath(new URL(p, import.meta.url));
const child = `"${process.execPath}" "${at('../../node_modules/tsx/dist/cli.mjs')}" "${at('../../demo/child.ts')}"`;
const r = spawnSync(at('../../build/interop/parent.exe'), [child], { stdio: 'inherit' });
process.exitCode = r.status ?? 1;
