import { readFileSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { digestOf, inUserNamespace, type Digest } from '../common/index.js';
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
/** The setting a build will choose with, when it needs to (`expectSnapshotter`). */
const expected = new Map<string, SnapshotterSetting>();
/** An overlay that mounted in a store is remembered for the boot (memo key: boot, kernel, namespace, filesystem). */
const PROBE_MEMO = 'overlay-probe';

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
 * A build's setting, for the first step that needs a snapshotter to choose with: a build
 * whose steps are all cached never mounts anything, so it does not probe.
 */
export function expectSnapshotter(store: Store, setting: SnapshotterSetting): void {
  if (!chosen.has(store.root)) expected.set(store.root, setting);
}

/**
 * The snapshotter chosen for `store` by the build or run that uses it (chosen now with the
 * build's expected setting, else overlay): for the read-only views made below them (rootfs-view.ts).
 */
export async function snapshotterOf(store: Store): Promise<Snapshotter> {
  const setting = expected.get(store.root);
  const choice = chosen.get(store.root) ?? (setting ? chooseSnapshotter(store, setting) : undefined);
  return (await choice)?.snapshotter ?? 'overlay';
}

/** Mount an overlay with an upper dir as a RUN step does, in the store's temp area, and unmount it (once a boot). */
async function probeOverlay(store: Store): Promise<SnapshotterChoice> {
  const key = probeKey(store.root);
  if (key && (await store.memos.read<string>(PROBE_MEMO, key)) === 'overlay') return { snapshotter: 'overlay', reason: 'an overlay mounted in the store (this boot)' };
  const choice = await mountProbe(store);
  if (key && choice.snapshotter === 'overlay') await store.memos.write(PROBE_MEMO, key, 'overlay').catch(() => undefined);
  return choice;
}

/** What the probe's answer depends on; undefined when it cannot be told (then it is not remembered). */
function probeKey(root: string): Digest | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return digestOf(`${boot}\0${release()}\0${inUserNamespace}\0${statSync(root).dev}`);
  } catch {
    return undefined;
  }
}

async function mountProbe(store: Store): Promise<SnapshotterChoice> {
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
