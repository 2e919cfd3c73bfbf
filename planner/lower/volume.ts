import type { Volume } from '../../parser/index.js';
import { goList } from '../history-text.js';
import type { ConfigStep } from '../step.js';
import { configStep } from './config-step.js';
import type { LowerArgs } from './lowering.js';

/** `VOLUME /data …`: add paths to the image's Volumes. */
export function lowerVolume(ins: Volume, a: LowerArgs): ConfigStep {
  return configStep(a, ins, `VOLUME ${goList(ins.paths)}`, [{ field: 'Volumes', add: ins.paths }]);
}
