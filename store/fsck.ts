import { existsSync, statSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DigestHasher, UserError, hexOf, isDigest, type Digest } from '../common/index.js';
import { blobPath, blobsDir, openBlob } from './blobs.js';
import { readEntries, ociDir } from './index-json.js';
import { layersDir } from './layers.js';
import { tarSplitDir } from './tar-split.js';
import { MediaType, type ImageConfig, type ImageIndex, type Manifest } from './oci-types.js';
import { octalMode, repairModes, wrongModes, type WrongMode } from './permissions.js';

/**
 * `tsbuild fsck`: check that every ref leads to a manifest, a config and layer blobs that
 * are present with the right digests and sizes, and that no partial file is visible in
 * blobs/ or layers/ (temp leftovers of dead processes are removed at open, so anything
 * else there is a fault), and that no other user may read or enter the store (the modes of
 * the root and its entries, store/permissions.ts). A layer kept as its dir and tar-split is
 * checked by making its tar again and hashing it. Problems are collected, never thrown.
 * With `repair`, modes are repaired first and only what could not be is a problem.
 */

export interface FsckOptions {
  repair?: boolean;
}

export interface FsckReport {
  problems: string[];
  /** What `repair` fixed, one line each. */
  repaired: string[];
  images: number;
  blobsChecked: number;
}

function modeLine(root: string, w: WrongMode): string {
  const what = w.path === root ? `store root ${root}` : `${w.path.slice(root.length + 1)}`;
  return `${what}: mode ${octalMode(w.mode)} lets other users in (want ${octalMode(w.want)})`;
}

/** A blob's digest and size: its file's, or those of the tar its dir and split make again (store/tar-split.ts). */
async function hashBlob(root: string, d: Digest): Promise<{ digest: Digest; size: number } | { damage: string } | undefined> {
  const h = new DigestHasher();
  try {
    for await (const chunk of openBlob(root, d)) h.update(chunk as Buffer);
  } catch (e) {
    return e instanceof UserError ? { damage: e.message } : undefined;
  }
  return { digest: h.digest(), size: h.sizeBytes };
}

export async function fsck(root: string, opts: FsckOptions = {}): Promise<FsckReport> {
  const problems: string[] = [];
  const repaired: string[] = [];
  const wrong = wrongModes(root);
  const left = opts.repair ? repairModes(root) : wrong;
  for (const w of wrong) if (!left.some((l) => l.path === w.path)) repaired.push(`${modeLine(root, w)}: repaired`);
  for (const w of left) problems.push(modeLine(root, w));
  const checked = new Map<Digest, boolean>();
  /** Check blob `d` (once): present, digest right, size as described. */
  const checkBlob = async (d: Digest, size: number | undefined, what: string): Promise<boolean> => {
    if (!checked.has(d)) {
      const got = await hashBlob(root, d);
      if (!got) problems.push(`${what}: blob ${d} is missing`);
      else if ('damage' in got) problems.push(`${what}: ${got.damage}`);
      else if (got.digest !== d) {
        const isSplit = statSync(blobPath(root, d), { throwIfNoEntry: false }) === undefined;
        const which = isSplit ? `layer ${d} (dir layers/${hexOf(d)} and its tar-split)` : `blob ${d}`;
        problems.push(`${what}: ${which} is corrupt (its content hashes to ${got.digest})`);
      }
      else if (size !== undefined && got.size !== size) problems.push(`${what}: blob ${d} is ${got.size} bytes, its descriptor says ${size}`);
      checked.set(d, !!got && 'digest' in got && got.digest === d);
    }
    return checked.get(d)!;
  };
  try {
    const layout = JSON.parse(await readFile(join(ociDir(root), 'oci-layout'), 'utf8')) as { imageLayoutVersion?: string };
    if (layout.imageLayoutVersion !== '1.0.0') problems.push('oci/oci-layout: imageLayoutVersion is not 1.0.0');
  } catch {
    problems.push('oci/oci-layout is missing or not JSON');
  }
  let entries: Awaited<ReturnType<typeof readEntries>> = [];
  try {
    entries = await readEntries(root);
  } catch (e) {
    problems.push(e instanceof UserError ? e.message : `oci/index.json: ${String(e)}`);
  }
  /** A blob parsed as JSON; undefined (and a problem told as `what DIGEST is not JSON`) otherwise. */
  const jsonBlob = async <T>(d: Digest, what: string): Promise<T | undefined> => {
    try {
      return JSON.parse(await readFile(blobPath(root, d), 'utf8')) as T;
    } catch {
      problems.push(`${what} ${d} is not JSON`);
      return undefined;
    }
  };
  const images = new Set<string>();
  const manifests: { what: string; digest: Digest; size: number; imageId?: Digest }[] = [];
  for (const e of entries) {
    const what = e.name ?? `untagged image ${e.imageId}`;
    images.add(e.imageId);
    if (!e.isIndex) {
      manifests.push({ what, digest: e.manifestDigest, size: e.manifestSize, imageId: e.imageId });
      continue;
    }
    if (!(await checkBlob(e.manifestDigest, e.manifestSize, what))) continue;
    const index = await jsonBlob<ImageIndex>(e.manifestDigest, `${what}: index`);
    // A child the store does not hold is no problem (a pull keeps the platforms it fetched).
    for (const d of index?.manifests ?? []) {
      if (isDigest(d.digest) && existsSync(blobPath(root, d.digest))) manifests.push({ what: `${what} (${[d.platform?.os, d.platform?.architecture, d.platform?.variant].filter(Boolean).join('/')})`, digest: d.digest, size: d.size });
    }
  }
  for (const e of manifests) {
    const what = e.what;
    if (!(await checkBlob(e.digest, e.size, what))) continue;
    const manifest = await jsonBlob<Manifest>(e.digest, `${what}: manifest`);
    if (!manifest) continue;
    const imageId = e.imageId ?? manifest.config?.digest;
    if (manifest.config?.digest !== imageId) problems.push(`${what}: manifest config ${manifest.config?.digest} is not the image id ${imageId}`);
    if (!isDigest(imageId) || !(await checkBlob(imageId, manifest.config?.size, what))) continue;
    const config = await jsonBlob<ImageConfig>(imageId, `${what}: config`);
    if (!config) continue;
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) problems.push(`${what}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids`);
    manifest.layers.forEach((l, i) => {
      if (l.mediaType === MediaType.layerTar && diffIds[i] !== undefined && l.digest !== diffIds[i]) {
        problems.push(`${what}: uncompressed layer ${l.digest} is not its diff_id ${diffIds[i]}`);
      }
    });
    for (const l of manifest.layers) await checkBlob(l.digest, l.size, what);
  }
  for (const n of await listDir(blobsDir(root))) {
    if (!/^[a-f0-9]{64}$/.test(n)) problems.push(`oci/blobs/sha256/${n}: not a blob (partial or stray file)`);
  }
  for (const n of await listDir(layersDir(root))) {
    if (!/^[a-f0-9]{64}$/.test(n)) problems.push(`layers/${n}: not a layer dir (partial or stray)`);
    else if (!(await stat(join(layersDir(root), n))).isDirectory()) problems.push(`layers/${n}: not a directory`);
  }
  for (const n of await listDir(tarSplitDir(root))) {
    if (!/^[a-f0-9]{64}$/.test(n)) problems.push(`tar-split/${n}: not a tar-split (partial or stray file)`);
  }
  return { problems, repaired, images: images.size, blobsChecked: checked.size };
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

