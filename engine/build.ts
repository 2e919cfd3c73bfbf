import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError, formatPlatform, hostPlatform, parsePlatformList, type Digest, type Platform, type SourceRange } from '../common/index.js';
import type { CheckWarning, Entitlement, LintResults, Outline, Plan, TargetList } from '../planner/index.js';
import type { ExecuteOptions } from '../executor/index.js';
import { normaliseName, type ImageRecord, type Store } from '../store/index.js';
import { Job, linesOf, sinkOf, type ProgressEvent } from './events.js';
import { parseDockerfile, readDockerfile } from './dockerfile.js';
import { resolveBaseImage } from './base-image.js';
import { checkDockerfile, checkFailure, lintResults, syntaxWarning } from './build-checks.js';
import { exportCaches, importCaches, type CacheSpec } from './cache-transfer.js';
import { openStoreOf, type StoreOption } from './store-option.js';
import { settingsFromEnv, type Settings } from './settings.js';
import { coresOf } from './compression.js';
import { autoGc } from './gc-policy.js';
import { planOutputs, type Annotation, type BuildOutput } from './outputs.js';
import { prepareBuildContexts, type BuildContextSource } from './build-contexts.js';
import { resolveRemote } from '../remote/index.js';
import { failedStepHandler, withFailedStepHint, type OnError } from './failed-step.js';

/** What to build, as `tsbuild build` takes it (the CLI parses argv into this once). */
export interface BuildOptions {
  /** The build context directory; undefined with `dockerfile: { text }` for a Dockerfile alone. */
  context?: string;
  /** The Dockerfile: a path (relative to `cwd`; default `<context>/Dockerfile`), or its text. */
  dockerfile?: string | { text: string; path?: string };
  /** Names for the image (`app`, `localhost:5000/app:1`). */
  tags?: string[];
  buildArgs?: Record<string, string>;
  target?: string;
  /** Ignore the cache: everything, or the named stages. */
  noCache?: boolean;
  noCacheFilter?: string[];
  /** Pull every base image, even one the store has. */
  pull?: boolean;
  network?: 'default' | 'host' | 'none';
  labels?: Record<string, string>;
  /**
   * `--platform`: one or a comma list (`linux/amd64,linux/arm64,linux/arm/v7`, `local`);
   * default the host's. Several make an image index, one manifest per platform, in this order.
   */
  platform?: string;
  /** Push every tag when the build is done (`--push`: the image outputs push, or one is added). */
  push?: boolean;
  /** Where the result goes (`--output`); default the image in the store, named `tags`. */
  outputs?: BuildOutput[];
  /** Layer chunks compressed at once by oci outputs and pushes (default: the settings', else every core). */
  cores?: number;
  /** `--annotation`s of the image's manifest or its descriptor (engine/outputs.ts). */
  annotations?: Annotation[];
  /** `--build-context NAME=…`: what a stage, `FROM`, `--from` or `from=` of that name stands for. */
  buildContexts?: Record<string, BuildContextSource>;
  cacheFrom?: CacheSpec[];
  cacheTo?: CacheSpec[];
  /** RUN --mount=type=secret values by id. */
  secrets?: Record<string, Uint8Array | string>;
  /** RUN --mount=type=ssh agent sockets by id. */
  ssh?: Record<string, string>;
  /** What a RUN may ask beyond the sandbox. */
  allow?: Entitlement[];
  /** The store: an open one, or its root; default the settings' root. */
  store?: StoreOption;
  /** Environment switches; default from process.env (engine/settings.ts). */
  settings?: Settings;
  /** Relative paths are relative to this; default process.cwd(). */
  cwd?: string;
  /** Abort to cancel: the running step is stopped and the build rejects with `build-cancelled`. */
  signal?: AbortSignal;
  /** A failed RUN: fail (default), open an interactive shell in its state on the caller's
   * terminal (`shell`), or keep its state as a stopped container (`keep`). */
  onError?: OnError;
  /** Told of everything the build reads besides the store (the CLI's replay records it). */
  inputs?: InputObserver;
  /**
   * buildx's `--call`: `build` (the default), or a frontend subrequest that builds nothing:
   * `check` (the build checks), `outline` (the args, secrets and ssh a target uses),
   * `targets` (the stages).
   */
  call?: Call;
}

export type Call = 'build' | 'check' | 'outline' | 'targets';

/** What a build read, for a caller that wants to know when its result may change. */
export interface InputObserver {
  /** A path the context walk lstat'ed, and what it saw (undefined: not there). */
  lstat?(path: string, st: Stats | undefined): void;
  /** A path read following symlinks (the Dockerfile, an ignore file, the context directory). */
  stat?(path: string): void;
  /** A path whose real path the build depends on (the context directory). */
  realPath?(path: string): void;
  /** Something was fetched from a registry: a rerun would not repeat it. */
  pulled?(): void;
  /** An ADD URL or git source was asked what it holds: a rerun must ask again. */
  fetched?(): void;
}

