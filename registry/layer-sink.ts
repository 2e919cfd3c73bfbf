import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError, type Digest } from '../common/index.js';
import { MediaType, gunzipStream, type BlobWriter, type Descriptor, type Store } from '../store/index.js';
import { registryError } from './messages.js';
import { createZstdDecompressor } from './zstd.js';

/**
 * Where a downloaded layer's bytes go: always into the store as an uncompressed tar, the
 * store's own form for layers (blob digest == diff_id), so an image pulled on one machine
 * has the same local manifest as the one built on another, and its layers are shared
 * with local builds. tar → as is; gzip → gunzip; zstd → fzstd; the tar's digest must be
 * the config's diff_id. The downloader checks the digest of the bytes as sent
 * (registry/blob-download.ts) before `finish`; a mismatch anywhere aborts the store
 * writer: nothing is stored.
 */

export type LayerCompression = 'tar' | 'gzip' | 'zstd';

export function compressionOf(mediaType: string): LayerCompression | undefined {
  switch (mediaType) {
    case MediaType.layerTar:
    case MediaType.dockerLayerTar:
      return 'tar';
    case MediaType.layerGzip:
    case MediaType.dockerLayerGzip:
    case 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip':
      return 'gzip';
    case MediaType.layerZstd:
      return 'zstd';
    default:
      return undefined;
  }
}

export interface LayerSink {
  readonly stream: Writable;
  /** All bytes written: check them and publish; returns the descriptor the store keeps. */
  finish(): Promise<Descriptor>;
  abort(): Promise<void>;
}

/** Commit the unpacked tar; the store's digest check against the diff_id, in our words. */
async function commitAs(writer: BlobWriter, layer: Descriptor, diffId: Digest): Promise<{ digest: Digest; size: number }> {
  try {
    return await writer.commit();
  } catch (e) {
    if (e instanceof UserError && e.code === 'digest-mismatch') {
      throw registryError('diffid-mismatch', [layer.digest, diffId, ''], { where: layer.digest });
    }
    throw e;
  }
}

async function writeTo(w: Writable, chunk: Uint8Array): Promise<void> {
  if (!w.write(chunk)) await once(w, 'drain');
}

async function endAndWait(w: Writable): Promise<void> {
  if (w.writableFinished) return;
  const done = once(w, 'finish');
  w.end();
  await done;
}

/** A sink for `layer` whose uncompressed content must hash to `diffId`. */
export function uncompressedLayerSink(store: Store, layer: Descriptor, diffId: Digest): LayerSink {
  const compression = compressionOf(layer.mediaType);
  switch (compression) {
    case 'tar':
      return tarSink(store, layer, diffId);
    case 'gzip':
      return gunzipSink(store, layer, diffId);
    case 'zstd':
      return zstdSink(store, layer, diffId);
    case undefined:
      throw registryError('unsupported-layer', [layer.mediaType], { where: layer.digest });
  }
}

function gunzipSink(store: Store, layer: Descriptor, diffId: Digest): LayerSink {
  const writer = store.blobWriter({ expected: diffId });
  const gunzip = gunzipStream();
  const written = pipeline(gunzip, writer.stream);
  written.catch(() => undefined); // judged in finish(); an early failure must not go unhandled
  return {
    stream: gunzip,
    async finish() {
      try {
        gunzip.end();
        await written;
      } catch (e) {
        await writer.abort();
        throw registryError('diffid-mismatch', [layer.digest, diffId, `invalid gzip: ${(e as Error).message}`], { where: layer.digest });
      }
      const { digest, size } = await commitAs(writer, layer, diffId);
      return { mediaType: MediaType.layerTar, digest, size };
    },
    async abort() {
      gunzip.destroy();
      await writer.abort();
    },
  };
}

function tarSink(store: Store, layer: Descriptor, diffId: Digest): LayerSink {
  if (layer.digest !== diffId) {
    throw registryError('diffid-mismatch', [layer.digest, diffId, 'an uncompressed layer is its own diff_id'], { where: layer.digest });
  }
  const writer = store.blobWriter({ expected: layer.digest });
  return {
    stream: writer.stream,
    async finish() {
      const { digest, size } = await commitAs(writer, layer, diffId);
      return { mediaType: MediaType.layerTar, digest, size };
    },
    abort: () => writer.abort(),
  };
}

function zstdSink(store: Store, layer: Descriptor, diffId: Digest): LayerSink {
  const writer = store.blobWriter({ expected: diffId });
  let pending: Promise<void> = Promise.resolve();
  const zstd = createZstdDecompressor((chunk) => {
    // fzstd may reuse its buffer: copy before queueing.
    const copy = Buffer.from(chunk);
    pending = pending.then(() => writeTo(writer.stream, copy));
  });
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        zstd.push(chunk);
      } catch (e) {
        cb(registryError('diffid-mismatch', [layer.digest, diffId, `invalid zstd: ${(e as Error).message}`]));
        return;
      }
      pending.then(() => cb(), cb);
    },
    final(cb) {
      try {
        zstd.end();
      } catch (e) {
        cb(registryError('diffid-mismatch', [layer.digest, diffId, `invalid zstd: ${(e as Error).message}`]));
        return;
      }
      pending.then(() => cb(), cb);
    },
  });
  return {
    stream,
    async finish() {
      await endAndWait(stream);
      const { digest, size } = await commitAs(writer, layer, diffId);
      return { mediaType: MediaType.layerTar, digest, size };
    },
    async abort() {
      stream.destroy();
      await writer.abort();
    },
  };
}
