import { UserError, bestPlatformMatch, canonicalJson, compareCodeUnits, hostPlatform, isDigest, type Digest, type Platform } from '../common/index.js';
import type { ImageRecord } from './contract.js';
import { hasBlob, putBlob, readBlob } from './blobs.js';
import { CONTENT_SIZE, annotatedSize, layerContentSize } from './content-size.js';
import { readEntries, updateEntries, type IndexEntry } from './index-json.js';
import { MediaType, type Descriptor, type ImageConfig, type ImageIndex, type Manifest } from './oci-types.js';
import { normaliseName, parseReference, formatReference } from './reference.js';

/**
 * Images: a config blob (its digest is the image id), a manifest blob, and index.json
 * entries naming them. Writing an image stores config then manifest, then updates the
 * index under the lock, so a reader never finds a name pointing at a missing blob.
 */

/** Write config + manifest for layers already stored; name the image (unless it stays out of the index). */
export async function writeImage(
  root: string,
  img: { config: ImageConfig; layers: Descriptor[]; names?: string[]; annotations?: Record<string, string>; isIndexed?: boolean },
): Promise<ImageRecord> {
  const configBytes = JSON.stringify(img.config);
  const { digest, size } = await putBlob(root, configBytes);
  return commitImage(root, { configDigest: digest, configSize: size, config: img.config, layers: img.layers, names: img.names ?? [], annotations: img.annotations, isIndexed: img.isIndexed });
}

/**
 * Write the manifest for a config blob already stored (its bytes kept as they are, so a
 * loaded image keeps its id) and point `names` at it.
 */
export async function commitImage(
  root: string,
  img: { configDigest: Digest; configSize: number; config: ImageConfig; layers: Descriptor[]; names: string[]; annotations?: Record<string, string>; isIndexed?: boolean },
): Promise<ImageRecord> {
  if (img.config.rootfs?.diff_ids?.length !== img.layers.length) {
    throw new Error(`[internal] image has ${img.layers.length} layers but ${img.config.rootfs?.diff_ids?.length} diff_ids`);
  }
  const layers: Descriptor[] = [];
  for (const l of img.layers) {
    if (!(await hasBlob(root, l.digest))) throw new Error(`[internal] writeImage: layer blob ${l.digest} is not in the store`);
    const contentBytes = await layerContentSize(root, l);
    layers.push({ ...l, annotations: { ...l.annotations, [CONTENT_SIZE]: String(contentBytes) } });
  }
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.manifest,
    config: { mediaType: MediaType.config, digest: img.configDigest, size: img.configSize },
    layers,
    ...(img.annotations && Object.keys(img.annotations).length ? { annotations: img.annotations } : {}),
  };
  const m = await putBlob(root, canonicalJson(manifest));
  // Blobs only (an `--output` that is not the store): no name, no `<none>` entry either.
  if (img.isIndexed === false) return { id: img.configDigest, manifestDigest: m.digest, manifest, config: img.config, names: [], sizeBytes: layers.reduce((s, l) => s + annotatedSize(l), 0) };
  const names = img.names.map((n) => normaliseName(n));
  // A rebuild that changed nothing: every name already points at this manifest.
  const current = names.length > 0 ? await readEntries(root) : [];
  const unchanged = names.length > 0 && names.every((n) => current.some((e) => e.name === n && e.manifestDigest === m.digest));
  if (!unchanged) await updateEntries(root, (entries) => {
    const moved = movedOff(entries, names, img.configDigest);
    const next = entries.filter((e) => !(e.name !== undefined && names.includes(e.name)) && e.imageId !== img.configDigest);
    for (const n of names) next.push({ manifestDigest: m.digest, manifestSize: m.size, imageId: img.configDigest, name: n });
    // keep the image's other names (now on the new manifest) and its untagged entry
    for (const e of entries) {
      if (e.imageId === img.configDigest && (e.name === undefined || !names.includes(e.name))) {
        next.push({ ...e, manifestDigest: m.digest, manifestSize: m.size });
      }
    }
    if (names.length === 0) next.push({ manifestDigest: m.digest, manifestSize: m.size, imageId: img.configDigest, name: undefined });
    next.push(...moved);
    return { entries: next, result: undefined };
  });
  return {
    id: img.configDigest,
    manifestDigest: m.digest,
    manifest,
    config: img.config,
    names: (await namesOf(root, img.configDigest)),
    sizeBytes: layers.reduce((s, l) => s + annotatedSize(l), 0),
  };
}