export interface BuildResult {
  /** The image id: its config digest. */
  imageId: Digest;
  image: ImageRecord;
  /** The normalised names it was tagged with in the store (none when no output is the store). */
  names: string[];
  /** Steps from the cache / steps that ran. */
  cached: number;
  executed: number;
  /** The build checks' warnings (also sent as a `checks` progress event). */
  warnings: CheckWarning[];
}

/** What a `call` other than `build` returns: BuildKit's subrequest result, as data. */
export type CallResult =
  | { call: 'check'; result: LintResults; warnings: CheckWarning[]; /** 1 when there is a warning (result.statuscode). */ exitCode: 0 | 1 }
  | { call: 'outline'; result: Outline }
  | { call: 'targets'; result: TargetList };

export const buildMessages = {
  'context-missing': (path: string) => `unable to prepare context: path "${path}" not found`,
  'unsupported-os': (p: string) => `platform "${p}" is not supported: tsbuild builds linux images`,
} satisfies Record<string, (...args: never[]) => string>;

/** `--platform` as a list of platforms to build, the host's by default. */
function platformsOf(value: string | undefined): Platform[] {
  const list = value === undefined || value === '' ? [hostPlatform()] : parsePlatformList(value);
  for (const p of list) if (p.os !== 'linux') throw new UserError('unsupported-os', buildMessages['unsupported-os'](formatPlatform(p)), { where: '--platform', exitCode: 1 });
  return list;
}

/** The cache mount ids a plan's RUN steps use (what `--cache-to` exports). */
function cacheMountIds(plan: Plan): string[] {
  const ids = new Set<string>();
  for (const stage of plan.stages) {
    if (!stage) continue;
    for (const step of stage.steps) if (step.op === 'exec') for (const m of step.mounts ?? []) if (m.type === 'cache' && m.id) ids.add(m.id);
  }
  return [...ids];
}

