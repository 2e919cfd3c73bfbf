import tarStream from 'tar-stream';
import { digestOf, type Digest } from '../../common/index.js';
import { MediaType, type ImageConfig, type ImageRecord, type Store } from '../../store/index.js';

/** A small layer tar (files → contents), built in memory: test layers are a few KB. */
export async function layerTar(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (b: unknown) => {
    chunks.push(b as Buffer);
  });
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const [name, content] of Object.entries(files)) {
    const body = typeof content === 'string' ? Buffer.from(content) : content;
    pack.entry({ name, size: body.length, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, body);
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** Pseudo-random bytes from a seed (so a layer is big enough to compress and chunk, yet stable). */
export function seededBytes(seed: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Store an image made of `layers` (each a file map) under `name`; its layers are uncompressed tars. */
export async function writeTestImage(store: Store, name: string, layers: Record<string, string | Buffer>[]): Promise<ImageRecord> {
  const diffIds: Digest[] = [];
  const descs = [];
  for (const files of layers) {
    const tar = await layerTar(files);
    const { digest, size } = await store.putBlob(tar);
    diffIds.push(digest);
    descs.push({ mediaType: MediaType.layerTar, digest, size });
  }
  const config: ImageConfig = {
    created: '2024-01-01T00:00:00Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
  };
  return store.writeImage({ config, layers: descs, names: [name] });
}

export { digestOf };
