import pLimit from 'p-limit';
import { availableParallelism } from 'node:os';
import { UserError, atRange, unreachable, type Digest } from '../common/index.js';
import { explainMiss, type CopyStep, type ExecStep, type Plan, type Stage, type Step } from '../planner/index.js';
import type { Store, ImageRecord, Descriptor, Lease, BuildInputs, CacheRecord, CacheRecordStore } from '../store/index.js';
import { ConfigEditor, applyConfigEdit } from '../planner/index.js';
import type { ProgressSink } from './progress.js';
import { historyEntry, imageState, scratchState, withStepResult, type StageState } from './stage-state.js';
import { configRunAt, runConfigSteps } from './config-run.js';
import { whileRunning, type RunningSteps } from './running-steps.js';
import { runCopyStep } from './copy-step.js';
import { runExecStep } from './exec-step.js';
import { natProgram, sharedNetwork, type SharedNetwork } from './network.js';
import { withHome } from './exec-home.js';
import { BuildLayerDirs } from './build-layers.js';
import { layerDirs, withRootfsView } from './rootfs-view.js';
import { expectSnapshotter } from './snapshotter.js';
import { cancelled, throwIfCancelled } from './cancel.js';
import { defaultRuntimeSettings, type RuntimeSettings } from './settings.js';
import type { Matcher } from '../context/index.js';
import type { ContextDir } from './mounts.js';
import { plainRemoteSettings, type RemoteSettings } from '../remote/index.js';
import { handleFailedCopy, type FailedStepHandler } from './failed-step.js';
import { withEpochKeys } from './epoch-keys.js';
import { emulatorFor } from './emulation.js';

export interface ExecuteOptions {
  store: Store;
  /** The build context directory (undefined when the Dockerfile came alone on stdin). */
  contextDir: string | undefined;
  /** The context's .dockerignore: ignored files never enter a layer. */
  ignore?: Matcher;
  /** `--build-context` directories by the name steps give (`from: { kind: 'context', name }`). */
  namedContexts?: ReadonlyMap<string, ContextDir>;
  progress: ProgressSink;
  /** Ignore cache records (`--no-cache`), or only for these stages (`--no-cache-filter`). */
  noCache: boolean;
  noCacheStages?: string[];
  /** SOURCE_DATE_EPOCH: fixes `created` and clamps layer mtimes. */
  sourceDateEpoch?: number;
  /** `--label`s applied to the final image. */
  labels: [string, string][];
  /** Names to tag the result with (normalised by the store). */
  names: string[];
  /** Whether the image goes in the store's index (named, or `<none>`); false: its blobs only. Default true. */
  isIndexed?: boolean;
  /** `--annotation`s of the image's manifest. */
  annotations?: Record<string, string>;
  /**
   * Further outputs, written in order once the image is, while the build's lease and layer
   * dirs are still there: `files` writers (`--output type=local|tar`) get a read-only view
   * of the final stage's files (undefined: no layers), `image` writers (`type=oci|docker`)
   * the image record.
   */
  exports?: ExportWriter[];
  /** `--secret id=…`: values by id, for RUN --mount=type=secret. */
  secrets?: ReadonlyMap<string, Uint8Array>;
  /** `--ssh id[=socket]`: agent sockets by id, for RUN --mount=type=ssh. */
  ssh?: ReadonlyMap<string, string>;
  /** The switches of its environment (engine/settings.ts); none set by default. */
  runtime?: RuntimeSettings;
  /** How ADD fetches URL and git sources (proxy, CAs); none set by default. */
  remote?: RemoteSettings;
  /** Aborted (Ctrl-C): the running RUN's container is killed, no further step starts, and the
   * build rejects with the `build-cancelled` UserError (executor/cancel.ts). */
  signal?: AbortSignal;
  /** `build --on-error`: told of a failed RUN (its own state) or COPY/ADD (the state before it)
   * before the build fails; the state is removed once it returns. */
  onFailedStep?: FailedStepHandler;
  /**
   * Shared by the per-platform executions of one multi-platform build: the vertex counter
   * (so progress ids never collide), and the steps running now by cache key, so a step
   * both platforms have (a `FROM --platform=$BUILDPLATFORM` stage) runs once, the other
   * waiting for it and taking its record.
   */
  shared?: SharedExecution;
}

