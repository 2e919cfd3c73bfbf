import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../common/index.js';
import type { GcResult, Store } from '../store/index.js';
import type { Settings } from './settings.js';

/**
 * The cache that cleans itself: after each build, when the store's blobs and layer dirs
 * take more than the cap, cache records go least recently used first until what stays
 * fits (store/gc.ts); images, containers and what a running build leases stay whatever
 * they take. The cap, first found wins:
 *   TSBUILD_GC_KEEP_STORAGE=SIZE|off        (the environment, engine/settings.ts)
 *   <root>/tsbuild.json {"gc": {"keepStorage": "SIZE"}} or {"gc": {"enabled": false}}
 *   min(10% of the store's filesystem, 20 GB)  (BuildKit's default gc policy:
 *   cmd/buildkitd/config/gcpolicy.go, defaultCap and its 10% of the disk)
 */

const DEFAULT_CAP_BYTES = 20 * 1e9;

/** BuildKit's --keep-storage sizes (go-units RAMInBytes): binary units, `512MB` = 512 MiB. */
export function parseStorageSize(s: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(i?b?)$/i.exec(s.trim());
  if (!m) return undefined;
  const power = ['', 'k', 'm', 'g', 't', 'p'].indexOf(m[2].toLowerCase());
  return Math.floor(Number(m[1]) * 1024 ** power);
}

function badSetting(where: string, value: unknown): UserError {
  return new UserError('bad-setting', `${where}: ${JSON.stringify(value)} is not a size like 10GB (or off)`, { where });
}

/** The cap in bytes, or undefined when automatic gc is off. */
export async function gcCapBytes(root: string, settings: Settings): Promise<number | undefined> {
  const env = settings.gcKeepStorage;
  if (env !== undefined) {
    if (env === 'off' || env === 'false') return undefined;
    const n = parseStorageSize(env);
    if (n === undefined) throw badSetting('TSBUILD_GC_KEEP_STORAGE', env);
    return n;
  }
  const file = join(root, 'tsbuild.json');
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text !== undefined) {
    let gc: { keepStorage?: unknown; enabled?: unknown } | undefined;
    try {
      gc = (JSON.parse(text) as { gc?: typeof gc }).gc;
    } catch (e) {
      throw new UserError('bad-setting', `${file}: not JSON: ${(e as Error).message}`, { where: file });
    }
    if (gc?.enabled === false) return undefined;
    if (gc?.keepStorage !== undefined) {
      const n = typeof gc.keepStorage === 'number' ? gc.keepStorage : typeof gc.keepStorage === 'string' ? parseStorageSize(gc.keepStorage) : undefined;
      if (n === undefined || n < 0) throw badSetting(`${file} gc.keepStorage`, gc.keepStorage);
      return n;
    }
  }
  const fs = await statfs(root);
  return Math.min(DEFAULT_CAP_BYTES, Math.floor((fs.blocks * fs.bsize) / 10));
}

/** Run the automatic gc when a cap applies; what it removed, or undefined when it is off. */
export async function autoGc(store: Store, settings: Settings): Promise<GcResult | undefined> {
  const cap = await gcCapBytes(store.root, settings);
  if (cap === undefined) return undefined;
  return store.prune({ keepStorageBytes: cap, isAutomatic: true });
}
