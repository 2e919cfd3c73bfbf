import { UserError, type SourceRange } from '../../common/index.js';
import type { Matcher } from '../../context/index.js';
import { expandWord, type Instruction, type RawDockerfile } from '../../parser/index.js';
import { messages } from '../messages.js';
import { platformArgs } from '../scope.js';
import { reachableStages } from '../stage-deps.js';
import { DEFAULT_CHECK_CONFIG, commentCheckConfig, parseCheckOptions, type CheckConfig } from './config.js';
import { globalArgNames, type FromContext } from './from-rules.js';
import { Linter, type CheckWarning } from './linter.js';
import { stageChecks, type BaseInfo } from './stage-rules.js';
import { syntaxChecks } from './syntax-rules.js';

export interface CheckInput {
  raw: RawDockerfile;
  /** typeInstructions(raw): one per raw instruction. */
  instructions: readonly Instruction[];
  buildArgs: ReadonlyMap<string, string>;
  platform: { os: string; architecture: string; variant?: string };
  target?: string;
  /** The context's .dockerignore, for CopyIgnoredFile. */
  ignore?: Matcher;
  /** The stages the build dispatches; all of them when absent (BuildKit's lint without a target). */
  stages?: ReadonlySet<number>;
  /** A base image's config; undefined skips what needs it. */
  baseImage?(name: string, where: SourceRange): Promise<BaseInfo | undefined>;
}

export interface CheckResult {
  /** Sorted by line, as BuildKit prints them. */
  warnings: CheckWarning[];
  /** The settings say a warning fails the build (`error=true`). */
  error: boolean;
  config: CheckConfig;
}

/** The build arg that replaces the `# check=` directive (dockerui's keyDockerfileLintArg). */
export const CHECK_BUILD_ARG = 'BUILDKIT_DOCKERFILE_CHECK';

/** The settings: the build arg when given, else the directive, else everything on. */
export function checkConfigOf(raw: RawDockerfile, buildArgs: ReadonlyMap<string, string>): CheckConfig {
  const arg = buildArgs.get(CHECK_BUILD_ARG);
  if (arg !== undefined) return parseCheckOptions(arg, `--build-arg ${CHECK_BUILD_ARG}`);
  const directive = raw.directives.check;
  return directive === undefined ? DEFAULT_CHECK_CONFIG : parseCheckOptions(directive, `${raw.file}: # check=`);
}

/** BuildKit's stage name for TARGETSTAGE: the target's, else the last stage's, else "default". */
export function targetStageName(instructions: readonly Instruction[], target: string | undefined): string {
  if (target) return target;
  const froms = instructions.filter((i): i is Extract<Instruction, { kind: 'from' }> => i.kind === 'from');
  return froms[froms.length - 1]?.stageName?.toLowerCase() || 'default';
}

/** Every build check on a Dockerfile (frontend/dockerfile/linter). Throws only on bad settings. */
export async function runChecks(input: CheckInput): Promise<CheckResult> {
  const config = checkConfigOf(input.raw, input.buildArgs);
  const root = new Linter(config);
  const lint = (i: number) => {
    const comments = input.raw.instructions[i]?.comments ?? [];
    return comments.length ? root.with(commentCheckConfig(config, comments)) : root;
  };
  syntaxChecks(input.raw, input.instructions, lint);
  const from = fromContext(input);
  const stages = input.stages ?? targetClosure(input, from);
  await stageChecks({
    raw: input.raw,
    typed: input.instructions,
    lint,
    from,
    buildArgs: input.buildArgs,
    ignore: input.ignore,
    reachable: (k) => stages === undefined || stages.has(k),
    baseImage: input.baseImage,
  });
  const warnings = [...root.warnings].sort((a, b) => (a.where?.start.line ?? 0) - (b.where?.start.line ?? 0));
  return { warnings, error: config.error && warnings.length > 0, config };
}

/** With a target and no plan, the stages it needs; without a target, all (BuildKit's lint). */
function targetClosure(input: CheckInput, from: FromContext): ReadonlySet<number> | undefined {
  if (!input.target) return undefined;
  const names = input.instructions.flatMap((t) => (t.kind === 'from' ? [t.stageName?.toLowerCase()] : []));
  const target = names.indexOf(input.target.toLowerCase());
  if (target < 0) {
    const known = names.filter((n): n is string => n !== undefined);
    throw new UserError('unknown-target', messages['unknown-target'](input.target, known), { exitCode: 1 });
  }
  return reachableStages(input.instructions, target, from.globalEnv, from.escape);
}

/** The global scope FROM lines expand in, with and without the build args. */
function fromContext(input: CheckInput): FromContext {
  const { escape = '\\' } = input.raw.directives;
  const predefined = platformArgs(input.platform);
  predefined.set('TARGETSTAGE', targetStageName(input.instructions, input.target));
  const globalEnv = new Map(predefined);
  const defaultEnv = new Map(predefined);
  for (const t of input.instructions) {
    if (t.kind === 'from') break;
    if (t.kind !== 'arg') continue;
    for (const a of t.args) {
      // Expansion errors surface in the build; here a bad default is just not set.
      const given = input.buildArgs.get(a.name);
      if (a.default !== undefined) {
        defaultEnv.set(a.name, tryWord(a.default, defaultEnv, escape) ?? '');
        globalEnv.set(a.name, given ?? tryWord(a.default, globalEnv, escape) ?? '');
      } else if (given !== undefined) globalEnv.set(a.name, given);
    }
  }
  const p = input.platform;
  return {
    escape,
    globalEnv,
    defaultEnv,
    declared: [...new Set([...predefined.keys(), ...globalArgNames(input.instructions)])],
    targetPlatform: `${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''}`,
  };
}

function tryWord(word: string, env: ReadonlyMap<string, string>, escape: string): string | undefined {
  try {
    return expandWord(word, env, { escape }).value;
  } catch {
    return undefined;
  }
}
