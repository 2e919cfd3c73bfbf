import { lstat, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hexOf, isDigest, type Digest } from '../common/index.js';
import { blobPath, blobsDir } from './blobs.js';
import { CacheRecords } from './cache-records.js';
import { sizesDir } from './content-size.js';
import { readEntries } from './index-json.js';
import { layersDir } from './layers.js';
import { readLeases } from './lease.js';
import { withLock } from './lock.js';
import { removeCacheMounts } from './cache-mounts.js';
import type { ImageConfig, ImageIndex, Manifest } from './oci-types.js';
import { makeTempDir } from './temp.js';
import { tarSplitDir } from './tar-split.js';
import { settleSplitLayers } from './layer-settle.js';
import { layerDirBytes } from './layer-size.js';


/**
 * Garbage collection (`tsbuild prune`): mark everything reachable from the roots, sweep
 * the rest. Roots come from a small list of sources — images (index.json), live leases of
 * running builds, build cache records, containers — so a new kind of root is one more
 * function. Safe while builds run: the sweep holds the `index` lock (no image can be named
 * between mark and sweep), and keeps whatever was written since the oldest live lease.
 * A layer dir is renamed into tmp/ before it is deleted, so no half-deleted lower dir is
 * ever visible under layers/.
 */

export interface Marks {
  /** Blob digests to keep. */
  blobs: Set<Digest>;
  /** Extracted layer dirs (hex of the diff_id) to keep. */
  layers: Set<string>;
}

export type GcRootSource = (root: string, marks: Marks) => Promise<void>;

