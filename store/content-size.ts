import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hexOf } from '../common/index.js';
import { writeFileAtomic } from './atomic.js';
import { openBlob } from './blobs.js';
import { decompressed } from './layer-stream.js';
import type { Descriptor } from './oci-types.js';
import { readTar } from './tar-read.js';

/**
 * Docker's SIZE of a layer: the sum of its regular files' bytes. Computed by streaming the
 * layer once; remembered as the annotation `io.tsbuild.content-size` on the layer
 * descriptor of the manifests we write, and in `<root>/sizes/<blob hex>` so the next image
 * sharing the layer does not stream it again.
 */

export const CONTENT_SIZE = 'io.tsbuild.content-size';

export function sizesDir(root: string): string {
  return join(root, 'sizes');
}

/** Sum of regular-file bytes of a tar (possibly compressed) stream. */
export async function tarContentBytes(src: import('node:stream').Readable): Promise<number> {
  const { stream } = await decompressed(src);
  let total = 0;
  await readTar(stream, async (e) => {
    if (e.type === 'file') total += e.size;
  });
  return total;
}

/** The content size of layer `desc` (annotation, sidecar, or a stream of the blob). */
export async function layerContentSize(root: string, desc: Descriptor): Promise<number> {
  const annotated = Number(desc.annotations?.[CONTENT_SIZE]);
  if (Number.isSafeInteger(annotated) && annotated >= 0 && desc.annotations?.[CONTENT_SIZE] !== undefined) return annotated;
  const sidecar = join(sizesDir(root), hexOf(desc.digest));
  try {
    const n = Number((await readFile(sidecar, 'utf8')).trim());
    if (Number.isSafeInteger(n)) return n;
  } catch {
    // not computed yet
  }
  const n = await tarContentBytes(openBlob(root, desc.digest));
  await mkdir(sizesDir(root), { recursive: true });
  await writeFileAtomic(sidecar, String(n));
  return n;
}

export function annotatedSize(desc: Descriptor): number {
  const n = Number(desc.annotations?.[CONTENT_SIZE]);
  return Number.isSafeInteger(n) ? n : 0;
}

