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
 *   `io.containerd.image.name` = the full name. skopeo and umoci read it.
 */

export type SaveFormat = 'docker' | 'oci';

const REF_NAME = 'org.opencontainers.image.ref.name';
const IMAGE_NAME = 'io.containerd.image.name';

interface Selected {
  image: ImageRecord;
  /** Full normalised names to record for it. */
  names: string[];
}

/** Resolve the user's arguments: a name saves that name, an id saves the image unnamed (as Docker does). */
async function select(store: Store, refs: string[], platform: Platform | undefined): Promise<Selected[]> {
  const out: Selected[] = [];
  for (const ref of refs) {
    const image = await store.resolveImage(ref, { platform });
    if (!image && platform && (await store.resolveImage(ref))) {
      throw new UserError('image-not-found', `No such image: ${ref} for ${formatPlatform(platform)}`, { where: ref });
    }
    if (!image) throw new UserError('image-not-found', `No such image: ${ref}`, { where: ref });
    // A docker archive holds one platform (docker save --platform); a whole index is not written yet.
    if (image.index && !platform) {
      throw new UserError('save-multi-platform', `${ref} is a multi-platform image (${image.index.platforms.map(formatPlatform).join(', ')}): save one platform with --platform`, { where: ref, exitCode: 1 });
    }
    const name = nameAmong(ref, image.names);
    const prev = out.find((s) => s.image.id === image.id);
    if (prev) {
      if (name && !prev.names.includes(name)) prev.names.push(name);
    } else out.push({ image, names: name ? [name] : [] });
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
  return writeImageArchive(store, await select(store, refs, opts.platform), new TarPack(out), opts);
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
 * in index.json (`--annotation manifest-descriptor:…`).
 */
export async function writeImageArchive(
  store: Store,
  selected: { image: ImageRecord; names: string[] }[],
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

function indexEntry(manifestDigest: Digest, size: number, name: string | undefined, extra: Record<string, string>): Descriptor {
  const d: Descriptor = { mediaType: MediaType.manifest, digest: manifestDigest, size };
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

async function writeDocker(store: Store, selected: Selected[], tar: ArchiveSink, extra: Record<string, string>): Promise<void> {
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
  for (const { image, names } of selected) {
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
    if (names.length === 0) index.push(indexEntry(image.manifestDigest, manifestSize, undefined, extra));
    for (const n of names) index.push(indexEntry(image.manifestDigest, manifestSize, n, extra));
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

async function writeOci(store: Store, selected: Selected[], tar: ArchiveSink, c: ExportCompression, extra: Record<string, string>): Promise<void> {
  const files = new Map<Digest, { open: () => Readable; size: number } | { bytes: string }>();
  const index: Descriptor[] = [];
  for (const { image, names } of selected) {
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
    const md = digestOf(bytes);
    files.set(md, { bytes });
    if (names.length === 0) index.push(indexEntry(md, Buffer.byteLength(bytes), undefined, extra));
    for (const n of names) index.push(indexEntry(md, Buffer.byteLength(bytes), n, extra));
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
