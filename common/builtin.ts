import { createRequire } from 'node:module';

const load = /* @__PURE__ */ createRequire(import.meta.url);

/**
 * A Node built-in module loaded at its first use instead of at start. An `import` of one
 * loads it when the bundle starts, and net, dgram, http, tls, zlib and worker_threads were
 * 3.8 ms of every command's start (medians of 41), which most commands never use.
 */
export function lazyBuiltin<T>(id: `node:${string}`): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(id) as T);
}
