import { UserError } from '../common/index.js';
import { unreachable } from '../common/index.js';
import type { Instruction, RunMount } from './instructions/types.js';
import { messages } from './messages.js';
import { expandWord, expandWords, plainValue, type WordEnv } from './words.js';

/**
 * Docker's rules on which fields are expanded (BuildKit's instructions.Expand and dispatch):
 * FROM, ENV, LABEL, ARG, ADD, COPY, WORKDIR, USER, EXPOSE (split into words), VOLUME,
 * STOPSIGNAL and RUN's --mount values are; RUN, CMD, ENTRYPOINT and SHELL commands, HEALTHCHECK,
 * ONBUILD and MAINTAINER are not (the shell expands those at run time), and heredoc bodies are
 * expanded only when they are used.
 */
export function expandInstruction<T extends Instruction>(
  ins: T,
  env: WordEnv,
  escape: string,
): { instruction: T; used: ReadonlySet<string>; unmatched: ReadonlySet<string> } {
  // Made when a word names a variable: most instructions name none (10,000 LABELs).
  let used: Set<string> | undefined;
  let unmatched: Set<string> | undefined;
  const note = (r: { used: Iterable<string>; unmatched: Iterable<string> }) => {
    for (const u of r.used) (used ??= new Set()).add(u);
    for (const u of r.unmatched) (unmatched ??= new Set()).add(u);
  };
  const word = (w: string): string => {
    // Most words have nothing to substitute: no result object (10,000 LABELs).
    const plain = plainValue(w, escape);
    if (plain !== undefined) return plain;
    const r = withRange(ins, () => expandWord(w, env, { escape }));
    note(r);
    return r.value;
  };
  const opt = (w: string | undefined): string | undefined => (w === undefined ? undefined : word(w));
  const instruction = expandFields(ins, word, opt, (w) => {
    const r = withRange(ins, () => expandWords(w, env, { escape }));
    note(r);
    return r.values;
  });
  return { instruction: instruction as T, used: used ?? NONE, unmatched: unmatched ?? NONE };
}

const NONE: ReadonlySet<string> = new Set();

function withRange<R>(ins: Instruction, fn: () => R): R {
  try {
    return fn();
  } catch (e) {
    if (e instanceof UserError && e.where === undefined) throw new UserError(e.code, e.message, { where: ins.range, hint: e.hint });
    throw e;
  }
}

function definedOnly<O extends object>(o: O): O {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as O;
}

function expandFields(
  ins: Instruction,
  word: (w: string) => string,
  opt: (w: string | undefined) => string | undefined,
  words: (w: string) => string[],
): Instruction {
  switch (ins.kind) {
    case 'from':
      return definedOnly({ ...ins, image: word(ins.image), platform: opt(ins.platform) });
    case 'env':
    case 'label':
      return { ...ins, pairs: ins.pairs.map((p) => ({ key: word(p.key), value: word(p.value) })) };
    case 'arg':
      return { ...ins, args: ins.args.map((a) => definedOnly({ name: word(a.name), default: opt(a.default) })) };
    case 'copy':
    case 'add':
      return definedOnly({
        ...ins,
        sources: ins.sources.map(word),
        dest: word(ins.dest),
        from: opt(ins.from),
        chown: opt(ins.chown),
        chmod: opt(ins.chmod),
        checksum: opt(ins.checksum),
        exclude: ins.exclude.map(word),
      });
    case 'workdir':
      return { ...ins, path: word(ins.path) };
    case 'user':
      return { ...ins, user: word(ins.user) };
    case 'stopsignal':
      return { ...ins, signal: word(ins.signal) };
    case 'expose':
      return { ...ins, ports: ins.ports.flatMap(words) };
    case 'volume':
      return {
        ...ins,
        paths: ins.paths.map((p) => {
          const v = word(p);
          if (v === '') throw new UserError('empty-volume', messages['empty-volume'](), { where: ins.range });
          return v;
        }),
      };
    case 'run':
      return { ...ins, mounts: ins.mounts.map((m) => expandMount(m, word)) };
    case 'cmd':
    case 'entrypoint':
    case 'shell':
    case 'healthcheck':
    case 'onbuild':
    case 'maintainer':
      return ins;
    default:
      return unreachable(ins);
  }
}

function expandMount(m: RunMount, word: (w: string) => string): RunMount {
  const options: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.options)) options[k] = word(v);
  return { ...m, options };
}
