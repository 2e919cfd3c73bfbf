/**
 * `docker diff`: what a container changed in its filesystem since it started from the
 * image — its own layer (the overlay upper dir) read against the image's: `A` added,
 * `C` changed (a file replaced, a directory with changes below), `D` deleted (a whiteout).
 * An opaque directory (`trusted.overlay.opaque=y`: removed and made again, `rm -rf d; mkdir d`)
 * hides all the image had below it: those entries are `D` unless the upper has them again,
 * as a comparison of the two trees shows it (moby pkg/archive/changes.go, ChangesDirs).
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { getXattrs, type Store, type XattrMap } from '../store/index.js';
import { findContainer } from './containers.js';
import type { CallOptions } from './images.js';
import { openStoreOf } from './store-option.js';
import { settingsFromEnv } from './settings.js';

export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

interface Walk {
  upper: string;
  xattrs: XattrMap;
  out: Change[];
}

async function walk(w: Walk, image: string | undefined, rel: string): Promise<void> {
  const names = (await readdir(join(w.upper, rel))).sort();
  for (const name of names) {
    const path = `${rel}/${name}`;
    const s = await lstat(join(w.upper, path));
    if (s.isCharacterDevice() && s.rdev === 0) {
      w.out.push({ kind: 'D', path }); // overlay's whiteout
      continue;
    }
    const before = image ? await lstat(join(image, path)).catch(() => undefined) : undefined;
    w.out.push({ kind: before ? 'C' : 'A', path });
    if (!s.isDirectory()) continue;
    const opaque = w.xattrs.get(join(w.upper, path))?.['trusted.overlay.opaque']?.toString() === 'y';
    if (opaque && before?.isDirectory()) await hidden(w, image!, path, new Set(await readdir(join(w.upper, path))));
    await walk(w, before?.isDirectory() ? image : undefined, path);
  }
}

/** Below an opaque dir: what the image had there and the upper has not is deleted. */
async function hidden(w: Walk, image: string, rel: string, kept: Set<string>): Promise<void> {
  for (const name of await readdir(join(image, rel))) if (!kept.has(name)) w.out.push({ kind: 'D', path: `${rel}/${name}` });
}

/** The changes, sorted by path as Docker lists them. */
export async function containerChanges(o: CallOptions & { container: string }): Promise<Change[]> {
  const store: Store = await openStoreOf(o.store, o.settings ?? settingsFromEnv(process.env));
  const c = await findContainer(store, o.container);
  const { withRootfsView, copyContainerChanges } = await import('../executor/index.js');
  const upper = store.containers.paths(c.id).upperDir;
  // A copy container (executor/copy-container.ts) is compared with the index of its copy instead.
  const copied = await copyContainerChanges(upper);
  const out: Change[] = copied ?? [];
  const xattrs = copied ? new Map() : await getXattrs(upper, { recursive: true });
  if (!copied) await withRootfsView(store, [...c.lowerDirs].reverse(), (image) => walk({ upper, xattrs, out }, image, ''));
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
