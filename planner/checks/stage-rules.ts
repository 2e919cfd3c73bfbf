import type { SourceRange } from '../../common/index.js';
import type { Matcher } from '../../context/index.js';
import { expandInstruction, type Instruction, type RawDockerfile, type RawInstruction } from '../../parser/index.js';
import { formatPlatform, parsePlatformSpec, suggest } from '../../common/index.js';
import { fromChecks, type FromContext } from './from-rules.js';
import type { Linter } from './linter.js';

/** What a check needs of a base image's config. */
export interface BaseInfo {
  env: readonly string[];
  shell?: readonly string[];
  os?: string;
  architecture?: string;
}

export interface StageWalk {
  raw: RawDockerfile;
  typed: readonly Instruction[];
  lint: (i: number) => Linter;
  from: FromContext;
  buildArgs: ReadonlyMap<string, string>;
  ignore?: Matcher;
  /** Stages the build dispatches (BuildKit checks instructions only there). */
  reachable: (stage: number) => boolean;
  baseImage?(name: string, where: SourceRange): Promise<BaseInfo | undefined>;
}

/** A stage's state at its end, for a stage built FROM it (BuildKit's initFromBase copies these). */
interface StageEnd {
  name?: string;
  env: Map<string, string>;
  shell: boolean;
  /** ARG names declared (d.buildArgs): never reported as undefined. */
  declared: Set<string>;
  workdirSet: boolean;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** nonEnvArgs: build args BuildKit reads itself, never reported as undefined. */
const NON_ENV_ARGS = new Set(['BUILDKIT_SBOM_SCAN_CONTEXT', 'BUILDKIT_SBOM_SCAN_STAGE']);

function envMap(entries: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of entries) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

/**
 * The checks BuildKit runs while dispatching each stage (dispatchState in convert.go): FROM's
 * args, then per instruction UndefinedVar, LegacyKeyValueFormat, SecretsUsedInArgOrEnv,
 * MultipleInstructionsDisallowed, JSONArgsRecommended, WorkdirRelativePath, CopyIgnoredFile,
 * the EXPOSE rules, and InvalidBaseImagePlatform when the base image is known.
 */
export async function stageChecks(w: StageWalk): Promise<void> {
  const ends: StageEnd[] = [];
  const starts = w.typed.flatMap((t, i) => (t.kind === 'from' ? [i] : []));
  for (let k = 0; k < starts.length; k++) {
    const at = starts[k];
    const from = w.typed[at] as Extract<Instruction, { kind: 'from' }>;
    const node = w.raw.instructions[at];
    const l = w.lint(at);
    fromChecks(from, node, w.from, l);
    const end: StageEnd = { name: from.stageName?.toLowerCase(), env: new Map(), shell: false, declared: new Set(), workdirSet: false };
    ends.push(end);
    if (!w.reachable(k)) continue;
    await base(w, from, node, ends, end, l);
    const body = w.typed.slice(at + 1, starts[k + 1] ?? w.typed.length);
    new StageDispatch(w, end).run(body, at + 1);
  }
}

/** The env and shell a stage starts with: its parent stage's, an image's, or scratch's. */
async function base(w: StageWalk, from: Extract<Instruction, { kind: 'from' }>, node: RawInstruction, ends: StageEnd[], end: StageEnd, l: Linter): Promise<void> {
  let name: string;
  let stagePlatform: string | undefined;
  try {
    const expanded = expandInstruction(from, w.from.globalEnv, w.from.escape).instruction;
    name = expanded.image;
    stagePlatform = expanded.platform;
  } catch {
    return;
  }
  const parent = ends.slice(0, -1).find((e) => e.name !== undefined && e.name === name.toLowerCase());
  if (parent) {
    end.env = new Map(parent.env);
    end.shell = parent.shell;
    end.declared = new Set(parent.declared);
    end.workdirSet = parent.workdirSet;
    return;
  }
  if (name.toLowerCase() === 'scratch' || name === '') {
    end.env = envMap([DEFAULT_PATH]);
    return;
  }
  const info = await w.baseImage?.(name, node.range);
  if (!info) return;
  end.env = envMap(info.env);
  end.shell = (info.shell?.length ?? 0) > 0;
  // The stage's own platform (FROM --platform) is what its base must be for (convert.go validateBaseImagePlatform).
  const expected = stagePlatformOf(stagePlatform) ?? w.from.targetPlatform;
  const [os, arch] = expected.split('/');
  if (info.os !== undefined && info.architecture !== undefined && (info.os !== os || info.architecture !== arch)) {
    l.run('InvalidBaseImagePlatform', node.range, name, expected, `${info.os}/${info.architecture}`);
  }
}

/** `FROM --platform`'s value, normalised (`linux/aarch64` → `linux/arm64`); undefined when absent or not a platform. */
function stagePlatformOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return formatPlatform(parsePlatformSpec(value));
  } catch {
    return undefined;
  }
}

function secretsRe(tokens: string[]): RegExp {
  return new RegExp(`(?:_|^)(?:${tokens.join('|')})(?:_|$)`, 'i');
}
const SECRET = secretsRe(['apikey', 'auth', 'credential', 'credentials', 'key', 'password', 'pword', 'passwd', 'secret', 'token']);
const NOT_SECRET = secretsRe(['public', 'file', 'version']);

/** One stage's instructions, in order, as BuildKit's dispatch sees them. */
class StageDispatch {
  private readonly used = new Map<'cmd' | 'entrypoint' | 'healthcheck', SourceRange>();
  private lint!: Linter;

  constructor(private readonly w: StageWalk, private readonly end: StageEnd) {}

