import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError, inUserNamespace, type Digest } from '../common/index.js';
import type { Store, Descriptor } from '../store/index.js';
import { mount, unmount } from './mount.js';
import { isCopyContainer } from './copy-container.js';
import { copyLayers } from './copy-rootfs.js';
import { withoutRepeatedLowers } from './overlay-lowers.js';
import { snapshotterOf } from './snapshotter.js';

/** In a user namespace overlay keeps its marks in user.overlay.* xattrs (common/user-namespace.ts). */
const USERXATTR = inUserNamespace ? ',userxattr' : '';

/** Where a step finds layer dirs: the store's, or a build's own in front of them (build-layers.ts). */
export interface LayerDirSource {
  /** The extracted dir of layer `diffId`, whose blob is `blob`. */
  layerDir(diffId: Digest, blob: Descriptor): Promise<string>;
}

/** The extracted directories of an image's layers, bottom-most first. */
export async function layerDirs(source: LayerDirSource, layers: readonly Descriptor[], diffIds: readonly string[]): Promise<string[]> {
  return Promise.all(layers.map((l, i) => source.layerDir(diffIds[i] as Digest, l)));
}

/**
 * Run `fn` with a read-only directory view of a stack of layers (bottom-most first):
 * nothing for no layers, the layer itself for one, else a read-only overlay mount (with the
 * copy snapshotter, a merged copy: `fn` must not write to it either way).
 * Lower dirs are passed relative to their common parent because the mount data is limited
 * to one page (4 KiB): ~60 absolute store paths would not fit.
 */
export async function withRootfsView<T>(
  store: Store,
  dirs: readonly string[],
  fn: (root: string | undefined) => Promise<T>,
): Promise<T> {
  if (dirs.length === 0) return fn(undefined);
  if (dirs.length === 1) return fn(dirs[0]);
  const tmp = await store.makeTempDir('view-');
  const mnt = join(tmp, 'rootfs');
  if ((await snapshotterOf(store)) === 'copy') {
    try {
      await copyLayers(dirs, mnt);
      return await fn(mnt);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  await mkdir(mnt);
  const parent = dirname(dirs[0]);
  const lower = withoutRepeatedLowers([...dirs].reverse())
    .map((d) => (dirname(d) === parent ? basename(d) : d))
    .join(':');
  try {
    await mount('overlay', 'overlay', mnt, `ro,lowerdir=${lower}${USERXATTR}`, { cwd: parent });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new UserError('overlay-mount', `mount a read-only view of ${dirs.length} layers: ${(e as Error).message.trim()}`, {
      hint: 'tsbuild needs root (or a user namespace) and overlayfs to build on top of image layers',
    });
  }
  try {
    return await fn(mnt);
  } finally {
    await unmount(mnt).catch(() => unmount(mnt, { lazy: true }));
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * A container's whole filesystem while it is not running: its layer (`upperDir`) over the
 * image's `lowerDirs` (top-most first), writable when `workDir` is given (the kernel copies
 * up what changes, as in the container), else read-only.
 */
export async function withContainerView<T>(
  store: Store,
  c: { lowerDirs: readonly string[]; upperDir: string; workDir?: string },
  fn: (root: string) => Promise<T>,
): Promise<T> {
  // A copy container's filesystem is all in its layer dir (copy-container.ts).
  if (c.lowerDirs.length === 0 || (await isCopyContainer(c.upperDir))) return fn(c.upperDir);
  if (c.workDir === undefined) return withRootfsView(store, [...c.lowerDirs].reverse().concat(c.upperDir), (root) => fn(root!));
  const tmp = await store.makeTempDir('view-');
  const mnt = join(tmp, 'rootfs');
  await mkdir(mnt);
  const parent = dirname(c.lowerDirs[0]);
  const lower = c.lowerDirs.map((d) => (dirname(d) === parent ? basename(d) : d)).join(':');
  try {
    await mount('overlay', 'overlay', mnt, `lowerdir=${lower},upperdir=${c.upperDir},workdir=${c.workDir}${USERXATTR}`, { cwd: parent });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new UserError('overlay-mount', `mount the container's filesystem: ${(e as Error).message.trim()}`);
  }
  try {
    return await fn(mnt);
  } finally {
    await unmount(mnt).catch(() => unmount(mnt, { lazy: true }));
    await rm(tmp, { recursive: true, force: true });
  }
}
