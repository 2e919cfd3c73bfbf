import type { Readable } from 'node:stream';
import { UserError, hexOf, isDigest, ioMessage, type Digest } from '../common/index.js';
import type { Store } from './contract.js';
import { compressStream, type CompressionSpec } from './chunked-compress.js';
import { decompressed } from './layer-stream.js';
import { MediaType, type Descriptor } from './oci-types.js';

/**
 * Compressed forms of stored layers (push, `save --format oci`, `--output type=oci`): made
 * once by store/chunked-compress.ts, kept as ordinary blobs, and remembered in
 * `compressed/<diff_id hex>-<algorithm>-<level>.json`, so the next push or save of the layer
 * streams the blob instead of compressing again. The blobs are not gc roots: a prune may
 * drop them (the record then points at nothing, and the next use compresses again).
 */

const KIND = 'compressed';

export function compressedMediaType(spec: CompressionSpec): string {
  return spec.algorithm === 'gzip' ? MediaType.layerGzip : MediaType.layerZstd;
}

/** The uncompressed tar of a stored layer, whichever form its blob has. */
async function layerTar(store: Store, layer: Descriptor): Promise<Readable> {
  const src = store.openBlob(layer.digest);
  if (layer.mediaType === MediaType.layerTar || layer.mediaType === MediaType.dockerLayerTar) return src;
  return (await decompressed(src, `layer ${layer.digest}`)).stream;
}

/** How a layer is compressed: `cores` chunks at once; `onChunk` sees each compressed chunk as it is made. */
export interface CompressOptions {
  cores: number;
  /**
   * Called in order with every chunk of a blob made now (never for one made before), before
   * the chunk is written to the store; the next chunk waits for it, so it can stream the
   * chunks into an upload. It must not throw: the blob is kept whatever it does.
   */
  onChunk?: (chunk: Buffer) => Promise<void>;
}

/**
 * The blob of layer `layer` (content `diffId`) compressed as `spec`: the one made before when
 * it is still stored, else made now with at most `cores` chunks compressed at once.
 */
export async function compressedLayer(
  store: Store,
  layer: Descriptor,
  diffId: Digest,
  spec: CompressionSpec,
  opts: CompressOptions,
): Promise<Descriptor> {
  const key = `${hexOf(diffId)}-${spec.algorithm}-${spec.level}`;
  const mediaType = compressedMediaType(spec);
  const rec = (await store.records.read(KIND, key)) as { digest?: unknown; size?: unknown } | undefined;
  if (rec && typeof rec.digest === 'string' && isDigest(rec.digest) && typeof rec.size === 'number' && (await store.hasBlob(rec.digest))) {
    return { mediaType, digest: rec.digest, size: rec.size };
  }
  const writer = store.blobWriter();
  let made: { digest: Digest; size: number };
  try {
    const out = writer.stream;
    for await (const chunk of compressStream(await layerTar(store, layer), spec, { cores: opts.cores })) {
      if (opts.onChunk) await opts.onChunk(chunk);
      if (!out.write(chunk)) await new Promise<void>((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        out.once('error', onError);
        out.once('drain', () => {
          out.off('error', onError);
          resolve();
        });
      });
    }
    made = await writer.commit();
  } catch (e) {
    await writer.abort();
    if (e instanceof UserError) throw e;
    throw new UserError('store-io', ioMessage(`store: compress layer ${diffId}`, e), { where: diffId });
  }
  await store.records.write(KIND, key, { digest: made.digest, size: made.size });
  return { mediaType, digest: made.digest, size: made.size };
}
