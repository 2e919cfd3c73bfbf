import type { Instruction } from '../../parser/index.js';
import { cacheKeyOf, type KeyParts } from '../cache-key.js';
import type { ConfigEdit } from '../config-edit.js';
import type { ConfigStep } from '../step.js';
import type { LowerArgs } from './lowering.js';

/** A step that only edits the image config: keyed by its parent, its edits and its history text. */
export function configStep(a: LowerArgs, ins: Instruction, createdBy: string, edits: ConfigEdit[]): ConfigStep {
  const keyParts: KeyParts = { parent: a.cursor.key, op: 'config', edits, createdBy };
  return {
    op: 'config',
    index: 0,
    display: createdBy,
    createdBy,
    cacheKey: cacheKeyOf(keyParts),
    keyParts,
    origin: ins.range,
    edits,
  };
}
