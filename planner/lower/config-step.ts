import type { Instruction } from '../../parser/index.js';
import { cacheKeyOf, type KeyParts } from '../cache-key.js';
import type { ConfigEdit } from '../config-edit.js';
import type { ConfigStep } from '../step.js';
import type { LowerArgs } from './lowering.js';

/** A step that only edits the image config: keyed by its parent, its edits and its history text. */
export function configStep(a: LowerArgs, ins: Instruction, createdBy: string, edits: ConfigEdit[]): ConfigStep {
  // In sorted order, so that its canonical JSON needs no sorted copy (10,000 LABELs).
  const keyParts: KeyParts = { createdBy, edits, op: 'config', parent: a.cursor.key };
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
