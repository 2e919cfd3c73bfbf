import { hexOf, type Digest } from '../common/index.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isLockHeld, waitWhileLocked } from './lock.js';

/**
 * The lock a process holds while it extracts layer `diffId` beside a build or after it
 * (store/extract-detached.ts), so that a build needing the layer waits for that extraction
 * instead of unpacking the same layer a second time beside it.
 */
export function layerLockName(diffId: Digest): string {
  return `layer-${hexOf(diffId)}`;
}

/** Wait while another live process extracts layer `diffId` (its dir is usually there after). */
export function waitForLayerExtraction(root: string, diffId: Digest): Promise<void> {
  return waitWhileLocked(root, layerLockName(diffId));
}

/** Whether some live process is extracting a layer into the store now. */
export function isLayerExtractionUnderWay(root: string): boolean {
  let names: string[];
  try {
    names = readdirSync(join(root, 'locks'));
  } catch {
    return false;
  }
  return names.some((n) => n.startsWith('layer-') && isLockHeld(root, n));
}