/** Where the Dockerfile comes from and what the context is. */
async function sources(o: BuildOptions, cwd: string): Promise<{ contextDir?: string; path: string; text: string }> {
  const df = o.dockerfile;
  if (o.context === undefined) {
    if (typeof df !== 'object') throw new UserError('usage', 'a build without a context needs the Dockerfile text', { exitCode: 2 });
    return { path: df.path ?? 'Dockerfile', text: df.text };
  }
  const contextDir = resolve(cwd, o.context);
  const st = await stat(contextDir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UserError('context-missing', buildMessages['context-missing'](o.context), { where: o.context });
  o.inputs?.stat?.(contextDir);
  o.inputs?.realPath?.(contextDir);
  if (typeof df === 'object') return { contextDir, path: df.path ?? join(contextDir, 'Dockerfile'), text: df.text };
  const path = df ? (isAbsolute(df) ? df : resolve(cwd, df)) : join(contextDir, 'Dockerfile');
  const text = await readDockerfile(path, df ?? join(o.context, 'Dockerfile'));
  o.inputs?.stat?.(path);
  return { contextDir, path, text };
}

/** Build an image from a Dockerfile and a context: the engine's main call; with `call`, a subrequest. */
export function build(options: BuildOptions & { call?: 'build' }): Job<BuildResult>;
export function build(options: BuildOptions): Job<BuildResult | CallResult>;
export function build(options: BuildOptions): Job<BuildResult | CallResult> {
  return new Job((emit) => buildImage(options, emit));
}

async function buildImage(o: BuildOptions, emit: (e: ProgressEvent) => void): Promise<BuildResult | CallResult> {
  const settings = o.settings ?? settingsFromEnv(process.env);
  const cwd = o.cwd ?? process.cwd();
  const src = await sources(o, cwd);
  const tags = (o.tags ?? []).map((t) => normaliseName(t));
  const platforms = platformsOf(o.platform);
  const platform = platforms[0];
  const store: Store = await openStoreOf(o.store, settings);
  const parsed = await parseDockerfile(store, src.text, src.path);
  const { instructions, escape } = parsed;
  const frontend = syntaxWarning(parsed.raw.directives.syntax);
  if (frontend) emit({ type: 'warning', text: frontend });
  const { planBuild, outlineOf, listTargets } = await import('../planner/index.js');
  const buildArgs = new Map(Object.entries(o.buildArgs ?? {}));
  if (o.call === 'outline') return { call: 'outline', result: outlineOf(parsed.raw, instructions, src.text, { buildArgs, target: o.target, platform }) };
  if (o.call === 'targets') return { call: 'targets', result: listTargets(parsed.raw, instructions, src.text) };
  const { makeContentHasher } = await import('../context/index.js');
  const hasher = await makeContentHasher(store, src.contextDir, src.path, o.inputs?.lstat);
  for (const f of hasher.ignoreCandidates) o.inputs?.stat?.(f);
  const message = linesOf(emit);
  const resolveImage = (ref: string, where: SourceRange, forPlatform: Platform = platform) =>
    resolveBaseImage(store, ref, {
      where,
      platform: forPlatform,
      pull: o.pull,
      registry: settings.registry,
      progress: (line) => {
        o.inputs?.pulled?.();
        message(line);
      },
    });
  const named = await prepareBuildContexts(store, o.buildContexts ?? {}, {
    cwd,
    resolveImage,
    makeHasher: (dir, what) => makeContentHasher(store, dir, null, o.inputs?.lstat, what),
    remote: settings.remote,
    access: { sshAgent: o.ssh?.default },
    fetched: () => o.inputs?.fetched?.(),
  });
  try {
    if (o.call === 'check') {
      const checks = await checkDockerfile(parsed, {
        buildArgs,
        target: o.target,
        platform,
        ignore: hasher.ignore,
        resolve: async (name, where) => {
          const c = (await resolveImage(name, where)).config;
          return { env: c.config?.Env ?? [], shell: c.config?.Shell, os: c.os, architecture: c.architecture };
        },
      });
      emit({ type: 'checks', warnings: checks.warnings });
      return { call: 'check', result: lintResults(checks.warnings, src.path, src.text), warnings: checks.warnings, exitCode: checks.warnings.length ? 1 : 0 };
    }
    const outputs = await planOutputs(o.outputs, {
      store,
      tags,
      push: o.push === true,
      annotations: o.annotations ?? [],
      cwd,
      platforms,
      cores: coresOf(o.cores, settings),
    });
    await importCaches(store, o.cacheFrom ?? [], { registry: settings.registry, progress: message });
    // One plan per platform; a stage that is the same in several (FROM --platform=$BUILDPLATFORM)
    // gets the same keys in each and runs once (executor: shared).
    const plans: Plan[] = [];
    for (const p of platforms) {
      plans.push(
        await planBuild(instructions, {
          buildArgs,
          target: o.target,
          platform: p,
          buildPlatform: hostPlatform(),
          showsPlatform: platforms.length > 1,
          escape,
          file: src.path,
          network: o.network ?? 'default',
          entitlements: new Set(o.allow ?? []),
          resolveImage,
          hashContext: hasher.hash,
          deferMissingSources: (o.onError ?? 'fail') !== 'fail',
          namedContext: named.resolve,
          resolveRemote: (source, flags) => {
            o.inputs?.fetched?.();
            return resolveRemote(store, source, flags, settings.remote, { sshAgent: o.ssh?.default });
          },
        }),
      );
    }
    const plan = plans[0];
    const checks = await checkDockerfile(parsed, { buildArgs, target: o.target, platform, ignore: hasher.ignore, plan });
    emit({ type: 'checks', warnings: checks.warnings });
    const failed = checkFailure(checks, src.path);
    if (failed) throw failed;
    const { executeBuild } = await import('../executor/index.js');
    const { executePlatforms } = await import('./multi-platform.js');
    const onError = o.onError ?? 'fail';
    const onFailed = onError === 'fail' ? undefined : failedStepHandler(onError, store, message);
    const execOptions: ExecuteOptions = {
      store,
      contextDir: src.contextDir,
      ignore: hasher.ignore,
      namedContexts: named.dirs,
      progress: sinkOf(emit),
      noCache: o.noCache === true,
      noCacheStages: o.noCacheFilter ?? [],
      // A --build-arg wins over the environment (buildx passes that as a build arg), which wins over an ARG default.
      sourceDateEpoch: buildArgs.has('SOURCE_DATE_EPOCH') ? plan.sourceDateEpoch : (settings.sourceDateEpoch ?? plan.sourceDateEpoch),
      labels: Object.entries(o.labels ?? {}),
      names: outputs.isIndexed ? outputs.names : tags,
      isIndexed: outputs.isIndexed,
      annotations: outputs.manifestAnnotations,
      exports: outputs.exports,
      secrets: new Map(Object.entries(o.secrets ?? {}).map(([id, v]) => [id, typeof v === 'string' ? Buffer.from(v, 'utf8') : v])),
      ssh: new Map(Object.entries(o.ssh ?? {})),
      signal: o.signal,
      runtime: settings.runtime,
      remote: settings.remote,
      onFailedStep: onFailed?.handle,
    };
    const run = platforms.length > 1 ? executePlatforms(plans, platforms, execOptions, outputs) : executeBuild(plan, execOptions);
    const result = await run.catch((e: unknown) => {
      throw withFailedStepHint(e, onError, onFailed?.kept());
    });
    await hasher.save();
    await named.save();
    await exportCaches(store, o.cacheTo ?? [], { keys: result.keys, mountIds: [...new Set(plans.flatMap(cacheMountIds))], registry: settings.registry, progress: message });
    if (outputs.push.length) {
      const { pushImage } = await import('../registry/index.js');
      for (const { name, compression } of outputs.push) await pushImage(store, name, { ...settings.registry, progress: message, compression });
    }
    // The build's own lease has ended: what it made is kept by its image and cache records.
    await autoGc(store, settings);
    return { imageId: result.image.index?.digest ?? result.image.id, image: result.image, names: result.image.names, cached: result.cached, executed: result.executed, warnings: checks.warnings };
  } finally {
    await named.dispose();
  }
}