/** Untagged entries for images that lose their last name to `names` (they become `<none>`, as in Docker). */
function movedOff(entries: IndexEntry[], names: string[], newId: Digest): IndexEntry[] {
  const out: IndexEntry[] = [];
  const losers = new Set(entries.filter((e) => e.name !== undefined && names.includes(e.name) && e.imageId !== newId).map((e) => e.imageId));
  for (const id of losers) {
    const keeps = entries.some((e) => e.imageId === id && (e.name === undefined || !names.includes(e.name)));
    const any = entries.find((e) => e.imageId === id)!;
    if (!keeps) out.push({ ...any, name: undefined });
  }
  return out;
}

async function namesOf(root: string, id: Digest): Promise<string[]> {
  return (await readEntries(root)).filter((e) => e.imageId === id && e.name !== undefined).map((e) => e.name!);
}

/** Every image, newest first; an image index is one record (its host child, or its first stored one). */
export async function listImages(root: string): Promise<ImageRecord[]> {
  const entries = await readEntries(root);
  const byId = new Map<Digest, IndexEntry[]>();
  for (const e of entries) byId.set(e.imageId, [...(byId.get(e.imageId) ?? []), e]);
  const out: ImageRecord[] = [];
  for (const [id, es] of byId) {
    const rec = es[0].isIndex ? await loadIndexRecord(root, es, hostPlatform(), true) : await loadRecord(root, id, es);
    if (rec) out.push(rec);
  }
  return out.sort((a, b) => compareCodeUnits(b.config.created ?? '', a.config.created ?? ''));
}

async function loadRecord(root: string, id: Digest, entries: IndexEntry[]): Promise<ImageRecord | undefined> {
  const manifestDigest = entries[0].manifestDigest;
  const mBytes = await readBlob(root, manifestDigest);
  const cBytes = await readBlob(root, id);
  if (!mBytes || !cBytes) return undefined; // reported by fsck; a listing shows what can be read
  const manifest = JSON.parse(mBytes.toString('utf8')) as Manifest;
  const config = JSON.parse(cBytes.toString('utf8')) as ImageConfig;
  return {
    id,
    manifestDigest,
    manifest,
    config,
    names: entries.filter((e) => e.name !== undefined).map((e) => e.name!),
    sizeBytes: manifest.layers.reduce((s, l) => s + annotatedSize(l), 0),
  };
}

/** The image a stored manifest describes (no names); undefined when a blob is missing. */
export async function imageOfManifest(root: string, manifestDigest: Digest): Promise<ImageRecord | undefined> {
  const mBytes = await readBlob(root, manifestDigest);
  if (!mBytes) return undefined;
  const manifest = JSON.parse(mBytes.toString('utf8')) as Manifest;
  if (!manifest.config || !isDigest(manifest.config.digest)) return undefined;
  const cBytes = await readBlob(root, manifest.config.digest);
  if (!cBytes) return undefined;
  const config = JSON.parse(cBytes.toString('utf8')) as ImageConfig;
  return { id: manifest.config.digest, manifestDigest, manifest, config, names: [], sizeBytes: manifest.layers.reduce((s, l) => s + annotatedSize(l), 0) };
}

/**
 * An index entry as the record of its child for `platform` (containerd's matcher over the
 * children whose blobs are stored); with `orFirst`, the first stored child when none matches.
 */
async function loadIndexRecord(root: string, entries: IndexEntry[], platform: Platform, orFirst: boolean): Promise<ImageRecord | undefined> {
  const e = entries[0];
  const bytes = await readBlob(root, e.manifestDigest);
  if (!bytes) return undefined;
  const index = JSON.parse(bytes.toString('utf8')) as ImageIndex;
  const children: { d: Descriptor; rec: ImageRecord }[] = [];
  for (const d of index.manifests ?? []) {
    if (!d.platform || !isDigest(d.digest)) continue;
    const rec = await imageOfManifest(root, d.digest);
    if (rec) children.push({ d, rec });
  }
  const chosen = bestPlatformMatch(children, platform, (c) => c.d.platform) ?? (orFirst ? children[0] : undefined);
  if (!chosen) return undefined;
  return {
    ...chosen.rec,
    names: entries.filter((x) => x.name !== undefined).map((x) => x.name!),
    index: { digest: e.manifestDigest, size: e.manifestSize, index, platforms: children.map((c) => c.d.platform!) },
  };
}