  run(body: readonly Instruction[], offset: number): void {
    body.forEach((ins, j) => {
      this.lint = this.w.lint(offset + j);
      this.one(ins, this.w.raw.instructions[offset + j]);
    });
  }

  private one(ins: Instruction, node: RawInstruction): void {
    switch (ins.kind) {
      case 'arg':
        for (const a of ins.args) this.arg(a.name, a.default, node);
        return;
      case 'env': {
        this.legacyKeyValue(node);
        for (const p of ins.pairs) this.secret('ENV', p.key, node);
        const e = this.expand(ins, node);
        if (e) for (const p of e.pairs) this.end.env.set(p.key, p.value);
        return;
      }
      case 'label':
        this.legacyKeyValue(node);
        this.expand(ins, node);
        return;
      case 'cmd':
      case 'entrypoint':
        this.once(ins.kind, node);
        if (ins.command.form === 'shell' && !this.end.shell) this.lint.run('JSONArgsRecommended', node.range, node.name);
        return;
      case 'healthcheck':
        this.once('healthcheck', node);
        return;
      case 'shell':
        this.end.shell = true;
        return;
      case 'workdir': {
        const e = this.expand(ins, node);
        if (e && !this.end.workdirSet && !e.path.startsWith('/')) this.lint.run('WorkdirRelativePath', node.range, e.path);
        this.end.workdirSet = true;
        return;
      }
      case 'copy':
      case 'add': {
        const e = this.expand(ins, node);
        if (e && e.from === undefined) for (const s of e.sources) this.ignored(ins.kind, s, node);
        return;
      }
      case 'expose': {
        const e = this.expand(ins, node);
        if (e) for (const p of e.ports) this.exposePort(p, node);
        return;
      }
      case 'user':
      case 'volume':
      case 'stopsignal':
        this.expand(ins, node);
        return;
      case 'from':
      case 'run':
      case 'onbuild':
      case 'maintainer':
        return;
    }
  }

  /** dispatchArg: a build arg's value wins, then the default (expanded), then a global ARG's. */
  private arg(name: string, def: string | undefined, node: RawInstruction): void {
    this.secret('ARG', name, node);
    let value: string | undefined;
    if (this.w.buildArgs.has(name)) value = this.w.buildArgs.get(name);
    else if (def !== undefined) value = this.word(def, node);
    else value = this.w.from.globalEnv.get(name);
    this.end.declared.add(name);
    if (value !== undefined) this.end.env.set(name, value);
  }

  private word(text: string, node: RawInstruction): string | undefined {
    const e = this.expand({ kind: 'workdir', path: text, range: node.range, keywordRange: node.keywordRange }, node);
    return e?.path;
  }

  /** Expands as the build will, reporting each variable nothing defines (reportUnmatchedVariables). */
  private expand<T extends Instruction>(ins: T, node: RawInstruction): T | undefined {
    let r: ReturnType<typeof expandInstruction<T>>;
    try {
      r = expandInstruction(ins, this.end.env, this.w.from.escape);
    } catch {
      return undefined; // the build reports it
    }
    for (const v of r.unmatched) {
      if (this.end.declared.has(v) || NON_ENV_ARGS.has(v)) continue;
      this.lint.run('UndefinedVar', node.range, v, suggest(v, [...this.end.env.keys()]));
    }
    return r.instruction;
  }

  private legacyKeyValue(node: RawInstruction): void {
    for (let i = 2; i < node.args.length; i += 3) if (node.args[i] === '') this.lint.run('LegacyKeyValueFormat', node.range, node.name);
  }

  private secret(instruction: 'ARG' | 'ENV', key: string, node: RawInstruction): void {
    if (SECRET.test(key) && !NOT_SECRET.test(key)) this.lint.run('SecretsUsedInArgOrEnv', node.range, instruction, key);
  }

  /** validateUsedOnce: the earlier instruction is the one that is ignored, so it is the one shown. */
  private once(kind: 'cmd' | 'entrypoint' | 'healthcheck', node: RawInstruction): void {
    const before = this.used.get(kind);
    if (before) this.lint.run('MultipleInstructionsDisallowed', before, node.name);
    this.used.set(kind, node.range);
  }

  /** validateCopySourcePath: skipped when .dockerignore has `!` exceptions (too hard to judge statically). */
  private ignored(kind: 'copy' | 'add', src: string, node: RawInstruction): void {
    const m = this.w.ignore;
    if (!m || m.patterns.some((p) => p.startsWith('!'))) return;
    if (kind === 'add' && /^(https?:\/\/|git@|ssh:\/\/|git:\/\/)/.test(src)) return;
    const clean = src.replace(/\/+$/, '').replace(/^\.\//, '') || '.';
    if (clean === '.' || clean === '/') {
      if (!m.patterns.some((p) => p === '*' || p === '**' || p === '**/*')) return;
    }
    if (m.isExcluded(clean.replace(/^\/+/, ''))) this.lint.run('CopyIgnoredFile', node.range, kind === 'add' ? 'Add' : 'Copy', clean);
  }

  /** parsePort: `[ip:][hostPort:]containerPort[/proto]`. */
  private exposePort(raw: string, node: RawInstruction): void {
    const slash = raw.lastIndexOf('/');
    const proto = slash >= 0 ? raw.slice(slash + 1) : '';
    const addr = slash >= 0 ? raw.slice(0, slash) : raw;
    if (proto !== proto.toLowerCase()) this.lint.run('ExposeProtoCasing', node.range, raw);
    if (addr.includes(':')) this.lint.run('ExposeInvalidFormat', node.range, raw);
  }
}
