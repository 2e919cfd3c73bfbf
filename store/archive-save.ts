import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { UserError, canonicalJson, digestOf, formatPlatform, hexOf, type Digest, type Platform } from '../common/index.js';
import type { ImageRecord, Store } from './contract.js';
import { MediaType, type Descriptor, type ImageIndex, type Manifest } from './oci-types.js';
import { familiarName, familiarRepository, nameAmong, parseReference } from './reference.js';
import { TarPack } from './tar-pack.js';
import { defaultExportCompression, type ExportCompression } from './chunked-compress.js';

/**
 * `tsbuild save`: images as one tar archive.
 * - `docker`: what Docker 25+ writes — an OCI layout (oci-layout, index.json, blobs/sha256/…)
 *   plus Docker's manifest.json and repositories, the blobs as stored (local layers are
 *   uncompressed tar). `docker load` reads manifest.json.
 * - `oci`: an OCI image layout with gzip (or zstd, or uncompressed) layers, compressed
 *   deterministically by store/chunked-compress.ts and kept in the store (the same layer
 *   always gives the same blob, and a second save does not compress again), index entries
 *   annotated as Docker writes them: `org.opencontainers.image.ref.name` = the tag,
 *   `io.containerd.image.name` = the full name. skopeo and umoci read it. A multi-platform
 *   image is its whole index (its entry in index.json an image index over every child).
 */

export type SaveFormat = 'docker' | 'oci';

const REF_NAME = 'org.opencontainers.image.ref.name';
const IMAGE_NAME = 'io.containerd.image.name';

export interface ArchiveImage {
  image: ImageRecord;
  /** Full normalised names to record for it. */
  names: string[];
  /** The whole image index `image` is a child of, written instead of `image` (oci only). */
  index?: StoredIndex;
}

type StoredIndex = NonNullable<ImageRecord['index']>;

/**
 * Resolve the user's arguments: a name saves that name, an id saves the image unnamed (as
 * Docker does). A multi-platform image is its whole index in an OCI archive, one platform
 * (`--platform`) in a docker archive.
 */
async function select(store: Store, refs: string[], platform: Platform | undefined, format: SaveFormat): Promise<ArchiveImage[]> {
  const out: ArchiveImage[] = [];
  for (const ref of refs) {
    const image = await store.resolveImage(ref, { platform });
    if (!image && platform && (await store.resolveImage(ref))) {
      throw new UserError('image-not-found', `No such image: ${ref} for ${formatPlatform(platform)}`, { where: ref });
    }
    if (!image) throw new UserError('image-not-found', `No such image: ${ref}`, { where: ref });
    // A docker archive's manifest.json holds one platform per image (docker save --platform).
    const index = image.index && !platform ? image.index : undefined;
    if (index && format === 'docker') {
      throw new UserError('save-multi-platform', `${ref} is a multi-platform image (${index.platforms.map(formatPlatform).join(', ')}): save one platform with --platform, or the whole index with --format oci`, { where: ref, exitCode: 1 });
    }
    const name = nameAmong(ref, image.names);
    const prev = out.find((s) => (index ? s.index?.digest === index.digest : !s.index && s.image.id === image.id));
    if (prev) {
      if (name && !prev.names.includes(name)) prev.names.push(name);
    } else out.push({ image, names: name ? [name] : [], ...(index ? { index } : {}) });
  }
  return out;
}

function blobName(d: Digest): string {
  return `blobs/sha256/${hexOf(d)}`;
}

/** Write `refs` as an archive of `format` to `out` (which is ended). */
export interface SaveOptions {
  format: SaveFormat;
  /** One child of each multi-platform image (docker-archive holds one platform). */
  platform?: Platform;
  /** How `oci` compresses layers (default gzip, level 6, every core); `docker` writes them as stored. */
  compression?: ExportCompression;
}

export async function saveImages(store: Store, refs: string[], out: Writable, opts: SaveOptions): Promise<void> {
  return writeImageArchive(store, await select(store, refs, opts.platform, opts.format), new TarPack(out), opts);
}

/** What `writeImageArchive` writes an image archive's entries to: a tar (TarPack) or a directory (DirPack). */
export interface ArchiveSink {
  addDir(name: string): Promise<void>;
  addBytes(name: string, data: string | Uint8Array): Promise<void>;
  /** What `open` streams (a blob, a split layer's tar made again), exactly `size` bytes. */
  addFile(name: string, open: () => Readable, size: number): Promise<void>;
  finish(): Promise<void>;
}

