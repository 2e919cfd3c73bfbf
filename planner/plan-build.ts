import { UserError, atRange, digestOf, formatPlatform, hostPlatform, parsePlatformSpec, type Digest, type Platform, type SourceRange } from '../common/index.js';
import { expandInstruction, expandWord, parseRaw, typeInstructions, type Instruction } from '../parser/index.js';
import type { ContainerConfig } from '../store/index.js';
import { ConfigEditor } from './config-edit.js';
import type { ContentHasher } from '../context/index.js';
import type { RemoteFlags, RemoteSource, ResolvedRemote } from '../remote/index.js';
import { isNumberedVertex, lowerInstruction } from './lower/instruction.js';
import { lastKey, type Cursor, type LowerArgs, type LowerContext } from './lower/lowering.js';
import { messages } from './messages.js';
import { StageScope, platformArgs } from './scope.js';
import { CHECK_BUILD_ARG, targetStageName } from './checks/index.js';
import { checkNearStage, splitStages, stageReference, targetStage, type RawStage, type SplitDockerfile } from './stages.js';
import type { BaseImage, CopyStep, Entitlement, Network, Plan, Stage, StageBase, Step } from './step.js';
import { namedContextOf, type NamedContext, type NamedContextResolver } from './named-context.js';
import { lowerTransfer } from './lower/transfer.js';

