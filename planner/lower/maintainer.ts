import type { Maintainer } from '../../parser/index.js';
import type { ConfigStep } from '../step.js';
import { configStep } from './config-step.js';
import type { LowerArgs } from './lowering.js';

/** `MAINTAINER name`: the image's author, with no config edit. */
export function lowerMaintainer(ins: Maintainer, a: LowerArgs): ConfigStep {
  const s = configStep(a, ins, `MAINTAINER ${ins.name}`, []);
  s.author = ins.name;
  return s;
}