/**
 * Images the caller holds records of (a build's result, named or not in the store) as an
 * archive of `format` written to `sink`; `descriptorAnnotations` go on each image's entry
 * in index.json (`--annotation manifest-descriptor:…`). An entry with `index` is that whole
 * image index (every child the store holds), which only `oci` can hold.
 */
export async function writeImageArchive(
  store: Store,
  selected: ArchiveImage[],
  sink: ArchiveSink,
  opts: SaveOptions & { descriptorAnnotations?: Record<string, string> },
): Promise<void> {
  const extra = opts.descriptorAnnotations ?? {};
  switch (opts.format) {
    case 'docker':
      await writeDocker(store, selected, sink, extra);
      break;
    case 'oci':
      await writeOci(store, selected, sink, opts.compression ?? defaultExportCompression(availableParallelism()), extra);
      break;
  }
  await sink.finish();
}

function indexEntry(mediaType: string, digest: Digest, size: number, name: string | undefined, extra: Record<string, string>): Descriptor {
  const d: Descriptor = { mediaType, digest, size };
  const annotations: Record<string, string> = { ...extra };
  if (name) {
    const ref = parseReference(name);
    Object.assign(annotations, { [IMAGE_NAME]: name, [REF_NAME]: ref.tag ?? 'latest' });
  }
  if (Object.keys(annotations).length) d.annotations = annotations;
  return d;
}

function layoutIndex(entries: Descriptor[]): string {
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.index, manifests: entries };
  return JSON.stringify(index);
}

async function writeDocker(store: Store, selected: ArchiveImage[], tar: ArchiveSink, extra: Record<string, string>): Promise<void> {
  const written = new Set<string>();
  const addBlob = async (d: Digest) => {
    if (written.has(d)) return;
    written.add(d);
    const size = await store.blobSize(d);
    if (size === undefined) throw new UserError('store-missing-blob', `store: blob ${d} is missing`, { hint: 'run `tsbuild fsck`' });
    await tar.addFile(blobName(d), () => store.openBlob(d), size);
  };
  await tar.addDir('blobs/');
  await tar.addDir('blobs/sha256/');
  const manifestJson: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const index: Descriptor[] = [];
  for (const { image, names, index: whole } of selected) {
    if (whole) throw new Error(`[internal] a docker archive cannot hold the image index ${whole.digest}`);
    await addBlob(image.id);
    for (const l of image.manifest.layers) await addBlob(l.digest);
    await addBlob(image.manifestDigest);
    const manifestSize = (await stat(store.blobPath(image.manifestDigest))).size;
    const tags = names.map((n) => familiarName(parseReference(n)));
    manifestJson.push({ Config: blobName(image.id), RepoTags: tags.length ? tags : null, Layers: image.manifest.layers.map((l) => blobName(l.digest)) });
    const top = image.manifest.layers[image.manifest.layers.length - 1];
    for (const n of names) {
      const ref = parseReference(n);
      if (top && ref.tag) (repositories[familiarRepository(ref)] ??= {})[ref.tag] = hexOf(top.digest);
    }
    if (names.length === 0) index.push(indexEntry(MediaType.manifest, image.manifestDigest, manifestSize, undefined, extra));
    for (const n of names) index.push(indexEntry(MediaType.manifest, image.manifestDigest, manifestSize, n, extra));
  }
  await tar.addBytes('index.json', layoutIndex(index));
  await tar.addBytes('manifest.json', JSON.stringify(manifestJson));
  await tar.addBytes('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  if (Object.keys(repositories).length > 0) await tar.addBytes('repositories', JSON.stringify(repositories));
}

/** The stored form of a layer when it already is what `c` asks for, else its compressed blob. */
async function exportedLayer(store: Store, layer: Descriptor, diffId: Digest, c: ExportCompression): Promise<Descriptor> {
  const stored = storedCompression(layer.mediaType);
  if (c.algorithm === 'uncompressed' || (stored === c.algorithm && !c.isForced)) return ociLayer(layer);
  return store.compressedLayer(layer, diffId, { algorithm: c.algorithm, level: c.level }, { cores: c.cores });
}

function storedCompression(mediaType: string): 'uncompressed' | 'gzip' | 'zstd' | undefined {
  if (mediaType === MediaType.layerTar || mediaType === MediaType.dockerLayerTar) return 'uncompressed';
  if (mediaType === MediaType.layerGzip || mediaType === MediaType.dockerLayerGzip) return 'gzip';
  if (mediaType === MediaType.layerZstd) return 'zstd';
  return undefined;
}

/** The OCI media type of a stored layer (an OCI layout names no Docker types). */
function ociLayer(l: Descriptor): Descriptor {
  const mediaType =
    l.mediaType === MediaType.dockerLayerGzip ? MediaType.layerGzip : l.mediaType === MediaType.dockerLayerTar ? MediaType.layerTar : l.mediaType;
  return { mediaType, digest: l.digest, size: l.size };
}

type ArchiveFiles = Map<Digest, { open: () => Readable; size: number } | { bytes: string }>;

/** One image's manifest (layers as `c` asks), config and layers into `files`; its manifest's descriptor. */
async function ociManifest(store: Store, image: ImageRecord, c: ExportCompression, files: ArchiveFiles): Promise<{ digest: Digest; size: number }> {
  const layers: Descriptor[] = [];
  const diffIds = image.config.rootfs.diff_ids;
  for (const [i, l] of image.manifest.layers.entries()) {
    const d = await exportedLayer(store, l, diffIds[i], c);
    layers.push(d);
    files.set(d.digest, { open: () => store.openBlob(d.digest), size: d.size });
  }
  files.set(image.id, { open: () => store.openBlob(image.id), size: image.manifest.config.size });
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.manifest,
    config: { mediaType: MediaType.config, digest: image.id, size: image.manifest.config.size },
    layers,
    ...(image.manifest.annotations ? { annotations: image.manifest.annotations } : {}),
  };
  const bytes = canonicalJson(manifest);
  const digest = digestOf(bytes);
  files.set(digest, { bytes });
  return { digest, size: Buffer.byteLength(bytes) };
}

