import { suggest } from '../../common/index.js';
import { expandWord, type From, type Instruction, type RawInstruction } from '../../parser/index.js';
import type { Linter } from './linter.js';

/** What the FROM checks need of the build. */
export interface FromContext {
  escape: string;
  /** Predefined args (platforms, TARGETSTAGE) then the global ARGs with the build args applied. */
  globalEnv: ReadonlyMap<string, string>;
  /** The global ARGs' defaults alone, no build args (validateBaseImagesWithDefaultArgs). */
  defaultEnv: ReadonlyMap<string, string>;
  /** Every name a global ARG declares, and the predefined ones. */
  declared: readonly string[];
  /** The build's target platform, `os/arch[/variant]`. */
  targetPlatform: string;
}

type Expansion = { value: string; used: Set<string>; unmatched: Set<string> };

function tryExpand(word: string, env: ReadonlyMap<string, string>, escape: string): Expansion | undefined {
  try {
    return expandWord(word, env, { escape });
  } catch {
    return undefined; // the build reports a malformed word itself
  }
}

/**
 * The checks BuildKit runs on each FROM before resolving anything (buildDispatchStates and
 * validateBaseImagesWithDefaultArgs): undeclared args in the name or --platform, a default
 * that makes the name invalid, `--platform=$TARGETPLATFORM`, a constant --platform.
 */
export function fromChecks(from: From, node: RawInstruction, fc: FromContext, l: Linter): void {
  const name = tryExpand(from.image, fc.globalEnv, fc.escape);
  if (name) undeclared(name, fc, node, l);
  const byDefault = tryExpand(from.image, fc.defaultEnv, fc.escape);
  if (byDefault && !isValidReference(byDefault.value)) l.run('InvalidDefaultArgInFrom', node.range, from.image);
  if (from.platform === undefined) return;
  const platform = tryExpand(from.platform, fc.globalEnv, fc.escape);
  if (!platform) return;
  undeclared(platform, fc, node, l);
  if (platform.used.size === 1 && platform.used.has('TARGETPLATFORM') && platform.unmatched.size === 0 && platform.value === fc.targetPlatform) {
    l.run('RedundantTargetPlatform', node.range, from.platform);
  }
  if (platform.used.size === 0 && platform.unmatched.size === 0) constPlatform(platform.value, from.stageName ?? '', node, l);
}

/** reportUnusedFromArgs: a variable neither predefined nor declared by a global ARG. */
function undeclared(e: Expansion, fc: FromContext, node: RawInstruction, l: Linter): void {
  for (const v of e.unmatched) {
    if (fc.declared.includes(v)) continue;
    l.run('UndefinedArgInFrom', node.range, v, suggest(v, fc.declared));
  }
}

const KNOWN_OS = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'android', 'ios', 'aix', 'plan9']);
const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386' };

/** reportConstPlatformDisallowed: unless the stage's name says which platform it is for. */
function constPlatform(value: string, stageName: string, node: RawInstruction, l: Linter): void {
  const parts = value.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_-]+$/.test(p))) return; // platforms.Parse fails: the build will say so
  let os = parts[0];
  let arch = parts[1] ?? '';
  if (parts.length === 1 && !KNOWN_OS.has(os)) {
    arch = os;
    os = 'linux';
  }
  arch = ARCH_ALIASES[arch] ?? arch;
  if (stageName.includes(os) || (arch !== '' && stageName.includes(arch))) return;
  l.run('FromPlatformFlagConstDisallowed', node.range, value);
}

const DOMAIN = String.raw`(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?`;
const COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`;
const REFERENCE = new RegExp(
  String.raw`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

/** distribution/reference.ParseNormalizedNamed, as far as a name's shape goes. */
export function isValidReference(name: string): boolean {
  if (name === '' || /^[a-f0-9]{64}$/.test(name)) return false;
  return REFERENCE.test(name);
}

/** The global ARG names, in order. */
export function globalArgNames(typed: readonly Instruction[]): string[] {
  const out: string[] = [];
  for (const t of typed) {
    if (t.kind === 'from') break;
    if (t.kind === 'arg') for (const a of t.args) out.push(a.name);
  }
  return out;
}
