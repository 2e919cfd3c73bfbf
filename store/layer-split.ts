import { createReadStream, statSync } from 'node:fs';
import { posix } from 'node:path';
import { DigestHasher, type Digest } from '../common/index.js';
import { blobPath } from './blobs.js';
import { cleanEntryName, layerPath } from './layers.js';
import { readTar } from './tar-read.js';
import { TarSplitRecorder, reproduceFrom, tarSplitPath, writeTarSplit } from './tar-split.js';

/**
 * Replace the tar blob of layer `diffId` by a tar-split (store/tar-split.ts) against its dir,
 * for a dir that was not extracted from that tar (a RUN's upper dir, this build's own layer
 * dir given to the store): the tar is read once to record its headers, each body referenced
 * by its path, and the split is kept only when it makes the same tar again from the dir,
 * byte for byte. Otherwise (a path twice in the tar, a dir that differs) the blob stays, as
 * before. Never throws: the blob is the durable copy until the split is checked.
 */
export async function splitAgainstDir(root: string, diffId: Digest): Promise<boolean> {
  const dir = layerPath(root, diffId);
  if (!statSync(blobPath(root, diffId), { throwIfNoEntry: false })?.isFile()) return false;
  if (statSync(tarSplitPath(root, diffId), { throwIfNoEntry: false })) return false;
  const what = `layer ${diffId}`;
  try {
    const split = new TarSplitRecorder();
    // A path given twice makes the check below fail, unless both bodies are the same bytes.
    await readTar(
      createReadStream(blobPath(root, diffId)),
      async (e, body) => {
        const rel = cleanEntryName(e.path);
        if (e.type === 'file' && rel && !posix.basename(rel).startsWith('.wh.')) body.keptAt(rel);
      },
      { what, split },
    );
    const h = new DigestHasher();
    for await (const chunk of reproduceFrom(split, dir, what)) h.update(chunk as Buffer);
    if (h.digest() !== diffId) return false;
    await writeTarSplit(root, diffId, split); // the tar goes once the dir is durable (store/layer-settle.ts)
    return true;
  } catch {
    return false;
  }
}
