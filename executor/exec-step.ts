import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { UserError, unreachable } from '../common/index.js';
import type { ExecStep } from '../planner/index.js';
import type { Matcher } from '../context/index.js';
import type { Store, Descriptor } from '../store/index.js';
import { createCgroup } from './cgroups.js';
import { deviceRules } from './cgroups-limits.js';
import { runContainer } from './container.js';
import { natProgram, type SharedNetwork } from './network.js';
import { tarLayerDescriptor } from './layer-descriptor.js';
import type { BuildLayerDirs, UpperSlot } from './build-layers.js';
import { layerDirs, withRootfsView } from './rootfs-view.js';
import { snapshotDir } from './snapshot.js';
import { chooseSnapshotter } from './snapshotter.js';
import { copyLayers, makeMountTargets } from './copy-rootfs.js';
import { diffCopy, indexTree, type TreeIndex } from './copy-diff.js';
import { CONTAINER_MOUNTS, keepCopyIndex, mountTargets } from './copy-container.js';
import { throwIfCancelled } from './cancel.js';
import { tmpfsBudget } from './memory-budget.js';
import { mountStepPrivate, type StepPrivate } from './step-private.js';
import { isTmpfsFull, mountTmpfs, type MountedTmpfs } from './tmpfs.js';
import type { RuntimeSettings } from './settings.js';
import { UPPER_FULL_HINT, chooseUpperPlace, upperMessages, type UpperHistory } from './upper-place.js';
import type { StageState } from './stage-state.js';
import type { FailedStep, FailedStepHandler } from './failed-step.js';
import { resolveUser } from './user.js';
import { SecretMasker, withMounts, type ContextDir, type MountSources, type PreparedMounts } from './mounts.js';

export interface ExecStepOptions {
  store: Store;
  sourceDateEpoch?: number;
  onOutput(chunk: Uint8Array): void;
  hostname: string;
  /** For RUN --mount (executor/mounts.ts). */
  contextDir?: string;
  stageResult?(index: number): Promise<StageState>;
  secrets?: ReadonlyMap<string, Uint8Array>;
  ssh?: ReadonlyMap<string, string>;
  ignore?: Matcher;
  namedContexts?: ReadonlyMap<string, ContextDir>;
  /** Where this step reads its layers, and keeps its own when a later step reads it. */
  layers: BuildLayerDirs;
  /** A later step reads this layer as a directory: keep the upper dir as the layer's dir. */
  keepLayerDir?: boolean;
  /** The build's switches (where the upper dir lives, the NAT program). */
  runtime: RuntimeSettings;
  /** The build's private network, joined by RUN steps on the default network. */
  network?: SharedNetwork;
  /** Aborted (Ctrl-C): the container is killed and the step throws `cancelled()`. */
  signal?: AbortSignal;
  /** The size of the layer in this step's cache record (0: none), when it has one. */
  recordedLayerBytes?: number;
  /** `build --on-error`: told of a failed command while its upper dir and mounts still exist. */
  onFailed?: FailedStepHandler;
}


/** Last lines of a failed step's output shown under the error. */
const TAIL_LINES = 10;

/** What the upper dir of a step (by cache key) held last time: store memo kind. */
const UPPER_MEMO = 'run-upper';

/**
 * RUN: a throwaway container over the stage's layers with an empty upper dir; the upper
 * dir, turned into a tar, is the step's layer (none when nothing changed). It runs exactly
 * once: where the upper dir lives (memory or disk) is decided before (upper-place.ts).
 */
