import type { SourceSelection } from './context.js';
import { posix } from 'node:path';
import { UserError, atRange, digestOf, type Digest, type SourceRange } from '../common/index.js';
import {
  expandInstruction,
  expandWord,
  parseRaw,
  typeInstructions,
  type Instruction,
  type CommandLine,
} from '../parser/index.js';
import type { ConfigEdit } from './config-edit.js';
import { ConfigEditor } from './config-edit.js';
import type { ContainerConfig } from '../store/index.js';
import { cacheKeyOf, type KeyParts } from './cache-key.js';
import { goList, goQuotedList, goSetMap, runCreatedBy } from './history-text.js';
import { messages } from './messages.js';
import { StageScope, platformArgs } from './scope.js';
import { checkNearStage, splitStages, stageReference, targetStage, type RawStage, type SplitDockerfile } from './stages.js';
import type { BaseImage, Entitlement, Network, Plan, Stage, StageBase, Step } from './step.js';
import type { ContentHasher } from './content.js';
import { parseChmod } from './context-chmod.js';
import { exposedPorts } from './expose.js';
import { cacheDirKey, mountKey, planMount, type MountFrom, type PlannedMount } from './mounts.js';

export interface PlanOptions {
  /** `--build-arg` values (a bare `--build-arg K` is resolved from the environment by the CLI). */
  buildArgs: ReadonlyMap<string, string>;
  target?: string;
  platform: { os: string; architecture: string; variant?: string };
  /** The Dockerfile's escape character (directive), `\` by default. */
  escape: string;
  /** The Dockerfile's path, for messages. */
  file: string;
  /** Build-wide `--network`. */
  network: Network;
  /** `--allow`: what a RUN may ask beyond the sandbox (host network, insecure mode). */
  entitlements: ReadonlySet<Entitlement>;
  /** Finds (and pulls if needed) a base image; throws a UserError when it can't. */
  resolveImage(ref: string, where: SourceRange): Promise<BaseImage>;
  /** Digests what a COPY/ADD from the context selects (planner/content.ts). */
  hashContext: ContentHasher;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Dockerfile instructions → a Plan: the stages the target needs (others are never
 * resolved nor run, as BuildKit does), each lowered to exec/copy/config steps with cache keys.
 */
export async function planBuild(instructions: Instruction[], opts: PlanOptions): Promise<Plan> {
  const split = splitStages(instructions, opts.file);
  const target = targetStage(split, opts.target);
  const consumed = new Set<string>();
  const globalArgs = resolveGlobalArgs(split, opts, consumed);
  const planned = new Map<number, Promise<Stage>>();
  const order: number[] = [];
  const warnings: string[] = [];

  const planStage = (index: number): Promise<Stage> => {
    let p = planned.get(index);
    if (!p) {
      p = lowerStage(split, split.stages[index], { opts, globalArgs, consumed, planStage, warnings }).then((s) => {
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

  const unusedBuildArgs = [...opts.buildArgs.keys()].filter((k) => !consumed.has(k)).sort();
  return { stages, target, order, unusedBuildArgs, warnings };
}

/** Global ARGs: defaults, overridden by build args; platform args are predefined here. */
function resolveGlobalArgs(split: SplitDockerfile, opts: PlanOptions, consumed: Set<string>): Map<string, string | undefined> {
  const predefined = platformArgs(opts.platform);
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

interface LowerContext {
  opts: PlanOptions;
  globalArgs: Map<string, string | undefined>;
  consumed: Set<string>;
  planStage(index: number): Promise<Stage>;
  warnings: string[];
}

/** Mutable per-stage state while lowering: what the next instruction sees. */
interface Cursor {
  /** The stage's config so far: the editor's own object, changed in place by each step's edits. */
  readonly config: ContainerConfig;
  readonly editor: ConfigEditor;
  key: Digest;
  cmdSet: boolean;
}

async function lowerStage(split: SplitDockerfile, raw: RawStage, lc: LowerContext): Promise<Stage> {
  const { opts } = lc;
  const fromEnv = new Map([...lc.globalArgs].filter((e): e is [string, string] => e[1] !== undefined));
  const baseName = expandWord(raw.from.image, fromEnv, { escape: opts.escape }).value;
  if (baseName === '') throw new UserError('base-name-empty', messages['base-name-empty'](), { where: raw.from.range });
  checkFromPlatform(raw.from, fromEnv, opts);

  let base: StageBase;
  let baseKey: Digest;
  let config: ContainerConfig;
  let instructions = raw.instructions;
  const dependsOn: number[] = [];
  const stageRef = stageReference(split, baseName, raw.index, { allowIndex: false, where: raw.from.range });
  if (stageRef !== undefined) {
    const parent = await lc.planStage(stageRef);
    base = { kind: 'stage', stage: stageRef };
    baseKey = lastKey(parent);
    config = { ...parent.finalConfig };
    dependsOn.push(stageRef);
  } else if (baseName.toLowerCase() === 'scratch') {
    base = { kind: 'scratch' };
    baseKey = digestOf(`scratch ${opts.platform.os}/${opts.platform.architecture}`);
    // BuildKit's emptyImage (dockerfile2llb/image.go): the default PATH and WorkingDir "/".
    config = { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' };
  } else {
    checkNearStage(split, baseName, raw.from.range);
    const image = await opts.resolveImage(baseName, raw.from.range);
    base = { kind: 'image', image };
    baseKey = image.manifestDigest;
    config = withDefaultPath({ ...(image.config.config ?? {}) });
    instructions = [...onbuildTriggers(config.OnBuild ?? [], raw.from.range), ...instructions];
    delete config.OnBuild;
  }
  const baseConfig = structuredClone(config);

  const editor = new ConfigEditor(config);
  const cursor: Cursor = { config: editor.config, editor, key: baseKey, cmdSet: false };
  const scope = new StageScope(opts.buildArgs, lc.globalArgs, lc.consumed, cursor.config.Env);
  const steps: Step[] = [];
  const layerOps = instructions.filter((i) => ['run', 'copy', 'add', 'workdir'].includes(i.kind)).length;
  const stageLabel = split.stages.length > 1 ? `${raw.name ?? `stage-${raw.index}`} ` : '';
  let vertex = 1;
  const label = () => `[${stageLabel}${++vertex}/${layerOps + 1}]`;

  for (const original of instructions) {
    if (original.kind === 'arg') {
      for (const a of original.args) {
        const env = scope.expansionEnv();
        scope.declare(a.name, a.default === undefined ? undefined : expandWord(a.default, env, { escape: opts.escape }).value);
      }
      continue;
    }
    const env = scope.expansionEnv();
    let step: Step | undefined;
    try {
      const { instruction: ins } = expandInstruction(original, env, opts.escape);
      step = await lowerInstruction(ins, { split, raw, cursor, scope, lc, label, dependsOn });
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
    fromDisplay: `[${stageLabel}1/${layerOps + 1}] FROM ${baseName}`,
    origin: raw.from.range,
    steps,
    dependsOn: [...new Set(dependsOn)],
    platform: opts.platform,
    baseConfig,
    finalConfig: cursor.config,
  };
}

/**
 * `FROM --platform=p`: only the build's own platform (literally, or as `$BUILDPLATFORM` /
 * `$TARGETPLATFORM`), which then changes nothing; building for another is a later issue.
 */
function checkFromPlatform(from: Extract<Instruction, { kind: 'from' }>, env: ReadonlyMap<string, string>, opts: PlanOptions): void {
  if (from.platform === undefined) return;
  const given = expandWord(from.platform, env, { escape: opts.escape }).value;
  const p = opts.platform;
  const build = `${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''}`;
  const [os, arch, variant] = given.toLowerCase().split('/');
  const sameArch = arch === p.architecture || (arch === 'x86_64' && p.architecture === 'amd64');
  if (os === p.os && sameArch && (variant ?? p.variant) === p.variant) return;
  throw new UserError('platform-not-supported', messages['platform-not-supported'](given, build), {
    where: from.range,
    hint: 'drop --platform, or use --platform=$BUILDPLATFORM',
  });
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

function lastKey(stage: Stage): Digest {
  return stage.steps.length ? stage.steps[stage.steps.length - 1].cacheKey : stage.baseKey;
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

interface LowerArgs {
  split: SplitDockerfile;
  raw: RawStage;
  cursor: Cursor;
  scope: StageScope;
  lc: LowerContext;
  label: () => string;
  dependsOn: number[];
}

function shellOf(config: ContainerConfig): string[] {
  return config.Shell && config.Shell.length ? config.Shell : DEFAULT_SHELL;
}

/** A command line as argv: exec form as given, shell form through the current SHELL. */
function commandArgv(cmd: CommandLine, config: ContainerConfig): string[] {
  return cmd.form === 'exec' ? cmd.argv : [...shellOf(config), cmd.script];
}

function configStep(a: LowerArgs, ins: Instruction, createdBy: string, edits: ConfigEdit[]): Step {
  const keyParts: KeyParts = { parent: a.cursor.key, op: 'config', edits, createdBy };
  return {
    op: 'config',
    index: 0,
    display: createdBy,
    createdBy,
    cacheKey: cacheKeyOf(keyParts),
    keyParts,
    origin: ins.range,
    edits,
  };
}

async function lowerInstruction(ins: Instruction, a: LowerArgs): Promise<Step | undefined> {
  const { cursor } = a;
  const opts = a.lc.opts;
  switch (ins.kind) {
    case 'from':
    case 'arg':
      return undefined;
    case 'run':
      return lowerRun(ins, a);
    case 'copy':
    case 'add':
      return lowerCopy(ins, a);
    case 'workdir': {
      const path = posix.resolve(cursor.config.WorkingDir || '/', ins.path);
      const keyParts: KeyParts = { parent: cursor.key, op: 'workdir', path };
      return {
        op: 'copy',
        index: 0,
        display: `${a.label()} WORKDIR ${path}`,
        createdBy: `WORKDIR ${path}`,
        cacheKey: cacheKeyOf(keyParts),
        keyParts,
        origin: ins.range,
        edits: [{ field: 'WorkingDir', value: path }],
        from: { kind: 'context' },
        sources: [],
        inline: [],
        dest: path,
        workdir: '/',
        excludes: [],
        parents: false,
        isAdd: false,
        unpack: false,
        link: false,
        mkdirOnly: true,
      };
    }
    case 'env':
      return configStep(a, ins, `ENV ${ins.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`, [
        { field: 'Env', set: ins.pairs.map((p) => [p.key, p.value]) },
      ]);
    case 'label':
      return configStep(a, ins, `LABEL ${ins.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`, [
        { field: 'Labels', set: ins.pairs.map((p) => [p.key, p.value]) },
      ]);
    case 'cmd': {
      const argv = commandArgv(ins.command, cursor.config);
      cursor.cmdSet = true;
      return configStep(a, ins, `CMD ${goQuotedList(argv)}`, [{ field: 'Cmd', value: argv }]);
    }
    case 'entrypoint': {
      const argv = commandArgv(ins.command, cursor.config);
      const edits: ConfigEdit[] = [{ field: 'Entrypoint', value: argv }];
      // BuildKit: an ENTRYPOINT resets a CMD inherited from the base unless this stage set one.
      if (!cursor.cmdSet) edits.push({ field: 'Cmd', value: null });
      return configStep(a, ins, `ENTRYPOINT ${goQuotedList(argv)}`, edits);
    }
    case 'shell':
      return configStep(a, ins, `SHELL ${goList(ins.argv)}`, [{ field: 'Shell', value: ins.argv }]);
    case 'user':
      return configStep(a, ins, `USER ${ins.user}`, [{ field: 'User', value: ins.user }]);
    case 'expose': {
      const ports = exposedPorts(ins.ports);
      return configStep(a, ins, `EXPOSE ${goSetMap(ports)}`, [{ field: 'ExposedPorts', add: ports }]);
    }
    case 'volume':
      return configStep(a, ins, `VOLUME ${goList(ins.paths)}`, [{ field: 'Volumes', add: ins.paths }]);
    case 'stopsignal':
      return configStep(a, ins, `STOPSIGNAL ${ins.signal}`, [{ field: 'StopSignal', value: ins.signal }]);
    case 'healthcheck': {
      if (ins.check.kind === 'none') {
        return configStep(a, ins, 'HEALTHCHECK NONE', [{ field: 'Healthcheck', value: { Test: ['NONE'] } }]);
      }
      const c = ins.check;
      const test = c.test.form === 'exec' ? ['CMD', ...c.test.argv] : ['CMD-SHELL', c.test.script];
      const value = {
        Test: test,
        ...(c.intervalNs !== undefined ? { Interval: c.intervalNs } : {}),
        ...(c.timeoutNs !== undefined ? { Timeout: c.timeoutNs } : {}),
        ...(c.startPeriodNs !== undefined ? { StartPeriod: c.startPeriodNs } : {}),
        ...(c.startIntervalNs !== undefined ? { StartInterval: c.startIntervalNs } : {}),
        ...(c.retries !== undefined ? { Retries: c.retries } : {}),
      };
      return configStep(a, ins, `HEALTHCHECK ${goQuotedList(test)}`, [{ field: 'Healthcheck', value }]);
    }
    case 'onbuild':
      return configStep(a, ins, `ONBUILD ${ins.expression}`, [{ field: 'OnBuild', add: [ins.expression] }]);
    case 'maintainer': {
      const s = configStep(a, ins, `MAINTAINER ${ins.name}`, []);
      s.author = ins.name;
      return s;
    }
    default:
      void opts;
      return undefined;
  }
}

/** `RUN`: argv through the SHELL, the environment a RUN sees, and its key. */
async function lowerRun(ins: Extract<Instruction, { kind: 'run' }>, a: LowerArgs): Promise<Step> {
  const { cursor, scope } = a;
  const opts = a.lc.opts;
  const { mounts, keys: mountKeys } = await lowerMounts(ins, a);
  const network: Network = ins.network ?? opts.network;
  const security = ins.security ?? 'sandbox';
  // BuildKit refuses both without the entitlement (frontend/dockerfile/docs: RUN --network, --security).
  if (network === 'host' && !opts.entitlements.has('network.host')) {
    const what = ins.network === 'host' ? 'RUN --network=host' : 'a RUN step on the host network (--network host)';
    throw new UserError('entitlement-needed', messages['entitlement-needed'](what, 'network.host'), {
      where: ins.range,
      hint: 'the host network reaches every service the host does; grant it only to Dockerfiles you trust',
    });
  }
  if (security === 'insecure' && !opts.entitlements.has('security.insecure')) {
    throw new UserError('entitlement-needed', messages['entitlement-needed']('RUN --security=insecure', 'security.insecure'), {
      where: ins.range,
      hint: 'an insecure step runs with every capability and no seccomp filter; grant it only to Dockerfiles you trust',
    });
  }
  let argv: string[];
  let text: string;
  if (ins.command.form === 'exec') {
    argv = ins.command.argv;
    text = argv.join(' ');
  } else {
    const script = heredocScript(ins.command);
    argv = [...shellOf(cursor.config), script];
    text = argv.join(' ');
  }
  const runArgs = scope.runArgs(cursor.config.Env);
  const env = [...(cursor.config.Env ?? []), ...runArgs.map(([k, v]) => `${k}=${v}`)];
  const cwd = cursor.config.WorkingDir || '/';
  const user = cursor.config.User || '';
  const keyParts: KeyParts = { parent: cursor.key, op: 'exec', argv, env, cwd, user, network };
  if (mountKeys.length) keyParts.mounts = mountKeys;
  if (security === 'insecure') keyParts.security = security;
  const createdBy = runCreatedBy(scope.historyArgs(cursor.config.Env), text);
  return {
    op: 'exec',
    index: 0,
    display: `${a.label()} RUN ${ins.command.form === 'exec' ? JSON.stringify(argv) : ins.command.script}`,
    createdBy,
    cacheKey: cacheKeyOf(keyParts),
    keyParts,
    origin: ins.range,
    edits: [],
    argv,
    env,
    cwd,
    user,
    network,
    security,
    files: [],
    mounts,
  };
}

/** `RUN --mount`s: checked, lowered, and what each adds to the key (planner/mounts.ts). */
async function lowerMounts(
  ins: Extract<Instruction, { kind: 'run' }>,
  a: LowerArgs,
): Promise<{ mounts: PlannedMount[]; keys: unknown[] }> {
  const mounts: PlannedMount[] = [];
  const keys: unknown[] = [];
  const cwd = a.cursor.config.WorkingDir || '/';
  const resolveFrom = async (name: string): Promise<Exclude<MountFrom, { kind: 'context' }>> => {
    const ref = stageReference(a.split, name, a.raw.index, { allowIndex: true, where: ins.range });
    if (ref !== undefined) {
      await a.lc.planStage(ref);
      a.dependsOn.push(ref);
      return { kind: 'stage', stage: ref };
    }
    checkNearStage(a.split, name, ins.range);
    return { kind: 'image', image: await a.lc.opts.resolveImage(name, ins.range) };
  };
  for (const [i, m] of ins.mounts.entries()) {
    const planned = await planMount(m, i, { cwd, where: ins.range, resolveFrom });
    let content: unknown;
    if (planned.type === 'cache' && planned.from) {
      const from = planned.from;
      const fromContent = from.kind === 'stage' ? { stage: lastKey(await a.lc.planStage(from.stage)) } : { image: from.image.manifestDigest };
      planned.dirKey = cacheDirKey(planned, fromContent);
    } else if (planned.type === 'cache') {
      planned.dirKey = cacheDirKey(planned, undefined);
    }
    if (planned.type === 'bind') {
      const from = planned.from;
      switch (from.kind) {
        case 'context': {
          const rel = planned.source === '/' ? '.' : planned.source.slice(1);
          content = (await a.lc.opts.hashContext([rel], { excludes: [], where: ins.range, what: 'RUN --mount' })).digest;
          break;
        }
        case 'stage':
          content = { stage: lastKey(await a.lc.planStage(from.stage)) };
          break;
        case 'image':
          content = { image: from.image.manifestDigest };
          break;
      }
    }
    mounts.push(planned);
    keys.push(mountKey(planned, content));
  }
  return { mounts, keys };
}

/**
 * A shell-form command with heredocs: a lone `<<EOF` runs the body as the script (BuildKit);
 * otherwise the bodies follow the command line, as a shell reads them.
 */
function heredocScript(cmd: Extract<CommandLine, { form: 'shell' }>): string {
  if (cmd.heredocs.length === 0) return cmd.script;
  const body = (h: (typeof cmd.heredocs)[number]) => (h.chomp ? h.content.replace(/^\t+/gm, '') : h.content);
  if (cmd.heredocs.length === 1 && /^\s*\d*<<-?\s*['"]?[^\s'"]+['"]?\s*$/.test(cmd.script)) {
    return body(cmd.heredocs[0]);
  }
  let script = cmd.script + '\n';
  for (const h of cmd.heredocs) script += body(h) + h.name + '\n';
  return script;
}

/**
 * ADD's flags for remote sources, which tsbuild cannot ADD yet (a URL or Git source is refused
 * by the executor): `--checksum` on local sources is BuildKit's error, `--keep-git-dir` ours.
 */
function checkAddRemoteFlags(ins: Extract<Instruction, { kind: 'add' }>): void {
  if (ins.checksum !== undefined) {
    if (ins.sources.length + ins.heredocs.length !== 1) {
      throw new UserError('checksum-multiple-sources', messages['checksum-multiple-sources'](), { where: ins.range });
    }
    if (!/^(https?|git):\/\/|^git@/.test(ins.sources[0] ?? '')) {
      throw new UserError('checksum-needs-remote', messages['checksum-needs-remote'](), {
        where: ins.range,
        hint: 'a local file is verified by the build context itself; drop --checksum',
      });
    }
  }
  if (ins.keepGitDir) throw new UserError('keep-git-dir-unsupported', messages['keep-git-dir-unsupported'](), { where: ins.range });
}

/** `COPY`/`ADD`: where sources come from, what they hold (content digest), and the key. */
async function lowerCopy(ins: Extract<Instruction, { kind: 'copy' | 'add' }>, a: LowerArgs): Promise<Step> {
  const { cursor } = a;
  const opts = a.lc.opts;
  const kw = ins.kind === 'add' ? 'ADD' : 'COPY';
  let from: Extract<Step, { op: 'copy' }>['from'] = { kind: 'context' };
  let content: unknown;
  if (ins.from !== undefined) {
    const ref = stageReference(a.split, ins.from, a.raw.index, { allowIndex: true, where: ins.range });
    if (ref !== undefined) {
      const source = await a.lc.planStage(ref);
      a.dependsOn.push(ref);
      from = { kind: 'stage', stage: ref };
      content = { stage: lastKey(source) };
    } else {
      checkNearStage(a.split, ins.from, ins.range);
      const image = await opts.resolveImage(ins.from, ins.range);
      from = { kind: 'image', image };
      content = { image: image.manifestDigest };
    }
  }
  if (ins.chmod !== undefined) parseChmod(ins.chmod);
  if (ins.kind === 'add') checkAddRemoteFlags(ins);
  const inline = ins.heredocs.map((h) => ({ name: h.name, content: h.chomp ? h.content.replace(/^\t+/gm, '') : h.content }));
  const sources = ins.sources;
  let files: Record<string, string> | undefined;
  let contextSelection: SourceSelection | undefined;
  if (from.kind === 'context' && sources.length > 0) {
    const hashed = await opts.hashContext(sources, { excludes: ins.exclude, where: ins.range, what: kw });
    content = hashed.digest;
    files = hashed.files;
    // What was hashed is what gets copied (one walk of the context, not two). --parents
    // selects differently: the executor walks again for it.
    if (!ins.parents) contextSelection = hashed.selection;
  }
  if (inline.length) content = { ...(content as object), inline };
  // What the executor gets is also what the key is made of (plus the parent and the content).
  const fields = {
    sources,
    dest: ins.dest,
    workdir: cursor.config.WorkingDir || '/',
    chown: ins.chown,
    chmod: ins.chmod,
    excludes: ins.exclude,
    parents: ins.parents,
    // Only when not the default, so that keys of COPY/ADD without the flags stay as they were.
    ...(ins.link ? { link: true } : {}),
    ...(ins.kind === 'add' && ins.unpack === false ? { unpack: false } : {}),
  };
  const keyParts: KeyParts = { parent: cursor.key, op: ins.kind, ...fields, content };
  const flags = [
    ins.from !== undefined ? `--from=${ins.from}` : '',
    ins.chown !== undefined ? `--chown=${ins.chown}` : '',
    ins.chmod !== undefined ? `--chmod=${ins.chmod}` : '',
  ].filter(Boolean);
  const text = [...flags, ...ins.sources, ins.dest].join(' ');
  return {
    op: 'copy',
    index: 0,
    display: `${a.label()} ${kw} ${text}`,
    createdBy: `${kw} ${text} # buildkit`,
    cacheKey: cacheKeyOf(keyParts),
    keyParts,
    explain: files ? { files } : undefined,
    origin: ins.range,
    edits: [],
    from,
    ...fields,
    inline,
    isAdd: ins.kind === 'add',
    unpack: ins.kind === 'add' && ins.unpack !== false,
    link: ins.link,
    mkdirOnly: false,
    ...(contextSelection ? { contextSelection } : {}),
  };
}
