import { messages } from '../messages.js';
import { FLAG_TABLE, type FlagKeyword, type FlagType } from './flag-table.js';
import { Problem, problem } from './problem.js';
import { suggest } from '../../common/index.js';

/**
 * BuildKit's BFlags: an instruction's flags (its row of FLAG_TABLE), each `--name=value` (a
 * bool may be bare), checked for unknown names, duplicates and missing values.
 */
export interface FlagValues {
  readonly bools: ReadonlyMap<string, boolean>;
  readonly strings: ReadonlyMap<string, string>;
  readonly lists: ReadonlyMap<string, string[]>;
  readonly used: ReadonlySet<string>;
}

/** An instruction without flags (most of them): one shared value, no maps of its own. */
const NO_FLAGS: FlagValues = { bools: new Map(), strings: new Map(), lists: new Map(), used: new Set() };

export function parseFlags(keyword: FlagKeyword, flags: readonly string[]): FlagValues {
  if (flags.length === 0) return NO_FLAGS;
  const spec: Record<string, FlagType> = FLAG_TABLE[keyword];
  const out = { bools: new Map<string, boolean>(), strings: new Map<string, string>(), lists: new Map<string, string[]>(), used: new Set<string>() };
  for (const word of flags) {
    if (word === '--') break;
    const body = word.slice(2);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const value = eq >= 0 ? body.slice(eq + 1) : '';
    const type = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (type === undefined) {
      const guess = suggest(name, Object.keys(spec));
      throw new Problem('unknown-flag', messages['unknown-flag'](keyword, name), { hint: guess ? `did you mean --${guess}?` : undefined }).atFlag(name);
    }
    if (out.used.has(name) && type !== 'strings') throw problem('duplicate-flag', keyword, name).atFlag(name, true);
    out.used.add(name);
    switch (type) {
      case 'bool': {
        if (eq >= 0 && value === '') throw problem('flag-needs-value', keyword, name).atFlag(name);
        const lower = value.toLowerCase();
        if (lower !== '' && lower !== 'true' && lower !== 'false') throw problem('flag-not-bool', keyword, name, value).atFlag(name);
        out.bools.set(name, lower !== 'false');
        break;
      }
      case 'string':
        if (eq < 0) throw problem('flag-needs-value', keyword, name).atFlag(name);
        out.strings.set(name, value);
        break;
      case 'strings':
        if (eq < 0) throw problem('flag-needs-value', keyword, name).atFlag(name);
        out.lists.set(name, [...(out.lists.get(name) ?? []), value]);
        break;
    }
  }
  return out;
}