export async function runExecStep(step: ExecStep, state: StageState, opts: ExecStepOptions): Promise<Descriptor | undefined> {
  const { store } = opts;
  throwIfCancelled(opts.signal);
  const lowers = await layerDirs(opts.layers, state.layers, state.config.rootfs.diff_ids);
  // Even a numeric USER is looked up: its passwd entry gives the gid and groups (Docker's rule).
  const user = await withRootfsView(store, lowers, (root) => resolveUser(step.user || '0', root));
  const recorded = opts.recordedLayerBytes !== undefined ? { layerBytes: opts.recordedLayerBytes } : undefined;
  const seen = (await store.memos.read<UpperHistory>(UPPER_MEMO, step.cacheKey)) ?? recorded;
  const isCopy = (await chooseSnapshotter(store, opts.runtime.snapshotter)).snapshotter === 'copy';
  const place = isCopy ? { place: 'disk' as const } : chooseUpperPlace({
    setting: opts.runtime.runUpper,
    fixedBytes: opts.runtime.runUpperBytes,
    seen,
    roomBytes: tmpfsBudget.room(),
  });
  const tmp = await store.makeTempDir('run-');
  const mountPoint = join(tmp, 'rootfs');
  const empty = join(tmp, 'empty');
  let upper: MountedTmpfs | undefined;
  let slot: UpperSlot | undefined;
  let own: StepPrivate | undefined;
  try {
    await Promise.all([mountPoint, empty].map((d) => mkdir(d)));
    // In the build's layer tmpfs when it has the room the step is expected to need, so that
    // its upper becomes the layer's dir by a rename; else in a tmpfs of its own.
    if (place.place === 'memory' && place.expectedBytes !== undefined) slot = await opts.layers.upperSlot(place.expectedBytes);
    if (place.place === 'memory' && !slot) upper = await mountTmpfs(join(tmp, 'fast'), { name: 'tsbuild-upper', sizeBytes: place.sizeBytes });
    const base = slot?.dir ?? upper?.dir ?? join(tmp, 'disk');
    const upperDir = join(base, 'upper');
    const workDir = join(base, 'work');
    await Promise.all([upperDir, workDir].map((d) => mkdir(d, { recursive: true })));
    own = await mountStepPrivate(tmp, secretSizes(step, opts.secrets));
    const sources: MountSources = {
      store,
      layers: opts.layers,
      contextDir: opts.contextDir,
      stageResult: opts.stageResult ?? (() => Promise.reject(new Error('[internal] RUN --mount from a stage without stageResult'))),
      secrets: opts.secrets ?? new Map(),
      secretsDir: own.secretsDir,
      ssh: opts.ssh ?? new Map(),
      ignore: opts.ignore,
      namedContexts: opts.namedContexts,
    };
    let copyRoot: string | undefined;
    if (isCopy) {
      copyRoot = join(tmp, 'copy');
      await copyLayers(lowers, copyRoot);
    }
    const dirs: RunDirs = { upperDir, workDir, mountPoint, empty, lowers, user, upper: slot?.tmpfs ?? upper, inSlot: slot !== undefined, tmp, etcDir: own.etcDir, state, copyRoot };
    const layer = await withMounts(step, sources, (mounts) => runIn(step, dirs, mounts, opts));
    await store.memos.write(UPPER_MEMO, step.cacheKey, { layerBytes: layer?.size ?? 0 } satisfies UpperHistory);
    return layer;
  } finally {
    await own?.unmount();
    await upper?.unmount();
    await slot?.remove();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Bytes of each secret a step's mounts write as a file. */
function secretSizes(step: ExecStep, secrets: ReadonlyMap<string, Uint8Array> | undefined): number[] {
  return step.mounts.flatMap((m) => (m.type === 'secret' && m.target !== undefined ? [secrets?.get(m.id)?.length ?? 0] : []));
}

/** `env` with `extra` (`K=V`) added, replacing the same names. */
function withEnv(env: string[], extra: string[]): string[] {
  if (extra.length === 0) return env;
  const names = new Set(extra.map((e) => e.slice(0, e.indexOf('=') + 1)));
  return [...env.filter((e) => !names.has(e.slice(0, e.indexOf('=') + 1))), ...extra];
}

interface RunDirs {
  upperDir: string;
  workDir: string;
  /** The tmpfs holding the upper dir; undefined: on the store's disk. */
  upper: MountedTmpfs | undefined;
  /** That tmpfs is the build's own layer tmpfs (BuildLayerDirs.upperSlot), not the step's. */
  inSlot: boolean;
  /** The /etc files' dir on the step's private tmpfs. */
  etcDir: string;
  /** The step's temp dir in the store (for a copy of a tmpfs upper dir). */
  tmp: string;
  mountPoint: string;
  empty: string;
  lowers: string[];
  user: { uid: number; gid: number; groups: number[] };
  /** The stage so far (the layers under the step). */
  state: StageState;
  /** The copy snapshotter: the step's private copy of the layers, its / (no overlay dirs used). */
  copyRoot?: string;
}

/** The failed step as `onFailed` gets it: the container it ran in, its dirs still there. */
function failedStep(
  step: ExecStep,
  dirs: RunDirs,
  mounts: PreparedMounts,
  o: { netns: string | undefined; nat: string | undefined; hostname: string; exitCode: number },
): FailedStep {
  // Binds from the store's temp area (secret files, views of stages, rw copies) end with the step.
  const tempArea = dirname(dirs.tmp);
  const lasting = (source: string) => relative(tempArea, source).startsWith('..');
  return {
    kind: 'run',
    layers: dirs.state.layers,
    config: dirs.state.config,
    lowerDirs: dirs.lowers.length ? [...dirs.lowers].reverse() : [dirs.empty],
    upperDir: dirs.upperDir,
    workDir: dirs.workDir,
    ...(dirs.copyRoot ? { rootDir: dirs.copyRoot } : {}),
    mountPoint: dirs.mountPoint,
    etcDir: dirs.etcDir,
    env: withEnv(step.env, mounts.env),
    cwd: step.cwd,
    userSpec: step.user,
    user: dirs.user,
    hostname: o.hostname,
    network: step.network === 'default' ? 'private' : step.network,
    ...(step.network === 'default' ? (o.netns ? { netns: o.netns } : o.nat ? { nat: o.nat } : {}) : {}),
    security: step.security,
    binds: mounts.binds.map((b) => ({ ...b, lasting: lasting(b.source) })),
    tmpfs: mounts.tmpfs,
    exitCode: o.exitCode,
  };
}

async function runIn(step: ExecStep, dirs: RunDirs, mounts: PreparedMounts, opts: ExecStepOptions): Promise<Descriptor | undefined> {
  const { store } = opts;
  const { upperDir, workDir, mountPoint, empty, lowers, user } = dirs;
  const tail: string[] = [];
  let partial = '';
  const masker = new SecretMasker(mounts.secrets);
  const collect = (raw: Uint8Array) => {
    const chunk = masker.push(raw);
    if (chunk.length === 0) return;
    opts.onOutput(chunk);
    const lines = (partial + Buffer.from(chunk).toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    tail.push(...lines);
    if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
  };
  const netns = step.network === 'default' ? await opts.network?.netns() : undefined;
  // The device filter where the host has one (cgroup v1, or eBPF on v2); nodev mounts hold everywhere.
  // Copy snapshotter: the mount points made now, then what is there recorded, so that the
  // comparison after the command finds only what the command changed.
  let before: TreeIndex | undefined;
  let madeTargets: string[] = [];
  if (dirs.copyRoot) {
    madeTargets = makeMountTargets(dirs.copyRoot, mountTargets(mounts));
    before = indexTree(dirs.copyRoot);
  }
  const cgroup = await createCgroup(`run-${randomBytes(6).toString('hex')}`, { deviceRules: deviceRules() });
  const result = await runContainer(
    {
      rootfs: dirs.copyRoot
        ? { kind: 'dir', path: dirs.copyRoot }
        : { kind: 'overlay', lowerDirs: lowers.length ? [...lowers].reverse() : [empty], upperDir, workDir },
      mountPoint,
      etcDir: dirs.etcDir,
      dieWithParent: true,
      argv: step.argv,
      env: withEnv(step.env, mounts.env),
      cwd: step.cwd,
      user,
      hostname: opts.hostname,
      network: step.network === 'default' ? 'private' : step.network,
      netns,
      ...(step.network === 'default' && !netns ? { nat: natProgram(opts.runtime) } : {}),
      security: step.security,
      tty: false,
      interactive: false,
      binds: mounts.binds,
      tmpfs: mounts.tmpfs,
      ...(dirs.copyRoot ? {} : { tree: { dir: upperDir, out: join(dirs.tmp, 'tree') } }),
      cgroups: cgroup?.dirs,
      deviceFilter: cgroup?.deviceFilter,
    },
    {
      stdin: 'ignore',
      onStdout: collect,
      onStderr: collect,
      signal: opts.signal,
      // Recorded so that the store's next open kills it if this process dies first.
      onStart: ({ pid }) => void store.recordProcess(dirs.tmp, pid).catch(() => undefined),
    },
  )
    .catch((e: unknown) => {
      throwIfCancelled(opts.signal);
      throw e;
    })
    .finally(() => cgroup?.remove().catch(() => undefined)); // the helper removed them; a leftover is swept later
  throwIfCancelled(opts.signal);
  const rest = masker.flush();
  if (rest.length) {
    opts.onOutput(rest);
    partial += Buffer.from(rest).toString('utf8');
  }
  if (partial) tail.push(partial);
  if (dirs.upper && (await isTmpfsFull(dirs.upper))) {
    // Never run again on disk (a RUN runs exactly once); the next build of this step puts
    // its upper dir on disk by itself (upper-place.ts reads this memo).
    await store.memos.write(UPPER_MEMO, step.cacheKey, { filledBytes: dirs.upper.sizeBytes } satisfies UpperHistory);
    throw new UserError('run-upper-full', upperMessages['upper-full'](Math.round(dirs.upper.sizeBytes / 1024 ** 2)), {
      where: step.origin,
      hint: UPPER_FULL_HINT,
      detail: tail.join('\n'),
    });
  }
  const command = step.argv.join(' ');
  if (opts.onFailed && (result.kind === 'signaled' || (result.kind === 'exited' && result.code !== 0))) {
    const exitCode = result.kind === 'exited' ? result.code : 128 + result.signal;
    if (dirs.copyRoot) await keepCopyIndex(dirs.copyRoot, before!, madeTargets);
    await opts.onFailed(failedStep(step, dirs, mounts, { netns, nat: netns ? undefined : natProgram(opts.runtime), hostname: opts.hostname, exitCode }));
  }
  switch (result.kind) {
    case 'exited':
      if (result.code !== 0) {
        throw new UserError('run-failed', `RUN exited with code ${result.code}: ${command}`, {
          where: step.origin,
          detail: tail.join('\n'),
        });
      }
      break;
    case 'signaled':
      throw new UserError('run-failed', `RUN was killed by signal ${result.signal}: ${command}`, {
        where: step.origin,
        detail: tail.join('\n'),
      });
    case 'setup-failed':
      throw new UserError('run-failed', `RUN could not start: ${result.message}`, {
        where: step.origin,
        detail: tail.join('\n'),
      });
    default:
      unreachable(result);
  }
  if (dirs.copyRoot) {
    const copied = await diffCopy(store, dirs.copyRoot, before!, { sourceDateEpoch: opts.sourceDateEpoch, omit: CONTAINER_MOUNTS });
    return copied && tarLayerDescriptor(copied);
  }
  const layer = await snapshotDir(store, upperDir, {
    kind: 'overlay-upper',
    sourceDateEpoch: opts.sourceDateEpoch,
    omit: CONTAINER_MOUNTS,
    treeFile: join(dirs.tmp, 'tree'),
  });
  if (!layer) return undefined;
  // The upper dir is already what extracting the layer would give: keep it as the lower
  // dir of the next steps instead of extracting the tar again ("copy once"). On a tmpfs it
  // is copied into the build's own layer dirs, and only when a later step needs it.
  if (!dirs.upper) await store.adoptLayerDir(layer.diffId, upperDir);
  else if (opts.keepLayerDir) await opts.layers.keep(layer.diffId, { ...layer, ...(dirs.inSlot ? { slot: upperDir } : {}) }, join(dirs.tmp, 'layer'));
  return tarLayerDescriptor(layer);
}
