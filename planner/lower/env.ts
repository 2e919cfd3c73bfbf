import type { Env } from '../../parser/index.js';
import type { ConfigStep } from '../step.js';
import { configStep } from './config-step.js';
import type { LowerArgs } from './lowering.js';

/** `ENV K=V …`: set variables in the config (later RUNs and the image see them). */
export function lowerEnv(ins: Env, a: LowerArgs): ConfigStep {
  return configStep(a, ins, `ENV ${ins.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`, [
    { field: 'Env', set: ins.pairs.map((p) => [p.key, p.value]) },
  ]);
}