/** Write an index blob (canonical JSON of `index`, or `bytes` as given) and name it. */
export async function writeIndex(
  root: string,
  img: { index?: ImageIndex; bytes?: Buffer; names: string[]; isIndexed?: boolean },
): Promise<{ digest: Digest; size: number }> {
  const bytes = img.bytes ?? (img.index ? canonicalJson(img.index) : undefined);
  if (bytes === undefined) throw new Error('[internal] writeIndex needs an index or its bytes');
  const { digest, size } = await putBlob(root, bytes);
  if (img.isIndexed === false) return { digest, size };
  const names = img.names.map((n) => normaliseName(n));
  await updateEntries(root, (entries) => {
    const moved = movedOff(entries, names, digest);
    const next = entries.filter((x) => !(x.name !== undefined && names.includes(x.name)) && !(x.imageId === digest && x.name === undefined));
    for (const n of names) next.push({ manifestDigest: digest, manifestSize: size, imageId: digest, name: n, isIndex: true });
    if (names.length === 0 && !next.some((x) => x.imageId === digest)) next.push({ manifestDigest: digest, manifestSize: size, imageId: digest, name: undefined, isIndex: true });
    next.push(...moved);
    return { entries: next, result: undefined };
  });
  return { digest, size };
}

/**
 * Find an image as Docker does: a name (normalised; `name@digest` by manifest digest), a
 * full id with or without `sha256:`, or a unique id prefix of at least 4 hex digits.
 */
export async function resolveImage(root: string, ref: string, opts: { platform?: Platform } = {}): Promise<ImageRecord | undefined> {
  const hit = await findImage(root, ref);
  if (!hit?.index || opts.platform === undefined) return hit;
  const entries = (await readEntries(root)).filter((e) => e.imageId === hit.index!.digest);
  return entries.length ? loadIndexRecord(root, entries, opts.platform, false) : undefined;
}

async function findImage(root: string, ref: string): Promise<ImageRecord | undefined> {
  const images = await listImages(root);
  if (ref.startsWith('sha256:')) {
    const hex = ref.slice(7);
    if (isDigest(ref)) return images.find((i) => i.id === ref || i.index?.digest === ref);
    return /^[a-f0-9]{4,}$/.test(hex) ? byPrefix(images, hex, ref) : undefined;
  }
  let parsed: ReturnType<typeof parseReference> | undefined;
  try {
    parsed = parseReference(ref);
  } catch {
    parsed = undefined;
  }
  if (parsed) {
    if (parsed.digest) {
      // name@digest: the digest names the content; the repository only says where it came from
      const hit = images.find((i) => i.manifestDigest === parsed!.digest || i.index?.digest === parsed!.digest);
      if (hit) return hit;
    } else {
      const name = formatReference(parsed);
      const hit = images.find((i) => i.names.includes(name));
      if (hit) return hit;
    }
  }
  if (/^[a-f0-9]{4,64}$/.test(ref)) return byPrefix(images, ref, ref);
  return undefined;
}

function byPrefix(images: ImageRecord[], hex: string, asTyped: string): ImageRecord | undefined {
  const hits = images.filter((i) => (i.index?.digest ?? i.id).slice(7).startsWith(hex) || i.id.slice(7).startsWith(hex));
  if (hits.length > 1) {
    throw new UserError('ambiguous-id', `image id prefix "${asTyped}" matches ${hits.length} images`, {
      where: asTyped,
      hint: 'type more characters of the id',
    });
  }
  return hits[0];
}

/** Point `name` at image `id` (moving it off any other image). */
export async function tagImage(root: string, id: Digest, name: string): Promise<void> {
  const full = normaliseName(name);
  await updateEntries(root, (entries) => {
    const mine = entries.find((e) => e.imageId === id);
    if (!mine) throw new UserError('image-not-found', `no such image: ${id}`, { where: id });
    const moved = movedOff(entries, [full], id);
    const next = entries.filter((e) => e.name !== full);
    next.push({ ...mine, name: full }, ...moved);
    return { entries: next, result: undefined };
  });
}

/** Remove `name`; returns the image it named. An image left without names is removed too. */
export async function untagName(root: string, name: string): Promise<Digest | undefined> {
  const full = normaliseName(name);
  return updateEntries(root, (entries) => {
    const hit = entries.find((e) => e.name === full);
    return { entries: entries.filter((e) => e.name !== full), result: hit?.imageId };
  });
}

/** Drop every entry of image `id`; its blobs stay until gc. */
export async function removeImage(root: string, id: Digest): Promise<void> {
  await updateEntries(root, (entries) => ({ entries: entries.filter((e) => e.imageId !== id), result: undefined }));
}
