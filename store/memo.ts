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
    const text = await readMemoText(root, kind, key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  } catch {
    return undefined;
  }
}

export async function writeMemo(root: string, kind: string, key: Digest, value: unknown): Promise<void> {
  await writeMemoText(root, kind, key, JSON.stringify(value));
}

/** A memo's JSON text, for a caller that parses (and checks) it itself; undefined if missing or unreadable. */
export async function readMemoText(root: string, kind: string, key: Digest): Promise<string | undefined> {
  try {
    return readFileSync(memoPath(root, kind, key), 'utf8');
  } catch {
    return undefined;
  }
}

export async function writeMemoText(root: string, kind: string, key: Digest, text: string): Promise<void> {
  // Recomputed when missing or unreadable: not worth an fsync.
  await writeCacheFile(memoPath(root, kind, key), text);
}

function memoPath(root: string, kind: string, key: Digest): string {
  return join(root, 'cache', 'memo', kind, `${hexOf(key)}.json`);
}

// Dirs made by this process: a build writes thousands of records into one dir. A dir
// removed meanwhile (prune) makes the write fail with ENOENT, and the retry makes it again.
const madeDirs = new Set<string>();

/** Write a file of the store's cache/ that is recomputed when missing: atomic, not durable. */
export async function writeCacheFile(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  if (!madeDirs.has(dir)) {
    mkdirSync(dir, { recursive: true });
    madeDirs.add(dir);
  }
  try {
    await writeFileAtomic(path, data, { durable: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(dir, { recursive: true });
    await writeFileAtomic(path, data, { durable: false });
  }
}
