import type { Cmd } from '../../parser/index.js';
import { goQuotedList } from '../history-text.js';
import type { ConfigStep } from '../step.js';
import { commandArgv } from './command-line.js';
import { configStep } from './config-step.js';
import type { LowerArgs } from './lowering.js';

/** `CMD`: the default command; remembered so a later ENTRYPOINT keeps it. */
export function lowerCmd(ins: Cmd, a: LowerArgs): ConfigStep {
  const argv = commandArgv(ins.command, a.cursor.config);
  a.cursor.cmdSet = true;
  return configStep(a, ins, `CMD ${goQuotedList(argv)}`, [{ field: 'Cmd', value: argv }]);
}
