import { loadBundle } from './bundle.js';

/** undici's module, as `import('undici')` gives it. */
export type Undici = typeof import('undici');

let loaded: Promise<Undici> | undefined;

/**
 * undici, loaded on first use (its load took ~27 ms when it was at start-up), from a bundle
 * of its own (dist/tsbuild-undici.cjs): its source was half the main bundle's, read at every
 * start (~2 ms, bench/RESULTS.md) by commands that make no HTTP request, a cached build among them.
 */
export function undici(): Promise<Undici> {
  return (loaded ??= Promise.resolve().then(() => loadBundle<Undici>('tsbuild-undici.cjs')));
}
