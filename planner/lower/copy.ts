import type { Copy } from '../../parser/index.js';
import type { CopyStep } from '../step.js';
import type { LowerArgs } from './lowering.js';
import { lowerTransfer } from './transfer.js';

/** `COPY`: files from the context, a stage or an image (planner/lower/transfer.ts). */
export function lowerCopy(ins: Copy, a: LowerArgs): Promise<CopyStep> {
  return lowerTransfer(ins, a, () => {});
}
