import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import type { RecordFiles } from './contract.js';
import { STORE_DIR_MODE } from './permissions.js';

/**
 * Durable JSON documents the store keeps for other folders (`Store.records`): the folder
 * owns each document's shape, the store only the file `<root>/<kind>/<key>.json` and its
 * atomic, durable write. Names are checked so no caller's kind or key can reach outside
 * its own folder, nor into one the store itself owns.
 */

const KIND = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*$/;
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function recordPath(root: string, storeOwned: ReadonlySet<string>, kind: string, key: string): string {
  if (!KIND.test(kind) || storeOwned.has(kind.split('/')[0])) throw new Error(`[internal] store records: bad kind "${kind}"`);
  if (!KEY.test(key)) throw new Error(`[internal] store records: bad key "${key}"`);
  return join(root, kind, `${key}.json`);
}

/** `storeOwned`: the folders the store itself lays out under `root`; no kind may live there. */
export function recordFiles(root: string, storeOwned: readonly string[]): RecordFiles {
  const owned = new Set(storeOwned);
  return {
    async read(kind, key) {
      const path = recordPath(root, owned, kind, key);
      try {
        return JSON.parse(readFileSync(path, 'utf8')) as unknown;
      } catch {
        return undefined;
      }
    },
    async write(kind, key, value) {
      const path = recordPath(root, owned, kind, key);
      // each level of a kind's folder is owner-only, like the store's own folders
      mkdirSync(join(path, '..'), { recursive: true, mode: STORE_DIR_MODE });
      await writeFileAtomic(path, JSON.stringify(value));
    },
  };
}