export interface PlanOptions {
  /** `--build-arg` values (a bare `--build-arg K` is resolved from the environment by the CLI). */
  buildArgs: ReadonlyMap<string, string>;
  target?: string;
  /** The platform built for (TARGETPLATFORM): every stage's unless its FROM --platform says otherwise. */
  platform: Platform;
  /** The platform the build runs on (BUILDPLATFORM); default the host's. */
  buildPlatform?: Platform;
  /** A multi-platform build: each vertex names its stage's platform (`[linux/arm64 build 2/3]`, as BuildKit's prefixCommand). */
  showsPlatform?: boolean;
  /** The Dockerfile's escape character (directive), `\` by default. */
  escape: string;
  /** The Dockerfile's path, for messages. */
  file: string;
  /** Build-wide `--network`. */
  network: Network;
  /** `--allow`: what a RUN may ask beyond the sandbox (host network, insecure mode). */
  entitlements: ReadonlySet<Entitlement>;
  /** Finds (and pulls if needed) a base image; throws a UserError when it can't. */
  resolveImage(ref: string, where: SourceRange, platform: Platform): Promise<BaseImage>;
  /** Digests what a COPY/ADD from the context selects (context/content-hasher.ts). */
  hashContext: ContentHasher;
  /** A COPY/ADD whose context source is missing fails when it runs, not here (build
   * --on-error: the steps before it are built, so there is a state to look into). */
  deferMissingSources?: boolean;
  /** `--build-context`s: what a stage, `FROM`, `--from` or `from=` of that name stands for. */
  namedContext?: NamedContextResolver;
  /** What an ADD's URL or git source holds now (remote/resolveRemote); throws a UserError when it can't say. */
  resolveRemote(source: RemoteSource, flags: RemoteFlags): Promise<ResolvedRemote>;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Dockerfile instructions → a Plan: the stages the target needs (others are never
 * resolved nor run, as BuildKit does), each lowered to exec/copy/config steps with cache keys.
 */
export async function planBuild(instructions: Instruction[], opts: PlanOptions): Promise<Plan> {
  const split = splitStages(instructions, opts.file);
  const target = targetStage(split, opts.target);
  const consumed = new Set<string>();
  const globalArgs = resolveGlobalArgs(split, opts, consumed, targetStageName(instructions, opts.target));
  const sourceDateEpoch = sourceDateEpochOf(opts.buildArgs.get(SDE) ?? globalArgs.get(SDE), split, consumed);
  const planned = new Map<number, Promise<Stage>>();
  const order: number[] = [];

  const planStage = (index: number): Promise<Stage> => {
    let p = planned.get(index);
    if (!p) {
      p = lowerStage(split, split.stages[index], { opts, globalArgs, consumed, planStage }).then((s) => {
        order.push(index);
        return s;
      });
      planned.set(index, p);
    }
    return p;
  };
  await planStage(target);
  const stages: Stage[] = [];
  for (const i of [...planned.keys()].sort((a, b) => a - b)) stages[i] = await planned.get(i)!;

  const unused = [...opts.buildArgs.keys()].filter((k) => !consumed.has(k) && k !== CHECK_BUILD_ARG && k !== SDE).sort();
  return {
    stages,
    target,
    order,
    warnings: unused.length ? [messages['unused-build-args'](unused)] : [],
    ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
  };
}

const SDE = 'SOURCE_DATE_EPOCH';

/**
 * BuildKit 1.2x (dockerfile2llb getBuildArgValue): the build arg, else a non-empty global
 * `ARG SOURCE_DATE_EPOCH=<default>`, sets the build's epoch. A number of seconds only; the
 * `context` and stage-name sources BuildKit also reads are not supported yet.
 */
function sourceDateEpochOf(value: string | undefined, split: SplitDockerfile, consumed: Set<string>): number | undefined {
  if (value === undefined || value === '') return undefined;
  consumed.add(SDE);
  if (/^[0-9]+$/.test(value)) return Number(value);
  const decl = split.globalArgs.find((a) => a.args.some((x) => x.name === SDE));
  throw new UserError('source-date-epoch', messages['source-date-epoch'](value), { where: decl?.range ?? `--build-arg ${SDE}` });
}

/** Global ARGs: defaults, overridden by build args; platform args and TARGETSTAGE are predefined here. */
function resolveGlobalArgs(split: SplitDockerfile, opts: PlanOptions, consumed: Set<string>, targetName: string): Map<string, string | undefined> {
  const predefined = platformArgs(opts.platform, opts.buildPlatform ?? hostPlatform());
  // BuildKit's defaultArgs: the stage being built, for `ARG TARGETSTAGE` in any stage.
  predefined.set('TARGETSTAGE', targetName);
  const env = new Map<string, string | undefined>(predefined);
  for (const ins of split.globalArgs) {
    for (const a of ins.args) {
      const known = new Map([...env].filter((e): e is [string, string] => e[1] !== undefined));
      // `ARG TARGETPLATFORM` without a default keeps the predefined value (BuildKit).
      let value = a.default === undefined ? predefined.get(a.name) : expandWord(a.default, known, { escape: opts.escape }).value;
      if (opts.buildArgs.has(a.name)) {
        value = opts.buildArgs.get(a.name);
        consumed.add(a.name);
      }
      env.set(a.name, value);
    }
  }
  return env;
}

/** One stage: its base (a stage, scratch, or an image and its ONBUILD triggers), then its instructions in order. */
async function lowerStage(split: SplitDockerfile, raw: RawStage, lc: LowerContext): Promise<Stage> {
  const { opts } = lc;
  const fromEnv = new Map([...lc.globalArgs].filter((e): e is [string, string] => e[1] !== undefined));
  const baseName = expandWord(raw.from.image, fromEnv, { escape: opts.escape }).value;
  if (baseName === '') throw new UserError('base-name-empty', messages['base-name-empty'](), { where: raw.from.range });
  const explicitPlatform = fromPlatform(raw.from, fromEnv, opts);
  let platform = explicitPlatform ?? opts.platform;

  let base: StageBase;
  let baseKey: Digest;
  let config: ContainerConfig;
  let instructions = raw.instructions;
  let inheritedArgs: Stage['args'] = [];
  const dependsOn: number[] = [];
  // A context named like the stage replaces it: its instructions are not run (convert.go,
  // "if st.Name != "" { nc, err := dctx.namedContext(st.Name …"); else `FROM name` may name one.
  const override = raw.name !== undefined ? await namedContextOf(opts.namedContext, raw.name, raw.from.range) : undefined;
  const stageRef = override ? undefined : stageReference(split, baseName, raw.index, { allowIndex: false, where: raw.from.range });
  const named = override ?? (stageRef === undefined && baseName.toLowerCase() !== 'scratch' ? await namedContextOf(opts.namedContext, baseName, raw.from.range) : undefined);
  let contextBase: Extract<NamedContext, { kind: 'dir' }> | undefined;
  if (override) instructions = [];
  if (named?.kind === 'dir') {
    // A directory is the stage's filesystem on an empty image (BuildKit's emptyImage config).
    contextBase = named;
    base = { kind: 'scratch' };
    baseKey = scratchKey(platform);
    config = { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' };
  } else if (named?.kind === 'image') {
    base = { kind: 'image', image: named.image };
    baseKey = named.image.manifestDigest;
    config = withDefaultPath({ ...(named.image.config.config ?? {}) });
    if (!override) instructions = [...onbuildTriggers(config.OnBuild ?? [], raw.from.range), ...instructions];
    delete config.OnBuild;
  } else if (stageRef !== undefined) {
    const parent = await lc.planStage(stageRef);
    // A stage built FROM another is for that stage's platform, unless it names its own.
    platform = explicitPlatform ?? parent.platform;
    base = { kind: 'stage', stage: stageRef };
    baseKey = lastKey(parent);
    config = { ...parent.finalConfig };
    // A stage's own ONBUILD triggers run in a stage built FROM it, and are cleared there
    // (BuildKit dispatchState.init and resolveStages, dockerfile2llb/convert.go).
    instructions = [...onbuildTriggers(config.OnBuild ?? [], raw.from.range), ...instructions];
    delete config.OnBuild;
    inheritedArgs = parent.args;
    dependsOn.push(stageRef);
  } else if (baseName.toLowerCase() === 'scratch') {
    base = { kind: 'scratch' };
    baseKey = scratchKey(platform);
    // BuildKit's emptyImage (dockerfile2llb/image.go): the default PATH and WorkingDir "/".
    config = { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' };
  } else {
    checkNearStage(split, baseName, raw.from.range);
    const image = await opts.resolveImage(baseName, raw.from.range, platform);
    base = { kind: 'image', image };
    baseKey = image.manifestDigest;
    config = withDefaultPath({ ...(image.config.config ?? {}) });
    instructions = [...onbuildTriggers(config.OnBuild ?? [], raw.from.range), ...instructions];
    delete config.OnBuild;
  }
  const baseConfig = structuredClone(config);

  const editor = new ConfigEditor(config);
  const cursor: Cursor = { config: editor.config, editor, key: baseKey, cmdSet: false };
  const scope = new StageScope(opts.buildArgs, lc.globalArgs, lc.consumed, cursor.config.Env, inheritedArgs);
  const steps: Step[] = [];
  const layerOps = instructions.filter((i) => isNumberedVertex(i.kind)).length + (contextBase ? 1 : 0);
  const stageLabel = (opts.showsPlatform ? `${formatPlatform(platform)} ` : '') + (split.stages.length > 1 ? `${raw.name ?? `stage-${raw.index}`} ` : '');
  let vertex = 1;
  const label = () => `[${stageLabel}${++vertex}/${layerOps + 1}]`;
  if (contextBase) {
    const step = await contextBaseStep(contextBase, raw, { split, raw, cursor, scope, lc, label, dependsOn, platform });
    cursor.key = step.cacheKey;
    steps.push(step);
  }

  for (const original of instructions) {
    if (original.kind === 'arg') {
      for (const a of original.args) {
        const env = scope.expansionEnv();
        const word = (w: string) => expandWord(w, env, { escape: opts.escape }).value;
        try {
          // The name is expanded too: `ENV src=file3` / `ARG ${src}=x` declares file3
          // (BuildKit's ArgCommand.Expand, instructions/commands.go).
          scope.declare(word(a.name), a.default === undefined ? undefined : word(a.default));
        } catch (e) {
          throw atRange(e, original.range);
        }
      }
      continue;
    }
    const env = scope.expansionEnv();
    let step: Step | undefined;
    try {
      const { instruction: ins } = expandInstruction(original, env, opts.escape);
      step = await lowerInstruction(ins, { split, raw, cursor, scope, lc, label, dependsOn, platform });
    } catch (e) {
      throw atRange(e, original.range);
    }
    if (!step) continue;
    for (const e of step.edits) {
      cursor.editor.apply(e);
      if (e.field === 'Env') scope.setEnv(e.set);
    }
    cursor.key = step.cacheKey;
    steps.push(step);
  }

  return {
    index: raw.index,
    name: raw.name,
    base,
    baseKey,
    fromDisplay: `[${stageLabel}1/${layerOps + 1}] FROM ${override ? `${raw.name} (build context)` : baseName}`,
    origin: raw.from.range,
    steps,
    dependsOn: [...new Set(dependsOn)],
    platform,
    baseConfig,
    finalConfig: cursor.config,
    args: scope.declared(),
  };
}

/**
 * The stage's files when its base is a directory context: `COPY --from=NAME . /`, the
 * directory (less its .dockerignore) as the first layer, keyed by its content.
 */
function contextBaseStep(named: Extract<NamedContext, { kind: 'dir' }>, raw: RawStage, a: LowerArgs): Promise<CopyStep> {
  const at = { range: raw.from.range, keywordRange: raw.from.keywordRange };
  const copy: Extract<Instruction, { kind: 'copy' }> = {
    kind: 'copy', ...at, sources: ['.'], dest: '/', heredocs: [], from: named.label, link: false, parents: false, exclude: [], keepGitDir: false, isJson: false,
  };
  return lowerTransfer(copy, a, () => {}, { from: { kind: 'context', name: named.name }, hash: named.hash });
}

/**
 * `FROM --platform=p` (expanded with the global args, `$BUILDPLATFORM` the cross-compilation
 * pattern): the stage's platform; undefined when not given (BuildKit: the target's, or a
 * base stage's).
 */
function fromPlatform(from: Extract<Instruction, { kind: 'from' }>, env: ReadonlyMap<string, string>, opts: PlanOptions): Platform | undefined {
  if (from.platform === undefined) return undefined;
  const given = expandWord(from.platform, env, { escape: opts.escape }).value;
  try {
    return parsePlatformSpec(given);
  } catch {
    throw new UserError('invalid-platform', messages['invalid-from-platform'](given), { where: from.range });
  }
}

/** The empty base of a platform; amd64's key is what it was before variants counted, so caches stay valid. */
function scratchKey(p: Platform): Digest {
  return digestOf(`scratch ${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`);
}

/**
 * A base image's config with BuildKit's default PATH appended when it sets none
 * (dockerfile2llb/convert.go, "make sure that PATH is always set"): `ENV PATH=/x:$PATH`
 * then keeps the system dirs, and the image's config carries the PATH.
 */
function withDefaultPath(config: ContainerConfig): ContainerConfig {
  if ((config.Env ?? []).some((e) => e === 'PATH' || e.startsWith('PATH='))) return config;
  return { ...config, Env: [...(config.Env ?? []), `PATH=${DEFAULT_PATH}`] };
}

/** A base image's ONBUILD triggers, parsed as instructions placed right after FROM. */
function onbuildTriggers(triggers: string[], where: SourceRange): Instruction[] {
  const out: Instruction[] = [];
  for (const t of triggers) {
    try {
      const raw = parseRaw(t, where.file);
      out.push(...typeInstructions(raw).map((i) => ({ ...i, range: where, keywordRange: where })));
    } catch (e) {
      throw new UserError('onbuild-trigger', messages['onbuild-trigger'](t, (e as Error).message), { where });
    }
  }
  return out;
}
