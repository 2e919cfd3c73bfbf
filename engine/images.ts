import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { UserError, ioMessage, parsePlatformSpec, shortId, type Digest } from '../common/index.js';
import { HAND_OFF_MIN_BYTES, importRootfs, loadArchive, nameAmong, normaliseName, parseReference, saveImages, type ImageRecord, type LoadedImage, type SaveFormat, type Store } from '../store/index.js';
import { coresOf, exportCompression, type CompressionOption } from './compression.js';
import { writeOutputFile } from './output-file.js';
import { openStoreOf, type StoreOption } from './store-option.js';
import { settingsFromEnv, type Settings } from './settings.js';

/** What every image call may say: which store, which settings, where progress lines go. */
export interface CallOptions {
  store?: StoreOption;
  settings?: Settings;
  /** A registry transfer's progress lines. */
  onMessage?: (line: string) => void;
  /** Relative paths are relative to this; default process.cwd(). */
  cwd?: string;
}

function settingsOf(o: CallOptions): Settings {
  return o.settings ?? settingsFromEnv(process.env);
}

async function storeOf(o: CallOptions) {
  return openStoreOf(o.store, settingsOf(o));
}

function withInsecure(settings: Settings, hosts: string[] | undefined) {
  const insecureRegistries = [...new Set([...(hosts ?? []), ...(settings.registry.insecureRegistries ?? [])])];
  return { ...settings.registry, insecureRegistries };
}

/** Download an image (a manifest list gives the platform's image): `docker pull`. */
export async function pull(o: CallOptions & { ref: string; platform?: string; allPlatforms?: boolean; insecureRegistries?: string[] }): Promise<ImageRecord> {
  parseReference(o.ref); // a malformed name fails before the store is opened
  const store = await storeOf(o);
  const { pullImage } = await import('../registry/index.js');
  const img = await pullImage(store, o.ref, { ...withInsecure(settingsOf(o), o.insecureRegistries), platform: o.platform, allPlatforms: o.allPlatforms, progress: o.onMessage });
  await unpackLayers(store, [img]);
  return img;
}

/**
 * The layers of images just pulled, loaded or imported are unpacked onto the store's disk,
 * as `docker load` and `podman pull` unpack them before they return. A big one is left to
 * the store's detached extractor (store/extract-detached.ts), beside the caller, which
 * returns at once: a build started later finds its dir, one started meanwhile waits for that
 * extraction instead of making its own. A small one is unpacked here: a process of its own
 * would cost a build that starts right after (`load && build`, as in CI) more than it saves,
 * and on this ext4 busybox's 277 entries were a third of a cold five-RUN build (a symlink
 * costs 0.4 ms there). A small one that fails is left to the build that needs it.
 */
async function unpackLayers(store: Store, images: readonly (ImageRecord | undefined)[]): Promise<void> {
  const diffIds = [...new Set(images.flatMap((i) => (i?.config.rootfs?.diff_ids ?? []) as Digest[]))];
  if (diffIds.length === 0) return;
  await store.handOffExtractions(diffIds, { minBytes: HAND_OFF_MIN_BYTES });
  for (const d of diffIds) {
    if (((await store.blobSize(d)) ?? Infinity) < HAND_OFF_MIN_BYTES) await store.extractOwnLayer(d).catch(() => false);
  }
}

/** Upload an image with its layers: `docker push`. */
export async function push(
  o: CallOptions & { ref: string; insecureRegistries?: string[]; compression?: CompressionOption; cores?: number },
): Promise<{ manifestDigest: Digest }> {
  const compression = exportCompression(o.compression, coresOf(o.cores, settingsOf(o)));
  const store = await storeOf(o);
  const { pushImage } = await import('../registry/index.js');
  return pushImage(store, o.ref, { ...withInsecure(settingsOf(o), o.insecureRegistries), progress: o.onMessage, compression });
}

/**
 * Write images to a tar archive (docker-archive by default, or an OCI archive, its layers
 * compressed as `compression` says; docker-archive layers go as stored): to a stream,
 * or to a file that appears only once complete. Aborted, nothing is left.
 */
export async function save(
  o: CallOptions & { images: string[]; format?: SaveFormat; to: Writable | string; signal?: AbortSignal; /** One child of a multi-platform image. */ platform?: string; compression?: CompressionOption; cores?: number },
): Promise<void> {
  const format = o.format ?? 'docker';
  const platform = o.platform === undefined ? undefined : parsePlatformSpec(o.platform);
  const opts = { format, platform, compression: exportCompression(o.compression, coresOf(o.cores, settingsOf(o))) };
  const store = await storeOf(o);
  if (typeof o.to !== 'string') return saveImages(store, o.images, o.to, opts);
  const path = resolve(o.cwd ?? process.cwd(), o.to);
  try {
    await writeOutputFile(path, (out) => saveImages(store, o.images, out, opts), o.signal);
  } catch (e) {
    if (e instanceof UserError || o.signal?.aborted) throw e;
    throw new UserError('save-failed', ioMessage(`save: write ${o.to}`, e), { where: o.to });
  }
}

