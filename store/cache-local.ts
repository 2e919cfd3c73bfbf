import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UserError, hexOf, isDigest, type Digest } from '../common/index.js';
import { writeFileAtomic } from './atomic.js';
import type { CacheRecord } from './cache-records.js';
import type { Store } from './contract.js';

/**
 * Build cache in a plain folder (`--cache-to type=local,dest=DIR`,
 * `--cache-from type=local,src=DIR`): `records/<key hex>.json` and the layers they point at
 * as `blobs/sha256/<hex>` (uncompressed tar, digest == diff_id). Import verifies every blob
 * against its digest before the record that points at it is written.
 */
export async function exportCacheLocal(store: Store, dir: string, keys: Digest[]): Promise<{ records: number }> {
  const cache = store.cacheRecords;
  await mkdir(join(dir, 'records'), { recursive: true });
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  let n = 0;
  for (const key of new Set(keys)) {
    const rec = await cache.get(key);
    if (!rec) continue;
    if (rec.layer) {
      const target = join(dir, 'blobs', 'sha256', hexOf(rec.layer.digest));
      const exists = await stat(target).then(() => true, () => false);
      if (!exists) {
        const tmp = `${target}.tmp-${process.pid}`;
        await pipeline(store.openBlob(rec.layer.digest), createWriteStream(tmp));
        await rename(tmp, target);
      }
    }
    await writeFileAtomic(join(dir, 'records', `${hexOf(key)}.json`), JSON.stringify(rec));
    n++;
  }
  return { records: n };
}

export async function importCacheLocal(store: Store, dir: string): Promise<{ records: number }> {
  const cache = store.cacheRecords;
  let names: string[];
  try {
    names = await readdir(join(dir, 'records'));
  } catch {
    throw new UserError('cache-from-missing', `cache source ${dir} has no records folder`, { where: dir });
  }
  let n = 0;
  for (const name of names.filter((x) => x.endsWith('.json'))) {
    const rec = JSON.parse(await readFile(join(dir, 'records', name), 'utf8')) as CacheRecord;
    if (!isDigest(rec.key) || `${hexOf(rec.key)}.json` !== name) continue;
    if (rec.layer && !(await store.hasBlob(rec.layer.digest))) {
      const w = store.blobWriter({ expected: rec.layer.digest });
      try {
        await pipeline(createReadStream(join(dir, 'blobs', 'sha256', hexOf(rec.layer.digest))), w.stream);
        await w.commit();
      } catch (e) {
        await w.abort();
        throw new UserError('cache-from-corrupt', `cache source ${dir}: layer ${rec.layer.digest} is missing or damaged`, {
          where: dir,
          detail: (e as Error).message,
        });
      }
    }
    await cache.put(rec);
    n++;
  }
  return { records: n };
}
