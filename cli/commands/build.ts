import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../../common/index.js';
import type { BuildOptions, BuildResult, Call, CallResult, CheckWarning, Entitlement } from '../../engine/index.js';
import { writeCacheFile } from '../../store/index.js';
import { withFields, type Command, type CliContext } from '../command.js';
import { boolOpt, listOpt, parseArgs, stringOpt, usageError, type OptionSpec, type ParsedArgs } from '../args.js';
import { makeProgress, renderTo, type ProgressMode } from '../progress.js';
import { parseCacheSpec } from '../cache-spec.js';
import { parseAnnotation, parseOutputSpecs } from '../output-spec.js';
import { parseBuildContext } from '../build-context-spec.js';
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
  { name: 'check', type: 'boolean' },
  { name: 'call', type: 'string' },
  { name: 'format', type: 'string' },
  { name: 'output', short: 'o', type: 'string', multiple: true },
  { name: 'annotation', type: 'string', multiple: true },
  { name: 'load', type: 'boolean' },
  { name: 'build-context', type: 'string', multiple: true },
  { name: 'on-error', type: 'string' },
];

export const command: Command = {
  name: 'build',
  usage:
    'tsbuild [build] [-t NAME[:TAG]]... [-f Dockerfile] [--build-arg K=V]... [--target STAGE] [--no-cache] [--no-cache-filter STAGE] [--pull] [--network default|host|none] [--progress auto|plain|tty|quiet] [--label K=V] [--iidfile F] [--cache-from SPEC] [--cache-to SPEC] [--push] [--secret id=X,src=FILE|env=VAR] [--ssh default] [--allow network.host|security.insecure] [-o type=image|registry|local|tar|oci|docker[,dest=PATH][,name=N][,push=true][,tar=false]|DIR|-]... [--annotation [TYPE:]K=V]... [--load] [--build-context NAME=DIR|docker-image://REF|oci-layout://PATH[:TAG|@DIGEST]]... [--check] [--call build|check|outline|targets[,format=json]] [--format text|json] [--on-error fail|shell|keep] CONTEXT|-',
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

async function readStdin(ctx: CliContext): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of ctx.stdin) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
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

