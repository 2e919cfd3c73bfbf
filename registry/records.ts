import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hexOf, isDigest, type Digest } from '../common/index.js';
import { writeFileAtomic } from '../store/atomic.js';

/**
 * What the registry client remembers in the store, under `<root>/registry/` (its own
 * folder; the store's index knows nothing of registries):
 *   compressed/<diff_id hex>.json   the compressed blob of a layer (pulled, or pushed as), so
 *                                   the next push can ask the registry for it (HEAD / mount)
 *                                   instead of compressing again; plus where it went. Only a
 *                                   blob whose bytes were verified to be that layer is
 *                                   recorded; a record without `verified` (written before
 *                                   that rule) is ignored
 *   repo-digests/<image id hex>.json  `repo@sha256:…` manifest digests (Docker's RepoDigests)
 * Losing these files costs a recompression or a missing RepoDigests line, never data.
 */

export interface CompressedLayer {
  digest: Digest;
  size: number;
  mediaType: string;
  /** `host/repo` names this blob is known to exist in (mount sources). */
  knownIn: string[];
  /**
   * How the blob is known to be this layer: downloaded and checked against its digest and
   * its content against the diff_id, made here by compressing the layer, or the local
   * image's own stored (compressed) layer blob.
   */
  verified: 'downloaded' | 'compressed' | 'stored';
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  // <root>/registry/ is made owner-only like the store's own folders (store/permissions.ts)
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, JSON.stringify(value));
}

function compressedPath(root: string, diffId: Digest): string {
  return join(root, 'registry', 'compressed', `${hexOf(diffId)}.json`);
}

function repoDigestsPath(root: string, id: Digest): string {
  return join(root, 'registry', 'repo-digests', `${hexOf(id)}.json`);
}

export async function findCompressed(root: string, diffId: Digest): Promise<CompressedLayer | undefined> {
  const rec = await readJson<CompressedLayer>(compressedPath(root, diffId));
  const isVerified = rec?.verified === 'downloaded' || rec?.verified === 'compressed' || rec?.verified === 'stored';
  return rec && isVerified && isDigest(rec.digest) && typeof rec.size === 'number' ? { ...rec, knownIn: rec.knownIn ?? [] } : undefined;
}

export async function rememberCompressed(root: string, diffId: Digest, rec: CompressedLayer): Promise<void> {
  const old = await findCompressed(root, diffId);
  const knownIn = [...new Set([...(old?.digest === rec.digest ? old.knownIn : []), ...rec.knownIn])].slice(-20);
  await writeJson(compressedPath(root, diffId), { ...rec, knownIn });
}

/** `repo@sha256:…` names recorded for image `id` (pull and push add them). */
export async function repoDigestsOf(root: string, id: Digest): Promise<string[]> {
  const list = await readJson<unknown>(repoDigestsPath(root, id));
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
}

/** Record that `repository` (full name, no tag) has image `id` as manifest `manifestDigest`. */
export async function addRepoDigest(root: string, id: Digest, repository: string, manifestDigest: Digest): Promise<void> {
  const entry = `${repository}@${manifestDigest}`;
  const list = (await repoDigestsOf(root, id)).filter((x) => !x.startsWith(`${repository}@`));
  await writeJson(repoDigestsPath(root, id), [...list, entry].sort());
}
