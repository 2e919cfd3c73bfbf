import type { User } from '../../parser/index.js';
import type { ConfigStep } from '../step.js';
import { configStep } from './config-step.js';
import type { LowerArgs } from './lowering.js';

/** `USER name[:group]`: as written; the executor resolves it against the rootfs. */
export function lowerUser(ins: User, a: LowerArgs): ConfigStep {
  return configStep(a, ins, `USER ${ins.user}`, [{ field: 'User', value: ins.user }]);
}
