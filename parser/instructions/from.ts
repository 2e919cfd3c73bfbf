import type { RawInstruction } from '../syntax.js';
import { parseFlags } from './flags.js';
import { located } from './located.js';
import { problem } from './problem.js';
import type { From } from './types.js';

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** `FROM [--platform=p] image [AS name]`. */
export function parseFrom(raw: RawInstruction): From {
  const flags = parseFlags('FROM', raw.flags);
  const args = raw.args;
  let stageName: string | undefined;
  if (args.length === 3 && args[1].toLowerCase() === 'as') {
    if (!STAGE_NAME.test(args[2].toLowerCase())) throw problem('invalid-stage-name', args[2]);
    stageName = args[2];
  } else if (args.length !== 1) {
    throw problem('from-arguments');
  }
  const platform = flags.strings.get('platform');
  return {
    kind: 'from',
    image: args[0],
    ...(platform !== undefined && platform !== '' ? { platform } : {}),
    ...(stageName !== undefined ? { stageName } : {}),
    ...located(raw),
  };
}
