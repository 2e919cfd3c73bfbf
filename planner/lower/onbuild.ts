import type { Onbuild } from '../../parser/index.js';
import type { ConfigStep } from '../step.js';
import { configStep } from './config-step.js';
import type { LowerArgs } from './lowering.js';

/** `ONBUILD INSTRUCTION`: a trigger kept in the config, run by images built FROM this one. */
export function lowerOnbuild(ins: Onbuild, a: LowerArgs): ConfigStep {
  return configStep(a, ins, `ONBUILD ${ins.expression}`, [{ field: 'OnBuild', add: [ins.expression] }]);
}
