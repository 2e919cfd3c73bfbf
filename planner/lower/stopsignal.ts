import type { Stopsignal } from '../../parser/index.js';
import type { ConfigStep } from '../step.js';
import { configStep } from './config-step.js';
import type { LowerArgs } from './lowering.js';

/** `STOPSIGNAL SIG`: the signal that stops a container of the image. */
export function lowerStopsignal(ins: Stopsignal, a: LowerArgs): ConfigStep {
  return configStep(a, ins, `STOPSIGNAL ${ins.signal}`, [{ field: 'StopSignal', value: ins.signal }]);
}
