/**
 * `docker diff`: what a container changed in its filesystem since it started from the
 * image — its own layer (the overlay upper dir) read against the image's: `A` added,
 * `C` changed (a file replaced, a directory with changes below), `D` deleted (a whiteout).
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../store/index.js';
import { findContainer } from './containers.js';
import type { CallOptions } from './images.js';
import { openStoreOf } from './store-option.js';
import { settingsFromEnv } from './settings.js';

export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

async function walk(upper: string, image: string | undefined, rel: string, out: Change[]): Promise<void> {
  for (const name of (await readdir(join(upper, rel))).sort()) {
    const path = `${rel}/${name}`;
    const s = await lstat(join(upper, path));
    if (s.isCharacterDevice() && s.rdev === 0) {
      out.push({ kind: 'D', path }); // overlay's whiteout
      continue;
    }
    const before = image ? await lstat(join(image, path)).catch(() => undefined) : undefined;
    out.push({ kind: before ? 'C' : 'A', path });
    if (s.isDirectory()) await walk(upper, before?.isDirectory() ? image : undefined, path, out);
  }
}

/** The changes, sorted by path as Docker lists them. */
export async function containerChanges(o: CallOptions & { container: string }): Promise<Change[]> {
  const store: Store = await openStoreOf(o.store, o.settings ?? settingsFromEnv(process.env));
  const c = await findContainer(store, o.container);
  const { withRootfsView } = await import('../executor/index.js');
  const out: Change[] = [];
  await withRootfsView(store, [...c.lowerDirs].reverse(), (image) => walk(store.containers.paths(c.id).upperDir, image, '', out));
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