export interface SharedExecution {
  vertices: Vertices;
  running: RunningSteps;
}

/** What the executions of one multi-platform build share. */
export function sharedExecution(): SharedExecution {
  return { vertices: new Vertices(), running: new Map() };
}

/** One output of `exports`; `display` names its vertex (`exporting to client directory`). */
export type ExportWriter =
  /** `sourceDateEpoch`: the build's own (the one its image got), for the times of the files written. */
  | { kind: 'files'; display: string; write(rootfs: string | undefined, sourceDateEpoch: number | undefined): Promise<void> }
  | { kind: 'image'; display: string; write(image: ImageRecord): Promise<void> };

export interface BuildResult {
  image: ImageRecord;
  /** Steps that were cache hits / that ran. */
  cached: number;
  executed: number;
  /** Every step's cache key (what `--cache-to` exports). */
  keys: Digest[];
}

/** Step results are observed by the CLI's progress only; vertex numbers are shared build-wide. */
export class Vertices {
  private next = 1;
  take(): number {
    return this.next++;
  }
}

/**
 * Run a plan: stages in dependency order (independent ones in parallel, bounded by cores),
 * each step from its cache record when there is one, else executed; then write the image.
 */
export async function executeBuild(planned: Plan, opts: ExecuteOptions): Promise<BuildResult> {
  const plan = withEpochKeys(planned, opts.sourceDateEpoch);
  const cache = opts.store.cacheRecords;
  const limit = pLimit(Math.max(1, Math.min(availableParallelism(), 4)));
  const vertices = opts.shared?.vertices ?? new Vertices();
  const results = new Map<number, Promise<StageState>>();
  const dependents = new Set(plan.order.flatMap((i) => plan.stages[i].dependsOn));
  const counts = { cached: 0, executed: 0 };
  // The previous build of the same name, to say why a step missed the cache: read at the
  // first miss (10,000 LABELs' inputs are 2.7 MB of JSON, which a fully cached build needs not).
  let previous: Promise<Map<string, BuildInputs['steps'][number]>> | undefined;
  const previousStep = (position: string) => {
    previous ??= (async () => {
      const last = opts.names.length ? await cache.lastBuild(opts.names[0]) : undefined;
      return new Map((last?.steps ?? []).map((p) => [p.position, p]));
    })();
    return previous.then((steps) => steps.get(position));
  };
  const inputs: BuildInputs = { steps: [] };
  const runtime = opts.runtime ?? defaultRuntimeSettings;
  // Chosen by the first step that needs it, so that the read-only views below steps use it too (rootfs-view.ts).
  expectSnapshotter(opts.store, runtime.snapshotter);
  const layers = new BuildLayerDirs(opts.store, runtime);
  const network = sharedNetwork(runtime);
  // Its NAT starts at the first step not taken from the cache, while that and the next
  // steps run (it takes longer than a trivial RUN); a fully cached build starts none.
  const needsNetwork = plan.order.some((i) => plan.stages[i].steps.some((s) => s.op === 'exec' && s.network === 'default'));
  let isNetworkStarted = false;
  const missed = () => {
    if (!needsNetwork || isNetworkStarted) return;
    isNetworkStarted = true;
    network.netns().catch(() => undefined); // a failure is reported by the step that needs it
  };

  const stageResult = (index: number, lease: Lease): Promise<StageState> => {
    let p = results.get(index);
    if (!p) {
      const stage = plan.stages[index];
      const again = (i: number) => stageResult(i, lease);
      p = Promise.all(stage.dependsOn.map(again)).then(() =>
        limit(() => runStage(stage, { opts, cache, vertices, counts, stageResult: again, previousStep, missed, inputs, lease, dependents, layers, network })),
      );
      results.set(index, p);
    }
    return p;
  };
  for (const w of plan.warnings) opts.progress.warn(w);
  // The lease keeps what this build reuses (base layers, cache hits) from a concurrent prune;
  // what it writes itself is kept because it is newer than the lease.
  const lease = await opts.store.acquireLease();
  try {
    await Promise.all(baseLayers(plan).map((d) => lease.protect(d)));
    return await finishBuild(plan, opts, { cache, inputs, counts, vertices, layers, stageResult: (i) => stageResult(i, lease) });
  } finally {
    network.close();
    await layers.close();
    await lease.release();
  }
}

