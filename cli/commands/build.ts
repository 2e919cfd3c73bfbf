import { readFile, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError, digestOf, type Digest, type SourceRange } from '../../common/index.js';
import type { Instruction } from '../../parser/index.js';
import type { Entitlement } from '../../planner/index.js';
import { withFields, type Command, type CliContext } from '../command.js';
import { boolOpt, listOpt, parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';
import { makeProgress, type ProgressMode } from '../progress.js';
import { parseCacheSpec, type CacheSpec } from '../cache-spec.js';
import type { Store } from '../../store/index.js';
import { ReplayRecorder, isReplayable, replayKey } from '../build-replay.js';
import { INTERRUPTED_EXIT, catchInterrupts } from '../interrupt.js';

const options: OptionSpec[] = [
  { name: 'tag', short: 't', type: 'string', multiple: true },
  { name: 'file', short: 'f', type: 'string' },
  { name: 'build-arg', type: 'string', multiple: true },
  { name: 'target', type: 'string' },
  { name: 'no-cache', type: 'boolean' },
  { name: 'no-cache-filter', type: 'string', multiple: true },
  { name: 'pull', type: 'boolean' },
  { name: 'network', type: 'string' },
  { name: 'progress', type: 'string' },
  { name: 'quiet', short: 'q', type: 'boolean' },
  { name: 'label', type: 'string', multiple: true },
  { name: 'iidfile', type: 'string' },
  { name: 'platform', type: 'string' },
  { name: 'push', type: 'boolean' },
  { name: 'cache-to', type: 'string', multiple: true },
  { name: 'cache-from', type: 'string', multiple: true },
  { name: 'root', type: 'string' },
  { name: 'secret', type: 'string', multiple: true },
  { name: 'ssh', type: 'string', multiple: true },
  { name: 'allow', type: 'string', multiple: true },
];

export const command: Command = {
  name: 'build',
  usage:
    'tsbuild [build] [-t NAME[:TAG]]... [-f Dockerfile] [--build-arg K=V]... [--target STAGE] [--no-cache] [--no-cache-filter STAGE] [--pull] [--network default|host|none] [--progress auto|plain|tty|quiet] [--label K=V] [--iidfile F] [--cache-from SPEC] [--cache-to SPEC] [--push] [--secret id=X,src=FILE|env=VAR] [--ssh default] [--allow network.host|security.insecure] CONTEXT|-',
  summary: 'Build an image from a Dockerfile and a build context.',
  run: build,
};

/** `--build-arg K=V`, or `--build-arg K` taking K from the environment (skipped when unset, as Docker does). */
function buildArgs(values: string[], env: NodeJS.ProcessEnv): Map<string, string> {
  const m = new Map<string, string>();
  for (const v of values) {
    const i = v.indexOf('=');
    if (i === 0) throw usageError(`invalid --build-arg "${v}": the name is empty`);
    if (i > 0) m.set(v.slice(0, i), v.slice(i + 1));
    else if (env[v] !== undefined) m.set(v, env[v]!);
  }
  return m;
}

function labels(values: string[]): [string, string][] {
  return values.map((v) => {
    const i = v.indexOf('=');
    return i < 0 ? [v, ''] : [v.slice(0, i), v.slice(i + 1)];
  });
}

function platformOf(value: string | undefined): { os: string; architecture: string; variant?: string } {
  const p = value ?? 'linux/amd64';
  const [os, architecture, variant] = p.split('/');
  if (os !== 'linux' || architecture !== 'amd64') {
    throw new UserError('unsupported-platform', `platform "${p}" is not supported: tsbuild builds linux/amd64 images`, { exitCode: 1 });
  }
  return { os, architecture, ...(variant ? { variant } : {}) };
}

async function readDockerfile(path: string, shown: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      'dockerfile-missing',
      `failed to read dockerfile: open ${shown}: ${code === 'ENOENT' ? 'no such file or directory' : code}`,
      { where: shown },
    );
  }
}

async function readStdin(ctx: CliContext): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of ctx.stdin) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Bump when the parser's output changes shape, so old memos are not reused. */
const PARSE_MEMO_VERSION = 1;

/**
 * Parse (and type) the Dockerfile, or reuse the result of the same text from an earlier
 * build: a cached rebuild then never loads the parser.
 */
