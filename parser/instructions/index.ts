import { UserError, UserErrors, suggest, unreachable, type SourceRange } from '../../common/index.js';
import type { RawDockerfile, RawInstruction } from '../syntax.js';
import { messages } from '../messages.js';
import { parseCmd, parseEntrypoint, parseShell } from './command.js';
import { parseAdd, parseCopy } from './copy.js';
import { parseFrom } from './from.js';
import { parseHealthcheck } from './healthcheck.js';
import { parseArg, parseEnv, parseLabel } from './kv.js';
import { parseOnbuild } from './onbuild.js';
import { Problem } from './problem.js';
import { parseRun } from './run.js';
import { parseExpose, parseMaintainer, parseStopsignal, parseUser, parseVolume, parseWorkdir } from './simple.js';
import type { Instruction, InstructionKind } from './types.js';

/** Every instruction keyword, lower-case: the `kind` values. */
export const KEYWORDS: readonly InstructionKind[] = [
  'from', 'run', 'cmd', 'entrypoint', 'shell', 'env', 'label', 'arg', 'copy', 'add',
  'workdir', 'user', 'expose', 'volume', 'stopsignal', 'healthcheck', 'onbuild', 'maintainer',
];

function isKeyword(word: string): word is InstructionKind {
  return (KEYWORDS as readonly string[]).includes(word);
}

function typeOne(raw: RawInstruction): Instruction {
  const word = raw.name.toLowerCase();
  if (!isKeyword(word)) {
    const guess = suggest(raw.name, KEYWORDS.map((k) => k.toUpperCase()));
    throw new Problem('unknown-instruction', messages['unknown-instruction'](raw.name), {
      atKeyword: true,
      hint: guess ? `did you mean ${guess}?` : undefined,
    });
  }
  switch (word) {
    case 'from': return parseFrom(raw);
    case 'run': return parseRun(raw);
    case 'cmd': return parseCmd(raw);
    case 'entrypoint': return parseEntrypoint(raw);
    case 'shell': return parseShell(raw);
    case 'env': return parseEnv(raw);
    case 'label': return parseLabel(raw);
    case 'arg': return parseArg(raw);
    case 'copy': return parseCopy(raw);
    case 'add': return parseAdd(raw);
    case 'workdir': return parseWorkdir(raw);
    case 'user': return parseUser(raw);
    case 'expose': return parseExpose(raw);
    case 'volume': return parseVolume(raw);
    case 'stopsignal': return parseStopsignal(raw);
    case 'healthcheck': return parseHealthcheck(raw);
    case 'onbuild': return parseOnbuild(raw, typeOne);
    case 'maintainer': return parseMaintainer(raw);
    default: return unreachable(word);
  }
}

/** Where a problem is shown: the keyword, the flag at fault (on a one-line instruction), or the whole instruction. */
function problemRange(e: Problem, ins: RawInstruction): SourceRange {
  if (e.atKeyword) return ins.keywordRange;
  const r = ins.range;
  if (e.flag === undefined || r.start.line !== r.end.line) return r;
  const needle = `--${e.flag}`;
  const at = e.last ? ins.original.lastIndexOf(needle) : ins.original.indexOf(needle);
  if (at < 0) return r;
  const len = ins.original.slice(at).search(/[\t\v\f\r ]|$/);
  const pos = (i: number) => ({ line: r.start.line, column: r.start.column + i, offset: r.start.offset < 0 ? -1 : r.start.offset + i });
  return { file: r.file, start: pos(at), end: pos(at + len) };
}

/**
 * The raw tree → typed instructions. Every instruction is checked (unknown keyword with a
 * "did you mean", unknown or malformed flags, missing arguments …); all problems are thrown
 * together as UserErrors, each at the instruction's range (or its keyword's).
 */
export function typeInstructions(raw: RawDockerfile): Instruction[] {
  const out: Instruction[] = [];
  const errors: UserError[] = [];
  for (const ins of raw.instructions) {
    try {
      out.push(typeOne(ins));
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      errors.push(new UserError(e.code, e.message, { where: problemRange(e, ins), hint: e.hint }));
    }
  }
  if (errors.length) throw new UserErrors(errors);
  return out;
}
