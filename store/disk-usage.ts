import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../common/index.js';
import { cacheRoots, containerRoots, imageRoots, type Marks } from './gc.js';
import { readEntries } from './index-json.js';
import { listContainers } from './containers.js';
import { readLeases } from './lease.js';

/**
 * `tsbuild system df`: the store's bytes by kind, like `docker system df`. Every inode under
 * the root is counted once, in exactly one row (its path decides which), so the rows add up
 * to `du -sb` of the store. Reclaimable is what a prune could free: for images, those no
 * container uses; for layer dirs, those nothing keeps; the build cache (records, the blobs
 * only they keep, compressed copies made by push and save) and cache mounts wholly
 * (`prune --all`); stopped containers; volumes no container names.
 */

export type UsageKind = 'Images' | 'Containers' | 'Local Volumes' | 'Build Cache' | 'Cache Mounts' | 'Layer Dirs' | 'Store Metadata';

export interface UsageRow {
  type: UsageKind;
  total: number;
  active: number;
  sizeBytes: number;
  reclaimableBytes: number;
}

const ORDER: UsageKind[] = ['Images', 'Containers', 'Local Volumes', 'Build Cache', 'Cache Mounts', 'Layer Dirs', 'Store Metadata'];

/** Apparent bytes of each inode once, as du -sb adds them. */
class InodeCounter {
  private seen = new Set<string>();

  /** The tree at `path` (every inode not counted before). */
  async tree(path: string): Promise<number> {
    const st = await lstat(path, { bigint: true }).catch(() => undefined);
    if (!st) return 0;
    const key = `${st.dev}:${st.ino}`;
    if (this.seen.has(key)) return 0;
    this.seen.add(key);
    let total = Number(st.size);
    if (st.isDirectory()) for (const n of await readdir(path).catch(() => [] as string[])) total += await this.tree(join(path, n));
    return total;
  }

  /** Only the inode at `path` (a directory's own entry). */
  async self(path: string): Promise<number> {
    const st = await lstat(path, { bigint: true }).catch(() => undefined);
    if (!st) return 0;
    const key = `${st.dev}:${st.ino}`;
    if (this.seen.has(key)) return 0;
    this.seen.add(key);
    return Number(st.size);
  }
}

async function names(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

export async function diskUsage(root: string): Promise<UsageRow[]> {
  const rows = new Map<UsageKind, UsageRow>(ORDER.map((type) => [type, { type, total: 0, active: 0, sizeBytes: 0, reclaimableBytes: 0 }]));
  const row = (k: UsageKind) => rows.get(k)!;
  const count = new InodeCounter();

  const images: Marks = { blobs: new Set(), layers: new Set() };
  await imageRoots(root, images);
  const cache: Marks = { blobs: new Set(), layers: new Set() };
  await cacheRoots(root, cache);
  const used: Marks = { blobs: new Set(), layers: new Set() };
  await containerRoots(root, used);
  const leases = await readLeases(root);
  const containers = await listContainers(root);
  const entries = await readEntries(root);

  const imageIds = new Set(entries.map((e) => e.imageId));
  row('Images').total = imageIds.size;
  row('Images').active = [...imageIds].filter((id) => used.blobs.has(id)).length;
  row('Containers').total = containers.length;
  row('Containers').active = containers.filter((c) => c.status.state === 'running').length;
  row('Build Cache').total = (await names(join(root, 'cache', 'records'))).filter((n) => n.endsWith('.json')).length;

  const volumeNames = new Set(containers.flatMap((c) => (c.mounts ?? []).filter((m) => m.type === 'volume' && m.source).map((m) => m.source!)));
  for (const top of await names(root)) {
    const path = join(root, top);
    switch (top) {
      case 'oci':
        row('Store Metadata').sizeBytes += await count.self(path);
        for (const n of await names(path)) {
          if (n !== 'blobs') {
            row('Store Metadata').sizeBytes += await count.tree(join(path, n));
            continue;
          }
          row('Store Metadata').sizeBytes += (await count.self(join(path, n))) + (await count.self(join(path, n, 'sha256')));
          for (const hex of await names(join(path, n, 'sha256'))) {
            const bytes = await count.tree(join(path, n, 'sha256', hex));
            const d = `sha256:${hex}` as Digest;
            if (images.blobs.has(d)) {
              row('Images').sizeBytes += bytes;
              if (!used.blobs.has(d) && !leases.digests.has(d)) row('Images').reclaimableBytes += bytes;
            } else {
              row('Build Cache').sizeBytes += bytes;
              if (!leases.digests.has(d)) row('Build Cache').reclaimableBytes += bytes;
            }
          }
        }
        break;
      case 'layers':
        row('Store Metadata').sizeBytes += await count.self(path);
        for (const hex of await names(path)) {
          const bytes = await count.tree(join(path, hex));
          const r = row('Layer Dirs');
          r.total++;
          r.sizeBytes += bytes;
          const isKept = images.layers.has(hex) || cache.layers.has(hex) || used.layers.has(hex) || leases.digests.has(`sha256:${hex}` as Digest);
          if (isKept) r.active++;
          else r.reclaimableBytes += bytes;
        }
        break;
      case 'containers':
        row('Store Metadata').sizeBytes += await count.self(path);
        for (const id of await names(path)) {
          const bytes = await count.tree(join(path, id));
          row('Containers').sizeBytes += bytes;
          if (containers.find((c) => c.id === id)?.status.state !== 'running') row('Containers').reclaimableBytes += bytes;
        }
        break;
      case 'volumes':
        row('Store Metadata').sizeBytes += await count.self(path);
        for (const name of await names(path)) {
          const bytes = await count.tree(join(path, name));
          const r = row('Local Volumes');
          r.total++;
          r.sizeBytes += bytes;
          if (volumeNames.has(name)) r.active++;
          else r.reclaimableBytes += bytes;
        }
        break;
      case 'cache-mounts': {
        row('Store Metadata').sizeBytes += await count.self(path);
        for (const hex of await names(path)) {
          const bytes = await count.tree(join(path, hex));
          const r = row('Cache Mounts');
          r.total++;
          r.sizeBytes += bytes;
          r.reclaimableBytes += bytes;
        }
        break;
      }
      case 'cache':
      case 'compressed': {
        const bytes = await count.tree(path);
        row('Build Cache').sizeBytes += bytes;
        row('Build Cache').reclaimableBytes += bytes;
        break;
      }
      default:
        row('Store Metadata').sizeBytes += await count.tree(path);
    }
  }
  row('Store Metadata').sizeBytes += await count.self(root);
  return ORDER.map((k) => row(k));
}
