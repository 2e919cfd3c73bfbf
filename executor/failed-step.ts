import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Descriptor, ImageConfig, Store } from '../store/index.js';
import type { ContainerSpec } from './container.js';
import { copyLayers } from './copy-rootfs.js';
import { keepCopyIndex } from './copy-container.js';
import { indexTree } from './copy-diff.js';
import { layerDirs, withRootfsView, type LayerDirSource } from './rootfs-view.js';
import { snapshotterOf } from './snapshotter.js';
import type { StageState } from './stage-state.js';
import { resolveUser } from './user.js';

/**
 * A failed step's state, handed to the build's caller before it is discarded (`build
 * --on-error`): the rootfs as the failing command left it (its upper dir over the stage's
 * layers), the process settings and the mounts it had. All of it lives only while the
 * handler runs: the step cleans up once the handler returns.
 */
export interface FailedStep {
  /** `run`: the failing RUN's own state; `copy`: the state before the failing COPY/ADD. */
  kind: 'run' | 'copy';
  /** The stage's layers under the step and its image config so far. */
  layers: Descriptor[];
  config: ImageConfig;
  /** Overlay dirs: lower dirs (top-most first), the upper and work dirs as the command left them. */
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  /** The copy snapshotter (snapshotter.ts): the step's private copy, used as / instead of the overlay dirs. */
  rootDir?: string;
  /** An empty dir for the helper's mount point, and the dir for resolv.conf, hosts, hostname. */
  mountPoint: string;
  etcDir: string;
  env: string[];
  cwd: string;
  /** The USER as written (`app`, `1000:1000`), and as resolved from the image's passwd. */
  userSpec: string;
  user: { uid: number; gid: number; groups: number[] };
  hostname: string;
  network: 'private' | 'host' | 'none';
  netns?: string;
  nat?: string;
  security: 'sandbox' | 'insecure';
  /** `lasting`: the source outlives the build (a cache dir, the context); secret files,
   * the agent socket's dir and read-only views of stages are gone with the step. */
  binds: { source: string; target: string; readonly: boolean; lasting: boolean }[];
  tmpfs: { target: string; sizeBytes?: number }[];
  /** The failed command's exit code (128+N: killed by signal N); none for a COPY. */
  exitCode?: number;
}

/** Told of a failed step while its state is still there; the build fails when it returns. */
export type FailedStepHandler = (failed: FailedStep) => Promise<void>;

/** A container running `argv` in a failed step's state (the same overlay, mounts and process settings). */
export function failedStepSpec(failed: FailedStep, argv: string[], o: { tty: boolean; interactive: boolean }): ContainerSpec {
  return {
    rootfs: failed.rootDir
      ? { kind: 'dir', path: failed.rootDir }
      : { kind: 'overlay', lowerDirs: failed.lowerDirs, upperDir: failed.upperDir, workDir: failed.workDir },
    mountPoint: failed.mountPoint,
    etcDir: failed.etcDir,
    dieWithParent: true,
    argv,
    env: failed.env,
    cwd: failed.cwd,
    user: failed.user,
    hostname: failed.hostname,
    network: failed.network,
    ...(failed.netns ? { netns: failed.netns } : {}),
    ...(failed.nat ? { nat: failed.nat } : {}),
    security: failed.security,
    tty: o.tty,
    interactive: o.interactive,
    binds: failed.binds.map(({ source, target, readonly }) => ({ source, target, readonly })),
    tmpfs: failed.tmpfs,
  };
}

/**
 * Hand `onFailed` the stage's state before a failed COPY/ADD: its layers with an empty
 * upper dir, the environment, user and working dir of the image so far. Removed after.
 */
export async function handleFailedCopy(
  state: StageState,
  o: { store: Store; layers: LayerDirSource; hostname: string; network: 'private' | 'host' | 'none'; netns?: string; nat?: string; onFailed: FailedStepHandler },
): Promise<void> {
  const lowers = await layerDirs(o.layers, state.layers, state.config.rootfs.diff_ids);
  const config = state.config.config ?? {};
  const userSpec = config.User ?? '';
  const user = await withRootfsView(o.store, lowers, (root) => resolveUser(userSpec || '0', root));
  const tmp = await o.store.makeTempDir('failed-copy-');
  try {
    const d = { upperDir: join(tmp, 'upper'), workDir: join(tmp, 'work'), mountPoint: join(tmp, 'rootfs'), etcDir: join(tmp, 'etc'), empty: join(tmp, 'empty') };
    await Promise.all(Object.values(d).map((p) => mkdir(p)));
    const rootDir = (await snapshotterOf(o.store)) === 'copy' ? join(tmp, 'copy') : undefined;
    if (rootDir) {
      await copyLayers(lowers, rootDir);
      await keepCopyIndex(rootDir, indexTree(rootDir), []);
    }
    await o.onFailed({
      kind: 'copy',
      layers: state.layers,
      config: state.config,
      lowerDirs: lowers.length ? [...lowers].reverse() : [d.empty],
      upperDir: d.upperDir,
      workDir: d.workDir,
      ...(rootDir ? { rootDir } : {}),
      mountPoint: d.mountPoint,
      etcDir: d.etcDir,
      env: config.Env ?? [],
      cwd: config.WorkingDir || '/',
      userSpec,
      user,
      hostname: o.hostname,
      network: o.network,
      ...(o.netns ? { netns: o.netns } : o.nat ? { nat: o.nat } : {}),
      security: 'sandbox',
      binds: [],
      tmpfs: [],
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
