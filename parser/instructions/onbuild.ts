import type { RawInstruction } from '../syntax.js';
import { parseFlags } from './flags.js';
import { located } from './located.js';
import { problem } from './problem.js';
import type { Instruction, Onbuild } from './types.js';

/**
 * `ONBUILD INSTRUCTION …`: the trigger is recorded as written (heredoc bodies appended) and
 * also typed, so a mistake is found now rather than in the child build.
 */
export function parseOnbuild(raw: RawInstruction, typeOne: (raw: RawInstruction) => Instruction): Onbuild {
  const inner = raw.onbuild;
  if (!inner) throw problem('needs-arguments', 'ONBUILD');
  parseFlags('ONBUILD', raw.flags);
  const trigger = inner.name.toUpperCase();
  if (trigger === 'ONBUILD') throw problem('onbuild-chain');
  if (trigger === 'MAINTAINER' || trigger === 'FROM') throw problem('onbuild-trigger', trigger);
  let expression = raw.original.replace(/^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i, '');
  for (const h of raw.heredocs) expression += '\n' + h.content + h.name;
  const instruction = typeOne({ ...inner, heredocs: raw.heredocs });
  return { kind: 'onbuild', expression, instruction, ...located(raw) };
}
