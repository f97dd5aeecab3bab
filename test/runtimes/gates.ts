// Which JavaScript runtime runs the tests (scripts/runtimes.sh runs the portable part of the suite
// under Bun and Deno), and visible skips for what cannot apply under one of them: each skip
// prints its reason once, as `[skip bun] file: reason`, so that nothing is skipped silently.

declare const Deno: { version: { deno: string } } | undefined;

export type Runtime = 'node' | 'bun' | 'deno';

export const runtime: Runtime =
  typeof process.versions.bun === 'string' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node';

export const isBun = runtime === 'bun';
export const isDeno = runtime === 'deno';

/**
 * True (skip) when the tests run under one of `runtimes`; prints the reason then. For
 * `it.skipIf(skipUnder(['deno'], 'why'))(...)` and `describe.skipIf(...)`.
 */
export function skipUnder(runtimes: readonly Runtime[], reason: string): boolean {
  if (!runtimes.includes(runtime)) return false;
  console.log(`[skip ${runtime}] ${reason}`);
  return true;
}