/** A file named by the user, opened for reading, or Docker's message naming it. */
async function input(from: Readable | string, cwd: string | undefined): Promise<Readable> {
  if (typeof from !== 'string') return from;
  const path = resolve(cwd ?? process.cwd(), from);
  try {
    await access(path);
  } catch {
    throw new UserError('file-not-found', `open ${from}: no such file or directory`, { where: from });
  }
  return createReadStream(path);
}

/** Load images from a docker-archive or OCI archive: `docker load`. */
export async function load(o: CallOptions & { from: Readable | string }): Promise<LoadedImage[]> {
  const src = await input(o.from, o.cwd);
  const store = await storeOf(o);
  const loaded = await loadArchive(store, src);
  await unpackLayers(store, await Promise.all(loaded.map((l) => store.resolveImage(l.id))));
  return loaded;
}

/**
 * An image from a root filesystem tarball: `docker import`, with `changes` as its -c
 * (Dockerfile instructions: CMD, ENV …) and `message` as its comment.
 */
export async function importImage(o: CallOptions & { from: Readable | string; ref?: string; message?: string; changes?: string[]; platform?: string }): Promise<ImageRecord> {
  const { configEditsOf, applyConfigEdit } = await import('../planner/index.js');
  const edits = await configEditsOf(o.changes ?? []);
  const names = o.ref !== undefined ? [normaliseName(o.ref)] : [];
  const src = await input(o.from, o.cwd);
  const store = await storeOf(o);
  let img = await importRootfs(store, src, { names: edits.length ? [] : names, comment: o.message ?? 'Imported from -', ...(o.platform ? { platform: parsePlatformSpec(o.platform) } : {}) });
  if (edits.length) {
    // The same layer under a config with the changes applied (as docker import -c).
    let config = img.config.config ?? {};
    for (const e of edits) config = applyConfigEdit(config, e);
    const plain = img.id;
    img = await store.writeImage({ config: { ...img.config, config }, layers: img.manifest.layers, names });
    if (plain !== img.id) await store.removeImage(plain);
  }
  await unpackLayers(store, [img]);
  return img;
}

/** What removing one image did, in order: names taken off it, and whether it was deleted. */
export type Removal = { untagged: string } | { deleted: Digest };

/**
 * Remove an image as `docker rmi` does: a name is untagged, and the image is deleted when
 * that was its last name; an id deletes the image (with several names only with `force`).
 * An image a container was made from is kept unless `force`. Blobs are freed by prune.
 * `onRemoved` hears each step as it is done (a failure later still leaves those done).
 */
export async function removeImage(o: CallOptions & { image: string; force?: boolean; onRemoved?: (r: Removal) => void }): Promise<void> {
  const store = await storeOf(o);
  const ref = o.image;
  const img = await store.resolveImage(ref);
  if (!img) throw new UserError('image-not-found', `No such image: ${ref}`, { where: ref });
  const byName = nameAmong(ref, img.names);
  const deleting = byName === undefined || img.names.length <= 1;
  const user = deleting && !o.force ? (await store.containers.list()).find((c) => c.image.id === img.id) : undefined;
  if (user) {
    const container = user.id.slice(0, 12);
    // Docker's two texts (daemon/images/image_delete.go): by the last name, or by id.
    const message =
      byName !== undefined
        ? `conflict: unable to remove repository reference ${JSON.stringify(ref)} (must force) - container ${container} is using its referenced image ${shortId(img.id)}`
        : `conflict: unable to delete ${shortId(img.id)} (must be forced) - image is being used by container ${container}`;
    throw new UserError('image-in-use', message, { where: ref, hint: 'remove the container first (tsbuild rm), or use rmi -f' });
  }
  if (byName !== undefined) {
    await store.untag(byName);
    o.onRemoved?.({ untagged: byName });
    if (img.names.length > 1) return;
  } else {
    if (img.names.length > 1 && !o.force) {
      throw new UserError('image-conflict', `conflict: unable to delete ${shortId(img.id)} (must be forced) - image is referenced in multiple repositories`, { where: ref });
    }
    for (const n of img.names) {
      await store.untag(n);
      o.onRemoved?.({ untagged: n });
    }
  }
  // A multi-platform image goes as a whole: its index entry (the children are freed by prune).
  const id = img.index?.digest ?? img.id;
  await store.removeImage(id);
  o.onRemoved?.({ deleted: id });
}
