/**
 * Keeping V8's young generation small once a command handles many files.
 *
 * While thousands of directory entries are walked, stat'ed or archived, most objects a
 * scavenge sees are still alive, so V8 grows the young generation (up to 2 × 16 MB), which
 * adds tens of MB to peak memory. `--max-semi-space-size=2` on node's command line prevents
 * that, but any V8 flag there also makes V8 refuse the code cache Node keeps for its own
 * modules (bench/RESULTS.md, "Measurements behind the code"). Set at run time, a flag only
 * costs the modules loaded after it that cache; so the cap is set once a walk passes
 * MANY_FILES entries, where a few ms are noise, and small commands never pay it.
 */

import { lazyBuiltin } from './builtin.js';

const MANY_FILES = 1000;
// Loaded here, not at start-up.
const v8 = /* @__PURE__ */ lazyBuiltin<typeof import('node:v8')>('node:v8');

let capped = false;

/** Cap the young generation at its initial 1 MB semi-spaces (once per process). */
export function capYoungGeneration(): void {
  if (capped) return;
  capped = true;
  // The warm-up build of `npm install` writes dist/tsbuild-main.cjs.cache: a cache made under
  // changed flags would be refused at every later start.
  if (process.env.TSBUILD_CODE_CACHE === 'write') return;
  // Growth factor 1: the semi-spaces stay at the size they start with.
  v8().setFlagsFromString('--semi-space-growth-factor=1');
}

/** Called with a running count of entries a walk holds; caps at MANY_FILES. */
export function noteEntries(count: number): void {
  if (count >= MANY_FILES) capYoungGeneration();
}
