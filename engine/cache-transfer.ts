import type { Digest } from '../common/index.js';
import type { ClientOptions } from '../registry/index.js';
import { exportCacheLocal, importCacheLocal, type Store } from '../store/index.js';

/** A `--cache-to` / `--cache-from` target, as BuildKit spells them: a registry ref or a local dir. */
export type CacheSpec = { type: 'registry'; ref: string } | { type: 'local'; dir: string };

interface TransferOptions {
  registry: ClientOptions;
  progress: (line: string) => void;
}

/** `--cache-from`: bring cache records (and their layers) into the store before planning. */
export async function importCaches(store: Store, specs: CacheSpec[], o: TransferOptions): Promise<void> {
  for (const spec of specs) {
    switch (spec.type) {
      case 'local': {
        await importCacheLocal(store, spec.dir);
        await store.cacheMounts.importLocal(spec.dir);
        break;
      }
      case 'registry': {
        const { importCache } = await import('../registry/index.js');
        await importCache(store, spec.ref, { ...o.registry, progress: o.progress });
        break;
      }
    }
  }
}

/** `--cache-to`: export the records of this build's steps (and its cache mounts). */
export async function exportCaches(store: Store, specs: CacheSpec[], o: TransferOptions & { keys: Digest[]; mountIds: string[] }): Promise<void> {
  for (const spec of specs) {
    switch (spec.type) {
      case 'local': {
        await exportCacheLocal(store, spec.dir, o.keys);
        await store.cacheMounts.exportLocal(spec.dir, o.mountIds);
        break;
      }
      case 'registry': {
        const { exportCache } = await import('../registry/index.js');
        await exportCache(store, spec.ref, { ...o.registry, keys: o.keys, mountIds: o.mountIds, progress: o.progress });
        break;
      }
    }
  }
}
