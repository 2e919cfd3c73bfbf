import type { Expose } from '../../parser/index.js';
import { exposedPorts } from '../expose.js';
import { goSetMap } from '../history-text.js';
import type { ConfigStep } from '../step.js';
import { configStep } from './config-step.js';
import type { LowerArgs } from './lowering.js';

/** `EXPOSE 80/tcp …`: add ports to the image's ExposedPorts. */
export function lowerExpose(ins: Expose, a: LowerArgs): ConfigStep {
  const ports = exposedPorts(ins.ports);
  return configStep(a, ins, `EXPOSE ${goSetMap(ports)}`, [{ field: 'ExposedPorts', add: ports }]);
}
