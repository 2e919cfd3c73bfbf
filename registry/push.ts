import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';
import { digestOf, formatPlatform, shortId, type Digest } from '../common/index.js';
import {
  MediaType,
  familiarName,
  formatReference,
  parseReference,
  registryHost,
  repositoryOf,
  defaultExportCompression,
  type Descriptor,
  type ImageIndex,
  type ImageRecord,
  type ExportCompression,
  type Manifest,
  type Store,
} from '../store/index.js';
import { repositoryScope } from './auth.js';
import { blobExists, mountBlob, uploadBlob, uploadWhileMade } from './blob-upload.js';
import { errorDetail, RegistryClient, type ClientOptions } from './client.js';
import { compressionOf } from './layer-sink.js';
import { registryError } from './messages.js';
import { addRepoDigest, findCompressed, rememberCompressed, type CompressedLayer } from './records.js';

/**
 * `push`: every layer as a gzip blob (or zstd, or the tar: `compression`; a local
 * uncompressed layer is compressed once, deterministically, kept in the store and
 * remembered by diff_id), blobs the registry has are skipped
 * (HEAD), blobs another repository of the same registry has are mounted, then the config
 * and an OCI manifest. Returns the manifest digest the registry now serves for the tag.
 */

export interface PushOptions extends ClientOptions {
  progress?: (line: string) => void;
  concurrency?: number;
  /** Upload in PATCH chunks of this size (default: one PUT per blob). */
  chunkSizeBytes?: number;
  /** How layers go (default gzip level 6 on every core, as `docker push`). */
  compression?: ExportCompression;
}

export interface PushResult {
  manifestDigest: Digest;
  sizeBytes: number;
}

type Say = (line: string) => void;

/** What pushing one blob needs: the store, the registry, the target repository. */
export interface PushContext {
  store: Store;
  client: RegistryClient;
  repo: string;
  say: Say;
  chunkSizeBytes?: number;
  compression?: ExportCompression;
}

export async function pushImage(store: Store, refString: string, opts: PushOptions = {}): Promise<PushResult> {
  const ref = parseReference(refString);
  const name = familiarName(ref);
  if (ref.tag === undefined) throw registryError('push-needs-tag', [name], { where: name });
  const image = await store.resolveImage(formatReference({ ...ref, digest: undefined }));
  if (!image) throw registryError('image-not-local', [name], { where: name });
  const say = opts.progress ?? (() => {});
  const client = new RegistryClient(ref.domain, registryHost(ref), opts);
  const ctx: PushContext = { store, client, repo: ref.path, say, chunkSizeBytes: opts.chunkSizeBytes, compression: opts.compression };

  say(`The push refers to repository [${repositoryOf(ref)}]`);
  if (image.index) return pushIndex(ctx, image.index, ref.tag, name, opts.concurrency);
  const pushed = await pushManifest(ctx, image, ref.tag, name, opts.concurrency);
  await addRepoDigest(store, image.id, repositoryOf(ref), pushed.manifestDigest);
  say(`${ref.tag}: digest: ${pushed.manifestDigest} size: ${pushed.sizeBytes}`);
  return pushed;
}

