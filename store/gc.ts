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
import type { ImageConfig, Manifest } from './oci-types.js';
import { makeTempDir } from './temp.js';
import { tarSplitDir } from './tar-split.js';
import { settleSplitLayers } from './layer-settle.js';


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
    marks.blobs.add(e.imageId);
    const manifest = await readJson<Manifest>(blobPath(root, e.manifestDigest));
    for (const l of manifest?.layers ?? []) markDigest(marks, l.digest);
    const config = await readJson<ImageConfig>(blobPath(root, e.imageId));
    for (const d of config?.rootfs?.diff_ids ?? []) marks.layers.add(hexOf(d));
  }
};

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
  /** Drop the oldest cache records until what stays takes at most this many bytes. */
  keepStorageBytes?: number;
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

/** Apparent bytes of a tree, each inode once (what `du -sb` reports); 0 when it cannot be read. */
async function dirBytes(path: string): Promise<number> {
  const seen = new Set<string>();
  const walk = async (p: string): Promise<number> => {
    const st = await lstat(p, { bigint: true }).catch(() => undefined);
    if (!st) return 0;
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return 0;
      seen.add(key);
    }
    let total = Number(st.size);
    if (st.isDirectory()) for (const n of await readdir(p).catch(() => [] as string[])) total += await walk(join(p, n));
    return total;
  };
  return walk(path);
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
    const leases = await readLeases(root, { excludePid: process.pid });
    // Anything written since the oldest live lease may belong to a build in progress.
    const youngSinceMs = leases.oldestMs === undefined ? Infinity : leases.oldestMs - 2000;
    const isYoung = async (path: string) => {
      try {
        return (await stat(path)).ctimeMs >= youngSinceMs;
      } catch {
        return true;
      }
    };
    let marks = await mark(root, sources, leases.digests);
    if (opts.keepStorageBytes !== undefined && !opts.all) {
      const r = await trimCache(root, sources, leases.digests, opts.keepStorageBytes, marks);
      marks = r.marks;
      result.cacheRecordsRemoved = r.removed;
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
      result.reclaimedBytes += await dirBytes(path);
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

/** Drop cache records oldest first until the kept blobs and layers fit in `limit` bytes. */
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
    all.map(async (r) => ({ r, mtimeMs: (await stat(join(root, 'cache', 'records', `${hexOf(r.key)}.json`)).catch(() => undefined))?.mtimeMs ?? 0 })),
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
      if (!sizeCache.has(key)) sizeCache.set(key, await dirBytes(join(layersDir(root), hex)));
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
