import type { Label } from '../../parser/index.js';
import type { ConfigStep } from '../step.js';
import { configStep } from './config-step.js';
import type { LowerArgs } from './lowering.js';

/** `LABEL K=V …`: set the image's labels. */
export function lowerLabel(ins: Label, a: LowerArgs): ConfigStep {
  return configStep(a, ins, `LABEL ${ins.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`, [
    { field: 'Labels', set: ins.pairs.map((p) => [p.key, p.value]) },
  ]);
}
