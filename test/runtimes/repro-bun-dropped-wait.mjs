// Repro (Bun 1.4.4, Linux x64; fixed in eaebfda, kept as a check): a region dropped without close() while its waitForChange() is
// pending. Node (20, 22, 24, 26) keeps the region reachable through the pending wait and prints
// `result 1` in every mode; under Bun the region's finalizers run after the first GC although the
// wait is pending, the #changes mapping is let go under the waiter, and the process dies:
//   bun test/runtimes/repro-bun-dropped-wait.mjs nshm-repro-1 gc     -> SIGSEGV ("panic(main thread)")
//   bun test/runtimes/repro-bun-dropped-wait.mjs nshm-repro-2 keep   -> result 1 (region kept in a variable)
//   bun test/runtimes/repro-bun-dropped-wait.mjs nshm-repro-3 nogc   -> result 1 (no GC before the wait ends)
//   node --expose-gc test/runtimes/repro-bun-dropped-wait.mjs nshm-repro-4 gc   -> result 1
// It needs dist/ (npx tsc -p tsconfig.build.json). Before eaebfda, RegionChanges.wait() in
// lib/region/changes.ts named the region (`void keep;`) in the callback it hands to the futex
// watcher, so that a pending wait keeps the region reachable. JavaScriptCore does not capture a
// variable used only in a discarded `void` read, so under Bun nothing kept the region (README.md).
// With the fix, every mode prints `result 1` under Bun too.
import { SharedMemory } from '../../dist/index.js';

const [name, mode = 'gc'] = process.argv.slice(2);
if (!name) throw new Error('usage: repro-bun-dropped-wait.mjs <region name> gc|keep|nogc');
const gc = () => (typeof globalThis.gc === 'function' ? globalThis.gc() : globalThis.Bun.gc(true));
const start = () => {
  const region = SharedMemory.open(name);
  region.notify();
  const pending = region.waitForChange({ since: 1, timeout: 300 });
  return mode === 'keep' ? { region, pending } : { region: null, pending };
};
const { region, pending } = start();
console.log('waiting');
if (mode !== 'nogc') {
  for (let i = 0; i < 10; i++) {
    gc();
    console.log('gc', i);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
console.log('result', await pending.catch((e) => e.code ?? String(e)));
region?.close();
