import { stat } from 'node:fs/promises';
import pLimit from 'p-limit';
import { isDigest, samePlatform, shortId, type Digest, type Platform } from '../common/index.js';
import {
  MediaType,
  familiarName,
  formatReference,
  parseReference,
  registryHost,
  repositoryOf,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageRecord,
  type Manifest,
  type Store,
} from '../store/index.js';
import { downloadBlob, downloadSmallBlob } from './blob-download.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { compressionOf, uncompressedLayerSink } from './layer-sink.js';
import { MAX_DOCUMENT_BYTES } from './limits.js';
import { fetchManifest, formatPlatform, parsePlatform, selectPlatform, tooLarge, type FetchedManifest } from './manifest.js';
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
  /** `os/arch[/variant]`, or a comma list (an index gives each); default the host's. */
  platform?: string;
  /** Every platform an index lists (attestation manifests, `unknown/unknown`, left out). */
  allPlatforms?: boolean;
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

  const platforms = (opts.platform ?? '').split(',').filter(Boolean).map((p) => parsePlatform(p));
  if (platforms.length === 0) platforms.push(parsePlatform(undefined));
  const platform = platforms[0];
  const top = await fetchManifest(client, repo, ref.digest ?? ref.tag!, name);
  say(`${ref.digest ?? ref.tag}: Pulling from ${repo}`);
  const manifestDigest = top.digest;
  const names = ref.tag !== undefined ? [formatReference({ ...ref, digest: undefined })] : [];
  const existing = names.length > 0 ? await store.resolveImage(names[0]) : undefined;
  if (top.kind === 'index') return pullIndex(store, top, { client, repo, name, names, say, platforms, all: opts.allPlatforms === true, existing, concurrency: opts.concurrency, ref });
  const fetched = await fetchConfig(store, client, repo, top.manifest, name);
  const { config } = fetched;
  if (opts.platform !== undefined && (config.os !== platform.os || config.architecture !== platform.architecture)) {
    const got = formatPlatform({ os: config.os, architecture: config.architecture, variant: config.variant });
    throw registryError('platform-mismatch', [name, formatPlatform(platform), got], { where: name });
  }
  const wasUpToDate = existing?.id === top.manifest.config.digest;
  const record = await pullManifest(store, top.manifest, { client, repo, name, say, names, concurrency: opts.concurrency }, fetched);
  say(`Digest: ${manifestDigest}`);
  await addRepoDigest(store, record.id, repositoryOf(ref), manifestDigest);
  say(wasUpToDate ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}`);
  return record;
}

interface PullContext {
  client: RegistryClient;
  repo: string;
  name: string;
  say: (line: string) => void;
  concurrency?: number;
}

/**
 * An image index: the children for `platforms` (every platform with `all`) pulled into the
 * store, then a local index over them (the store's own manifests, layers uncompressed) with
 * the children an index of this name already held for other platforms, in the registry's
 * order. The registry's index digest is its RepoDigest; a push gives it again.
 */
async function pullIndex(
  store: Store,
  top: Extract<FetchedManifest, { kind: 'index' }>,
  c: PullContext & { names: string[]; platforms: Platform[]; all: boolean; existing: ImageRecord | undefined; ref: ReturnType<typeof parseReference> },
): Promise<ImageRecord> {
  const { name } = c;
  const entries = c.all
    ? top.index.manifests.filter((d) => d.platform && d.platform.os !== 'unknown')
    : c.platforms.map((p) => selectPlatform(top.index, p, name));
  const children: Descriptor[] = [];
  for (const entry of entries) {
    if (children.some((d) => d.platform && entry.platform && samePlatform(d.platform, entry.platform))) continue;
    const label = entry.platform ? formatPlatform(entry.platform) : entry.digest;
    if (entry.size > MAX_DOCUMENT_BYTES) throw tooLarge(`manifest for ${name} (${label})`, name);
    const child = await fetchManifest(c.client, c.repo, entry.digest, name);
    if (child.kind !== 'manifest') throw registryError('invalid-manifest', [name, 'an index inside an index'], { where: name });
    const rec = await pullManifest(store, child.manifest, { ...c, names: [], isIndexed: false });
    const bytes = await store.readBlob(rec.manifestDigest);
    children.push({ mediaType: MediaType.manifest, digest: rec.manifestDigest, size: bytes!.length, platform: entry.platform });
  }
  for (const d of c.existing?.index?.index.manifests ?? []) {
    if (!d.platform || children.some((x) => samePlatform(x.platform!, d.platform!))) continue;
    if (await store.imageOfManifest(d.digest)) children.push(d);
  }
  const order = (d: Descriptor) => {
    const i = top.index.manifests.findIndex((x) => x.platform && d.platform && samePlatform(x.platform, d.platform));
    return i < 0 ? top.index.manifests.length : i;
  };
  children.sort((a, b) => order(a) - order(b));
  c.say(`Digest: ${top.digest}`);
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.index, manifests: children };
  const written = await store.writeIndex({ index, names: c.names });
  await addRepoDigest(store, written.digest, repositoryOf(c.ref), top.digest);
  c.say(c.existing?.index?.digest === written.digest ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}`);
  const record = await store.resolveImage(written.digest, { platform: c.platforms[0] });
  if (!record) throw new Error(`[internal] pulled index ${written.digest} has no ${formatPlatform(c.platforms[0])} child`);
  return record;
}

/** One image: config, then its layers, into the store; named `names` (or kept out of the index). */
async function pullManifest(
  store: Store,
  manifest: Manifest,
  c: PullContext & { names: string[]; isIndexed?: boolean },
  fetched?: { config: ImageConfig; configBytes: Buffer },
): Promise<ImageRecord> {
  const { config, configBytes } = fetched ?? (await fetchConfig(store, c.client, c.repo, manifest, c.name));
  const limit = pLimit(c.concurrency ?? 3);
  const layers = await Promise.all(
    manifest.layers.map((layer, i) => limit(() => pullLayer(store, c.client, c.repo, layer, config.rootfs.diff_ids[i], c.say))),
  );
  await store.putBlob(configBytes);
  // commitImage keeps the config blob's bytes (and so the image id) as the registry sent
  // them: writeImage would re-serialise the config, changing the id of any image not
  // serialised as we do.
  return store.commitImage({ configDigest: manifest.config.digest, configSize: configBytes.length, config, layers, names: c.names, isIndexed: c.isIndexed });
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
