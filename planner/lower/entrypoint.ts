import type { Entrypoint } from '../../parser/index.js';
import type { ConfigEdit } from '../config-edit.js';
import { goQuotedList } from '../history-text.js';
import type { ConfigStep } from '../step.js';
import { commandArgv } from './command-line.js';
import { configStep } from './config-step.js';
import type { LowerArgs } from './lowering.js';

/** `ENTRYPOINT`: the image's entrypoint. */
export function lowerEntrypoint(ins: Entrypoint, a: LowerArgs): ConfigStep {
  const argv = commandArgv(ins.command, a.cursor.config);
  const edits: ConfigEdit[] = [{ field: 'Entrypoint', value: argv }];
  // BuildKit: an ENTRYPOINT resets a CMD inherited from the base unless this stage set one.
  if (!a.cursor.cmdSet) edits.push({ field: 'Cmd', value: null });
  return configStep(a, ins, `ENTRYPOINT ${goQuotedList(argv)}`, edits);
}
