import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hexOf, type Digest } from '../common/index.js';
import { writeFileAtomic } from './atomic.js';

/**
 * Small JSON results worth not computing twice, by kind and content digest (e.g. a parsed
 * Dockerfile by the digest of its text): `<root>/cache/memo/<kind>/<hex>.json`. Entries are
 * immutable for their key; a missing or unreadable one is simply recomputed.
 */
export async function readMemo<T>(root: string, kind: string, key: Digest): Promise<T | undefined> {
  try {
    return JSON.parse(readFileSync(join(root, 'cache', 'memo', kind, `${hexOf(key)}.json`), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function writeMemo(root: string, kind: string, key: Digest, value: unknown): Promise<void> {
  // Recomputed when missing or unreadable: not worth an fsync.
  await writeCacheFile(join(root, 'cache', 'memo', kind, `${hexOf(key)}.json`), JSON.stringify(value));
}

/** Write a file of the store's cache/ that is recomputed when missing: atomic, not durable. */
export async function writeCacheFile(path: string, data: string | Uint8Array): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await writeFileAtomic(path, data, { durable: false });
}
