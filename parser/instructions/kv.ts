import type { RawInstruction } from '../syntax.js';
import { parseFlags } from './flags.js';
import { located } from './located.js';
import { problem } from './problem.js';
import type { Arg, Env, KeyValue, Label } from './types.js';

/** ENV, LABEL (key/value triples from the raw tree, legacy `ENV k v` included) and ARG. */
function pairs(raw: RawInstruction, kw: 'ENV' | 'LABEL'): KeyValue[] {
  parseFlags(kw, raw.flags);
  if (raw.args.length === 0) throw problem('needs-arguments', kw);
  const out: KeyValue[] = [];
  for (let i = 0; i < raw.args.length; i += 3) {
    if (raw.args[i] === '') throw problem('blank-name', kw);
    out.push({ key: raw.args[i], value: raw.args[i + 1] ?? '' });
  }
  return out;
}

export function parseEnv(raw: RawInstruction): Env {
  return { kind: 'env', pairs: pairs(raw, 'ENV'), ...located(raw) };
}

export function parseLabel(raw: RawInstruction): Label {
  return { kind: 'label', pairs: pairs(raw, 'LABEL'), ...located(raw) };
}

/** `ARG name[=default] …`: several declarations in one line are allowed. */
export function parseArg(raw: RawInstruction): Arg {
  // BuildKit never parses ARG's flags (they are dropped); refusing them keeps none ignored.
  parseFlags('ARG', raw.flags);
  if (raw.args.length === 0) throw problem('needs-arguments', 'ARG');
  const args = raw.args.map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0) return { name: word };
    if (eq === 0) throw problem('blank-name', 'ARG');
    return { name: word.slice(0, eq), default: word.slice(eq + 1) };
  });
  return { kind: 'arg', args, ...located(raw) };
}