/** Layer digests of every image a planned stage builds on or copies from. */
function baseLayers(plan: Plan): Digest[] {
  const out: Digest[] = [];
  for (const i of plan.order) {
    const stage = plan.stages[i];
    if (stage.base.kind === 'image') out.push(...stage.base.image.layers.map((l) => l.digest));
    for (const step of stage.steps) {
      if (step.op === 'copy' && step.from.kind === 'image') out.push(...step.from.image.layers.map((l) => l.digest));
    }
  }
  return out;
}

async function finishBuild(
  plan: Plan,
  opts: ExecuteOptions,
  b: {
    cache: CacheRecordStore;
    inputs: BuildInputs;
    counts: { cached: number; executed: number };
    vertices: Vertices;
    layers: BuildLayerDirs;
    stageResult(index: number): Promise<StageState>;
  },
): Promise<BuildResult> {
  const { cache, inputs, counts, vertices } = b;
  const final = await b.stageResult(plan.target);
  const image = await exportImage(final, opts, vertices);
  for (const x of opts.exports ?? []) await exportTo(image, x, opts, b.layers, vertices);
  if (opts.names.length) await cache.recordBuild(opts.names[0], inputs);
  const keys = plan.order.flatMap((i) => plan.stages[i].steps.map((s) => s.cacheKey));
  return { image, ...counts, keys };
}

interface StageContext {
  opts: ExecuteOptions;
  cache: CacheRecordStore;
  vertices: Vertices;
  counts: { cached: number; executed: number };
  stageResult(index: number): Promise<StageState>;
  /** The previous build's step at a position. */
  previousStep(position: string): Promise<BuildInputs['steps'][number] | undefined>;
  /** Called at each step that runs (not taken from the cache). */
  missed(): void;
  inputs: BuildInputs;
  lease: Lease;
  /** Stages another stage builds on or copies from. */
  dependents: Set<number>;
  /** The layer dirs steps read: the build's own (in memory) in front of the store's. */
  layers: BuildLayerDirs;
  network: SharedNetwork;
}

async function initialState(stage: Stage, sc: StageContext): Promise<StageState> {
  switch (stage.base.kind) {
    case 'scratch':
      return scratchState(stage.platform, stage.baseConfig);
    case 'image':
      return imageState(stage.base.image, stage.baseConfig);
    case 'stage': {
      const state = structuredClone(await sc.stageResult(stage.base.stage));
      // Its ONBUILD triggers ran at this FROM (the planner put them first): not carried on.
      if (state.config.config) delete state.config.config.OnBuild;
      return state;
    }
    default:
      return unreachable(stage.base);
  }
}

let lastCreated = { ms: -1, iso: '' };
function createdNow(opts: ExecuteOptions): string {
  if (opts.sourceDateEpoch !== undefined) return new Date(opts.sourceDateEpoch * 1000).toISOString();
  // Steps in the same millisecond share the string (10,000 LABELs: 13 ms of toISOString).
  const ms = Date.now();
  if (ms !== lastCreated.ms) lastCreated = { ms, iso: new Date(ms).toISOString() };
  return lastCreated.iso;
}

