import { mustParseHeredocWord as parseHeredocWord } from '../heredoc.js';
import type { Heredoc, RawInstruction } from '../syntax.js';
import { parseFlags, type FlagValues } from './flags.js';
import { located } from './located.js';
import { problem } from './problem.js';
import type { Add, Copy } from './types.js';

/** COPY and ADD: sources (paths and inline heredoc files), the destination, and their flags. */
function sourcesAndDest(raw: RawInstruction, kw: 'COPY' | 'ADD') {
  if (raw.args.length < 2) throw problem('copy-needs-dest', kw);
  const dest = raw.args[raw.args.length - 1];
  if (!raw.json && parseHeredocWord(dest)) throw problem('heredoc-as-dest', kw);
  const sources: string[] = [];
  const heredocs: Heredoc[] = [];
  for (const src of raw.args.slice(0, -1)) {
    const doc = raw.json ? undefined : parseHeredocWord(src);
    if (!doc) {
      sources.push(src);
      continue;
    }
    const body = raw.heredocs.find((h) => h.name === doc.name);
    heredocs.push(body ?? { ...doc, content: '' });
  }
  return { sources, dest, heredocs };
}

function common(raw: RawInstruction, kw: 'COPY' | 'ADD', flags: FlagValues) {
  const str = (name: string) => flags.strings.get(name);
  return {
    ...sourcesAndDest(raw, kw),
    ...(str('chown') !== undefined ? { chown: str('chown') } : {}),
    ...(str('chmod') !== undefined ? { chmod: str('chmod') } : {}),
    link: flags.bools.get('link') ?? false,
    exclude: flags.lists.get('exclude') ?? [],
    isJson: raw.json,
    ...located(raw),
  };
}

export function parseCopy(raw: RawInstruction): Copy {
  const flags = parseFlags('COPY', raw.flags);
  const from = flags.strings.get('from');
  return {
    kind: 'copy',
    ...common(raw, 'COPY', flags),
    ...(from !== undefined ? { from } : {}),
    parents: flags.bools.get('parents') ?? false,
    keepGitDir: false,
  };
}

export function parseAdd(raw: RawInstruction): Add {
  const flags = parseFlags('ADD', raw.flags);
  const checksum = flags.strings.get('checksum');
  const unpack = flags.bools.get('unpack');
  return {
    kind: 'add',
    ...common(raw, 'ADD', flags),
    parents: false,
    keepGitDir: flags.bools.get('keep-git-dir') ?? false,
    ...(checksum !== undefined ? { checksum } : {}),
    ...(unpack !== undefined ? { unpack } : {}),
  };
}
