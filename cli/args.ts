import { UserError } from '../common/index.js';

/** One option of a command: `--name`, optional `-x` short form, a value or a flag. */
export interface OptionSpec {
  name: string;
  short?: string;
  type: 'boolean' | 'string';
  /** May be given several times (values collected in order). */
  multiple?: boolean;
}

export interface ParsedArgs {
  options: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** A usage mistake: main prints it with the command's usage line and exits 2. */
export function usageError(message: string): UserError {
  return new UserError('usage', message, { exitCode: 2 });
}

/**
 * Docker-style argv parsing: `--opt v`, `--opt=v`, `-t name`, grouped short flags `-ti`,
 * `--` ends options. With `stopAtPositional`, everything from the first positional on is
 * positional (so `run IMAGE ls -la` gives `-la` to the command, as Docker does).
 */
export function parseArgs(
  argv: string[],
  specs: OptionSpec[],
  opts: { stopAtPositional?: boolean } = {},
): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const options: ParsedArgs['options'] = {};
  const positionals: string[] = [];
  const set = (spec: OptionSpec, value: string | boolean) => {
    if (spec.multiple) {
      const list = (options[spec.name] as string[] | undefined) ?? [];
      list.push(String(value));
      options[spec.name] = list;
    } else {
      options[spec.name] = value;
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = byName.get(name);
      if (!spec) throw usageError(`unknown flag: --${name}`);
      if (spec.type === 'boolean') {
        if (eq >= 0) {
          const v = a.slice(eq + 1);
          if (v !== 'true' && v !== 'false') throw usageError(`invalid value "${v}" for --${name}: want true or false`);
          set(spec, v === 'true');
        } else set(spec, true);
      } else if (eq >= 0) set(spec, a.slice(eq + 1));
      else {
        if (i + 1 >= argv.length) throw usageError(`flag needs an argument: --${name}`);
        set(spec, argv[++i]);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const spec = byShort.get(a[j]);
        if (!spec) throw usageError(`unknown shorthand flag: '${a[j]}' in ${a}`);
        if (spec.type === 'boolean') {
          set(spec, true);
          continue;
        }
        const rest = a.slice(j + 1);
        if (rest.length > 0) set(spec, rest.startsWith('=') ? rest.slice(1) : rest);
        else {
          if (i + 1 >= argv.length) throw usageError(`flag needs an argument: '${a[j]}' in ${a}`);
          set(spec, argv[++i]);
        }
        break;
      }
      continue;
    }
    if (opts.stopAtPositional) {
      positionals.push(...argv.slice(i));
      break;
    }
    positionals.push(a);
  }
  return { options, positionals };
}

export function stringOpt(p: ParsedArgs, name: string): string | undefined {
  const v = p.options[name];
  return typeof v === 'string' ? v : undefined;
}

export function boolOpt(p: ParsedArgs, name: string): boolean {
  return p.options[name] === true;
}

export function listOpt(p: ParsedArgs, name: string): string[] {
  const v = p.options[name];
  return Array.isArray(v) ? v : [];
}