async function runStage(stage: Stage, sc: StageContext): Promise<StageState> {
  const { opts } = sc;
  const fromVertex = sc.vertices.take();
  opts.progress.start(fromVertex, stage.fromDisplay);
  const initial = await initialState(stage, sc);
  opts.progress.end(fromVertex, {});
  // The stage owns its config and history from here: each step changes them in place, at
  // the cost of the step, not of the image so far.
  const editor = new ConfigEditor(initial.config.config ?? {});
  let state: StageState = { ...initial, config: { ...initial.config, config: editor.config }, history: [...initial.history] };
  // Whether anything after step i reads this stage's layers as directories.
  let lastWithLayer = -1;
  stage.steps.forEach((s, i) => {
    if (s.op !== 'config') lastWithLayer = i;
  });
  const skipCache = opts.noCache || (stage.name !== undefined && (opts.noCacheStages ?? []).includes(stage.name));

  let firstMiss: string | undefined;
  if (skipCache) sc.missed();
  for (let i = 0; i < stage.steps.length; i++) {
    throwIfCancelled(opts.signal);
    const step = stage.steps[i];
    if (step.op === 'config') {
      // Not shown, and cached as one record with the config steps that follow it.
      const run = configRunAt(stage.steps, i);
      for (let j = 0; j < run.length; j++) sc.inputs.steps.push(stepInputs(run[j], `${stage.index}:${i + j}`));
      state = await runConfigSteps(run, state, {
        cache: sc.cache,
        editor,
        skipCache,
        running: opts.shared?.running,
        createdNow: () => createdNow(opts),
        onMiss: async (s, j) => {
          sc.missed();
          const why = explainMiss(await sc.previousStep(`${stage.index}:${i + j}`), s);
          // Its reason is told at the next shown step it invalidates.
          if (why) firstMiss ??= `${s.createdBy}: ${why}`;
        },
      });
      i += run.length - 1;
      continue;
    }
    const position = `${stage.index}:${i}`;
    sc.inputs.steps.push(stepInputs(step, position));
    const vertex = sc.vertices.take();
    opts.progress.start(vertex, step.display);
    const takeCached = (record: CacheRecord) => {
      state = withStepResult(state, step, record, editor);
      sc.counts.cached++;
      opts.progress.end(vertex, { cached: true });
    };
    const record = skipCache ? undefined : await usableRecord(sc, step);
    if (record) {
      takeCached(record);
      continue;
    }
    sc.missed();
    if (!skipCache) {
      const why = explainMiss(await sc.previousStep(position), step);
      if (why) opts.progress.status(vertex, `cache miss: ${why === EARLIER && firstMiss ? firstMiss : why}`);
      firstMiss = undefined;
    }
    const running = opts.shared?.running.get(step.cacheKey);
    if (running && !skipCache) {
      // Another platform's execution runs this very step: its record serves both.
      await running.catch(() => undefined);
      const shared = await usableRecord(sc, step);
      if (shared) {
        takeCached(shared);
        continue;
      }
    }
    await whileRunning(opts.shared?.running, step.cacheKey, async () => {
      try {
        const layer = await executeStep(step, state, stage, sc, vertex, i < lastWithLayer || sc.dependents.has(stage.index));
        const history = historyEntry(step, createdNow(opts), layer !== undefined);
        const rec: CacheRecord = { key: step.cacheKey, history, keyParts: step.keyParts, ...(layer ? { layer } : {}) };
        await sc.cache.put(rec);
        state = withStepResult(state, step, rec, editor);
        sc.counts.executed++;
        opts.progress.end(vertex, {});
      } catch (e) {
        if (opts.signal?.aborted) throw cancelled(); // said once, by the CLI
        opts.progress.end(vertex, { error: e instanceof UserError ? e.message : String(e) });
        if (step.op === 'copy' && e instanceof UserError && opts.onFailedStep) await failedCopy(state, stage, sc, opts.onFailedStep);
        throw atRange(e, step.origin);
      }
    });
  }
  return state;
}

/** What the next build compares a step with to explain its miss. */
function stepInputs(step: Step, position: string): BuildInputs['steps'][number] {
  return { position, display: step.display, key: step.cacheKey, keyParts: step.keyParts, explain: step.explain };
}

const EARLIER = 'an earlier step changed';

/** A COPY/ADD failed: the handler gets the stage as it was before it. */
async function failedCopy(state: StageState, stage: Stage, sc: StageContext, onFailed: FailedStepHandler): Promise<void> {
  const runtime = sc.opts.runtime ?? defaultRuntimeSettings;
  const netns = await sc.network.netns().catch(() => undefined);
  await handleFailedCopy(state, {
    store: sc.opts.store,
    layers: sc.layers,
    hostname: stage.name ?? 'buildkitsandbox',
    network: 'private',
    ...(netns ? { netns } : { nat: natProgram(runtime) }),
    onFailed,
  });
}

/** A record for the step whose layer blob is still in the store (else it runs again). */
async function usableRecord(sc: StageContext, step: Step): Promise<CacheRecord | undefined> {
  const rec = await sc.cache.get(step.cacheKey);
  if (!rec) return undefined;
  if (rec.layer) {
    // Protect first, then look: a prune between the two cannot take the blob away.
    await sc.lease.protect(rec.layer.digest);
    if (!(await sc.opts.store.hasBlob(rec.layer.digest))) return undefined;
  }
  return rec;
}

