import { pipeline } from 'node:stream/promises';
import { createGzip, constants } from 'node:zlib';
import type { Digest } from '../common/index.js';
import type { Store } from '../store/index.js';

/**
 * Deterministic gzip of a stored uncompressed layer, written as a new blob: Node's gzip
 * header carries no file name and mtime 0, the level and window are fixed, so the same tar
 * gives the same bytes (and digest) on every push from this zlib.
 */
export async function gzipLayerBlob(store: Store, diffId: Digest): Promise<{ digest: Digest; size: number }> {
  const writer = store.blobWriter();
  try {
    await pipeline(
      store.openBlob(diffId),
      createGzip({ level: constants.Z_DEFAULT_COMPRESSION, windowBits: 15, memLevel: 8, strategy: constants.Z_DEFAULT_STRATEGY }),
      writer.stream,
    );
    return await writer.commit();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}