/** One image's layers, config and manifest, the manifest PUT under `tag` (undefined: its own digest). */
async function pushManifest(ctx: PushContext, image: ImageRecord, tag: string | undefined, name: string, concurrency = 3): Promise<PushResult> {
  const { store, client } = ctx;
  const limit = pLimit(concurrency);
  const diffIds = image.config.rootfs.diff_ids;
  const layers = await Promise.all(image.manifest.layers.map((l, i) => limit(() => pushLayer(ctx, l, diffIds[i]))));

  const config = image.manifest.config;
  if (!(await blobExists(client, ctx.repo, config.digest))) {
    await uploadBlob(client, ctx.repo, { open: () => store.openBlob(config.digest), digest: config.digest, size: config.size });
  }
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.manifest,
    config: { mediaType: MediaType.config, digest: config.digest, size: config.size },
    layers,
    // `--annotation`s the build put in the stored manifest travel with it.
    ...(image.manifest.annotations ? { annotations: image.manifest.annotations } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = await putManifest(ctx.client, ctx.repo, tag ?? digestOf(bytes), bytes, name);
  return { manifestDigest, sizeBytes: bytes.length };
}

/**
 * A multi-platform image: each child pushed by its digest (in the index's order), then an
 * OCI index of what the registry now holds, under the tag. The same stored index always
 * gives the same bytes, so a pull and a push again give the same index digest.
 */
async function pushIndex(ctx: PushContext, stored: NonNullable<ImageRecord['index']>, tag: string, name: string, concurrency?: number): Promise<PushResult> {
  const manifests: Descriptor[] = [];
  for (const d of stored.index.manifests) {
    const child = await ctx.store.imageOfManifest(d.digest);
    const platform = d.platform ? formatPlatform(d.platform) : d.digest;
    if (!child) throw registryError('index-child-missing', [name, platform], { where: name });
    const pushed = await pushManifest(ctx, child, undefined, `${name} (${platform})`, concurrency);
    manifests.push({ mediaType: MediaType.manifest, digest: pushed.manifestDigest, size: pushed.sizeBytes, ...(d.platform ? { platform: d.platform } : {}) });
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.index, manifests };
  const bytes = Buffer.from(JSON.stringify(index));
  const manifestDigest = await putManifest(ctx.client, ctx.repo, tag, bytes, name, MediaType.index);
  await addRepoDigest(ctx.store, stored.digest, repositoryOf(parseReference(name)), manifestDigest);
  ctx.say(`${tag}: digest: ${manifestDigest} size: ${bytes.length}`);
  return { manifestDigest, sizeBytes: bytes.length };
}

/** PUT an OCI manifest under `tag`; checks the digest the registry reports. */
export async function putManifest(client: RegistryClient, repo: string, tag: string, bytes: Buffer, name: string, mediaType: string = MediaType.manifest): Promise<Digest> {
  const manifestDigest = digestOf(bytes);
  const res = await client.request({
    method: 'PUT',
    path: `/v2/${repo}/manifests/${tag}`,
    headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
    body: () => bytes,
    scopes: [repositoryScope(repo, ['pull', 'push'])],
  });
  if (res.status !== 201) {
    const d = await errorDetail(res);
    throw registryError('registry-error', [client.domain, `put manifest ${name}`, res.status, d.message], { where: name });
  }
  await res.dump();
  const served = res.headers['docker-content-digest'];
  if (served !== undefined && served !== manifestDigest) {
    throw registryError('digest-mismatch', [`manifest ${name} as stored by the registry`, served, manifestDigest], { where: name });
  }
  return manifestDigest;
}

/** Registry-side name of the manifest layer: our own annotations stay home. */
function publicDescriptor(mediaType: string, digest: Digest, size: number): Descriptor {
  return { mediaType, digest, size };
}

/** Push one layer (compressing a local tar once); returns the descriptor the manifest lists. */
export async function pushLayer(ctx: PushContext, layer: Descriptor, diffId: Digest): Promise<Descriptor> {
  const { store, client, repo, say } = ctx;
  const c = ctx.compression ?? defaultExportCompression(availableParallelism());
  const short = shortId(layer.digest);
  say(`${short}: Preparing`);
  const stored = compressionOf(layer.mediaType);
  if (stored === undefined) throw registryError('unsupported-layer', [layer.mediaType], { where: layer.digest });
  const wanted = c.algorithm === 'uncompressed' ? 'tar' : c.algorithm;
  const here = `${client.domain}/${repo}`;
  // The blob to send without compressing: the stored blob when it is in the wanted form (or
  // `uncompressed` is asked of a compressed one: sent as stored), else the verified
  // compressed form this layer had before (pulled or pushed; records.ts keeps no other),
  // unless force-compression. Nothing else is ever asked for by digest (HEAD) or mounted.
  const isStoredAsWanted = stored === wanted || wanted === 'tar';
  const known: CompressedLayer | undefined =
    isStoredAsWanted && !(c.isForced && wanted !== 'tar')
      ? { digest: layer.digest, size: layer.size, mediaType: mediaTypeOf(stored), knownIn: [], verified: 'stored' }
      : stored === 'tar' && !c.isForced
        ? await findCompressed(store, diffId, wanted)
        : undefined;

  if (known) {
    const done = await reuseRemote(ctx, known, short);
    if (done) {
      if (known.verified !== 'stored') await rememberCompressed(store, diffId, { ...known, knownIn: [here] });
      return publicDescriptor(known.mediaType, known.digest, known.size);
    }
  }
  let blob = known && (await store.hasBlob(known.digest)) ? known : undefined;
  if (!blob) {
    if (wanted === 'tar') throw new Error('[internal] an uncompressed push sends the stored blob');
    // The chunks go to the registry as they are made (the digest is needed only at the
    // closing PUT) and into the store as before; a failed stream is sent again below.
    let made: Descriptor | undefined;
    const up = await uploadWhileMade(client, repo, async (send) => {
      made = await store.compressedLayer(layer, diffId, { algorithm: wanted, level: c.level }, { cores: c.cores, onChunk: send });
      return made.digest;
    });
    if (!made) throw new Error('[internal] compressed layer not made');
    blob = { digest: made.digest, size: made.size, mediaType: made.mediaType, knownIn: [], verified: 'compressed' };
    if (up.isUploaded) {
      say(`${short}: Pushed`);
      await rememberCompressed(store, diffId, { ...blob, knownIn: [here] });
      return publicDescriptor(blob.mediaType, blob.digest, blob.size);
    }
    if (await blobExists(client, repo, blob.digest)) {
      say(`${short}: Layer already exists`);
      await rememberCompressed(store, diffId, { ...blob, knownIn: [here] });
      return publicDescriptor(blob.mediaType, blob.digest, blob.size);
    }
  }
  await uploadBlob(client, repo, { open: () => store.openBlob(blob.digest), digest: blob.digest, size: blob.size }, ctx);
  say(`${short}: Pushed`);
  if (blob.verified !== 'stored') await rememberCompressed(store, diffId, { ...blob, knownIn: [here] });
  return publicDescriptor(blob.mediaType, blob.digest, blob.size);
}

function mediaTypeOf(compression: 'tar' | 'gzip' | 'zstd'): string {
  return compression === 'tar' ? MediaType.layerTar : compression === 'gzip' ? MediaType.layerGzip : MediaType.layerZstd;
}

/** The registry already has the blob (HEAD), or can mount it from a repository known to: no upload. */
async function reuseRemote(ctx: PushContext, known: CompressedLayer, short: string): Promise<boolean> {
  const { client, repo, say } = ctx;
  if (await blobExists(client, repo, known.digest)) {
    say(`${short}: Layer already exists`);
    return true;
  }
  for (const source of known.knownIn) {
    const slash = source.indexOf('/');
    const domain = source.slice(0, slash);
    const fromRepo = source.slice(slash + 1);
    if (domain !== client.domain || fromRepo === repo) continue;
    if (await mountBlob(client, repo, known.digest, fromRepo)) {
      say(`${short}: Mounted from ${fromRepo}`);
      return true;
    }
  }
  return false;
}
