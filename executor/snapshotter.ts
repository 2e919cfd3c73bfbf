import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { inUserNamespace } from '../common/index.js';
import type { Store } from '../store/index.js';
import { mount, unmount } from './mount.js';

/**
 * How a RUN step (and a container) gets a writable root over an image's layers: an overlay
 * mount whose upper dir is the step's layer, or a private copy of the layers compared with
 * them afterwards (copy-rootfs.ts, copy-diff.ts) where overlay cannot be mounted — rootless
 * on a kernel before 5.11, or a store on a filesystem overlay refuses as an upper dir (an
 * overlayfs itself, as in a container without a volume). `auto` tries overlay once per store.
 */
export type SnapshotterSetting = 'auto' | 'overlay' | 'copy';
export type Snapshotter = 'overlay' | 'copy';

export interface SnapshotterChoice {
  snapshotter: Snapshotter;
  /** Why: forced by the setting, or the probe's mount error. */
  reason: string;
}

/** The choice per store root: made once per process, since the answer depends on the kernel and the store's filesystem. */
const chosen = new Map<string, Promise<SnapshotterChoice>>();

/** In a user namespace overlay keeps its marks in user.overlay.* xattrs (common/user-namespace.ts). */
const USERXATTR = inUserNamespace ? ',userxattr' : '';

/** The snapshotter for `store`: the setting when it names one, else what a real overlay mount in the store's temp area says. */
export function chooseSnapshotter(store: Store, setting: SnapshotterSetting): Promise<SnapshotterChoice> {
  const key = `${store.root}\0${setting}`;
  let p = chosen.get(key);
  if (!p) {
    p = setting === 'auto' ? probeOverlay(store) : Promise.resolve({ snapshotter: setting, reason: 'TSBUILD_SNAPSHOTTER' });
    chosen.set(key, p);
    chosen.set(store.root, p);
  }
  return p;
}

/**
 * The snapshotter already chosen for `store` by the build or run that uses it (overlay when
 * none was chosen): for the read-only views made below them (rootfs-view.ts).
 */
export async function snapshotterOf(store: Store): Promise<Snapshotter> {
  return (await chosen.get(store.root))?.snapshotter ?? 'overlay';
}

/** Mount an overlay with an upper dir as a RUN step does, in the store's temp area, and unmount it. */
async function probeOverlay(store: Store): Promise<SnapshotterChoice> {
  const tmp = await store.makeTempDir('overlay-probe-');
  try {
    await Promise.all(['l1', 'l2', 'u', 'w', 'm'].map((d) => mkdir(join(tmp, d))));
    try {
      await mount('overlay', 'overlay', join(tmp, 'm'), `lowerdir=l2:l1,upperdir=u,workdir=w${USERXATTR}`, { cwd: tmp });
    } catch (e) {
      return { snapshotter: 'copy', reason: (e as Error).message.trim() };
    }
    await unmount(join(tmp, 'm')).catch(() => unmount(join(tmp, 'm'), { lazy: true }));
    return { snapshotter: 'overlay', reason: 'an overlay mounts in the store' };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
