/** undici's module, as `import('undici')` gives it. */
export type Undici = typeof import('undici');

let loaded: Promise<Undici> | undefined;

/**
 * undici, loaded on first use: loading it took ~27 ms of every start (bench/RESULTS.md), and
 * most commands, a cached build among them, make no HTTP request.
 */
export function undici(): Promise<Undici> {
  return (loaded ??= import('undici'));
}
