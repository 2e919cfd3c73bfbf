import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../common/index.js';
import { publishDir } from './atomic.js';
import { blobPath } from './blobs.js';
import { unpackTarFileSplit } from './extract-thread.js';
import { layerPath, layersDir } from './layers.js';
import { writeTarSplitBytes } from './tar-split.js';
import { makeTempDir } from './temp.js';

/**
 * Extract the uncompressed layer blob `diffId` that this process has just written (hashed
 * as it was written, so not hashed again) into `layers/`, in a worker thread when it is big,
 * recording its tar-split as it goes; the tar is dropped once the dir is durable. False
 * when there was nothing to do (the dir is there, or the blob is not a file). `signal` stops
 * it: nothing is published and its temp dir is removed before the promise rejects.
 */
export async function extractOwnLayerBlob(root: string, diffId: Digest, signal?: AbortSignal): Promise<boolean> {
  const final = layerPath(root, diffId);
  const tmp = await makeTempDir(root, 'layer');
  try {
    const target = join(tmp, 'root');
    await mkdir(target, { mode: 0o755 });
    const split = await unpackTarFileSplit(blobPath(root, diffId), target, `layer ${diffId}`, signal);
    signal?.throwIfAborted();
    if (split) await writeTarSplitBytes(root, diffId, split);
    await mkdir(layersDir(root), { recursive: true });
    // The tar goes once the dir is durable (store/layer-settle.ts).
    return publishDir(target, final);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
