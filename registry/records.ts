import { hexOf, isDigest, type Digest } from '../common/index.js';
import { MediaType, type Store } from '../store/index.js';

/**
 * What the registry client remembers in the store, as the store's durable records
 * (`Store.records`) of kinds under `registry/`; the store knows nothing of their shapes:
 *   compressed/<diff_id hex>.json   the gzip blob of a layer (pulled, or pushed as; `-zstd.json`
 *                                   for its zstd blob), so
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

const COMPRESSED = 'registry/compressed';
const REPO_DIGESTS = 'registry/repo-digests';

/** The record's key: gzip keeps the name it had before zstd was written. */
function compressedKey(diffId: Digest, algorithm: 'gzip' | 'zstd'): string {
  return algorithm === 'gzip' ? hexOf(diffId) : `${hexOf(diffId)}-zstd`;
}

function algorithmOf(mediaType: string): 'gzip' | 'zstd' {
  return mediaType === MediaType.layerZstd ? 'zstd' : 'gzip';
}

export async function findCompressed(store: Store, diffId: Digest, algorithm: 'gzip' | 'zstd' = 'gzip'): Promise<CompressedLayer | undefined> {
  const rec = (await store.records.read(COMPRESSED, compressedKey(diffId, algorithm))) as CompressedLayer | undefined;
  if (rec && algorithmOf(rec.mediaType) !== algorithm) return undefined;
  const isVerified = rec?.verified === 'downloaded' || rec?.verified === 'compressed' || rec?.verified === 'stored';
  return rec && isVerified && isDigest(rec.digest) && typeof rec.size === 'number' ? { ...rec, knownIn: rec.knownIn ?? [] } : undefined;
}

export async function rememberCompressed(store: Store, diffId: Digest, rec: CompressedLayer): Promise<void> {
  const algorithm = algorithmOf(rec.mediaType);
  const old = await findCompressed(store, diffId, algorithm);
  const knownIn = [...new Set([...(old?.digest === rec.digest ? old.knownIn : []), ...rec.knownIn])].slice(-20);
  await store.records.write(COMPRESSED, compressedKey(diffId, algorithm), { ...rec, knownIn });
}

/** `repo@sha256:…` names recorded for image `id` (pull and push add them). */
export async function repoDigestsOf(store: Store, id: Digest): Promise<string[]> {
  const list = await store.records.read(REPO_DIGESTS, hexOf(id));
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
}

/** Record that `repository` (full name, no tag) has image `id` as manifest `manifestDigest`. */
export async function addRepoDigest(store: Store, id: Digest, repository: string, manifestDigest: Digest): Promise<void> {
  const entry = `${repository}@${manifestDigest}`;
  const list = (await repoDigestsOf(store, id)).filter((x) => !x.startsWith(`${repository}@`));
  await store.records.write(REPO_DIGESTS, hexOf(id), [...list, entry].sort());
}