async function parseDockerfile(root: string, text: string, file: string): Promise<{ instructions: Instruction[]; escape: string }> {
  const { readMemo, writeMemo } = await import('../../store/index.js');
  const key = digestOf(JSON.stringify({ v: PARSE_MEMO_VERSION, file, text }));
  const known = await readMemo<{ instructions: Instruction[]; escape: string }>(root, 'dockerfile', key);
  if (known) return known;
  const { parseRaw, typeInstructions } = await import('../../parser/index.js');
  const raw = parseRaw(text, file);
  const parsed = { instructions: typeInstructions(raw), escape: raw.directives.escape ?? '\\' };
  await writeMemo(root, 'dockerfile', key, parsed);
  return parsed;
}

/** `--secret id=ID[,src=FILE|,env=VAR][,type=file|env]`: values by id (a bare id reads the env var ID, as buildx does). */
async function secretsOf(values: string[], ctx: CliContext): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const v of values) {
    const fields = new Map<string, string>();
    for (const f of v.split(',')) {
      const i = f.indexOf('=');
      if (i <= 0) throw usageError(`invalid --secret "${v}": want id=ID,src=FILE or id=ID,env=VAR`);
      fields.set(f.slice(0, i).trim().toLowerCase(), f.slice(i + 1));
    }
    const id = fields.get('id');
    if (!id) throw usageError(`invalid --secret "${v}": id is required`);
    const src = fields.get('src') ?? fields.get('source');
    const type = fields.get('type') ?? (src !== undefined ? 'file' : 'env');
    if (type === 'file') {
      if (src === undefined) throw usageError(`invalid --secret "${v}": type=file needs src=FILE`);
      try {
        out.set(id, await readFile(resolve(ctx.cwd, src)));
      } catch (e) {
        throw new UserError('secret-missing', `--secret ${id}: cannot read ${src}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { where: src });
      }
    } else if (type === 'env') {
      const name = fields.get('env') ?? src ?? id;
      const value = ctx.env[name];
      if (value === undefined) throw new UserError('secret-missing', `--secret ${id}: environment variable ${name} is not set`, { where: name });
      out.set(id, Buffer.from(value, 'utf8'));
    } else throw usageError(`invalid --secret "${v}": type must be file or env`);
  }
  return out;
}

/** `--ssh default` (SSH_AUTH_SOCK) or `--ssh ID=SOCKET`: agent sockets by id. */
function sshOf(values: string[], ctx: CliContext): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const i = v.indexOf('=');
    const id = i < 0 ? v : v.slice(0, i);
    const sock = i < 0 ? ctx.env.SSH_AUTH_SOCK : resolve(ctx.cwd, v.slice(i + 1));
    if (!id) throw usageError(`invalid --ssh "${v}": want default or ID=SOCKET`);
    if (!sock) throw usageError(`--ssh ${id}: SSH_AUTH_SOCK is not set (or give --ssh ${id}=SOCKET)`);
    out.set(id, sock);
  }
  return out;
}

/** The cache mount ids a plan's RUN steps use (what `--cache-to` exports). */
function cacheMountIds(plan: { stages: { steps: { op: string; mounts?: { type: string; id?: string }[] }[] }[] }): string[] {
  const ids = new Set<string>();
  for (const stage of plan.stages) {
    if (!stage) continue;
    for (const step of stage.steps) for (const m of step.mounts ?? []) if (m.type === 'cache' && m.id) ids.add(m.id);
  }
  return [...ids];
}

/** `--cache-from`: bring cache records (and their layers) into the store before planning. */
async function importCaches(store: Store, specs: CacheSpec[], ctx: CliContext): Promise<void> {
  for (const spec of specs) {
    if (spec.type === 'local') {
      const { importCacheLocal } = await import('../../store/cache-local.js');
      await importCacheLocal(store, spec.dir);
      const { importCacheMountsLocal } = await import('../../store/cache-mounts.js');
      await importCacheMountsLocal(store, spec.dir);
    } else {
      const { importCache, registrySettings } = await import('../../registry/index.js');
      await importCache(store, spec.ref, { ...registrySettings(ctx.env), progress: (l) => ctx.stderr.write(l + '\n') });
    }
  }
}

/** `--cache-to`: export the records of this build's steps. */
async function exportCaches(store: Store, specs: CacheSpec[], keys: Digest[], mountIds: string[], ctx: CliContext): Promise<void> {
  for (const spec of specs) {
    if (spec.type === 'local') {
      const { exportCacheLocal } = await import('../../store/cache-local.js');
      await exportCacheLocal(store, spec.dir, keys);
      const { exportCacheMountsLocal } = await import('../../store/cache-mounts.js');
      await exportCacheMountsLocal(store, spec.dir, mountIds);
    } else {
      const { exportCache, registrySettings } = await import('../../registry/index.js');
      await exportCache(store, spec.ref, { ...registrySettings(ctx.env), keys, mountIds, progress: (l) => ctx.stderr.write(l + '\n') });
    }
  }
}

/** `--push`: push every name the build was tagged with, as `tsbuild push` does. */
async function pushNames(store: Store, names: string[], ctx: CliContext): Promise<void> {
  const { pushImage, registrySettings } = await import('../../registry/index.js');
  for (const name of names) {
    await pushImage(store, name, { ...registrySettings(ctx.env), progress: (l) => ctx.stderr.write(l + '\n') });
  }
}

/** `--allow a,b --allow c`: BuildKit's entitlements, each one it knows (buildx splits on commas too). */
async function entitlementsOf(values: string[]): Promise<Set<Entitlement>> {
  const { ENTITLEMENTS } = await import('../../planner/index.js');
  const out = new Set<Entitlement>();
  for (const v of values.flatMap((x) => x.split(','))) {
    const e = ENTITLEMENTS.find((k) => k === v.trim());
    if (!e) throw usageError(`invalid --allow "${v}": want ${ENTITLEMENTS.join(' or ')}`);
    out.add(e);
  }
  return out;
}

/**
 * A recorder of what this build depends on (cli/build-replay.ts), when a later run of the
 * same command could replay it: a build from a context directory, named, printing plain
 * text or nothing, given only options a replay repeats (isReplayable). Whether it was
 * fully cached is known at the end.
 */
function replayRecorder(args: ReturnType<typeof parseArgs>, contextArg: string, mode: ProgressMode, ctx: CliContext): ReplayRecorder | undefined {
  if (contextArg === '-' || stringOpt(args, 'file') === '-') return undefined;
  if (!isReplayable(Object.keys(args.options).filter((o) => args.options[o] !== undefined))) return undefined;
  if (mode === 'tty' || (mode === 'auto' && ctx.stderr.isTTY)) return undefined;
  return new ReplayRecorder(ctx.root, mode);
}

/** `w` with everything written to it also kept in `into` (what a replay prints again). */
function keeping<T extends { write(s: string): unknown }>(w: T, into: string[]): T {
  return Object.assign(Object.create(w) as T, {
    write: (s: string) => {
      into.push(s);
      return w.write(s);
    },
  });
}

/** A build until it ends or Ctrl-C cancels it: `build cancelled`, the running step stopped, exit 130. */
async function build(argv: string[], base: CliContext): Promise<number> {
  const interrupts = catchInterrupts(base.stderr, 'build cancelled');
  try {
    const code = await buildOnce(argv, base, interrupts.signal);
    return interrupts.signal.aborted ? INTERRUPTED_EXIT : code;
  } catch (e) {
    if (interrupts.signal.aborted) return INTERRUPTED_EXIT; // the one line is printed already
    throw e;
  } finally {
    interrupts.dispose();
  }
}

async function buildOnce(argv: string[], base: CliContext, signal: AbortSignal): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length !== 1) {
    throw usageError(`"build" requires exactly 1 argument (the context: a folder, or - for a Dockerfile on stdin)`);
  }
  const contextArg = args.positionals[0];
  const progressMode = (boolOpt(args, 'quiet') ? 'quiet' : stringOpt(args, 'progress') ?? 'auto') as ProgressMode;
  if (!['auto', 'plain', 'tty', 'quiet'].includes(progressMode)) throw usageError(`invalid --progress "${progressMode}": want auto, plain, tty or quiet`);
  const recorder = replayRecorder(args, contextArg, progressMode, base);
  const printed = { stdout: [] as string[], stderr: [] as string[] };
  const ctx: CliContext = recorder
    ? withFields(base, { stdout: keeping(base.stdout, printed.stdout), stderr: keeping(base.stderr, printed.stderr) })
    : base;
  const root = stringOpt(args, 'root') ?? ctx.root;
  const fileArg = stringOpt(args, 'file');
  let contextDir: string | undefined;
  let dockerfileText: string;
  let dockerfilePath: string;
  if (contextArg === '-') {
    dockerfilePath = 'Dockerfile';
    dockerfileText = await readStdin(ctx);
  } else {
    contextDir = resolve(ctx.cwd, contextArg);
    const st = await stat(contextDir).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw new UserError('context-missing', `unable to prepare context: path "${contextArg}" not found`, { where: contextArg });
    }
    if (fileArg === '-') {
      dockerfilePath = join(contextDir, 'Dockerfile');
      dockerfileText = await readStdin(ctx);
    } else {
      dockerfilePath = fileArg ? (isAbsolute(fileArg) ? fileArg : resolve(ctx.cwd, fileArg)) : join(contextDir, 'Dockerfile');
      dockerfileText = await readDockerfile(dockerfilePath, fileArg ?? join(contextArg, 'Dockerfile'));
      recorder?.follow(dockerfilePath);
    }
    recorder?.follow(contextDir);
    recorder?.realPath(contextDir);
  }

  const network = stringOpt(args, 'network') ?? 'default';
  if (!['default', 'host', 'none'].includes(network)) throw usageError(`invalid --network "${network}": want default, host or none`);
  const entitlements = await entitlementsOf(listOpt(args, 'allow'));
  const sde = ctx.env.SOURCE_DATE_EPOCH;
  const sourceDateEpoch = sde !== undefined && /^[0-9]+$/.test(sde) ? Number(sde) : undefined;

  const cacheTo = listOpt(args, 'cache-to').map((v) => parseCacheSpec(v, 'to', ctx.cwd));
  const cacheFrom = listOpt(args, 'cache-from').map((v) => parseCacheSpec(v, 'from', ctx.cwd));

  const { openStore, normaliseName, writeCacheFile } = await import('../../store/index.js');
  const names = listOpt(args, 'tag').map((t) => normaliseName(t));
  if (boolOpt(args, 'push') && names.length === 0) throw usageError('--push needs a name to push to (-t HOST/NAME:TAG)');
  const store = await openStore(root);
  const { instructions, escape } = await parseDockerfile(store.root, dockerfileText, dockerfilePath);
  const { planBuild } = await import('../../planner/index.js');
  const { makeContentHasher } = await import('../../context/index.js');
  const hasher = await makeContentHasher(store.root, contextDir, dockerfilePath, recorder?.observe);
  for (const f of hasher.ignoreCandidates) recorder?.follow(f);
  const { resolveBaseImage } = await import('../base-image.js');
  const progress = makeProgress(progressMode, ctx.stderr);
  const buildArgMap = buildArgs(listOpt(args, 'build-arg'), ctx.env);
  const secrets = await secretsOf(listOpt(args, 'secret'), ctx);
  const ssh = sshOf(listOpt(args, 'ssh'), ctx);
  try {
    await importCaches(store, cacheFrom, ctx);
    const plan = await planBuild(instructions, {
      buildArgs: buildArgMap,
      target: stringOpt(args, 'target'),
      platform: platformOf(stringOpt(args, 'platform')),
      escape,
      file: dockerfilePath,
      network: network as 'default' | 'host' | 'none',
      entitlements,
      resolveImage: async (ref: string, where: SourceRange) => {
        const progress = (l: string) => {
          // A pull is not repeated by a replay.
          if (recorder) recorder.spoiled = true;
          ctx.stderr.write(l + '\n');
        };
        return resolveBaseImage(store, ref, { where, pull: boolOpt(args, 'pull'), env: ctx.env, progress });
      },
      hashContext: hasher.hash,
    });
    const { executeBuild } = await import('../../executor/index.js');
    const result = await executeBuild(plan, {
      store,
      contextDir,
      ignore: hasher.ignore,
      progress,
      noCache: boolOpt(args, 'no-cache'),
      noCacheStages: listOpt(args, 'no-cache-filter'),
      sourceDateEpoch,
      labels: labels(listOpt(args, 'label')),
      names,
      secrets,
      ssh,
      signal,
    });
    await hasher.save();
    progress.close();
    await exportCaches(store, cacheTo, result.keys, cacheMountIds(plan), ctx);
    if (boolOpt(args, 'push')) await pushNames(store, names, ctx);
    const iidfile = stringOpt(args, 'iidfile');
    if (iidfile) await writeFile(resolve(ctx.cwd, iidfile), result.image.id);
    if (progressMode === 'quiet') ctx.stdout.write(result.image.id + '\n');
    if (recorder && result.executed === 0 && names.length > 0) {
      const rec = recorder.record(replayKey(base.root, argv, ctx.cwd, ctx.env), {
        stdout: printed.stdout.join(''),
        stderr: printed.stderr.join(''),
        ...(iidfile ? { iidfile: [resolve(ctx.cwd, iidfile), result.image.id] as [string, string] } : {}),
      });
      // A cache: not durable, and a failure only costs the next build its shortcut.
      if (rec) await writeCacheFile(rec.path, rec.bytes).catch(() => {});
    }
    return 0;
  } catch (e) {
    progress.close();
    throw e;
  }
}