/**
 * An image index: each child written as one image is, then an index over them in the
 * stored index's order, each descriptor keeping its platform (as BuildKit's oci exporter
 * writes a multi-platform build: exporter/containerimage/writer.go). Canonical JSON, so the
 * same children give the same index digest, whichever store they were saved from.
 */
async function ociIndex(store: Store, stored: StoredIndex, c: ExportCompression, files: ArchiveFiles): Promise<{ digest: Digest; size: number }> {
  const manifests: Descriptor[] = [];
  for (const d of stored.index.manifests) {
    const child = await store.imageOfManifest(d.digest);
    if (!child) {
      const which = d.platform ? formatPlatform(d.platform) : d.digest;
      throw new UserError('store-missing-blob', `store: the ${which} image of index ${d.digest} is missing`, { hint: 'run `tsbuild fsck`' });
    }
    const m = await ociManifest(store, child, c, files);
    manifests.push({ mediaType: MediaType.manifest, digest: m.digest, size: m.size, ...(d.platform ? { platform: d.platform } : {}) });
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.index, manifests };
  const bytes = canonicalJson(index);
  const digest = digestOf(bytes);
  files.set(digest, { bytes });
  return { digest, size: Buffer.byteLength(bytes) };
}

async function writeOci(store: Store, selected: ArchiveImage[], tar: ArchiveSink, c: ExportCompression, extra: Record<string, string>): Promise<void> {
  const files: ArchiveFiles = new Map();
  const index: Descriptor[] = [];
  for (const { image, names, index: whole } of selected) {
    const top = whole ? await ociIndex(store, whole, c, files) : await ociManifest(store, image, c, files);
    const mediaType = whole ? MediaType.index : MediaType.manifest;
    if (names.length === 0) index.push(indexEntry(mediaType, top.digest, top.size, undefined, extra));
    for (const n of names) index.push(indexEntry(mediaType, top.digest, top.size, n, extra));
  }
  await tar.addBytes('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await tar.addBytes('index.json', layoutIndex(index));
  await tar.addDir('blobs/');
  await tar.addDir('blobs/sha256/');
  for (const d of [...files.keys()].sort()) {
    const f = files.get(d)!;
    if ('bytes' in f) await tar.addBytes(blobName(d), f.bytes);
    else await tar.addFile(blobName(d), f.open, f.size);
  }
}