/** `--allow a,b --allow c`: BuildKit's entitlements, each one it knows (buildx splits on commas too). */
async function entitlementsOf(values: string[]): Promise<Set<Entitlement>> {
  const { ENTITLEMENTS } = await import('../../engine/index.js');
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
function replayRecorder(args: ParsedArgs, contextArg: string, mode: ProgressMode, ctx: CliContext): ReplayRecorder | undefined {
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

/**
 * `--call NAME[,format=json|text][,ignorestatus=true]` (buildx's CallFunc), `--check` for
 * `--call=check`, `--format` for the format.
 */
function callOf(args: ParsedArgs): { call: Call; format: 'text' | 'json'; ignoreStatus: boolean } {
  const spec = stringOpt(args, 'call');
  const check = boolOpt(args, 'check');
  if (check && spec !== undefined && spec.split(',')[0].trim() !== 'check') throw usageError('--check cannot be combined with --call ' + spec);
  const [name = 'build', ...fields] = (spec ?? (check ? 'check' : 'build')).split(',').map((f) => f.trim());
  let format = stringOpt(args, 'format') ?? 'text';
  let ignoreStatus = false;
  for (const f of fields) {
    const i = f.indexOf('=');
    const key = i < 0 ? f : f.slice(0, i);
    const value = i < 0 ? '' : f.slice(i + 1);
    if (key === 'format') format = value;
    else if (key === 'ignorestatus') ignoreStatus = value === 'true' || value === '1';
    else throw usageError(`invalid --call "${spec}": unknown field "${key}" (want format=text|json, ignorestatus=true)`);
  }
  const call = (name === 'lint' ? 'check' : name) as Call;
  if (!['build', 'check', 'outline', 'targets'].includes(call)) throw usageError(`invalid --call "${name}": want build, check, outline or targets`);
  if (format !== 'text' && format !== 'json') throw usageError(`invalid format "${format}": want text or json`);
  if (call === 'build' && format === 'json') throw usageError('--format json needs --call check, outline or targets');
  return { call, format, ignoreStatus };
}

/** The text each warning's file had, for the caret: the one given on stdin, else read from disk. */
function sourcesFor(warnings: readonly CheckWarning[], opts: BuildOptions): Map<string, string> {
  const m = new Map<string, string>();
  for (const w of warnings) {
    const file = w.where?.file;
    if (!file || m.has(file)) continue;
    if (typeof opts.dockerfile === 'object') m.set(file, opts.dockerfile.text);
    else {
      try {
        m.set(file, readFileSync(file, 'utf8'));
      } catch {
        // no snippet then
      }
    }
  }
  return m;
}

/** A subrequest's answer on stdout, as buildx prints it; the exit code (check: 1 on a warning). */
async function printCall(r: CallResult, format: 'text' | 'json', ignoreStatus: boolean, opts: BuildOptions, ctx: CliContext): Promise<number> {
  if (format === 'json') ctx.stdout.write(JSON.stringify(r.result, null, 2) + '\n');
  else if (r.call === 'outline') ctx.stdout.write((await import('../call-output.js')).outlineText(r.result));
  else if (r.call === 'targets') ctx.stdout.write((await import('../call-output.js')).targetsText(r.result));
  else ctx.stdout.write((await import('../render-warning.js')).renderCheckReport(r.warnings, sourcesFor(r.warnings, opts)));
  return r.call === 'check' && !ignoreStatus ? r.exitCode : 0;
}

/**
 * `--output`s, and `--load` (buildx: `type=docker`, which for tsbuild is the store); the
 * local and tar outputs make no image, so no `--iidfile` (buildx refuses the pair too).
 */
function outputsOf(args: ParsedArgs, ctx: CliContext): Pick<BuildOptions, 'outputs'> {
  const specs = listOpt(args, 'output');
  if (specs.length === 0) return {};
  const { outputs, isStdout } = parseOutputSpecs(specs, { stdout: ctx.stdout });
  if (boolOpt(args, 'load') && !outputs.some((o) => o.type === 'image')) outputs.push({ type: 'image' });
  if (stringOpt(args, 'iidfile') !== undefined && outputs.some((o) => o.type === 'local' || o.type === 'tar')) {
    throw usageError('local and tar exporters are incompatible with image ID file');
  }
  if (isStdout && boolOpt(args, 'quiet')) throw usageError('--quiet prints the image id on stdout, where an output already writes: give the output a dest file');
  return { outputs };
}

/** argv → BuildOptions: every option read once, here. */
async function buildOptions(args: ParsedArgs, ctx: CliContext, signal: AbortSignal): Promise<BuildOptions> {
  const contextArg = args.positionals[0];
  const fileArg = stringOpt(args, 'file');
  const network = stringOpt(args, 'network') ?? 'default';
  if (!['default', 'host', 'none'].includes(network)) throw usageError(`invalid --network "${network}": want default, host or none`);
  const onError = stringOpt(args, 'on-error') ?? 'fail';
  if (!['fail', 'shell', 'keep'].includes(onError)) throw usageError(`invalid --on-error "${onError}": want fail, shell or keep`);
  // The shell takes over the terminal: without one, say so before building (Docker's TTY error).
  if (onError === 'shell' && !(ctx.stdin.isTTY && ctx.stdout.isTTY)) {
    throw new UserError('not-a-tty', '--on-error=shell needs a terminal: the input device is not a TTY', {
      hint: 'use --on-error=keep to keep the failed step as a container, and enter it later with `tsbuild run -it --from-container ID`',
    });
  }
  const { settingsFromEnv } = await import('../../engine/index.js');
  const dockerfile = contextArg === '-' ? { text: await readStdin(ctx), path: 'Dockerfile' } : fileArg === '-' ? { text: await readStdin(ctx) } : fileArg;
  return {
    ...(contextArg === '-' ? {} : { context: contextArg }),
    dockerfile,
    tags: listOpt(args, 'tag'),
    buildArgs: Object.fromEntries(buildArgs(listOpt(args, 'build-arg'), ctx.env)),
    target: stringOpt(args, 'target'),
    noCache: boolOpt(args, 'no-cache'),
    noCacheFilter: listOpt(args, 'no-cache-filter'),
    pull: boolOpt(args, 'pull'),
    network: network as BuildOptions['network'],
    labels: Object.fromEntries(labels(listOpt(args, 'label'))),
    platform: stringOpt(args, 'platform'),
    push: boolOpt(args, 'push'),
    ...outputsOf(args, ctx),
    annotations: listOpt(args, 'annotation').flatMap(parseAnnotation),
    buildContexts: Object.fromEntries(listOpt(args, 'build-context').map(parseBuildContext)),
    cacheFrom: listOpt(args, 'cache-from').map((v) => parseCacheSpec(v, 'from', ctx.cwd)),
    cacheTo: listOpt(args, 'cache-to').map((v) => parseCacheSpec(v, 'to', ctx.cwd)),
    secrets: Object.fromEntries(await secretsOf(listOpt(args, 'secret'), ctx)),
    ssh: Object.fromEntries(sshOf(listOpt(args, 'ssh'), ctx)),
    allow: [...(await entitlementsOf(listOpt(args, 'allow')))],
    store: stringOpt(args, 'root') ?? ctx.root,
    settings: settingsFromEnv(ctx.env),
    cwd: ctx.cwd,
    signal,
    call: callOf(args).call,
    onError: onError as BuildOptions['onError'],
  };
}

async function buildOnce(argv: string[], base: CliContext, signal: AbortSignal): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length !== 1) {
    throw usageError(`"build" requires exactly 1 argument (the context: a folder, or - for a Dockerfile on stdin)`);
  }
  const contextArg = args.positionals[0];
  // The tty display redraws on a timer: it would draw over the shell --on-error=shell opens.
  const progressMode = (boolOpt(args, 'quiet') ? 'quiet' : stringOpt(args, 'progress') ?? (stringOpt(args, 'on-error') === 'shell' ? 'plain' : 'auto')) as ProgressMode;
  if (!['auto', 'plain', 'tty', 'quiet'].includes(progressMode)) throw usageError(`invalid --progress "${progressMode}": want auto, plain, tty or quiet`);
  const recorder = replayRecorder(args, contextArg, progressMode, base);
  const printed = { stdout: [] as string[], stderr: [] as string[] };
  const ctx: CliContext = recorder
    ? withFields(base, { stdout: keeping(base.stdout, printed.stdout), stderr: keeping(base.stderr, printed.stderr) })
    : base;
  const opts = await buildOptions(args, ctx, signal);
  if (recorder) {
    opts.inputs = {
      lstat: recorder.observe,
      stat: (p) => recorder.follow(p),
      realPath: (p) => recorder.realPath(p),
      pulled: () => {
        // A pull is not repeated by a replay.
        recorder.spoiled = true;
      },
      fetched: () => {
        // Nor is the conditional request that tells whether a URL or git ref changed.
        recorder.spoiled = true;
      },
    };
  }
  const { build } = await import('../../engine/index.js');
  const { format, ignoreStatus } = callOf(args);
  const job = build(opts);
  const display = makeProgress(opts.call === 'build' ? progressMode : 'quiet', ctx.stderr);
  job.addEventListener('progress', renderTo(display, ctx.stderr));
  let warnings: CheckWarning[] = [];
  job.addEventListener('progress', ({ detail }) => {
    if (detail.type === 'checks') warnings = detail.warnings;
  });
  let outcome: BuildResult | CallResult;
  try {
    outcome = await job;
  } finally {
    display.close();
    // A call prints its own report; a build ends with its warnings, failed or not (BuildKit).
    if (opts.call === 'build' && warnings.length) {
      const { renderBuildWarning } = await import('../render-warning.js');
      const sources = sourcesFor(warnings, opts);
      ctx.stderr.write(warnings.map((w) => renderBuildWarning(w, sources)).join('\n') + '\n');
    }
  }
  if ('call' in outcome) return printCall(outcome, format, ignoreStatus, opts, ctx);
  const result = outcome;
  const iidfile = stringOpt(args, 'iidfile');
  if (iidfile) await writeFile(resolve(ctx.cwd, iidfile), result.imageId);
  if (progressMode === 'quiet') ctx.stdout.write(result.imageId + '\n');
  if (recorder && result.executed === 0 && result.names.length > 0) {
    const rec = recorder.record(replayKey(base.root, argv, ctx.cwd, ctx.env), {
      stdout: printed.stdout.join(''),
      stderr: printed.stderr.join(''),
      ...(iidfile ? { iidfile: [resolve(ctx.cwd, iidfile), result.imageId] as [string, string] } : {}),
    });
    // A cache: not durable, and a failure only costs the next build its shortcut.
    if (rec) await writeCacheFile(rec.path, rec.bytes).catch(() => {});
  }
  return 0;
}