function markDigest(marks: Marks, d: string): void {
  if (!isDigest(d)) return;
  marks.blobs.add(d);
  marks.layers.add(hexOf(d));
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Every named or untagged image: its manifest, config, layer blobs and layer dirs. */
export const imageRoots: GcRootSource = async (root, marks) => {
  for (const e of await readEntries(root)) {
    marks.blobs.add(e.manifestDigest);
    if (!e.isIndex) {
      marks.blobs.add(e.imageId);
      await markManifest(root, marks, e.manifestDigest);
      continue;
    }
    // An index keeps each child it lists that the store holds (a pulled one may hold some only).
    const index = await readJson<ImageIndex>(blobPath(root, e.manifestDigest));
    for (const d of index?.manifests ?? []) {
      if (!isDigest(d.digest)) continue;
      marks.blobs.add(d.digest);
      await markManifest(root, marks, d.digest);
    }
  }
};

/** One manifest's config, layer blobs and layer dirs. */
async function markManifest(root: string, marks: Marks, digest: Digest): Promise<void> {
  const manifest = await readJson<Manifest>(blobPath(root, digest));
  for (const l of manifest?.layers ?? []) markDigest(marks, l.digest);
  if (!manifest?.config || !isDigest(manifest.config.digest)) return;
  marks.blobs.add(manifest.config.digest);
  const config = await readJson<ImageConfig>(blobPath(root, manifest.config.digest));
  for (const d of config?.rootfs?.diff_ids ?? []) marks.layers.add(hexOf(d));
}

/** Build cache records keep their layer blobs. */
export const cacheRoots: GcRootSource = async (root, marks) => {
  for (const r of await new CacheRecords(root).list()) if (r.layer) markDigest(marks, r.layer.digest);
};

/** Containers keep their lower dirs and their image (which `commit` builds on). */
export const containerRoots: GcRootSource = async (root, marks) => {
  let ids: string[];
  try {
    ids = await readdir(join(root, 'containers'));
  } catch {
    return;
  }
  for (const id of ids) {
    const c = await readJson<{ image?: { id?: string }; lowerDirs?: string[] }>(join(root, 'containers', id, 'config.json'));
    if (!c) continue;
    for (const d of c.lowerDirs ?? []) marks.layers.add(d.split('/').pop() ?? '');
    if (c.image?.id && isDigest(c.image.id)) {
      marks.blobs.add(c.image.id);
      const config = await readJson<ImageConfig>(blobPath(root, c.image.id));
      for (const d of config?.rootfs?.diff_ids ?? []) markDigest(marks, d);
    }
  }
};

export const defaultRootSources: GcRootSource[] = [imageRoots, cacheRoots, containerRoots];

export interface GcOptions {
  /** Drop every build cache record first (`prune --all`). */
  all?: boolean;
  /** Drop the least recently used cache records until what stays takes at most this many bytes. */
  keepStorageBytes?: number;
  /** Drop cache records not used in this many milliseconds (`--filter until=24h`). */
  untilMs?: number;
  /**
   * The gc after a build, in the building process: this process's other builds keep their
   * leases (a manual prune leaves out every lease of its own process).
   */
  isAutomatic?: boolean;
  rootSources?: GcRootSource[];
}

export interface GcResult {
  blobsRemoved: number;
  layersRemoved: number;
  cacheRecordsRemoved: number;
  /** RUN --mount=type=cache dirs dropped (`prune --all` only). */
  cacheMountsRemoved: number;
  reclaimedBytes: number;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function mark(root: string, sources: GcRootSource[], leased: Set<Digest>): Promise<Marks> {
  const marks: Marks = { blobs: new Set(), layers: new Set() };
  for (const source of sources) await source(root, marks);
  for (const d of leased) markDigest(marks, d);
  return marks;
}

/** Mark and sweep the store at `root`. */
export async function collectGarbage(root: string, opts: GcOptions = {}): Promise<GcResult> {
  const sources = opts.rootSources ?? defaultRootSources;
  const result: GcResult = { blobsRemoved: 0, layersRemoved: 0, cacheRecordsRemoved: 0, cacheMountsRemoved: 0, reclaimedBytes: 0 };
  // After a build: nothing to do while the store is under its cap (no lock, no mark).
  if (opts.isAutomatic && opts.keepStorageBytes !== undefined && (await storageBytes(root)) <= opts.keepStorageBytes) return result;
  return withLock(root, 'index', async () => {
    const records = new CacheRecords(root);
    // Replays of cached builds (cli/build-replay.ts) stand for cache records a prune may
    // remove: they go first, so the next build looks at the cache again.
    await rm(join(root, 'cache', 'replay'), { recursive: true, force: true });
    if (opts.all) {
      result.cacheRecordsRemoved = (await records.list()).length;
      await records.removeAll();
      result.cacheMountsRemoved = await removeCacheMounts(root);
    }
    const leases = await readLeases(root, opts.isAutomatic ? { excludeProcessWideOf: process.pid } : { excludePid: process.pid });
    // Anything written since the oldest live lease may belong to a build in progress.
    const youngSinceMs = leases.oldestMs === undefined ? Infinity : leases.oldestMs - 2000;
    const isYoung = async (path: string) => {
      try {
        return (await stat(path)).ctimeMs >= youngSinceMs;
      } catch {
        return true;
      }
    };
    if (opts.untilMs !== undefined && !opts.all) result.cacheRecordsRemoved += await dropUnusedSince(root, Date.now() - opts.untilMs);
    let marks = await mark(root, sources, leases.digests);
    if (opts.keepStorageBytes !== undefined && !opts.all) {
      const r = await trimCache(root, sources, leases.digests, opts.keepStorageBytes, marks);
      marks = r.marks;
      result.cacheRecordsRemoved += r.removed;
    }
    for (const hex of await listDir(blobsDir(root))) {
      if (!/^[a-f0-9]{64}$/.test(hex) || marks.blobs.has(`sha256:${hex}` as Digest)) continue;
      const path = join(blobsDir(root), hex);
      if (await isYoung(path)) continue;
      const size = (await stat(path).catch(() => undefined))?.size ?? 0;
      await rm(path, { force: true });
      await rm(join(sizesDir(root), hex), { force: true });
      result.blobsRemoved++;
      result.reclaimedBytes += size;
    }
    for (const hex of await listDir(layersDir(root))) {
      if (!/^[a-f0-9]{64}$/.test(hex) || marks.layers.has(hex)) continue;
      const path = join(layersDir(root), hex);
      if (await isYoung(path)) continue;
      result.reclaimedBytes += await layerDirBytes(root, hex);
      await rm(join(sizesDir(root), `dir-${hex}`), { force: true });
      const trash = await makeTempDir(root, 'gc');
      // the split first: a split without its dir is a stray, a dir without its split is not
      await rm(join(tarSplitDir(root), hex), { force: true });
      await rename(path, join(trash, hex));
      await rm(trash, { recursive: true, force: true });
      result.layersRemoved++;
    }
    // A split whose dir never got published (a killed extraction) or is gone stands for nothing.
    for (const hex of await listDir(tarSplitDir(root))) {
      const path = join(tarSplitDir(root), hex);
      if (/^[a-f0-9]{64}$/.test(hex) && (await stat(join(layersDir(root), hex)).catch(() => undefined))?.isDirectory()) continue;
      if (await isYoung(path)) continue;
      await rm(path, { force: true });
    }
    // the tars of kept layer dirs go now, after one flush of the filesystem
    await settleSplitLayers(root);
    return result;
  });
}

/** What the cap counts: every blob and every extracted layer dir. */
export async function storageBytes(root: string): Promise<number> {
  let total = 0;
  for (const hex of await listDir(blobsDir(root))) total += (await stat(join(blobsDir(root), hex)).catch(() => undefined))?.size ?? 0;
  for (const hex of await listDir(layersDir(root))) if (/^[a-f0-9]{64}$/.test(hex)) total += await layerDirBytes(root, hex);
  return total;
}

/** Cache records whose last use (mtime: store/cache-records.ts touches a hit) is before `sinceMs`. */
async function dropUnusedSince(root: string, sinceMs: number): Promise<number> {
  const records = new CacheRecords(root);
  let removed = 0;
  for (const r of await records.list()) {
    const st = await stat(recordPath(root, r.key)).catch(() => undefined);
    if (!st || st.mtimeMs >= sinceMs) continue;
    await records.remove(r.key);
    removed++;
  }
  return removed;
}

function recordPath(root: string, key: Digest): string {
  return join(root, 'cache', 'records', `${hexOf(key)}.json`);
}

/** Drop cache records least recently used first until the kept blobs and layers fit in `limit` bytes. */
async function trimCache(
  root: string,
  sources: GcRootSource[],
  leased: Set<Digest>,
  limit: number,
  initial: Marks,
): Promise<{ marks: Marks; removed: number }> {
  const records = new CacheRecords(root);
  const all = await records.list();
  const aged = await Promise.all(
    all.map(async (r) => ({ r, mtimeMs: (await stat(recordPath(root, r.key)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  aged.sort((a, b) => a.mtimeMs - b.mtimeMs);
  const sizeCache = new Map<string, number>();
  const sizeOf = async (marks: Marks) => {
    let total = 0;
    for (const d of marks.blobs) {
      if (!sizeCache.has(d)) sizeCache.set(d, (await stat(blobPath(root, d)).catch(() => undefined))?.size ?? 0);
      total += sizeCache.get(d)!;
    }
    for (const hex of marks.layers) {
      const key = `layer:${hex}`;
      if (!sizeCache.has(key)) sizeCache.set(key, await layerDirBytes(root, hex));
      total += sizeCache.get(key)!;
    }
    return total;
  };
  let marks = initial;
  let removed = 0;
  for (const { r } of aged) {
    if ((await sizeOf(marks)) <= limit) break;
    await records.remove(r.key);
    removed++;
    marks = await mark(root, sources, leased);
  }
  return { marks, removed };
}