async function executeStep(
  step: ExecStep | CopyStep,
  state: StageState,
  stage: Stage,
  sc: StageContext,
  vertex: number,
  primeLayer: boolean,
): Promise<Descriptor | undefined> {
  switch (step.op) {
    case 'copy':
      if (step.missingSource) throw step.missingSource;
      return runCopyStep(step, state, {
        store: sc.opts.store,
        ...contextOf(step.from.kind === 'context' ? step.from.name : undefined, sc.opts),
        sourceDateEpoch: sc.opts.sourceDateEpoch,
        stageResult: sc.stageResult,
        layers: sc.layers,
        primeLayer,
        remote: sc.opts.remote ?? plainRemoteSettings(sc.opts.runtime?.searchPath ?? ''),
        remoteAccess: { sshAgent: sc.opts.ssh?.get('default') },
      });
    case 'exec':
      await emulatorFor(stage.platform, sc.opts.runtime?.binfmtDir);
      return runExecStep(await withHome(step, state, { store: sc.opts.store, layers: sc.layers }), state, {
        store: sc.opts.store,
        sourceDateEpoch: sc.opts.sourceDateEpoch,
        onOutput: (chunk) => sc.opts.progress.log(vertex, chunk),
        hostname: stage.name ?? 'buildkitsandbox',
        contextDir: sc.opts.contextDir,
        ignore: sc.opts.ignore,
        namedContexts: sc.opts.namedContexts,
        stageResult: sc.stageResult,
        secrets: sc.opts.secrets,
        ssh: sc.opts.ssh,
        layers: sc.layers,
        keepLayerDir: primeLayer,
        runtime: sc.opts.runtime ?? defaultRuntimeSettings,
        network: sc.network,
        signal: sc.opts.signal,
        onFailed: sc.opts.onFailedStep,
        // The step ran before (it runs again under --no-cache, or when its blob is gone).
        recordedLayerBytes: await sc.cache.get(step.cacheKey).then((r) => (r ? (r.layer?.size ?? 0) : undefined)),
      });
    default:
      return unreachable(step);
  }
}

/** The directory (and its ignore file) a step's `context` source names: the build context, or a named one. */
function contextOf(name: string | undefined, opts: ExecuteOptions): { contextDir: string | undefined; ignore?: Matcher } {
  if (name === undefined) return { contextDir: opts.contextDir, ignore: opts.ignore };
  const named = opts.namedContexts?.get(name);
  if (!named) throw new Error(`[internal] no build context named ${name}`);
  return { contextDir: named.dir, ignore: named.ignore };
}

/** Write the final image (config + manifest) and name it; shows as the exporting vertex. */
async function exportImage(state: StageState, opts: ExecuteOptions, vertices: Vertices): Promise<ImageRecord> {
  const vertex = vertices.take();
  opts.progress.start(vertex, 'exporting to image');
  let config = state.config.config ?? {};
  if (opts.labels.length) config = applyConfigEdit(config, { field: 'Labels', set: opts.labels });
  const last = state.history[state.history.length - 1]?.created;
  const created = opts.sourceDateEpoch !== undefined ? new Date(opts.sourceDateEpoch * 1000).toISOString() : last ?? createdNow(opts);
  const isIndexed = opts.isIndexed !== false;
  const image = await opts.store.writeImage({
    config: { ...state.config, created, config, history: state.history },
    layers: state.layers,
    names: isIndexed ? opts.names : [],
    annotations: opts.annotations,
    isIndexed,
  });
  opts.progress.status(vertex, `writing image ${image.id} done`);
  if (isIndexed) for (const n of opts.names) opts.progress.status(vertex, `naming to ${n} done`);
  opts.progress.end(vertex, {});
  return image;
}

/** Write one further output: the image's files (one read-only view of its layers), or the image itself. */
async function exportTo(image: ImageRecord, x: ExportWriter, opts: ExecuteOptions, layers: BuildLayerDirs, vertices: Vertices): Promise<void> {
  const vertex = vertices.take();
  opts.progress.start(vertex, x.display);
  try {
    if (x.kind === 'image') await x.write(image);
    else {
      const dirs = await layerDirs(layers, image.manifest.layers, image.config.rootfs.diff_ids);
      await withRootfsView(opts.store, dirs, (root) => x.write(root, opts.sourceDateEpoch));
    }
  } catch (e) {
    opts.progress.end(vertex, { error: e instanceof UserError ? e.message : String(e) });
    throw e;
  }
  opts.progress.end(vertex, {});
}
