import { createRequire } from 'node:module';
import { join } from 'node:path';
import { projectRoot } from './paths.js';

/** undici's module, as `import('undici')` gives it. */
export type Undici = typeof import('undici');

/**
 * undici, bundled on its own by scripts/bundle.mjs: half of the main bundle's source was
 * undici's, read at every start (~2 ms, bench/RESULTS.md) by commands that make no HTTP
 * request, a cached build among them.
 */
const UNDICI_BUNDLE = /* @__PURE__ */ join(projectRoot, 'dist', 'tsbuild-undici.cjs');

let loaded: Promise<Undici> | undefined;

/** undici, loaded on first use (its load took ~27 ms when it was at start-up). */
export function undici(): Promise<Undici> {
  return (loaded ??= Promise.resolve().then(() => createRequire(import.meta.url)(UNDICI_BUNDLE) as Undici));
}
