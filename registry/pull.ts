import { stat } from 'node:fs/promises';
import pLimit from 'p-limit';
import { isDigest, shortId, type Digest } from '../common/index.js';
import {
  MediaType,
  familiarName,
  formatReference,
  parseReference,
  registryHost,
  repositoryOf,
  type Descriptor,
  type ImageConfig,
  type ImageRecord,
  type Manifest,
  type Store,
} from '../store/index.js';
import { downloadBlob, downloadSmallBlob } from './blob-download.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { compressionOf, uncompressedLayerSink } from './layer-sink.js';
import { MAX_DOCUMENT_BYTES } from './limits.js';
import { fetchManifest, formatPlatform, parsePlatform, selectPlatform, tooLarge } from './manifest.js';
import { registryError } from './messages.js';
import { addRepoDigest, rememberCompressed } from './records.js';

/**
 * `pull`: manifest (→ platform entry of an index) → config → layers, each checked against
 * its digest (as sent) and its diff_id (unpacked) before it enters the store, where it is
 * kept as an uncompressed tar like every local layer; a layer whose diff_id is already in
 * the store is not downloaded again. The image id is the config digest: the config's bytes
 * are stored exactly as the registry sent them. The registry's manifest digest is recorded
 * as a RepoDigest (records.ts), and its compressed blob per diff_id, for later pushes.
 */

export interface PullOptions extends ClientOptions {
  /** `os/arch[/variant]`; default linux/amd64. */
  platform?: string;
  /** Docker-like progress lines (`abc123: Pull complete`). */
  progress?: (line: string) => void;
  /** Parallel layer downloads (default 3, as Docker). */
  concurrency?: number;
}

export async function pullImage(store: Store, refString: string, opts: PullOptions = {}): Promise<ImageRecord> {
  const ref = parseReference(refString);
  const name = familiarName(ref);
  const repo = ref.path;
  const say = opts.progress ?? (() => {});
  const client = new RegistryClient(ref.domain, registryHost(ref), opts);

  const platform = parsePlatform(opts.platform);
  let top = await fetchManifest(client, repo, ref.digest ?? ref.tag!, name);
  say(`${ref.digest ?? ref.tag}: Pulling from ${repo}`);
  const manifestDigest = top.digest;
  const isFromIndex = top.kind === 'index';
  if (top.kind === 'index') {
    const entry = selectPlatform(top.index, platform, name);
    if (entry.size > MAX_DOCUMENT_BYTES) throw tooLarge(`manifest for ${name} (${formatPlatform(platform)})`, name);
    top = await fetchManifest(client, repo, entry.digest, name);
    if (top.kind !== 'manifest') throw registryError('invalid-manifest', [name, 'an index inside an index'], { where: name });
  }
  const manifest = top.manifest;
  const { config, configBytes } = await fetchConfig(store, client, repo, manifest, name);
  const configDigest = manifest.config.digest;
  if (opts.platform !== undefined && !isFromIndex && (config.os !== platform.os || config.architecture !== platform.architecture)) {
    const got = formatPlatform({ os: config.os, architecture: config.architecture, variant: config.variant });
    throw registryError('platform-mismatch', [name, formatPlatform(platform), got], { where: name });
  }

  const names = ref.tag !== undefined ? [formatReference({ ...ref, digest: undefined })] : [];
  const existing = names.length > 0 ? await store.resolveImage(names[0]) : undefined;
  const wasUpToDate = existing?.id === configDigest;

  const limit = pLimit(opts.concurrency ?? 3);
  const layers = await Promise.all(
    manifest.layers.map((layer, i) => limit(() => pullLayer(store, client, repo, layer, config.rootfs.diff_ids[i], say))),
  );
  say(`Digest: ${manifestDigest}`);

  await store.putBlob(configBytes);
  // commitImage keeps the config blob's bytes (and so the image id) as the registry sent
  // them: writeImage would re-serialise the config, changing the id of any image not
  // serialised as we do.
  const record = await store.commitImage({
    configDigest,
    configSize: configBytes.length,
    config,
    layers,
    names,
  });
  await addRepoDigest(store, record.id, repositoryOf(ref), manifestDigest);
  say(wasUpToDate ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}`);
  return record;
}

async function fetchConfig(
  store: Store,
  client: RegistryClient,
  repo: string,
  manifest: Manifest,
  name: string,
): Promise<{ config: ImageConfig; configBytes: Buffer }> {
  const desc = manifest.config;
  if (desc.size > MAX_DOCUMENT_BYTES) throw tooLarge(`image config of ${name}`, name);
  let bytes = await store.readBlob(desc.digest);
  bytes ??= await downloadSmallBlob(client, repo, desc);
  let config: ImageConfig;
  try {
    config = JSON.parse(bytes.toString('utf8')) as ImageConfig;
  } catch {
    throw registryError('invalid-manifest', [name, 'image config is not JSON'], { where: name });
  }
  const diffIds = config?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length || !diffIds.every((d) => isDigest(d))) {
    throw registryError('invalid-manifest', [name, `${manifest.layers.length} layers but config lists ${diffIds?.length ?? 0} diff_ids`], {
      where: name,
    });
  }
  return { config, configBytes: bytes };
}

/** One layer into the store as a tar (or found there); returns the descriptor the local manifest lists. */
async function pullLayer(
  store: Store,
  client: RegistryClient,
  repo: string,
  layer: Descriptor,
  diffId: Digest,
  say: (line: string) => void,
): Promise<Descriptor> {
  const short = shortId(layer.digest);
  if (compressionOf(layer.mediaType) === undefined) throw registryError('unsupported-layer', [layer.mediaType], { where: layer.digest });
  if (await store.hasBlob(diffId)) {
    // The descriptor's blob is neither fetched nor checked, so it is not remembered as this
    // layer's compressed form: a config may name any diff_id next to any blob (issue 16's
    // poisoned diff_id), and a later push must not mount that blob for this layer.
    say(`${short}: Already exists`);
  } else {
    say(`${short}: Pulling fs layer`);
    const sink = uncompressedLayerSink(store, layer, diffId);
    try {
      await downloadBlob(client, repo, layer, sink.stream);
      await sink.finish();
    } catch (e) {
      await sink.abort();
      throw e;
    }
    // Both checked now: the bytes against the blob digest, their content against the diff_id.
    if (layer.digest !== diffId) await rememberSource(store, layer, diffId, client, repo);
    say(`${short}: Pull complete`);
  }
  return { mediaType: MediaType.layerTar, digest: diffId, size: (await store.blobSize(diffId))! };
}

/** The registry's compressed blob of a layer, just verified: a push to that registry can mount or skip it. */
async function rememberSource(store: Store, layer: Descriptor, diffId: Digest, client: RegistryClient, repo: string): Promise<void> {
  const mediaType = compressionOf(layer.mediaType) === 'zstd' ? MediaType.layerZstd : MediaType.layerGzip;
  await rememberCompressed(store, diffId, {
    digest: layer.digest,
    size: layer.size,
    mediaType,
    knownIn: [`${client.domain}/${repo}`],
    verified: 'downloaded',
  });
}
