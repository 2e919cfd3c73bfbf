import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { lstatSync, readdirSync, rmSync, statSync } from 'node:fs';
import type { Store } from '../store/index.js';
import type { ContainerRootfs } from './container.js';
import { copyChanges, diffCopy, indexTree, readTreeIndex, writeTreeIndex, type TreeIndex } from './copy-diff.js';
import { copyLayers, makeMountTargets } from './copy-rootfs.js';
import type { LayerResult } from './layer-writer.js';
import { snapshotDir } from './snapshot.js';

/**
 * A container (`tsbuild run`) under the copy snapshotter (snapshotter.ts): its whole
 * filesystem lives in its layer dir (`upperDir`), a copy of the image made when it is
 * created, and beside it the index of what the copy held then (`upperDir.copy-index`), which
 * commit and diff compare with. A container with no index is an overlay one.
 */
const indexOf = (upperDir: string) => upperDir + '.copy-index';

/** Mount points the helper provides; what it creates for them is not the container's change. */
export const CONTAINER_MOUNTS = ['proc', 'dev', 'sys', 'etc/resolv.conf', 'etc/hosts', 'etc/hostname'];

/**
 * Where the helper mounts something in a container with these binds and tmpfs mounts: what
 * its stub dir provides below an overlay (runtime-helper/rootfs.c build_stub), so the /etc
 * files are bound in a copy exactly where they are over an overlay.
 */
export function mountTargets(mounts: { binds?: { source: string; target: string }[]; tmpfs?: { target: string }[] }): { path: string; isDir: boolean }[] {
  return [
    ...['proc', 'dev', 'sys'].map((path) => ({ path, isDir: true })),
    ...['etc/resolv.conf', 'etc/hosts', 'etc/hostname'].map((path) => ({ path, isDir: false })),
    ...(mounts.binds ?? []).map((b) => ({ path: b.target, isDir: statSync(b.source).isDirectory() })),
    ...(mounts.tmpfs ?? []).map((t) => ({ path: t.target, isDir: true })),
  ];
}

/** Copy the image's layers (top-most first) into `upperDir` with the container's mount points, and keep the index. */
export async function makeCopyRootfs(
  lowerDirs: readonly string[],
  upperDir: string,
  mounts: { binds?: { source: string; target: string }[]; tmpfs?: { target: string }[] },
): Promise<ContainerRootfs> {
  await mkdir(upperDir, { recursive: true });
  await copyLayers([...lowerDirs].reverse(), upperDir);
  makeMountTargets(upperDir, mountTargets(mounts));
  await writeTreeIndex(indexOf(upperDir), indexTree(upperDir));
  return { kind: 'dir', path: upperDir };
}

/**
 * Keep `index` (what `rootDir` held before a command ran) beside it, for adoptCopyRootfs,
 * with the mount points made in it (`madeTargets`), which a kept container does not mount again.
 */
export async function keepCopyIndex(rootDir: string, index: TreeIndex, madeTargets: string[]): Promise<void> {
  await writeTreeIndex(indexOf(rootDir), index);
  await writeFile(indexOf(rootDir) + '.made', madeTargets.map((p) => p + '\0').join(''));
}

/**
 * Make a step's copy (with its kept index) the filesystem of a container whose layer dir is
 * `upperDir` (build --on-error=keep): moved, not copied, so the index's inodes still hold.
 */
export async function adoptCopyRootfs(rootDir: string, upperDir: string): Promise<void> {
  const index = (await readTreeIndex(indexOf(rootDir)))!;
  // The step's mount points, where nothing was written: not the container's (over an
  // overlay they were in the helper's stub); deepest first.
  const made = (await readFile(indexOf(rootDir) + '.made', 'utf8')).split('\0').filter((p) => p !== '');
  for (const rel of made.reverse()) {
    const st = lstatSync(rootDir + '/' + rel, { throwIfNoEntry: false });
    if (!st || (st.isDirectory() ? readdirSync(rootDir + '/' + rel).length > 0 : st.size > 0)) continue;
    rmSync(rootDir + '/' + rel, { recursive: true });
    index.delete(rel);
  }
  await rm(upperDir, { recursive: true, force: true });
  await rename(rootDir, upperDir);
  await writeTreeIndex(indexOf(upperDir), index);
}

/** The container's root as the helper takes it: its copy, or its upper dir over `lowerDirs`. */
export async function containerRootfs(c: { lowerDirs: string[]; upperDir: string; workDir: string }): Promise<ContainerRootfs> {
  if (await readTreeIndex(indexOf(c.upperDir))) return { kind: 'dir', path: c.upperDir };
  return { kind: 'overlay', lowerDirs: c.lowerDirs, upperDir: c.upperDir, workDir: c.workDir };
}

/** Whether the container is a copy (its filesystem is all in `upperDir`). */
export async function isCopyContainer(upperDir: string): Promise<boolean> {
  return (await readTreeIndex(indexOf(upperDir))) !== undefined;
}

/** The container's changes as one layer (commit): from its copy's comparison, or its upper dir. */
export async function containerLayer(store: Store, upperDir: string): Promise<LayerResult | undefined> {
  const before = await readTreeIndex(indexOf(upperDir));
  if (before) return diffCopy(store, upperDir, before, { omit: CONTAINER_MOUNTS });
  return snapshotDir(store, upperDir, { kind: 'overlay-upper' });
}

/** `docker diff` of a copy container; undefined for an overlay one. */
export async function copyContainerChanges(upperDir: string): Promise<{ kind: 'A' | 'C' | 'D'; path: string }[] | undefined> {
  const before = await readTreeIndex(indexOf(upperDir));
  return before && copyChanges(upperDir, before, { omit: CONTAINER_MOUNTS });
}
