import type { Shell } from '../../parser/index.js';
import { goList } from '../history-text.js';
import type { ConfigStep } from '../step.js';
import { configStep } from './config-step.js';
import type { LowerArgs } from './lowering.js';

/** `SHELL [...]`: the shell later shell-form commands run through. */
export function lowerShell(ins: Shell, a: LowerArgs): ConfigStep {
  return configStep(a, ins, `SHELL ${goList(ins.argv)}`, [{ field: 'Shell', value: ins.argv }]);
}
