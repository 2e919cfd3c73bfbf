import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UserError, digestOf, hexOf, isDigest, type Digest } from '../common/index.js';
import type { ImageRecord, Store } from './contract.js';
import { goArch } from './archive-load.js';
import { commitImage } from './images.js';
import type { Descriptor, ImageConfig, ImageIndex, Manifest } from './oci-types.js';

/**
 * One image of an OCI layout directory (`--build-context NAME=oci-layout://DIR[:TAG][@DIGEST]`)
 * brought into the store as blobs, unnamed and out of the index: by digest, else by tag as
 * BuildKit's ociindex finds it (`io.containerd.image.name`, then
 * `org.opencontainers.image.ref.name`), else the layout's only image. Every blob read is
 * checked against its digest; a layout that lies is refused before its image is committed.
 */
export async function importLayoutImage(store: Store, dir: string, pick: { tag?: string; digest?: Digest }): Promise<ImageRecord> {
  const shown = `oci-layout://${dir}${pick.tag ? `:${pick.tag}` : ''}${pick.digest ? `@${pick.digest}` : ''}`;
  const fail = (why: string) => new UserError('oci-layout', `${shown}: ${why}`, { where: dir });
  const indexText = await readFile(join(dir, 'index.json'), 'utf8').catch(() => undefined);
  if (indexText === undefined) throw fail('not an OCI layout (no index.json)');
  const index = parseJson<ImageIndex>(indexText, () => fail('index.json is not JSON'));
  const entries = index.manifests ?? [];
  const desc: Pick<Descriptor, 'digest'> | undefined = pick.digest
    ? { digest: pick.digest }
    : entries.find((m) => m.annotations?.['io.containerd.image.name'] === pick.tag) ??
      entries.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === pick.tag) ??
      (entries.length === 1 ? entries[0] : undefined);
  if (!desc) throw fail(`no image tagged "${pick.tag}" (the layout has ${entries.length} images)`);
  const blob = async (d: string): Promise<Buffer> => {
    if (!isDigest(d)) throw fail(`bad digest "${d}"`);
    const bytes = await readFile(join(dir, 'blobs', 'sha256', hexOf(d))).catch(() => undefined);
    if (!bytes) throw fail(`blob ${d} is missing`);
    if (digestOf(bytes) !== d) throw fail(`blob ${d} does not match its digest`);
    return bytes;
  };
  let manifest = parseJson<Manifest & ImageIndex>((await blob(desc.digest)).toString('utf8'), () => fail(`manifest ${desc.digest} is not JSON`));
  for (let depth = 0; Array.isArray(manifest.manifests); depth++) {
    const m = manifest.manifests.find((x) => !x.platform || (x.platform.os === 'linux' && x.platform.architecture === goArch()));
    if (!m || depth > 4) throw fail(`no linux/${goArch()} image in the index`);
    manifest = parseJson((await blob(m.digest)).toString('utf8'), () => fail(`manifest ${m.digest} is not JSON`));
  }
  const configBytes = await blob(manifest.config.digest);
  const config = parseJson<ImageConfig>(configBytes.toString('utf8'), () => fail('the image config is not JSON'));
  if ((config.rootfs?.diff_ids?.length ?? -1) !== manifest.layers.length) throw fail('the config\'s diff_ids do not match the manifest\'s layers');
  for (const l of manifest.layers) {
    if (await store.hasBlob(l.digest)) continue;
    if (!isDigest(l.digest)) throw fail(`bad layer digest "${l.digest}"`);
    const w = store.blobWriter({ expected: l.digest });
    try {
      await pipeline(createReadStream(join(dir, 'blobs', 'sha256', hexOf(l.digest))), w.stream);
      await w.commit();
    } catch (e) {
      await w.abort();
      if (e instanceof UserError) throw fail(e.message);
      throw fail(`layer ${l.digest}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const stored = await store.putBlob(configBytes);
  const layers = manifest.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size }));
  return commitImage(store.root, { configDigest: stored.digest, configSize: stored.size, config, layers, names: [], isIndexed: false });
}

function parseJson<T>(text: string, fail: () => Error): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw fail();
  }
}
