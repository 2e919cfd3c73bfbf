import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../common/index.js';
import type { ImageRecord, Store } from './contract.js';
import { goArch } from './archive-load.js';
import { layerContentSize } from './content-size.js';
import { decompressed } from './layer-stream.js';
import { MediaType, type ImageConfig, type Platform } from './oci-types.js';

/**
 * `tsbuild import ROOTFS.tar REF` (like `docker import`): the tar (plain, gzip, bzip2 or xz)
 * becomes the one layer of a new image, stored uncompressed (its digest is its diff_id),
 * with an empty container config and one history entry.
 */
export async function importRootfs(
  store: Store,
  src: Readable,
  opts: { names?: string[]; comment?: string; created?: Date; /** `docker import --platform`: default the host's. */ platform?: Platform } = {},
): Promise<ImageRecord> {
  const { stream } = await decompressed(src);
  const writer = store.blobWriter();
  try {
    await pipeline(stream, writer.stream);
  } catch (e) {
    await writer.abort();
    if (e instanceof UserError) throw e;
    throw new UserError('import-failed', `import: reading the archive failed: ${(e as Error).message}`);
  }
  const layer = await writer.commit();
  if (layer.size === 0) throw new UserError('bad-archive', 'import: the archive is empty');
  const desc = { mediaType: MediaType.layerTar, digest: layer.digest, size: layer.size };
  try {
    await layerContentSize(store.root, desc); // also proves it is a tar, and remembers the size
  } catch {
    throw new UserError('bad-archive', 'import: the input is not a tar archive', { hint: 'give a root filesystem tarball (optionally gzip, bzip2 or xz compressed)' });
  }
  const created = (opts.created ?? new Date()).toISOString();
  const config: ImageConfig = {
    architecture: opts.platform?.architecture ?? goArch(),
    os: opts.platform?.os ?? 'linux',
    ...(opts.platform?.variant ? { variant: opts.platform.variant } : {}),
    created,
    config: {},
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
    history: [{ created, comment: opts.comment ?? 'Imported from -' }],
  };
  return store.writeImage({
    config,
    layers: [desc],
    names: opts.names ?? [],
  });
}
