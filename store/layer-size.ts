import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sizesDir } from './content-size.js';
import { layersDir } from './layers.js';
import { writeCacheFile } from './memo.js';

/** Apparent bytes of a tree, each inode once (what `du -sb` reports); 0 when it cannot be read. */
export async function dirBytes(path: string): Promise<number> {
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

/**
 * Bytes of an extracted layer dir, remembered in sizes/dir-<hex>: a layer dir never changes
 * after its rename into place (store/layers.ts), so it is walked once, not at every gc.
 */
export async function layerDirBytes(root: string, hex: string): Promise<number> {
  const memo = join(sizesDir(root), `dir-${hex}`);
  const known = Number(await readFile(memo, 'utf8').catch(() => ''));
  if (Number.isFinite(known) && known > 0) return known;
  const n = await dirBytes(join(layersDir(root), hex));
  if (n > 0) await writeCacheFile(memo, String(n)).catch(() => {});
  return n;
}
