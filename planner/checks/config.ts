import { UserError } from '../../common/index.js';

/**
 * Which checks run and whether a warning fails the build: BuildKit's linter.Config, read
 * from the `# check=skip=A,B;error=true;experimental=C` directive or the
 * BUILDKIT_DOCKERFILE_CHECK build arg (which replaces the directive, as dockerui does).
 */
export interface CheckConfig {
  skipAll: boolean;
  skip: ReadonlySet<string>;
  experimentalAll: boolean;
  experimental: ReadonlySet<string>;
  error: boolean;
}

export const DEFAULT_CHECK_CONFIG: CheckConfig = { skipAll: false, skip: new Set(), experimentalAll: false, experimental: new Set(), error: false };

/** Go's strconv.ParseBool. */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

const list = (v: string) => v.split(',').map((r) => r.trim());

/** linter.ParseLintOptions; `what` names the source in the error (the directive or the build arg). */
export function parseCheckOptions(text: string, what: string): CheckConfig {
  const s = text.trim();
  if (s === '') return DEFAULT_CHECK_CONFIG;
  const out = { skipAll: false, skip: new Set<string>(), experimentalAll: false, experimental: new Set<string>(), error: false };
  const bad = (m: string) => new UserError('bad-check-option', `failed to parse check options (${what}): ${m}`, { where: what, hint: 'want e.g. skip=JSONArgsRecommended,StageNameCasing;error=true' });
  // Go's strings.SplitN(s, ";", 3): a third part keeps any further semicolons.
  const parts = s.split(';');
  const fields = parts.length > 3 ? [...parts.slice(0, 2), parts.slice(2).join(';')] : parts;
  for (const p of fields) {
    const i = p.indexOf('=');
    if (i < 0) throw bad(`invalid check option ${JSON.stringify(p)}`);
    const key = p.slice(0, i).trim();
    const value = p.slice(i + 1).trim();
    switch (key) {
      case 'skip':
        if (value === 'all') out.skipAll = true;
        else for (const r of list(value)) out.skip.add(r);
        break;
      case 'experimental':
        if (value === 'all') out.experimentalAll = true;
        else for (const r of list(value)) out.experimental.add(r);
        break;
      case 'error': {
        const b = parseBool(value);
        if (b === undefined) throw bad(`invalid boolean ${JSON.stringify(value)} in ${JSON.stringify(p)}`);
        out.error = b;
        break;
      }
      default:
        throw bad(`invalid check option ${JSON.stringify(key)}`);
    }
  }
  return out;
}

/** linter.WithMergedConfig: `other` adds skips and experiments; `error` stays the build's. */
export function mergeCheckConfig(base: CheckConfig, other: CheckConfig): CheckConfig {
  return {
    skipAll: base.skipAll || other.skipAll,
    skip: new Set([...base.skip, ...other.skip]),
    experimentalAll: base.experimentalAll || other.experimentalAll,
    experimental: new Set([...base.experimental, ...other.experimental]),
    error: base.error,
  };
}

const RE_CHECK_COMMENT = /^check[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/is;

/**
 * WithMergedConfigFromComments: a `# check=…` comment right above an instruction adds to
 * the settings for that instruction (the first one only; a malformed one is ignored there).
 */
export function commentCheckConfig(base: CheckConfig, comments: readonly string[]): CheckConfig {
  for (const c of comments) {
    const m = RE_CHECK_COMMENT.exec(c);
    if (!m) continue;
    try {
      return mergeCheckConfig(base, parseCheckOptions(m[1].split(' ')[0], 'comment'));
    } catch {
      return base;
    }
  }
  return base;
}
